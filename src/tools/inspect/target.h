/*
 * A target: the memory, mappings and threads of a live process (read with
 * process_vm_readv, the process keeps running) or of an ELF core file
 * (PT_LOAD segments; the mapped files NT_FILE names for what the core left
 * out, such as code; NT_PRSTATUS for each thread's registers).  Every
 * inspection command reads through this and nothing else, so each works
 * on a pid and on a core alike.
 */
#ifndef SLABDBG_INSPECT_TARGET_H
#define SLABDBG_INSPECT_TARGET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/user.h>

struct tgt_map {
    uint64_t start, end, offset; /* offset: in the file, bytes */
    bool readable, writable;
    char path[256]; /* "" for anonymous memory; "[stack]" and the like for the kernel's */
};

struct tgt_thread {
    int tid;
    bool has_regs;
    struct user_regs_struct regs;
    uint64_t fs_base;
};

struct tgt_load {
    uint64_t vaddr, memsz, offset, filesz;
};

enum tgt_kind { TGT_PID, TGT_CORE };

struct target {
    enum tgt_kind kind;
    int pid;
    char name[300]; /* "pid 123" or the core's path, for messages */
    char comm[64];  /* the program's name as the kernel keeps it */
    /* core */
    int fd;
    void *elf; /* Elf * */
    uint64_t file_size;
    struct tgt_load *loads;
    int nloads;
    const char *exe; /* --exe: the program, when the core's path for it does not do */
    int signo;       /* the signal that killed the process (core), 0 if unknown */
    bool has_fault_addr;
    uint64_t fault_addr; /* NT_SIGINFO si_addr */
    /* both */
    struct tgt_map *maps;
    int nmaps;
    struct tgt_thread *threads;
    int nthreads;
    int file_fd; /* cache of the last mapped file opened */
    char file_path[256];
    char err[512];
};

/* 0, or -1 with a one-line message in t->err. */
int tgt_open_pid(struct target *t, int pid);
int tgt_open_core(struct target *t, const char *path, const char *exe);
void tgt_close(struct target *t);
/* Bytes read at addr (fewer at an unreadable address; 0 if none). */
size_t tgt_read(struct target *t, uint64_t addr, void *buf, size_t len);
static inline bool tgt_read_all(struct target *t, uint64_t addr, void *buf, size_t len)
{
    return tgt_read(t, addr, buf, len) == len;
}
bool tgt_u64(struct target *t, uint64_t addr, uint64_t *v);
/* The mapping holding addr, or NULL. */
const struct tgt_map *tgt_map_of(const struct target *t, uint64_t addr);
/* The registers of every thread of a live process (stops it with ptrace
 * for the moment it takes); 0 or -1 with t->err. */
int tgt_pid_registers(struct target *t);
/* The path a mapped file of the target is read from here (--exe for the
 * program's own). */
const char *tgt_file_path(const struct target *t, const char *path);

#endif
