#!/usr/bin/env bash
# Tune the model's post-processing defaults (`ifa.post`, docs/model-contract.md) on held-out
# sets through the real path: for each variant, a copy of the model with that `ifa.post` is run by
# scripts/ablation.sh (flow assembly, the model's references) and scored by `ifa eval`.
#
#   scripts/post_sweep.sh MODEL 'JSON' ['JSON' ...] -- VALDIR [VALDIR ...]
#
# Each JSON is merged into the model's `ifa.post`, e.g. '{"center_threshold": 0.05}'. Prints one
# table per variant; work files under target/post_sweep/. Needs .venv (training/setup.sh) for onnx.
# Tune on sets rendered with seeds that neither training nor the reported results use.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
[ $# -ge 4 ] || { sed -n '2,11p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }
model="$1"; shift
variants=()
while [ $# -gt 0 ] && [ "$1" != "--" ]; do variants+=("$1"); shift; done
[ "${1:-}" = "--" ] || { echo "post_sweep.sh: missing -- before the validation sets" >&2; exit 2; }
shift
work="$root/target/post_sweep"
mkdir -p "$work"
for i in "${!variants[@]}"; do
    v="${variants[$i]}"
    out="$work/variant$i.onnx"
    "$root/.venv/bin/python" "$root/scripts/set_post.py" "$model" "$out" "$v"
    echo "### ifa.post $v"
    "$root/scripts/ablation.sh" -o "$work/variant$i" --associations flow --refs model "$out" "$@"
done
