/* placeholder */
#include "inspect/inspect.h"
int inspect_leaks(struct inspect *in, const char *supp) { (void)in; (void)supp; return 0; }
