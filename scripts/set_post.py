#!/usr/bin/env python3
"""Writes a copy of an ifa model whose `ifa.post` metadata has some values replaced (scripts/post_sweep.sh).

    .venv/bin/python scripts/set_post.py MODEL.onnx OUT.onnx '{"center_threshold": 0.05}'

Needs the onnx package (.venv). Prints the resulting `ifa.post` on stderr.
"""

from __future__ import annotations

import json
import sys

# Keys the contract makes optional (docs/model-contract.md): a model may lack them.
OPTIONAL = {
    "max_hidden",
    "relink_distance",
    "min_track_frames",
    "match_first_frame",
    "edge_sigma",
    "refine_radius",
    "refine_eps",
    "exchange_ratio",
    "size_weight",
    "class_penalty",
    "merge_ratio",
    "vote_distance",
    "vote_min_cells",
    "vote_min_heat",
    "vote_min_share",
    "class_hypotheses",
    "relink_same_class",
    "older_refs_same_class",
    "flow_weight",
}


def patched_post(current: str, patch: dict) -> str:
    """The `ifa.post` JSON with `patch`'s keys replaced or, for optional ones, added; unknown keys are refused."""
    post = json.loads(current)
    unknown = sorted(set(patch) - set(post) - OPTIONAL)
    if unknown:
        raise SystemExit(f"set_post.py: ifa.post has no {', '.join(unknown)} (it has {', '.join(sorted(post))})")
    post.update(patch)
    return json.dumps(post)


def main(argv: list[str]) -> int:
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    import onnx  # only here: the pure part above is tested without it

    src, dst, patch = argv[0], argv[1], json.loads(argv[2])
    m = onnx.load(src)
    props = {p.key: p for p in m.metadata_props}
    props["ifa.post"].value = patched_post(props["ifa.post"].value, patch)
    onnx.save(m, dst)
    print(f"variant: ifa.post = {props['ifa.post'].value}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
