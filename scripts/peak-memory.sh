#!/usr/bin/env bash
# Peak memory of `ifa run` over a long video: makes a 640x360, 25 fps clip of FFmpeg's testsrc
# (20 minutes unless told otherwise), runs `ifa run` on it with JSON and CSV output under
# `/usr/bin/time -v`, and prints the maximum resident set size with the frame and track counts.
# A measurement, not a test: it takes as long as the model needs for every frame.
#
#   scripts/peak-memory.sh [--minutes N] [--model PATH] [--device D] [--ifa BIN]
#
# --model defaults to the shipped model, --device to cpu, --ifa to target/release/ifa.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ifa="$root/target/release/ifa"
minutes=20
model=""
device=cpu
while [[ $# -gt 0 ]]; do
    case "$1" in
        --minutes) minutes="$2"; shift 2 ;;
        --model) model="$2"; shift 2 ;;
        --device) device="$2"; shift 2 ;;
        --ifa) ifa="$2"; shift 2 ;;
        -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
done
[[ -x "$ifa" ]] || { echo "no ifa binary at $ifa (cargo build --release)" >&2; exit 1; }
[[ -x /usr/bin/time ]] || { echo "/usr/bin/time is missing (apt-get install time)" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
clip="$work/testsrc-${minutes}min.mp4"
echo "making a ${minutes}-minute 640x360 clip..." >&2
ffmpeg -v error -nostdin -y -f lavfi -i "testsrc=size=640x360:rate=25" -t "$((minutes * 60))" \
    -c:v libx264 -preset ultrafast -pix_fmt yuv420p "$clip"

args=(run "$clip" --device "$device" --json "$work/results.json" --csv "$work/results.csv")
[[ -n "$model" ]] && args+=(--model "$model")
echo "running ifa ${args[*]}" >&2
/usr/bin/time -v "$ifa" "${args[@]}" 2> "$work/log" || { tr '\r' '\n' < "$work/log" | tail -20 >&2; exit 1; }

rss_kb="$(awk -F': ' '/Maximum resident set size/ {print $2}' "$work/log")"
summary="$(tr '\r' '\n' < "$work/log" | grep -m1 'tracks over' || true)"
wall="$(awk -F': ' '/Elapsed \(wall clock\)/ {print $2}' "$work/log")"
json_mb="$(du -m "$work/results.json" | cut -f1)"
csv_mb="$(du -m "$work/results.csv" | cut -f1)"
echo "$summary"
echo "wall clock $wall; results.json ${json_mb} MiB, results.csv ${csv_mb} MiB"
echo "peak RSS: $((rss_kb / 1024)) MiB ($rss_kb KiB)"
