#!/usr/bin/env bash
# The whole test suite: setup (idempotent), formatting and lints (Rust and Python), the Rust
# tests, then the training package's tests. Stops at the first failure.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh --python
export OMP_WAIT_POLICY=PASSIVE
# A from-scratch build gains nothing from incremental state, which costs ~2 GB of disk here.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"
echo "[test] cargo fmt --check" >&2
cargo fmt --check
echo "[test] ruff check + ruff format --check (training/, scripts/, benches/)" >&2
.venv/bin/ruff check training scripts benches
.venv/bin/ruff format --check training scripts benches
echo "[test] cargo clippy --release --all-targets --locked -- -D warnings" >&2
cargo clippy --release --all-targets --locked -- -D warnings
echo "[test] cargo test --release" >&2
cargo test --release --locked
echo "[test] training package and script helpers (pytest)" >&2
.venv/bin/python -m pytest -q training/tests scripts/tests
