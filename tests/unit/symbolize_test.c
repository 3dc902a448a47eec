/*
 * Unit test of the symbolizer (src/report/symbolize.c, compiled in).
 *
 * Built with -g -O0 and -rdynamic: exported_work is in .dynsym, local_work
 * only in .symtab.  Checks, with libdw:
 *   - function entries: name, offset 0, size, file, line of the definition;
 *   - a return address (minus 1) names the caller and the line of the call;
 *   - an address in libc names libc and its write function;
 *   - a library dlopen'ed after the first lookup is found, static function
 *     and file:line included (the library has no .debug_aranges); once
 *     dlclose'd, its addresses are not named;
 *   - several threads at once get the same answers, while another one
 *     loads and unloads a library;
 *   - nothing is written to stderr;
 * and, in a child with SLABDBG_NO_LIBDW=1 (or a build without libdw
 * headers), the degraded mode: exported symbols only, module+offset for
 * the rest, no file:line, one line on stderr, once.
 */
#include <dlfcn.h>
#include <inttypes.h>
#include <link.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "report/symbolize.h"
#include "testutil.h"

#define NO_LIBDW_LINE                                                                              \
    "slabdbg: libdw.so.1 not found: stacks show exported symbols only (install libdw1 for "        \
    "static functions and file:line)\n"
#define NO_LIBDW_BUILD_LINE                                                                        \
    "slabdbg: built without libdw support: stacks show exported symbols only\n"

/* In this order (kept at -O0): the exported symbol nearest below local_work
 * is exported_work, which must not be given for it in the degraded mode. */
enum { EXPORTED_WORK_LINE = __LINE__ + 1 };
__attribute__((visibility("default"))) NOINLINE int exported_work(int x)
{
    return x * 5 + 1;
}

enum { LOCAL_WORK_LINE = __LINE__ + 1 };
static NOINLINE int local_work(int x)
{
    return exported_work(x) + 3;
}

static char exe_path[4096];

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

static int main_bias_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
    (void)size;
    *(uintptr_t *)arg = info->dlpi_addr;
    return 1; /* the first entry is the main program */
}

static uintptr_t main_bias(void)
{
    uintptr_t bias = 0;
    dl_iterate_phdr(main_bias_cb, &bias);
    return bias;
}

/* libc's own write, even when something (a sanitizer) interposes one. */
static uintptr_t libc_write(void)
{
    void *libc = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    void *p = libc ? dlsym(libc, "write") : dlsym(RTLD_DEFAULT, "write");
    REQUIRE(p != NULL, "dlsym(write) failed");
    if (libc)
        dlclose(libc);
    return (uintptr_t)p;
}

static NOINLINE uintptr_t my_return_address(void)
{
    return (uintptr_t)__builtin_return_address(0);
}

/* The return address of a call made on a known line, and that line. */
static NOINLINE uintptr_t call_site(int *line)
{
    uintptr_t ra = my_return_address();
    *line = __LINE__ - 1;
    return ra;
}

static void check_entry(const char *what, uintptr_t pc, const struct sym_info *si, const char *func,
                        int def_line, bool full)
{
    CHECK(si->pc == pc, "%s: pc %#" PRIxPTR, what, si->pc);
    CHECK(si->module && strcmp(si->module, exe_path) == 0, "%s: module %s, expected %s", what,
          si->module ? si->module : "(null)", exe_path);
    CHECK(si->module_base == main_bias(), "%s: module_base %#" PRIxPTR ", expected %#" PRIxPTR,
          what, si->module_base, main_bias());
    if (!full)
        return;
    CHECK(strcmp(si->func, func) == 0, "%s: func '%s'", what, si->func);
    CHECK(si->offset == 0, "%s: offset %#" PRIxPTR, what, si->offset);
    CHECK(si->size > 0 && si->size < 4096, "%s: size %#" PRIxPTR, what, si->size);
    CHECK(strcmp(base_name(si->file), "symbolize_test.c") == 0, "%s: file '%s'", what, si->file);
    CHECK(si->line >= def_line && si->line <= def_line + 1, "%s: line %d, defined at %d", what,
          si->line, def_line);

    char buf[256], want[256];
    size_t n = sym_format(si, buf, sizeof(buf));
    snprintf(want, sizeof(want), "%s+0x0/0x%" PRIxPTR, func, si->size);
    CHECK(strcmp(buf, want) == 0 && n == strlen(want), "%s: formatted '%s' (%zu)", what, buf, n);
}

static void check_libc_write(const struct sym_info *si, int rc)
{
    CHECK(rc == 0, "write: symbolize_pc returned %d", rc);
    CHECK(si->module && strstr(base_name(si->module), "libc"), "write: module %s",
          si->module ? si->module : "(null)");
    CHECK(strstr(si->func, "write") != NULL, "write: func '%s'", si->func);
    CHECK(si->offset == 0 && si->size > 0, "write: offset %#" PRIxPTR " size %#" PRIxPTR,
          si->offset, si->size);
}

/* Runs fn with fd 2 going to a temporary file; returns what was written. */
static char *capture_stderr(void (*fn)(void *), void *arg)
{
    static char text[4096];
    FILE *tmp = tmpfile();
    REQUIRE(tmp != NULL, "tmpfile failed");
    fflush(stderr);
    int saved = dup(2);
    REQUIRE(saved >= 0 && dup2(fileno(tmp), 2) == 2, "redirecting stderr failed");
    fn(arg);
    dup2(saved, 2);
    close(saved);
    rewind(tmp);
    size_t n = fread(text, 1, sizeof(text) - 1, tmp);
    text[n] = '\0';
    fclose(tmp);
    return text;
}

/* ------------------------------------------------------------ degraded mode */
struct degraded_results {
    struct sym_info exported, local, write;
    int rc_exported, rc_local, rc_write;
};

static void degraded_lookups(void *arg)
{
    struct degraded_results *r = arg;
    for (int i = 0; i < 3; i++) { /* the notice comes once */
        r->rc_exported = symbolize_pc((uintptr_t)&exported_work, &r->exported);
        r->rc_local = symbolize_pc((uintptr_t)&local_work + 4, &r->local);
        r->rc_write = symbolize_pc(libc_write(), &r->write);
    }
}

static int degraded_child(const char *expected_notice)
{
    test_name = "unit.symbolize (degraded)";
    struct degraded_results r;
    const char *err = capture_stderr(degraded_lookups, &r);
    CHECK(strcmp(err, expected_notice) == 0, "stderr was '%s'", err);

    CHECK(r.rc_exported == 0, "exported: rc %d", r.rc_exported);
    check_entry("exported (degraded)", (uintptr_t)&exported_work, &r.exported, NULL, 0, false);
    CHECK(strcmp(r.exported.func, "exported_work") == 0, "exported: func '%s'", r.exported.func);
    CHECK(r.exported.offset == 0 && r.exported.size > 0,
          "exported: offset/size %#" PRIxPTR "/%#" PRIxPTR, r.exported.offset, r.exported.size);
    CHECK(r.exported.file[0] == '\0' && r.exported.line == 0, "exported: file:line %s:%d",
          r.exported.file, r.exported.line);

    /* A static function: not named at all rather than named wrongly. */
    CHECK(r.rc_local == 0, "local: rc %d", r.rc_local);
    check_entry("local (degraded)", (uintptr_t)&local_work + 4, &r.local, NULL, 0, false);
    CHECK(r.local.func[0] == '\0', "local: func '%s'", r.local.func);
    char buf[256], want[256];
    sym_format(&r.local, buf, sizeof(buf));
    snprintf(want, sizeof(want), "%s+0x%" PRIxPTR, base_name(exe_path),
             (uintptr_t)&local_work + 4 - main_bias());
    CHECK(strcmp(buf, want) == 0, "local: formatted '%s', expected '%s'", buf, want);

    check_libc_write(&r.write, r.rc_write);
    return test_finish();
}

static void run_degraded(const char *expected_notice, bool set_env)
{
    fflush(NULL);
    pid_t pid = fork();
    REQUIRE(pid >= 0, "fork failed");
    if (pid == 0) {
        if (set_env)
            setenv("SLABDBG_NO_LIBDW", "1", 1);
        _exit(degraded_child(expected_notice));
    }
    int status = 0;
    REQUIRE(waitpid(pid, &status, 0) == pid, "waitpid failed");
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "degraded-mode child failed (%#x)",
          status);
}

/* ------------------------------------------------------------- full mode */
static struct sym_info ref_local, ref_exported, ref_write, ref_call;
static uintptr_t call_ra;

static void first_lookup(void *arg)
{
    int *rc = arg;
    *rc = symbolize_pc((uintptr_t)&local_work, &ref_local);
}

static void test_functions(void)
{
    int rc = -1;
    const char *err = capture_stderr(first_lookup, &rc);
    CHECK(err[0] == '\0', "stderr was '%s'", err);
    CHECK(rc == 0, "local: rc %d", rc);
    check_entry("local", (uintptr_t)&local_work, &ref_local, "local_work", LOCAL_WORK_LINE, true);

    rc = symbolize_pc((uintptr_t)&exported_work, &ref_exported);
    CHECK(rc == 0, "exported: rc %d", rc);
    check_entry("exported", (uintptr_t)&exported_work, &ref_exported, "exported_work",
                EXPORTED_WORK_LINE, true);

    /* Inside a function: same symbol, the offset moves. */
    struct sym_info si;
    symbolize_pc((uintptr_t)&local_work + 3, &si);
    CHECK(strcmp(si.func, "local_work") == 0 && si.offset == 3 && si.size == ref_local.size,
          "local+3: %s+%#" PRIxPTR "/%#" PRIxPTR, si.func, si.offset, si.size);
}

static void test_return_address(void)
{
    int line = 0;
    call_ra = call_site(&line);
    int rc = symbolize_pc(call_ra - 1, &ref_call);
    CHECK(rc == 0, "return address: rc %d", rc);
    CHECK(strcmp(ref_call.func, "call_site") == 0, "return address: func '%s'", ref_call.func);
    CHECK(ref_call.offset > 0 && ref_call.offset < ref_call.size,
          "return address: offset %#" PRIxPTR " size %#" PRIxPTR, ref_call.offset, ref_call.size);
    CHECK(strcmp(base_name(ref_call.file), "symbolize_test.c") == 0, "return address: file '%s'",
          ref_call.file);
    CHECK(ref_call.line == line, "return address: line %d, call on line %d", ref_call.line, line);
}

static void test_libc(void)
{
    check_libc_write(&ref_write, symbolize_pc(libc_write(), &ref_write));

    /* The address the program itself takes (through the GOT when PIE). */
    struct sym_info si;
    int rc = symbolize_pc((uintptr_t)&write, &si);
    CHECK(rc == 0 && si.module != NULL, "&write: rc %d", rc);
    if ((uintptr_t)&write == libc_write())
        check_libc_write(&si, rc);
}

/* dlopen's the test's shared object; returns its static function's address
 * and the line of its definition. */
static uintptr_t dso_open(void **h, int *line)
{
    *h = dlopen(SYMBOLIZE_TEST_DSO, RTLD_NOW | RTLD_LOCAL);
    REQUIRE(*h != NULL, "dlopen %s: %s", SYMBOLIZE_TEST_DSO, dlerror());
    void *sym = dlsym(*h, "symbolize_dso_probe");
    REQUIRE(sym != NULL, "dlsym(symbolize_dso_probe) failed");
    uintptr_t (*probe)(int *);
    memcpy(&probe, &sym, sizeof(probe));
    return probe(line);
}

static void test_dlopen_later(void)
{
    void *h;
    int line = 0;
    uintptr_t pc = dso_open(&h, &line);

    struct sym_info si;
    int rc = symbolize_pc(pc, &si);
    CHECK(rc == 0, "dso: rc %d", rc);
    CHECK(si.module && strcmp(base_name(si.module), base_name(SYMBOLIZE_TEST_DSO)) == 0,
          "dso: module %s", si.module ? si.module : "(null)");
    CHECK(strcmp(si.func, "dso_local_helper") == 0 && si.offset == 0 && si.size > 0,
          "dso: %s+%#" PRIxPTR "/%#" PRIxPTR, si.func, si.offset, si.size);
    CHECK(strcmp(base_name(si.file), "symbolize_dso.c") == 0, "dso: file '%s'", si.file);
    CHECK(si.line >= line && si.line <= line + 1, "dso: line %d, defined at %d", si.line, line);

    /* Unloaded: the old address is named no more, the old answer stays
     * readable. */
    struct sym_info kept = si;
    dlclose(h);
    rc = symbolize_pc(pc, &si);
    CHECK(strcmp(si.func, "dso_local_helper") != 0, "after dlclose: still named %s (rc %d)",
          si.func, rc);
    CHECK(kept.module && strcmp(base_name(kept.module), base_name(SYMBOLIZE_TEST_DSO)) == 0,
          "kept module name damaged");

    /* And loaded again. */
    pc = dso_open(&h, &line);
    rc = symbolize_pc(pc, &si);
    CHECK(rc == 0 && strcmp(si.func, "dso_local_helper") == 0 && si.line > 0,
          "dso reloaded: rc %d func '%s' line %d", rc, si.func, si.line);
    dlclose(h);
}

static void test_format(void)
{
    struct sym_info si;
    char buf[64];
    memset(&si, 0, sizeof(si));
    si.pc = 0x1234;
    CHECK(sym_format(&si, buf, sizeof(buf)) == 6 && strcmp(buf, "0x1234") == 0, "'%s'", buf);

    si.module = "/some/dir/libthing.so.2";
    si.module_base = 0x1000;
    sym_format(&si, buf, sizeof(buf));
    CHECK(strcmp(buf, "libthing.so.2+0x234") == 0, "'%s'", buf);

    strcpy(si.func, "thing_do");
    si.offset = 0x2b;
    sym_format(&si, buf, sizeof(buf));
    CHECK(strcmp(buf, "thing_do+0x2b") == 0, "'%s'", buf);

    si.size = 0x70;
    CHECK(sym_format(&si, buf, sizeof(buf)) == 18 && strcmp(buf, "thing_do+0x2b/0x70") == 0, "'%s'",
          buf);
    CHECK(sym_format(&si, buf, 6) == 5 && strcmp(buf, "thing") == 0, "truncated: '%s'", buf);
    CHECK(sym_format(&si, buf, 0) == 0, "size 0");

    CHECK(symbolize_pc(0, &si) == -1 && si.module == NULL && si.func[0] == '\0', "pc 0");
    sym_format(&si, buf, sizeof(buf));
    CHECK(strcmp(buf, "0x0") == 0, "pc 0: '%s'", buf);
}

/* Addresses in no module: the stack (above every module, where libdw's
 * lookup alone would name the last one) and the heap (between modules). */
static void test_misses(void)
{
    volatile int on_stack = 0;
    struct sym_info si;
    int rc = symbolize_pc((uintptr_t)&on_stack, &si);
    CHECK(rc == -1 && si.module == NULL && si.func[0] == '\0', "stack: rc %d module %s func '%s'",
          rc, si.module ? si.module : "(null)", si.func);

    void *p = malloc(64);
    rc = symbolize_pc((uintptr_t)p, &si);
    CHECK(rc == -1 && si.module == NULL, "heap: rc %d module %s", rc,
          si.module ? si.module : "(null)");
    free(p);
}

/* --------------------------------------------------------------- threads */
enum { THREADS = 8, ROUNDS = 300 };

static bool same(const struct sym_info *a, const struct sym_info *b)
{
    return a->module == b->module && a->module_base == b->module_base &&
           strcmp(a->func, b->func) == 0 && a->offset == b->offset && a->size == b->size &&
           strcmp(a->file, b->file) == 0 && a->line == b->line;
}

static void *thread_main(void *arg)
{
    (void)arg;
    long bad = 0;
    for (int i = 0; i < ROUNDS; i++) {
        struct sym_info si;
        symbolize_pc((uintptr_t)&local_work, &si);
        bad += !same(&si, &ref_local);
        symbolize_pc((uintptr_t)&exported_work, &si);
        bad += !same(&si, &ref_exported);
        symbolize_pc(libc_write(), &si);
        bad += !same(&si, &ref_write);
        symbolize_pc(call_ra - 1, &si);
        bad += !same(&si, &ref_call);
    }
    return (void *)bad;
}

/* Loads and unloads the shared object meanwhile: the other threads' lookups
 * run into reports of the module list. */
static void *churn_main(void *arg)
{
    (void)arg;
    long bad = 0;
    for (int i = 0; i < ROUNDS / 5; i++) {
        void *h;
        int line;
        struct sym_info si;
        uintptr_t pc = dso_open(&h, &line);
        symbolize_pc(pc, &si);
        bad += strcmp(si.func, "dso_local_helper") != 0 || si.line < line;
        dlclose(h);
    }
    return (void *)bad;
}

static void test_threads(void)
{
    pthread_t t[THREADS + 1];
    for (int i = 0; i <= THREADS; i++)
        REQUIRE(pthread_create(&t[i], NULL, i < THREADS ? thread_main : churn_main, NULL) == 0,
                "pthread_create failed");
    for (int i = 0; i <= THREADS; i++) {
        void *bad;
        pthread_join(t[i], &bad);
        CHECK(bad == NULL, "thread %d: %ld different answers", i, (long)(intptr_t)bad);
    }
}

int main(void)
{
    test_begin("unit.symbolize");
    ssize_t n = readlink("/proc/self/exe", exe_path, sizeof(exe_path) - 1);
    REQUIRE(n > 0, "readlink /proc/self/exe failed");
    exe_path[n] = '\0';

#ifdef SYMBOLIZE_TEST_NO_LIBDW_BUILD
    const bool libdw_build = false;
#else
    const bool libdw_build = true;
#endif
    if (libdw_build) {
        /* Before any lookup here: the child starts from a fresh symbolizer. */
        run_degraded(NO_LIBDW_LINE, true);
        test_functions();
        test_return_address();
        test_libc();
        test_dlopen_later();
        test_threads();
    } else {
        /* Built without libdw headers: the degraded mode is all there is. */
        run_degraded(NO_LIBDW_BUILD_LINE, false);
    }
    test_format();
    test_misses();
    return test_finish();
}
