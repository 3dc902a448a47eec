/*
 * The file descriptors a program sees: allocates and frees (correct work),
 * or with "report" also overflows one object into its red zone first, so
 * that slabdbg reports (and its symbolizer opens files).  Prints
 *   fds=0,1,2,...          every open descriptor but the listing's own
 *   inheritable=0,1,2,...  those without close-on-exec
 *   next_open=N            what the next open() returns
 */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static __attribute__((noinline)) void *launder(void *p)
{
    void *volatile v = p;
    return v;
}

int main(int argc, char **argv)
{
    int report = argc > 1 && !strcmp(argv[1], "report");
    for (int i = 0; i < 1000; i++) {
        char *p = malloc((size_t)(1 + i * 37 % 5000));
        memset(p, 1, 1);
        free(p);
    }
    if (report) {
        char *p = launder(malloc(100));
        memset(p, 'A', 100 + 8);
        free(p);
    }
    char fds[4096] = "", inh[4096] = "";
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return 2;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || atoi(e->d_name) == dirfd(d))
            continue;
        int fd = atoi(e->d_name);
        snprintf(fds + strlen(fds), sizeof(fds) - strlen(fds), "%s%d", fds[0] ? "," : "", fd);
        if (!(fcntl(fd, F_GETFD) & FD_CLOEXEC))
            snprintf(inh + strlen(inh), sizeof(inh) - strlen(inh), "%s%d", inh[0] ? "," : "", fd);
    }
    closedir(d);
    int fd = open("/dev/null", O_RDONLY);
    printf("fds=%s\ninheritable=%s\nnext_open=%d\ndone\n", fds, inh, fd);
    return 0;
}
