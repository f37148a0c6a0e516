"""Reference post-processing and assembly in numpy: the twin of the Rust runtime.

Line-by-line twin of src/assemble/detect.rs (centers, grouping, class, score, instance flow),
src/assemble/tracker.rs (identities by instance flow), src/model/refs.rs (reference choice),
src/assemble/edges.rs (soft ids: halo cells and foreground weights) and src/assemble/idmap.rs
(id maps at the video's resolution). tests/runtime_parity.rs checks
that both give the same instances and tracks on the fixtures that
tests/runtime_fixtures/make_parity.py writes with this module.

Float rules shared with the Rust side: grouping distances in float32 (no fused multiply-add),
means summed in float64, instance flows and match distances in float64, ties to the lower
index (numpy's argmax/argmin take the first extreme; sorts are stable).

Maps follow docs/model-contract.md: semantic [K+1,h,w] logits, center [h,w] after sigmoid,
offset [2,h,w] (dy, dx), inter [L,2,h,w]; at stride s (4 or 2) cell (i, j) stands for input
(s i + (s-1)/2, s j + (s-1)/2): (4i+1.5, 4j+1.5) at stride 4 (src/model/maps.rs).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

DEFAULT_POST = {
    "center_threshold": 0.1,
    "nms_kernel": 7,
    "top_k": 32,
    "match_distance": 24.0,
    "min_pixels": 4,
    "max_hidden": 50,
    "relink_distance": 32.0,
    "min_track_frames": 1,
    "match_first_frame": True,
    "edge_sigma": 0.0,
    "refine_radius": 0.0,
    "refine_eps": 1e-3,
}


# --- reference choice (src/model/refs.rs) --------------------------------------------------


def _recent_slots(refs: dict) -> int:
    return max(refs["count"] - 1, 0) if refs["first_frame"] else refs["count"]


def reference_frames(t: int, refs: dict) -> list[int]:
    """Most recent frames t-step, t-2*step, ... then the first frame; most recent first."""
    out: list[int] = []
    if t == 0:
        return out
    recent, step = _recent_slots(refs), refs["step"]
    k = 1
    while len(out) < recent and k * step <= t:
        f = t - k * step
        if not (refs["first_frame"] and f == 0):
            out.append(f)
        k += 1
    if refs["first_frame"] and len(out) < refs["count"]:
        out.append(0)
    return out


def retain_from(t: int, refs: dict) -> int:
    return max(t + 1 - _recent_slots(refs) * refs["step"], 0)


# --- per-frame detection (src/assemble/detect.rs) ------------------------------------------


@dataclass
class Detection:
    cell: tuple[int, int]
    heat: float  # float32 value
    position: tuple[float, float]  # input pixels (y, x)
    class_id: int
    score: float
    cells: int
    flows: list[tuple[float, float]]  # per reference, (dy, dx)
    radius: float = 0.0  # of a disc as large as the mask, input pixels


def cell_center(k: np.ndarray, stride: int) -> np.ndarray:
    """Input coordinate of cell index k (float32, as src/model/maps.rs computes it)."""
    return np.float32(stride) * k.astype(np.float32) + np.float32((stride - 1) / 2)


def extract_centers(heat: np.ndarray, post: dict) -> np.ndarray:
    """Flat cell indices of the peaks, highest first (ties: lower index)."""
    h, w = heat.shape
    k = int(post["nms_kernel"])
    r = k // 2
    padded = np.pad(heat, r, mode="constant", constant_values=-np.inf)
    pooled = sliding_window_view(padded, (k, k)).max(axis=(2, 3))
    thr = np.float32(post["center_threshold"])
    idx = np.flatnonzero((heat > thr) & (heat == pooled))
    vals = heat.ravel()[idx]
    order = np.argsort(-vals, kind="stable")
    return idx[order][: int(post["top_k"])]


def vote_centers(
    qy: np.ndarray,
    qx: np.ndarray,
    cls: np.ndarray,
    cy: np.ndarray,
    cx: np.ndarray,
    nearest: np.ndarray,
    heat_flat: np.ndarray,
    k1: int,
    h: int,
    w: int,
    post: dict,
    stride: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Flat cell indices of the centers the heatmap missed, found by the offsets' votes, and
    which foreground cells voted (see `vote_centers` in src/assemble/detect.rs for the rule)."""
    vd = np.float32(post["vote_distance"])
    vd2 = vd * vd
    if cy.size:
        dy = qy - cy[nearest]
        dx = qx - cx[nearest]
        class_votes = np.bincount(nearest * k1 + cls, minlength=cy.size * k1).reshape(cy.size, k1)
        majority = class_votes[:, 1:].argmax(axis=1) + 1
        orphan = ((dy * dy + dx * dx) > vd2) & (cls != majority[nearest])
    else:
        orphan = np.ones(qy.size, bool)
    c0 = np.float32((stride - 1) / 2)
    s = np.float32(stride)
    vi = np.floor((qy[orphan] - c0) / s + np.float32(0.5))
    vj = np.floor((qx[orphan] - c0) / s + np.float32(0.5))
    ok = (vi >= 0) & (vj >= 0) & (vi < h) & (vj < w)
    if not ok.any():
        return np.zeros(0, np.int64), orphan
    votes = np.bincount(vi[ok].astype(np.int64) * w + vj[ok].astype(np.int64), minlength=h * w).reshape(h, w)
    sums = sliding_window_view(np.pad(votes, 1), (3, 3)).sum(axis=(2, 3))
    peak = sliding_window_view(np.pad(sums, 1), (3, 3)).max(axis=(2, 3))
    cand = np.flatnonzero((sums >= max(int(post.get("vote_min_cells", 8)), 1)) & (sums == peak))
    cand = cand[np.lexsort((cand, -votes.ravel()[cand], -sums.ravel()[cand]))]
    ty, tx = list(cy), list(cx)
    out = []
    for idx in cand:
        if len(ty) >= int(post["top_k"]):
            break
        i, j = int(idx // w), int(idx % w)
        y = cell_center(np.array(i), stride)
        x = cell_center(np.array(j), stride)
        near = any((y - a) * (y - a) + (x - b) * (x - b) <= vd2 for a, b in zip(ty, tx))
        same_spot = any(abs(i - int(o // w)) <= 2 and abs(j - int(o % w)) <= 2 for o in out)
        if not near and not same_spot and heat_flat[idx] >= np.float32(post.get("vote_min_heat", 0.0)):
            ty.append(y)
            tx.append(x)
            out.append(idx)
    return np.array(out, np.int64), orphan


def voted_keep(nearest: np.ndarray, voter: np.ndarray, n_centers: int, first: int, min_share: float) -> np.ndarray:
    """Per center: False for a center from votes (index `first` on) whose regrouped cells are
    less than `min_share` voters (`voted_keep` in src/assemble/detect.rs)."""
    counts = np.bincount(nearest, minlength=n_centers)
    voters = np.bincount(nearest[voter], minlength=n_centers)
    share = np.float64(np.float32(min_share))
    keep = (voters.astype(np.float64) >= share * counts.astype(np.float64)) & (counts > 0)
    keep[:first] = True
    if share <= 0:
        keep[:] = True
    return keep


def detect(semantic: np.ndarray, center: np.ndarray, offset: np.ndarray, inter: np.ndarray | None, post: dict, stride: int = 4):
    """Detections of one frame and the per-cell group map (-1 = none; else detection index)."""
    k1, h, w = semantic.shape
    n = h * w
    group = np.full(n, -1, np.int64)
    heat = center.reshape(h, w).astype(np.float32, copy=False)
    centers = extract_centers(heat, post)
    voting = float(post.get("vote_distance", 0.0)) > 0
    if centers.size == 0 and not voting:
        return [], group
    heats = heat.ravel()[centers]
    ci, cj = centers // w, centers % w
    cy = cell_center(ci, stride)
    cx = cell_center(cj, stride)

    sem = semantic.reshape(k1, n)
    argmax = sem.argmax(axis=0)
    fg = np.flatnonzero(argmax != 0)
    oy = offset[0].reshape(n).astype(np.float32, copy=False)
    ox = offset[1].reshape(n).astype(np.float32, copy=False)
    pi, pj = fg // w, fg % w
    qy = cell_center(pi, stride) + oy[fg]
    qx = cell_center(pj, stride) + ox[fg]

    def nearest_center() -> np.ndarray:
        if fg.size == 0 or cy.size == 0:
            return np.zeros(fg.size, np.int64)
        dy = qy[:, None] - cy[None, :]
        dx = qx[:, None] - cx[None, :]
        return (dy * dy + dx * dx).argmin(axis=1)

    nearest = nearest_center()
    if voting:
        first = centers.size
        more, voter = vote_centers(qy, qx, argmax[fg], cy, cx, nearest, heat.ravel(), k1, h, w, post, stride)
        if more.size:
            centers = np.concatenate([centers, more])
            heats = np.concatenate([heats, np.maximum(heat.ravel()[more], np.float32(0))])
            for regroup in range(2):
                if regroup:
                    keep = voted_keep(nearest, voter, centers.size, first, post.get("vote_min_share", 0.5))
                    if keep.all():
                        break
                    centers, heats = centers[keep], heats[keep]
                ci, cj = centers // w, centers % w
                cy = cell_center(ci, stride)
                cx = cell_center(cj, stride)
                nearest = nearest_center()
    if centers.size == 0:
        return [], group
    counts = np.bincount(nearest, minlength=centers.size)

    keep = counts >= max(int(post["min_pixels"]), 1)
    remap = np.full(centers.size, -1, np.int64)
    remap[keep] = np.arange(int(keep.sum()))
    group[fg] = remap[nearest]

    n_ref = 0 if inter is None else inter.shape[0]
    dets: list[Detection] = []
    for k in range(centers.size):
        if not keep[k]:
            continue
        cells = np.flatnonzero(group == remap[k])
        votes = np.bincount(argmax[cells], minlength=k1)
        cls = int(votes[1:].argmax()) + 1
        s = sem[:, cells].astype(np.float64)
        mx = s.max(axis=0)
        e = np.exp(s - mx)
        prob = e[cls] / e.sum(axis=0)
        nc = float(cells.size)
        heat_k = heats[k]
        score = float(prob.sum() / nc * np.float64(heat_k))
        ty = oy[cells].astype(np.float64)
        tx = ox[cells].astype(np.float64)
        flows = []
        mid = cells.size // 2  # upper median for an even count, as the Rust side
        for r in range(n_ref):
            fy = np.sort(inter[r, 0].reshape(n)[cells].astype(np.float64) - ty)[mid]
            fx = np.sort(inter[r, 1].reshape(n)[cells].astype(np.float64) - tx)[mid]
            flows.append((float(fy), float(fx)))
        dets.append(
            Detection(
                cell=(int(ci[k]), int(cj[k])),
                heat=float(heat_k),
                position=(float(cy[k]), float(cx[k])),
                class_id=cls,
                score=score,
                cells=int(cells.size),
                flows=flows,
                radius=float(np.sqrt(nc / np.pi)) * float(stride),
            )
        )
    return dets, group


# --- soft edges (src/assemble/edges.rs) ----------------------------------------------------

HALO_FLOOR = np.float32(0.05)
ID_BITS = 28


def soft_cells(semantic: np.ndarray, offset: np.ndarray, dets: list[Detection], group: np.ndarray, stride: int = 4):
    """Per cell: foreground level in fifteenths (best class against background) and the halo's
    detection index (-1 = none) for background cells with some foreground probability."""
    k1, h, w = semantic.shape
    n = h * w
    sem = semantic.reshape(k1, n).astype(np.float32, copy=False)
    best = sem[1:].max(axis=0)
    fg = (np.float32(1.0) / (np.float32(1.0) + np.exp(sem[0] - best))).astype(np.float32)
    level = np.floor(np.clip(fg, 0, 1) * np.float32(15.0) + np.float32(0.5)).astype(np.uint8)
    halo = np.full(n, -1, np.int64)
    cand = np.flatnonzero((group == -1) & (fg >= HALO_FLOOR)) if dets else np.zeros(0, np.int64)
    if cand.size:
        oy = offset[0].reshape(n).astype(np.float32, copy=False)
        ox = offset[1].reshape(n).astype(np.float32, copy=False)
        pi, pj = cand // w, cand % w
        qy = (cell_center(pi, stride) + oy[cand]).astype(np.float64)
        qx = (cell_center(pj, stride) + ox[cand]).astype(np.float64)
        py = np.array([d.position[0] for d in dets], np.float64)
        px = np.array([d.position[1] for d in dets], np.float64)
        dy = qy[:, None] - py[None, :]
        dx = qx[:, None] - px[None, :]
        halo[cand] = (dy * dy + dx * dx).argmin(axis=1)
    return level, halo


def pack(ids: np.ndarray, level: np.ndarray, foreground: bool) -> np.ndarray:
    """Soft ids: track id in the low 28 bits, (15 - weight level) in the top four; 0 stays 0."""
    lv = level.astype(np.uint32)
    lv = np.maximum(lv, 8) if foreground else np.minimum(lv, 7)
    out = ((np.uint32(15) - lv) << np.uint32(ID_BITS)) | (ids.astype(np.uint32) & np.uint32((1 << ID_BITS) - 1))
    return np.where(ids == 0, np.uint32(0), out).astype(np.uint32)


def soft_ids(group: np.ndarray, level: np.ndarray, halo: np.ndarray, track_ids: list[int]) -> np.ndarray:
    ids = np.array([0] + list(track_ids), np.uint32)
    hard = pack(ids[group + 1], level, True)
    soft = pack(ids[halo + 1], level, False)
    return np.where(group >= 0, hard, soft)


# --- identities across frames (src/assemble/tracker.rs) ------------------------------------


@dataclass
class Decision:
    kind: str  # "matched", "new_no_reference", "new_nothing_near", "new_candidates_taken", "relinked", "exchanged", "reemerged"
    ref_frame: int | None = None
    ref_slot: int | None = None
    distance: float | None = None
    nearest: tuple[int, int, float] | None = None  # (ref frame, track, distance)
    hidden: int | None = None  # relinked: frames unseen
    last_seen: int | None = None  # relinked: frame of the last sighting
    other: int | None = None  # exchanged: the other track of the exchange; reemerged: the occluder
    before: float | None = None  # exchanged: summed motion error as taken, and exchanged
    after: float | None = None


@dataclass
class TrackedInstance:
    track_id: int
    detection: Detection
    decision: Decision
    hidden_before: int = 0


@dataclass
class Track:
    id: int
    first_frame: int
    last_frame: int
    frames: int = 0
    class_votes: list[int] = field(default_factory=list)
    score_sum: float = 0.0
    last_center: tuple[float, float] = (0.0, 0.0)
    last_radius: float = 0.0
    velocity: tuple[float, float] = (0.0, 0.0)
    # While unseen: (track, frame, center, velocity) of the track that covered it (occlusion.rs `Occluder`).
    occluder: tuple | None = None

    def predict(self, frame: int) -> tuple[float, float]:
        k = float(min(max(frame - self.last_frame, 0), VELOCITY_HORIZON))
        return (self.last_center[0] + self.velocity[0] * k, self.last_center[1] + self.velocity[1] * k)

    def observe(self, frame: int, c: tuple[float, float]) -> None:
        if self.frames > 0 and frame > self.last_frame:
            dt = float(frame - self.last_frame)
            v = ((c[0] - self.last_center[0]) / dt, (c[1] - self.last_center[1]) / dt)
            a = 1.0 if self.frames == 1 else 0.5
            self.velocity = (self.velocity[0] + a * (v[0] - self.velocity[0]), self.velocity[1] + a * (v[1] - self.velocity[1]))
        self.last_frame = frame
        self.last_center = c
        self.occluder = None

    def class_id(self) -> int:
        return int(np.argmax(self.class_votes[1:])) + 1

    def score(self) -> float:
        return self.score_sum / self.frames if self.frames else 0.0


VELOCITY_HORIZON = 8
EXCHANGE_MAX_HIDDEN = 2 * VELOCITY_HORIZON  # occlusion.rs


def relink_gate(base: float, hidden: int) -> float:
    return base * min(1.0 + 0.5 * max(np.sqrt(float(hidden)) - 1.0, 0.0), 3.0)


def _extrapolate_gap(c, v, start: int, frame: int) -> tuple[float, float]:
    k = float(max(frame - start, 0))
    return (c[0] + v[0] * k, c[1] + v[1] * k)


def _dist(a, b) -> float:
    dy = a[0] - b[0]
    dx = a[1] - b[1]
    return float(np.sqrt(dy * dy + dx * dx))


# slot_match.rs MERGE_SLACK: a merge's area is at most this many times its tracks' areas together.
MERGE_SLACK = 1.25


class Tracker:
    """Nearest-in-time reference with a match wins; greedy by distance within a reference."""

    def __init__(
        self,
        refs: dict,
        match_distance: float,
        num_classes: int,
        max_hidden: int = 0,
        relink_distance: float = 0.0,
        match_first_frame: bool = True,
        exchange_ratio: float = 0.0,
        size_weight: float = 0.0,
        class_penalty: float = 0.0,
        merge_ratio: float = 0.0,
        relink_same_class: bool = False,
        older_refs_same_class: bool = False,
        flow_weight: float = 1.0,
    ):
        self.refs = refs
        # tracker.rs set_flow_weight: the flow's share in a detection's displacement to a
        # reference, the reference track's velocity the rest; clamped to [0, 1], non-finite = 1.
        fw = float(np.float32(flow_weight))
        self.flow_weight = min(max(fw, 0.0), 1.0) if np.isfinite(fw) else 1.0
        self.relink_same_class = bool(relink_same_class)
        self.older_refs_same_class = bool(older_refs_same_class)

        def clean(v: float) -> float:
            v = float(np.float32(v))  # the Rust side reads them as f32
            return max(v, 0.0) if np.isfinite(v) else 0.0

        self.size_weight = clean(size_weight)
        self.class_penalty = clean(class_penalty)
        m = float(np.float32(merge_ratio))
        self.merge_ratio = m if np.isfinite(m) and m >= 1.0 else 0.0
        r = float(np.float32(exchange_ratio))
        self.exchange_ratio = min(max(r, 0.0), 1.0) if np.isfinite(r) else 0.0
        self.match_first_frame = bool(match_first_frame)
        self.thr = float(np.float32(match_distance))  # the Rust side reads it as f32
        self.max_hidden = int(max_hidden)
        self.relink_distance = float(np.float32(relink_distance))
        self.num_classes = num_classes
        # per frame: (track id, center, radius, the track's majority class and velocity after that
        # frame; no velocity for a track seen once)
        self.memory: dict[int, list[tuple[int, tuple[float, float], float, int, tuple[float, float] | None]]] = {}
        self.tracks: dict[int, Track] = {}
        self.next_id = 1

    def _velocity(self, tid: int) -> tuple[float, float] | None:
        """A track's velocity as the memory keeps it: none for a track seen once."""
        t = self.tracks[tid]
        return t.velocity if t.frames >= 2 else None

    def _probe(self, frame: int, rf: int, d: Detection, slot: int, warped, vel) -> tuple[float, float]:
        """slot_match.rs Motion::probe: the point compared with a reference track's center."""
        w = self.flow_weight
        if w >= 1.0 or vel is None:  # a track seen once has no velocity: the flow alone
            return warped
        dt = float(max(frame - rf, 0))
        f, p = d.flows[slot], d.position
        return (p[0] + w * f[0] - (1.0 - w) * vel[0] * dt, p[1] + w * f[1] - (1.0 - w) * vel[1] * dt)

    def step(self, frame: int, refs: list[int], dets: list[Detection]) -> list[TrackedInstance]:
        thr = self.thr
        ref_sets = [self.memory.get(r, []) for r in refs]
        warped = [[(d.position[0] + d.flows[s][0], d.position[1] + d.flows[s][1]) for s in range(len(refs))] for d in dets]
        assigned: list[tuple[int, Decision] | None] = [None] * len(dets)
        taken: set[int] = set()
        had_candidate = [False] * len(dets)
        reach = _recent_slots(self.refs) * self.refs["step"]
        for slot, rf in enumerate(refs):
            # The first frame as a reference of its own gives identities only when asked to.
            if rf == 0 and self.refs["first_frame"] and frame > reach and not self.match_first_frame:
                continue
            pairs = []
            for k in range(len(dets)):
                if assigned[k] is not None:
                    continue
                for t, c, radius, cls, vel in ref_sets[slot]:
                    if slot > 0 and self.older_refs_same_class and dets[k].class_id != cls:
                        continue
                    dist = _dist(self._probe(frame, rf, dets[k], slot, warped[k][slot], vel), c)
                    if dist <= thr:
                        had_candidate[k] = True
                        if t not in taken:
                            pairs.append((self._cost(dist, dets[k], radius, cls), k, t, dist))
            if self.merge_ratio > 0:
                pairs = self._order_merges(pairs, dets, ref_sets[slot])
            pairs.sort(key=lambda p: (p[0], p[1], p[2]))
            for _, k, t, dist in pairs:
                if assigned[k] is not None or t in taken:
                    continue
                taken.add(t)
                assigned[k] = (t, Decision("matched", ref_frame=rf, ref_slot=slot, distance=dist))

        self._relink(frame, refs, dets, warped, assigned, taken)
        self._exchange(frame, dets, assigned)
        self._reemerge(frame, dets, assigned, taken)
        occluded = self._occluders(frame, dets, assigned)

        out = []
        for k, d in enumerate(dets):
            if assigned[k] is not None:
                tid, dec = assigned[k]
            else:
                tid = self.next_id
                self.next_id += 1
                if not refs:
                    dec = Decision("new_no_reference")
                elif had_candidate[k]:
                    dec = Decision("new_candidates_taken")
                else:
                    best = None  # measured from the point the matching compares (tracker.rs ref_votes)
                    for slot, rf in enumerate(refs):
                        for t, c, _, _, vel in ref_sets[slot]:
                            dist = _dist(self._probe(frame, rf, d, slot, warped[k][slot], vel), c)
                            if best is None or dist < best[2]:
                                best = (rf, t, dist)
                    dec = Decision("new_nothing_near", nearest=best)
            tr = self.tracks.setdefault(tid, Track(tid, frame, frame, 0, [0] * (self.num_classes + 1), 0.0, d.position))
            hidden_before = 0 if tr.frames == 0 else max(frame - (tr.last_frame + 1), 0)
            tr.observe(frame, d.position)
            tr.last_radius = d.radius
            tr.frames += 1
            tr.score_sum += d.score
            if 0 <= d.class_id < len(tr.class_votes):
                tr.class_votes[d.class_id] += 1
            out.append(TrackedInstance(tid, d, dec, hidden_before))
        for tid, o in occluded:
            self.tracks[tid].occluder = o

        self.memory[frame] = [
            (o.track_id, o.detection.position, o.detection.radius, self.tracks[o.track_id].class_id(), self._velocity(o.track_id)) for o in out
        ]
        keep = retain_from(frame, self.refs)
        first = self.refs["first_frame"]
        self.memory = {f: v for f, v in self.memory.items() if f >= keep or (first and f == 0)}
        return out

    def _order_merges(self, pairs: list, dets: list[Detection], ref_set: list) -> list:
        """slot_match.rs `order_merges`: a detection nearest to two or more tracks, with at least
        merge_ratio times the area of every track it is nearest to and at most MERGE_SLACK times
        their areas together, orders its pairs with them by size alone."""
        nearest: dict[int, tuple[int, float]] = {}
        for _, k, t, dist in pairs:
            n = nearest.get(t)
            if n is None or dist < n[1] or (dist == n[1] and k < n[0]):
                nearest[t] = (k, dist)
        inst = {}
        for t, _, radius, cls, _ in ref_set:
            inst.setdefault(t, (radius, cls))

        def larger(k: int, t: int) -> bool:
            return t in inst and dets[k].radius * dets[k].radius >= self.merge_ratio * inst[t][0] * inst[t][0]

        merges = set()
        for k in range(len(dets)):
            held = [t for t, (kn, _) in nearest.items() if kn == k]
            together = sum(inst[t][0] * inst[t][0] for t in held if t in inst)
            r = dets[k].radius
            if len(held) >= 2 and all(larger(k, t) for t in held) and r * r <= MERGE_SLACK * together:
                merges.add(k)
        out = []
        for cost, k, t, dist in pairs:
            if k in merges and nearest[t][0] == k and t in inst:
                radius, cls = inst[t]
                cost = abs(dets[k].radius - radius) + (0.0 if dets[k].class_id == cls else self.class_penalty)
            out.append((cost, k, t, dist))
        return out

    def _cost(self, dist: float, d: Detection, radius: float, cls: int) -> float:
        """tracker.rs `Consistency::cost`: what orders a reference's candidates."""
        penalty = 0.0 if d.class_id == cls else self.class_penalty
        return dist + self.size_weight * abs(d.radius - radius) + penalty

    def _relink(self, frame, refs, dets, warped, assigned, taken) -> None:
        """Keep-alive (tracker.rs `Tracker::relink`): unexplained detections against tracks
        unseen in this frame for at most max_hidden frames, by predicted center (with
        relink_same_class, only detections of the track's majority class)."""
        if self.max_hidden == 0 or not refs:
            return
        lost = [
            t for _, t in sorted(self.tracks.items()) if t.last_frame < frame and frame - t.last_frame - 1 <= self.max_hidden and t.id not in taken
        ]
        if not lost:
            return
        pairs = []
        for k, d in enumerate(dets):
            if assigned[k] is not None:
                continue
            for t in lost:
                if self.relink_same_class and d.class_id != t.class_id():
                    continue
                gate = relink_gate(self.relink_distance, frame - t.last_frame - 1)
                best, via = _dist(d.position, t.predict(frame)), None
                for slot, rf in enumerate(refs):
                    if rf > t.last_frame:
                        dist = _dist(warped[k][slot], t.predict(rf))
                        if dist < best:
                            best, via = dist, rf
                if best <= gate:
                    pairs.append((self._cost(best, d, t.last_radius, t.class_id()), best, k, t.id, via))
        pairs.sort(key=lambda p: (p[0], p[2], p[3]))
        for _, value, k, tid, via in pairs:
            if assigned[k] is not None or tid in taken:
                continue
            last = self.tracks[tid].last_frame
            taken.add(tid)
            assigned[k] = (tid, Decision("relinked", ref_frame=via, distance=value, hidden=frame - last - 1, last_seen=last))

    def _occluders(self, frame, dets, assigned) -> list:
        """Tracks seen in the previous frame but not in this one, with the identified detection
        nearest to their prediction within its radius + relink_distance (occlusion.rs `occluders`)."""
        if self.exchange_ratio <= 0.0 or self.max_hidden == 0 or frame == 0:
            return []
        seen = [(a[0], k) for k, a in enumerate(assigned) if a is not None]
        out = []
        for _, t in sorted(self.tracks.items()):
            if t.last_frame + 1 != frame or t.frames < 2 or any(tid == t.id for tid, _ in seen):
                continue
            p = t.predict(frame)
            best = None
            for tid, k in seen:
                d = dets[k]
                dist = _dist(p, d.position)
                if dist <= d.radius + self.relink_distance and (best is None or dist < best[0]):
                    best = (dist, tid)
            if best is not None and best[1] in self.tracks and self.tracks[best[1]].frames >= 2:
                a = self.tracks[best[1]]
                out.append((t.id, (a.id, a.last_frame, a.last_center, a.velocity)))
        return out

    def _exchange(self, frame, dets, assigned) -> None:
        """A re-linked track and its occluder exchange detections when their motion from before
        the occlusion fits that way clearly better (occlusion.rs `exchange_after_occlusion`)."""
        if self.exchange_ratio <= 0.0:
            return
        relinked = [(k, a[0], a[1]) for k, a in enumerate(assigned) if a is not None and a[1].kind == "relinked"]
        for kh, h, dec in relinked:
            if dec.hidden > EXCHANGE_MAX_HIDDEN:
                continue
            occ = self.tracks[h].occluder if h in self.tracks else None
            if occ is None:
                continue
            a_id, a_frame, a_center, a_vel = occ
            ka = next((k for k, a in enumerate(assigned) if a is not None and a[0] == a_id), None)
            if ka is None or assigned[ka][1].kind != "matched":
                continue
            th = self.tracks[h]
            ph = _extrapolate_gap(th.last_center, th.velocity, th.last_frame, frame)
            pa = _extrapolate_gap(a_center, a_vel, a_frame, frame)
            dh, da = dets[kh].position, dets[ka].position
            before = _dist(dh, ph) + _dist(da, pa)
            after = _dist(da, ph) + _dist(dh, pa)
            if after < self.exchange_ratio * before:
                for k, tid, other in ((kh, a_id, h), (ka, h, a_id)):
                    assigned[k] = (tid, Decision("exchanged", other=other, hidden=dec.hidden, last_seen=dec.last_seen, before=before, after=after))

    def _reemerge(self, frame, dets, assigned, taken) -> None:
        """Unexplained detections next to a hidden track's occluder, ahead of its motion
        (occlusion.rs `reemerge`)."""
        if self.exchange_ratio <= 0.0 or self.max_hidden == 0:
            return
        pairs = []
        for _, t in sorted(self.tracks.items()):
            if t.last_frame >= frame or frame - t.last_frame - 1 > self.max_hidden or t.id in taken or t.occluder is None:
                continue
            occ = t.occluder[0]
            ko = next((k for k, a in enumerate(assigned) if a is not None and a[0] == occ), None)
            if ko is None:
                continue
            od = dets[ko]
            gate = od.radius + self.relink_distance
            for k, d in enumerate(dets):
                if assigned[k] is not None:
                    continue
                value = _dist(d.position, od.position)
                ahead = (d.position[0] - t.last_center[0]) * t.velocity[0] + (d.position[1] - t.last_center[1]) * t.velocity[1]
                if value <= gate and ahead > 0.0:
                    pairs.append((_dist(d.position, t.predict(frame)), k, t.id, occ, value))
        pairs.sort(key=lambda p: (p[0], p[1], p[2]))
        for _, k, tid, occ, value in pairs:
            if assigned[k] is not None or tid in taken:
                continue
            last = self.tracks[tid].last_frame
            taken.add(tid)
            assigned[k] = (tid, Decision("reemerged", other=occ, distance=value, hidden=frame - last - 1, last_seen=last))


class Assembler:
    """Post-processing + assembly for one video: feed head maps frame by frame."""

    def __init__(self, post: dict, refs: dict, num_classes: int, stride: int = 4):
        """stride: the head maps' stride (`ifa.head_stride`), input pixels per cell."""
        self.post = post
        self.stride = stride
        self.tracker = Tracker(
            refs,
            post["match_distance"],
            num_classes,
            post.get("max_hidden", 50),
            post.get("relink_distance", 32.0),
            post.get("match_first_frame", True),
            post.get("exchange_ratio", 0.0),
            post.get("size_weight", 0.0),
            post.get("class_penalty", 0.0),
            post.get("merge_ratio", 0.0),
            post.get("relink_same_class", False),
            post.get("older_refs_same_class", False),
            post.get("flow_weight", 1.0),
        )

    def step(self, frame: int, refs: list[int], semantic, center, offset, inter):
        """Instances, the track-id map and the soft id map (at the head's stride) of one frame."""
        dets, group = detect(semantic, center, offset, inter if refs else None, self.post, self.stride)
        level, halo = soft_cells(semantic, offset, dets, group, self.stride)
        inst = self.tracker.step(frame, refs, dets)
        track_ids = [i.track_id for i in inst]
        ids = np.array([0] + track_ids, np.uint32)
        cells = ids[group + 1].reshape(semantic.shape[1:])  # group -1 -> 0
        soft = soft_ids(group, level, halo, track_ids).reshape(semantic.shape[1:])
        return inst, cells, soft


# --- id maps at the video's resolution (src/assemble/idmap.rs) -----------------------------


def _taps(video_len: int, cells: int, scale: float, stride: int):
    v = np.arange(video_len, dtype=np.float64)
    c = np.clip(((v + 0.5) * scale - 0.5 - (stride - 1) / 2) / stride, 0.0, cells - 1)
    i0 = np.floor(c)
    i1 = np.minimum(i0 + 1, cells - 1)
    return i0.astype(np.int64), i1.astype(np.int64), (c - i0).astype(np.float32)


def _centres(cells: int, scale: float, video_len: int, stride: int) -> np.ndarray:
    """Video pixel at each cell centre (input s k + (s-1)/2), clamped to the video."""
    v = (stride * np.arange(cells) + (stride - 1) / 2 + 0.5) / scale - 0.5
    return np.clip(np.floor(v + 0.5), 0, video_len - 1).astype(np.int64)


class IdMapper:
    """Soft ids to track ids: the id with the largest bilinear sum of weights over the four
    surrounding cells, if that reaches one half (plain ids weigh 1). With `edge_sigma` > 0 and
    the frame given, each tap's weight is also multiplied by exp(-|pixel - cell colour|^2 /
    (2 sigma^2)) (the cell's colour: the mean of the 3x3 video pixels at its centre) and the
    four renormalised, where the four cells differ (src/assemble/idmap.rs)."""

    def __init__(
        self,
        video_h: int,
        video_w: int,
        content_h: int,
        content_w: int,
        cells_h: int,
        cells_w: int,
        edge_sigma: float = 0.0,
        stride: int = 4,
        refine_radius: float = 0.0,
        refine_eps: float = 1e-3,
    ):
        self.y0, self.y1, wy = _taps(video_h, cells_h, content_h / video_h, stride)
        self.x0, self.x1, wx = _taps(video_w, cells_w, content_w / video_w, stride)
        wy, wx = wy[:, None], wx[None, :]
        self.w = np.stack([(1 - wy) * (1 - wx), (1 - wy) * wx, wy * (1 - wx), wy * wx])  # [4, H, W]
        self.cy = _centres(cells_h, content_h / video_h, video_h, stride)
        self.cx = _centres(cells_w, content_w / video_w, video_w, stride)
        self.edge_sigma = float(edge_sigma)
        # ifa.post refine_radius is in input pixels; the filter works in video pixels.
        video_per_input = 1.0 / max(content_w / video_w, content_h / video_h)
        self.refine_radius = max(1, int(np.floor(refine_radius * video_per_input + 0.5))) if refine_radius > 0 else 0
        self.refine_eps = float(refine_eps)

    def _guided(self, v: np.ndarray, image: np.ndarray) -> np.ndarray:
        """The taps' weights with the frame's colours as the guide."""
        h, w = image.shape[:2]
        img = image.astype(np.float32)
        pad = np.pad(img, ((1, 1), (1, 1), (0, 0)), mode="edge")
        # 3x3 means at the cell centres, edge pixels counted once as in Rust (clamped window).
        acc = np.zeros((len(self.cy), len(self.cx), 3), np.float32)
        cnt = np.zeros((len(self.cy), len(self.cx), 1), np.float32)
        for dy in (-1, 0, 1):
            for dx in (-1, 0, 1):
                yy, xx = self.cy + dy, self.cx + dx
                oky = (yy >= 0) & (yy < h)
                okx = (xx >= 0) & (xx < w)
                ok = (oky[:, None] & okx[None, :])[..., None].astype(np.float32)
                acc += pad[yy + 1][:, xx + 1] * ok
                cnt += ok
        colours = acc / cnt
        y0, y1, x0, x1 = self.y0[:, None], self.y1[:, None], self.x0[None, :], self.x1[None, :]
        cols = np.stack([colours[y0, x0], colours[y0, x1], colours[y1, x0], colours[y1, x1]])  # [4, H, W, 3]
        d2 = ((img[None] - cols) ** 2).sum(-1)
        g = self.w * np.exp(-d2 / np.float32(2.0 * self.edge_sigma**2)).astype(np.float32)
        total = g.sum(0, keepdims=True)
        uniform = (v == v[0:1]).all(0, keepdims=True)
        return np.where((total > 1e-6) & ~uniform, g / np.maximum(total, 1e-30), self.w).astype(np.float32)

    def render(self, cells: np.ndarray, image: np.ndarray | None = None) -> np.ndarray:
        y0, y1, x0, x1 = self.y0[:, None], self.y1[:, None], self.x0[None, :], self.x1[None, :]
        v = np.stack([cells[y0, x0], cells[y0, x1], cells[y1, x0], cells[y1, x1]]).astype(np.uint32)
        labs = v & np.uint32((1 << ID_BITS) - 1)
        base = self._guided(v, image) if image is not None and self.edge_sigma > 0 else self.w
        wts = base * ((15 - (v >> np.uint32(ID_BITS))).astype(np.float32) / np.float32(15.0))
        score = np.zeros_like(self.w)
        for a in range(4):
            for b in range(4):
                score[a] += np.where(labs[a] == labs[b], wts[b], 0.0)
        score = np.where(labs == 0, -1.0, score)
        best = score.argmax(axis=0)  # first tap wins ties, like the Rust side
        lab = np.take_along_axis(labs, best[None], axis=0)[0]
        top = np.take_along_axis(score, best[None], axis=0)[0]
        out = np.where(top >= 0.5, lab, 0)
        if image is not None and self.refine_radius > 0:
            # The filter starts from each pixel's best id and its weight before the threshold.
            soft = (lab, np.where(lab != 0, np.maximum(top, 0.0), 0.0).astype(np.float32))
            out = refine_ids(out, image, self.refine_radius, self.refine_eps, soft)
        return out


def _box_mean(x: np.ndarray, r: int) -> np.ndarray:
    """Mean over the (2r+1)^2 window of each pixel of [H, W, ...], border values repeated."""
    pad = ((r + 1, r), (r + 1, r)) + ((0, 0),) * (x.ndim - 2)
    c = np.cumsum(np.cumsum(np.pad(x, pad, mode="edge"), 0), 1)
    k = 2 * r + 1
    return (c[k:, k:] - c[:-k, k:] - c[k:, :-k] + c[:-k, :-k]) / (k * k)


def refine_ids(ids: np.ndarray, image: np.ndarray, radius: int, eps: float, soft: tuple[np.ndarray, np.ndarray] | None = None) -> np.ndarray:
    """Each instance's mask through a colour guided filter (He et al., 2010) with the frame as
    the guide, in its box widened by 3r + 2; each pixel of those boxes to the instance with the
    largest filtered value if at least one half (src/assemble/refine.rs). `soft` (each pixel's
    best id and its weight before the threshold): the filter starts from that weight instead."""
    h, w = ids.shape
    out = ids.copy()
    best = np.zeros((h, w), np.float32)
    label = np.zeros((h, w), ids.dtype)
    m = 3 * radius + 2
    crops = []
    for k in np.unique(ids[ids != 0]):
        ys, xs = np.nonzero(ids == k)
        y0, y1, x0, x1 = max(0, ys.min() - m), min(h, ys.max() + m + 1), max(0, xs.min() - m), min(w, xs.max() + m + 1)
        crops.append((y0, y1, x0, x1))
        img = image[y0:y1, x0:x1].astype(np.float64) / 255.0
        if soft is None:
            p = (ids[y0:y1, x0:x1] == k).astype(np.float64)
        else:
            p = np.where(soft[0][y0:y1, x0:x1] == k, soft[1][y0:y1, x0:x1], 0.0).astype(np.float64)
        mi, mp = _box_mean(img, radius), _box_mean(p, radius)
        cov = _box_mean(img * p[..., None], radius) - mi * mp[..., None]
        var = _box_mean(img[..., :, None] * img[..., None, :], radius) - mi[..., :, None] * mi[..., None, :]
        a = np.linalg.solve(var + eps * np.eye(3), cov[..., None])[..., 0]
        # Windows all mask or all not: a = 0 exactly, as the Rust side skips the solve there.
        flat = (mp < 1e-6) | (mp > 1.0 - 1e-6)
        a[flat] = 0.0
        b = mp - (a * mi).sum(-1)
        q = ((_box_mean(a, radius) * img).sum(-1) + _box_mean(b, radius)).astype(np.float32)
        take = (q >= 0.5) & (q > best[y0:y1, x0:x1])
        best[y0:y1, x0:x1] = np.where(take, q, best[y0:y1, x0:x1])
        label[y0:y1, x0:x1] = np.where(take, k, label[y0:y1, x0:x1])
    for y0, y1, x0, x1 in crops:
        out[y0:y1, x0:x1] = label[y0:y1, x0:x1]
    return out
