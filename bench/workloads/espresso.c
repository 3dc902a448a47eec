/*
 * espresso: small-object churn of a two-level logic minimiser, in the spirit
 * of the espresso benchmark.
 *
 * A cube over V boolean variables is a bit vector with two bits per variable
 * (01 = complemented literal, 10 = literal, 11 = don't care); a cover is a
 * growable array of cubes.  For each problem (V drawn between 8 and 250, so
 * cubes have various small sizes) two random covers are intersected pairwise
 * (one heap cube per product, most of them short-lived), the result is sorted
 * and reduced by single-cube containment, and the reduced cover feeds the next
 * round.  Every cube carries a hash of its bits that is checked when it is
 * freed; the check value hashes every reduced cover.
 */
#include "common.h"

#include <unistd.h>

static struct {
    uint64_t problems, rounds, keep, seed;
} cfg = {60, 6, 150, 17};

#define EVEN_BITS 0x5555555555555555ULL

struct cube {
    uint32_t w;      /* words */
    uint32_t lits;   /* variables that are not don't-care */
    uint64_t serial; /* unique per allocation */
    uint64_t hash;   /* of w and bits */
    uint64_t bits[];
};

/* A cover remembers the serial of each cube it holds, so memory handed out
 * twice (two cubes sharing one object) is noticed even though each write
 * leaves the object self-consistent. */
struct entry {
    struct cube *c;
    uint64_t serial;
};

struct cover {
    size_t n, cap;
    struct entry *e;
};

static uint64_t nallocs;

static struct cube *cube_of(const struct entry *e)
{
    if (e->c->serial != e->serial)
        corrupt("cube %p #%" PRIu64 " was reused as #%" PRIu64 " while in use", (void *)e->c,
                e->serial, e->c->serial);
    return e->c;
}

static uint64_t cube_hash(const struct cube *c)
{
    uint64_t h = c->w;
    for (uint32_t i = 0; i < c->w; i++)
        h = mix64(h ^ c->bits[i]);
    return h;
}

static struct cube *cube_new(uint32_t w)
{
    struct cube *c = xmalloc(sizeof *c + sizeof(uint64_t) * w);
    c->w = w;
    c->serial = ++nallocs;
    return c;
}

static void cube_seal(struct cube *c)
{
    uint32_t lits = 0;
    for (uint32_t i = 0; i < c->w; i++) {
        uint64_t x = c->bits[i];
        /* a variable is a literal when exactly one of its two bits is set */
        lits += (uint32_t)__builtin_popcountll((x ^ (x >> 1)) & EVEN_BITS);
    }
    c->lits = lits;
    c->hash = cube_hash(c);
}

static void cube_free(struct cube *c)
{
    if (c->hash != cube_hash(c))
        corrupt("cube %p was modified while in use", (void *)c);
    free(c);
}

static struct cover *cover_new(void)
{
    struct cover *f = xmalloc(sizeof *f);
    f->n = 0;
    f->cap = 8;
    f->e = xmalloc(sizeof(struct entry) * f->cap);
    nallocs += 2;
    return f;
}

static void cover_push(struct cover *f, struct cube *c)
{
    if (f->n == f->cap) {
        f->cap *= 2;
        f->e = xrealloc(f->e, sizeof(struct entry) * f->cap);
    }
    f->e[f->n++] = (struct entry){c, c->serial};
}

static void cover_free(struct cover *f)
{
    for (size_t i = 0; i < f->n; i++)
        cube_free(cube_of(&f->e[i]));
    free(f->e);
    free(f);
}

/* mask of the bits used by v variables, word i */
static uint64_t used_mask(uint32_t v, uint32_t i)
{
    uint32_t bits = 2 * v, lo = 64 * i;
    if (bits >= lo + 64)
        return ~0ULL;
    if (bits <= lo)
        return 0;
    return (1ULL << (bits - lo)) - 1;
}

static struct cover *random_cover(struct rng *r, uint32_t v, size_t n, unsigned lit_pct)
{
    uint32_t w = (2 * v + 63) / 64;
    struct cover *f = cover_new();
    for (size_t k = 0; k < n; k++) {
        struct cube *c = cube_new(w);
        memset(c->bits, 0, sizeof(uint64_t) * w);
        for (uint32_t x = 0; x < v; x++) {
            uint64_t code = 3;
            if (rng_below(r, 100) < lit_pct)
                code = 1 + rng_below(r, 2);
            c->bits[x / 32] |= code << (2 * (x % 32));
        }
        cube_seal(c);
        cover_push(f, c);
    }
    return f;
}

static int cube_cmp(const void *pa, const void *pb)
{
    const struct cube *a = cube_of(pa), *b = cube_of(pb);
    if (a->lits != b->lits)
        return a->lits < b->lits ? -1 : 1;
    for (uint32_t i = 0; i < a->w; i++)
        if (a->bits[i] != b->bits[i])
            return a->bits[i] < b->bits[i] ? -1 : 1;
    return 0;
}

/* b is contained in a (every minterm of b is in a) */
static int contains(const struct cube *a, const struct cube *b)
{
    for (uint32_t i = 0; i < a->w; i++)
        if ((a->bits[i] & b->bits[i]) != b->bits[i])
            return 0;
    return 1;
}

/* Pairwise intersection of f and g, reduced by single-cube containment and
 * truncated to the `keep` largest cubes. */
static struct cover *intersect(const struct cover *f, const struct cover *g, uint32_t v)
{
    uint32_t w = (2 * v + 63) / 64;
    struct cover *h = cover_new();
    for (size_t i = 0; i < f->n; i++)
        for (size_t j = 0; j < g->n; j++) {
            const struct cube *a = cube_of(&f->e[i]), *b = cube_of(&g->e[j]);
            struct cube *c = cube_new(w);
            int empty = 0;
            for (uint32_t k = 0; k < w; k++) {
                uint64_t x = a->bits[k] & b->bits[k];
                c->bits[k] = x;
                if (((x | (x >> 1)) & EVEN_BITS) != (used_mask(v, k) & EVEN_BITS))
                    empty = 1;
            }
            cube_seal(c);
            if (empty)
                cube_free(c);
            else
                cover_push(h, c);
        }
    if (h->n)
        qsort(h->e, h->n, sizeof(struct entry), cube_cmp);
    struct cover *r = cover_new();
    for (size_t i = 0; i < h->n; i++) {
        struct cube *c = cube_of(&h->e[i]);
        int redundant = r->n >= cfg.keep;
        for (size_t k = 0; !redundant && k < r->n; k++)
            redundant = contains(r->e[k].c, c);
        if (redundant)
            cube_free(c);
        else
            cover_push(r, c);
    }
    free(h->e);
    free(h);
    return r;
}

int main(int argc, char **argv)
{
    bench_name = "espresso";
    double scale = 1.0;
    int opt;
    while ((opt = getopt(argc, argv, "p:r:k:S:s:h")) != -1) {
        switch (opt) {
        case 'p':
            cfg.problems = parse_u64(optarg, "-p", 1, UINT64_MAX);
            break;
        case 'r':
            cfg.rounds = parse_u64(optarg, "-r", 1, 1u << 20);
            break;
        case 'k':
            cfg.keep = parse_u64(optarg, "-k", 1, 1u << 20);
            break;
        case 'S':
            cfg.seed = parse_u64(optarg, "-S", 0, UINT64_MAX);
            break;
        case 's':
            scale = parse_scale(optarg);
            break;
        default:
            fprintf(stderr,
                    "usage: %s [-p problems] [-r rounds] [-k cubes kept] [-S seed] [-s scale]\n",
                    argv[0]);
            return opt == 'h' ? 0 : EXIT_USAGE;
        }
    }
    cfg.problems = scaled(cfg.problems, scale);

    struct rng rng;
    rng_seed(&rng, cfg.seed, 0);
    uint64_t check = 0, cubes = 0;
    double t0 = now_sec();
    for (uint64_t p = 0; p < cfg.problems; p++) {
        uint32_t v = (uint32_t)rng_range(&rng, 8, 250);
        /* about 4 literals per cube, whatever the number of variables */
        unsigned pct = (unsigned)(400 / v + 1);
        struct cover *f = random_cover(&rng, v, rng_range(&rng, 60, 120), pct);
        struct cover *g = random_cover(&rng, v, rng_range(&rng, 60, 120), pct);
        for (uint64_t r = 0; r < cfg.rounds; r++) {
            struct cover *h = intersect(f, g, v);
            for (size_t i = 0; i < h->n; i++)
                check = mix64(check ^ cube_of(&h->e[i])->hash);
            check = mix64(check ^ h->n);
            cubes += h->n;
            cover_free(f);
            f = h;
            if (f->n < 8) {
                cover_free(f);
                f = random_cover(&rng, v, rng_range(&rng, 60, 120), pct);
            }
            if (r & 1) {
                cover_free(g);
                g = random_cover(&rng, v, rng_range(&rng, 60, 120), pct);
            }
        }
        cover_free(f);
        cover_free(g);
    }
    double dt = now_sec() - t0;
    printf("espresso: check=%016" PRIx64 " problems=%" PRIu64 " cubes=%" PRIu64
           " allocations=%" PRIu64 " time=%.3fs\n",
           check, cfg.problems, cubes, nallocs, dt);
    return 0;
}
