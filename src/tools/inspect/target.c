/* Reading a live process or a core file (target.h). */
#include <dirent.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/procfs.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

#include "inspect/target.h"

static int add_map(struct target *t, const struct tgt_map *m)
{
    if (t->nmaps % 64 == 0) {
        void *n = realloc(t->maps, (size_t)(t->nmaps + 64) * sizeof(*t->maps));
        if (!n)
            return -1;
        t->maps = n;
    }
    t->maps[t->nmaps++] = *m;
    return 0;
}

static struct tgt_thread *add_thread(struct target *t, int tid)
{
    if (t->nthreads % 16 == 0) {
        void *n = realloc(t->threads, (size_t)(t->nthreads + 16) * sizeof(*t->threads));
        if (!n)
            return NULL;
        t->threads = n;
    }
    struct tgt_thread *th = &t->threads[t->nthreads++];
    memset(th, 0, sizeof(*th));
    th->tid = tid;
    return th;
}

static void init(struct target *t)
{
    memset(t, 0, sizeof(*t));
    t->fd = -1;
    t->file_fd = -1;
}

/* ---- live processes ------------------------------------------------------------ */

static const char *ptrace_scope(void)
{
    static char buf[16];
    int fd = open("/proc/sys/kernel/yama/ptrace_scope", O_RDONLY);
    if (fd < 0)
        return NULL;
    ssize_t n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return NULL;
    buf[n] = 0;
    buf[strcspn(buf, "\n")] = 0;
    return buf;
}

static void no_permission(struct target *t)
{
    const char *scope = ptrace_scope();
    snprintf(t->err, sizeof(t->err),
             "%s: no permission to read its memory (run as its user with ptrace allowed, or as "
             "root%s%s%s)",
             t->name, scope ? "; kernel.yama.ptrace_scope is " : "", scope ? scope : "",
             scope && strcmp(scope, "0") ? ": 0 lets a user read its own processes" : "");
}

int tgt_open_pid(struct target *t, int pid)
{
    init(t);
    t->kind = TGT_PID;
    t->pid = pid;
    snprintf(t->name, sizeof(t->name), "pid %d", pid);
    char path[64];
    snprintf(path, sizeof(path), "/proc/%d/maps", pid);
    FILE *f = pid > 0 ? fopen(path, "r") : NULL;
    if (!f) {
        if (pid <= 0 || errno == ENOENT)
            snprintf(t->err, sizeof(t->err), "%s: no such process", t->name);
        else if (errno == EACCES || errno == EPERM)
            no_permission(t);
        else
            snprintf(t->err, sizeof(t->err), "%s: %s: %s", t->name, path, strerror(errno));
        return -1;
    }
    char line[4096];
    while (fgets(line, sizeof(line), f)) {
        struct tgt_map m = {0};
        unsigned long long lo, hi, off;
        char perms[8];
        int pos = 0;
        if (sscanf(line, "%llx-%llx %7s %llx %*s %*s%n", &lo, &hi, perms, &off, &pos) < 4)
            continue;
        m.start = lo;
        m.end = hi;
        m.offset = off;
        m.readable = perms[0] == 'r';
        m.writable = perms[1] == 'w';
        const char *p = line + pos;
        while (*p == ' ')
            p++;
        snprintf(m.path, sizeof(m.path), "%s", p);
        m.path[strcspn(m.path, "\n")] = 0;
        if (add_map(t, &m) < 0)
            break;
    }
    fclose(f);
    if (!t->nmaps) {
        /* A zombie, or a kernel thread: nothing to read. */
        snprintf(t->err, sizeof(t->err), "%s: no memory to read (a zombie or a kernel thread)",
                 t->name);
        return -1;
    }
    /* Can we read it?  The first readable mapping tells. */
    for (int i = 0; i < t->nmaps; i++) {
        if (!t->maps[i].readable)
            continue;
        char b;
        struct iovec l = {&b, 1}, r = {(void *)(uintptr_t)t->maps[i].start, 1};
        if (process_vm_readv(pid, &l, 1, &r, 1, 0) == 1)
            break;
        if (errno == EPERM) {
            no_permission(t);
            return -1;
        }
        if (errno == ESRCH) {
            snprintf(t->err, sizeof(t->err), "%s: no such process", t->name);
            return -1;
        }
    }
    snprintf(path, sizeof(path), "/proc/%d/comm", pid);
    FILE *cf = fopen(path, "r");
    if (cf) {
        if (fgets(t->comm, sizeof(t->comm), cf))
            t->comm[strcspn(t->comm, "\n")] = 0;
        fclose(cf);
    }
    snprintf(path, sizeof(path), "/proc/%d/task", pid);
    DIR *d = opendir(path);
    if (d) {
        struct dirent *e;
        while ((e = readdir(d)))
            if (e->d_name[0] != '.')
                add_thread(t, atoi(e->d_name));
        closedir(d);
    }
    return 0;
}

static size_t pid_read(struct target *t, uint64_t addr, void *buf, size_t len)
{
    size_t done = 0;
    while (done < len) {
        struct iovec l = {(char *)buf + done, len - done};
        struct iovec r = {(void *)(uintptr_t)(addr + done), len - done};
        ssize_t n = process_vm_readv(t->pid, &l, 1, &r, 1, 0);
        if (n > 0) {
            done += (size_t)n;
            continue;
        }
        /* A partial read stops at a page boundary: try the rest page by
         * page until one fails. */
        size_t page = 4096 - ((addr + done) & 4095);
        if (page >= len - done)
            break;
        l.iov_len = r.iov_len = page;
        n = process_vm_readv(t->pid, &l, 1, &r, 1, 0);
        if (n <= 0)
            break;
        done += (size_t)n;
    }
    return done;
}

int tgt_pid_registers(struct target *t)
{
    int got = 0;
    for (int i = 0; i < t->nthreads; i++) {
        struct tgt_thread *th = &t->threads[i];
        if (ptrace(PTRACE_SEIZE, th->tid, 0, 0) != 0) {
            if (errno == EPERM)
                no_permission(t);
            else
                snprintf(t->err, sizeof(t->err), "%s: thread %d: ptrace: %s", t->name, th->tid,
                         strerror(errno));
            continue;
        }
        if (ptrace(PTRACE_INTERRUPT, th->tid, 0, 0) == 0) {
            int st;
            if (waitpid(th->tid, &st, __WALL) == th->tid &&
                ptrace(PTRACE_GETREGS, th->tid, 0, &th->regs) == 0) {
                th->has_regs = true;
                th->fs_base = th->regs.fs_base;
                got++;
            }
        }
        ptrace(PTRACE_DETACH, th->tid, 0, 0);
    }
    return got ? 0 : -1;
}

/* ---- core files ------------------------------------------------------------------ */

static const char *machine_name(unsigned m)
{
    switch (m) {
    case EM_386: return "i386";
    case EM_ARM: return "arm";
    case EM_AARCH64: return "aarch64";
    case EM_RISCV: return "riscv";
    case EM_PPC64: return "ppc64";
    case EM_S390: return "s390";
    case EM_X86_64: return "x86-64";
    default: return NULL;
    }
}

/* NT_FILE: count, page size, count * (start, end, page offset), names. */
static void parse_nt_file(struct target *t, const char *d, size_t n)
{
    if (n < 16)
        return;
    uint64_t count, page;
    memcpy(&count, d, 8);
    memcpy(&page, d + 8, 8);
    if (count > (n - 16) / 24)
        return;
    const char *names = d + 16 + count * 24, *end = d + n;
    for (uint64_t i = 0; i < count && names < end; i++) {
        struct tgt_map m = {0};
        uint64_t v[3];
        memcpy(v, d + 16 + i * 24, 24);
        size_t len = strnlen(names, (size_t)(end - names));
        m.start = v[0];
        m.end = v[1];
        m.offset = v[2] * page;
        m.readable = true;
        snprintf(m.path, sizeof(m.path), "%.*s", (int)len, names);
        names += len + 1;
        add_map(t, &m);
    }
}

static void parse_notes(struct target *t, Elf *e, const GElf_Phdr *ph)
{
    Elf_Data *data = elf_getdata_rawchunk(e, (int64_t)ph->p_offset, ph->p_filesz, ELF_T_NHDR);
    if (!data)
        return;
    size_t off = 0, name_off, desc_off;
    GElf_Nhdr nh;
    while ((off = gelf_getnote(data, off, &nh, &name_off, &desc_off)) > 0) {
        const char *desc = (const char *)data->d_buf + desc_off;
        const char *name = (const char *)data->d_buf + name_off;
        if (nh.n_namesz < 4 || strncmp(name, "CORE", 4))
            continue;
        if (nh.n_type == NT_PRSTATUS && nh.n_descsz >= sizeof(struct elf_prstatus)) {
            struct elf_prstatus ps;
            memcpy(&ps, desc, sizeof(ps));
            struct tgt_thread *th = add_thread(t, ps.pr_pid);
            if (th) {
                _Static_assert(sizeof(ps.pr_reg) == sizeof(th->regs), "x86-64 registers");
                memcpy(&th->regs, &ps.pr_reg, sizeof(th->regs));
                th->has_regs = true;
                th->fs_base = th->regs.fs_base;
            }
            if (t->nthreads == 1) {
                t->signo = ps.pr_cursig;
                t->pid = ps.pr_pid;
            }
        } else if (nh.n_type == NT_PRPSINFO && nh.n_descsz >= sizeof(struct elf_prpsinfo)) {
            struct elf_prpsinfo pi;
            memcpy(&pi, desc, sizeof(pi));
            snprintf(t->comm, sizeof(t->comm), "%.*s", (int)sizeof(pi.pr_fname), pi.pr_fname);
        } else if (nh.n_type == NT_FILE) {
            parse_nt_file(t, desc, nh.n_descsz);
        } else if (nh.n_type == NT_SIGINFO && nh.n_descsz >= sizeof(siginfo_t)) {
            siginfo_t si;
            memcpy(&si, desc, sizeof(si));
            if (si.si_signo == SIGSEGV || si.si_signo == SIGBUS || si.si_signo == SIGILL ||
                si.si_signo == SIGFPE) {
                t->has_fault_addr = true;
                t->fault_addr = (uint64_t)(uintptr_t)si.si_addr;
            }
        }
    }
}

int tgt_open_core(struct target *t, const char *path, const char *exe)
{
    init(t);
    t->kind = TGT_CORE;
    t->exe = exe;
    snprintf(t->name, sizeof(t->name), "%s", path);
    elf_version(EV_CURRENT);
    t->fd = open(path, O_RDONLY | O_CLOEXEC);
    if (t->fd < 0) {
        snprintf(t->err, sizeof(t->err), "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    fstat(t->fd, &st);
    t->file_size = (uint64_t)st.st_size;
    Elf *e = elf_begin(t->fd, ELF_C_READ_MMAP, NULL);
    t->elf = e;
    GElf_Ehdr eh;
    if (!e || elf_kind(e) != ELF_K_ELF || !gelf_getehdr(e, &eh)) {
        snprintf(t->err, sizeof(t->err), "%s: not an ELF file, so not a core file", path);
        return -1;
    }
    if (eh.e_type != ET_CORE) {
        snprintf(t->err, sizeof(t->err), "%s: an ELF file but not a core file (type %u)%s", path,
                 eh.e_type, eh.e_type == ET_EXEC || eh.e_type == ET_DYN ? "; give it as --exe" : "");
        return -1;
    }
    if (eh.e_machine != EM_X86_64 || gelf_getclass(e) != ELFCLASS64) {
        const char *m = machine_name(eh.e_machine);
        char num[32];
        snprintf(num, sizeof(num), "machine %u", eh.e_machine);
        snprintf(t->err, sizeof(t->err),
                 "%s: a core file of %s%s; this slabdbg reads x86-64 cores", path, m ? m : num,
                 gelf_getclass(e) == ELFCLASS32 ? " (32-bit)" : "");
        return -1;
    }
    size_t phnum;
    if (elf_getphdrnum(e, &phnum) != 0) {
        snprintf(t->err, sizeof(t->err), "%s: truncated core file (no program headers)", path);
        return -1;
    }
    t->loads = calloc(phnum ? phnum : 1, sizeof(*t->loads));
    uint64_t need = 0;
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(e, (int)i, &ph)) {
            snprintf(t->err, sizeof(t->err), "%s: truncated core file (program header %zu)", path,
                     i);
            return -1;
        }
        if (ph.p_filesz && ph.p_offset + ph.p_filesz > need)
            need = ph.p_offset + ph.p_filesz;
        if (ph.p_type == PT_LOAD)
            t->loads[t->nloads++] = (struct tgt_load){ph.p_vaddr, ph.p_memsz, ph.p_offset,
                                                       ph.p_filesz};
    }
    if (need > t->file_size) {
        snprintf(t->err, sizeof(t->err),
                 "%s: truncated core file (%llu bytes of %llu; was the dump cut short, or the disk "
                 "full?)",
                 path, (unsigned long long)t->file_size, (unsigned long long)need);
        return -1;
    }
    for (size_t i = 0; i < phnum; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_NOTE)
            parse_notes(t, e, &ph);
    }
    if (!t->nthreads) {
        snprintf(t->err, sizeof(t->err), "%s: core file without threads (no NT_PRSTATUS note)",
                 path);
        return -1;
    }
    return 0;
}

const char *tgt_file_path(const struct target *t, const char *path)
{
    if (t->exe && t->nmaps) {
        /* The program is the first file the core maps. */
        const char *base = strrchr(path, '/'), *ebase = strrchr(t->exe, '/');
        base = base ? base + 1 : path;
        ebase = ebase ? ebase + 1 : t->exe;
        if (!strcmp(path, t->maps[0].path) || !strcmp(base, ebase))
            return t->exe;
    }
    return path;
}

/* Reads what the core left out from the file mapped there. */
static size_t file_read(struct target *t, const struct tgt_map *m, uint64_t addr, void *buf,
                        size_t len)
{
    if (m->path[0] != '/')
        return 0;
    const char *path = tgt_file_path(t, m->path);
    if (strcmp(path, t->file_path)) {
        if (t->file_fd >= 0)
            close(t->file_fd);
        t->file_fd = open(path, O_RDONLY | O_CLOEXEC);
        snprintf(t->file_path, sizeof(t->file_path), "%s", path);
    }
    if (t->file_fd < 0)
        return 0;
    if (len > m->end - addr)
        len = (size_t)(m->end - addr);
    ssize_t n = pread(t->file_fd, buf, len, (off_t)(m->offset + (addr - m->start)));
    return n > 0 ? (size_t)n : 0;
}

static size_t core_read_some(struct target *t, uint64_t addr, void *buf, size_t len)
{
    for (int i = 0; i < t->nloads; i++) {
        const struct tgt_load *l = &t->loads[i];
        if (addr < l->vaddr || addr - l->vaddr >= l->memsz)
            continue;
        uint64_t in = addr - l->vaddr;
        if (in < l->filesz) {
            size_t n = len;
            if (n > l->filesz - in)
                n = (size_t)(l->filesz - in);
            ssize_t r = pread(t->fd, buf, n, (off_t)(l->offset + in));
            return r > 0 ? (size_t)r : 0;
        }
        /* Not dumped: the file mapped there has it (code, read-only data). */
        const struct tgt_map *m = tgt_map_of(t, addr);
        size_t n = len;
        if (n > l->memsz - in)
            n = (size_t)(l->memsz - in);
        return m ? file_read(t, m, addr, buf, n) : 0;
    }
    return 0;
}

size_t tgt_read(struct target *t, uint64_t addr, void *buf, size_t len)
{
    if (t->kind == TGT_PID)
        return pid_read(t, addr, buf, len);
    size_t done = 0;
    while (done < len) {
        size_t n = core_read_some(t, addr + done, (char *)buf + done, len - done);
        if (!n)
            break;
        done += n;
    }
    return done;
}

bool tgt_u64(struct target *t, uint64_t addr, uint64_t *v)
{
    return tgt_read_all(t, addr, v, 8);
}

const struct tgt_map *tgt_map_of(const struct target *t, uint64_t addr)
{
    for (int i = 0; i < t->nmaps; i++)
        if (addr >= t->maps[i].start && addr < t->maps[i].end)
            return &t->maps[i];
    return NULL;
}

void tgt_close(struct target *t)
{
    if (t->elf)
        elf_end(t->elf);
    if (t->fd >= 0)
        close(t->fd);
    if (t->file_fd >= 0)
        close(t->file_fd);
    free(t->loads);
    free(t->maps);
    free(t->threads);
    t->elf = NULL;
    t->fd = t->file_fd = -1;
    t->loads = NULL;
    t->maps = NULL;
    t->threads = NULL;
}
