/*
 * Kernel reports that are recognised but not explained: warnings, lockdep,
 * UBSAN, KMSAN, KCSAN, hung tasks, stalls, soft lockups, panics, the other
 * "BUG: ..." lines.  Each is one record with its header line, so that an
 * input holding only those says what it held.
 */
#include <string.h>

#include "parse/parse.h"

struct other_state {
    struct ex_other *o;
};

static const struct {
    const char *prefix, *what;
} forms[] = {
    {"WARNING: possible circular locking dependency", "lockdep report"},
    {"WARNING: possible recursive locking", "lockdep report"},
    {"WARNING: suspicious RCU usage", "lockdep report"},
    {"WARNING: inconsistent lock state", "lockdep report"},
    {"WARNING: bad unlock balance", "lockdep report"},
    {"WARNING: ", "kernel warning"},
    {"UBSAN: ", "UBSAN report"},
    {"BUG: KMSAN: ", "KMSAN report"},
    {"BUG: KCSAN: ", "KCSAN report"},
    {"BUG: soft lockup", "soft lockup"},
    {"watchdog: BUG: soft lockup", "soft lockup"},
    {"BUG: workqueue lockup", "workqueue lockup"},
    {"BUG: sleeping function called from invalid context", "atomic-context bug"},
    {"BUG: scheduling while atomic", "atomic-context bug"},
    {"BUG: Bad page state", "bad page state"},
    {"BUG: Bad page map", "bad page map"},
    {"BUG: Bad rss-counter state", "bad rss-counter state"},
    {"BUG: memory leak", "memory leak (kmemleak)"},
    {"BUG: ", "kernel BUG report"},
    {"INFO: task ", "hung task"},
    {"INFO: rcu_", "RCU stall"},
    {"rcu: INFO: ", "RCU stall"},
    {"Kernel panic - not syncing", "kernel panic"},
    {"list_add corruption", "list corruption"},
    {"list_del corruption", "list corruption"},
};

static int form_of(const char *s)
{
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++)
        if (ex_starts(s, forms[i].prefix))
            return (int)i;
    return -1;
}

static enum ex_begin other_begins(const struct ex_line *l)
{
    int f = form_of(l->text);
    if (f < 0)
        return BEGIN_NO;
    /* a panic or a list check only ends what is open when it is alone */
    return ex_starts(l->text, "Kernel panic") || strstr(forms[f].what, "list") ? BEGIN_WEAK
                                                                                  : BEGIN_STRONG;
}

static bool other_open(void *state, struct ex_model *m, const struct ex_line *l)
{
    struct other_state *st = state;
    st->o = ex_new_other(m);
    if (!st->o)
        return false;
    ex_src_init(&st->o->src, FMT_OTHER, l);
    ex_copy_str(st->o->what, sizeof(st->o->what), forms[form_of(l->text)].what);
    ex_copy_str(st->o->header, sizeof(st->o->header), l->text);
    return true;
}

static enum ex_feed other_feed(void *state, const struct ex_line *l)
{
    (void)state;
    (void)l;
    return FEED_ENDED;
}

static void other_close(void *state)
{
    (void)state;
}

const struct ex_parser ex_parser_other = {
    .name = "other",
    .state_size = sizeof(struct other_state),
    .begins = other_begins,
    .open = other_open,
    .feed = other_feed,
    .close = other_close,
};
