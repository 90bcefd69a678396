"""``gsalign chain FILE`` and the chain section of the demo (:func:`gsalign.chain.demo_report`)."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np

from gsalign import chains
from gsalign.chain import demo_report, load_factors
from gsalign.cli import main


def test_chain_command_on_npy_and_npz(tmp_path, capsys):
    f = chains.near_identity(24, 8, 0.1, 0)
    npy, npz, png = tmp_path / "f.npy", tmp_path / "f.npz", tmp_path / "p.png"
    np.save(npy, f)
    np.savez(npz, factors=f, other=np.zeros(3))
    assert main(["chain", str(npy), "--plot", str(png)]) == 0
    out = capsys.readouterr().out
    assert "Certificate (chart 'ls', L = 24)" in out and "every non-vacuous check holds" in out
    assert png.stat().st_size > 1000
    assert isinstance(load_factors(npy), np.memmap) and isinstance(load_factors(npz), np.memmap)
    assert main(["chain", str(npz), "--chart", "top"]) == 0
    assert "chart 'top'" in capsys.readouterr().out
    # A budget below the chain's need: the certificate fails, exit code 1.
    assert main(["chain", str(npz), "--budget", "1.01"]) == 1
    assert main(["chain", str(tmp_path / "missing.npy")]) == 2
    assert main(["chain", str(npz), "--key", "nope"]) == 2
    np.save(npy, f[0])
    assert main(["chain", str(npy)]) == 2
    assert "3-D stack" in capsys.readouterr().err


def test_demo_report_prints_profile_and_certificate():
    buf = io.StringIO()
    chain = demo_report(L=32, d=16, seed=1, out=buf)
    text = buf.getvalue()
    assert len(chain) == 32
    assert "Near-identity residual chain" in text and "prefixes P_l" in text and "R2(b)" in text


def test_import_does_not_load_optional_packages():
    code = "import sys, gsalign, gsalign.chain, gsalign.theory; print(any(m in sys.modules for m in ('matplotlib', 'pandas', 'pyarrow')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
