#!/usr/bin/env bash
# Tune the model's post-processing defaults (`ifa.post`, docs/model-contract.md) on held-out
# sets through the real path: for each variant, scripts/ablation.sh runs every video with
# `ifa run --post VARIANT` (flow assembly, the model's references) and `ifa eval` scores it.
#
#   scripts/post_sweep.sh [--ifa BIN] MODEL 'JSON' ['JSON' ...] -- VALDIR [VALDIR ...]
#
# Each JSON is merged into the model's `ifa.post`, e.g. '{"center_threshold": 0.05}'. The network
# runs once per set: its head maps are recorded on the first variant and replayed for the others
# (`ifa run --save-maps / --replay-maps`, about 1 MB a frame, kept under target/post_sweep/maps/
# by the model file's checksum for later sweeps). Prints one table per variant; work files under
# target/post_sweep/. Tune on sets rendered with seeds that neither training nor the reported
# results use.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ifa=(--ifa "$root/target/release/ifa")
if [ "${1:-}" = "--ifa" ]; then ifa=(--ifa "$2"); shift 2; fi
[ $# -ge 4 ] || { sed -n '2,13p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
model="$1"; shift
[ -f "$model" ] || { echo "post_sweep.sh: model $model not found" >&2; exit 1; }
variants=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do variants+=("$1"); shift; done
[ "${1:-}" = "--" ] || { echo "post_sweep.sh: missing -- before the validation sets" >&2; exit 2; }
shift
work="$root/target/post_sweep"
maps="$work/maps/$(sha256sum "$model" | cut -c1-16)"
mkdir -p "$maps"
for i in "${!variants[@]}"; do
    v="${variants[$i]}"
    echo "### ifa.post $v"
    "$root/scripts/ablation.sh" "${ifa[@]}" -o "$work/variant$i" --associations flow --refs model \
        --post "$v" --maps "$maps" "$model" "$@"
done
