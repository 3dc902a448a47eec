/*
 * Memory-error reports: where the access or the damage is in the object,
 * the stray bytes and their value, who made or found it, in plain words.
 */
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "analyze/analyze.h"

const char *ex_age_unit(const struct ex_report *r)
{
    return r->origin == ORIGIN_KERNEL ? "jiffies" : "ms";
}

const char *ex_kind_meaning(const struct ex_report *r)
{
    static const struct {
        const char *kind, *meaning;
    } m[] = {
        {"poison_overwritten",
         "a write into an object after it was freed (use after free): its poison was overwritten"},
        {"end_poison_overwritten",
         "a write into the last byte of a freed object (use after free, or an off-by-one)"},
        {"left_redzone_overwritten",
         "a write just before the object (buffer underflow, or a write into a neighbour)"},
        {"right_redzone_overwritten", "a write past the end of the object (buffer overflow)"},
        {"redzone_overwritten", "a write past the end of the object (buffer overflow)"},
        {"kmalloc_redzone_overwritten",
         "a write past the requested size, inside the kmalloc class's slack (buffer overflow)"},
        {"object_padding_overwritten", "a write into the padding behind the object's metadata"},
        {"alignment_padding_overwritten", "a write into the alignment padding behind the object"},
        {"padding_overwritten", "a write into the unused end of a slab"},
        {"already_free", "a double free: the object was freed again"},
        {"invalid_pointer", "a free of a pointer that is not the start of an object"},
        {"outside_slab", "a free of an address outside any object of this slab"},
        {"wrong_cache", "a free to the wrong cache"},
        {"alloc_dealloc_mismatch",
         "a release through another family than the allocation's (free of an operator new "
         "object, delete of a malloc or new[] one, delete[] of a new one)"},
        {"sized_delete_mismatch",
         "a sized delete given another size than the object was allocated with (the wrong "
         "type, or a base class without a virtual destructor)"},
        {"freepointer_corrupt",
         "the free list pointer inside a free object was overwritten (use after free)"},
        {"freechain_corrupt", "the chain of free objects is broken (use after free, double free)"},
        {"wrong_count", "the slab's object count disagrees with its free list"},
        {"objects_remaining", "objects still allocated when their cache was destroyed (a leak)"},
        {"object_corrupt", "a write into an object that SLUB found corrupt"},
    };
    /* "Redzone overwritten" says not which red zone: the place does */
    if (!strcmp(r->kind, "redzone_overwritten") && r->slub.nfaults &&
        r->slub.faults[0].has_obj_off && r->slub.faults[0].obj_off < 0)
        return "a write into the red zone before the object (an overflow of the object before "
               "it, or an underflow)";
    for (size_t i = 0; i < sizeof(m) / sizeof(m[0]); i++)
        if (!strcmp(r->kind, m[i].kind))
            return m[i].meaning;
    switch (r->cls) {
    case CLS_USE_AFTER_FREE:
        return r->access == ACC_WRITE ? "a write into an object after it was freed (use after free)"
               : r->access == ACC_READ
                   ? "a read of an object after it was freed (use after free)"
                   : "an access to an object after it was freed (use after free)";
    case CLS_OUT_OF_BOUNDS:
        return r->access == ACC_WRITE ? "a write outside the object (buffer overflow or underflow)"
               : r->access == ACC_READ
                   ? "a read outside the object (buffer over-read)"
                   : "an access outside the object (buffer overflow or over-read)";
    case CLS_CORRUPTION:
        return "a write outside the object, found when the object was freed (buffer overflow)";
    case CLS_DOUBLE_FREE:
        return "a double free: the object was freed again";
    case CLS_INVALID_FREE:
        return r->free.present ? "a free of an object already freed (a double free)"
                               : "a free of a pointer that is not an allocated object";
    case CLS_NULL_DEREF:
        return "an access through a NULL pointer (plus a field offset)";
    case CLS_WILD_ACCESS:
        return "an access to an address outside any object (a wild or user pointer)";
    case CLS_INVALID_ACCESS:
        return "an access whose pointer tag does not match the memory's tag (use after free or "
               "out of bounds)";
    default:
        return NULL;
    }
}

bool ex_stray(const struct ex_report *r, int fault, struct ex_stray *out)
{
    memset(out, 0, sizeof(*out));
    if (fault < 0 || fault >= r->slub.nfaults)
        return false;
    const struct ex_fault *f = &r->slub.faults[fault];
    if (!f->has_obj_off)
        return false;
    out->off = f->obj_off;
    out->length = f->has_length ? f->length : 1;
    uint64_t n = out->length < 16 ? out->length : 16;
    for (uint64_t i = 0; i < n; i++)
        if (ex_slub_byte(r, out->off + (int64_t)i, &out->bytes[i]))
            out->nknown++;
    if (!out->nknown && f->has_first) {
        out->bytes[0] = (uint8_t)f->first;
        out->nknown = out->length == 1;
    }
    unsigned w = (unsigned)out->length;
    if ((uint64_t)out->nknown == out->length && (w == 1 || w == 2 || w == 4 || w == 8) &&
        (out->off % (int64_t)w + (int64_t)w) % (int64_t)w == 0) {
        out->has_word = true;
        out->width = w;
        for (unsigned i = w; i-- > 0;)
            out->word = out->word << 8 | out->bytes[i];
    }
    return true;
}

static const char *found_when(const struct ex_report *r)
{
    for (int i = 0; i < r->trace.n; i++) {
        const char *fn = r->trace.f[i].func;
        if (r->trace.f[i].unreliable)
            continue;
        if (strstr(fn, "alloc_debug_processing") || strstr(fn, "slab_alloc"))
            return "when it allocated the object again";
        if (strstr(fn, "free_debug_processing") || strstr(fn, "slab_free") || strstr(fn, "kfree") ||
            strstr(fn, "kmem_cache_free") || strstr(fn, "free_slab"))
            return "when it freed an object";
        if (strstr(fn, "validate_slab"))
            return "while validating the cache";
        if (strstr(fn, "kmem_cache_destroy") || strstr(fn, "shutdown"))
            return "when the cache was destroyed";
    }
    return NULL;
}

/* A track whose own words were overwritten (by the same stray write,
 * typically): its caller is text or no address, its pid beyond any pid. */
bool ex_track_overwritten(const struct ex_report *r, const struct ex_track *t, char *why,
                          size_t size)
{
    if (r->origin != ORIGIN_KERNEL)
        return false;
    if (!t->caller.func[0] && t->caller.has_addr) {
        struct ex_value_ctx c = {.kernel = true, .hashed = r->hashed};
        struct ex_value_note n;
        ex_value_note(t->caller.addr, 8, &c, &n);
        if (n.kind == VAL_ASCII || n.kind == VAL_NONCANONICAL || n.kind == VAL_POISON) {
            char *cut = strstr(n.text, " (bytes in memory order)");
            if (!cut)
                cut = strstr(n.text, ": ");
            if (cut)
                *cut = 0;
            snprintf(why, size, "its caller word %s", n.text);
            return true;
        }
    }
    if (t->has_pid && t->pid > 4194304) {
        snprintf(why, size, "its pid %lld is beyond the kernel's pid limit", t->pid);
        return true;
    }
    return false;
}

/* The site of a track: SLUB's caller, else the first frame that is not
 * the allocator's. */
static const struct ex_frame *track_site(const struct ex_track *t)
{
    if (!t->present)
        return NULL;
    if (t->caller.func[0] && !ex_is_machinery_frame(t->caller.func))
        return &t->caller;
    const struct ex_frame *f = ex_first_user_frame(&t->stack);
    return f ? f : t->caller.func[0] ? &t->caller : NULL;
}

/* The access address without an arm64 pointer tag. */
static uint64_t untag(const struct ex_report *r, uint64_t a)
{
    if (r->origin == ORIGIN_KERNEL && (a >> 56) != 0 && (a >> 56) != 0xff &&
        ((a >> 48) & 0xff) == 0xff)
        return a | 0xff00000000000000ull;
    return a;
}

/* The shadow (or tag) byte of the access, from KASAN's rows. */
static void shadow_at(const struct ex_report *r, struct ex_finding *fd)
{
    if (!r->nshadow || !fd->addr)
        return;
    bool tags = strcmp(r->mode, "generic") != 0;
    uint64_t granule = tags ? 16 : 8;
    if (r->nshadow >= 2 && r->shadow[1].addr > r->shadow[0].addr && r->shadow[0].n) {
        uint64_t g = (r->shadow[1].addr - r->shadow[0].addr) / r->shadow[0].n;
        if (g == 8 || g == 16)
            granule = g;
    }
    for (int i = 0; i < r->nshadow; i++) {
        const struct ex_shadow_row *row = &r->shadow[i];
        if (fd->addr >= row->addr && fd->addr < row->addr + row->n * granule) {
            fd->has_shadow = true;
            fd->shadow_byte = row->b[(fd->addr - row->addr) / granule];
            return;
        }
    }
}

static void offset_of_access(const struct ex_report *r, struct ex_finding *fd)
{
    if (fd->has_stray) {
        fd->has_offset = true;
        fd->offset = fd->stray.off;
        return;
    }
    if (r->rel == REL_INSIDE && r->has_rel_dist) {
        fd->has_offset = true;
        fd->offset = (int64_t)r->rel_dist;
    } else if (r->rel == REL_LEFT && r->has_rel_dist) {
        fd->has_offset = true;
        fd->offset = -(int64_t)r->rel_dist;
    } else if (r->rel == REL_RIGHT && r->has_rel_dist && r->has_object_size) {
        fd->has_offset = true;
        fd->offset = (int64_t)(r->object_size + r->rel_dist);
    } else if (r->has_addr && r->has_object && !r->hashed) {
        uint64_t obj = untag(r, r->object);
        int64_t d = (int64_t)(fd->addr - obj);
        if (d > -4096 && d < (int64_t)(r->has_object_size ? r->object_size + 4096 : 1 << 20)) {
            fd->has_offset = true;
            fd->offset = d;
            fd->offset_from_addresses = true;
        }
    }
}

static size_t appendf(char *buf, size_t size, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static size_t appendf(char *buf, size_t size, size_t n, const char *fmt, ...)
{
    if (n >= size)
        return n;
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(buf + n, size - n, fmt, ap);
    va_end(ap);
    return k < 0 ? n : n + (size_t)k >= size ? size - 1 : n + (size_t)k;
}

static void hexoff(char *buf, size_t size, int64_t off)
{
    snprintf(buf, size, "%s0x%" PRIx64, off < 0 ? "-" : "", (uint64_t)(off < 0 ? -off : off));
}

/* Where an access outside any slab object was, in a few words. */
static const char *place_phrase(const struct ex_report *r)
{
    const char *l = r->location;
    if (r->cache[0] || r->has_object)
        return "";
    if (strstr(l, "stack of task"))
        return ", in a stack frame";
    if (strstr(l, "belongs to the variable"))
        return ", in a global variable";
    if (strstr(l, "vmalloc region") || strstr(l, "virtual mapping"))
        return ", in a vmalloc area";
    if (r->missing & MISS_OBJECT)
        return ""; /* the report was cut before it said */
    if (r->page[0])
        return ", in a page that is not a slab object";
    return "";
}

/* One paragraph: what happened, to what, by whom. */
static void summarize(const struct ex_report *r, struct ex_finding *fd)
{
    char *s = fd->summary, off[32], obj[160];
    size_t n = 0, size = sizeof(fd->summary);
    if (r->has_object_size)
        snprintf(obj, sizeof(obj), "%s%" PRIu64 "-byte %s object",
                 !strcmp(r->region_state, "freed") || r->cls == CLS_USE_AFTER_FREE ? "freed " : "",
                 r->object_size, r->cache[0] ? r->cache : "slab");
    else
        snprintf(obj, sizeof(obj), "%s%s object",
                 !strcmp(r->region_state, "freed") || r->cls == CLS_USE_AFTER_FREE ? "freed " : "",
                 r->cache[0] ? r->cache : "a slab");
    char who_b[EX_NAME_MAX], alloc_b[EX_NAME_MAX], free_b[EX_NAME_MAX];
    const char *who =
        fd->finder ? (ex_base_name(fd->finder->func, who_b, sizeof(who_b)), who_b) : NULL;
    if (fd->alloc_site)
        ex_base_name(fd->alloc_site->func, alloc_b, sizeof(alloc_b));
    if (fd->free_site)
        ex_base_name(fd->free_site->func, free_b, sizeof(free_b));
    if (r->found_later) {
        /* ours: a write past the requested size, seen when the object was freed */
        n = appendf(s, size, n, "Something wrote %s a %s",
                    r->rel == REL_LEFT    ? "before the start of"
                    : r->rel == REL_RIGHT ? "past the end of"
                                          : "outside",
                    obj);
        if (fd->has_stray) {
            hexoff(off, sizeof(off), fd->stray.off);
            n = appendf(s, size, n, " (at offset %s", off);
            if (fd->fault && fd->fault->has_first && fd->fault->has_expected)
                n = appendf(s, size, n, ", byte 0x%02x instead of 0x%02x", fd->fault->first,
                            fd->fault->expected);
            n = appendf(s, size, n, ")");
        }
        if (who)
            n = appendf(s, size, n, "; %s found it %s", who,
                        fd->found_when ? fd->found_when : "later");
    } else if (r->src.format == FMT_SLUB ||
               (r->src.format == FMT_SLABDBG_JSON && r->slub.nfaults)) {
        if (fd->has_stray && fd->value_known)
            n = appendf(s, size, n, "Something wrote 0x%" PRIx64 " (%" PRIu64 " byte%s)", fd->value,
                        fd->stray.length, fd->stray.length == 1 ? "" : "s");
        else if (fd->has_stray)
            n = appendf(s, size, n, "Something wrote %" PRIu64 " byte%s", fd->stray.length,
                        fd->stray.length == 1 ? "" : "s");
        else
            n = appendf(s, size, n, "%s", ex_kind_meaning(r) ? ex_kind_meaning(r) : r->reason);
        if (fd->has_stray) {
            hexoff(off, sizeof(off), fd->stray.off);
            n = appendf(
                s, size, n, " at offset %s of a %s object%s", off, r->cache[0] ? r->cache : "slab",
                r->cls == CLS_CORRUPTION && strstr(r->kind, "poison") ? " after it was freed" : "");
        }
    } else {
        const char *verb = r->access == ACC_WRITE  ? "wrote"
                           : r->access == ACC_READ ? "read"
                           : r->access == ACC_FREE ? "freed"
                                                   : "accessed";
        n = appendf(s, size, n, "%s %s", who ? who : "Some code", verb);
        if (r->has_access_size && r->access != ACC_FREE)
            n = appendf(s, size, n, " %" PRIu64 " byte%s", r->access_size,
                        r->access_size == 1 ? "" : "s");
        if (r->access == ACC_FREE) {
            if (r->cls == CLS_DOUBLE_FREE)
                n = appendf(s, size, n, " a %s that was already freed (a double free)", obj);
            else if (r->has_pointer)
                n = appendf(s, size, n,
                            " 0x%" PRIx64 ", which is not the start of an allocated object",
                            r->pointer);
            else
                n = appendf(s, size, n, " a pointer that is not the start of an allocated object");
        } else if (fd->has_offset && r->rel == REL_LEFT)
            n = appendf(s, size, n, " %" PRId64 " byte%s before a %s", -fd->offset,
                        fd->offset == -1 ? "" : "s", obj);
        else if (fd->has_offset && r->has_object_size && fd->offset == (int64_t)r->object_size)
            n = appendf(s, size, n, " just past the end of a %s", obj);
        else if (fd->has_offset && r->has_object_size && fd->offset > (int64_t)r->object_size)
            n = appendf(s, size, n, " %" PRId64 " byte%s past the end of a %s",
                        fd->offset - (int64_t)r->object_size,
                        fd->offset - (int64_t)r->object_size == 1 ? "" : "s", obj);
        else if (fd->has_offset) {
            hexoff(off, sizeof(off), fd->offset);
            n = appendf(s, size, n, " at offset %s of a %s", off, obj);
        } else if (r->cls == CLS_NULL_DEREF)
            n = appendf(s, size, n, " through a NULL pointer");
        else if (r->has_addr)
            n = appendf(s, size, n, " at 0x%" PRIx64 "%s", fd->addr, place_phrase(r));
        else
            n = appendf(s, size, n,
                        " (the report's lines on the address and the object are missing)");
    }
    if (fd->free_site && fd->alloc_site)
        n = appendf(s, size, n, "; it was allocated by %s and freed by %s", alloc_b, free_b);
    else if (fd->free_site)
        n = appendf(s, size, n, "; it was freed by %s", free_b);
    else if (fd->alloc_site)
        n = appendf(s, size, n, "; it was allocated by %s", alloc_b);
    n = appendf(s, size, n, ".");
}

void ex_analyze_report(struct ex_analysis *a, int i)
{
    const struct ex_report *r = &a->m->reports[i];
    struct ex_finding *fd = &a->findings[i];
    struct ex_value_ctx ctx = {
        .arch = ARCH_UNKNOWN, .kernel = r->origin == ORIGIN_KERNEL, .hashed = r->hashed};
    if (r->origin == ORIGIN_KERNEL && r->slub.addr_digits == 8)
        ctx.arch = ARCH_ARM; /* a 32-bit kernel */
    if (r->origin == ORIGIN_KERNEL && !strcmp(r->mode, "hw-tags"))
        ctx.arch = ARCH_ARM64;
    fd->addr = r->has_addr ? untag(r, r->addr) : 0;
    if (r->slub.nfaults && ex_stray(r, 0, &fd->stray)) {
        fd->has_stray = true;
        fd->fault = &r->slub.faults[0];
        if (fd->stray.has_word) {
            fd->value_known = true;
            fd->value = fd->stray.word;
            fd->width = fd->stray.width;
        } else if (fd->stray.nknown && (uint64_t)fd->stray.nknown == fd->stray.length &&
                   fd->stray.length <= 8) {
            fd->value_known = true; /* unaligned or odd-sized: still one number */
            fd->width = (unsigned)fd->stray.length;
            for (unsigned k = fd->width; k-- > 0;)
                fd->value = fd->value << 8 | fd->stray.bytes[k];
        }
        if (fd->value_known)
            ex_value_note(fd->value, fd->width, &ctx, &fd->value_note);
    }
    offset_of_access(r, fd);
    shadow_at(r, fd);
    bool access_report = r->src.format == FMT_KASAN || r->src.format == FMT_KFENCE ||
                         r->src.format == FMT_SLABDBG_GUARD ||
                         (r->src.format == FMT_SLABDBG_JSON && !r->slub.nfaults);
    if (access_report && r->has_where && r->where.func[0] && !ex_is_machinery_frame(r->where.func))
        fd->finder = &r->where;
    if (!fd->finder)
        fd->finder = ex_first_user_frame(&r->trace);
    bool found_later = !access_report || r->cls == CLS_CORRUPTION || r->found_later;
    fd->finder_what = found_later ? "found the damage" : "made the access";
    if (r->found_later && (strstr(r->reason, "found at free") || r->src.format == FMT_KFENCE))
        fd->found_when = "when the object was freed";
    else if (found_later)
        fd->found_when = found_when(r);
    fd->alloc_site = track_site(&r->alloc);
    fd->free_site = track_site(&r->free);
    const char *m = ex_kind_meaning(r);
    snprintf(fd->meaning, sizeof(fd->meaning), "%s", m ? m : "");
    summarize(r, fd);
}
