/*
 * large: big objects, 64 KiB to 8 MiB, with realloc growth.
 *
 * A handful of slots hold large objects.  Each step picks a slot: an empty
 * slot gets a new object of log-uniformly distributed size; a full one is
 * either grown with realloc (by 1.25x to 2x, capped at 16 MiB), shrunk
 * (rarely), or freed.  Every page of an object is written when it comes into
 * existence and the stamps are checked when the object is resized or freed,
 * so the cost of fresh pages (mmap, page faults, zeroing) versus reused
 * memory shows up in both time and peak RSS.
 */
#include "common.h"

#include <unistd.h>

#define PAGE 4096
#define MIN_SIZE (64u << 10)
#define MAX_SIZE (8u << 20)
#define CAP_SIZE (16u << 20)

static struct {
    uint64_t steps, slots, seed;
} cfg = {3000, 8, 23};

static inline uint64_t page_word(uint64_t tag, size_t off)
{
    return mix64(tag + off);
}

/* Page stamps sit at every multiple of PAGE that leaves room for them before
 * the tail word, which is the last 8 bytes of the object. */
static inline int has_page_stamp(size_t off, size_t n)
{
    return off + 16 <= n;
}

/* Stamp every page at or after `from` plus the tail word. */
static void fill(unsigned char *p, size_t from, size_t n, uint64_t tag)
{
    for (size_t off = (from + PAGE - 1) / PAGE * PAGE; has_page_stamp(off, n); off += PAGE) {
        uint64_t v = page_word(tag, off);
        memcpy(p + off, &v, 8);
    }
    uint64_t t = ~page_word(tag, n);
    memcpy(p + n - 8, &t, 8);
}

/* Check all page stamps and the tail word. */
static void check(const unsigned char *p, size_t n, uint64_t tag, const char *what)
{
    for (size_t off = 0; has_page_stamp(off, n); off += PAGE) {
        uint64_t v;
        memcpy(&v, p + off, 8);
        if (v != page_word(tag, off))
            corrupt("%s: object %p of %zu bytes: page at offset %zu lost its stamp", what,
                    (const void *)p, n, off);
    }
    uint64_t t;
    memcpy(&t, p + n - 8, 8);
    if (t != ~page_word(tag, n))
        corrupt("%s: object %p of %zu bytes lost its tail", what, (const void *)p, n);
}

/* Roughly log-uniform in [MIN_SIZE, MAX_SIZE): a random power-of-two octave,
 * then uniform within it. */
static size_t pick_size(struct rng *r)
{
    unsigned octaves = 0;
    while ((MIN_SIZE << (octaves + 1)) <= MAX_SIZE)
        octaves++;
    size_t base = (size_t)MIN_SIZE << rng_below(r, octaves);
    size_t n = base + (size_t)rng_below(r, base);
    return n & ~(size_t)7;
}

int main(int argc, char **argv)
{
    bench_name = "large";
    double scale = 1.0;
    int opt;
    while ((opt = getopt(argc, argv, "n:k:S:s:h")) != -1) {
        switch (opt) {
        case 'n':
            cfg.steps = parse_u64(optarg, "-n", 1, UINT64_MAX);
            break;
        case 'k':
            cfg.slots = parse_u64(optarg, "-k", 1, 4096);
            break;
        case 'S':
            cfg.seed = parse_u64(optarg, "-S", 0, UINT64_MAX);
            break;
        case 's':
            scale = parse_scale(optarg);
            break;
        default:
            fprintf(stderr, "usage: %s [-n steps] [-k slots] [-S seed] [-s scale]\n", argv[0]);
            return opt == 'h' ? 0 : EXIT_USAGE;
        }
    }
    cfg.steps = scaled(cfg.steps, scale);

    unsigned char **ptr = xcalloc(cfg.slots, sizeof *ptr);
    size_t *size = xcalloc(cfg.slots, sizeof *size);
    uint64_t *tag = xcalloc(cfg.slots, sizeof *tag);
    struct rng rng;
    rng_seed(&rng, cfg.seed, 0);
    uint64_t sum = 0, bytes = 0, reallocs = 0;
    double t0 = now_sec();
    for (uint64_t s = 0; s < cfg.steps; s++) {
        uint64_t k = rng_below(&rng, cfg.slots);
        if (!ptr[k]) {
            size_t n = pick_size(&rng);
            tag[k] = rng_next(&rng);
            ptr[k] = malloc(n);
            if (!ptr[k])
                fatal("malloc(%zu) failed", n);
            size[k] = n;
            fill(ptr[k], 0, n, tag[k]);
            bytes += n;
            sum = mix64(sum ^ tag[k] ^ n);
            continue;
        }
        uint64_t p = rng_below(&rng, 100);
        if (p < 45 && size[k] < CAP_SIZE) {
            /* grow */
            size_t old = size[k];
            size_t n = old + (size_t)(old * rng_range(&rng, 25, 100) / 100);
            n = (n > CAP_SIZE ? CAP_SIZE : n) & ~(size_t)7;
            check(ptr[k], old, tag[k], "large before realloc");
            ptr[k] = xrealloc(ptr[k], n);
            check(ptr[k], old, tag[k], "large after realloc");
            /* The old tail word may sit where a page stamp now belongs:
             * restamp from the page that holds it. */
            fill(ptr[k], (old - 8) / PAGE * PAGE, n, tag[k]);
            size[k] = n;
            bytes += n - old;
            reallocs++;
            sum = mix64(sum ^ n);
        } else if (p < 50) {
            /* shrink to half */
            size_t n = (size[k] / 2) & ~(size_t)7;
            if (n < MIN_SIZE)
                n = MIN_SIZE;
            check(ptr[k], size[k], tag[k], "large before shrink");
            ptr[k] = xrealloc(ptr[k], n);
            fill(ptr[k], n, n, tag[k]); /* just the new tail word */
            size[k] = n;
            reallocs++;
            sum = mix64(sum ^ n ^ 1);
            check(ptr[k], n, tag[k], "large after shrink");
        } else {
            check(ptr[k], size[k], tag[k], "large before free");
            free(ptr[k]);
            ptr[k] = NULL;
        }
    }
    for (uint64_t k = 0; k < cfg.slots; k++)
        if (ptr[k]) {
            check(ptr[k], size[k], tag[k], "large final");
            free(ptr[k]);
        }
    double dt = now_sec() - t0;
    free(ptr);
    free(size);
    free(tag);
    printf("large: check=%016" PRIx64 " steps=%" PRIu64 " reallocs=%" PRIu64
           " touched=%.0fMiB time=%.3fs\n",
           sum, cfg.steps, reallocs, (double)bytes / (1 << 20), dt);
    return 0;
}
