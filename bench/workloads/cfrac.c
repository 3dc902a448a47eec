/*
 * cfrac: small-object churn of a bignum program, in the spirit of the cfrac
 * (continued-fraction factoring) benchmark.
 *
 * For many non-square integers D it expands sqrt(D) as a continued fraction
 * and computes the convergents p/q with immutable heap-allocated bignums
 * (a header object plus a separately allocated limb array, so every
 * arithmetic operation allocates two objects of mixed small sizes and frees
 * its temporaries).  Each convergent is verified with the identity
 *     p_n^2 - D q_n^2 = (-1)^(n+1) Q_(n+1)
 * where Q is computed with machine integers, and convergents are converted to
 * decimal strings from time to time (repeated division, realloc-grown text).
 * A hash of those strings is the check value.
 */
#include "common.h"

#include <unistd.h>

static struct {
    uint64_t first, count, terms;
} cfg = {1000003, 3000, 250};

struct big {
    uint32_t n;  /* limbs in use (0 for zero) */
    uint32_t *d; /* little-endian base-2^32 limbs */
};

static uint64_t nallocs;

static struct big *big_new(uint32_t n)
{
    struct big *b = xmalloc(sizeof *b);
    b->d = xmalloc(sizeof(uint32_t) * (n ? n : 1));
    b->n = n;
    nallocs += 2;
    return b;
}

static void big_free(struct big *b)
{
    free(b->d);
    free(b);
}

static void big_trim(struct big *b)
{
    while (b->n && b->d[b->n - 1] == 0)
        b->n--;
}

static struct big *big_from(uint64_t v)
{
    struct big *b = big_new(2);
    b->d[0] = (uint32_t)v;
    b->d[1] = (uint32_t)(v >> 32);
    big_trim(b);
    return b;
}

static struct big *big_add(const struct big *a, const struct big *b)
{
    if (a->n < b->n) {
        const struct big *t = a;
        a = b;
        b = t;
    }
    struct big *r = big_new(a->n + 1);
    uint64_t c = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        c += (uint64_t)a->d[i] + (i < b->n ? b->d[i] : 0);
        r->d[i] = (uint32_t)c;
        c >>= 32;
    }
    r->d[a->n] = (uint32_t)c;
    big_trim(r);
    return r;
}

static struct big *big_mul_small(const struct big *a, uint32_t k)
{
    struct big *r = big_new(a->n + 1);
    uint64_t c = 0;
    for (uint32_t i = 0; i < a->n; i++) {
        c += (uint64_t)a->d[i] * k;
        r->d[i] = (uint32_t)c;
        c >>= 32;
    }
    r->d[a->n] = (uint32_t)c;
    big_trim(r);
    return r;
}

static struct big *big_mul(const struct big *a, const struct big *b)
{
    struct big *r = big_new(a->n + b->n);
    memset(r->d, 0, sizeof(uint32_t) * (a->n + b->n ? a->n + b->n : 1));
    for (uint32_t i = 0; i < a->n; i++) {
        uint64_t c = 0;
        for (uint32_t j = 0; j < b->n; j++) {
            c += (uint64_t)a->d[i] * b->d[j] + r->d[i + j];
            r->d[i + j] = (uint32_t)c;
            c >>= 32;
        }
        r->d[i + b->n] = (uint32_t)c;
    }
    big_trim(r);
    return r;
}

static int big_cmp(const struct big *a, const struct big *b)
{
    if (a->n != b->n)
        return a->n < b->n ? -1 : 1;
    for (uint32_t i = a->n; i-- > 0;)
        if (a->d[i] != b->d[i])
            return a->d[i] < b->d[i] ? -1 : 1;
    return 0;
}

static struct big *big_divmod_small(const struct big *a, uint32_t k, uint32_t *rem)
{
    struct big *q = big_new(a->n);
    uint64_t r = 0;
    for (uint32_t i = a->n; i-- > 0;) {
        r = (r << 32) | a->d[i];
        q->d[i] = (uint32_t)(r / k);
        r %= k;
    }
    *rem = (uint32_t)r;
    big_trim(q);
    return q;
}

/* Decimal text of a, in a realloc-grown buffer; caller frees. */
static char *big_to_dec(const struct big *a)
{
    size_t cap = 16, len = 0;
    char *s = xmalloc(cap);
    struct big *cur = big_add(a, &(struct big){0, NULL});
    while (cur->n) {
        uint32_t r;
        struct big *q = big_divmod_small(cur, 1000000000u, &r);
        big_free(cur);
        cur = q;
        for (int i = 0; i < 9; i++) {
            if (len + 2 > cap) {
                cap *= 2;
                s = xrealloc(s, cap);
            }
            s[len++] = (char)('0' + r % 10);
            r /= 10;
        }
    }
    big_free(cur);
    while (len > 1 && s[len - 1] == '0')
        len--;
    if (len == 0)
        s[len++] = '0';
    s[len] = 0;
    for (size_t i = 0; i < len / 2; i++) {
        char t = s[i];
        s[i] = s[len - 1 - i];
        s[len - 1 - i] = t;
    }
    return s;
}

static uint64_t isqrt(uint64_t x)
{
    uint64_t r = 0;
    for (uint64_t bit = 1ULL << 62; bit; bit >>= 2) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
    }
    return r;
}

static uint64_t expand(uint64_t D)
{
    uint64_t a0 = isqrt(D), m = 0, dd = 1, a = a0;
    struct big *p1 = big_from(1), *p2 = big_from(0);
    struct big *q1 = big_from(0), *q2 = big_from(1);
    uint64_t h = 0xcbf29ce484222325ULL;
    for (uint64_t n = 0; n < cfg.terms; n++) {
        struct big *t = big_mul_small(p1, (uint32_t)a);
        struct big *p = big_add(t, p2);
        big_free(t);
        t = big_mul_small(q1, (uint32_t)a);
        struct big *q = big_add(t, q2);
        big_free(t);

        uint64_t m2 = dd * a - m;
        uint64_t dd2 = (D - m2 * m2) / dd;
        uint64_t a2 = (a0 + m2) / dd2;

        /* p^2 - D q^2 == (-1)^(n+1) dd2 */
        struct big *lhs = big_mul(p, p);
        struct big *qq = big_mul(q, q);
        struct big *rhs = big_mul_small(qq, (uint32_t)D);
        struct big *Q = big_from(dd2);
        struct big *x, *y;
        if (n & 1) {
            x = lhs;
            y = big_add(rhs, Q);
        } else {
            x = big_add(lhs, Q);
            y = rhs;
        }
        if (big_cmp(x, y) != 0)
            corrupt("convergent %" PRIu64 " of sqrt(%" PRIu64 ") fails p^2 - D q^2 = +-Q", n, D);
        if (x != lhs)
            big_free(x);
        if (y != rhs)
            big_free(y);
        big_free(lhs);
        big_free(qq);
        big_free(rhs);
        big_free(Q);

        if (n % 25 == 24 || n + 1 == cfg.terms) {
            char *s = big_to_dec(p);
            for (char *c = s; *c; c++)
                h = (h ^ (unsigned char)*c) * 0x100000001b3ULL;
            free(s);
        }
        big_free(p2);
        big_free(q2);
        p2 = p1;
        q2 = q1;
        p1 = p;
        q1 = q;
        m = m2;
        dd = dd2;
        a = a2;
    }
    big_free(p1);
    big_free(p2);
    big_free(q1);
    big_free(q2);
    return h;
}

int main(int argc, char **argv)
{
    bench_name = "cfrac";
    double scale = 1.0;
    int opt;
    while ((opt = getopt(argc, argv, "d:c:n:s:h")) != -1) {
        switch (opt) {
        case 'd':
            cfg.first = parse_u64(optarg, "-d", 2, 1u << 30);
            break;
        case 'c':
            cfg.count = parse_u64(optarg, "-c", 1, 1u << 30);
            break;
        case 'n':
            cfg.terms = parse_u64(optarg, "-n", 1, 100000);
            break;
        case 's':
            scale = parse_scale(optarg);
            break;
        default:
            fprintf(stderr, "usage: %s [-d first D] [-c count] [-n terms] [-s scale]\n", argv[0]);
            return opt == 'h' ? 0 : EXIT_USAGE;
        }
    }
    cfg.count = scaled(cfg.count, scale);

    uint64_t check = 0, done = 0;
    double t0 = now_sec();
    for (uint64_t D = cfg.first; done < cfg.count; D++) {
        uint64_t r = isqrt(D);
        if (r * r == D)
            continue;
        check = mix64(check ^ expand(D));
        done++;
    }
    double dt = now_sec() - t0;
    printf("cfrac: check=%016" PRIx64 " numbers=%" PRIu64 " allocations=%" PRIu64 " time=%.3fs\n",
           check, done, nallocs, dt);
    return 0;
}
