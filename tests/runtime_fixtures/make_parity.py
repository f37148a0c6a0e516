"""Writes the parity fixtures of tests/runtime_parity.rs.

20 synthetic clips of raw head outputs (semantic logits, center heatmaps, intra and inter
offsets of moving objects that appear, vanish behind occluders and come back, with noise), 4 of
two instances that cross and are seen as one blob for a while, 2 of a small instance that
slides behind a large one and comes out on the far side, then 4 at stride 2, 4 of neighbours
for the consistency ordering, 4 of a small instance without a heatmap peak (centers from
votes), 4 of crossing instances of two sizes seen as one blob (merges) and 4 of an instance of
another class appearing where a track went unseen (re-links of one class only) and 4 more where
its flow into an older reference points at that track (older references of one class only), and 4 of
two like neighbours whose flows point at each other for a few frames (the flow weighed against the
tracks' velocities, `flow_weight`), go through the Python reference (training/ifa_train/postprocess.py); the quantised maps go to
parity.bin, the reference's instances and tracks to parity.json.

    .venv/bin/python tests/runtime_fixtures/make_parity.py
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1] / "training"))
from ifa_train import postprocess as pp  # noqa: E402

N_CLIPS, N_CROSSING, N_BEHIND, N_FRAMES, H, W, K = 20, 4, 2, 12, 20, 32, 3
# Random clips whose maps are at stride 2 (a stride-2 head); appended last so that the clips
# before them keep their random draws.
N_STRIDE2 = 4
# Clips of two neighbours of other sizes and classes whose flows point at each other for a few
# frames, assembled with the consistency ordering (`size_weight`, `class_penalty`) on; last too.
N_NEIGHBOURS = 4
# Clips of a small instance beside a large one whose heatmap peak is missing for several frames
# (and, in one frame of some clips, every peak): centers from the offsets' votes on; last too.
N_VOTED = 4
# Clips of a large and a small instance of one class crossing, seen as one blob nearer the small
# one's place, assembled with `merge_ratio` on; last too.
N_MERGING = 4
# Clips of an instance that goes unseen while one of another class appears near its predicted
# place (in half of them it comes back later), assembled with `relink_same_class` on, and as many
# where the newcomer's flow into an older reference points at it, with `older_refs_same_class`
# on too; last too.
N_RECLASSED = 4
N_RECLASSED_OLDER = 4
# Clips of two instances of one class and size side by side, moving together, whose flows point
# at each other's place in frames 4..7 (as the neighbours'), assembled with `flow_weight` below 1:
# only the tracks' own velocities keep them apart; last too.
N_BLENDED = 4
SEM_SCALE, OFF_SCALE = 1.0 / 16.0, 0.5  # int8 quantisation steps; dequantised identically in Rust


def q8(x: np.ndarray, scale: float) -> np.ndarray:
    return np.clip(np.round(x / scale), -127, 127).astype(np.int8)


def deq(q: np.ndarray, scale: float) -> np.ndarray:
    return q.astype(np.float32) * np.float32(scale)


def crossing_objects(rng: np.random.Generator, radii=(2.5, 2.5, 4.0), dy: float = 1.5, bx: float = 27.0, blob_x: float = 15.2) -> list[dict]:
    """Two instances of one class on crossing paths, seen as one blob between them for frames
    4..7: while merged, both flow into the blob. Exercises the tracker's occlusion exchange."""
    cls = int(rng.integers(1, K + 1))
    y = float(rng.uniform(8, 11))
    a = {"cls": cls, "r": radii[0], "p0": np.array([y - dy, 4.0]), "v": np.array([0.0, 2.0]), "start": 0, "hide": (4, 4)}
    b = {"cls": cls, "r": radii[1], "p0": np.array([y + dy, bx]), "v": np.array([0.0, -2.0]), "start": 0, "hide": (4, 4)}
    blob = {"cls": cls, "r": radii[2], "p0": np.array([y, blob_x]), "v": np.zeros(2), "start": 4, "hide": (8, 99)}
    a["alias"] = b["alias"] = 2
    return [a, b, blob]


def behind_objects(rng: np.random.Generator) -> list[dict]:
    """A small instance slides behind a large still one, is hidden for frames 5..8 and comes out
    on the far side ahead of where its speed would put it. Exercises the re-emergence rule."""
    y = float(rng.uniform(8, 12))
    small = {
        "cls": int(rng.integers(1, K + 1)),
        "r": 1.8,
        "p0": np.array([y, 5.0]),
        "v": np.array([0.0, 1.5]),
        "start": 0,
        "hide": (5, 4),
        "jump": np.array([0.0, 5.0]),
    }
    big = {"cls": int(rng.integers(1, K + 1)), "r": 5.5, "p0": np.array([y, 16.0]), "v": np.zeros(2), "start": 0, "hide": None}
    return [small, big]


def neighbour_objects(rng: np.random.Generator) -> list[dict]:
    """A small and a large instance of different classes side by side, moving together; in
    frames 4..7 each one's flow points 5 cells towards the other's place, so the nearest warped
    center is the other track's, and only the size and class tell them apart. Both are then
    hidden in frames 8..9 and come back 4 cells towards each other, nearer the other's
    predicted place: the keep-alive's re-link, too, is decided by size and class."""
    y = float(rng.uniform(9, 11))
    ca = int(rng.integers(1, K + 1))
    cb = 1 + (ca % K)
    a = {"cls": ca, "r": 1.8, "p0": np.array([y, 4.0]), "v": np.array([0.0, 1.0]), "start": 0, "hide": (8, 2), "jump": np.array([0.0, 4.0])}
    b = {"cls": cb, "r": 4.2, "p0": np.array([y, 11.5]), "v": np.array([0.0, 1.0]), "start": 0, "hide": (8, 2), "jump": np.array([0.0, -4.0])}
    a["fbias"], b["fbias"] = np.array([0.0, 5.0]), np.array([0.0, -5.0])
    return [a, b]


def voted_objects(rng: np.random.Generator) -> list[dict]:
    """A large instance and a small one next to it, moving together; the small one has no
    heatmap peak in frames 2..7, so only its cells' votes give it a center there; every other
    clip also loses the large one's peak in frame 9."""
    y = float(rng.uniform(9, 11))
    ca = int(rng.integers(1, K + 1))
    cb = 1 + (ca % K)
    big = {"cls": ca, "r": 4.5, "p0": np.array([y, 8.0]), "v": np.array([0.0, 0.8]), "start": 0, "hide": None}
    small = {"cls": cb, "r": 1.7, "p0": np.array([y - 1.0, 13.5]), "v": np.array([0.0, 0.8]), "start": 0, "hide": None, "noheat": (2, 8)}
    if rng.random() < 0.5:
        big["noheat"] = (9, 10)
    return [big, small]


def blended_objects(rng: np.random.Generator) -> list[dict]:
    """Two instances of one class and size, 7.5 cells apart, moving together at a cell a frame;
    in frames 4..7 each one's flow points 5 cells towards the other's place, so the nearest
    warped center is the other track's, and neither size nor class tells them apart."""
    y = float(rng.uniform(9, 11))
    c = int(rng.integers(1, K + 1))
    a = {"cls": c, "r": 2.5, "p0": np.array([y, 4.0]), "v": np.array([0.0, 1.0]), "start": 0, "hide": None}
    b = {"cls": c, "r": 2.5, "p0": np.array([y, 11.5]), "v": np.array([0.0, 1.0]), "start": 0, "hide": None}
    a["fbias"], b["fbias"] = np.array([0.0, 5.0]), np.array([0.0, -5.0])
    return [a, b]


def merging_objects(rng: np.random.Generator) -> list[dict]:
    """A large and a small instance of one class on crossing paths, seen as one blob in frames
    4..7 that lies nearer the small one's last place: the nearest warped center is the small
    one's track, and only the merge rule gives the blob to the large one (in front)."""
    return crossing_objects(rng, radii=(2.8, 2.0, 3.4), dy=1.2, bx=26.0, blob_x=17.0)


def reclassed_objects(rng: np.random.Generator, second: bool = False) -> list[dict]:
    """An instance hidden from frame 4 while one of another class appears at frame 7, 5 cells
    beside its predicted place (within the re-link gate); in every other clip the hidden one
    comes back at frame 9 where its motion puts it. Without the class rule the newcomer takes
    the hidden track. `second`: the instance is hidden from frame 6 and the newcomer's flow
    into frame 5 points at it, so the older reference, not the re-link, would give the track."""
    y = float(rng.uniform(5, 9))
    ca = int(rng.integers(1, K + 1))
    back = rng.random() < 0.5
    hide = 6 if second else 4
    a = {"cls": ca, "r": 2.2, "p0": np.array([y, 6.0]), "v": np.array([0.0, 1.5]), "start": 0, "hide": (hide, 9 - hide if back else 99)}
    b = {"cls": 1 + (ca % K), "r": 2.2, "p0": np.array([y + 5.0, 16.5]), "v": np.zeros(2), "start": 7, "hide": None}
    if second:
        b["alias"] = 0
    return [a, b]


def make_clip(rng: np.random.Generator, kind: str = "random", stride: int = 4):
    """Cells of `stride` input pixels: cell c stands for input stride * c + (stride - 1) / 2."""
    n_obj = int(rng.integers(1, 5)) if kind == "random" else 0
    kinds = {
        "random": lambda _: [],
        "crossing": crossing_objects,
        "behind": behind_objects,
        "neighbours": neighbour_objects,
        "voted": voted_objects,
        "merging": merging_objects,
        "reclassed": reclassed_objects,
        "reclassed_older": lambda r: reclassed_objects(r, second=True),
        "blended": blended_objects,
    }
    objs = kinds[kind](rng)
    for _ in range(n_obj):
        objs.append(
            {
                "cls": int(rng.integers(1, K + 1)),
                "r": float(rng.uniform(1.5, 3.5)),
                "p0": np.array([rng.uniform(3, H - 3), rng.uniform(3, W - 3)]),
                "v": rng.uniform(-1.2, 1.2, size=2),
                # visible frames: appears late and/or hides for a while
                "start": int(rng.integers(0, 3)) if rng.random() < 0.3 else 0,
                # hidden for 1 to 5 frames: longer than the recent references reach, so the keep-alive re-links
                "hide": (int(rng.integers(2, 5)), int(rng.integers(1, 6))) if rng.random() < 0.45 else None,
            }
        )
    cy, cx = np.mgrid[0:H, 0:W].astype(np.float64)
    half = (stride - 1) / 2
    py, px = stride * cy + half, stride * cx + half

    def state(o, t):
        visible = t >= o["start"] and not (o["hide"] and o["hide"][0] <= t < o["hide"][0] + o["hide"][1])
        c = o["p0"] + o["v"] * t
        if "jump" in o and t >= o["hide"][0] + o["hide"][1]:
            c = c + o["jump"]
        c = np.clip(c, 1, [H - 2, W - 2])
        return visible, c * stride + half  # center in input pixels

    frames = []
    for t in range(N_FRAMES):
        refs = pp.reference_frames(t, CLIP_REFS[-1])
        sem = rng.normal(0, 0.6, size=(K + 1, H, W))
        sem[0] += 2.0
        heat = np.clip(rng.normal(0.02, 0.02, size=(H, W)), 0, 1)
        off = rng.normal(0, 6, size=(2, H, W))
        inter = rng.normal(0, 6, size=(len(refs), 2, H, W))
        owner = np.full((H, W), -1)
        for k, o in enumerate(objs):
            vis, c = state(o, t)
            if not vis:
                continue
            m = (py - c[0]) ** 2 + (px - c[1]) ** 2 <= (stride * o["r"]) ** 2
            owner[m] = k
            if "noheat" in o and o["noheat"][0] <= t < o["noheat"][1]:
                continue
            g = np.exp(-((py - c[0]) ** 2 + (px - c[1]) ** 2) / (2 * (1.5 * stride) ** 2))
            heat = np.maximum(heat, g * rng.uniform(0.5, 0.95))
        for k, o in enumerate(objs):
            m = owner == k
            if not m.any():
                continue
            _, c = state(o, t)
            sem[o["cls"], m] += 4.5 + rng.normal(0, 0.8, size=m.sum())
            if rng.random() < 0.3:  # a confusing second class on part of the mask
                other = 1 + (o["cls"] % K)
                sem[other, m] += rng.uniform(0, 5, size=m.sum())
            off[0, m] = c[0] - py[m] + rng.normal(0, 1.0, size=m.sum())
            off[1, m] = c[1] - px[m] + rng.normal(0, 1.0, size=m.sum())
            for s, rf in enumerate(refs):
                vis_r, cr = state(o, rf)
                if not vis_r and "alias" in o:  # merged into another detection: its flow points there
                    vis_r, cr = state(objs[o["alias"]], rf)
                if vis_r:
                    if "fbias" in o and 4 <= t < 8:  # the flow confused by the neighbour
                        cr = cr + o["fbias"] * stride
                    inter[s, 0, m] = cr[0] - py[m] + rng.normal(0, 2.0, size=m.sum())
                    inter[s, 1, m] = cr[1] - px[m] + rng.normal(0, 2.0, size=m.sum())
        frames.append(
            {
                "refs": refs,
                "sem": q8(sem, SEM_SCALE),
                "center": np.round(np.clip(heat, 0, 1) * 255).astype(np.uint8),
                "off": q8(off, OFF_SCALE),
                "inter": q8(inter, OFF_SCALE),
            }
        )
    return frames


CLIP_REFS: list[dict] = []


def rle(a: np.ndarray) -> list[int]:
    flat = a.ravel()
    runs = []
    i = 0
    while i < flat.size:
        j = i
        while j < flat.size and flat[j] == flat[i]:
            j += 1
        runs += [int(flat[i]), j - i]
        i = j
    return runs


def count_id_changes(frames, post: dict, refs: dict, stride: int, off: dict) -> int:
    """How many instances get another track id with `off`'s settings (a rule switched off)."""
    ids = []
    for p in (post, dict(post, **off)):
        asm = pp.Assembler(p, refs, K, stride)
        run = []
        for t, f in enumerate(frames):
            sem = deq(f["sem"], SEM_SCALE)
            center = f["center"].astype(np.float32) / np.float32(255.0)
            inst, _, _ = asm.step(t, f["refs"], sem, center, deq(f["off"], OFF_SCALE), deq(f["inter"], OFF_SCALE))
            run += [x.track_id for x in inst]
        ids.append(run)
    return sum(a != b for a, b in zip(*ids)) + abs(len(ids[0]) - len(ids[1]))


def count_vote_changes(frames, post: dict, refs: dict, stride: int, other: dict | None = None) -> int:
    """How many more instances the frames give with the centers from votes on than off (or
    than with `other`'s settings)."""
    n = []
    for p in (post, dict(post, **(other or {"vote_distance": 0.0}))):
        asm = pp.Assembler(p, refs, K, stride)
        n.append(
            sum(
                len(
                    asm.step(
                        t,
                        f["refs"],
                        deq(f["sem"], SEM_SCALE),
                        f["center"].astype(np.float32) / np.float32(255.0),
                        deq(f["off"], OFF_SCALE),
                        deq(f["inter"], OFF_SCALE),
                    )[0]
                )
                for t, f in enumerate(frames)
            )
        )
    return n[0] - n[1]


def main() -> int:
    rng = np.random.default_rng(20240611)
    n_share_drops = 0
    blob = bytearray()
    clips = []
    n_occl = N_CLIPS + N_CROSSING + N_BEHIND
    n_before = n_occl + N_STRIDE2
    n_before_votes = n_before + N_NEIGHBOURS
    n_before_merges = n_before_votes + N_VOTED
    n_before_reclassed = n_before_merges + N_MERGING
    n_reclassed = 0
    n_before_older = n_before_reclassed + N_RECLASSED
    n_older = 0
    n_before_blended = n_before_older + N_RECLASSED_OLDER
    for ci in range(n_before_blended + N_BLENDED):
        kind = "random" if ci < N_CLIPS or n_occl <= ci < n_before else ("crossing" if ci < N_CLIPS + N_CROSSING else "behind")
        if ci >= n_before:
            kind = "neighbours" if ci < n_before_votes else "voted"
        if ci >= n_before_merges:
            kind = "merging"
        if ci >= n_before_reclassed:
            kind = "reclassed"
        if ci >= n_before_older:
            kind = "reclassed_older"
        if ci >= n_before_blended:
            kind = "blended"
        stride = 2 if n_occl <= ci < n_before else 4
        refs = [
            {"count": 4, "first_frame": True, "step": 1},
            {"count": 3, "first_frame": True, "step": 2},
            {"count": 2, "first_frame": False, "step": 1},
        ][ci % 3]
        CLIP_REFS.append(refs)
        post = dict(
            pp.DEFAULT_POST,
            nms_kernel=[5, 7, 3][ci % 3],
            min_pixels=[4, 3, 1][ci % 3],
            match_distance=[24.0, 16.0, 10.0][(ci // 3) % 3],
            top_k=[32, 3][ci % 2],
            max_hidden=[50, 0, 2, 3][ci % 4],
            relink_distance=[32.0, 12.0, 20.0][(ci // 2) % 3],
            match_first_frame=ci % 5 != 4,
            exchange_ratio=[0.5, 0.0, 0.7][ci % 3],
        )
        if kind != "random":  # keep-alive on, recent references only, so that the hidden frames are bridged by re-links
            refs = {"count": 2, "first_frame": False, "step": 1}
            CLIP_REFS[-1] = refs
            post.update(max_hidden=50, relink_distance=32.0 if kind == "crossing" else 10.0, match_distance=16.0, exchange_ratio=0.5, nms_kernel=7)
        if kind == "neighbours":  # the flow's gate reaches both neighbours; the ordering decides
            refs = {"count": 2, "first_frame": False, "step": 1}
            CLIP_REFS[-1] = refs
            post.update(
                match_distance=40.0,
                max_hidden=50,
                relink_distance=32.0,
                size_weight=[1.0, 0.0, 2.0, 1.0][ci - n_before],
                class_penalty=[16.0, 24.0, 0.0, 8.0][ci - n_before],
            )
        if kind == "voted":
            j = ci - n_before_votes
            post.update(
                vote_distance=[12.0, 8.0, 16.0, 10.0][j],
                vote_min_cells=[4, 6, 3, 8][j],
                vote_min_heat=[0.0, 0.01, 0.0, 0.005][j],
                min_pixels=[4, 3, 1, 2][j],
                top_k=[32, 2, 32, 3][j],
                vote_min_share=[0.5, 0.0, 1.0, 0.9][j],
            )
        if kind == "merging":  # both tracks within the gate of the blob's warped center
            j = ci - n_before_merges
            post.update(
                match_distance=32.0,
                merge_ratio=[1.3, 1.25, 1.2, 1.35][j],
                size_weight=[2.0, 0.0, 1.0, 0.0][j],
                class_penalty=[32.0, 0.0, 8.0, 0.0][j],
            )
        if kind.startswith("reclassed"):  # the newcomer is within the widened gate of the hidden track
            post.update(relink_distance=32.0, relink_same_class=True, older_refs_same_class=kind == "reclassed_older")
        if kind == "blended":  # both tracks within the gate of either warped center
            post.update(match_distance=40.0, flow_weight=[0.4, 0.3, 0.5, 0.4][ci - n_before_blended])
        frames = make_clip(rng, kind, stride)
        if kind == "blended":
            n_diff = count_id_changes(frames, post, refs, stride, {"flow_weight": 1.0})
            print(f"clip {ci}: weighing the flow against the velocities changes {n_diff} identities")
            assert n_diff > 0, "a blended clip must exercise the flow weight"
        if kind == "reclassed":
            n_diff = count_id_changes(frames, post, refs, stride, {"relink_same_class": False})
            print(f"clip {ci}: re-linking one class only changes {n_diff} identities")
            n_reclassed += n_diff > 0
        if kind == "reclassed_older":
            n_diff = count_id_changes(frames, post, refs, stride, {"older_refs_same_class": False})
            print(f"clip {ci}: one class only in older references changes {n_diff} identities")
            n_older += n_diff > 0
        if kind == "merging":
            n_diff = count_id_changes(frames, post, refs, stride, {"merge_ratio": 0.0})
            print(f"clip {ci}: the merge rule changes {n_diff} identities")
            assert n_diff > 0, "a merging clip must exercise the merge rule"
        if kind == "neighbours":
            n_diff = count_id_changes(frames, post, refs, stride, {"size_weight": 0.0, "class_penalty": 0.0})
            print(f"clip {ci}: the consistency ordering changes {n_diff} identities")
            assert n_diff > 0, "a neighbours clip must exercise the ordering"
        if kind == "voted":
            n_more = count_vote_changes(frames, dict(post, vote_min_share=0.0), refs, stride)
            print(f"clip {ci}: centers from votes add {n_more} instances")
            assert n_more > 0, "a voted clip must exercise the centers from votes"
            n_dropped = -count_vote_changes(frames, post, refs, stride, {"vote_min_share": 0.0})
            print(f"clip {ci}: the voters' share drops {n_dropped} instances")
            n_share_drops += n_dropped
        asm = pp.Assembler(post, refs, K, stride)
        out_frames = []
        for t, f in enumerate(frames):
            start = len(blob)
            for key in ("sem", "center", "off", "inter"):
                blob += f[key].tobytes()
            sem = deq(f["sem"], SEM_SCALE)
            center = f["center"].astype(np.float32) / np.float32(255.0)
            off = deq(f["off"], OFF_SCALE)
            inter = deq(f["inter"], OFF_SCALE)
            inst, cells, soft = asm.step(t, f["refs"], sem, center, off, inter)
            out_frames.append(
                {
                    "offset": start,
                    "refs": f["refs"],
                    "instances": [
                        {
                            "track": x.track_id,
                            "class": x.detection.class_id,
                            "score": x.detection.score,
                            "cells": x.detection.cells,
                            "radius": x.detection.radius,
                            "cell": list(x.detection.cell),
                            "flows": [list(fl) for fl in x.detection.flows],
                            "decision": x.decision.kind,
                            "ref_frame": x.decision.ref_frame,
                            "last_seen": x.decision.last_seen,
                            "hidden_before": x.hidden_before,
                            "other": x.decision.other,
                        }
                        for x in inst
                    ],
                    "cells_rle": rle(cells),
                    "soft_rle": rle(soft),
                }
            )
        tracks = [
            {"id": tr.id, "class": tr.class_id(), "score": tr.score(), "frames": tr.frames, "first": tr.first_frame, "last": tr.last_frame}
            for tr in asm.tracker.tracks.values()
        ]
        clips.append({"refs": refs, "post": post, "stride": stride, "frames": out_frames, "tracks": tracks})
    meta = {
        "h": H,
        "w": W,
        "classes": K,
        "sem_scale": SEM_SCALE,
        "off_scale": OFF_SCALE,
        "layout": "per frame: sem i8[K+1,h,w], center u8[h,w] (/255), off i8[2,h,w], inter i8[L,2,h,w]",
        "clips": clips,
    }
    assert n_share_drops > 0, "the voted clips must exercise the voters' share"
    assert n_reclassed >= 3, "the reclassed clips must exercise the class rule of re-links"
    assert n_older >= 3, "the reclassed_older clips must exercise the class rule of older references"
    (HERE / "parity.bin").write_bytes(bytes(blob))
    (HERE / "parity.json").write_text(json.dumps(meta, separators=(",", ":")))
    n_inst = sum(len(f["instances"]) for c in clips for f in c["frames"])
    n_match = sum(x["decision"] == "matched" for c in clips for f in c["frames"] for x in f["instances"])
    n_tracks = sum(len(c["tracks"]) for c in clips)
    n_relink = sum(x["decision"] == "relinked" for c in clips for f in c["frames"] for x in f["instances"])
    n_exch = sum(x["decision"] == "exchanged" for c in clips for f in c["frames"] for x in f["instances"])
    n_emerge = sum(x["decision"] == "reemerged" for c in clips for f in c["frames"] for x in f["instances"])
    print(
        f"{len(clips)} clips, {n_inst} instances ({n_match} matched, {n_relink} re-linked, {n_exch} exchanged, {n_emerge} re-emerged), {n_tracks} tracks, {len(blob)} bytes"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
