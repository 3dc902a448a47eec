"""Allocation-heavy Python workload for the allocator benchmarks.

Builds and tears down many dicts, lists, strings, tuples and small objects:
a word index over generated text, JSON-like records round-tripped through
the json module, sorting, string formatting and a churn of short-lived
instances.  bench/run.py runs it with PYTHONMALLOC=malloc so that Python's
own small-object pool is bypassed and every object goes through malloc.

Usage: python3 py_alloc.py [SCALE]      (SCALE multiplies the amount of work)
Prints a digest of the results, which must not depend on the allocator.
"""

import hashlib
import json
import sys

SYLLABLES = ["ka", "lo", "mi", "ne", "ru", "sa", "to", "vi", "ze", "qua", "bra", "stel"]


class Lcg:
    """Deterministic generator (independent of hash randomisation)."""

    def __init__(self, seed):
        self.state = seed & 0xFFFFFFFFFFFFFFFF

    def next(self):
        self.state = (self.state * 6364136223846793005 + 1442695040888963407) & 0xFFFFFFFFFFFFFFFF
        return self.state >> 33

    def below(self, n):
        return self.next() % n


class Record:
    __slots__ = ("key", "tags", "score", "parent")

    def __init__(self, key, tags, score, parent):
        self.key = key
        self.tags = tags
        self.score = score
        self.parent = parent


def make_word(rng):
    return "".join(SYLLABLES[rng.below(len(SYLLABLES))] for _ in range(1 + rng.below(4)))


def text_index(rng, nlines, digest):
    """Index of word -> list of (line, column) over generated text."""
    index = {}
    lines = []
    for ln in range(nlines):
        words = [make_word(rng) for _ in range(5 + rng.below(20))]
        line = " ".join(words)
        lines.append(line.capitalize() + ".")
        for col, w in enumerate(line.split()):
            index.setdefault(w, []).append((ln, col))
    common = sorted(index.items(), key=lambda kv: (-len(kv[1]), kv[0]))[:50]
    for w, occ in common:
        digest.update(("%s:%d:%r;" % (w, len(occ), occ[:3])).encode())
    text = "\n".join(lines)
    digest.update(str(len(text)).encode())
    digest.update(text.upper().replace("KA", "[ka]").encode()[:4096])
    return len(index)


def json_records(rng, n, digest):
    """JSON-like nested records, serialised and parsed back."""
    recs = []
    for i in range(n):
        recs.append(
            {
                "id": i,
                "name": make_word(rng) + "-" + str(rng.below(1000)),
                "tags": [make_word(rng) for _ in range(rng.below(6))],
                "attrs": {make_word(rng): rng.below(100) for _ in range(rng.below(5))},
                "score": rng.below(1_000_000) / 1000.0,
            }
        )
    blob = json.dumps(recs, sort_keys=True)
    back = json.loads(blob)
    if back != recs:
        raise SystemExit("json round trip mismatch")
    by_tag = {}
    for r in back:
        for t in r["tags"]:
            by_tag.setdefault(t, []).append(r["id"])
    digest.update(hashlib.sha256(blob.encode()).digest())
    digest.update(repr(sorted((k, len(v)) for k, v in by_tag.items())).encode())
    return len(blob)


def object_churn(rng, n, digest):
    """Short-lived instances with references, a sliding window of survivors."""
    window = []
    total = 0
    for i in range(n):
        parent = window[rng.below(len(window))] if window else None
        r = Record("k%06d" % i, tuple(make_word(rng) for _ in range(rng.below(3))), rng.below(997), parent)
        window.append(r)
        if len(window) > 2000:
            # drop a random survivor; the list shifts, the record may die
            del window[rng.below(len(window))]
        total += r.score + (parent.score if parent else 0)
    ranked = sorted(window, key=lambda r: (r.score, r.key))
    digest.update(("%d|%s|%s" % (total, ranked[0].key, ranked[-1].key)).encode())
    return total


def string_building(rng, n, digest):
    parts = []
    for i in range(n):
        s = "%s=%d" % (make_word(rng), rng.below(100000))
        parts.append(s)
        if len(parts) >= 500:
            joined = ",".join(parts)
            fields = dict(p.split("=", 1) for p in joined.split(","))
            digest.update(("%d:%s" % (len(fields), min(fields))).encode())
            parts = []
    return n


def main():
    scale = float(sys.argv[1]) if len(sys.argv) > 1 else 1.0
    rng = Lcg(12345)
    digest = hashlib.sha256()
    rounds = 2

    def n(base):
        return max(10, int(base * scale))

    counts = []
    for _ in range(rounds):
        counts.append(text_index(rng, n(3000), digest))
        counts.append(json_records(rng, n(4000), digest))
        counts.append(object_churn(rng, n(30000), digest))
        counts.append(string_building(rng, n(20000), digest))
    print("py_alloc: check=%s rounds=%d counts=%s" % (digest.hexdigest()[:16], rounds, counts[:4]))


if __name__ == "__main__":
    main()
