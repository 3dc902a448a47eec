/* The shared model: records, names and the few helpers every part uses. */
#include "model.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ex_format_name(enum ex_format f)
{
    static const char *const names[FMT_COUNT] = {
        [FMT_SLUB] = "slub",
        [FMT_SLABDBG_GUARD] = "slabdbg-guard",
        [FMT_SLABDBG_JSON] = "slabdbg-json",
        [FMT_KASAN] = "kasan",
        [FMT_KFENCE] = "kfence",
        [FMT_OOPS_X86] = "oops-x86",
        [FMT_OOPS_ARM64] = "oops-arm64",
        [FMT_OOPS_RISCV] = "oops-riscv",
        [FMT_CRASH_RD] = "crash-rd",
        [FMT_OTHER] = "other",
    };
    return (unsigned)f < FMT_COUNT ? names[f] : "unknown";
}

const char *ex_class_name(enum ex_class c)
{
    switch (c) {
    case CLS_USE_AFTER_FREE:
        return "use-after-free";
    case CLS_OUT_OF_BOUNDS:
        return "out-of-bounds";
    case CLS_CORRUPTION:
        return "corruption";
    case CLS_DOUBLE_FREE:
        return "double-free";
    case CLS_INVALID_FREE:
        return "invalid-free";
    case CLS_NULL_DEREF:
        return "null-ptr-deref";
    case CLS_WILD_ACCESS:
        return "wild-access";
    case CLS_INVALID_ACCESS:
        return "invalid-access";
    case CLS_ALLOCATOR_STATE:
        return "allocator-state";
    case CLS_LEAK:
        return "leak";
    default:
        return "unknown";
    }
}

const char *ex_arch_name(enum ex_arch a)
{
    switch (a) {
    case ARCH_X86_64:
        return "x86-64";
    case ARCH_ARM64:
        return "arm64";
    case ARCH_ARM:
        return "arm";
    case ARCH_RISCV:
        return "riscv";
    case ARCH_USER:
        return "user";
    default:
        return "unknown";
    }
}

/* ---- frames ---------------------------------------------------------------------- */

void ex_stack_add(struct ex_stack *s, const struct ex_frame *f)
{
    if (s->n < EX_FRAMES_MAX)
        s->f[s->n++] = *f;
    else
        s->dropped++;
}

void ex_frame_text(const struct ex_frame *f, char *buf, size_t size)
{
    int n;
    if (!f->func[0])
        n = snprintf(buf, size, "0x%llx", (unsigned long long)f->addr);
    else if (f->has_size)
        n = snprintf(buf, size, "%s+0x%llx/0x%llx", f->func, (unsigned long long)f->off,
                     (unsigned long long)f->size);
    else if (f->has_off)
        n = snprintf(buf, size, "%s+0x%llx", f->func, (unsigned long long)f->off);
    else
        n = snprintf(buf, size, "%s", f->func);
    if (n >= 0 && (size_t)n < size && f->module[0])
        snprintf(buf + n, size - (size_t)n, " [%s]", f->module);
}

void ex_base_name(const char *func, char *buf, size_t size)
{
    size_t n = 0;
    while (func[n] && func[n] != '@' && !(func[n] == '.' && n > 0))
        n++;
    if (!size)
        return;
    if (n > size - 1)
        n = size - 1;
    memcpy(buf, func, n);
    buf[n] = 0;
}

/* The kernel's allocator entry points and their variants: a family name at
 * a word boundary ("__kmalloc", "devm_kmalloc", "kmem_cache_alloc_trace")
 * followed only by words that name variants.  Test functions named after
 * what they test ("kmalloc_oob_right", "test_kmalloc_aligned_oob_write",
 * "kmem_cache_double_free") are not allocator frames. */
static bool allocator_family(const char *base)
{
    static const char *const family[] = {"kmalloc", "kmem_cache", "kfree",  "krealloc", "kvmalloc",
                                          "kvfree",  "kzalloc",    "kcalloc", "kvzalloc", "kvcalloc",
                                          "kvrealloc"};
    static const char *const variant[] = {
        "alloc", "free",  "node",  "trace", "large",  "order",  "reserve", "track", "caller",
        "slab",  "array", "cache", "noprof", "lru",   "bulk",   "index",   "rcu",   "sensitive",
        "skb",   "reason", "list", "const", "nolock", "notrace", "do",     "zalloc", "user",
        "account"};
    for (size_t i = 0; i < sizeof(family) / sizeof(family[0]); i++) {
        size_t fl = strlen(family[i]);
        for (const char *p = strstr(base, family[i]); p; p = strstr(p + 1, family[i])) {
            if (p > base && p[-1] != '_')
                continue;
            const char *q = p + fl;
            bool ok = true;
            while (*q && ok) {
                if (*q != '_') {
                    ok = false;
                    break;
                }
                q++;
                const char *w = q;
                while (*q && *q != '_')
                    q++;
                size_t wl = (size_t)(q - w);
                ok = wl == 0;
                for (size_t k = 0; !ok && k < sizeof(variant) / sizeof(variant[0]); k++)
                    ok = strlen(variant[k]) == wl && !strncmp(w, variant[k], wl);
            }
            if (ok)
                return true;
        }
    }
    return false;
}

bool ex_is_machinery_frame(const char *func)
{
    static const char *const exact[] = {
        "malloc", "calloc", "realloc", "reallocarray", "free", "cfree", "aligned_alloc",
        "posix_memalign", "memalign", "valloc", "pvalloc", "strdup", "strndup", "check_object",
        "check_bytes_and_report", "check_slab", "check_valid_pointer", "on_freelist",
        "object_err", "slab_err", "slab_bug", "print_trailer", "print_track", "init_object",
        "setup_object", "new_slab", "allocate_slab", "get_partial", "deactivate_slab",
        "validate_slab", "show_stack", "stack_capture", "bugs_flush", "restore_bytes",
        "set_track", "slab_pad_check", "check_pad_bytes", "free_consistency_checks",
        "alloc_consistency_checks", "memchr_inv", "kmemdup", "kstrdup", "kstrndup",
        "print_address_description", "print_report", "print_error_description", "save_stack",
        "save_stack_trace", "stack_trace_save", "stack_depot_save", "dump_backtrace",
        "unwind_backtrace", "walk_stackframe", "__dump_stack", "panic", "end_report",
        "__do_kernel_fault", "do_bad_area", "do_tag_check_fault", "do_mem_abort", "el1_abort",
        "el1h_64_sync_handler", "el1h_64_sync", "el1_sync_handler", "el1_sync",
        "check_memory_region", "check_region_inline", "kasan_check_range", "memcpy", "memmove",
        "memset", "__memcpy", "__memset", "__memmove", "asm_exc_page_fault", "exc_page_fault",
        "handle_page_fault", "do_user_addr_fault", "kernelmode_fixup_or_oops",
        "page_fault_oops", "die", "die_addr", "oops_end", "exc_general_protection",
        "asm_exc_general_protection", "__die_body", "__die"};
    /* Found anywhere in the name. */
    static const char *const contains[] = {
        "slab_alloc", "slab_free", "debug_processing", "dump_stack", "kasan_", "kmsan_",
        "kfence_", "mempool_", "slabdbg", "__asan_", "__hwasan_", "asan_report"};
    static const char *const prefix[] = {
        "__slab", "___slab", "slub_", "_Znw", "_Zna", "_Zdl", "_Zda", "__libc_malloc",
        "__libc_free", "__libc_calloc", "__libc_realloc", "__kmem", "___kmalloc"};
    char base[EX_NAME_MAX];
    ex_base_name(func, base, sizeof(base));
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (!strcmp(base, exact[i]))
            return true;
    for (size_t i = 0; i < sizeof(contains) / sizeof(contains[0]); i++)
        if (strstr(base, contains[i]))
            return true;
    if (allocator_family(base))
        return true;
    for (size_t i = 0; i < sizeof(prefix) / sizeof(prefix[0]); i++)
        if (!strncmp(base, prefix[i], strlen(prefix[i])))
            return true;
    return false;
}

const struct ex_frame *ex_first_user_frame(const struct ex_stack *s)
{
    for (int i = 0; i < s->n; i++)
        if (!s->f[i].unreliable && s->f[i].func[0] && !ex_is_machinery_frame(s->f[i].func))
            return &s->f[i];
    return NULL;
}

/* ---- SLUB bytes ------------------------------------------------------------------- */

void ex_slub_put_byte(struct ex_report *r, int64_t off, uint8_t v)
{
    off += EX_WIN_LEFT;
    if (off < 0 || off >= EX_WIN)
        return;
    r->slub.bytes[off] = v;
    r->slub.known[off / 8] |= (uint8_t)(1u << (off % 8));
}

bool ex_slub_byte(const struct ex_report *r, int64_t off, uint8_t *v)
{
    off += EX_WIN_LEFT;
    if (off < 0 || off >= EX_WIN || !(r->slub.known[off / 8] & (1u << (off % 8))))
        return false;
    *v = r->slub.bytes[off];
    return true;
}

/* ---- registers ---------------------------------------------------------------------- */

/* Upper case, and "R08" read as "R8". */
static void reg_key(const char *name, char *out, size_t size)
{
    size_t n = 0;
    for (; name[n] && n < size - 1; n++)
        out[n] = (char)toupper((unsigned char)name[n]);
    out[n] = 0;
    if (out[0] == 'R' && out[1] == '0' && isdigit((unsigned char)out[2]))
        memmove(out + 1, out + 2, strlen(out + 1));
}

bool ex_oops_reg(const struct ex_oops *o, const char *name, uint64_t *value)
{
    char want[8], have[8];
    reg_key(name, want, sizeof(want));
    for (int i = 0; i < o->nregs; i++) {
        reg_key(o->regs[i].name, have, sizeof(have));
        if (!strcmp(have, want)) {
            *value = o->regs[i].value;
            return true;
        }
    }
    return false;
}

/* ---- the model ------------------------------------------------------------------------ */

struct ex_model *ex_model_new(void)
{
    struct ex_model *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->reports = calloc(EX_REPORTS_MAX, sizeof(*m->reports));
    m->oopses = calloc(EX_OOPSES_MAX, sizeof(*m->oopses));
    m->dumps = calloc(EX_DUMPS_MAX, sizeof(*m->dumps));
    m->others = calloc(EX_OTHERS_MAX, sizeof(*m->others));
    if (!m->reports || !m->oopses || !m->dumps || !m->others) {
        ex_model_free(m);
        return NULL;
    }
    return m;
}

void ex_model_reset(struct ex_model *m)
{
    struct ex_report *reports = m->reports;
    struct ex_oops *oopses = m->oopses;
    struct ex_dump *dumps = m->dumps;
    struct ex_other *others = m->others;
    memset(m, 0, sizeof(*m)); /* records are cleared as they are made */
    m->reports = reports;
    m->oopses = oopses;
    m->dumps = dumps;
    m->others = others;
}

void ex_model_free(struct ex_model *m)
{
    if (!m)
        return;
    free(m->reports);
    free(m->oopses);
    free(m->dumps);
    free(m->others);
    free(m);
}

#define NEW_RECORD(field, count, dropped, max)                                                     \
    do {                                                                                           \
        /* a discarded record at the end is no longer anyone's: reuse it */                      \
        while (m->count == (max) && m->field[m->count - 1].src.discarded)                          \
            m->count--;                                                                            \
        if (m->count == (max)) {                                                                   \
            m->dropped++;                                                                          \
            return NULL;                                                                           \
        }                                                                                          \
        memset(&m->field[m->count], 0, sizeof(m->field[0]));                                       \
        return &m->field[m->count++];                                                              \
    } while (0)

struct ex_report *ex_new_report(struct ex_model *m)
{
    NEW_RECORD(reports, nreports, dropped_reports, EX_REPORTS_MAX);
}

struct ex_oops *ex_new_oops(struct ex_model *m)
{
    NEW_RECORD(oopses, noopses, dropped_oopses, EX_OOPSES_MAX);
}

struct ex_dump *ex_new_dump(struct ex_model *m)
{
    NEW_RECORD(dumps, ndumps, dropped_dumps, EX_DUMPS_MAX);
}

struct ex_other *ex_new_other(struct ex_model *m)
{
    NEW_RECORD(others, nothers, dropped_others, EX_OTHERS_MAX);
}

#define COMPACT(field, count)                                                                      \
    do {                                                                                           \
        int kept = 0;                                                                              \
        for (int i = 0; i < m->count; i++)                                                         \
            if (!m->field[i].src.discarded) {                                                      \
                if (kept != i)                                                                     \
                    m->field[kept] = m->field[i];                                                  \
                kept++;                                                                            \
            }                                                                                      \
        m->count = kept;                                                                           \
    } while (0)

void ex_model_compact(struct ex_model *m)
{
    COMPACT(reports, nreports);
    COMPACT(oopses, noopses);
    COMPACT(dumps, ndumps);
    COMPACT(others, nothers);
}

const char *ex_input_name(const struct ex_model *m, int input)
{
    if (input < 0 || input >= m->ninputs || !m->inputs[input].name)
        return "?";
    return strcmp(m->inputs[input].name, "-") ? m->inputs[input].name : "standard input";
}
