#!/usr/bin/env bash
# Installs everything ifa needs on Debian 12 and builds it. Idempotent: each step checks
# before it acts, so a second run on a ready machine takes seconds.
#   scripts/setup.sh            system packages, ONNX Runtime, release build
#   scripts/setup.sh --python   also the training/test Python environment (.venv)
set -euo pipefail
cd "$(dirname "$0")/.."

want_python=0
for a in "$@"; do [ "$a" = "--python" ] && want_python=1; done

log() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# --- 1. Debian packages -------------------------------------------------------------
APT_PKGS=(pkg-config libclang-dev libavcodec-dev libavformat-dev libavutil-dev libswscale-dev
  ffmpeg xvfb xauth mesa-vulkan-drivers imagemagick xdotool opencv-doc unzip python3-pip python3-venv)
missing=()
for p in "${APT_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  log "installing Debian packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# --- 2. The real test clip (people walking, 768x576, 10 fps) ------------------------
if [ ! -s assets/vtest.avi ]; then
  src=$(dpkg -L opencv-doc | grep -E '/vtest\.avi(\.gz)?$' | head -n1 || true)
  [ -n "$src" ] || { echo "vtest.avi not found in opencv-doc" >&2; exit 1; }
  mkdir -p assets
  case "$src" in
    *.gz) gzip -dc "$src" > assets/vtest.avi.tmp ;;
    *) cp "$src" assets/vtest.avi.tmp ;;
  esac
  mv assets/vtest.avi.tmp assets/vtest.avi
  log "copied $src to assets/vtest.avi"
fi

# --- 3. ONNX Runtime shared library, from the PyPI wheel ----------------------------
ORT_VERSION=1.32.0
ORT_DIR=vendor/onnxruntime
if [ ! -s "$ORT_DIR/libonnxruntime.so.$ORT_VERSION" ]; then
  log "fetching onnxruntime $ORT_VERSION wheel from PyPI"
  dl=$(mktemp -d)
  python3 -m pip download -q --no-deps --only-binary=:all: "onnxruntime==$ORT_VERSION" \
    --python-version 3.11 --platform manylinux_2_28_x86_64 -d "$dl"
  mkdir -p "$ORT_DIR"
  unzip -q -j -o "$dl"/onnxruntime-*.whl "onnxruntime/capi/libonnxruntime.so.$ORT_VERSION" -d "$ORT_DIR.tmp"
  mv "$ORT_DIR.tmp/libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/"
  rmdir "$ORT_DIR.tmp"; rm -rf "$dl"
  ln -sf "libonnxruntime.so.$ORT_VERSION" "$ORT_DIR/libonnxruntime.so"
fi

# --- 4. Python environment for training, the model smoke test and the eval oracle ----
if [ "$want_python" = 1 ]; then
  bash training/setup.sh
fi

# --- 5. Build ----------------------------------------------------------------------
if ! command -v cargo >/dev/null; then
  echo "cargo not found: install Rust 1.95 with rustup first" >&2; exit 1
fi
# The test command checks formatting and lints (rustup's default profile has both).
if ! { cargo fmt --version && cargo clippy --version; } >/dev/null 2>&1 && command -v rustup >/dev/null; then
  log "adding rustfmt and clippy"
  rustup component add rustfmt clippy
fi
# A clean release build and the test suite's build took 2.6 GB under target/; ask for 4 GB to
# leave room for linking and for the rest of the disk's users.
if [ ! -x target/release/ifa ]; then
  have_mb=$(df -Pm . | awk 'NR==2 {print $4}')
  if [ "$have_mb" -lt 4000 ]; then
    echo "not enough disk to build: about 4000 MB are needed under $(pwd)/target, $have_mb MB are free" >&2
    exit 1
  fi
fi
log "building ifa (release; about 10 minutes the first time)"
cargo build --release --locked
