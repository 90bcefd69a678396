"""gsalign.distributed: scans and chain sweeps on a real Dask ``LocalCluster`` (2 worker processes on
127.0.0.1, started once for the module) and on plain executors, checked bit for bit against the
local calls; faults: a task that raises, a worker killed mid-scan, an unreachable scheduler."""

from __future__ import annotations

import concurrent.futures
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("distributed")
psutil = pytest.importorskip("psutil")

import gsalign  # noqa: E402
import gsalign.distributed as gd  # noqa: E402
from gsalign.cli import main  # noqa: E402
from gsalign.exceptions import CheckpointError, InvalidArgumentError  # noqa: E402
from test_checkpoint import bf16_bytes, write_safetensors  # noqa: E402

#: Tensor names covering every rule of the depth order: stems, encoder/decoder stacks, q/k/v/o,
#: mlp in/out, fused QKV split, a conv kernel, heads; plus tensors that are skipped.
LAYOUT = {
    "embeddings.word_embeddings.weight": (96, 32),
    "stem.conv.weight": (16, 3, 3, 3),
    "encoder.layer.1.attention.self.query.weight": (32, 32),
    "encoder.layer.0.attention.output.dense.weight": (32, 32),
    "encoder.layer.0.attention.self.value.weight": (32, 32),
    "encoder.layer.0.attention.self.key.weight": (32, 32),
    "encoder.layer.0.attention.self.query.weight": (32, 32),
    "encoder.layer.0.output.dense.weight": (32, 64),
    "encoder.layer.0.intermediate.dense.weight": (64, 32),
    "encoder.layer.0.attention.self.query.bias": (32,),
    "decoder.block.0.mlp.fc2.weight": (32, 64),
    "decoder.block.0.mlp.fc1.weight": (64, 32),
    "h.2.attn.c_attn.weight": (32, 96),
    "blocks.1.mlp.fc1.weight": (64, 32),
    "h.10.mlp.c_proj.weight": (64, 32),
    "model.layers.3.self_attn.o_proj.weight": (32, 32),
    "model.layers.3.mlp.down_proj.weight": (32, 64),
    "model.layers.3.mlp.up_proj.weight": (64, 32),
    "lm_head.weight": (40, 32),
    "pooler.dense.weight": (32, 32),
}


def _tensors(seed: int, nan_layer: str | None = None, extra: int = 0, width: int = 32) -> dict:
    """safetensors entries: LAYOUT in F32/F16/BF16, an I64 tensor, a NaN layer, ``extra``
    additional width x width layers."""
    rng = np.random.default_rng(seed)
    out = {}
    for i, (name, shape) in enumerate(LAYOUT.items()):
        a = rng.standard_normal(shape) * (1 + i / 10)
        if name == nan_layer:
            a[0, 0] = np.nan
        dtype = ("F32", "F16", "BF16")[i % 3]
        if dtype == "F32":
            raw = a.astype("<f4").tobytes()
        elif dtype == "F16":
            raw = a.astype("<f2").tobytes()
        else:
            raw = bf16_bytes(a.astype(np.float32))
        out[name] = (dtype, shape, raw)
    out["embeddings.position_ids"] = ("I64", (1, 8), np.arange(8, dtype="<i8").tobytes())
    for j in range(extra):
        out[f"extra.layers.{j}.mlp.w1.weight"] = ("F32", (width, width), rng.standard_normal((width, width)).astype("<f4").tobytes())
    return out


def write_sharded(directory: Path, tensors: dict) -> Path:
    """A Hugging Face style sharded checkpoint: two shards and model.safetensors.index.json."""
    directory.mkdir(parents=True)
    names = list(tensors)
    shards = {"model-00001-of-00002.safetensors": names[::2], "model-00002-of-00002.safetensors": names[1::2]}
    weight_map = {}
    for file, part in shards.items():
        write_safetensors(directory / file, {n: tensors[n] for n in part})
        weight_map.update({n: file for n in part})
    (directory / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    return directory


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    root = tmp_path_factory.mktemp("ckpt")
    single = write_safetensors(root / "single.safetensors", _tensors(1, nan_layer="pooler.dense.weight"))
    sharded = write_sharded(root / "sharded", _tensors(2))
    big = write_safetensors(root / "big.safetensors", _tensors(3, extra=24, width=160))
    return {"single": str(single), "sharded": str(sharded), "big": str(big)}


@pytest.fixture(scope="module")
def client():
    c = gd.local_client(2, memory_limit="400MiB")
    yield c
    c.close()
    c.cluster.close()


def assert_identical(a: gsalign.ScanReport, b: gsalign.ScanReport) -> None:
    assert list(a.columns) == list(b.columns)
    for key in a.columns:
        x, y = a.columns[key], b.columns[key]
        assert x.dtype == y.dtype, key
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), key
    assert len(a.spectra) == len(b.spectra)
    assert all(s.dtype == t.dtype and np.array_equal(s, t) for s, t in zip(a.spectra, b.spectra))
    assert (a.skipped, a.files, a.charts) == (b.skipped, b.files, b.charts)


@pytest.mark.parametrize("which", ["single", "sharded"])
@pytest.mark.parametrize("split", ["tensor", "file", "checkpoint"])
def test_dask_scan_is_bit_identical_to_the_local_scan(client, checkpoints, which, split):
    local = gsalign.scan(checkpoints[which])
    remote = gd.scan(checkpoints[which], client, split=split)
    assert_identical(remote, local)
    assert len(local) == 21 and len(local.skipped) == 2
    if which == "single":
        assert remote.failed == local.failed and "pooler.dense.weight" in dict(remote.failed)


def test_pattern_charts_and_every_engine_agree(client, checkpoints):
    path = checkpoints["sharded"]
    options = {"pattern": r"encoder|h\.2", "charts": ("metric", "ls")}
    local = gsalign.scan(path, **options)
    assert 0 < len(local) < 21
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        assert_identical(gd.scan(path, executor=pool, **options), local)
    with concurrent.futures.ProcessPoolExecutor(2, mp_context=__import__("multiprocessing").get_context("spawn")) as pool:
        assert_identical(gd.scan(path, executor=pool, **options), local)
    assert_identical(gd.scan(path, client, **options), local)
    assert_identical(gd.scan(path, client.scheduler.address, **options), local)


def test_scan_many_returns_one_report_per_path_and_reports_progress(client, checkpoints):
    paths = [checkpoints["single"], checkpoints["sharded"], checkpoints["single"]]
    calls = []
    reports = gd.scan_many(paths, client, progress=lambda done, total, label: calls.append((done, total, label)))
    for path, report in zip(paths, reports):
        assert_identical(report, gsalign.scan(path))
    n_tasks = 3 * len(_tensors(0))  # 3 paths, 2 task slots: one task per tensor
    assert [c[0] for c in calls] == list(range(1, n_tasks + 1))
    assert {c[1] for c in calls} == {n_tasks}
    assert {c[2].split(": ")[0] for c in calls} == set(paths)
    calls.clear()
    many = gd.scan_many(paths + paths, client, progress=lambda done, total, label: calls.append(label))
    assert sorted(calls) == sorted(paths + paths)  # 6 paths, 2 slots: one task per checkpoint
    for report, single in zip(many, reports + reports):
        assert_identical(report, single)


class FailingPool(concurrent.futures.ThreadPoolExecutor):
    """A pool whose tasks raise when they touch ``tensor`` (a worker that cannot read it)."""

    def __init__(self, tensor: str) -> None:
        super().__init__(2)
        self.tensor = tensor

    def submit(self, fn, /, *args, **kwargs):
        if (fn is gd._scan_task and self.tensor in args[1]) or fn is gd._whole_task:

            def fail(*_):
                raise OSError(f"disk error reading {self.tensor}")

            return super().submit(fail)
        return super().submit(fn, *args, **kwargs)


def test_a_task_that_raises_gives_error_rows_and_the_rest_completes(checkpoints):
    path, bad = checkpoints["sharded"], "h.2.attn.c_attn.weight"
    local = gsalign.scan(path)
    with FailingPool(bad) as pool:
        report = gd.scan(path, executor=pool)
        # a failed whole-checkpoint task: the checkpoint is scanned again tensor by tensor
        assert_identical(gd.scan(path, executor=pool, split="checkpoint"), report)
    assert report.failed == [(bad, f"task failed: OSError: disk error reading {bad}")]
    assert report["name"][-1] == bad and report["kind"][-1] == "other" and np.isnan(report["sv_max"][-1])
    keep = np.array([not n.startswith(bad) for n in local["name"]])
    assert len(report) == keep.sum() + 1
    for key in local.columns:
        x, y = local.columns[key][keep], report.columns[key][:-1]
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), key


def test_dask_tasks_that_raise_give_error_rows_and_the_rest_completes(client, tmp_path):
    """A shard replaced by a corrupt file after the first task completed: the tasks that open it
    afterwards raise CheckpointError on the worker (and again on retry); their tensors become
    error rows, every other row is the local result."""
    path = write_sharded(tmp_path / "ckpt", _tensors(4, extra=6))
    local = gsalign.scan(path)
    shard = path / "model-00002-of-00002.safetensors"
    weight_map = json.loads((path / "model.safetensors.index.json").read_text())["weight_map"]
    shard_tensors = {n for n, file in weight_map.items() if file == shard.name}

    def corrupt_the_shard(done, total, label):
        if done == 1:
            (tmp_path / "corrupt").write_bytes(b"\xff" * 64)
            os.replace(tmp_path / "corrupt", shard)

    report = gd.scan(path, client, progress=corrupt_the_shard, retries=1)
    failed = dict(report.failed)
    assert failed and set(failed) <= shard_tensors
    assert all(e.startswith("task failed: CheckpointError") and shard.name in e for e in failed.values())
    ok = [i for i, e in enumerate(report["error"]) if not e]
    where = {n: i for i, n in enumerate(local["name"])}
    rows = [where[report["name"][i]] for i in ok]
    assert rows == sorted(rows) and len(ok) + sum(n.split("[")[0] in failed for n in local["name"]) == len(local)
    for key in local.columns:
        x, y = local.columns[key][rows], report.columns[key][ok]
        assert np.array_equal(x, y, equal_nan=x.dtype.kind == "f"), key


def test_a_worker_killed_mid_scan_leaves_a_complete_identical_result(client, checkpoints):
    path = checkpoints["big"]
    local = gsalign.scan(path)
    pids = client.run(os.getpid)
    killed = []

    def kill_a_busy_worker(done, total, label):
        if killed:
            return
        busy = [w for w, keys in client.processing().items() if keys]
        if busy:
            killed.append(pids[busy[0]])
            os.kill(pids[busy[0]], signal.SIGKILL)

    remote = gd.scan(path, client, progress=kill_a_busy_worker)
    assert killed, "no task was running on a worker when the first task completed"
    assert not psutil.pid_exists(killed[0]) or psutil.Process(killed[0]).status() == psutil.STATUS_ZOMBIE
    assert_identical(remote, local)
    assert not remote.failed
    client.wait_for_workers(2, timeout=30)
    assert killed[0] not in client.run(os.getpid).values()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_an_unreachable_scheduler_is_a_clear_error_within_seconds(checkpoints):
    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    with pytest.raises(gd.ClusterError, match="cannot reach the Dask scheduler") as info:
        gd.scan(checkpoints["single"], address, timeout=1.5)
    assert time.monotonic() - start < 6
    assert address in str(info.value) and isinstance(info.value, (gsalign.GsalignError, ConnectionError))


def test_errors_of_the_checkpoint_and_of_the_arguments(client, checkpoints, tmp_path):
    with pytest.raises(CheckpointError, match="nope"):
        gd.scan(str(tmp_path / "nope.safetensors"), client)
    with pytest.raises(InvalidArgumentError, match="client, executor"):
        gd.scan(checkpoints["single"], client, concurrent.futures.ThreadPoolExecutor(1))
    with pytest.raises(InvalidArgumentError, match="executor"):
        gd.scan(checkpoints["single"], executor=object())
    with pytest.raises(InvalidArgumentError, match="split"):
        gd.scan(checkpoints["single"], client, split="layer")
    with pytest.raises(InvalidArgumentError, match="retries"):
        gd.scan(checkpoints["single"], client, retries=-1)
    with pytest.raises(InvalidArgumentError, match="pattern"):
        gd.scan(checkpoints["single"], client, pattern="(")
    with pytest.raises(InvalidArgumentError, match="timeout"):
        gd.scan(checkpoints["single"], "tcp://127.0.0.1:1", timeout=0)


SPEC = {"generator": "near_identity", "L": 48, "d": 12, "h": 0.2}


def same(a, b) -> bool:
    """Equal, or both NaN (bit-identical results, NaN included)."""
    return a == b or (a != a and b != b)


def test_sweep_matches_chains_certified_locally(client):
    params = [{"seed": s} for s in range(4)] + [{"seed": 9, "h": 1.2}]
    table = gd.sweep(SPEC, params, client)
    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        pooled = gd.sweep(SPEC, params, executor=pool)
    assert len(table) == 5 and list(table["seed"]) == [0, 1, 2, 3, 9]
    assert list(table["h"]) == [0.2] * 4 + [1.2]
    for i, p in enumerate(params):
        args = {**SPEC, **p}
        del args["generator"]
        cert = gsalign.Chain(gsalign.chains.near_identity(**args), n_threads=1).certify()
        for key, value in cert.terms.items():
            assert same(table[key][i], value) and same(pooled[key][i], value), key
        assert table["holds"][i] == cert.holds
        for c in cert.checks:
            assert same(table[f"{c.name}.margin"][i], c.margin), c.name
            assert table[f"{c.name}.holds"][i] == c.holds and table[f"{c.name}.vacuous"][i] == c.vacuous
    converse = gd.sweep({"generator": "aligned_power_law", "L": 16, "d": 8}, [{"M": 2.0}, {"M": 8.0}], client)
    np.testing.assert_allclose(converse["slack_sum"], 0.0, atol=1e-12)


def test_sweep_checks_the_spec_before_running():
    with pytest.raises(InvalidArgumentError, match="generator"):
        gd.sweep({"generator": "nope", "L": 4, "d": 4}, [{}])
    with pytest.raises(InvalidArgumentError, match=r"params\[1\]"):
        gd.sweep(SPEC, [{"seed": 0}, {"sed": 1}])
    with pytest.raises(InvalidArgumentError, match=r"params\[0\].*h"):
        gd.sweep(SPEC, [{"h": "x"}])
    with pytest.raises(InvalidArgumentError, match="chart"):
        gd.sweep(SPEC, [{}], charts=("top",), chart="ls")


def test_nothing_listens_beyond_loopback(client):
    procs = [psutil.Process()] + psutil.Process().children(recursive=True)
    listening = []
    for p in procs:
        listening += [c.laddr for c in p.net_connections(kind="inet") if c.status == psutil.CONN_LISTEN]
    assert listening
    assert all(addr.ip in ("127.0.0.1", "::1") for addr in listening), listening
    assert all(w.startswith("tcp://127.0.0.1:") for w in client.scheduler_info()["workers"])


def test_local_workers_keep_the_dynamic_malloc_thresholds(client):
    """Dask's MALLOC_TRIM_THRESHOLD_ (it freezes glibc's mmap threshold) is not passed on."""
    assert set(client.run(os.environ.get, "MALLOC_TRIM_THRESHOLD_").values()) == {None}


def test_cli_scans_several_checkpoints_on_a_scheduler(client, checkpoints, tmp_path, capsys):
    out = tmp_path / "report.csv"
    paths = [checkpoints["single"], checkpoints["sharded"]]
    code = main(["scan", *paths, "--scheduler", client.scheduler.address, "--out", str(out)])
    captured = capsys.readouterr()
    assert code == 1  # the single checkpoint has a NaN layer
    assert f"{paths[1]}: 21 layers, 0 failed, 2 tensors skipped" in captured.out
    assert "pooler.dense.weight" in captured.err and "[38/38]" not in captured.err
    assert f"/{2 * len(_tensors(0))}]" in captured.err
    rows = out.read_text().splitlines()
    assert rows[0].startswith("checkpoint,name,") and len(rows) == 1 + 2 * 21
    code = main(["scan", checkpoints["sharded"], "--scheduler", f"tcp://127.0.0.1:{_free_port()}"])
    assert code == 2 and "cannot reach the Dask scheduler" in capsys.readouterr().err


def test_cli_local_cluster_and_in_process_defaults(checkpoints, capsys):
    code = main(["scan", checkpoints["sharded"], "--local-cluster", "1", "--pattern", "encoder"])
    captured = capsys.readouterr()
    assert code == 0 and "Per-layer profile" in captured.out and "encoder.layer.0.attention.self.query.weight" in captured.out
    script = (
        "import sys, numpy as np, gsalign, gsalign.distributed as gd\n"
        f"r = gd.scan({checkpoints['sharded']!r}); l = gsalign.scan({checkpoints['sharded']!r})\n"
        "assert all(np.array_equal(r[k], l[k], equal_nan=l[k].dtype.kind == 'f') for k in l.columns)\n"
        "assert 'distributed' not in sys.modules, 'no cluster: dask is not imported'\n"
    )
    subprocess.run([sys.executable, "-c", script], check=True, timeout=60)


def test_import_gsalign_does_not_import_dask():
    code = "import sys, gsalign; assert not {'dask', 'distributed', 'gsalign.distributed'} & set(sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
