#!/usr/bin/env bash
# UI frame rate of the real viewer under Xvfb, while inference runs and after it is done.
#   scripts/bench-viewer.sh [MODEL|none] [SECONDS] [VIDEO]
# Prints a table from the viewer's --frame-log (time, frame ms, shown frame, processed frames).
set -euo pipefail
cd "$(dirname "$0")/.."
MODEL=${1:-models/ifa-shapes.onnx}; SECS=${2:-25}; VIDEO=${3:-assets/demo.mp4}
work=$(mktemp -d); trap 'rm -rf "$work"' EXIT
n=$(for d in $(seq 150 199); do [ -e /tmp/.X11-unix/X$d ] || [ -e /tmp/.X$d-lock ] || { echo $d; break; }; done)
Xvfb :$n -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 & xvfb=$!
sleep 1
mkdir -m 700 "$work/xdg"
if [ "$MODEL" = none ]; then m=(--no-model); else m=(--model "$MODEL"); fi
DISPLAY=:$n XDG_RUNTIME_DIR="$work/xdg" XDG_CONFIG_HOME="$work/cfg" target/release/ifa view "$VIDEO" "${m[@]}" \
  --play --loop --frame-log "$work/frames.log" >"$work/out.txt" 2>&1 & app=$!
sleep "$SECS"
kill $app; wait $app 2>/dev/null || true
kill $xvfb; wait $xvfb 2>/dev/null || true
target/release/ifa probe --json "$VIDEO" >"$work/probe.json"
python3 scripts/frame_log_table.py "$work/frames.log" "$work/probe.json"
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; Xvfb 1280x800, $(grep -m1 -o 'adapter[^,]*' "$work/out.txt" 2>/dev/null || echo 'wgpu default adapter')"
