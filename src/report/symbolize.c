/*
 * The symbolizer (see symbolize.h): libdw's Dwfl for .symtab and line
 * tables, loaded on first use; dladdr1() for what libdw leaves unknown or
 * when it is not there.
 *
 * One Dwfl handle describes the objects the dynamic loader had loaded when
 * they were last reported.  The loader counts the objects it loads and
 * unloads (dl_phdr_info's dlpi_adds and dlpi_subs); when the count moved,
 * the objects are reported again before a lookup, so a library dlopen'ed
 * later is found and one dlclose'd is not named for whatever took its
 * place.  Objects reported again keep what libdw already read from them.
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <limits.h>
#include <link.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/auxv.h>
#include <sys/resource.h>
#include <unistd.h>

#include "base/lock.h"
#include "base/options.h"
#include "base/report_mode.h"
#include "report/symbolize.h"

#if !defined(SLABDBG_NO_LIBDW_SUPPORT) && __has_include(<elfutils/libdwfl.h>)
#define HAVE_LIBDWFL 1
#include <elfutils/libdwfl.h>
#include <gelf.h>
#else
#define HAVE_LIBDWFL 0
#endif

/* Everything below (the Dwfl handle, the module names) is under sym_lock. */
static pthread_mutex_t sym_lock = PTHREAD_MUTEX_INITIALIZER; /* lock order 3 (base/lock.h) */
/* This thread is inside symbolize_pc: a nested call (malloc called by libdw
 * reporting a bug) must not take sym_lock again. */
static __thread bool sym_busy;
static bool degraded_said;

/* ---------------------------------------------------------------------------
 * Small helpers.
 */
static void say_once(const char *line)
{
    if (degraded_said)
        return;
    degraded_said = true;
    ssize_t w = write(2, line, strlen(line));
    (void)w; /* nothing to do about a closed stderr */
}

/* Copies the beginning of src: function names keep their head. */
static void copy_head(char *dst, size_t size, const char *src)
{
    size_t len = strnlen(src, size - 1);
    memcpy(dst, src, len);
    dst[len] = '\0';
}

/* C++ names: the C++ runtime's __cxa_demangle, if the program has it
 * loaded (looked up, never loaded by us: a C program keeps its mangled-free
 * names and no libstdc++).  It allocates with the program's malloc: in the
 * symbolizer that is the report arena (report_enter), and its result goes
 * back through the same free the runtime binds to. */
/* The loader's count of objects loaded plus objects unloaded: it moves
 * whenever the list of objects changes.  The same in every entry. */
static bool loader_count(const struct dl_phdr_info *info, size_t size, unsigned long *gen)
{
    if (size < offsetof(struct dl_phdr_info, dlpi_subs) + sizeof(info->dlpi_subs))
        return false;
    *gen = info->dlpi_adds + info->dlpi_subs;
    return true;
}

static int loader_gen_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    loader_count(info, size, arg);
    return 1;
}

static unsigned long loader_gen(void)
{
    unsigned long gen = 0;
    dl_iterate_phdr(loader_gen_cb, &gen);
    return gen;
}

typedef char *(*cxa_demangle_fn)(const char *, char *, size_t *, int *);
static cxa_demangle_fn cxa_demangle;
static void (*cxa_free)(void *);
static unsigned long demangle_gen = ~0ul; /* loader generation of the last failed look-up */

static bool demangler(void)
{
    if (cxa_demangle)
        return true;
    unsigned long gen = loader_gen();
    if (gen == demangle_gen)
        return false;
    demangle_gen = gen;
    cxa_free = (void (*)(void *))dlsym(RTLD_DEFAULT, "free");
    if (cxa_free)
        cxa_demangle = (cxa_demangle_fn)dlsym(RTLD_DEFAULT, "__cxa_demangle");
    return cxa_demangle != NULL;
}

/* out->func = name, demangled when it is a C++ name ("_Z...") and
 * `demangle` (sym_lock held: the look-up state is shared). */
static void set_func(struct sym_info *out, const char *name, bool demangle)
{
    if (demangle && name[0] == '_' && name[1] == 'Z' && demangler()) {
        int status = -1;
        char *d = cxa_demangle(name, NULL, NULL, &status);
        if (d && status == 0)
            copy_head(out->func, sizeof(out->func), d);
        if (d)
            cxa_free(d);
        if (status == 0)
            return;
    }
    copy_head(out->func, sizeof(out->func), name);
}

/* Module names outlive the Dwfl module or link_map they come from (a report
 * may keep a sym_info of an object since unloaded), so each distinct name is
 * copied once and kept for the life of the process.  A process loads few
 * objects; a list is enough. */
struct module_name {
    struct module_name *next;
    char name[];
};
static struct module_name *module_names;

static const char *intern(const char *name)
{
    for (struct module_name *m = module_names; m; m = m->next)
        if (strcmp(m->name, name) == 0)
            return m->name;
    size_t len = strlen(name) + 1;
    struct module_name *m = malloc(sizeof(*m) + len);
    if (!m)
        return "?";
    memcpy(m->name, name, len);
    m->next = module_names;
    module_names = m;
    return m->name;
}

/* ---------------------------------------------------------------------------
 * dladdr1: exported symbols of the objects the dynamic loader knows.
 */

/* dladdr names the main program after argv[0], which may be relative or
 * not a path at all; /proc/self/exe is the file itself. */
static const char *main_program_path(const char *argv0)
{
    static char exe[PATH_MAX];
    if (!exe[0]) {
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        if (n <= 0)
            return argv0;
        exe[n] = '\0';
    }
    return exe;
}

/* Fills what is still unknown in *out.  `locked`: sym_lock is held, so
 * names may be interned; otherwise they point into the loader's link_map,
 * valid until the object is unloaded. */
static void dl_lookup(uintptr_t pc, struct sym_info *out, bool locked)
{
    Dl_info info;
    const ElfW(Sym) *sym = NULL;
    if (out->module && out->func[0])
        return;
    if (!dladdr1((void *)pc, &info, (void **)&sym, RTLD_DL_SYMENT))
        return;

    if (!out->module) {
        struct link_map *lm = NULL;
        const char *name = info.dli_fname;
        if (dladdr1((void *)pc, &info, (void **)&lm, RTLD_DL_LINKMAP) && lm) {
            out->module_base = lm->l_addr;
            if (!lm->l_name[0] && locked)
                name = main_program_path(name);
        } else {
            out->module_base = (uintptr_t)info.dli_fbase;
        }
        out->module = !name ? NULL : locked ? intern(name) : name;
    }

    /* The nearest exported symbol below pc is, for a static function, some
     * unrelated function: believe a symbol only if its size covers pc (one
     * without a size, only at its very address).  glibc's dladdr checks that
     * already; not every dynamic loader does. */
    if (!out->func[0] && sym && info.dli_sname && info.dli_saddr) {
        uintptr_t start = (uintptr_t)info.dli_saddr;
        if (pc == start || (pc > start && pc - start < sym->st_size)) {
            set_func(out, info.dli_sname, locked);
            out->offset = pc - start;
            out->size = sym->st_size;
        }
    }
}

/* ---------------------------------------------------------------------------
 * libdw.
 */
#if HAVE_LIBDWFL

#define NO_LIBDW_HINT                                                                              \
    ": stacks show exported symbols only (install libdw1 for static functions and file:line)\n"

/* The few libdw functions used, found with dlsym: the prototypes come from
 * the header, nothing links to the library. */
static struct {
    typeof(&dwfl_begin) begin;
    typeof(&dwfl_report_begin) report_begin;
    typeof(&dwfl_report_module) report_module;
    typeof(&dwfl_report_end) report_end;
    typeof(&dwfl_addrmodule) addrmodule;
    typeof(&dwfl_module_info) module_info;
    typeof(&dwfl_module_getelf) module_getelf;
    typeof(&dwfl_module_addrinfo) module_addrinfo;
    typeof(&dwfl_module_getsrc) module_getsrc;
    typeof(&dwfl_lineinfo) lineinfo;
    typeof(&dwfl_module_nextcu) module_nextcu;
    typeof(&dwarf_haspc) haspc;
    typeof(&dwarf_getsrc_die) getsrc_die;
    typeof(&dwarf_lineno) lineno;
    typeof(&dwarf_linesrc) linesrc;
    typeof(&dwfl_linux_proc_find_elf) proc_find_elf;
    typeof(&dwfl_build_id_find_debuginfo) build_id_find_debuginfo;
    /* libelf, under libdw (dlsym through its handle finds it). */
    typeof(&elf_getshdrstrndx) getshdrstrndx;
    typeof(&elf_nextscn) nextscn;
    typeof(&gelf_getshdr) getshdr;
    typeof(&elf_strptr) strptr;
} dw;

enum dw_state { DW_UNTRIED, DW_READY, DW_OFF };
static enum dw_state dw_state;
static Dwfl *dwfl;
static Dwfl_Callbacks dwfl_callbacks; /* the Dwfl keeps a pointer to it */
static char *debuginfo_path;          /* NULL: libdw's default search path */
static unsigned long loader_gen_reported;
/* The generation in which a miss already forced a report. */
static unsigned long loader_gen_forced = ULONG_MAX;

/* Copies the end of src: of a long path, the file name is what matters. */
static void copy_tail(char *dst, size_t size, const char *src)
{
    size_t len = strlen(src);
    if (len >= size) {
        src += len - (size - 1);
        len = size - 1;
    }
    memcpy(dst, src, len + 1);
}

static bool dl_knows(uintptr_t pc)
{
    Dl_info info;
    return dladdr((void *)pc, &info) != 0;
}

/* Returns the name of the first missing function, NULL if all were found. */
static const char *dw_load(void *h)
{
#define DW_SYM(field, name)                                                                        \
    do {                                                                                           \
        dw.field = (typeof(dw.field))dlsym(h, #name);                                              \
        if (!dw.field)                                                                             \
            return #name;                                                                          \
    } while (0)
    DW_SYM(begin, dwfl_begin);
    DW_SYM(report_begin, dwfl_report_begin);
    DW_SYM(report_module, dwfl_report_module);
    DW_SYM(report_end, dwfl_report_end);
    DW_SYM(addrmodule, dwfl_addrmodule);
    DW_SYM(module_info, dwfl_module_info);
    DW_SYM(module_getelf, dwfl_module_getelf);
    DW_SYM(module_addrinfo, dwfl_module_addrinfo);
    DW_SYM(module_getsrc, dwfl_module_getsrc);
    DW_SYM(lineinfo, dwfl_lineinfo);
    DW_SYM(module_nextcu, dwfl_module_nextcu);
    DW_SYM(haspc, dwarf_haspc);
    DW_SYM(getsrc_die, dwarf_getsrc_die);
    DW_SYM(lineno, dwarf_lineno);
    DW_SYM(linesrc, dwarf_linesrc);
    DW_SYM(proc_find_elf, dwfl_linux_proc_find_elf);
    DW_SYM(build_id_find_debuginfo, dwfl_build_id_find_debuginfo);
    DW_SYM(getshdrstrndx, elf_getshdrstrndx);
    DW_SYM(nextscn, elf_nextscn);
    DW_SYM(getshdr, gelf_getshdr);
    DW_SYM(strptr, elf_strptr);
#undef DW_SYM
    return NULL;
}

/* The file of a loaded object, as an absolute path (libdw opens only those),
 * or NULL for the vDSO, which has no file (dladdr1 names its symbols, all
 * exported). */
static const char *object_path(const struct dl_phdr_info *info, uintptr_t start, char *buf)
{
    if (!info->dlpi_name[0])
        return main_program_path(NULL);
    if (start == getauxval(AT_SYSINFO_EHDR))
        return NULL;
    if (info->dlpi_name[0] == '/')
        return info->dlpi_name;
    return realpath(info->dlpi_name, buf); /* dlopen("./libx.so") */
}

/* Reports one loaded object: the range of its PT_LOAD segments, the start
 * rounded down as libdw does when it derives the load bias from it, so the
 * bias is the loader's own (dlpi_addr). */
static void report_object(const struct dl_phdr_info *info)
{
    const ElfW(Phdr) *first = NULL;
    uintptr_t end = 0;
    for (size_t i = 0; i < info->dlpi_phnum; i++) {
        const ElfW(Phdr) *ph = &info->dlpi_phdr[i];
        if (ph->p_type != PT_LOAD)
            continue;
        if (!first)
            first = ph;
        if (ph->p_vaddr + ph->p_memsz > end)
            end = ph->p_vaddr + ph->p_memsz;
    }
    if (!first)
        return;
    uintptr_t align = first->p_align ? first->p_align : 1;
    uintptr_t start = info->dlpi_addr + (first->p_vaddr & ~(align - 1));

    char buf[PATH_MAX];
    const char *path = object_path(info, start, buf);
    if (path)
        dw.report_module(dwfl, path, start, info->dlpi_addr + end);
}

static int report_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    loader_count(info, size, arg);
    report_object(info);
    return 0;
}

/* (Re)reports the loaded objects to the Dwfl.  Objects not loaded any
 * more are dropped; the others keep the symbol and line tables libdw has
 * read.  The list comes from the loader, not /proc/self/maps: libdw's own
 * mappings of the files it reads show there too, and one right below the
 * object it maps (a library loaded again) would be taken for part of it.
 * The count is read in the same pass, under the loader's lock, so it
 * matches the list. */
static void dw_report(void)
{
    dw.report_begin(dwfl);
    dl_iterate_phdr(report_cb, &loader_gen_reported);
    dw.report_end(dwfl, NULL, NULL);
}

static void dw_off(const char *why)
{
    char line[256];
    snprintf(line, sizeof(line), "slabdbg: libdw.so.1 %s" NO_LIBDW_HINT, why);
    say_once(line);
    dw_state = DW_OFF;
}

/* SLABDBG_NO_LIBDW=1 (anything but empty or "0"): behave as if libdw.so.1
 * were not installed, to see or test what users without it get. */
static bool libdw_refused(void)
{
    const char *v = getenv("SLABDBG_NO_LIBDW");
    return v && v[0] && strcmp(v, "0") != 0;
}

/* The files libdw keeps open (a module's ELF file, its debug file) are the
 * program's business as much as ours: its descriptors must not change under
 * it.  Each is moved above the low numbers a program counts on (the next
 * open() returning 3, a loop over the first few), close-on-exec so that no
 * child inherits it. */
static int fd_aside(int fd)
{
    if (fd < 0)
        return fd;
    struct rlimit rl;
    int base = 512;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        rl.rlim_cur < 2 * (rlim_t)base)
        base = (int)(rl.rlim_cur / 2);
    int high = fd < base ? fcntl(fd, F_DUPFD_CLOEXEC, base) : -1;
    if (high < 0) {
        fcntl(fd, F_SETFD, FD_CLOEXEC);
        return fd;
    }
    close(fd);
    return high;
}

static int find_elf_aside(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base,
                          char **file_name, Elf **elfp)
{
    return fd_aside(dw.proc_find_elf(mod, userdata, modname, base, file_name, elfp));
}

static int find_debuginfo_aside(Dwfl_Module *mod, void **userdata, const char *modname,
                                Dwarf_Addr base, const char *file_name, const char *debuglink_file,
                                GElf_Word debuglink_crc, char **debuginfo_file_name)
{
    return fd_aside(dw.build_id_find_debuginfo(mod, userdata, modname, base, file_name,
                                               debuglink_file, debuglink_crc, debuginfo_file_name));
}

static void dw_start(void)
{
    void *h = libdw_refused() ? NULL : dlopen("libdw.so.1", RTLD_NOW | RTLD_LOCAL);
    if (!h) {
        dw_off("not found");
        return;
    }

    const char *missing = dw_load(h);
    if (missing) {
        char why[96];
        snprintf(why, sizeof(why), "lacks %s", missing);
        dlclose(h);
        dw_off(why);
        return;
    }
    dwfl_callbacks.find_elf = find_elf_aside;
    /* Separate debug information by build-id only (/usr/lib/debug/.build-id,
     * where distributions put it).  Not the standard callback: when that
     * finds nothing it loads libdebuginfod, whose dependencies' constructors
     * take the C library's locale lock; a report made from inside setlocale
     * (which allocates under that lock) would then corrupt it. */
    dwfl_callbacks.find_debuginfo = find_debuginfo_aside;
    dwfl_callbacks.debuginfo_path = &debuginfo_path;
    dwfl = dw.begin(&dwfl_callbacks);
    if (!dwfl) {
        dlclose(h);
        dw_off("failed to start (dwfl_begin)");
        return;
    }
    dw_report();
    dw_state = DW_READY;
}

/* dwfl_addrmodule has been seen to answer for an address above the last
 * module (the stack) with that module: only one whose range holds pc
 * counts. */
static Dwfl_Module *dw_addrmodule(uintptr_t pc)
{
    Dwfl_Module *mod = dw.addrmodule(dwfl, pc);
    Dwarf_Addr start, end;
    if (!mod || !dw.module_info(mod, NULL, &start, &end, NULL, NULL, NULL, NULL))
        return NULL;
    return pc >= start && pc < end ? mod : NULL;
}

/* The module containing pc.  The objects are reported again when the
 * loader's list moved (a library dlopen'ed or dlclose'd since), and, should
 * the count not tell (a C library without it), once per count on a miss for
 * an address the loader knows. */
static Dwfl_Module *dw_module(uintptr_t pc)
{
    unsigned long gen = loader_gen();
    if (gen != loader_gen_reported)
        dw_report();

    Dwfl_Module *mod = dw_addrmodule(pc);
    if (!mod && loader_gen_forced != gen && dl_knows(pc)) {
        loader_gen_forced = gen;
        dw_report();
        mod = dw_addrmodule(pc);
    }
    return mod;
}

/* Does the object's own file carry a line table (built with -g, not
 * stripped)?  Objects whose DWARF lives in a separate debug file (the C
 * library with its -dbg package) are named from their symbol table only,
 * unless debug_lines=1: libdw would decompress all of that file's DWARF
 * (some 15 MB for libc, most of a report's time and memory) for frames
 * nobody reads the lines of (__libc_start_main, start_thread).  The answer
 * is kept per file. */
static bool dw_own_lines(const char *module, Elf *elf)
{
    if (opt.debug_lines)
        return true;
    static struct {
        const char *module; /* interned: one pointer per file name */
        bool lines;
    } seen[64];
    static unsigned nseen;
    for (unsigned i = 0; i < nseen; i++)
        if (seen[i].module == module)
            return seen[i].lines;
    bool lines = false;
    size_t shstrndx;
    if (dw.getshdrstrndx(elf, &shstrndx) == 0) {
        for (Elf_Scn *scn = NULL; (scn = dw.nextscn(elf, scn)) != NULL;) {
            GElf_Shdr shdr;
            const char *name;
            if (dw.getshdr(scn, &shdr) && shdr.sh_type != SHT_NOBITS &&
                (name = dw.strptr(elf, shstrndx, shdr.sh_name)) && !strcmp(name, ".debug_line")) {
                lines = true;
                break;
            }
        }
    }
    if (nseen < sizeof(seen) / sizeof(seen[0])) {
        seen[nseen].module = module;
        seen[nseen].lines = lines;
        nseen++;
    }
    return lines;
}

/* The source line of pc, found through the module's line table. */
static const char *dw_line(Dwfl_Module *mod, uintptr_t pc, int *line)
{
    Dwfl_Line *l = dw.module_getsrc(mod, pc);
    return l ? dw.lineinfo(l, NULL, line, NULL, NULL, NULL) : NULL;
}

/* The same, looking through the compilation units for the one holding pc:
 * libdw before 0.191 finds the unit of an address through .debug_aranges
 * only, which clang does not emit (unless -gdwarf-aranges). */
static const char *dw_line_by_unit(Dwfl_Module *mod, uintptr_t pc, int *line)
{
    Dwarf_Addr bias;
    Dwarf_Die *cu = NULL;
    while ((cu = dw.module_nextcu(mod, cu, &bias))) {
        if (dw.haspc(cu, pc - bias) <= 0)
            continue;
        Dwarf_Line *l = dw.getsrc_die(cu, pc - bias);
        if (!l || dw.lineno(l, line) != 0)
            return NULL;
        return dw.linesrc(l, NULL, NULL);
    }
    return NULL;
}

/* Loads libdw now, from a safe place (the library constructor), rather
 * than at the first report, which may come from inside malloc called by a
 * C library function that holds a lock of its own: loading a library there
 * runs constructors that may need that lock. */
void symbolize_preload(void)
{
    /* In report mode, as at a report: what the loader and libdw allocate
     * lives in the report arena, apart from the program's heap, and is
     * neither traced (T would report from under sym_lock) nor failed (A
     * counts the program's calls only). */
    report_enter();
    lock(&sym_lock, LOCK_SYM);
    if (dw_state == DW_UNTRIED)
        dw_start();
    unlock(&sym_lock, LOCK_SYM);
    report_leave();
}

static void dw_lookup(uintptr_t pc, struct sym_info *out)
{
    if (dw_state == DW_UNTRIED)
        dw_start();
    if (dw_state != DW_READY)
        return;

    Dwfl_Module *mod = dw_module(pc);
    if (!mod)
        return;
    /* Without the module's ELF file, libdw knows nothing more than the
     * loader; dladdr1 then names the module. */
    Dwarf_Addr bias = 0;
    Elf *elf = dw.module_getelf(mod, &bias);
    if (!elf)
        return;
    const char *name = dw.module_info(mod, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    if (name) {
        out->module = intern(name);
        out->module_base = (uintptr_t)bias;
    }

    GElf_Off off = 0;
    GElf_Sym sym;
    const char *fn = dw.module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
    if (fn && fn[0]) {
        set_func(out, fn, true);
        out->offset = (uintptr_t)off;
        out->size = (uintptr_t)sym.st_size;
    }

    /* Line 0 marks code that belongs to no source line. */
    int line = 0;
    const char *file = NULL;
    if (out->module && dw_own_lines(out->module, elf)) {
        file = dw_line(mod, pc, &line);
        if (!file)
            file = dw_line_by_unit(mod, pc, &line);
    }
    if (file && file[0] && line > 0) {
        copy_tail(out->file, sizeof(out->file), file);
        out->line = line;
    }
}

#else /* !HAVE_LIBDWFL */

void symbolize_preload(void) {}

static void dw_lookup(uintptr_t pc, struct sym_info *out)
{
    (void)pc;
    (void)out;
    say_once("slabdbg: built without libdw support: stacks show exported symbols only\n");
}

#endif

/* ---------------------------------------------------------------------------
 * What was looked up, kept (sym_lock): a report names the same frames in
 * its allocation, free and finding stacks (main, __libc_start_main...), and
 * the next report names them again; libdw finds the symbol of an address
 * by a walk over the whole symbol table (libc's has 7000).  Direct-mapped;
 * an entry counts for the loader generation it was made in only.
 */
#define SYM_CACHE 64
_Static_assert((SYM_CACHE & (SYM_CACHE - 1)) == 0 && SYM_CACHE <= 64,
               "sym_slot() takes the top 6 bits of a hash");
static struct {
    uintptr_t pc;
    unsigned long gen;
    struct sym_info si;
} sym_cache[SYM_CACHE];

static unsigned sym_slot(uintptr_t pc)
{
    return (unsigned)((pc * 0x9e3779b97f4a7c15ull) >> 58) & (SYM_CACHE - 1);
}

/* ---------------------------------------------------------------------------
 * The interface.
 */
int symbolize_pc(uintptr_t pc, struct sym_info *out)
{
    memset(out, 0, sizeof(*out));
    out->pc = pc;
    if (sym_busy) {
        dl_lookup(pc, out, false);
        return out->module ? 0 : -1;
    }

    sym_busy = true;
    report_enter(); /* libdw's allocations go to the report arena */
    lock(&sym_lock, LOCK_SYM);
    unsigned long gen = loader_gen();
    unsigned slot = sym_slot(pc);
    if (sym_cache[slot].pc == pc && sym_cache[slot].gen == gen && pc) {
        *out = sym_cache[slot].si;
    } else {
        dw_lookup(pc, out);
        dl_lookup(pc, out, true);
        sym_cache[slot].pc = pc;
        sym_cache[slot].gen = gen;
        sym_cache[slot].si = *out;
    }
    unlock(&sym_lock, LOCK_SYM);
    report_leave();
    sym_busy = false;
    return out->module ? 0 : -1;
}

size_t sym_format(const struct sym_info *si, char *buf, size_t size)
{
    int n;
    if (si->func[0] && si->size)
        n = snprintf(buf, size, "%s+0x%" PRIxPTR "/0x%" PRIxPTR, si->func, si->offset, si->size);
    else if (si->func[0])
        n = snprintf(buf, size, "%s+0x%" PRIxPTR, si->func, si->offset);
    else if (si->module) {
        const char *slash = strrchr(si->module, '/');
        const char *base = slash ? slash + 1 : si->module;
        n = snprintf(buf, size, "%s+0x%" PRIxPTR, base, si->pc - si->module_base);
    } else
        n = snprintf(buf, size, "0x%" PRIxPTR, si->pc);

    if (n < 0) {
        if (size)
            buf[0] = '\0';
        return 0;
    }
    if ((size_t)n >= size)
        return size ? size - 1 : 0;
    return (size_t)n;
}

void symbolize_fork(enum fork_phase phase)
{
    fork_lock(&sym_lock, phase);
}
