/* Run-time settings: the SLABDBG debug flags and SLABDBG_OPTIONS. */
#ifndef SLABDBG_FRONT_OPTIONS_H
#define SLABDBG_FRONT_OPTIONS_H

#include <stdbool.h>
#include <stdint.h>

#include "base/common.h"
#include "slabdbg.h"
#include "base/slub_debug.h"
#include "base/options_table.h"

#define OPT_STR_MAX 256

#define OPT_FIELD_STR(name) char name[OPT_STR_MAX];
#define OPT_FIELD_BOOL(name) bool name;
#define OPT_FIELD_INT(name) long name;
#define OPT_FIELD_SIZE(name) uint64_t name;
#define OPT_FIELD(name, type, def, help) OPT_FIELD_##type(name)

struct slabdbg_options {
    SLABDBG_OPTION_TABLE(OPT_FIELD)
};

INTERNAL extern struct slabdbg_options opt;
INTERNAL extern struct slub_debug_config slub_debug;

/* Reads SLABDBG and SLABDBG_OPTIONS (at initialisation; never allocates). */
INTERNAL void options_init(void);
/* Prints one warning line "slabdbg: <msg>" to stderr. */
INTERNAL void options_warn(const char *msg);
/* Writes the help text of both variables to fd. */
INTERNAL void options_help(int fd);
/* Reads a variable from the environment, also before libc set it up. */
INTERNAL const char *env_get(const char *name);

#endif
