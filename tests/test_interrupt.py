"""Ctrl-C stops a long batch within a second with KeyboardInterrupt (the core polls a cancel
flag between matrices while the calling thread runs Python's signal handlers)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time

import pytest

CHILD = """
import time
import numpy as np
import gsalign
a = np.random.default_rng(0).standard_normal((6000, 128, 128))
print("ready", flush=True)
try:
    gsalign.singular_values(a, method="svd")
    print("finished", flush=True)
except KeyboardInterrupt:
    print("interrupted", flush=True)
"""


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")
def test_ctrl_c_interrupts_a_long_batch_within_a_second() -> None:
    child = subprocess.Popen([sys.executable, "-c", CHILD], stdout=subprocess.PIPE, text=True)
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "ready"
    time.sleep(0.3)
    sent = time.perf_counter()
    child.send_signal(signal.SIGINT)
    line = child.stdout.readline().strip()
    latency = time.perf_counter() - sent
    child.wait(timeout=30)
    assert line == "interrupted"
    assert latency < 1.0, latency
