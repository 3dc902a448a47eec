/* Parser for the kernel's slub_debug= syntax (see slub_debug.h). */
#include <string.h>

#include "base/slub_debug.h"

/* Unknown letters, each once, for one warning after the parse. */
struct unknown_letters {
    unsigned n;
    unsigned char seen[32];
};

static void note_unknown(struct unknown_letters *u, unsigned char ch)
{
    if (!u)
        return;
    for (unsigned i = 0; i < u->n; i++)
        if (u->seen[i] == ch)
            return;
    if (u->n < sizeof(u->seen))
        u->seen[u->n++] = ch;
}

/* Parses the flag letters of the block at `s`; returns the position of the
 * ',' or ';' or NUL that ends them. */
static const char *parse_letters(const char *s, slab_flags_t *flags, bool *order_off,
                                 struct unknown_letters *unknown)
{
    if (*s == ',') { /* a list without letters: full debugging */
        *flags = DEBUG_DEFAULT_FLAGS;
        return s;
    }
    *flags = 0;
    for (; *s && *s != ',' && *s != ';'; s++) {
        switch (*s | 0x20) {
        case '-':
            *flags = 0;
            break;
        case 'f':
            *flags |= SLAB_CONSISTENCY_CHECKS;
            break;
        case 'z':
            *flags |= SLAB_RED_ZONE;
            break;
        case 'p':
            *flags |= SLAB_POISON;
            break;
        case 'u':
            *flags |= SLAB_STORE_USER;
            break;
        case 't':
            *flags |= SLAB_TRACE;
            break;
        case 'a':
            *flags |= SLAB_FAILSLAB;
            break;
        case 'g':
            *flags |= SLAB_GUARD;
            break;
        case 'o':
            *order_off = true;
            break;
        default:
            note_unknown(unknown, (unsigned char)*s);
        }
    }
    return s;
}

/* One block: letters, then an optional ",name,name..." list.  Sets *list to
 * the first name (or NULL) and returns the start of the next block (or NULL). */
static const char *parse_block(const char *s, slab_flags_t *flags, const char **list,
                               bool *order_off, struct unknown_letters *unknown)
{
    while (*s == ';')
        s++;
    s = parse_letters(s, flags, order_off, unknown);
    *list = *s == ',' ? s + 1 : NULL;
    while (*s && *s != ';')
        s++;
    while (*s == ';')
        s++;
    return *s ? s : NULL;
}

static bool name_end(char c)
{
    return !c || c == ',' || c == ';';
}

void slub_debug_parse(struct slub_debug_config *cfg, const char *value,
                      void (*warn)(const char *msg))
{
    memset(cfg, 0, sizeof(*cfg));
    if (!value)
        return;
    cfg->set = true;
    size_t len = strlen(value);
    if (len >= sizeof(cfg->str)) {
        if (warn)
            warn("SLABDBG: option string too long, ignored past 1023 characters");
        len = sizeof(cfg->str) - 1;
    }
    memcpy(cfg->str, value, len);
    cfg->str[len] = 0;
    if (!len) {
        cfg->global = DEBUG_DEFAULT_FLAGS;
        return;
    }
    bool global_set = false;
    struct unknown_letters unknown = {0, {0}};
    for (const char *s = cfg->str; s;) {
        slab_flags_t flags;
        const char *list;
        s = parse_block(s, &flags, &list, &cfg->higher_order_disable, &unknown);
        cfg->any |= flags;
        if (!list) {
            cfg->global = flags;
            global_set = true;
            continue;
        }
        cfg->has_lists = true;
        for (const char *n = list; *n && *n != ';';) { /* empty names are skipped */
            const char *e = n;
            while (!name_end(*e))
                e++;
            if (e > n && cfg->nr_names < SLUB_DEBUG_MAX_NAMES) {
                cfg->names[cfg->nr_names] = n;
                cfg->name_len[cfg->nr_names++] = (unsigned)(e - n);
            }
            n = *e == ',' ? e + 1 : e;
        }
    }
    /* As in the kernel: lists alone leave the other caches undebugged. */
    if (!global_set)
        cfg->global = 0;
    /* The kernel's words, once per distinct letter however often it came;
     * bytes that are not printable are written as \xNN. */
    for (unsigned i = 0; i < unknown.n && warn; i++) {
        unsigned char ch = unknown.seen[i];
        char msg[64] = "SLABDBG: option '";
        size_t l = strlen(msg);
        if (ch < 0x20 || ch >= 0x7f) {
            static const char hex[] = "0123456789abcdef";
            msg[l++] = '\\';
            msg[l++] = 'x';
            msg[l++] = hex[ch >> 4];
            msg[l++] = hex[ch & 15];
        } else {
            msg[l++] = (char)ch;
        }
        msg[l] = 0;
        strcat(msg, "' unknown. skipped");
        warn(msg);
    }
}

/* Does list entry [n, n+len) name `name`?  A '*' ends the compared part. */
static bool name_matches(const char *n, unsigned len, const char *name)
{
    const char *star = memchr(n, '*', len);
    if (star)
        return !strncmp(name, n, (size_t)(star - n));
    return strlen(name) == len && !strncmp(name, n, len);
}

static slab_flags_t lookup_flags(struct slub_debug_config *cfg, const char *name);

slab_flags_t slub_debug_flags(struct slub_debug_config *cfg, const char *name)
{
    return lookup_flags(cfg, name) & ~cfg->forbidden;
}

static slab_flags_t lookup_flags(struct slub_debug_config *cfg, const char *name)
{
    if (!cfg->has_lists)
        return cfg->global;
    bool unused = false;
    for (const char *s = cfg->str; s;) {
        slab_flags_t flags;
        const char *list;
        s = parse_block(s, &flags, &list, &unused, NULL);
        for (const char *n = list; n && *n && *n != ';';) {
            const char *e = n;
            while (!name_end(*e))
                e++;
            if (e > n && name_matches(n, (unsigned)(e - n), name)) {
                for (unsigned i = 0; i < cfg->nr_names; i++)
                    if (cfg->names[i] == n)
                        cfg->matched[i] = true;
                return flags;
            }
            n = *e == ',' ? e + 1 : e;
        }
    }
    return cfg->global;
}

void slub_debug_warn_unmatched(const struct slub_debug_config *cfg, void (*warn)(const char *msg))
{
    for (unsigned i = 0; i < cfg->nr_names; i++) {
        if (cfg->matched[i])
            continue;
        char msg[160] = "SLABDBG: no cache matched '";
        size_t l = strlen(msg), n = cfg->name_len[i];
        if (n > 100)
            n = 100;
        memcpy(msg + l, cfg->names[i], n);
        memcpy(msg + l + n, "'", 2);
        warn(msg);
    }
}

void slub_debug_warn_impossible(struct slub_debug_config *cfg, void (*warn)(const char *msg))
{
    for (unsigned i = 0; i < cfg->nr_names; i++) {
        const char *n = cfg->names[i];
        unsigned len = cfg->name_len[i];
        if (cfg->matched[i] || len < 9 || strncmp(n, "kmalloc-", 8) || memchr(n, '*', len))
            continue;
        char msg[200] = "SLABDBG: there is no cache '";
        size_t l = strlen(msg), k = len > 100 ? 100 : len;
        memcpy(msg + l, n, k);
        msg[l + k] = 0;
        strcat(msg, "' (kmalloc sizes are listed by slabinfo); ignored");
        warn(msg);
        cfg->matched[i] = true; /* said now, not again at exit */
    }
}
