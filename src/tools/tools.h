#ifndef SLABDBG_TOOLS_H
#define SLABDBG_TOOLS_H

int cmd_run(int argc, char **argv);

#endif
