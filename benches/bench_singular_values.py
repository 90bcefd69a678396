"""Throughput of ``gsalign.singular_values`` against numpy/LAPACK, measured in one process.

For stacks of L square matrices (d in 32…1024, L = 4e9/d³ clipped to [8, 20000]; each rate is the
best of repeated runs over about a second), in
float32 and float64, for near-identity factors I + 0.5 G/√d and Gaussian matrices, prints matrices
per second for

* ``gsalign``      — ``gsalign.singular_values(stack)`` (all cores, method="auto");
* ``numpy``        — ``numpy.linalg.svd(stack, compute_uv=False)`` (LAPACK gesdd, default BLAS threads);
* ``numpy pool``   — the same numpy call on one matrix at a time, spread over a thread pool with one
  worker per core and one BLAS thread per worker (the strongest numpy a user can write);

and the ratios gsalign/numpy and gsalign/numpy-pool. Also prints which route ``method="auto"``
takes (Gram or SVD) and the largest deviation from LAPACK relative to s_1.

OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE select a slower OpenBLAS kernel on this machine; the script
re-executes itself without them so that numpy runs at its best.

Run: ``.venv/bin/python benches/bench_singular_values.py [--quick] [--sizes 64,256]``
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import numpy as np  # noqa: E402
from threadpoolctl import threadpool_info, threadpool_limits  # noqa: E402

import gsalign  # noqa: E402


def make(kind: str, L: int, d: int, dtype: type, rng: np.random.Generator) -> np.ndarray:
    g = rng.standard_normal((L, d, d))
    if kind == "near-identity":
        g = np.eye(d) + 0.5 * g / np.sqrt(d)
    return g.astype(dtype)


def rate(fn, L: int, budget: float) -> float:
    """Matrices per second: best of repeated runs within ``budget`` seconds (at least two runs)."""
    best = float("inf")
    start = time.perf_counter()
    runs = 0
    while runs < 2 or time.perf_counter() - start < budget:
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
        runs += 1
    return L / best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--sizes", default="32,64,128,256,512,1024")
    parser.add_argument("--quick", action="store_true", help="0.3 s per case instead of 1 s")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    budget = 0.3 if args.quick else 1.0
    cores = os.cpu_count() or 1
    blas = [(i.get("internal_api"), i.get("version"), i.get("num_threads"), i.get("architecture")) for i in threadpool_info()]
    print(f"cores: {cores}; numpy {np.__version__}; BLAS {blas}; gsalign {gsalign.__version__}")
    print(f"{'kind':14s} {'dtype':7s} {'d':>5s} {'L':>5s} {'route':>5s} {'err/s1':>8s} "
          f"{'gsalign/s':>10s} {'numpy/s':>10s} {'pool/s':>10s} {'x numpy':>8s} {'x pool':>7s}")
    rng = np.random.default_rng(0)
    pool = ThreadPoolExecutor(max_workers=cores)
    for kind in ("near-identity", "gaussian"):
        for dtype in (np.float64, np.float32):
            for d in sizes:
                # About 4e9 flops of work per run (2 GFLOP of SVD ≈ 0.1-1 s here), at least 8.
                L = int(min(max(8, 4e9 / d**3), 20000))
                L -= L % cores
                a = make(kind, L, d, dtype, rng)
                ours = gsalign.singular_values(a)
                ref = np.linalg.svd(a.astype(np.float64), compute_uv=False)
                err = float((np.abs(ours - ref).max(axis=1) / ref[:, 0]).max())
                gram = gsalign.singular_values(a[:1], method="gram")
                route = "gram" if np.array_equal(gram, ours[:1]) else "svd"
                r_gs = rate(lambda: gsalign.singular_values(a), L, budget)
                r_np = rate(lambda: np.linalg.svd(a, compute_uv=False), L, budget)
                chunks = np.array_split(np.arange(L), cores)

                def pooled() -> None:
                    with threadpool_limits(limits=1, user_api="blas"):
                        list(pool.map(lambda idx: np.linalg.svd(a[idx], compute_uv=False), chunks))

                r_pool = rate(pooled, L, budget)
                print(f"{kind:14s} {np.dtype(dtype).name:7s} {d:5d} {L:5d} {route:>5s} {err:8.1e} "
                      f"{r_gs:10.4g} {r_np:10.4g} {r_pool:10.4g} {r_gs / r_np:8.2f} {r_gs / r_pool:7.2f}",
                      flush=True)
    pool.shutdown()


if __name__ == "__main__":
    main()
