/*
 * A tiny formatter writing to a file descriptor through a fixed buffer.
 * The allocator's own output (statistics, reports) goes through it because
 * stdio may allocate, and allocating from inside the allocator is forbidden.
 */
#ifndef SLABDBG_REPORT_OUT_H
#define SLABDBG_REPORT_OUT_H

#include <stddef.h>
#include <stdint.h>

#include "base/common.h"
#include "slabdbg.h"

struct out {
    int fd;
    size_t len, cap;
    const char *line_prefix; /* if set: every line is written alone, behind it
                              * (one datagram per line, for syslog) */
    char *buf;
    char small[1024];
};

INTERNAL void out_init(struct out *o, int fd);
/* The same, writing through a larger buffer of the caller's: a report
 * that fits is written with one write(2), so reports of several threads
 * or processes appending to one file never interleave. */
INTERNAL void out_init_buffer(struct out *o, int fd, char *buf, size_t cap);
INTERNAL void out_flush(struct out *o);
INTERNAL void out_char(struct out *o, char c);
INTERNAL void out_str(struct out *o, const char *s);
/* Left-justified in `width` columns (at least one space follows). */
INTERNAL void out_strw(struct out *o, const char *s, int width);
INTERNAL void out_u64(struct out *o, uint64_t v);
/* Right-justified in `width` columns. */
INTERNAL void out_u64w(struct out *o, uint64_t v, int width);
INTERNAL void out_hex(struct out *o, uint64_t v); /* 0x... */
/* Opens the destination named by an option value: "1" or "stderr" is fd 2,
 * anything else a file path in which %p becomes the process id.  Returns -1
 * when nothing should be written (e.g. a file in a setuid process). */
INTERNAL int out_open_dest(const char *value);
/* The file path a destination value names (%p replaced by the pid). */
INTERNAL void out_dest_path(const char *value, char *path, size_t size);
/* This process's name (/proc/self/comm), "" if unknown. */
INTERNAL void out_comm(char *buf, size_t size);
/* This program's name, whole (comm is cut at 15 bytes): the last part of
 * argv[0], or comm when there is none. */
INTERNAL void out_program(char *buf, size_t size);
/* A datagram socket connected to the system log (/dev/log), or -1. */
INTERNAL int out_open_syslog(void);

#endif
