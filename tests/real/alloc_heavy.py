# Allocation-heavy but deterministic Python workload.
import collections
import hashlib
import json
import math
import re
import sys


def main():
    out = []
    # many small dicts and lists
    recs = [{"id": i, "name": "item%05d" % i, "tags": [str(i % 7), str(i % 11)],
             "val": (i * 7919) % 10007} for i in range(150000)]
    recs.sort(key=lambda r: (r["val"], r["id"]))
    out.append("first=%s last=%s" % (recs[0]["name"], recs[-1]["name"]))
    blob = json.dumps(recs[:50000], sort_keys=True)
    out.append("json_len=%d sha=%s" % (len(blob), hashlib.sha256(blob.encode()).hexdigest()))
    back = json.loads(blob)
    out.append("roundtrip=%s" % (back == recs[:50000]))

    # big integers
    f = math.factorial(1400)
    out.append("fact_digits=%d digit_sum=%d" % (len(str(f)), sum(map(int, str(f)))))
    out.append("pow_mod=%d" % pow(3, 10**6, 10**40 + 7))

    # strings, regex, counters
    words = ["w%d%s" % (i % 997, "x" * (i % 13)) for i in range(200000)]
    text = " ".join(words)
    cnt = collections.Counter(re.findall(r"w(\d+)x{3,}", text))
    out.append("regex_matches=%d distinct=%d top=%s" % (sum(cnt.values()), len(cnt),
                                                        sorted(cnt.items())[:3]))
    up = text.upper().replace("X", "yz")
    out.append("upper_len=%d sha=%s" % (len(up), hashlib.sha256(up.encode()).hexdigest()[:16]))

    # sets, deques, nested growth and release
    s = set()
    dq = collections.deque()
    for i in range(300000):
        s.add((i * 31) % 65536)
        dq.append(bytes(i % 300))
        if len(dq) > 1000:
            dq.popleft()
    out.append("set=%d deque_bytes=%d" % (len(s), sum(map(len, dq))))
    tree = {}
    for i in range(100000):
        node = tree
        for part in ("a%d" % (i % 10), "b%d" % (i % 100), "c%d" % i):
            node = node.setdefault(part, {})
    out.append("tree_top=%d" % len(tree))
    del tree, recs, back, words

    sys.stdout.write("\n".join(out) + "\n")


main()
