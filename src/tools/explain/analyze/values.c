/*
 * Values in plain words: what a stray value or a fault address looks like.
 *
 * The kernel fills memory with recognisable patterns (include/linux/poison.h):
 * freed slab objects with 0x6b and a last 0xa5, red zones with 0xbb (free)
 * and 0xcc (allocated), padding with 0x5a, freed pages with 0xaa, deleted
 * list entries with LIST_POISON1/2 (0x100/0x122 + POISON_POINTER_DELTA,
 * 0xdead000000000000 on 64-bit).  A pointer read from such memory faults at
 * the pattern plus the offset of the field the code wanted, so the delta
 * says which field.  KASAN's inline checks fault on the shadow address of a
 * bad pointer instead of the pointer itself.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "analyze/analyze.h"

#define POISON_POINTER_DELTA UINT64_C(0xdead000000000000)
#define X86_KASAN_SHADOW_OFFSET UINT64_C(0xdffffc0000000000)

const char *ex_value_kind_name(enum ex_value_kind k)
{
    static const char *const names[] = {
        [VAL_ZERO] = "zero",
        [VAL_SMALL] = "small-constant",
        [VAL_NARROW] = "narrow",
        [VAL_POISON] = "poison",
        [VAL_POISON_NEAR] = "poison-plus-offset",
        [VAL_LIST_POISON] = "list-poison",
        [VAL_KASAN_SHADOW] = "kasan-shadow",
        [VAL_ASCII] = "ascii-text",
        [VAL_NONCANONICAL] = "non-canonical",
        [VAL_USER] = "user-address",
        [VAL_KERNEL_TEXT] = "kernel-text",
        [VAL_KERNEL] = "kernel-pointer",
        [VAL_TAGGED] = "tagged-pointer",
        [VAL_HASHED] = "hashed-pointer",
        [VAL_POINTER] = "pointer",
    };
    return (unsigned)k < sizeof(names) / sizeof(names[0]) ? names[k] : "unknown";
}

static bool bits32(const struct ex_value_ctx *c)
{
    return c->arch == ARCH_ARM;
}

static uint64_t repeat_byte(uint8_t b, unsigned width)
{
    uint64_t v = 0;
    for (unsigned i = 0; i < width; i++)
        v = v << 8 | b;
    return v;
}

static const struct {
    uint8_t byte;
    const char *what;
} patterns[] = {
    {0x6b, "SLUB's poison of a free object (0x6b)"},
    {0xa5, "the last byte of SLUB's freed-object poison (0xa5)"},
    {0x5a, "SLUB's padding poison (0x5a), or SLAB's uninitialised-object poison"},
    {0xbb, "SLUB's red zone of a free object (0xbb)"},
    {0xcc, "SLUB's red zone of an allocated object (0xcc), or freed init memory"},
    {0xaa, "the poison of a freed page (0xaa)"},
};

/* 0x6b6b...6b, and the end of a freed object read as one word (...6b6b a5). */
static int poison_pattern(uint64_t v, unsigned width, uint64_t *base)
{
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        uint64_t p = repeat_byte(patterns[i].byte, width);
        if (v == p) {
            *base = p;
            return (int)i;
        }
        if (patterns[i].byte == 0x6b && width == 8 && v == 0xa56b6b6b6b6b6b6bull) {
            *base = v;
            return (int)i;
        }
    }
    return -1;
}

static int poison_near(uint64_t v, unsigned width, uint64_t *base)
{
    if (width < 4)
        return -1;
    for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
        uint64_t p = repeat_byte(patterns[i].byte, width);
        if (v > p && v - p < 0x1000) {
            *base = p;
            return (int)i;
        }
        if (v < p && p - v < 0x100) {
            *base = p;
            return (int)i;
        }
    }
    return -1;
}

/* Text where a value belongs: at least 5 printable bytes in 8, the others
 * NUL or a single stray one. */
static bool ascii_text(uint64_t v, unsigned width, char *out, size_t size)
{
    if (width < 4)
        return false;
    int printable = 0, nul = 0, other = 0, letters = 0;
    for (unsigned i = 0; i < width; i++) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        if (b >= 0x20 && b < 0x7f) {
            printable++;
            letters += (b | 0x20) >= 'a' && (b | 0x20) <= 'z';
        } else if (!b) {
            nul++;
        } else {
            other++;
        }
    }
    if (printable < (int)width * 5 / 8 || other > 1 || letters < 3)
        return false;
    size_t n = 0;
    for (unsigned i = 0; i < width && n + 5 < size; i++) {
        uint8_t b = (uint8_t)(v >> (8 * i));
        if (b >= 0x20 && b < 0x7f && b != '"' && b != '\\')
            out[n++] = (char)b;
        else
            n += (size_t)snprintf(out + n, size - n, "\\x%02x", b);
    }
    out[n] = 0;
    return true;
}

bool ex_kasan_shadow_range(uint64_t shadow, enum ex_arch arch, uint64_t *lo, uint64_t *hi)
{
    if (arch != ARCH_X86_64 && arch != ARCH_UNKNOWN)
        return false;
    if (shadow < X86_KASAN_SHADOW_OFFSET || shadow - X86_KASAN_SHADOW_OFFSET >= (1ull << 61) >> 3)
        return false;
    *lo = (shadow - X86_KASAN_SHADOW_OFFSET) << 3;
    *hi = *lo + 7;
    return true;
}

uint64_t ex_kasan_shadow_offset(enum ex_arch arch)
{
    return arch == ARCH_X86_64 || arch == ARCH_UNKNOWN ? X86_KASAN_SHADOW_OFFSET : 0;
}

const char *ex_kasan_shadow_meaning(uint8_t b, bool tags)
{
    if (tags) {
        if (b == 0xfe)
            return "freed or never allocated (tag 0xfe)";
        if (b == 0xff)
            return "untagged (0xff: matches every pointer)";
        return "tagged memory";
    }
    if (b == 0)
        return "all 8 bytes accessible";
    if (b < 8)
        return "partly accessible (the first bytes only)";
    switch (b) {
    case 0xfa:
        return "a freed slab object (with its free track)";
    case 0xfb:
        return "a freed slab object";
    case 0xfc:
        return "a slab red zone (between objects)";
    case 0xfd:
        return "a freed or unallocated page (older kernels: freed slab object)";
    case 0xfe:
        return "a red zone of a large kmalloc (page) allocation";
    case 0xff:
        return "a freed page";
    case 0xf1:
        return "a stack left red zone";
    case 0xf2:
        return "a stack red zone between variables";
    case 0xf3:
        return "a stack right red zone";
    case 0xf4:
        return "a partly addressable stack variable";
    case 0xf8:
        return "a stack variable out of scope, or unmapped vmalloc space";
    case 0xf9:
        return "a global variable's red zone";
    case 0xca:
    case 0xcb:
        return "an alloca red zone";
    default:
        return "inaccessible memory";
    }
}

void ex_value_note(uint64_t v, unsigned width, const struct ex_value_ctx *ctx,
                   struct ex_value_note *out)
{
    memset(out, 0, sizeof(*out));
    if (!width)
        width = 8;
    char text[80];
    uint64_t base;
    int p;
    bool b32 = bits32(ctx) || width == 4;
    uint64_t list_delta = bits32(ctx) ? 0 : POISON_POINTER_DELTA;
    if (v == 0) {
        out->kind = VAL_ZERO;
        snprintf(out->text, sizeof(out->text), "zero: a NULL pointer, or a cleared field");
        return;
    }
    if ((p = poison_pattern(v, width, &base)) >= 0) {
        out->kind = VAL_POISON;
        out->not_pointer = true;
        out->base = base;
        snprintf(out->text, sizeof(out->text), "0x%" PRIx64 " is %s: %s", v, patterns[p].what,
                 patterns[p].byte == 0x6b || patterns[p].byte == 0xa5
                     ? "read from freed memory"
                 : patterns[p].byte == 0xaa ? "read from a freed page"
                                            : "read from memory nothing should read");
        return;
    }
    /* LIST_POISON1/2 and TIMER_ENTRY_STATIC, and a field of them */
    if (v >= list_delta && v - list_delta >= 0x100 && v - list_delta < 0x400 &&
        (list_delta || width == 4)) {
        uint64_t d = v - list_delta;
        static const struct {
            uint64_t off;
            const char *name, *what;
        } lp[] = {{0x300, "TIMER_ENTRY_STATIC", "a static timer's list pointer"},
                  {0x122, "LIST_POISON2", "the prev pointer of a deleted list entry"},
                  {0x100, "LIST_POISON1", "the next pointer of a deleted list entry"}};
        for (size_t i = 0; i < sizeof(lp) / sizeof(lp[0]); i++) {
            if (d < lp[i].off || d - lp[i].off >= 0x100)
                continue;
            out->kind = VAL_LIST_POISON;
            out->not_pointer = true;
            out->base = list_delta + lp[i].off;
            if (d == lp[i].off)
                snprintf(out->text, sizeof(out->text),
                         "0x%" PRIx64 " is %s, %s: the entry was deleted (list_del) and is still "
                         "being followed",
                         v, lp[i].name, lp[i].what);
            else
                snprintf(out->text, sizeof(out->text),
                         "0x%" PRIx64 " is %s + 0x%" PRIx64 ": %s (%s) was followed and the field "
                         "at offset 0x%" PRIx64 " read: the entry was deleted (list_del) and is "
                         "still in use",
                         v, lp[i].name, d - lp[i].off, lp[i].what, lp[i].name, d - lp[i].off);
            return;
        }
    }
    if (!bits32(ctx) && width == 8 && v >= POISON_POINTER_DELTA && v - POISON_POINTER_DELTA < 0x100000) {
        out->kind = VAL_LIST_POISON;
        out->not_pointer = true;
        out->base = POISON_POINTER_DELTA;
        snprintf(out->text, sizeof(out->text),
                 "0x%" PRIx64 " is POISON_POINTER_DELTA + 0x%" PRIx64
                 ": a poisoned pointer (a deleted list or hlist entry, a freed page's "
                 "list, a timer) was used",
                 v, v - POISON_POINTER_DELTA);
        return;
    }
    if ((p = poison_near(v, width, &base)) >= 0) {
        out->kind = VAL_POISON_NEAR;
        out->not_pointer = true;
        out->base = base;
        if (v > base)
            snprintf(out->text, sizeof(out->text),
                     "0x%" PRIx64 " is %s 0x%" PRIx64 " + 0x%" PRIx64
                     ": a pointer read from that memory, plus a field offset of 0x%" PRIx64
                     " (or the poison incremented)",
                     v, patterns[p].what, base, v - base, v - base);
        else
            snprintf(out->text, sizeof(out->text),
                     "0x%" PRIx64 " is %s 0x%" PRIx64 " - 0x%" PRIx64
                     ": the poison decremented, or a pointer read from that memory minus an "
                     "offset (container_of)",
                     v, patterns[p].what, base, base - v);
        return;
    }
    if (ascii_text(v, width, text, sizeof(text))) {
        out->kind = VAL_ASCII;
        out->not_pointer = true;
        snprintf(out->text, sizeof(out->text),
                 "0x%" PRIx64 " is ASCII text \"%s\" (bytes in memory order): a string was "
                 "written where a %s belongs (an overflow from a neighbouring buffer, or a "
                 "use after the memory was reused for text)",
                 v, text, width == 8 ? "pointer" : "value");
        return;
    }
    uint64_t lo, hi;
    if (ctx->kernel && width == 8 && ex_kasan_shadow_range(v, ctx->arch, &lo, &hi)) {
        out->kind = VAL_KASAN_SHADOW;
        out->not_pointer = true;
        out->base = X86_KASAN_SHADOW_OFFSET;
        snprintf(out->text, sizeof(out->text),
                 "0x%" PRIx64 " is a KASAN shadow address: the check of the access to "
                 "0x%" PRIx64 "-0x%" PRIx64 "%s",
                 v, lo, hi,
                 lo < 0x10000 ? " (a NULL pointer plus a field offset)"
                 : lo < 0x800000000000ull ? " (a user-space address)"
                                          : "");
        return;
    }
    if (width <= 2) {
        /* a byte or two is no pointer; say what it reads as */
        out->kind = VAL_NARROW;
        out->not_pointer = true;
        if (width == 1 && v >= 0x20 && v < 0x7f)
            snprintf(out->text, sizeof(out->text),
                     "0x%" PRIx64 " is a single byte, '%c' in ASCII: a byte-sized field, a flag, "
                     "or the first byte of a longer write",
                     v, (char)v);
        else
            snprintf(out->text, sizeof(out->text),
                     "0x%" PRIx64 " is a%s %u-bit value: a %s-sized field, a flag, or part of a "
                     "longer write",
                     v, width == 1 ? "n" : "", width * 8, width == 1 ? "byte" : "short");
        return;
    }
    if (v < 0x10000) {
        out->kind = VAL_SMALL;
        out->not_pointer = true;
        snprintf(out->text, sizeof(out->text),
                 "0x%" PRIx64 " looks like a small constant (a flag, state, count or #define), "
                 "not a pointer: nothing is ever mapped below 64 KiB",
                 v);
        return;
    }
    if (width < 8 && !b32) {
        out->kind = VAL_NARROW;
        out->not_pointer = true;
        snprintf(out->text, sizeof(out->text),
                 "0x%" PRIx64 " is a %u-bit value: too narrow for a pointer", v, width * 8);
        return;
    }
    if (ctx->hashed && v >> 32 == 0) {
        out->kind = VAL_HASHED;
        snprintf(out->text, sizeof(out->text),
                 "0x%" PRIx64 " is a hashed pointer (the kernel hides addresses unless booted "
                 "with no_hash_pointers): it tells nothing about the address",
                 v);
        return;
    }
    if (b32) {
        bool kernel_half = v >= 0xc0000000ull || (ctx->arch == ARCH_ARM && v >= 0x80000000ull);
        out->kind = ctx->kernel && !kernel_half ? VAL_USER : VAL_KERNEL;
        snprintf(out->text, sizeof(out->text), "0x%" PRIx64 " %s", v,
                 !ctx->kernel  ? "could be a pointer"
                 : kernel_half ? "looks like a 32-bit kernel pointer"
                               : "is below the usual 32-bit kernel split (0xc0000000): a "
                                 "user-space address, or a corrupted pointer");
        return;
    }
    uint64_t top = v >> 47;
    if (ctx->arch == ARCH_ARM64 && ctx->kernel && (v >> 56) != 0xff && (v >> 56) != 0 &&
        ((v >> 48) & 0xff) == 0xff) {
        out->kind = VAL_TAGGED;
        snprintf(out->text, sizeof(out->text),
                 "0x%" PRIx64 " is a tagged kernel pointer (tag 0x%02x in the top byte; the "
                 "address is 0x%" PRIx64 ")",
                 v, (unsigned)(v >> 56), v | UINT64_C(0xff00000000000000));
        return;
    }
    if (top != 0 && top != 0x1ffff) {
        out->kind = VAL_NONCANONICAL;
        out->not_pointer = true;
        snprintf(out->text, sizeof(out->text),
                 "0x%" PRIx64 " is not a canonical address (bits 63-47 differ): data, not a "
                 "pointer",
                 v);
        return;
    }
    if (top == 0) {
        out->kind = ctx->kernel ? VAL_USER : VAL_POINTER;
        snprintf(out->text, sizeof(out->text), "0x%" PRIx64 " %s", v,
                 ctx->kernel ? "is a user-space address: the kernel followed a user pointer, or "
                               "a corrupted one"
                             : "could be a user-space pointer");
        return;
    }
    if (v >= 0xffffffff80000000ull && v < 0xffffffffff000000ull &&
        (ctx->arch == ARCH_X86_64 || ctx->arch == ARCH_UNKNOWN)) {
        out->kind = VAL_KERNEL_TEXT;
        snprintf(out->text, sizeof(out->text),
                 "0x%" PRIx64 " looks like a kernel text or module address (a function pointer)",
                 v);
        return;
    }
    out->kind = VAL_KERNEL;
    const char *where = "a kernel pointer";
    if (ctx->arch == ARCH_X86_64 || ctx->arch == ARCH_UNKNOWN) {
        if (v >= 0xffff888000000000ull && v < 0xffffc88000000000ull)
            where = "a kernel pointer into the direct map (the heap: slab objects, pages)";
        else if (v >= 0xffffc90000000000ull && v < 0xffffe90000000000ull)
            where = "a kernel vmalloc address (vmalloc memory or a task stack)";
        else if (v >= 0xffffea0000000000ull && v < 0xffffeb0000000000ull)
            where = "a struct page pointer (vmemmap)";
    }
    snprintf(out->text, sizeof(out->text), "0x%" PRIx64 " looks like %s", v, where);
}
