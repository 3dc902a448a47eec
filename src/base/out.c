#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <string.h>
#include <sys/auxv.h>
#include <unistd.h>

#include "base/out.h"

void out_init(struct out *o, int fd)
{
    out_init_buffer(o, fd, o->small, sizeof(o->small));
}

void out_init_buffer(struct out *o, int fd, char *buf, size_t cap)
{
    o->fd = fd;
    o->len = 0;
    o->cap = cap;
    o->buf = buf;
    o->line_prefix = NULL;
}

void out_flush(struct out *o)
{
    size_t off = 0;
    while (off < o->len) {
        ssize_t w = write(o->fd, o->buf + off, o->len - off);
        if (w <= 0)
            break;
        off += (size_t)w;
    }
    o->len = 0;
}

void out_char(struct out *o, char c)
{
    if (o->len == o->cap)
        out_flush(o);
    if (o->line_prefix && o->len == 0)
        for (const char *p = o->line_prefix; *p && o->len < o->cap / 2; p++)
            o->buf[o->len++] = *p;
    if (o->line_prefix && c == '\n') {
        out_flush(o);
        return;
    }
    o->buf[o->len++] = c;
}

void out_str(struct out *o, const char *s)
{
    while (*s)
        out_char(o, *s++);
}

void out_strw(struct out *o, const char *s, int width)
{
    int n = 0;
    for (; *s; s++, n++)
        out_char(o, *s);
    do
        out_char(o, ' ');
    while (++n < width);
}

static int fmt_u64(char *tmp, uint64_t v, unsigned base)
{
    int n = 0;
    do {
        unsigned d = (unsigned)(v % base);
        tmp[n++] = (char)(d < 10 ? '0' + d : 'a' + d - 10);
        v /= base;
    } while (v);
    return n;
}

void out_u64(struct out *o, uint64_t v)
{
    out_u64w(o, v, 0);
}

void out_u64w(struct out *o, uint64_t v, int width)
{
    char tmp[24];
    int n = fmt_u64(tmp, v, 10);
    for (int i = n; i < width; i++)
        out_char(o, ' ');
    while (n)
        out_char(o, tmp[--n]);
}

void out_hex(struct out *o, uint64_t v)
{
    char tmp[24];
    int n = fmt_u64(tmp, v, 16);
    out_str(o, "0x");
    while (n)
        out_char(o, tmp[--n]);
}

void out_dest_path(const char *value, char *path, size_t size)
{
    size_t len = 0;
    for (const char *s = value; *s && len + 24 < size; s++) {
        if (s[0] == '%' && s[1] == 'p') {
            char tmp[24];
            int n = fmt_u64(tmp, (uint64_t)getpid(), 10);
            while (n)
                path[len++] = tmp[--n];
            s++;
        } else {
            path[len++] = *s;
        }
    }
    path[len] = 0;
}

int out_open_dest(const char *value)
{
    if (!value || !*value || !strcmp(value, "0"))
        return -1;
    if (!strcmp(value, "1") || !strcmp(value, "stderr"))
        return 2;
    if (getauxval(AT_SECURE))
        return -1; /* never write files named by the environment of a setuid program */
    char path[512];
    out_dest_path(value, path, sizeof(path));
    return open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
}

int out_open_syslog(void)
{
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX, .sun_path = "/dev/log"};
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

void out_program(char *buf, size_t size)
{
    const char *name = program_invocation_short_name;
    if (!name || !*name) {
        out_comm(buf, size);
        return;
    }
    size_t n = strnlen(name, size - 1);
    memcpy(buf, name, n);
    buf[n] = 0;
}

void out_comm(char *buf, size_t size)
{
    buf[0] = 0;
    int fd = open("/proc/self/comm", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return;
    ssize_t n = read(fd, buf, size - 1);
    close(fd);
    n = n < 0 ? 0 : n;
    while (n > 0 && buf[n - 1] == '\n')
        n--;
    buf[n] = 0;
}
