/* Fixture for the source scan: statements assigning the constants. */
#include "../../owner.h"

struct cmd {
    struct {
        int phase;
    } SCp;
    int state;
    int table[4];
};

void foo(int x);

static void set(struct cmd *c, int x)
{
    c->SCp.phase = OWNER_FIRMWARE;
    c->state |= FW_MAGIC;
    if (x == OWNER_FIRMWARE)
        return;
    foo(OWNER_FIRMWARE);
    switch (x) {
    case OWNER_FIRMWARE:
        break;
    }
}

static int get(void)
{
    return OWNER_FIRMWARE;
}

int other(struct cmd *c) __attribute__((unused));
int other(struct cmd *c)
{
    int phase = FW_SHIFTED;
    struct cmd init = {.state = FW_CAST};
    if (c)
        c->SCp.phase = c ? OWNER_FIRMWARE : 0;
    c->table[FW_OCTAL & 3] = 1;
    return phase + init.state + get();
}

#define FW_TAKE(c) ((c)->SCp.phase = OWNER_FIRMWARE)
#define FW_IS_OURS(c) ((c)->SCp.phase == OWNER_FIRMWARE)

enum item { ITEM_A, ITEM_B };
static inline int item_index(enum item i)
{
    /* a function body after an enum-typed parameter: no enumerators */
    return i;
}
