"""Reading safetensors checkpoints (src/checkpoint.rs): dtypes, directories, shard indexes, and
untrusted files that must give a clear CheckpointError naming the file and the tensor, never a crash.

Files are written here by a small independent writer (struct + json), not by the code under test.
"""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

import gsalign
from gsalign import _core
from gsalign.exceptions import CheckpointError, GsalignError


def write_safetensors(path: Path, tensors: dict[str, tuple[str, tuple[int, ...], bytes]], header_extra: str = "") -> Path:
    """Writes (dtype, shape, raw bytes) per name with contiguous offsets, header padded to 8 bytes."""
    entries = {}
    offset = 0
    for name, (dtype, shape, raw) in tensors.items():
        entries[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(raw)]}
        offset += len(raw)
    header = json.dumps({"__metadata__": {"format": "pt"}, **entries}) + header_extra
    header += " " * (-len(header) % 8)
    path.write_bytes(struct.pack("<Q", len(header)) + header.encode() + b"".join(t[2] for t in tensors.values()))
    return path


def bf16_bytes(a: np.ndarray) -> bytes:
    """bfloat16 by truncating float32 (exactly representable inputs are chosen by the tests)."""
    return (np.ascontiguousarray(a, dtype="<f4").view("<u4") >> 16).astype("<u2").tobytes()


def raw_header(path: Path, header: str, data: bytes) -> Path:
    path.write_bytes(struct.pack("<Q", len(header)) + header.encode() + data)
    return path


def test_every_float_dtype_gives_the_singular_values_of_its_values(tmp_path):
    rng = np.random.default_rng(0)
    base = np.round(rng.standard_normal((24, 16)) * 64) / 64  # exact in f16 and bf16
    p = write_safetensors(
        tmp_path / "m.safetensors",
        {
            "l.0.a.weight": ("F64", base.shape, base.astype("<f8").tobytes()),
            "l.1.a.weight": ("F32", base.shape, base.astype("<f4").tobytes()),
            "l.2.a.weight": ("F16", base.shape, base.astype("<f2").tobytes()),
            "l.3.a.weight": ("BF16", base.shape, bf16_bytes(base)),
        },
    )
    r = gsalign.scan(p)
    assert list(r["dtype"]) == ["F64", "F32", "F16", "BF16"]
    expected = np.linalg.svd(base, compute_uv=False)
    for sv in r.spectra:
        np.testing.assert_allclose(sv, expected, rtol=0, atol=1e-12 * expected[0])
    assert not any(r["error"])


def test_tensor_list_directory_and_shard_index(tmp_path):
    a = np.eye(4, dtype="<f4").tobytes()
    write_safetensors(tmp_path / "model-00001-of-00002.safetensors", {"h.0.w": ("F32", (4, 4), a)})
    write_safetensors(tmp_path / "model-00002-of-00002.safetensors", {"h.1.w": ("F32", (4, 4), a), "ids": ("I64", (2,), bytes(16))})
    listing = _core.checkpoint_tensors(str(tmp_path))
    assert [(n, d, s) for n, d, s, _ in listing] == [("h.0.w", "F32", [4, 4]), ("h.1.w", "F32", [4, 4]), ("ids", "I64", [2])]
    index = {"metadata": {}, "weight_map": {"h.0.w": "model-00001-of-00002.safetensors", "h.1.w": "model-00002-of-00002.safetensors", "ids": "model-00002-of-00002.safetensors"}}
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    for target in (tmp_path, tmp_path / "model.safetensors.index.json"):
        r = gsalign.scan(target)
        assert list(r["name"]) == ["h.0.w", "h.1.w"]
        assert r.skipped == (("ids", "dtype I64 is not a scanned floating type"),)
        assert len(r.files) == 2
    index["weight_map"]["h.0.w"] = "model-00002-of-00002.safetensors"
    (tmp_path / "model.safetensors.index.json").write_text(json.dumps(index))
    with pytest.raises(CheckpointError, match=r"h\.0\.w.*does not hold it"):
        gsalign.scan(tmp_path)


@pytest.mark.parametrize("suffix", [".bin", ".pt", ".pth", ".ckpt"])
def test_pickle_files_are_never_opened(tmp_path, suffix):
    p = tmp_path / f"pytorch_model{suffix}"
    p.write_bytes(b"\x80\x04 this would run code if unpickled")
    with pytest.raises(CheckpointError, match="pickle"):
        gsalign.scan(p)
    with pytest.raises(CheckpointError, match="pickle"):
        gsalign.scan(tmp_path)


GOOD = '{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}'


@pytest.mark.parametrize(
    "header, data, tensor, message",
    [
        ('{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}', bytes(8), "w", "out of range"),
        ('{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"w":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]}}', bytes(16), "w", "duplicate"),
        ('{"u":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"v":{"dtype":"F32","shape":[2],"data_offsets":[8,16]}}', bytes(16), "v", "overlaps"),
        ('{"w":{"dtype":"F32","shape":[3,2],"data_offsets":[0,16]}}', bytes(16), "w", "needs 24 bytes"),
        ('{"w":{"dtype":"F32","shape":[2,2],"data_offsets":[16,0]}}', bytes(16), "w", "end before"),
        ('{"w":{"dtype":"Q4","shape":[2,2],"data_offsets":[0,16]}}', bytes(16), "w", "invalid header entry"),
        ('{"w":{"dtype":"F32","shape":[2,2]}}', bytes(16), "w", "invalid header entry"),
        ('{"w": [1, 2', bytes(16), "", "not a valid JSON"),
        ('[1, 2, 3]', b"", "", "not a valid JSON"),
    ],
)
def test_malformed_headers_name_file_and_tensor(tmp_path, header, data, tensor, message):
    p = raw_header(tmp_path / "bad.safetensors", header, data)
    with pytest.raises(CheckpointError) as info:
        gsalign.scan(p)
    text = str(info.value)
    assert str(p) in text and message in text
    # A fault in one tensor names it; a fault in the header or the file names no tensor.
    assert (f'tensor "{tensor}"' in text) if tensor else ('tensor "' not in text)
    assert isinstance(info.value, ValueError)


def test_truncated_files_and_header_lengths(tmp_path):
    p = tmp_path / "t.safetensors"
    p.write_bytes(b"\x01\x02")
    with pytest.raises(CheckpointError, match="truncated"):
        gsalign.scan(p)
    p.write_bytes(struct.pack("<Q", 10**12) + b"{}")
    with pytest.raises(CheckpointError, match="exceeds the file"):
        gsalign.scan(p)
    full = raw_header(tmp_path / "full.safetensors", GOOD, np.ones(4, "<f4").tobytes()).read_bytes()
    p.write_bytes(full[:-3])
    with pytest.raises(CheckpointError, match="out of range"):
        gsalign.scan(p)
    with pytest.raises(CheckpointError, match="No such file"):
        gsalign.scan(tmp_path / "missing.safetensors")


def test_non_finite_payload_is_a_per_layer_error_row(tmp_path):
    good = np.arange(1.0, 17.0, dtype="<f4").reshape(4, 4) ** 0.5
    bad = good.copy()
    bad[2, 3] = np.nan
    half = good.astype("<f2")
    half[0, 1] = np.inf
    p = write_safetensors(
        tmp_path / "m.safetensors",
        {
            "b.0.w": ("F32", (4, 4), good.tobytes()),
            "b.1.w": ("F32", (4, 4), bad.tobytes()),
            "b.2.w": ("F16", (4, 4), half.tobytes()),
            "b.3.w": ("F32", (4, 4), np.zeros((4, 4), "<f4").tobytes()),
        },
    )
    r = gsalign.scan(p)
    errors = list(r["error"])
    assert errors[0] == ""
    assert "b.1.w" in errors[1] and "row 2, column 3" in errors[1] and str(p) in errors[1]
    assert "b.2.w" in errors[2] and "row 0, column 1" in errors[2]
    assert "zero" in errors[3]
    assert [n for n, _ in r.failed] == ["b.1.w", "b.2.w", "b.3.w"]
    assert np.isnan(r["ww_alpha"][1]) and r["erank_90"][1] == -1 and r.spectra[1].size == 0
    assert np.isfinite(r["alpha_ls"][0])


def test_random_corruptions_raise_checkpoint_errors_or_scan(tmp_path):
    rng = np.random.default_rng(7)
    w = rng.standard_normal((6, 5)).astype("<f4")
    original = write_safetensors(
        tmp_path / "ok.safetensors",
        {"x.0.weight": ("F32", w.shape, w.tobytes()), "x.0.bias": ("BF16", (5,), bf16_bytes(w[0]))},
    ).read_bytes()
    target = tmp_path / "fuzz.safetensors"
    outcomes = {"error": 0, "scanned": 0}
    for trial in range(150):
        b = bytearray(original)
        mode = trial % 3
        if mode == 0:
            b = b[: int(rng.integers(0, len(b)))]
        elif mode == 1:
            b[int(rng.integers(0, len(b)))] = int(rng.integers(0, 256))
        else:
            pos = int(rng.integers(8, len(b)))
            b[pos] = ord(rng.choice(list('{}[]":,0123456789e-')))
        target.write_bytes(bytes(b))
        try:
            r = gsalign.scan(target)
        except CheckpointError as exc:
            assert str(target) in str(exc)
            outcomes["error"] += 1
        else:
            assert len(r) <= 1
            outcomes["scanned"] += 1
    assert outcomes["error"] > 50 and outcomes["scanned"] > 0


def test_checkpoint_error_is_a_gsalign_value_error():
    assert issubclass(CheckpointError, GsalignError) and issubclass(CheckpointError, ValueError)
