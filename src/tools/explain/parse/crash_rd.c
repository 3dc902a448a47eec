/*
 * crash(8) memory dumps: "crash> rd [-64|-32|-16|-8|-s] ADDR [COUNT]" and
 * its rows, words by address ("rd -s" prints symbols for words):
 *
 *   crash> rd 0xffff9612a277cc00 128
 *   ffff9612a277cc00:  21bd62ac2ee34ae2 ffff9612a277cc00   .J...b.!..w.....
 *
 * Rows start a dump without the prompt only in an input where the prompt
 * was seen, or with the exact row shape (an 8- or 16-digit address, two
 * spaces, words of 8 or 16 digits): KASAN's shadow rows (bytes), ARM's
 * exception stack rows (4-digit addresses) and boot lines never do.
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "parse/parse.h"

struct rd_state {
    struct ex_model *m;
    struct ex_dump *d; /* made at the first row: a command without output is no dump */
    struct ex_src src; /* where the dump began (the command or its first row) */
    bool has_cmd;
    uint64_t cmd_base;
    unsigned cmd_word_size;
    long long cmd_count;
    bool prompted; /* a crash prompt was seen before the dump began */
    int rows;
};

/* "crash> rd [-64|-32|-16|-8|-s|-x|-a...] ADDR [COUNT]" */
static void parse_rd_command(const char *s, struct rd_state *st)
{
    const char *p = strstr(s, "rd ") + 3;
    st->has_cmd = true;
    st->cmd_word_size = 8;
    st->cmd_count = -1;
    bool have_addr = false;
    while (*(p = ex_skip_ws(p))) {
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        size_t n = (size_t)(p - tok);
        if (tok[0] == '-') {
            if (n == 3 && !strncmp(tok, "-32", 3))
                st->cmd_word_size = 4;
            else if (n == 3 && !strncmp(tok, "-16", 3))
                st->cmd_word_size = 2;
            else if (n == 2 && !strncmp(tok, "-8", 2))
                st->cmd_word_size = 1;
            continue;
        }
        const char *q = tok;
        uint64_t v;
        long long c;
        if (!have_addr) {
            have_addr = true;
            if (ex_scan_hex(&q, &v) && q == p)
                st->cmd_base = v;
        } else if (ex_scan_dec(&q, &c) && q == p && c > 0) {
            st->cmd_count = c;
        }
    }
}

/* A word token: hex of the dump's width, or a symbol (rd -s). */
static bool word_token(const char *tok, size_t n, unsigned *word_size, struct ex_dump_word *w)
{
    memset(w, 0, sizeof(*w));
    bool hex = n > 0;
    for (size_t i = 0; i < n && hex; i++)
        hex = isxdigit((unsigned char)tok[i]);
    if (hex) {
        unsigned ws = n == 16 ? 8 : n == 8 ? 4 : n == 4 ? 2 : n == 2 ? 1 : 0;
        if (!ws || (*word_size && ws != *word_size))
            return false;
        *word_size = ws;
        const char *q = tok;
        if (!ex_scan_hex(&q, &w->value))
            return false;
        w->known = true;
        return true;
    }
    if (!(isalpha((unsigned char)tok[0]) || tok[0] == '_'))
        return false;
    for (size_t i = 0; i < n; i++)
        if (!(isalnum((unsigned char)tok[i]) || tok[i] == '_' || tok[i] == '.' || tok[i] == '+'))
            return false;
    ex_copy(w->sym, sizeof(w->sym), tok, n);
    return true;
}

/* "ffff9612a277cc00:  21bd62ac2ee34ae2 ffff9612a277cc00   .J...b.!..w.....":
 * the words of a row into words[], *addr its address; 0 if not a row. */
static int parse_row(const char *s, unsigned *word_size, uint64_t *addr,
                     struct ex_dump_word words[16], bool *gap2, int *addr_digits)
{
    const char *p = s;
    int digits = ex_hex_digits(p);
    if (digits < 4 || p[digits] != ':' || !ex_scan_hex(&p, addr))
        return 0;
    *addr_digits = digits;
    p++;
    *gap2 = p[0] == ' ' && p[1] == ' ';
    int n = 0;
    bool symbols = false;
    while (n < 16) {
        const char *before = p;
        p = ex_skip_ws(p);
        if (!*p)
            break;
        /* the ASCII column follows the words after a wider gap */
        if (n > 0 && p - before >= 2 && !symbols)
            break;
        const char *tok = p;
        while (*p && *p != ' ' && *p != '\t')
            p++;
        if (!word_token(tok, (size_t)(p - tok), word_size, &words[n]))
            break;
        if (!words[n].known)
            symbols = true;
        n++;
        if ((unsigned)n * (*word_size ? *word_size : 8) >= 16)
            break;
    }
    return n;
}

/* The exact shape of a row when no prompt was seen: an 8- or 16-digit
 * address, two spaces, at least two hex words of 8 or 16 digits. */
static bool exact_row(const char *s)
{
    unsigned ws = 0;
    uint64_t addr;
    struct ex_dump_word words[16];
    bool gap2;
    int digits;
    int n = parse_row(s, &ws, &addr, words, &gap2, &digits);
    return n >= 2 && gap2 && (digits == 8 || digits == 16) && (ws == 4 || ws == 8) &&
           words[0].known && words[1].known;
}

/* A row of a crash session (the prompt was seen): an 8- or 16-digit
 * address and words. */
static bool session_row(const char *s)
{
    unsigned ws = 0;
    uint64_t addr;
    struct ex_dump_word words[16];
    bool gap2;
    int digits;
    return parse_row(s, &ws, &addr, words, &gap2, &digits) >= 1 && (digits == 8 || digits == 16);
}

static enum ex_begin rd_begins(const struct ex_line *l)
{
    const char *s = l->text;
    if (ex_starts(s, "crash> "))
        return ex_starts(s, "crash> rd ") ? BEGIN_STRONG : BEGIN_NO;
    return exact_row(s) || (l->crash_session && session_row(s)) ? BEGIN_WEAK : BEGIN_NO;
}

enum row_fit { ROW_NO, ROW_TAKEN, ROW_FAR };

/* The words of a row into the dump; a row far from the dump's words
 * starts another dump. */
static enum row_fit add_row(struct ex_dump *d, const char *s, bool strict)
{
    uint64_t addr;
    struct ex_dump_word words[16];
    bool gap2;
    int digits;
    unsigned ws = d->word_size;
    int n = parse_row(s, &ws, &addr, words, &gap2, &digits);
    if (!n || (strict && !exact_row(s)) || (digits != 8 && digits != 16))
        return ROW_NO;
    if (!d->word_size)
        d->word_size = ws ? ws : 8;
    if (!d->nwords && !d->dropped && (!d->base || addr < d->base ||
                                      (addr - d->base) / d->word_size >= EX_DUMP_WORDS_MAX))
        d->base = addr;
    if (d->nwords && (addr < d->base || (addr - d->base) / d->word_size >= EX_DUMP_WORDS_MAX))
        return ROW_FAR;
    for (int i = 0; i < n; i++) {
        uint64_t a = addr + (uint64_t)i * d->word_size;
        if (a < d->base || (a - d->base) % d->word_size ||
            (a - d->base) / d->word_size >= EX_DUMP_WORDS_MAX) {
            d->dropped++;
            continue;
        }
        int idx = (int)((a - d->base) / d->word_size);
        d->words[idx] = words[i];
        if (idx + 1 > d->nwords)
            d->nwords = idx + 1;
    }
    return ROW_TAKEN;
}

/* The dump record, made when the first row comes; NULL when the model is full. */
static struct ex_dump *dump_of(struct rd_state *st)
{
    if (st->d)
        return st->d;
    st->d = ex_new_dump(st->m);
    if (!st->d)
        return NULL;
    st->d->src = st->src;
    st->d->count = -1;
    if (st->has_cmd) {
        st->d->base = st->cmd_base;
        st->d->word_size = st->cmd_word_size;
        st->d->count = st->cmd_count;
    }
    return st->d;
}

/* A row: into the dump, or not (ROW_NO, and ROW_FAR for a row of another). */
static enum row_fit take_row(struct rd_state *st, const struct ex_line *l)
{
    bool strict = !st->m->crash_prompt_seen;
    if (!st->d) {
        /* test the row on a scratch header before making the record */
        if (strict ? !exact_row(l->text) : !session_row(l->text))
            return ROW_NO;
    }
    struct ex_dump *d = dump_of(st);
    if (!d)
        return ROW_NO;
    enum row_fit fit = add_row(d, l->text, strict);
    if (fit == ROW_TAKEN) {
        d->src.last_line = l->no;
        st->rows++;
    }
    return fit;
}

static bool rd_open(void *state, struct ex_model *m, const struct ex_line *l)
{
    struct rd_state *st = state;
    st->m = m;
    ex_src_init(&st->src, FMT_CRASH_RD, l);
    st->prompted = m->crash_prompt_seen;
    if (ex_starts(l->text, "crash> ")) {
        m->crash_prompt_seen = st->prompted = true;
        parse_rd_command(l->text, st);
        return true;
    }
    take_row(st, l);
    return st->d != NULL;
}

static enum ex_feed rd_feed(void *state, const struct ex_line *l)
{
    struct rd_state *st = state;
    const char *s = l->text;
    if (ex_starts(s, "crash> ")) {
        st->m->crash_prompt_seen = true;
        return FEED_ENDED; /* the next command */
    }
    /* after a prompt, rows may follow a blank line or another command's output */
    if (!*s)
        return FEED_IGNORED;
    switch (take_row(st, l)) {
    case ROW_FAR:
        return FEED_ENDED;
    case ROW_NO:
        return st->rows ? FEED_ENDED : FEED_IGNORED;
    case ROW_TAKEN:
        break;
    }
    return FEED_TAKEN;
}

static void rd_close(void *state)
{
    struct rd_state *st = state;
    if (!st->d)
        return; /* a command without rows */
    /* without a crash prompt, one row is too little to call a dump */
    if (!st->d->nwords || (!st->prompted && st->rows < 2))
        st->d->src.discarded = true;
}

const struct ex_parser ex_parser_crash_rd = {
    .name = "crash-rd",
    .state_size = sizeof(struct rd_state),
    .begins = rd_begins,
    .open = rd_open,
    .feed = rd_feed,
    .close = rd_close,
};
