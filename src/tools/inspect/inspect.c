/* Opening a target for the inspection commands; whatis; the printers they share. */
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "inspect/inspect.h"
#include "slabdbg.h"

int inspect_open(struct inspect *in, const char *cmd, int pid, const char *core, const char *exe)
{
    memset(in, 0, sizeof(*in));
    in->out = stdout;
    in->err = stderr;
    in->cmd = cmd;
    in->max_bytes = 4096;
    int r = core ? tgt_open_core(&in->t, core, exe) : tgt_open_pid(&in->t, pid);
    if (r != 0) {
        fprintf(in->err, "slabdbg %s: %s\n", cmd, in->t.err);
        tgt_close(&in->t);
        return 1;
    }
    char err[512];
    if (heap_open(&in->h, &in->t, err, sizeof(err)) != 0) {
        fprintf(in->err, "slabdbg %s: %s\n", cmd, err);
        tgt_close(&in->t);
        return 1;
    }
    if (in->t.kind == TGT_PID) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
        in->now = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    }
    in->sym = tsym_open(&in->t);
    return 0;
}

void inspect_close(struct inspect *in)
{
    tsym_close(in->sym);
    tgt_close(&in->t);
}

void inspect_print_stack(struct inspect *in, uint32_t handle, const char *indent)
{
    uint64_t frames[64];
    unsigned n = heap_stack(&in->h, handle, frames, 64);
    char buf[600];
    for (unsigned i = 0; i < n; i++) {
        tsym_frame(in->sym, frames[i], 1, buf, sizeof(buf));
        fprintf(in->out, "%s%s\n", indent, buf);
    }
}

/* Ages need the target's clock: a core's "now" is not known, so its
 * tracks give their time since boot instead. */
static void print_when(struct inspect *in, uint64_t when)
{
    if (in->now)
        fprintf(in->out, " age=%" PRIu64, in->now > when ? (in->now - when) / 1000000 : 0);
    else
        fprintf(in->out, " at=%" PRIu64 ".%03" PRIu64 "s", when / 1000000000u,
                when / 1000000 % 1000);
}

void inspect_print_track(struct inspect *in, const char *label, const struct h_track *tr)
{
    if (!tr->addr)
        return;
    char buf[600];
    tsym_frame(in->sym, tr->addr, 1, buf, sizeof(buf));
    fprintf(in->out, "%s in %s", label, buf);
    print_when(in, tr->when);
    fprintf(in->out, " cpu=%d pid=%d\n", tr->cpu < 0 ? 0 : tr->cpu, tr->pid);
    inspect_print_stack(in, tr->handle, " ");
}

/* "<label><address>: xx xx ... <ascii>", SLUB's print_section, and a line
 * of carets under the bytes in [mark, mark + mark_len). */
static void section(struct inspect *in, const char *label, uint64_t addr, const uint8_t *p,
                    size_t len, uint64_t mark, unsigned mark_len)
{
    size_t same = 0; /* rows equal to the one before, not printed */
    for (size_t off = 0; off < len; off += 16) {
        size_t n = len - off < 16 ? len - off : 16;
        uint64_t row = addr + off;
        bool marked = mark_len && mark < row + n && mark + mark_len > row;
        /* Runs of equal rows are shown once, as hexdump does. */
        if (off >= 16 && n == 16 && !marked && !memcmp(p + off, p + off - 16, 16) &&
            off + 16 < len) {
            same++;
            continue;
        }
        if (same)
            fprintf(in->out, "%s%*s(%zu rows the same)\n", label, 18, "", same);
        same = 0;
        fprintf(in->out, "%s%016" PRIx64 ": ", label, row);
        for (size_t i = 0; i < 16; i++)
            fprintf(in->out, i < n ? (i + 1 < n ? "%02x " : "%02x") : "   ", p[off + i]);
        fprintf(in->out, "  ");
        for (size_t i = 0; i < n; i++)
            fputc(p[off + i] >= 0x20 && p[off + i] < 0x7f ? p[off + i] : '.', in->out);
        fputc('\n', in->out);
        if (marked) {
            fprintf(in->out, "%*s", (int)strlen(label) + 18, "");
            for (size_t i = 0; i < n; i++)
                fprintf(in->out, "%s",
                        row + i >= mark && row + i < mark + mark_len ? "^^ " : "   ");
            fputc('\n', in->out);
        }
    }
}

static const char *byte_pattern(const uint8_t *p, size_t n)
{
    if (!n)
        return NULL;
    for (size_t i = 1; i < n; i++)
        if (p[i] != p[0])
            return NULL;
    switch (p[0]) {
    case 0x6b: return "poison (free)";
    case 0xbb: return "red zone (inactive)";
    case 0xcc: return "red zone (active)";
    case 0x5a: return "padding poison";
    case 0x00: return "zero";
    default: return NULL;
    }
}

void inspect_dump_object(struct inspect *in, const struct h_where *w, uint64_t mark,
                         unsigned mark_len)
{
    const struct h_cache *c = &w->c;
    bool slab = w->kind == W_OBJECT && w->has_cache;
    uint64_t left = slab ? c->red_left_pad : 0;
    uint64_t size = w->obj_size;
    uint64_t tail = slab ? c->stride - c->red_left_pad - size : 0;
    if (size > (uint64_t)in->max_bytes)
        size = (uint64_t)in->max_bytes;
    size_t total = (size_t)(left + size + tail);
    uint8_t *b = calloc(1, total ? total : 1);
    if (!b)
        return;
    size_t got = tgt_read(&in->t, w->obj - left, b, total);
    if (got < total) {
        fprintf(in->out, "(only %zu of the %zu bytes are readable)\n", got, total);
        total = got;
    }
    fputc('\n', in->out);
    if (left && total >= left)
        section(in, "Redzone  ", w->obj - left, b, (size_t)left, mark, mark_len);
    size_t osize = total > left ? total - (size_t)left : 0;
    if (osize > size)
        osize = (size_t)size;
    section(in, "Object   ", w->obj, b + left, osize, mark, mark_len);
    if (size < w->obj_size)
        fprintf(in->out, "(%" PRIu64 " more bytes not shown)\n", w->obj_size - size);
    if (slab && c->debug && total > left + size) {
        size_t rz = c->inuse - c->size, have = total - (size_t)(left + size);
        if (rz > have)
            rz = have;
        section(in, "Redzone  ", w->obj + c->size, b + left + size, rz, mark, mark_len);
        size_t meta = c->pad_offset - c->size;
        if (have > meta)
            section(in, "Padding  ", w->obj + c->size + meta, b + left + size + meta, have - meta,
                    mark, mark_len);
    }
    /* What the bytes are, in words. */
    const char *pat = osize ? byte_pattern(b + left, osize) : NULL;
    if (pat)
        fprintf(in->out, "(the object's bytes are all %s)\n", pat);
    else if (w->has_orig && slab && c->is_kmalloc && (c->debug & SLAB_RED_ZONE) &&
             w->orig_size < osize &&
             w->state == ST_ALLOCATED)
        fprintf(in->out, "(bytes from offset 0x%" PRIx64 " on are the slack behind the %" PRIu64
                         " bytes requested: 0xcc when intact)\n",
                w->orig_size, w->orig_size);
    free(b);
}

static const char *kind_text(enum h_kind k)
{
    switch (k) {
    case W_NOT_OURS: return "not slabdbg's memory";
    case W_SLAB_TAIL: return "in a slab, past its last object (slab padding)";
    case W_POOL: return "in the guarded sampling pool";
    case W_ARENA: return "in slabdbg's report arena (allocator-internal memory)";
    case W_HEADER: return "in a segment header (allocator metadata)";
    case W_FREE_SLICE: return "in a free part of a segment (no slab there)";
    default: return "";
    }
}

int inspect_whatis(struct inspect *in, uint64_t addr)
{
    struct h_where w;
    FILE *o = in->out;
    if (heap_whatis(&in->h, addr, &w) != 0) {
        fprintf(o, "0x%" PRIx64 ": in a segment of slabdbg whose structures cannot be read "
                   "(corrupted, or left out of the core)\n",
                addr);
        return 1;
    }
    bool sampled = w.kind == W_POOL && w.has_orig;
    if (w.kind != W_OBJECT && w.kind != W_HUGE && w.kind != W_GUARD && !sampled) {
        const struct tgt_map *m = tgt_map_of(&in->t, addr);
        fprintf(o, "0x%" PRIx64 ": %s", addr, kind_text(w.kind));
        if (w.kind == W_NOT_OURS && m)
            fprintf(o, " (%s%s)", m->path[0] ? "mapping of " : "anonymous mapping",
                    m->path[0] ? m->path : "");
        else if (w.kind == W_NOT_OURS)
            fprintf(o, " (not mapped)");
        if (w.kind == W_SLAB_TAIL && w.has_cache)
            fprintf(o, ", cache %s", w.c.name);
        fputc('\n', o);
        return w.kind == W_NOT_OURS ? 1 : 0;
    }
    const char *cache = w.kind == W_HUGE ? "huge"
                        : w.has_cache    ? w.c.name
                        : sampled        ? "sampled"
                                         : "?";
    fprintf(o, "0x%" PRIx64 ": %s object 0x%" PRIx64 " %s0x%" PRIx64 " (%s), %s\n", addr, cache,
            w.obj, w.off < 0 ? "-" : "+", w.off < 0 ? (uint64_t)-w.off : (uint64_t)w.off,
            w.region, heap_state_name(w.state));
    if (w.kind == W_OBJECT) {
        const struct h_cache *c = &w.c;
        static const struct {
            uint32_t bit;
            char letter;
        } letters[] = {{SLAB_CONSISTENCY_CHECKS, 'F'}, {SLAB_RED_ZONE, 'Z'}, {SLAB_POISON, 'P'},
                       {SLAB_STORE_USER, 'U'},         {SLAB_TRACE, 'T'},    {SLAB_FAILSLAB, 'A'},
                       {SLAB_GUARD, 'G'}};
        char flags[16] = "";
        for (size_t i = 0, n = 0; i < sizeof(letters) / sizeof(letters[0]); i++)
            if (c->debug & letters[i].bit)
                flags[n++] = letters[i].letter;
        fprintf(o, "  cache:  %s, object size %u, stride %u, %u per slab, debug flags %s\n",
                c->name, c->size, c->stride, c->objects, flags[0] ? flags : "none");
        fprintf(o, "  slab:   0x%" PRIx64 " objects=%u used=%u, object %u at @offset=%" PRIu64
                   "\n",
                w.s.start, w.s.objects, w.s.inuse, w.index, w.obj - w.s.start);
    } else if (w.kind == W_HUGE) {
        fprintf(o, "  mapping: 0x%" PRIx64 ", %" PRIu64 " bytes usable\n", w.seg, w.obj_size);
    } else if (sampled) {
        fprintf(o, "  sampled: slot %u of the guarded sampling pool 0x%" PRIx64 "\n", w.index,
                w.seg);
    } else {
        fprintf(o, "  guarded: its own mapping 0x%" PRIx64 ", cache %s\n", w.seg,
                w.has_cache ? w.c.name : "?");
    }
    if (w.has_orig)
        fprintf(o, "  requested: %" PRIu64 " bytes\n", w.orig_size);
    if (w.has_tracks) {
        inspect_print_track(in, "Allocated", &w.track[0]);
        if (w.state != ST_ALLOCATED || w.track[1].addr)
            inspect_print_track(in, "Freed", &w.track[1]);
    } else if (w.kind == W_OBJECT && !(w.c.debug & SLAB_STORE_USER)) {
        fprintf(o, "  (no tracks: the cache runs without U)\n");
    }
    if (w.state == ST_NEVER)
        fprintf(o, "(the slot has not held an object yet)\n");
    else if (w.state != ST_GUARD_FREED)
        inspect_dump_object(in, &w, addr, 1);
    else
        fprintf(o, "(the object's pages are inaccessible while it is in the guard quarantine)\n");
    return 0;
}
