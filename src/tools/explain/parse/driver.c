/*
 * The parse driver (see parse.h): cleans lines, keeps interleaved printk
 * streams apart, and hands each line to the parser of the report open on
 * its stream or to the parser whose format the line begins.
 */
#include "parse/parse.h"

#include <stdlib.h>
#include <string.h>

/* Most specific first: ours before SLUB (both print "BUG cache (...):"),
 * the recognised-only reports last. */
static const struct ex_parser *const parsers[] = {
    &ex_parser_slabdbg_json, &ex_parser_kasan, &ex_parser_kfence, &ex_parser_slabdbg_guard,
    &ex_parser_slub,         &ex_parser_oops,  &ex_parser_crash_rd, &ex_parser_other,
};
#define NPARSERS (sizeof(parsers) / sizeof(parsers[0]))

#define STREAMS_MAX 8

struct stream {
    bool used;
    char id[16];
    unsigned long last; /* for reuse of the least recently used slot */
    const struct ex_parser *p;
    void *state;
};

struct ex_reader {
    struct ex_model *m;
    int input;
    int line_no;
    unsigned long tick;
    struct stream streams[STREAMS_MAX];
    char *buf;
};

void ex_src_init(struct ex_src *src, enum ex_format f, const struct ex_line *l)
{
    memset(src, 0, sizeof(*src));
    src->format = f;
    src->input = l->input;
    src->first_line = src->last_line = l->no;
    ex_copy_str(src->stream, sizeof(src->stream), l->stream);
}

void ex_mark_missing(struct ex_report *r, bool object_expected)
{
    if (!r->alloc.present && !r->free.present)
        r->missing |= MISS_TRACKS;
    if (!r->has_trace)
        r->missing |= MISS_TRACE;
    if (!r->has_object && object_expected)
        r->missing |= MISS_OBJECT;
}

static void stream_close(struct stream *s)
{
    if (s->p) {
        s->p->close(s->state);
        free(s->state);
    }
    s->p = NULL;
    s->state = NULL;
}

static struct stream *stream_for(struct ex_reader *r, const char *id)
{
    struct stream *lru = NULL, *free_slot = NULL;
    for (int i = 0; i < STREAMS_MAX; i++) {
        struct stream *s = &r->streams[i];
        if (s->used && !strcmp(s->id, id))
            return s;
        if (!s->used && !free_slot)
            free_slot = s;
        if (s->used && (!lru || s->last < lru->last))
            lru = s;
    }
    struct stream *s = free_slot ? free_slot : lru;
    stream_close(s);
    memset(s, 0, sizeof(*s));
    s->used = true;
    ex_copy_str(s->id, sizeof(s->id), id);
    return s;
}

/* The parser that begins a report at l, and how strongly. */
static const struct ex_parser *begins(const struct ex_line *l, enum ex_begin *how)
{
    *how = BEGIN_NO;
    if (!*l->text)
        return NULL;
    for (size_t i = 0; i < NPARSERS; i++) {
        enum ex_begin b = parsers[i]->begins(l);
        if (b != BEGIN_NO) {
            *how = b;
            return parsers[i];
        }
    }
    return NULL;
}

static void stream_open(struct ex_reader *r, struct stream *s, const struct ex_parser *p,
                        const struct ex_line *l)
{
    s->state = calloc(1, p->state_size);
    if (!s->state)
        return;
    if (!p->open(s->state, r->m, l)) {
        free(s->state);
        s->state = NULL;
        return;
    }
    s->p = p;
}

struct ex_reader *ex_reader_new(struct ex_model *m, const char *name)
{
    if (m->ninputs == EX_INPUTS_MAX)
        return NULL;
    struct ex_reader *r = calloc(1, sizeof(*r));
    if (!r)
        return NULL;
    r->buf = malloc(EX_LINE_MAX);
    if (!r->buf) {
        free(r);
        return NULL;
    }
    r->m = m;
    r->input = m->ninputs++;
    m->inputs[r->input].name = name;
    return r;
}

void ex_reader_line(struct ex_reader *r, const char *line)
{
    struct ex_line l;
    ex_copy_str(r->buf, EX_LINE_MAX, line);
    r->line_no++;
    r->m->inputs[r->input].lines = r->line_no;
    ex_clean_line(r->buf, &l);
    l.no = r->line_no;
    l.input = r->input;
    l.crash_session = r->m->crash_prompt_seen;
    struct stream *s = stream_for(r, l.stream);
    s->last = ++r->tick;
    enum ex_begin how;
    if (s->p) {
        switch (s->p->feed(s->state, &l)) {
        case FEED_TAKEN:
            return;
        case FEED_DONE:
            stream_close(s);
            return;
        case FEED_ENDED:
            stream_close(s);
            break;
        case FEED_IGNORED: {
            const struct ex_parser *p = begins(&l, &how);
            if (!p || how != BEGIN_STRONG)
                return;
            stream_close(s);
            stream_open(r, s, p, &l);
            return;
        }
        }
    }
    const struct ex_parser *p = begins(&l, &how);
    if (p)
        stream_open(r, s, p, &l);
}

void ex_reader_finish(struct ex_reader *r)
{
    if (!r)
        return;
    for (int i = 0; i < STREAMS_MAX; i++)
        stream_close(&r->streams[i]);
    ex_model_compact(r->m);
    free(r->buf);
    free(r);
}

void ex_read_stream(struct ex_model *m, FILE *f, const char *name)
{
    struct ex_reader *r = ex_reader_new(m, name);
    if (!r)
        return;
    char *line = malloc(EX_LINE_MAX);
    if (!line) {
        ex_reader_finish(r);
        return;
    }
    struct ex_input *in = &m->inputs[r->input];
    while (fgets(line, EX_LINE_MAX, f)) {
        size_t n = strlen(line);
        if (n == EX_LINE_MAX - 1 && line[n - 1] != '\n') {
            int c;
            in->cut_lines = true;
            while ((c = getc(f)) != EOF && c != '\n')
                ;
        }
        /* NUL bytes end a line early: the rest of it is not text anyway */
        line[strcspn(line, "\n")] = 0;
        ex_reader_line(r, line);
    }
    free(line);
    ex_reader_finish(r);
}

void ex_read_buffer(struct ex_model *m, const char *data, size_t size, const char *name)
{
    if (!size) {
        ex_reader_finish(ex_reader_new(m, name)); /* an empty input is still one */
        return;
    }
    FILE *f = fmemopen((void *)data, size, "r");
    if (!f)
        return;
    ex_read_stream(m, f, name);
    fclose(f);
}
