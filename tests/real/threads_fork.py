# Python threads, a fork-based process pool and a subprocess: the
# interpreter allocates from several threads, forks while threads exist,
# and execs a child.  Deterministic output.
import concurrent.futures
import hashlib
import json
import multiprocessing
import subprocess
import sys


def work(n):
    d = {str(i): [i] * (i % 50) for i in range(n)}
    return hashlib.sha256(json.dumps(d, sort_keys=True).encode()).hexdigest()[:12]


if __name__ == "__main__":
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        print(list(ex.map(work, range(1000, 9000, 1000))))
    with multiprocessing.get_context("fork").Pool(3) as pool:
        print(pool.map(work, range(500, 5000, 500)))
    child = subprocess.run([sys.executable, "-c",
                            "print(sum(len(str(i)) for i in range(100000)))"],
                           capture_output=True, text=True, check=True)
    print(child.stdout.strip())
