"""A deterministic, allocation-heavy Python workload for the no-false-report
check (debug.workload.python): containers of every size, strings, bytes,
big integers, json, regular expressions, objects with cycles, a thread pool.
Prints one line per part; the output must not change under slabdbg."""
import collections
import gc
import hashlib
import json
import re
import threading
import zlib


class Node:
    def __init__(self, key, parent=None):
        self.key = key
        self.parent = parent
        self.children = []
        self.data = {"k": key, "s": "n%d" % key}


def main():
    out = []
    recs = [{"id": i, "name": "item%05d" % i, "tags": [i % 7, str(i % 11)] * (i % 5),
             "val": (i * 7919) % 10007} for i in range(40000)]
    recs.sort(key=lambda r: (r["val"], r["id"]))
    out.append("sorted first=%s last=%s" % (recs[0]["name"], recs[-1]["name"]))
    blob = json.dumps(recs[:8000], sort_keys=True)
    out.append("json len=%d sha=%s" % (len(blob), hashlib.sha256(blob.encode()).hexdigest()[:20]))
    out.append("json roundtrip=%s" % (json.loads(blob) == recs[:8000]))

    f = 1
    for i in range(2, 900):
        f *= i
    out.append("bigint digits=%d mod=%d" % (len(str(f)), f % 1000000007))

    words = ["w%d%s" % (i % 613, "y" * (i % 17)) for i in range(60000)]
    text = " ".join(words)
    cnt = collections.Counter(re.findall(r"w(\d+)y{5,}", text))
    out.append("regex total=%d distinct=%d top=%s" % (sum(cnt.values()), len(cnt),
                                                      cnt.most_common(2)))
    packed = zlib.compress(text.encode(), 6)
    out.append("zlib %d -> %d crc=%08x" % (len(text), len(packed), zlib.crc32(packed)))

    # Growing and shrinking containers of every size class.
    acc = []
    for i in range(3000):
        acc.append(bytearray(i % 1500 + 1))
        if len(acc) > 200:
            del acc[:150]
    out.append("bytearrays left=%d bytes=%d" % (len(acc), sum(map(len, acc))))
    d = {}
    for i in range(50000):
        d[("k", i % 9000, i % 7)] = i
        if i % 3 == 0:
            d.pop(("k", (i * 13) % 9000, (i * 13) % 7), None)
    out.append("dict size=%d sum=%d" % (len(d), sum(d.values())))

    # Reference cycles collected by the garbage collector.
    root = Node(0)
    nodes = [root]
    for i in range(1, 20000):
        n = Node(i, nodes[(i * 31) % len(nodes)])
        n.parent.children.append(n)
        nodes.append(n)
    depth = max(len(n.children) for n in nodes)
    del root, nodes, n
    out.append("tree max_children=%d gc=%d" % (depth, gc.collect() > 0))

    # Threads: objects made in one thread, freed in another.
    results = [None] * 4
    handoff = []
    lock = threading.Lock()

    def worker(k):
        local = []
        for i in range(4000):
            local.append(("t%d" % k, i, str(i * k)))
        with lock:
            handoff.append(local)
        results[k] = sum(len(x[2]) for x in local)

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    handoff.clear()
    out.append("threads results=%s" % results)
    print("\n".join(out))


main()
