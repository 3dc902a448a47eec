/*
 * Tests of src/tools/srcscan.c: constants equal to a value and the
 * statements assigning them, on the seed example and on src_fixture/.
 *
 *   test_tools_srcscan SEED_SOURCE_DIR FIXTURE_DIR TMPDIR
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "analyze/srcscan.h"
#include "testutil.h"

#define MAXC 32
#define MAXA 64

static struct src_const consts[MAXC];
static struct src_assign assigns[MAXA];
static int nc, na;

static void scan(const char *dir, uint64_t value, const char *field)
{
    char err[256] = "";
    memset(consts, 0, sizeof(consts));
    memset(assigns, 0, sizeof(assigns));
    nc = na = -1;
    int r = src_scan(dir, value, field, consts, MAXC, &nc, assigns, MAXA, &na, err, sizeof(err));
    CHECK(r == 0, "src_scan %s 0x%llx: %s", dir, (unsigned long long)value, err);
    printf("%s 0x%llx %s:\n", dir, (unsigned long long)value, field ? field : "-");
    for (int i = 0; i < nc; i++)
        printf("  %-8s %-22s %s:%d\n", consts[i].kind, consts[i].name, consts[i].file,
               consts[i].line);
    for (int i = 0; i < na; i++)
        printf("  %s:%d %s() %s%s\n", assigns[i].file, assigns[i].line, assigns[i].function,
               assigns[i].text, assigns[i].same_field ? "  [same field]" : "");
}

static int ends_with(const char *s, const char *tail)
{
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcmp(s + a - b, tail) && (a == b || s[a - b - 1] == '/');
}

static const struct src_const *find_const(const char *name)
{
    for (int i = 0; i < nc; i++)
        if (!strcmp(consts[i].name, name))
            return &consts[i];
    return NULL;
}

static const struct src_assign *find_assign(const char *function, const char *constant, int nth)
{
    for (int i = 0; i < na; i++)
        if (!strcmp(assigns[i].function, function) && !strcmp(assigns[i].constant, constant) &&
            !nth--)
            return &assigns[i];
    return NULL;
}

/* The line of the nth line (from 0) of file containing text, 0 if none. */
static int line_of(const char *file, const char *text, int nth)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return 0;
    char buf[4096];
    int line = 0, found = 0;
    while (fgets(buf, sizeof(buf), f)) {
        line++;
        if (strstr(buf, text) && !nth--) {
            found = line;
            break;
        }
    }
    fclose(f);
    return found;
}

static void check_const(const char *name, const char *kind, const char *file, const char *dir,
                        const char *text)
{
    const struct src_const *c = find_const(name);
    CHECK(c, "constant %s not found", name);
    if (!c)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    CHECK(!strcmp(c->kind, kind), "%s: kind %s, expected %s", name, c->kind, kind);
    CHECK(ends_with(c->file, file), "%s: file %s, expected %s", name, c->file, file);
    int want = line_of(path, text, 0);
    CHECK(want && c->line == want, "%s: line %d, expected %d", name, c->line, want);
}

static void check_assign(const char *dir, const char *file, const char *function,
                         const char *constant, int nth, int same_field, const char *text,
                         int occurrence)
{
    const struct src_assign *a = find_assign(function, constant, nth);
    CHECK(a, "assignment of %s in %s (#%d) not found", constant, function, nth);
    if (!a)
        return;
    char path[4096];
    snprintf(path, sizeof(path), "%s/%s", dir, file);
    CHECK(ends_with(a->file, file), "%s in %s: file %s", constant, function, a->file);
    CHECK(a->same_field == same_field, "%s in %s: same_field %d", constant, function,
          a->same_field);
    CHECK(!strcmp(a->text, text), "%s in %s: text '%s', expected '%s'", constant, function, a->text,
          text);
    int want = line_of(path, text, occurrence);
    CHECK(want && a->line == want, "%s in %s: line %d, expected %d", constant, function, a->line,
          want);
}

static void test_seed(const char *seed)
{
    scan(seed, 0x106, "phase");
    CHECK(nc == 1, "%d constants equal to 0x106", nc);
    check_const("DRV_OWNER_FIRMWARE", "define", "drv.h", seed, "#define DRV_OWNER_FIRMWARE 0x106");
    CHECK(na == 2, "%d assignments", na);
    check_assign(seed, "drv.c", "drv_queuecommand", "DRV_OWNER_FIRMWARE", 0, 1,
                 "cmd->SCp.phase = DRV_OWNER_FIRMWARE;", 0);
    check_assign(seed, "drv.c", "drv_fib_complete", "DRV_OWNER_FIRMWARE", 0, 1,
                 "cmd->SCp.phase = DRV_OWNER_FIRMWARE;", 1);
    /* file, then line */
    if (na == 2)
        CHECK(assigns[0].line < assigns[1].line, "not in line order");

    /* without a field: the same, none marked */
    scan(seed, 0x106, NULL);
    CHECK(na == 2 && !assigns[0].same_field && !assigns[1].same_field,
          "same_field without a field");

    scan(seed, 0x105, "phase");
    CHECK(nc == 0 && na == 0, "0x105: %d constants, %d assignments", nc, na);

    /* another field name: found, not marked */
    scan(seed, 0x101, "state");
    CHECK(nc == 1 && na == 1 && !assigns[0].same_field, "0x101: %d, %d", nc, na);

    /* a trailing slash, and a file instead of a directory */
    char dir[4096];
    snprintf(dir, sizeof(dir), "%s/", seed);
    scan(dir, 0x106, "phase");
    CHECK(nc == 1 && na == 2, "with a trailing slash: %d, %d", nc, na);
    if (nc == 1)
        CHECK(!strstr(consts[0].file, "//"), "file %s", consts[0].file);
    snprintf(dir, sizeof(dir), "%s/drv.h", seed);
    scan(dir, 0x106, "phase");
    CHECK(nc == 1 && na == 0, "one file: %d, %d", nc, na);

    /* limits: fewer slots than results */
    char err[256];
    int n1 = -1, n2 = -1;
    CHECK(src_scan(seed, 0x106, "phase", consts, 1, &n1, assigns, 1, &n2, err, sizeof(err)) == 0 &&
              n1 == 1 && n2 == 1,
          "limits: %d %d", n1, n2);
    CHECK(src_scan("/nonexistent/dir", 0x106, NULL, consts, MAXC, &n1, assigns, MAXA, &n2, err,
                   sizeof(err)) == -1 &&
              strstr(err, "/nonexistent/dir"),
          "missing directory: %s", err);
}

static void test_fixture(const char *fx)
{
    const char *h = "owner.h", *c = "sub/dir/fw.c";
    scan(fx, 0x106, "phase");
    check_const("OWNER_FIRMWARE", "enum", h, fx, "OWNER_FIRMWARE, /*");
    check_const("FW_MAGIC", "const", h, fx, "FW_MAGIC = 0x106u");
    check_const("FW_SHIFTED", "define", h, fx, "#define FW_SHIFTED");
    check_const("FW_CAST", "define", h, fx, "#define FW_CAST");
    check_const("FW_OCTAL", "define", h, fx, "#define FW_OCTAL");
    CHECK(!find_const("FW_FUNC"), "a function-like macro taken");
    CHECK(!find_const("IN_COMMENT"), "a commented-out define taken");
    CHECK(!find_const("NOT_IT") && !find_const("NOT_A_NUMBER") && !find_const("fw_name"),
          "wrong constants taken");
    CHECK(nc == 5, "%d constants", nc);
    /* those assigned to the field first */
    if (nc >= 2)
        CHECK(!strcmp(consts[0].name, "OWNER_FIRMWARE") && !strcmp(consts[1].name, "FW_SHIFTED"),
              "constant order: %s, %s", consts[0].name, consts[1].name);

    check_assign(fx, c, "set", "OWNER_FIRMWARE", 0, 1, "c->SCp.phase = OWNER_FIRMWARE;", 0);
    check_assign(fx, c, "set", "FW_MAGIC", 0, 0, "c->state |= FW_MAGIC;", 0);
    check_assign(fx, c, "other", "FW_SHIFTED", 0, 1, "int phase = FW_SHIFTED;", 0);
    check_assign(fx, c, "other", "FW_CAST", 0, 0, ".state = FW_CAST", 0);
    check_assign(fx, c, "other", "OWNER_FIRMWARE", 0, 1, "c->SCp.phase = c ? OWNER_FIRMWARE : 0;",
                 0);
    /* in a macro: the macro's name for the function */
    check_assign(fx, c, "FW_TAKE", "OWNER_FIRMWARE", 0, 1, "(c)->SCp.phase = OWNER_FIRMWARE", 0);
    CHECK(!find_assign("FW_IS_OURS", "OWNER_FIRMWARE", 0), "a comparison in a macro taken");
    /* comparisons, returns, arguments, case labels, indexes: none */
    CHECK(na == 6, "%d assignments", na);
    CHECK(!find_assign("get", "OWNER_FIRMWARE", 0), "return taken as an assignment");
    CHECK(!find_assign("other", "FW_OCTAL", 0), "an index taken as an assignment");
    /* same field first, then by file and line */
    for (int i = 1; i < na; i++)
        CHECK(assigns[i - 1].same_field > assigns[i].same_field ||
                  (assigns[i - 1].same_field == assigns[i].same_field &&
                   (strcmp(assigns[i - 1].file, assigns[i].file) < 0 ||
                    (!strcmp(assigns[i - 1].file, assigns[i].file) &&
                     assigns[i - 1].line < assigns[i].line))),
              "order at %d", i);

    /* implicit increments: OWNER_LAST is 0x107, OWNER_SKIP 0x105 */
    scan(fx, 0x107, NULL);
    CHECK(find_const("OWNER_LAST") && find_const("NOT_IT") && nc == 2, "0x107: %d", nc);
    scan(fx, 0x102, NULL);
    CHECK(find_const("OWNER_LOWLEVEL") && nc == 1, "0x102: %d", nc);
    scan(fx, 0, NULL);
    CHECK(find_const("OWNER_NONE") && find_const("ITEM_A"), "0: OWNER_NONE, ITEM_A not found");
    CHECK(!find_const("return") && !find_const("i"), "a function body taken for an enum's");
    CHECK(nc == 2, "0: %d constants", nc);
}

/* Symbolic links to directories are not followed, files over 4 MiB and
 * lines over 4 KiB are ignored. */
static void test_bounds(const char *fx, const char *tmp)
{
    char dir[4096], path[4200];
    snprintf(dir, sizeof(dir), "%s/srcscan-bounds.%d", tmp, (int)getpid());
    REQUIRE(mkdir(dir, 0755) == 0, "mkdir %s", dir);
    snprintf(path, sizeof(path), "%s/link", dir);
    REQUIRE(symlink(fx, path) == 0, "symlink %s", path);
    snprintf(path, sizeof(path), "%s/loop", dir);
    REQUIRE(symlink(".", path) == 0, "symlink %s", path);

    snprintf(path, sizeof(path), "%s/big.h", dir);
    FILE *f = fopen(path, "w");
    REQUIRE(f, "create %s", path);
    fprintf(f, "#define IN_BIG_FILE 0x106\n");
    for (int i = 0; i < (5 << 20) / 64; i++)
        fprintf(f, "/* filler filler filler filler filler filler filler filler */\n");
    fclose(f);

    snprintf(path, sizeof(path), "%s/long.h", dir);
    f = fopen(path, "w");
    REQUIRE(f, "create %s", path);
    fprintf(f, "#define ON_LONG_LINE 0x106 /*");
    for (int i = 0; i < 5000; i++)
        fputc('x', f);
    fprintf(f, " */\n#define ON_SHORT_LINE 0x106\n");
    fclose(f);

    scan(dir, 0x106, "phase");
    CHECK(nc == 1 && find_const("ON_SHORT_LINE"), "bounded scan: %d constants", nc);
    CHECK(na == 0, "%d assignments through a symbolic link", na);

    snprintf(path, sizeof(path), "%s/big.h", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/long.h", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/link", dir);
    unlink(path);
    snprintf(path, sizeof(path), "%s/loop", dir);
    unlink(path);
    rmdir(dir);
}

/* No value (a guard report stops the write): the statements assigning the field. */
static void test_field(const char *seed, const char *fx)
{
    struct src_assign as[MAXA];
    int n = -1;
    char err[256] = "";
    CHECK(src_scan_field(fx, "phase", as, MAXA, &n, err, sizeof(err)) == 0, "phase: %s", err);
    /* fw.c:16 and :38; not "int phase =" (no member), not "==", not in a macro */
    CHECK(n == 2, "phase: %d assignments", n);
    if (n == 2) {
        CHECK(as[0].line == 16 && !strcmp(as[0].function, "set") &&
                  !strcmp(as[0].constant, "OWNER_FIRMWARE") && as[0].same_field,
              "first: %d %s %s", as[0].line, as[0].function, as[0].constant);
        CHECK(as[1].line == 38 && !strcmp(as[1].constant, "c ? OWNER_FIRMWARE : 0"),
              "second: %d %s", as[1].line, as[1].constant);
    }
    CHECK(src_scan_field(fx, "state", as, MAXA, &n, err, sizeof(err)) == 0 && n >= 1,
          "state: %d", n);
    if (n >= 1)
        CHECK(!strcmp(as[0].text, "c->state |= FW_MAGIC;"), "state: %s", as[0].text);
    CHECK(src_scan_field(seed, "phase", as, MAXA, &n, err, sizeof(err)) == 0 && n == 5,
          "seed: %d assignments to phase", n);
    CHECK(src_scan_field(fx, "", as, MAXA, &n, err, sizeof(err)) == -1 && err[0],
          "an empty field accepted");
}

int main(int argc, char **argv)
{
    test_name = "tools.srcscan";
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc < 4) {
        fprintf(stderr, "usage: %s SEED_SOURCE_DIR FIXTURE_DIR TMPDIR\n", argv[0]);
        return 2;
    }
    test_seed(argv[1]);
    test_fixture(argv[2]);
    test_field(argv[1], argv[2]);
    test_bounds(argv[2], argv[3]);
    return test_finish();
}
