"""Chain throughput, serial share, streaming memory and Ctrl-C latency of ``gsalign.Chain``.

1. **Throughput** — factors per second for L = 10,000 near-identity factors J = I + hE (‖E‖ = 1,
   h = 1/√L) at d = 64, 128, 256, for ``gsalign.Chain(stream, charts=("ls",))`` (per-factor
   spectra, r, α_LS, ε, δ_H, effective ranks, stable rank, log ρ; prefix spectra, r, α_LS, ε, δ_H,
   η, ν, energy steps; Mode S log s_1 and slack; Mode F graded QR and the final Jacobi) against a
   straightforward numpy implementation of the same quantities written below (``numpy_chain``:
   per factor ``svd(J)``, ``J @ P``, ``svd(P)``, the same chart formulas, and Mode F with
   ``np.linalg.qr``, without gsalign's column presorting),
   measured in the same run. numpy runs on a prefix of the chain (its rate is per factor and does
   not depend on L). The factors come from a generator cycling a seeded pool of 64 factors so that
   generating them costs nothing.
2. **Serial share** — measured inside the pass (``Chain.timings()``): wall time of the serial part
   (running product + Mode F) over the whole pass on all threads. The serial part overlaps with the
   parallel per-factor work of the previous chunk, so a share near 100 % means it is the critical
   path. Also the 1-thread rate, for the parallel speed-up.
3. **Streaming memory** — peak resident memory (VmHWM) of a fresh process that streams
   ``gsalign.chains.near_identity(100_000, 64, h, stream=True)`` through ``Chain`` (all three charts).
4. **Ctrl-C latency** — time from SIGINT to the KeyboardInterrupt raised by a long chain.

Rates are the best of ``--repeats`` (default 3) interleaved runs of each side.

Run: ``.venv/bin/python benches/bench_chain.py [--quick] [--repeats N]`` (quick: L = 2,000,
streaming L = 20,000).
"""

from __future__ import annotations

import argparse
import math
import os
import signal
import subprocess
import sys
import threading
import time

if os.environ.get("OPENBLAS_CORETYPE") or os.environ.get("OPENBLAS_L2_SIZE"):
    env = {k: v for k, v in os.environ.items() if k not in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")}
    os.execve(sys.executable, [sys.executable, *sys.argv], env)

import numpy as np  # noqa: E402

import gsalign  # noqa: E402
from gsalign import chains  # noqa: E402


def cycled(pool: np.ndarray, L: int):
    for i in range(L):
        yield pool[i % len(pool)]


# --- the numpy baseline ---------------------------------------------------------------------------
def _log_h(d: int, beta: float) -> float:
    x = -beta * np.log(np.arange(1, d + 1))
    m = x.max()
    return float(m + np.log(np.exp(x - m).sum()))


def _fit_ls(s: np.ndarray) -> tuple[float, float, float, np.ndarray, float]:
    """α_LS on the default window, ε = r − R(α), δ_H, the residual vector and ‖w‖₁."""
    d = len(s)
    k = int(np.sum(s > 1e-8 * s[0]))
    ell = np.log(np.arange(1, k + 1))
    w = (ell - ell.mean()) / np.sum((ell - ell.mean()) ** 2)
    alpha = float(-w @ np.log(s[:k]))
    p = (s / s[0]) ** 2
    p /= p.sum()
    r = 0.5 * math.log(d * p[0])
    q = np.exp(-2 * alpha * np.log(np.arange(1, d + 1)) - _log_h(d, 2 * alpha))
    big_r = 0.5 * (math.log(d) - _log_h(d, 2 * alpha))
    e = np.sqrt(p) - np.sqrt(q)
    eta = float(np.max(np.abs(0.5 * np.log(d * np.maximum(p, 1e-300)) - 0.5 * np.log(d * q))))
    return alpha, r - big_r, float(np.linalg.norm(e)), e, float(np.abs(w).sum()) + 0.0 * eta


def numpy_chain(factors) -> dict[str, list]:
    out: dict[str, list] = {k: [] for k in ("log_top", "r", "alpha", "eps", "hell", "erank", "srank", "log_rho",
                                            "p_log_top", "p_r", "p_alpha", "p_eps", "p_hell", "nu", "step", "slack")}
    P = None
    c = 0.0
    Q = T = delta = None
    prev_e = prev_sp = None
    prev_top = 0.0
    for J in factors:
        d = J.shape[0]
        if P is None:
            P = np.eye(d) / math.sqrt(d)
            c = 0.5 * math.log(d)
            prev_top = -0.5 * math.log(d)
            Q, T, delta = np.eye(d), np.eye(d), np.zeros(d)
            prev_e, prev_sp = np.zeros(d), np.full(d, 1 / math.sqrt(d))
        s = np.linalg.svd(J, compute_uv=False)
        a, eps, hell, _, _ = _fit_ls(s)
        p = s**2 / np.sum(s**2)
        out["log_top"].append(math.log(s[0]))
        out["r"].append(0.5 * math.log(d * p[0]))
        out["alpha"].append(a)
        out["eps"].append(eps)
        out["hell"].append(hell)
        cp = np.cumsum(p)
        out["erank"].append([int(np.searchsorted(cp, t)) + 1 for t in (0.5, 0.9, 0.99)])
        out["srank"].append(float(np.sum((s / s[0]) ** 2)))
        out["log_rho"].append(0.5 * math.log(s[0] / s[-1]))
        M = J @ P
        f = np.linalg.norm(M)
        P = M / f
        c += math.log(f)
        sp = np.linalg.svd(P, compute_uv=False)
        pa, peps, phell, pe, _ = _fit_ls(sp)
        out["p_log_top"].append(c + math.log(sp[0]))
        out["slack"].append(math.log(s[0]) + prev_top - math.log(f) - math.log(sp[0]))
        prev_top = math.log(sp[0])
        pp = sp**2 / np.sum(sp**2)
        out["p_r"].append(0.5 * math.log(d * pp[0]))
        out["p_alpha"].append(pa)
        out["p_eps"].append(peps)
        out["p_hell"].append(phell)
        out["nu"].append(float(np.linalg.norm(pe - prev_e)))
        out["step"].append(float(np.linalg.norm(np.sqrt(pp) - prev_sp)))
        prev_e, prev_sp = pe, np.sqrt(pp)
        # Mode F (unpivoted QR).
        m = (J @ Q) * np.exp(delta - delta.max())
        Q, R = np.linalg.qr(m)
        dr = np.diag(R)
        Q = Q * np.sign(dr)
        delta = np.log(np.abs(dr)) + delta.max()
        T = (R / dr[:, None]) @ T
    B = T.T * np.exp(delta - delta.max())
    out["product"] = list(np.log(np.linalg.svd(B, compute_uv=False)) + delta.max())
    return out


# --- measurements ---------------------------------------------------------------------------------
def throughput(d: int, L: int, numpy_L: int, repeats: int) -> None:
    h = 1.0 / math.sqrt(L)
    pool = chains.near_identity(64, d, h, seed=d)
    times, share = {}, {}
    # Best of `repeats` interleaved runs for gsalign (all threads) and numpy: on a shared machine
    # the best run is the one least disturbed by other load, for both alike.
    t_np = math.inf
    for n in (1,) + (None,) * repeats:
        t0 = time.perf_counter()
        c = gsalign.Chain(cycled(pool, L), charts=("ls",), n_threads=n)
        dt = time.perf_counter() - t0
        if dt < times.get(n, math.inf):
            times[n], share[n] = dt, c.timings()["serial_share"]
        assert len(c) == L
        if n is None:
            t0 = time.perf_counter()
            ref = numpy_chain(cycled(pool, numpy_L))
            t_np = min(t_np, time.perf_counter() - t0)
    # Same quantities: compare the prefix the numpy run covered.
    short = gsalign.Chain(cycled(pool, numpy_L), charts=("ls",))
    err = max(
        float(np.max(np.abs(short.prefix_log_top() - np.array(ref["p_log_top"])))),
        float(np.max(np.abs(short.slack() - np.array(ref["slack"])))),
        float(np.max(np.abs(short.prefix_profile()["alpha_ls"] - np.array(ref["p_alpha"])))),
        float(np.max(np.abs(np.asarray(short.product_log_spectrum()) - np.array(ref["product"])))),
    )
    rate_all, rate_1, rate_np = L / times[None], L / times[1], numpy_L / t_np
    print(
        f"d = {d:4d}  L = {L}: gsalign {rate_all:9.1f} factors/s (1 thread {rate_1:8.1f}), "
        f"numpy {rate_np:8.1f} factors/s (L = {numpy_L}) -> {rate_all / rate_np:5.2f}x; "
        f"serial share {100 * share[None]:5.1f} % (1 thread: {100 * share[1]:5.1f} %); max |gsalign - numpy| = {err:.1e}",
        flush=True,
    )


_STREAM = """
import resource, sys, time, math
import gsalign
from gsalign import chains
L = int(sys.argv[1])
t0 = time.perf_counter()
c = gsalign.Chain(chains.near_identity(L, 64, 1.0 / math.sqrt(L), 0, stream=True))
dt = time.perf_counter() - t0
# VmHWM is this process's own peak; on Linux ru_maxrss of a spawned child also counts its parent's
# resident set at spawn time (the image replaced by exec).
hwm = [int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:")]
print(len(c), dt, (hwm or [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss])[0] / 1024.0)
"""


def streaming(L: int) -> None:
    out = subprocess.run([sys.executable, "-c", _STREAM, str(L)], capture_output=True, text=True, check=True)
    n, dt, rss = out.stdout.split()
    print(f"streamed generator L = {int(n):,} at d = 64 (all charts): {float(dt):.1f} s, peak RSS {float(rss):.1f} MB", flush=True)


def ctrl_c_latency() -> None:
    pool = chains.near_identity(64, 192, 0.05, 0)
    fired = {}

    def fire() -> None:
        fired["t"] = time.perf_counter()
        os.kill(os.getpid(), signal.SIGINT)

    timer = threading.Timer(1.0, fire)
    timer.start()
    try:
        gsalign.Chain(cycled(pool, 1_000_000), charts=("ls",))
    except KeyboardInterrupt:
        print(f"Ctrl-C latency (SIGINT -> KeyboardInterrupt, d = 192 stream): {1000 * (time.perf_counter() - fired['t']):.0f} ms")
    pool3 = np.concatenate([pool] * 40)
    timer = threading.Timer(1.0, fire)
    timer.start()
    try:
        gsalign.Chain(pool3, charts=("ls",))
    except KeyboardInterrupt:
        print(f"Ctrl-C latency (SIGINT -> KeyboardInterrupt, d = 192 stack): {1000 * (time.perf_counter() - fired['t']):.0f} ms")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="L = 2,000 and streaming L = 20,000")
    parser.add_argument("--sizes", default="64,128,256")
    parser.add_argument("--skip", default="", help="comma list among throughput,stream,ctrlc")
    parser.add_argument("--repeats", type=int, default=3, help="best of N runs for gsalign and numpy")
    args = parser.parse_args()
    L = 2_000 if args.quick else 10_000
    skip = set(args.skip.split(","))
    print(f"cores: os.cpu_count() = {os.cpu_count()}, usable = {len(os.sched_getaffinity(0))}; numpy {np.__version__}; gsalign {gsalign.__version__}")
    if "throughput" not in skip:
        for d in (int(x) for x in args.sizes.split(",")):
            numpy_L = {64: 2000, 128: 1000, 256: 300}.get(d, 300) // (4 if args.quick else 1)
            throughput(d, L, numpy_L, args.repeats)
    if "stream" not in skip:
        streaming(20_000 if args.quick else 100_000)
    if "ctrlc" not in skip:
        ctrl_c_latency()


if __name__ == "__main__":
    main()
