/* Report mode (see report_mode.h). */
#include "base/report_mode.h"

__thread int report_depth;
void (*report_mode_hook)(bool entering);
