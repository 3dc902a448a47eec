/*
 * A heap with one planted corruption, left for validate to find from
 * outside: the program makes it, says where, and waits (no allocation
 * after it, so the process itself does not see it first).
 *
 *   corrupt clean       no corruption
 *   corrupt uaf         4 bytes written at offset 8 of a freed 64-byte object
 *   corrupt overflow    one byte written behind a 40-byte object
 *
 * It prints "ADDR <kind> <object>" and "READY <pid>", then waits for the
 * end of its input.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void *volatile keep[16];

int main(int argc, char **argv)
{
    const char *what = argc > 1 ? argv[1] : "clean";
    setvbuf(stdout, NULL, _IONBF, 0);
    setvbuf(stdin, NULL, _IONBF, 0);
    for (int i = 0; i < 16; i++)
        keep[i] = malloc(16 + 16 * (size_t)i);
    char *p = NULL;
    if (!strcmp(what, "uaf")) {
        p = malloc(64);
        free(p);
        memcpy(p + 8, "XXXX", 4); /* the write after free */
    } else if (!strcmp(what, "overflow")) {
        p = malloc(40);
        keep[0] = p;
        p[40] = 'X'; /* one byte past the end */
    }
    printf("ADDR %s %p\n", what, (void *)p);
    printf("READY %d\n", (int)getpid());
    char line[64];
    while (fgets(line, sizeof(line), stdin))
        if (!strncmp(line, "abort", 5))
            abort();
    return 0;
}
