/*
 * KFENCE reports (5.12 and later):
 *
 *   ==================================================================
 *   BUG: KFENCE: out-of-bounds read in test_out_of_bounds_read+0xa3/0x22b
 *
 *   Out-of-bounds read at 0xffffffffb672efff (1B left of kfence-#17):
 *    <the access's stack>
 *
 *   kfence-#17 [0xffffffffb672f000-0xffffffffb672f01f, size=32, cache=kmalloc-32] allocated by task 507:
 *    <stack>
 *   freed by task 507:
 *    <stack>
 *   CPU: 4 PID: 107 Comm: kunit_try_catch Not tainted 5.8.0-rc6+ #7
 *   ==================================================================
 *
 * Kinds: out-of-bounds and use-after-free reads and writes, memory
 * corruption ("Corrupted memory at 0x... [ 0xac . . ]", "!" for bytes a
 * kernel without no_hash_pointers does not show), invalid accesses and
 * invalid frees.  Older kernels print the object as "kfence-#72: 0x...-0x...,
 * size=32, cache=kmalloc-32" with the tracks on their own lines ("allocated
 * by task 484 on cpu 0 at 32.919330s:").  With no_hash_pointers the report
 * ends with the registers, which are kept.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parse/parse.h"
#include "parse/slub.h"

enum kfence_section { K_HEAD, K_ACCESS, K_ALLOC, K_FREE, K_REGS };

struct kfence_state {
    struct ex_report *r;
    enum kfence_section sec;
};

static enum ex_begin kfence_begins(const struct ex_line *l)
{
    return ex_starts(l->text, "BUG: KFENCE: ") ? BEGIN_STRONG : BEGIN_NO;
}

static void take_header(struct ex_report *r, const char *s)
{
    const char *rest = s + strlen("BUG: KFENCE: ");
    const char *in = strstr(rest, " in ");
    size_t n = in ? (size_t)(in - rest) : strlen(rest);
    ex_copy(r->bug, sizeof(r->bug), rest, n);
    size_t k = 0;
    for (size_t i = 0; i < n && k + 1 < sizeof(r->kind); i++)
        r->kind[k++] = isalnum((unsigned char)rest[i]) ? (char)tolower((unsigned char)rest[i]) : '_';
    r->kind[k] = 0;
    if (ex_starts(rest, "out-of-bounds"))
        r->cls = CLS_OUT_OF_BOUNDS;
    else if (ex_starts(rest, "use-after-free"))
        r->cls = CLS_USE_AFTER_FREE;
    else if (ex_starts(rest, "memory corruption"))
        r->cls = CLS_CORRUPTION;
    else if (ex_starts(rest, "invalid free"))
        r->cls = CLS_INVALID_FREE;
    else if (ex_starts(rest, "invalid "))
        r->cls = CLS_WILD_ACCESS;
    if (strstr(r->bug, " read"))
        r->access = ACC_READ;
    else if (strstr(r->bug, " write") || r->cls == CLS_CORRUPTION)
        r->access = ACC_WRITE;
    else if (r->cls == CLS_INVALID_FREE)
        r->access = ACC_FREE;
    if (in && ex_parse_frame(in + 4, &r->where))
        r->has_where = true;
}

/* "kfence-#17" at p: the index. */
static bool kfence_index(const char *p, int *idx)
{
    const char *k = strstr(p, "kfence-#");
    long long n;
    if (!k)
        return false;
    k += 8;
    if (!ex_scan_dec(&k, &n) || n < 0 || n > 1 << 20)
        return false;
    *idx = (int)n;
    return true;
}

/* "Out-of-bounds read at 0x... (1B left of kfence-#17):", "Use-after-free
 * read at 0x... (in kfence-#24):", "Corrupted memory at 0x... [ ... ] (in
 * kfence-#69):", "Invalid read at 0x...:", "Invalid free of 0x... (in ...):" */
static bool access_line(struct ex_report *r, const char *s)
{
    const char *at = NULL;
    if (ex_starts(s, "Out-of-bounds ") || ex_starts(s, "Use-after-free ") ||
        ex_starts(s, "Invalid read at ") || ex_starts(s, "Invalid write at "))
        at = strstr(s, " at 0x");
    else if (ex_starts(s, "Corrupted memory at 0x"))
        at = s + strlen("Corrupted memory");
    else if (ex_starts(s, "Invalid free of 0x"))
        at = s + strlen("Invalid free");
    if (!at)
        return false;
    const char *p = strstr(at, "0x");
    if (!p || !ex_scan_hex(&p, &r->addr))
        return true;
    r->has_addr = true;
    if (ex_hex_digits(strstr(at, "0x") + 2) == 16 && r->addr >> 32 == 0)
        r->hashed = true; /* %p without no_hash_pointers */
    p = ex_skip_ws(p);
    if (*p == '[') {
        const char *close = strchr(p, ']');
        if (close) {
            ex_copy(r->canary, sizeof(r->canary), p, (size_t)(close - p + 1));
            p = ex_skip_ws(close + 1);
        }
    }
    if (*p == '(') {
        const char *q = p + 1;
        long long n;
        if (ex_scan_dec(&q, &n) && *q == 'B' && n >= 0) {
            r->has_rel_dist = true;
            r->rel_dist = (uint64_t)n;
            r->rel = strstr(q, " left of ") ? REL_LEFT : strstr(q, " right of ") ? REL_RIGHT : REL_UNKNOWN;
        } else if (ex_starts(q, "in kfence-#")) {
            r->rel = REL_INSIDE;
        }
        if (kfence_index(p, &r->kfence_index))
            r->has_kfence_index = true;
    }
    return true;
}

/* The object: "kfence-#17 [0xA-0xB, size=32, cache=kmalloc-32] allocated by
 * task 507 on cpu 0 at 32.919330s (0.000000s ago):" or the older
 * "kfence-#72: 0xA-0xB, size=32, cache=kmalloc-32". */
static bool object_line(struct ex_report *r, const char *s)
{
    if (!ex_starts(s, "kfence-#"))
        return false;
    int idx;
    if (kfence_index(s, &idx)) {
        r->has_kfence_index = true;
        r->kfence_index = idx;
    }
    const char *p = strstr(s, "0x");
    uint64_t start, end;
    if (p && ex_scan_hex(&p, &start) && p[0] == '-' && (p++, ex_scan_hex(&p, &end))) {
        r->has_object = true;
        r->object = start;
        if (end >= start && end - start < (1u << 20) && !r->hashed) {
            r->has_object_size = true;
            r->object_size = end - start + 1;
            r->size_source = "report";
        }
    }
    long long n;
    const char *z = strstr(s, "size=");
    if (z && (z += 5, ex_scan_dec(&z, &n)) && n > 0) {
        r->has_object_size = true;
        r->object_size = (uint64_t)n;
        r->size_source = "report";
    }
    const char *c = strstr(s, "cache=");
    if (c) {
        c += 6;
        ex_copy(r->cache, sizeof(r->cache), c, strcspn(c, "], "));
    }
    return true;
}

/* "allocated by task 507:", "freed by task 488 on cpu 2 at 33.871358s:",
 * also at the end of the object line. */
static struct ex_track *track_line(struct ex_report *r, const char *s)
{
    const char *a = strstr(s, "allocated by task ");
    const char *f = strstr(s, "freed by task ");
    struct ex_track *t;
    const char *p;
    if (a && (a == s || ex_starts(s, "kfence-#"))) {
        t = &r->alloc;
        p = a + strlen("allocated by task ");
        ex_copy_str(t->label, sizeof(t->label), "Allocated");
    } else if (f && f == s) {
        t = &r->free;
        p = f + strlen("freed by task ");
        ex_copy_str(t->label, sizeof(t->label), "Freed");
    } else {
        return NULL;
    }
    t->present = true;
    if (ex_scan_dec(&p, &t->pid))
        t->has_pid = true;
    const char *cpu = strstr(p, " on cpu ");
    long long c;
    if (cpu && (cpu += 8, ex_scan_dec(&cpu, &c)) && c >= 0 && c < 1 << 20) {
        t->has_cpu = true;
        t->cpu = (int)c;
    }
    const char *at = strstr(p, " at ");
    if (at) {
        char *end;
        double tm = strtod(at + 4, &end);
        if (end != at + 4 && *end == 's') {
            t->has_time = true;
            t->time = tm;
        }
    }
    return t;
}

static bool kfence_open(void *state, struct ex_model *m, const struct ex_line *l)
{
    struct kfence_state *st = state;
    st->r = ex_new_report(m);
    if (!st->r)
        return false;
    ex_src_init(&st->r->src, FMT_KFENCE, l);
    st->r->origin = ORIGIN_KERNEL;
    take_header(st->r, l->text);
    return true;
}

static enum ex_feed kfence_feed(void *state, const struct ex_line *l)
{
    struct kfence_state *st = state;
    struct ex_report *r = st->r;
    const char *s = l->text;
    struct ex_frame f;
    struct ex_track *t;
    if (!*s)
        return FEED_IGNORED;
    if (ex_starts(s, "=====")) {
        r->src.last_line = l->no;
        return FEED_DONE;
    }
    if (ex_starts(s, "BUG: ") || ex_starts(s, "general protection fault") ||
        ex_starts(s, "Kernel panic") || ex_starts(s, "Unable to handle kernel") ||
        ex_starts(s, "kernel BUG at") || ex_starts(s, "------------[ cut here ]")) {
        r->missing |= MISS_END;
        return FEED_ENDED;
    }
    if (st->sec == K_HEAD && access_line(r, s)) {
        st->sec = K_ACCESS;
        r->has_trace = true;
    } else if (object_line(r, s)) {
        t = track_line(r, s);
        st->sec = t ? K_ALLOC : K_HEAD;
    } else if ((t = track_line(r, s))) {
        st->sec = t == &r->alloc ? K_ALLOC : K_FREE;
    } else if (ex_starts(s, "no allocation stack") || ex_starts(s, "no deallocation stack")) {
        /* taken */
    } else if (ex_task_line(s, &r->cpu, &r->pid, r->comm, sizeof(r->comm), r->release,
                            sizeof(r->release))) {
        r->has_task = r->has_cpu = true;
        st->sec = K_REGS;
    } else if (st->sec == K_REGS) {
        /* with no_hash_pointers: the registers, Code: and the trace again */
        struct ex_reg regs[8];
        int n = ex_regs_line(s, regs, 8);
        for (int i = 0; i < n && r->nregs < EX_REGS_MAX; i++) {
            ex_copy_str(r->regs[r->nregs].name, sizeof(r->regs[0].name), regs[i].name);
            r->regs[r->nregs++].value = regs[i].value;
        }
    } else if (ex_is_stack_marker(s)) {
        /* taken */
    } else if ((st->sec == K_ACCESS || st->sec == K_ALLOC || st->sec == K_FREE) &&
               ex_parse_frame(s, &f)) {
        ex_stack_add(st->sec == K_ACCESS  ? &r->trace
                     : st->sec == K_ALLOC ? &r->alloc.stack
                                          : &r->free.stack,
                     &f);
    } else {
        return FEED_IGNORED;
    }
    r->src.last_line = l->no;
    return FEED_TAKEN;
}

/* "[ 0xac . . ! ]": the corrupted bytes as a SLUB-shaped fault, placed at
 * the access's offset from the object. */
static void canary_fault(struct ex_report *r)
{
    if (!r->canary[0] || r->slub.nfaults)
        return;
    struct ex_fault *f = &r->slub.faults[0];
    memset(f, 0, sizeof(*f));
    ex_copy_str(f->what, sizeof(f->what), "Canary");
    bool placed = r->has_addr && r->has_object && !r->hashed && r->addr + EX_WIN_LEFT >= r->object &&
                  r->addr < r->object + EX_WIN - EX_WIN_LEFT;
    int64_t base = placed ? (int64_t)(r->addr - r->object) : 0;
    const char *p = r->canary + 1;
    uint64_t n = 0, last = 0;
    bool any = false;
    while (*(p = ex_skip_ws(p)) && *p != ']' && n < 64) {
        if (*p == '.') {
            p++;
        } else if (*p == '!') {
            any = true;
            last = n + 1;
            p++;
        } else if (p[0] == '0' && p[1] == 'x') {
            uint64_t v;
            if (!ex_scan_hex(&p, &v))
                break;
            if (!any) {
                f->has_first = true;
                f->first = (unsigned)v & 0xff;
            }
            any = true;
            last = n + 1;
            if (placed)
                ex_slub_put_byte(r, base + (int64_t)n, (uint8_t)v);
        } else {
            break;
        }
        n++;
    }
    if (!any)
        return;
    f->has_length = true;
    f->length = last;
    if (placed) {
        f->has_obj_off = true;
        f->obj_off = base;
        f->off_source = "addresses";
    }
    if (r->has_addr && !r->hashed) {
        f->has_range = true;
        f->start = r->addr;
        f->end = r->addr + last - 1;
    }
    r->slub.nfaults = 1;
}

static void kfence_close(void *state)
{
    struct kfence_state *st = state;
    struct ex_report *r = st->r;
    if (r->has_object && r->has_addr && !r->hashed && r->rel == REL_INSIDE && !r->has_rel_dist &&
        r->addr >= r->object && r->addr - r->object < (1u << 20)) {
        r->has_rel_dist = true;
        r->rel_dist = r->addr - r->object;
    }
    if (r->cls == CLS_CORRUPTION && r->has_addr && r->has_object && !r->hashed && r->has_object_size) {
        if (r->addr < r->object) {
            r->rel = REL_LEFT;
            r->has_rel_dist = true;
            r->rel_dist = r->object - r->addr;
        } else if (r->addr >= r->object + r->object_size) {
            r->rel = REL_RIGHT;
            r->has_rel_dist = true;
            r->rel_dist = r->addr - r->object - r->object_size;
        }
    }
    canary_fault(r);
    /* KFENCE checks the canaries when the object is freed */
    if (r->cls == CLS_CORRUPTION)
        r->found_later = true;
    /* an "invalid free" of an object KFENCE saw freed, at its start: a double free */
    if (r->cls == CLS_INVALID_FREE && r->free.present && r->has_addr && r->has_object &&
        r->addr == r->object)
        r->cls = CLS_DOUBLE_FREE;
    ex_mark_missing(r, r->cls != CLS_WILD_ACCESS);
}

const struct ex_parser ex_parser_kfence = {
    .name = "kfence",
    .state_size = sizeof(struct kfence_state),
    .begins = kfence_begins,
    .open = kfence_open,
    .feed = kfence_feed,
    .close = kfence_close,
};
