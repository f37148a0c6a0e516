#!/usr/bin/env python3
"""The JSON steps of scripts/ablation.sh, one subcommand each (standard library only).

ablation_json.py videos GT.json                       "<video id> <name>" per video (name = frame folder)
ablation_json.py merge OUT.json IN.json [IN.json ...]  concatenates result lists, written atomically
ablation_json.py refs SUMMARY.json                    references used, from `ifa run --summary-json`
ablation_json.py row EVAL.json SET ASSOC REFS         one markdown row from `ifa eval --json`
"""

from __future__ import annotations

import json
import os
import sys

ROW_METRICS = ("AP", "AP50", "AP75", "AR1", "AR10")


def load(path: str):
    with open(path) as f:
        return json.load(f)


def videos(gt: dict) -> list[tuple[int, str]]:
    """(id, name) per video of a YouTube-VIS ground truth; the name is its frames' folder."""
    return [(v["id"], os.path.dirname(v["file_names"][0])) for v in gt["videos"]]


def merge(parts: list[list]) -> list:
    merged: list = []
    for p in parts:
        merged.extend(p)
    return merged


def write_atomic(path: str, data) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(data, f)
    os.replace(tmp, path)


def refs_used(summary: dict) -> int:
    return int(summary["refs"]["count"])


def row(metrics: dict, set_name: str, assoc: str, refs: str) -> str:
    """Percentages with one decimal; undefined (-1) metrics as '-'."""
    cells = [f"{100 * metrics[k]:.1f}" if metrics[k] >= 0 else "-" for k in ROW_METRICS]
    return f"| {set_name} | {assoc} | {refs} | " + " | ".join(cells) + " |"


def main(argv: list[str]) -> int:
    if len(argv) < 2:
        print(__doc__, file=sys.stderr)
        return 2
    cmd, args = argv[0], argv[1:]
    if cmd == "videos" and len(args) == 1:
        for vid, name in videos(load(args[0])):
            print(vid, name)
    elif cmd == "merge" and len(args) >= 2:
        write_atomic(args[0], merge([load(p) for p in args[1:]]))
    elif cmd == "refs" and len(args) == 1:
        print(refs_used(load(args[0])))
    elif cmd == "row" and len(args) == 4:
        print(row(load(args[0])["metrics"], *args[1:]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
