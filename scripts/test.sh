#!/usr/bin/env bash
# The whole test suite: setup (idempotent), Rust tests, then the training package's tests.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --python
export OMP_WAIT_POLICY=PASSIVE
echo "[test] cargo test --release" >&2
cargo test --release --locked
echo "[test] training package (pytest)" >&2
.venv/bin/python -m pytest -q training/tests
