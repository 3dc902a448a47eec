/* Symbols of a target (sym.h), with libdwfl. */
#include <elfutils/libdwfl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inspect/sym.h"

struct tsym {
    Dwfl *dwfl;
    char last[128];
};

static char *debuginfo_path;

static const Dwfl_Callbacks proc_callbacks = {
    .find_elf = dwfl_linux_proc_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};
static const Dwfl_Callbacks core_callbacks = {
    .find_elf = dwfl_build_id_find_elf,
    .find_debuginfo = dwfl_standard_find_debuginfo,
    .debuginfo_path = &debuginfo_path,
};

/* A core's modules: from NT_FILE (through the files as this machine has
 * them, --exe for the program), each reported at the address of its first
 * mapping. */
static void report_core_modules(struct target *t, Dwfl *d)
{
    for (int i = 0; i < t->nmaps; i++) {
        const struct tgt_map *m = &t->maps[i];
        if (m->path[0] != '/' || m->offset != 0)
            continue;
        bool seen = false;
        for (int k = 0; k < i && !seen; k++)
            seen = !strcmp(t->maps[k].path, m->path);
        if (seen)
            continue;
        const char *slash = strrchr(m->path, '/');
        dwfl_report_elf(d, slash ? slash + 1 : m->path, tgt_file_path(t, m->path), -1, m->start,
                        false);
    }
}

struct tsym *tsym_open(struct target *t)
{
    struct tsym *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->dwfl = dwfl_begin(t->kind == TGT_PID ? &proc_callbacks : &core_callbacks);
    if (!s->dwfl)
        return s;
    dwfl_report_begin(s->dwfl);
    if (t->kind == TGT_PID)
        dwfl_linux_proc_report(s->dwfl, t->pid);
    else
        report_core_modules(t, s->dwfl);
    dwfl_report_end(s->dwfl, NULL, NULL);
    return s;
}

void tsym_close(struct tsym *s)
{
    if (!s)
        return;
    if (s->dwfl)
        dwfl_end(s->dwfl);
    free(s);
}

int tsym_lookup(struct tsym *s, uint64_t pc, struct tsym_info *out)
{
    memset(out, 0, sizeof(*out));
    if (!s || !s->dwfl)
        return -1;
    Dwfl_Module *mod = dwfl_addrmodule(s->dwfl, pc);
    if (!mod)
        return -1;
    Dwarf_Addr base = 0;
    const char *mainfile = NULL;
    const char *name = dwfl_module_info(mod, NULL, &base, NULL, NULL, NULL, &mainfile, NULL);
    snprintf(out->module, sizeof(out->module), "%s", mainfile ? mainfile : name ? name : "");
    out->module_base = base;
    GElf_Off off = 0;
    GElf_Sym sym;
    const char *fn = dwfl_module_addrinfo(mod, pc, &off, &sym, NULL, NULL, NULL);
    if (fn) {
        /* "name@@VERSION" from .symtab: the name as the dynamic symbols print it */
        snprintf(out->func, sizeof(out->func), "%.*s", (int)strcspn(fn, "@"), fn);
        out->offset = off;
        out->start = pc - off;
        out->size = sym.st_size;
    }
    Dwfl_Line *line = dwfl_module_getsrc(mod, pc);
    if (line) {
        int ln = 0;
        const char *file = dwfl_lineinfo(line, NULL, &ln, NULL, NULL, NULL);
        if (file) {
            snprintf(out->file, sizeof(out->file), "%s", file);
            out->line = ln;
        }
    }
    return 0;
}

void tsym_frame(struct tsym *s, uint64_t pc, int ret, char *buf, size_t size)
{
    struct tsym_info si;
    int r = tsym_lookup(s, ret && pc ? pc - 1 : pc, &si);
    if (r == 0 && si.func[0]) {
        uint64_t offset = si.offset + (ret && pc ? 1 : 0);
        if (si.size)
            snprintf(buf, size, "%s+0x%" PRIx64 "/0x%" PRIx64, si.func, offset, si.size);
        else
            snprintf(buf, size, "%s+0x%" PRIx64, si.func, offset);
    } else if (r == 0 && si.module[0]) {
        const char *slash = strrchr(si.module, '/');
        snprintf(buf, size, "%s+0x%" PRIx64, slash ? slash + 1 : si.module, pc - si.module_base);
    } else {
        snprintf(buf, size, "0x%" PRIx64, pc);
    }
    if (r == 0 && si.file[0] && si.line) {
        size_t n = strlen(buf);
        snprintf(buf + n, size - n, " %s:%d", si.file, si.line);
    }
}

const char *tsym_func(struct tsym *s, uint64_t addr)
{
    struct tsym_info si;
    if (tsym_lookup(s, addr, &si) != 0 || !si.func[0] || si.offset != 0)
        return NULL;
    snprintf(s->last, sizeof(s->last), "%s", si.func);
    return s->last;
}
