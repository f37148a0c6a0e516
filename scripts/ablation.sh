#!/usr/bin/env bash
# Ablation of the assembly through the real path: `ifa run` on every video of one or more
# validation sets made by `ifa synth` (videos/<name>.mp4 + instances.json), per configuration
# (association flow/center/iou x references model-count/1), results merged per set, `ifa eval`,
# and one markdown table row per (set, configuration) with AP, AP50, AP75, AR1, AR10 (percent);
# with several sets, one more row per configuration for all of them pooled (`ifa eval` with one
# --gt/--results per set), its AP's 95% interval over the pooled videos printed to stderr.
#
#   scripts/ablation.sh [options] MODEL VALDIR [VALDIR ...]
#
# Options:
#   -o, --out DIR          work folder (default: target/ablation/<model file stem>); per set and
#                          configuration it keeps per-video results and logs, results.json (merged),
#                          eval.json and eval.txt; table.md at the top
#   --ifa BIN              the ifa executable (default: target/release/ifa of this project)
#   --device D             auto, cpu or cuda (default: auto)
#   --associations "A ..." default "flow center iou"; also flow-mask; iou:T and flow-mask:T set
#                          the IoU gate (default 0.1)
#   --refs "R ..."         default "model 1"; `model` = the model's own ifa.refs.count (the row
#                          shows the number), N = --refs N
#   --post JSON            override the model's ifa.post for every run (`ifa run --post`)
#   --maps DIR             record each video's head maps under DIR/<set>/refs<R>/ on its first run
#                          and replay them afterwards (`ifa run --save-maps / --replay-maps`): the
#                          network runs once per set and reference count, so sweeps of --post or
#                          of the association cost the assembly's time only. DIR holds one
#                          network's maps: use another DIR for another model's weights
#
# Example (see docs/model-contract.md for the model, `ifa synth --help` for the sets):
#   target/release/ifa synth --out data/val_standard --preset standard --videos 20 --seed 1
#   target/release/ifa synth --out data/val_hard --preset hard --videos 20 --seed 2
#   scripts/ablation.sh models/ifa-shapes.onnx data/val_standard data/val_hard
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ifa="$root/target/release/ifa"
device=auto
associations="flow center iou"
refs_list="model 1"
out=""
post=""
maps=""

usage() { sed -n '2,31p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit "${1:-2}"; }

args=()
while [ $# -gt 0 ]; do
    case "$1" in
        -o|--out) out="$2"; shift 2 ;;
        --ifa) ifa="$2"; shift 2 ;;
        --device) device="$2"; shift 2 ;;
        --associations) associations="$2"; shift 2 ;;
        --refs) refs_list="$2"; shift 2 ;;
        --post) post="$2"; shift 2 ;;
        --maps) maps="$2"; shift 2 ;;
        -h|--help) usage 0 ;;
        --) shift; args+=("$@"); break ;;
        -*) echo "ablation.sh: unknown option $1" >&2; usage ;;
        *) args+=("$1"); shift ;;
    esac
done
[ "${#args[@]}" -ge 2 ] || usage
model="${args[0]}"
sets=("${args[@]:1}")
[ -f "$model" ] || { echo "ablation.sh: model $model not found" >&2; exit 1; }
[ -x "$ifa" ] || { echo "ablation.sh: $ifa not found; run cargo build --release or pass --ifa" >&2; exit 1; }
command -v python3 >/dev/null || { echo "ablation.sh: python3 is needed for the JSON steps" >&2; exit 1; }
[ -n "$out" ] || out="$root/target/ablation/$(basename "${model%.*}")"
mkdir -p "$out"

# The JSON steps (video list, merging results, the references used, table rows).
aj() { python3 "$root/scripts/ablation_json.py" "$@"; }

header="| set | association | refs | AP | AP50 | AP75 | AR1 | AR10 |
|---|---|---|---|---|---|---|---|"
rows=""
declare -A used_by=()
echo "model $model, ifa $ifa, device $device, results under $out" >&2
echo "$header"
for set in "${sets[@]}"; do
    gt="$set/instances.json"
    [ -f "$gt" ] || { echo "ablation.sh: $gt not found (make the set with ifa synth)" >&2; exit 1; }
    set_name="$(basename "$set")"
    mapfile -t videos < <(aj videos "$gt")
    [ "${#videos[@]}" -gt 0 ] || { echo "ablation.sh: $gt lists no video" >&2; exit 1; }
    for entry in "${videos[@]}"; do
        name="${entry#* }"
        [ -f "$set/videos/$name.mp4" ] || { echo "ablation.sh: $set/videos/$name.mp4 not found (made with --no-mp4?)" >&2; exit 1; }
    done
    for assoc in $associations; do
        for refs in $refs_list; do
            cfg="$assoc-refs$refs"
            dir="$out/$set_name/${cfg//:/-}"
            mkdir -p "$dir/videos"
            refs_flag=()
            [ "$refs" = model ] || refs_flag=(--refs "$refs")
            [ -z "$post" ] || refs_flag+=(--post "$post")
            [ -z "$maps" ] || mkdir -p "$maps/$set_name/refs$refs"
            parts=()
            start=$SECONDS
            for entry in "${videos[@]}"; do
                id="${entry%% *}"
                name="${entry#* }"
                res="$dir/videos/$name.json"
                log="$dir/videos/$name.log"
                summary="$dir/videos/$name.summary.json"
                maps_flag=()
                if [ -n "$maps" ]; then
                    m="$maps/$set_name/refs$refs/$name.maps"
                    if [ -f "$m" ]; then maps_flag=(--replay-maps "$m"); else maps_flag=(--save-maps "$m"); fi
                fi
                if ! "$ifa" run "$set/videos/$name.mp4" --model "$model" --device "$device" --video-id "$id" \
                    --association "$assoc" "${refs_flag[@]}" "${maps_flag[@]}" --json "$res" --summary-json "$summary" 2>"$log"; then
                    echo "ablation.sh: ifa run failed on $set/videos/$name.mp4 ($cfg):" >&2
                    tail -n 5 "$log" >&2
                    exit 1
                fi
                parts+=("$res")
            done
            # The reference count actually used, as `ifa run` reported it.
            used="$(aj refs "$summary")"
            aj merge "$dir/results.json" "${parts[@]}"
            "$ifa" eval --gt "$gt" --results "$dir/results.json" --json "$dir/eval.json" >"$dir/eval.txt"
            used_by[$cfg]="${used:-$refs}"
            row="$(aj row "$dir/eval.json" "$set_name" "$assoc" "${used:-$refs}")"
            echo "$row"
            echo "  ($set_name, $cfg: ${#videos[@]} videos in $((SECONDS - start)) s)" >&2
            rows+="$row"$'\n'
        done
    done
done
if [ "${#sets[@]}" -gt 1 ]; then
    for assoc in $associations; do
        for refs in $refs_list; do
            cfg="$assoc-refs$refs"
            pool_args=()
            for set in "${sets[@]}"; do
                pool_args+=(--gt "$set/instances.json" --results "$out/$(basename "$set")/${cfg//:/-}/results.json")
            done
            pdir="$out/pooled/${cfg//:/-}"
            mkdir -p "$pdir"
            "$ifa" eval "${pool_args[@]}" --bootstrap 1000 --json "$pdir/eval.json" >"$pdir/eval.txt" 2>/dev/null
            row="$(aj row "$pdir/eval.json" "pooled (${#sets[@]} sets)" "$assoc" "${used_by[$cfg]}")"
            echo "$row"
            echo "  (pooled, $cfg: AP and its 95% interval over the videos: $(grep -m1 '^  AP ' "$pdir/eval.txt" | tr -s ' ' | cut -d' ' -f3-))" >&2
            rows+="$row"$'\n'
        done
    done
fi
printf '%s\n%s' "$header" "$rows" >"$out/table.md"
echo "table written to $out/table.md" >&2
