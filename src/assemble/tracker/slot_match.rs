//! One reference's matching: the candidate (detection, track) pairs that pass the gate,
//! taken greedily, best first, one-to-one.

use super::super::association::Association;
use super::{Consistency, Decision, Detection, RefFrame, RefInstance, RefVote};

/// A (detection, track) pair that passes the gate in one reference.
#[derive(Clone, Copy, Debug)]
struct Candidate {
    /// What the decision reports: the distance or the IoU.
    value: f64,
    /// What orders the pairs: `value` for IoU (highest first), [`Consistency::cost`] for distance (lowest first).
    cost: f64,
    det: usize,
    track: u32,
    /// Ordered as a merge's pair ([`order_merges`]).
    merge: bool,
}

/// The gates of a match: warped (or unwarped) center distance in input pixels, mask IoU; and
/// how the `flow` mode warps a center.
#[derive(Clone, Copy, Debug)]
pub(super) struct Gates {
    pub(super) distance: f64,
    pub(super) iou: f64,
    pub(super) motion: Motion,
}

/// Where a detection of `frame` is taken to have been in a reference (`flow` mode): its center
/// moved by `flow_weight` of its instance flow and by `1 - flow_weight` of the reference
/// track's displacement at its velocity (by all of its flow for a track seen once).
#[derive(Clone, Copy, Debug)]
pub(super) struct Motion {
    pub(super) frame: usize,
    pub(super) flow_weight: f64,
}

impl Motion {
    /// The point compared with reference instance `r` of frame `rf`, for a detection with
    /// `flow` towards `rf` (`warped`: its center moved by all of it).
    pub(super) fn probe(
        &self,
        d: &Detection,
        flow: [f64; 2],
        warped: [f64; 2],
        r: &RefInstance,
        rf: usize,
    ) -> [f64; 2] {
        let w = self.flow_weight;
        // A track seen once has no velocity: its flow is the only estimate.
        let Some(v) = r.velocity.filter(|_| w < 1.0) else {
            return warped;
        };
        let dt = self.frame.saturating_sub(rf) as f64;
        let p = d.position;
        [p[0] + w * flow[0] - (1.0 - w) * v[0] * dt, p[1] + w * flow[1] - (1.0 - w) * v[1] * dt]
    }
}

/// Identities given so far in one frame.
pub(super) struct MatchState {
    pub(super) assigned: Vec<Option<(u32, Decision)>>,
    pub(super) taken: Vec<u32>,
    pub(super) had_candidate: Vec<bool>,
}

/// One reference's candidates for the detections still without identity, taken greedily
/// (nearest or most overlapping first), one-to-one.
#[allow(clippy::too_many_arguments)]
pub(super) fn match_slot(
    slot: usize,
    rf: usize,
    mode: Association,
    (gates, consistency): (Gates, Consistency),
    detections: &[Detection],
    votes: &[Vec<RefVote>],
    ref_sets: &[&RefFrame],
    ious: &[Vec<(usize, u32, f64)>],
    st: &mut MatchState,
) {
    let by_distance = |mode, st: &mut MatchState| {
        take_by_distance(slot, rf, mode, (gates, consistency), detections, votes, ref_sets, st);
    };
    match mode {
        Association::Flow | Association::Center => by_distance(mode, st),
        Association::Iou => take_by_iou(slot, rf, mode, gates.iou, &ious[slot], st),
        Association::FlowMask => {
            take_by_iou(slot, rf, mode, gates.iou, &ious[slot], st);
            by_distance(Association::Flow, st);
        }
    }
}

/// Candidates by center distance (`flow`: the warped center, `center`: the unwarped one) within
/// the gate, lowest [`Consistency::cost`] first (nearest first when its weights are 0).
#[allow(clippy::too_many_arguments)]
fn take_by_distance(
    slot: usize,
    rf: usize,
    mode: Association,
    (gates, consistency): (Gates, Consistency),
    detections: &[Detection],
    votes: &[Vec<RefVote>],
    ref_sets: &[&RefFrame],
    st: &mut MatchState,
) {
    let thr = gates.distance;
    let mut pairs: Vec<Candidate> = Vec::new();
    for (k, (v, d)) in votes.iter().zip(detections).enumerate() {
        if st.assigned[k].is_some() {
            continue;
        }
        for r in &ref_sets[slot].centers {
            if slot > 0 && consistency.older_refs_same_class && d.class_id != r.class_id {
                continue;
            }
            // `ref_votes` computed this point once already for the nearest track it reports;
            // recomputing it (a few multiplications) is cheaper than storing one per pair.
            let probe = if mode == Association::Center {
                d.position
            } else {
                gates.motion.probe(d, v[slot].flow, v[slot].warped, r, rf)
            };
            let dist = distance(probe, r.position);
            if dist <= thr {
                let cost = consistency.cost(dist, d, r);
                consider(st, &mut pairs, Candidate { value: dist, cost, det: k, track: r.track, merge: false });
            }
        }
    }
    if consistency.merge_ratio > 0.0 {
        order_merges(&mut pairs, detections, &ref_sets[slot].centers, consistency);
    }
    pairs.sort_by(|a, b| a.cost.total_cmp(&b.cost).then(a.det.cmp(&b.det)).then(a.track.cmp(&b.track)));
    take(&pairs, slot, rf, mode, thr, consistency.is_on(), st);
}

/// A merge's area is at most this many times the areas of the tracks it holds together: crossing
/// instances overlap, so their blob is smaller than their sum (the slack is for masks that vary
/// from frame to frame); a blob much larger than its tracks together is something else, such as
/// an instance whose fragments were tracked before it was seen whole.
const MERGE_SLACK: f64 = 1.25;

/// Merges: a detection that is the nearest one (ties: the lower index) to two or more tracks
/// within the gate, has at least `merge_ratio` times the area of every track it is the nearest
/// one to, and at most [`MERGE_SLACK`] times their areas together, is crossing instances seen
/// as one blob. Its pooled flow lands between them, so the distance cannot tell them apart; its
/// pairs with those tracks are ordered by [`Consistency::merge_cost`] instead, which puts the
/// instance in front (it shows all of itself, the one behind only a part) first, and the others
/// go unseen behind it for the keep-alive and occlusion rules. A detection nearest to a track
/// it is not larger than (a large instance with a small one passing over it) is that track, as
/// the usual order says.
fn order_merges(pairs: &mut [Candidate], detections: &[Detection], refs: &[RefInstance], consistency: Consistency) {
    // Per track in the pairs: its nearest detection (track, detection, distance), in the order
    // the tracks first appear (the order the areas below are summed in, as the twin does).
    let mut nearest: Vec<(u32, usize, f64)> = Vec::new();
    for c in pairs.iter() {
        match nearest.iter_mut().find(|n| n.0 == c.track) {
            Some(n) if c.value < n.2 || (c.value == n.2 && c.det < n.1) => *n = (c.track, c.det, c.value),
            Some(_) => {}
            None => nearest.push((c.track, c.det, c.value)),
        }
    }
    let instance = |t: u32| refs.iter().find(|r| r.track == t);
    // Per detection: how many tracks it is nearest to, whether it is `merge_ratio` times larger
    // than each, and their areas together (radii squared: the common factor π cancels).
    let mut held = vec![(0usize, true, 0.0f64); detections.len()];
    for &(t, k, _) in &nearest {
        let area = instance(t).map(|r| r.radius * r.radius);
        let r2 = detections[k].radius * detections[k].radius;
        let h = &mut held[k];
        h.0 += 1;
        h.1 &= area.is_some_and(|a| r2 >= consistency.merge_ratio * a);
        h.2 += area.unwrap_or(0.0);
    }
    let is_merge = |k: usize| {
        let (count, larger, together) = held[k];
        let r = detections[k].radius;
        count >= 2 && larger && r * r <= MERGE_SLACK * together
    };
    for c in pairs.iter_mut() {
        if is_merge(c.det)
            && nearest.iter().any(|n| n.0 == c.track && n.1 == c.det)
            && let Some(r) = instance(c.track)
        {
            c.cost = consistency.merge_cost(&detections[c.det], r);
            c.merge = true;
        }
    }
}

/// Candidates by mask IoU (`ious`: (detection, track, IoU) in this reference), largest first.
fn take_by_iou(slot: usize, rf: usize, mode: Association, thr: f64, ious: &[(usize, u32, f64)], st: &mut MatchState) {
    let mut pairs: Vec<Candidate> = Vec::new();
    for &(k, t, iou) in ious {
        if st.assigned[k].is_none() && iou >= thr {
            consider(st, &mut pairs, Candidate { value: iou, cost: -iou, det: k, track: t, merge: false });
        }
    }
    pairs.sort_by(|a, b| a.cost.total_cmp(&b.cost).then(a.det.cmp(&b.det)).then(a.track.cmp(&b.track)));
    take(&pairs, slot, rf, mode, thr, false, st);
}

/// A pair within the gate: the detection had a candidate; the pair competes unless the track
/// is already taken in this frame.
fn consider(st: &mut MatchState, pairs: &mut Vec<Candidate>, c: Candidate) {
    st.had_candidate[c.det] = true;
    if !st.taken.contains(&c.track) {
        pairs.push(c);
    }
}

/// Takes sorted candidates greedily, one-to-one. With `name_passed` (distance pairs in the
/// consistency ordering) a match also names the nearer track, still free when it was taken,
/// that the ordering passed over; nearest first never passes one over, so the scan is skipped.
fn take(
    pairs: &[Candidate],
    slot: usize,
    rf: usize,
    mode: Association,
    thr: f64,
    name_passed: bool,
    st: &mut MatchState,
) {
    for c in pairs {
        if st.assigned[c.det].is_some() || st.taken.contains(&c.track) {
            continue;
        }
        let passed_over = pairs
            .iter()
            .filter(|p| name_passed && p.det == c.det && p.value < c.value && !st.taken.contains(&p.track))
            .min_by(|a, b| a.value.total_cmp(&b.value))
            .map(|p| (p.track, p.value));
        st.taken.push(c.track);
        st.assigned[c.det] = Some((
            c.track,
            Decision::Matched {
                ref_frame: rf,
                ref_slot: slot,
                by: mode,
                value: c.value,
                threshold: thr,
                passed_over,
                merge: c.merge,
            },
        ));
    }
}

/// The best (ref frame, track, value) a detection saw over its references: the nearest center
/// for `flow`/`center`, the largest overlap for `iou` (a `flow-mask` decision reports the
/// flow's fall-back, so the tracker asks with `flow`).
pub(super) fn best_seen(votes: &[RefVote], mode: Association) -> Option<(usize, u32, f64)> {
    match mode {
        Association::Iou | Association::FlowMask => votes
            .iter()
            .filter_map(|rv| rv.overlap.map(|(t, o)| (rv.ref_frame, t, o)))
            .max_by(|a, b| a.2.total_cmp(&b.2)),
        Association::Flow | Association::Center => votes
            .iter()
            .filter_map(|rv| rv.nearest.map(|(t, d)| (rv.ref_frame, t, d)))
            .min_by(|a, b| a.2.total_cmp(&b.2)),
    }
}

pub(super) fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    let dy = a[0] - b[0];
    let dx = a[1] - b[1];
    (dy * dy + dx * dx).sqrt()
}
