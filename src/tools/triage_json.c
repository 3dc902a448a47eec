/*
 * JSON lines for slabdbg triage, parsed with json-c:
 *   - our reports, one object per line (SLABDBG_OPTIONS json=FILE):
 *     "kind", "what", "cache", "reason", "signature", "pid", "host",
 *     "program", "time", and the stacks "alloc"."stack", "free"."stack",
 *     "found_by" (arrays of {"function": "f+0x1/0x2", ...});
 *   - records of journald's export (journalctl -o json): "MESSAGE" with
 *     "_HOSTNAME", "_PID", "_COMM", "SYSLOG_IDENTIFIER" and
 *     "__REALTIME_TIMESTAMP"; the message is a line of a text report (it
 *     goes to the text reader) or one of our JSON reports.
 */
#include <stdlib.h>
#include <string.h>

#include "tools/triage.h"

#include <json-c/json.h>

static const char *str_of(struct json_object *o, const char *key)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static void copy_str(char *dst, size_t size, const char *src)
{
    if (!src)
        return;
    size_t n = strlen(src);
    if (n >= size)
        n = size - 1;
    memcpy(dst, src, n);
    dst[n] = 0;
}

/* A number or a numeric string ("_PID": "4900"). */
static bool num_of(struct json_object *o, const char *key, int64_t *out)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, key, &v))
        return false;
    if (json_object_is_type(v, json_type_int)) {
        *out = json_object_get_int64(v);
        return true;
    }
    if (json_object_is_type(v, json_type_string)) {
        char *end;
        const char *s = json_object_get_string(v);
        long long x = strtoll(s, &end, 10);
        if (end != s && !*end) {
            *out = x;
            return true;
        }
    }
    return false;
}

/* "time": seconds since the epoch (a number; milliseconds or microseconds
 * when it is too large to be seconds) or an RFC 3339 string. */
static int64_t time_of(struct json_object *o)
{
    struct json_object *v;
    if (!json_object_object_get_ex(o, "time", &v) && !json_object_object_get_ex(o, "timestamp", &v))
        return 0;
    if (json_object_is_type(v, json_type_string))
        return triage_parse_iso_time(json_object_get_string(v), NULL);
    if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double))
        return 0;
    double t = json_object_get_double(v);
    if (!(t > 0 && t < 1e18)) /* NaN, negative, or beyond any clock */
        return 0;
    if (t > 1e14)
        return (int64_t)t; /* microseconds */
    if (t > 1e11)
        return (int64_t)(t * 1e3); /* milliseconds */
    return (int64_t)(t * 1e6);
}

/* The first frames of a stack (an array of {"function": ...} or of
 * strings). */
static void stack_of(struct json_object *arr, struct tr_stacks *st, int k)
{
    if (!arr || !json_object_is_type(arr, json_type_array))
        return;
    size_t n = json_object_array_length(arr);
    for (size_t i = 0; i < n && st->n[k] < TR_STACK_KEEP; i++) {
        struct json_object *f = json_object_array_get_idx(arr, i);
        const char *name = json_object_is_type(f, json_type_string) ? json_object_get_string(f)
                                                                    : str_of(f, "function");
        if (name)
            copy_str(st->f[k][st->n[k]++], TR_NAME, name);
    }
}

static void track_of(struct json_object *o, const char *key, struct tr_stacks *st, int k)
{
    struct json_object *t, *stack;
    if (!json_object_object_get_ex(o, key, &t) || !json_object_is_type(t, json_type_object))
        return;
    if (json_object_object_get_ex(t, "stack", &stack))
        stack_of(stack, st, k);
    if (!st->n[k] && str_of(t, "function"))
        copy_str(st->f[k][st->n[k]++], TR_NAME, str_of(t, "function"));
}

/* One of our reports; `meta` is what the transport said (may be empty). */
static void report_of(struct triage_groups *g, struct json_object *o, const char *line, size_t len,
                      const char *file, long line_no, const struct tr_meta *meta)
{
    struct triage_report r;
    memset(&r, 0, sizeof(r));
    struct tr_stacks st;
    memset(&st.n, 0, sizeof(st.n));
    copy_str(r.kind, sizeof(r.kind), str_of(o, "kind"));
    copy_str(r.what, sizeof(r.what), str_of(o, "what"));
    copy_str(r.cache, sizeof(r.cache), str_of(o, "cache"));
    copy_str(r.reason, sizeof(r.reason), str_of(o, "reason"));
    const char *sig = str_of(o, "signature");
    if (sig && *sig) {
        copy_str(r.signature, sizeof(r.signature), sig);
        r.signature_given = true;
    }
    r.meta = *meta;
    const char *host = str_of(o, "host");
    if (!host)
        host = str_of(o, "hostname");
    if (host)
        copy_str(r.meta.host, sizeof(r.meta.host), host);
    const char *prog = str_of(o, "program");
    if (!prog)
        prog = str_of(o, "comm");
    if (prog)
        copy_str(r.meta.program, sizeof(r.meta.program), prog);
    int64_t pid;
    if (num_of(o, "pid", &pid))
        r.meta.pid = pid;
    int64_t t = time_of(o);
    if (t) {
        r.meta.time_us = t;
        r.meta.time_source = TR_TIME_REPORT;
    }
    struct json_object *fb = NULL;
    json_object_object_get_ex(o, "found_by", &fb);
    stack_of(fb, &st, SLABDBG_SIG_FOUND_BY);
    track_of(o, "alloc", &st, SLABDBG_SIG_ALLOC);
    track_of(o, "free", &st, SLABDBG_SIG_FREE);
    r.file = file;
    r.line = line_no;
    r.example = line;
    r.example_len = len;
    r.example_json = true;
    triage_finish_report(&r, &st, false);
    triage_groups_add(g, &r);
}

static struct json_tokener *tok;

static void free_tokener(void)
{
    json_tokener_free(tok);
}

static struct json_object *parse(const char *line, size_t len)
{
    if (!tok) {
        tok = json_tokener_new();
        if (!tok)
            abort();
        atexit(free_tokener);
    }
    json_tokener_reset(tok);
    struct json_object *o = json_tokener_parse_ex(tok, line, (int)len);
    if (o && (json_tokener_get_error(tok) != json_tokener_success ||
              !json_object_is_type(o, json_type_object))) {
        json_object_put(o);
        return NULL;
    }
    return o;
}

bool triage_json_line(struct triage_groups *g, struct triage_text *text, const char *line,
                      size_t len, const char *file, long line_no, const struct tr_meta *file_meta)
{
    struct json_object *o = parse(line, len);
    if (!o)
        return false;
    struct tr_meta meta;
    memset(&meta, 0, sizeof(meta));
    const char *msg = str_of(o, "MESSAGE");
    if (str_of(o, "kind")) {
        if (file_meta && file_meta->time_us) {
            meta.time_us = file_meta->time_us;
            meta.time_source = TR_TIME_FILE;
        }
        report_of(g, o, line, len, file, line_no, &meta);
    } else if (msg) {
        copy_str(meta.host, sizeof(meta.host), str_of(o, "_HOSTNAME"));
        copy_str(meta.program, sizeof(meta.program), str_of(o, "_COMM"));
        int64_t v;
        if (num_of(o, "_PID", &v))
            meta.pid = v;
        if (num_of(o, "__REALTIME_TIMESTAMP", &v)) {
            meta.time_us = v;
            meta.time_source = TR_TIME_LOG;
        }
        const char *ident = str_of(o, "SYSLOG_IDENTIFIER");
        if (ident && !strcmp(ident, "kernel"))
            copy_str(meta.program, sizeof(meta.program), "kernel");
        struct json_object *inner = msg[0] == '{' ? parse(msg, strlen(msg)) : NULL;
        if (inner && str_of(inner, "kind"))
            report_of(g, inner, msg, strlen(msg), file, line_no, &meta);
        else
            triage_text_line(text, msg, &meta, line_no);
        json_object_put(inner);
    }
    json_object_put(o);
    return true;
}
