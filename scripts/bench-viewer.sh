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
total=$(target/release/ifa probe --json "$VIDEO" | python3 -c 'import json,sys; print(json.load(sys.stdin)["frame_count"])')
python3 - "$work/frames.log" "$total" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
rows = [(float(r[0]), float(r[1]), int(r[2]), int(r[3])) for r in rows]
rows = [r for r in rows if r[0] > 2.0]  # skip start-up
total = int(sys.argv[2])
print("| phase | frames | seconds | UI fps | median frame ms | p90 frame ms | inference fps |")
print("|---|---|---|---|---|---|---|")
for name, rs in (("while inference runs", [r for r in rows if r[3] < total]), ("after processing", [r for r in rows if r[3] >= total])):
    if len(rs) < 2:
        print(f"| {name} | {len(rs)} | - | - | - | - | - |"); continue
    span = rs[-1][0] - rs[0][0]; ft = sorted(r[1] for r in rs)
    inf = f"{(rs[-1][3] - rs[0][3]) / span:.1f}" if name.startswith("while") else "-"
    print(f"| {name} | {len(rs)} | {span:.1f} | {len(rs)/span:.1f} | {ft[len(ft)//2]:.1f} | {ft[int(len(ft)*.9)]:.1f} | {inf} |")
PY
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg); $(nproc) cores; Xvfb 1280x800, $(grep -m1 -o 'adapter[^,]*' "$work/out.txt" 2>/dev/null || echo 'wgpu default adapter')"
