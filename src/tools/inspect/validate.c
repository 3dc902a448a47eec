/* placeholder */
#include "inspect/inspect.h"
int inspect_validate(struct inspect *in) { (void)in; return 0; }
