"""multiprocessing.Pool peer of bench/pool: the same cases as bench/pool/index.ts, Python's way.

Served by peer_loop.serve (bench/peers/python.ts). The 2-worker pool lives as long as the peer,
as ours does across samples; each case returns one sample in seconds (per task for the
overhead cases). Functions are module-level, so the workers (forked) know them.
"""
import time
from multiprocessing import Pool

from peer_loop import serve


def trivial(x):
    return x


def nap(x):
    time.sleep(0.1)  # the worker is blocked, as ours is with Atomics.wait
    return x


def per_task(n, chunksize=None, workers=2):
    """Seconds per task of map(trivial, range(n)) on the long-lived pool (chunksize None: Python's default)."""
    pool = pools.get(workers)
    t0 = time.perf_counter()
    pool.map(trivial, range(n), chunksize=chunksize)
    return (time.perf_counter() - t0) / n


def start_close(workers=2):
    """Seconds to start a pool, get one answer from each worker, close it and join its workers."""
    t0 = time.perf_counter()
    pool = Pool(workers)
    pool.map(trivial, range(workers), chunksize=1)
    pool.close()
    pool.join()
    return time.perf_counter() - t0


def sleep_case(workers=8, tasks=33):
    """The lecture's case: `tasks` sleeps of 0.1 s on `workers` workers, in seconds."""
    pool = pools.get(workers)
    t0 = time.perf_counter()
    pool.map(nap, range(tasks))
    return time.perf_counter() - t0


class Pools:
    """One long-lived pool per size, started (and warmed) on first use."""

    def __init__(self):
        self.by_size = {}

    def get(self, workers):
        if workers not in self.by_size:
            pool = Pool(workers)
            pool.map(trivial, range(1000))
            self.by_size[workers] = pool
        return self.by_size[workers]

    def close(self):
        for pool in self.by_size.values():
            pool.close()
            pool.join()


if __name__ == "__main__":
    pools = Pools()
    try:
        serve({"per_task": per_task, "start_close": start_close, "sleep_case": sleep_case})
    finally:
        pools.close()
