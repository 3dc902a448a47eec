/*
 * A shared object the symbolizer test dlopen's after its first lookup: the
 * symbolizer must notice the new module, and find the static function in
 * it (.symtab, not .dynsym) with its file:line, though the object has no
 * .debug_aranges (removed after the build).
 */
#include <stdint.h>

__attribute__((noinline)) static int dso_local_helper(int x)
{
    return x * 3 + 1;
}
enum { DSO_LOCAL_HELPER_LINE = __LINE__ - 4 };

/* Gives the test the helper's address and the line of its definition. */
__attribute__((visibility("default"))) uintptr_t symbolize_dso_probe(int *line)
{
    *line = DSO_LOCAL_HELPER_LINE;
    return (uintptr_t)&dso_local_helper;
}
