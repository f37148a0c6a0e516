//! Assembly across frames (method §2 steps 5–7): instance flow warps each detection's center
//! into its references, where the instances already have identities.
//!
//! Decision policy: references are tried in the order the runtime chose them (most recent
//! first, the first frame last), so the nearest-in-time reference with a match wins and older
//! ones are fall-backs for occlusion. Within one reference, candidate pairs (detection, track)
//! are taken greedily, best first, each detection and each track at most once per frame.
//! Greedy rather than Hungarian: with a gate, conflicts are rare, greedy never gives a
//! detection a worse track to improve someone else's match, and it is simple to mirror exactly
//! in the Python reference (`postprocess.py`).
//!
//! The comparison is the [`Association`] mode: `flow` (the method: warped center within
//! `match_distance`, nearest first), or the ablation baselines `center` (unwarped center, same
//! gate) and `iou` (stride-4 mask IoU at least the threshold, highest first). Everything else
//! (reference order, fall-back, one-to-one greedy) is shared, so the ablation isolates the
//! comparison. Only `flow` has a Python twin.
//!
//! Keep-alive: a detection that no reference explains may still belong to a track that went
//! unseen (missed by the detector, or hidden behind another instance) for up to `max_hidden`
//! frames. Such tracks are predicted forward from their last center at their recent velocity;
//! the detection is re-linked to the nearest prediction within a gate that widens with the time
//! hidden, either in this frame or, through the instance flow, in one of the references.
//! Without it, three quarters of the identity breaks measured on the standard preset followed
//! a run of 3 or more missed frames, longer than the recent references reach.

use std::collections::BTreeMap;

use super::association::{Association, AssociationParams, mask_ious, shifted_mask_ious};
use super::detect::Detection;
use crate::model::RefsPolicy;
use crate::model::maps::HEAD_STRIDE;
use crate::model::refs::{recent_reach, retain_from};

/// What the detection met in one reference.
#[derive(Clone, Debug, PartialEq)]
pub struct RefVote {
    pub ref_frame: usize,
    /// Instance flow (dy, dx) towards this reference, input pixels.
    pub flow: [f64; 2],
    /// Center + flow, input pixels (y, x).
    pub warped: [f64; 2],
    /// The nearest identified center in that reference: (track id, distance in input pixels),
    /// whether or not it is within the threshold. Measured from the point the mode compares:
    /// the unwarped center in `center` mode, the warped one otherwise.
    pub nearest: Option<(u32, f64)>,
    /// `iou` mode only: the identified mask of that reference that overlaps this detection's
    /// mask most, (track id, IoU), if any overlaps.
    pub overlap: Option<(u32, f64)>,
}

/// Why a detection got its identity. `value` and `threshold` are in the unit of `by`: input
/// pixels for `flow` and `center` (match when value <= threshold), mask IoU for `iou` (match
/// when value >= threshold).
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Matched the track through reference `ref_frame` (position `ref_slot` in the order).
    Matched { ref_frame: usize, ref_slot: usize, by: Association, value: f64, threshold: f64 },
    /// A new track: the video's first frame (no reference).
    NewNoReference,
    /// A new track: no reference held an instance that passes the gate; `nearest` is the best
    /// (ref frame, track id, value) seen, if any.
    NewNothingNear { nearest: Option<(usize, u32, f64)>, by: Association, threshold: f64 },
    /// A new track: instances passed the gate but other detections of this frame took them.
    NewCandidatesTaken { by: Association, threshold: f64 },
    /// No reference held the track; it was re-linked by motion after `hidden` unseen frames
    /// (last seen in `last_seen`), comparing its predicted center with this detection's center
    /// (`via_ref` None) or with its flow-warped center in reference `via_ref`. Input pixels.
    Relinked { hidden: usize, last_seen: usize, via_ref: Option<usize>, value: f64, threshold: f64 },
}

impl Decision {
    /// One line for the inspector and the CSV (the `flow` wording is the method's).
    pub fn describe(&self) -> String {
        match self {
            Self::Matched { ref_frame, by: Association::Flow, value, threshold, .. } => {
                format!("matched via frame {ref_frame}: {value:.2} px <= {threshold:.1}")
            }
            Self::Matched { ref_frame, by: Association::Center, value, threshold, .. } => {
                format!("matched via frame {ref_frame} by center: {value:.2} px <= {threshold:.1}")
            }
            Self::Matched { ref_frame, by: Association::Iou, value, threshold, .. } => {
                format!("matched via frame {ref_frame} by mask IoU: {value:.2} >= {threshold:.2}")
            }
            Self::Matched { ref_frame, by: Association::FlowMask, value, threshold, .. } => {
                format!("matched via frame {ref_frame} by flow-warped mask IoU: {value:.2} >= {threshold:.2}")
            }
            Self::NewNoReference => "new: first frame".to_owned(),
            Self::NewNothingNear { nearest: Some((f, t, v)), by: Association::Iou, threshold } => {
                format!("new: best mask IoU was track {t} in frame {f} at {v:.2} < {threshold:.2}")
            }
            Self::NewNothingNear { nearest: None, by: Association::Iou, .. } => {
                "new: no identified mask in the references overlaps it".to_owned()
            }
            Self::NewNothingNear { nearest: Some((f, t, v)), by, threshold } => {
                let what = if *by == Association::Center { " (unwarped center)" } else { "" };
                format!("new: nearest was track {t} in frame {f} at {v:.2} px > {threshold:.1}{what}")
            }
            Self::NewNothingNear { nearest: None, .. } => "new: references hold no instance".to_owned(),
            Self::NewCandidatesTaken { by: Association::Iou, threshold } => {
                format!("new: candidates with mask IoU >= {threshold:.2} taken by other instances")
            }
            Self::NewCandidatesTaken { threshold, .. } => {
                format!("new: candidates within {threshold:.1} px taken by other instances")
            }
            Self::Relinked { hidden, last_seen, via_ref, value, threshold } => {
                let via = match via_ref {
                    Some(r) => format!("flow into frame {r}"),
                    None => "position".to_owned(),
                };
                format!(
                    "re-linked after {hidden} hidden frames (last seen in frame {last_seen}) by {via}: {value:.2} px <= {threshold:.1}"
                )
            }
        }
    }
}

/// One identified instance of one frame.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackedInstance {
    pub track_id: u32,
    pub detection: Detection,
    pub votes: Vec<RefVote>,
    pub decision: Decision,
    /// Frames the track went unseen just before this one (0 for a new track or an unbroken one):
    /// how long it was kept alive while hidden.
    pub hidden_before: usize,
}

impl TrackedInstance {
    /// The decision in one line, saying when the track was kept alive while hidden.
    pub fn describe(&self) -> String {
        describe_with_gap(&self.decision, self.hidden_before)
    }
}

/// [`Decision::describe`], plus how long a matched track had been unseen (a re-link says so itself).
pub fn describe_with_gap(decision: &Decision, hidden_before: usize) -> String {
    match decision {
        Decision::Matched { .. } if hidden_before > 0 => {
            format!("{} (kept alive {hidden_before} hidden frames)", decision.describe())
        }
        _ => decision.describe(),
    }
}

/// A track so far.
#[derive(Clone, Debug, PartialEq)]
pub struct TrackInfo {
    pub id: u32,
    pub first_frame: usize,
    pub last_frame: usize,
    pub frames: usize,
    /// Votes per category id (index 0 unused).
    pub class_votes: Vec<u32>,
    pub score_sum: f64,
    /// Center in the last frame it was seen, input pixels.
    pub last_center: [f64; 2],
    /// Recent velocity of its center, input pixels per frame (smoothed).
    pub velocity: [f64; 2],
}

impl TrackInfo {
    /// Majority class over the track's frames (ties: lower id).
    pub fn class_id(&self) -> u32 {
        let mut best = 1;
        for c in 2..self.class_votes.len() {
            if self.class_votes[c] > self.class_votes[best] {
                best = c;
            }
        }
        best as u32
    }

    /// Mean of the per-frame scores.
    pub fn score(&self) -> f64 {
        if self.frames == 0 { 0.0 } else { self.score_sum / self.frames as f64 }
    }
}

/// What the tracker keeps of a frame that a later frame may use as reference.
#[derive(Clone, Debug, Default)]
struct RefFrame {
    /// Identified centers, input pixels.
    centers: Vec<(u32, [f64; 2])>,
    /// Stride-4 track-id map (0 = none); empty when the frame was given no cell map.
    ids: Vec<u32>,
}

/// Identities across a video. Feed frames in order with [`Tracker::step`].
#[derive(Clone, Debug)]
pub struct Tracker {
    policy: RefsPolicy,
    match_distance: f64,
    /// Keep-alive: frames a track may go unseen, and the re-link gate at one hidden frame.
    max_hidden: usize,
    relink_distance: f64,
    association: AssociationParams,
    num_classes: usize,
    /// The frames a future frame may use as reference.
    memory: BTreeMap<usize, RefFrame>,
    tracks: BTreeMap<u32, TrackInfo>,
    next_id: u32,
    /// Whether the first frame, as a reference of its own, gives identities (`ifa.post`).
    match_first_frame: bool,
}

impl Tracker {
    /// A tracker in `flow` mode (the method); see [`Tracker::set_association`].
    pub fn new(policy: RefsPolicy, match_distance: f32, num_classes: usize) -> Self {
        Self {
            policy,
            match_distance: f64::from(match_distance),
            max_hidden: 0,
            relink_distance: 0.0,
            association: AssociationParams::default(),
            num_classes,
            memory: BTreeMap::new(),
            tracks: BTreeMap::new(),
            next_id: 1,
            match_first_frame: true,
        }
    }

    pub fn set_match_distance(&mut self, d: f32) {
        self.match_distance = f64::from(d);
    }

    /// Keep-alive of tracks the references lose: up to `max_hidden` unseen frames (0: off),
    /// re-linked within `relink_distance` input pixels at one hidden frame.
    pub fn set_keep_alive(&mut self, max_hidden: usize, relink_distance: f32) {
        self.max_hidden = max_hidden;
        self.relink_distance = f64::from(relink_distance);
    }

    /// Whether the first frame, as a reference of its own, gives identities; next frame on.
    pub fn set_match_first_frame(&mut self, on: bool) {
        self.match_first_frame = on;
    }

    /// Changes the comparison; takes effect next frame.
    pub fn set_association(&mut self, a: AssociationParams) {
        self.association = a;
    }

    pub fn association(&self) -> AssociationParams {
        self.association
    }

    /// The reference policy whose retention rule bounds the memory.
    pub fn policy(&self) -> RefsPolicy {
        self.policy
    }

    /// Forgets everything (a new video or a seek).
    pub fn reset(&mut self) {
        self.memory.clear();
        self.tracks.clear();
        self.next_id = 1;
    }

    pub fn tracks(&self) -> impl Iterator<Item = &TrackInfo> {
        self.tracks.values()
    }

    pub fn track(&self, id: u32) -> Option<&TrackInfo> {
        self.tracks.get(&id)
    }

    /// Frames whose identified centers (and cell maps) are kept (bounded by the reference policy).
    pub fn memory_frames(&self) -> Vec<usize> {
        self.memory.keys().copied().collect()
    }

    /// Gives frame `frame`'s detections identities. `refs` are its references in the runtime's
    /// order, matching the order of each detection's `flows`. `group` maps each stride-4 cell to
    /// the index of the detection owning it (`u16::MAX` for none), as [`super::detect::detect`]
    /// leaves it, `cells_w` cells to a row; the `iou` and `flow-mask` modes compare these masks,
    /// and they are kept for later frames (an empty `group` means no masks). A reference the
    /// tracker does not hold (e.g. after a reset) counts as holding no instance.
    pub fn step(
        &mut self,
        frame: usize,
        refs: &[usize],
        detections: Vec<Detection>,
        group: &[u16],
        cells_w: usize,
    ) -> Vec<TrackedInstance> {
        let mode = self.association.mode;
        let gates = Gates { distance: self.match_distance, iou: self.association.iou_threshold };
        // The threshold a new track's decision reports: the `flow-mask` fall-back is the flow's.
        let (report_mode, thr) = match mode {
            Association::Iou => (mode, gates.iou),
            Association::FlowMask => (Association::Flow, gates.distance),
            Association::Flow | Association::Center => (mode, gates.distance),
        };
        let m = detections.len();
        let empty = RefFrame::default();
        let ref_sets: Vec<&RefFrame> = refs.iter().map(|r| self.memory.get(r).unwrap_or(&empty)).collect();
        let ious = reference_ious(mode, &detections, group, cells_w, &ref_sets);
        let votes = ref_votes(mode, refs, &detections, &ref_sets, &ious);

        let mut st = MatchState { assigned: vec![None; m], taken: Vec::new(), had_candidate: vec![false; m] };
        for (slot, &rf) in refs.iter().enumerate() {
            // The first frame as a reference of its own (not also a recent frame) gives
            // identities only when `match_first_frame` says so: its flow spans the whole video.
            let first_only = rf == 0 && self.policy.first_frame && frame > recent_reach(&self.policy);
            if first_only && !self.match_first_frame {
                continue;
            }
            match_slot(slot, rf, mode, gates, &detections, &votes, &ref_sets, &ious, &mut st);
        }
        self.relink(frame, refs, &detections, &votes, &mut st.assigned, &mut st.taken);
        let MatchState { mut assigned, had_candidate, .. } = st;

        let mut out = Vec::with_capacity(m);
        for (k, (det, v)) in detections.into_iter().zip(votes).enumerate() {
            let (track_id, decision) = match assigned[k].take() {
                Some(a) => a,
                None => {
                    let id = self.next_id;
                    self.next_id += 1;
                    let decision = if refs.is_empty() {
                        Decision::NewNoReference
                    } else if had_candidate[k] {
                        Decision::NewCandidatesTaken { by: report_mode, threshold: thr }
                    } else {
                        Decision::NewNothingNear {
                            nearest: best_seen(&v, report_mode),
                            by: report_mode,
                            threshold: thr,
                        }
                    };
                    (id, decision)
                }
            };
            let info = self.tracks.entry(track_id).or_insert_with(|| TrackInfo {
                id: track_id,
                first_frame: frame,
                last_frame: frame,
                frames: 0,
                class_votes: vec![0; self.num_classes + 1],
                score_sum: 0.0,
                last_center: det.position,
                velocity: [0.0, 0.0],
            });
            let hidden_before = if info.frames == 0 { 0 } else { frame.saturating_sub(info.last_frame + 1) };
            info.observe(frame, det.position);
            info.frames += 1;
            info.score_sum += det.score;
            if let Some(v) = info.class_votes.get_mut(det.class_id as usize) {
                *v += 1;
            }
            out.push(TrackedInstance { track_id, detection: det, votes: v, decision, hidden_before });
        }

        let ids: Vec<u32> = out.iter().map(|t| t.track_id).collect();
        let cells = group.iter().map(|&g| ids.get(g as usize).copied().unwrap_or(0)).collect();
        let centers = out.iter().map(|t| (t.track_id, t.detection.position)).collect();
        self.memory.insert(frame, RefFrame { centers, ids: cells });
        let keep_from = retain_from(frame, &self.policy);
        let first = self.policy.first_frame;
        self.memory.retain(|&f, _| f >= keep_from || (first && f == 0));
        out
    }
}

/// A detection's instance flow towards reference `slot` (none: no motion).
fn flow_of(d: &Detection, slot: usize) -> [f64; 2] {
    d.flows.get(slot).copied().unwrap_or([0.0, 0.0])
}

/// Per reference: the mask IoU of every overlapping (detection, track) pair, in the modes that
/// compare masks (`flow-mask` moves each mask by its flow first); empty lists otherwise.
fn reference_ious(
    mode: Association,
    detections: &[Detection],
    group: &[u16],
    cells_w: usize,
    ref_sets: &[&RefFrame],
) -> Vec<Vec<(usize, u32, f64)>> {
    let m = detections.len();
    match mode {
        Association::Iou => ref_sets.iter().map(|rs| mask_ious(group, m, &rs.ids)).collect(),
        Association::FlowMask => ref_sets
            .iter()
            .enumerate()
            .map(|(slot, rs)| {
                let cells = |v: f64| (v / f64::from(HEAD_STRIDE)).round() as isize;
                let shift: Vec<(isize, isize)> = detections
                    .iter()
                    .map(|d| {
                        let f = flow_of(d, slot);
                        (cells(f[0]), cells(f[1]))
                    })
                    .collect();
                shifted_mask_ious(group, m, cells_w, &shift, &rs.ids)
            })
            .collect(),
        Association::Flow | Association::Center => vec![Vec::new(); ref_sets.len()],
    }
}

/// Per detection and reference: warped center, nearest identified center and best overlap.
fn ref_votes(
    mode: Association,
    refs: &[usize],
    detections: &[Detection],
    ref_sets: &[&RefFrame],
    ious: &[Vec<(usize, u32, f64)>],
) -> Vec<Vec<RefVote>> {
    detections
        .iter()
        .enumerate()
        .map(|(k, d)| {
            refs.iter()
                .enumerate()
                .map(|(slot, &rf)| {
                    let flow = flow_of(d, slot);
                    let warped = [d.position[0] + flow[0], d.position[1] + flow[1]];
                    let probe = if mode == Association::Center { d.position } else { warped };
                    let mut nearest: Option<(u32, f64)> = None;
                    for &(t, c) in &ref_sets[slot].centers {
                        let dist = distance(probe, c);
                        if nearest.is_none_or(|(_, nd)| dist < nd) {
                            nearest = Some((t, dist));
                        }
                    }
                    let mut overlap: Option<(u32, f64)> = None;
                    for &(_, t, iou) in ious[slot].iter().filter(|p| p.0 == k) {
                        if overlap.is_none_or(|(_, o)| iou > o) {
                            overlap = Some((t, iou));
                        }
                    }
                    RefVote { ref_frame: rf, flow, warped, nearest, overlap }
                })
                .collect()
        })
        .collect()
}

mod keep_alive;
mod slot_match;

pub use keep_alive::{VELOCITY_HORIZON, relink_gate};
use slot_match::{Gates, MatchState, best_seen, distance, match_slot};

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::detect::Center;

    pub(super) fn det(y: f64, x: f64, flows: Vec<[f64; 2]>) -> Detection {
        Detection {
            center: Center { cell: (0, 0), heat: 1.0 },
            position: [y, x],
            class_id: 1,
            score: 0.5,
            cells: 10,
            flows,
        }
    }

    pub(super) fn policy() -> RefsPolicy {
        RefsPolicy { count: 3, first_frame: true, step: 1 }
    }

    #[test]
    fn flow_carries_identity_and_far_objects_start_tracks() {
        let mut t = Tracker::new(policy(), 10.0, 3);
        let a = t.step(0, &[], vec![det(10.0, 10.0, vec![]), det(50.0, 50.0, vec![])], &[], 0);
        assert_eq!(a.iter().map(|i| i.track_id).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(a[0].decision, Decision::NewNoReference);
        // Both objects moved by +20 in x; flow towards frame 0 says -20.
        let b = t.step(1, &[0], vec![det(50.0, 70.0, vec![[0.0, -20.0]]), det(10.0, 30.0, vec![[0.0, -20.0]])], &[], 0);
        assert_eq!(b.iter().map(|i| i.track_id).collect::<Vec<_>>(), vec![2, 1]);
        assert!(matches!(b[0].decision, Decision::Matched { ref_frame: 0, .. }));
        // A detection whose flow points nowhere near anything.
        let c = t.step(2, &[1, 0], vec![det(100.0, 100.0, vec![[0.0, 0.0], [0.0, 0.0]])], &[], 0);
        assert_eq!(c[0].track_id, 3);
        assert!(matches!(c[0].decision, Decision::NewNothingNear { nearest: Some(_), .. }));
    }

    #[test]
    fn one_identity_per_frame_and_older_reference_as_fallback() {
        let mut t = Tracker::new(policy(), 10.0, 3);
        t.step(0, &[], vec![det(10.0, 10.0, vec![]), det(40.0, 40.0, vec![])], &[], 0);
        // Frame 1 sees only track 1 (track 2 occluded).
        let b = t.step(1, &[0], vec![det(10.0, 10.0, vec![[0.0, 0.0]])], &[], 0);
        assert_eq!(b[0].track_id, 1);
        // Frame 2: both flow onto track 1 in frame 1; the nearer wins, the other is "taken" there
        // but finds track 2 in the first frame.
        let c = t.step(
            2,
            &[1, 0],
            vec![det(10.0, 12.0, vec![[0.0, -2.0], [0.0, -2.0]]), det(40.0, 40.0, vec![[-29.0, -29.0], [0.0, 0.0]])],
            &[],
            0,
        );
        assert_eq!(c[0].track_id, 1);
        assert_eq!(c[1].track_id, 2, "{:?}", c[1].decision);
        assert!(matches!(c[1].decision, Decision::Matched { ref_frame: 0, ref_slot: 1, .. }));
        // Two detections on one track: the second becomes new with "taken".
        let d =
            t.step(3, &[2, 1, 0], vec![det(10.0, 12.0, vec![[0.0; 2]; 3]), det(11.0, 12.0, vec![[0.0; 2]; 3])], &[], 0);
        assert_eq!(d[0].track_id, 1);
        assert_eq!(d[1].decision, Decision::NewCandidatesTaken { by: Association::Flow, threshold: 10.0 });
        let tr = t.track(1).expect("track 1");
        assert_eq!((tr.frames, tr.first_frame, tr.last_frame, tr.class_id()), (4, 0, 3, 1));
        // Memory is bounded: frames 0 (first) and the 2 most recent.
        assert_eq!(t.memory_frames(), vec![0, 2, 3]);
    }

    #[test]
    fn the_first_frame_gives_identities_only_when_asked() {
        // Two references: the most recent frame and the first. Frame 1 sees nothing; in frame 2
        // only the first frame's flow explains the detection.
        let p = RefsPolicy { count: 2, first_frame: true, step: 1 };
        for on in [true, false] {
            let mut t = Tracker::new(p, 10.0, 3);
            t.set_keep_alive(0, 0.0);
            t.set_match_first_frame(on);
            t.step(0, &[], vec![det(10.0, 10.0, vec![])], &[], 0);
            assert!(t.step(1, &[0], vec![], &[], 0).is_empty());
            let c = t.step(2, &[1, 0], vec![det(50.0, 50.0, vec![[0.0, 0.0], [-40.0, -40.0]])], &[], 0);
            if on {
                assert_eq!(c[0].track_id, 1);
                assert!(matches!(c[0].decision, Decision::Matched { ref_frame: 0, ref_slot: 1, .. }));
            } else {
                assert_eq!(c[0].track_id, 2, "{:?}", c[0].decision);
            }
        }
        // While frame 0 is also one of the recent frames it counts as one of them.
        let mut t = Tracker::new(p, 10.0, 3);
        t.set_match_first_frame(false);
        t.step(0, &[], vec![det(10.0, 10.0, vec![])], &[], 0);
        let b = t.step(1, &[0], vec![det(12.0, 10.0, vec![[-2.0, 0.0]])], &[], 0);
        assert_eq!(b[0].track_id, 1);
    }

    /// A 1 x `len` cell map in which detection `k` owns the cells `spans[k].0..spans[k].1`.
    fn strip(len: usize, spans: &[(usize, usize)]) -> Vec<u16> {
        let mut g = vec![u16::MAX; len];
        for (k, &(a, b)) in spans.iter().enumerate() {
            g[a..b].fill(k as u16);
        }
        g
    }

    fn iou_tracker(threshold: f64) -> Tracker {
        let mut t = Tracker::new(policy(), 10.0, 3);
        t.set_association(AssociationParams { mode: Association::Iou, iou_threshold: threshold });
        t
    }

    #[test]
    fn iou_matches_by_decreasing_overlap_one_to_one_with_first_frame_fallback() {
        let mut t = iou_tracker(0.3);
        let far = vec![[500.0, 500.0]; 2]; // flows that point nowhere: IoU mode ignores them
        t.step(0, &[], vec![det(0.0, 3.0, vec![]), det(0.0, 12.0, vec![])], &strip(16, &[(0, 6), (10, 14)]), 16);
        // Frame 1: the object of track 1 is split in two detections, the smaller first in
        // detection order; track 2 is hidden. The larger overlap wins, the other is "taken".
        let b = t.step(
            1,
            &[0],
            vec![det(0.0, 5.0, far.clone()), det(0.0, 2.0, far.clone())],
            &strip(16, &[(4, 6), (0, 4)]),
            16,
        );
        assert_eq!(b[1].track_id, 1);
        assert_eq!(
            b[1].decision,
            Decision::Matched { ref_frame: 0, ref_slot: 0, by: Association::Iou, value: 4.0 / 6.0, threshold: 0.3 }
        );
        assert_eq!(b[1].decision.describe(), "matched via frame 0 by mask IoU: 0.67 >= 0.30");
        assert_eq!(b[0].track_id, 3);
        assert_eq!(b[0].decision, Decision::NewCandidatesTaken { by: Association::Iou, threshold: 0.3 });
        assert_eq!(b[0].votes[0].overlap, Some((1, 2.0 / 6.0)));
        // Frame 2: track 2 reappears where the first frame had it; frame 1 holds nothing there.
        let c = t.step(
            2,
            &[1, 0],
            vec![det(0.0, 13.0, far.clone()), det(0.0, 2.0, far)],
            &strip(16, &[(11, 15), (0, 4)]),
            16,
        );
        assert_eq!(c[0].track_id, 2);
        assert_eq!(
            c[0].decision,
            Decision::Matched { ref_frame: 0, ref_slot: 1, by: Association::Iou, value: 3.0 / 5.0, threshold: 0.3 }
        );
        assert_eq!(c[1].track_id, 1);
        assert!(matches!(c[1].decision, Decision::Matched { ref_frame: 1, value: 1.0, .. }));
        assert_eq!(t.memory_frames(), vec![0, 1, 2]);
    }

    #[test]
    fn iou_below_the_threshold_starts_a_track_and_says_why() {
        let mut t = iou_tracker(0.7);
        t.step(0, &[], vec![det(0.0, 3.0, vec![])], &strip(8, &[(0, 6)]), 8);
        let b = t.step(1, &[0], vec![det(0.0, 2.0, vec![[0.0; 2]])], &strip(8, &[(0, 4)]), 8);
        assert_eq!(b[0].track_id, 2);
        let d = &b[0].decision;
        assert_eq!(
            *d,
            Decision::NewNothingNear { nearest: Some((0, 1, 4.0 / 6.0)), by: Association::Iou, threshold: 0.7 }
        );
        assert_eq!(d.describe(), "new: best mask IoU was track 1 in frame 0 at 0.67 < 0.70");
        // No overlap at all; a reference frame without masks holds nothing to overlap.
        let c = t.step(2, &[1, 0], vec![det(0.0, 7.0, vec![[0.0; 2]; 2])], &strip(8, &[(6, 8)]), 8);
        assert_eq!(c[0].decision.describe(), "new: no identified mask in the references overlaps it");
        let d = t.step(3, &[2, 1, 0], vec![det(0.0, 7.0, vec![[0.0; 2]; 3])], &[], 0);
        assert!(matches!(d[0].decision, Decision::NewNothingNear { nearest: None, .. }));
    }

    #[test]
    fn center_mode_ignores_the_flow() {
        // The scene of `flow_carries_identity_…`: both objects moved +20 px in x, which the flow
        // explains; the unwarped centers are 20 px from their old places, beyond the 10 px gate.
        let mut t = Tracker::new(policy(), 10.0, 3);
        t.set_association(AssociationParams::new(Association::Center));
        t.step(0, &[], vec![det(10.0, 10.0, vec![]), det(50.0, 50.0, vec![])], &[], 0);
        let b = t.step(1, &[0], vec![det(50.0, 70.0, vec![[0.0, -20.0]]), det(10.0, 30.0, vec![[0.0, -20.0]])], &[], 0);
        assert_eq!(b.iter().map(|i| i.track_id).collect::<Vec<_>>(), vec![3, 4]);
        assert_eq!(b[1].votes[0].nearest, Some((1, 20.0)), "measured from the unwarped center");
        assert_eq!(b[1].votes[0].warped, [10.0, 10.0], "the flow is still reported");
        assert_eq!(
            b[1].decision.describe(),
            "new: nearest was track 1 in frame 0 at 20.00 px > 10.0 (unwarped center)"
        );
        // Objects that stay put match by center alone.
        let c = t.step(2, &[1, 0], vec![det(10.0, 32.0, vec![[9.0, 9.0]; 2])], &[], 0);
        assert_eq!(c[0].track_id, 4);
        assert_eq!(c[0].decision.describe(), "matched via frame 1 by center: 2.00 px <= 10.0");
    }

    #[test]
    fn flow_mask_moves_the_mask_by_its_flow_then_falls_back_to_the_flow() {
        // A 1 x 16 strip; track 1 on cells 0..3 and track 2 on cells 12..14 in frame 0.
        let mut t = Tracker::new(policy(), 10.0, 3);
        t.set_association("flow-mask:0.5".parse().expect("flow-mask:0.5"));
        t.step(0, &[], vec![det(0.0, 5.5, vec![]), det(0.0, 51.5, vec![])], &strip(16, &[(0, 3), (12, 14)]), 16);
        // Frame 1: the first object moved 4 cells (16 px) right, which its flow says; unmoved,
        // its mask would not touch track 1's. The second lost its mask (no cells) but its warped
        // center lands 2 px from track 2's center.
        let b = t.step(
            1,
            &[0],
            vec![det(0.0, 21.5, vec![[0.0, -16.0]]), det(0.0, 53.5, vec![[0.0, -4.0]])],
            &strip(16, &[(4, 7)]),
            16,
        );
        assert_eq!(b.iter().map(|i| i.track_id).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(
            b[0].decision,
            Decision::Matched { ref_frame: 0, ref_slot: 0, by: Association::FlowMask, value: 1.0, threshold: 0.5 }
        );
        assert_eq!(b[0].decision.describe(), "matched via frame 0 by flow-warped mask IoU: 1.00 >= 0.50");
        assert_eq!(b[0].votes[0].overlap, Some((1, 1.0)));
        assert_eq!(
            b[1].decision,
            Decision::Matched { ref_frame: 0, ref_slot: 0, by: Association::Flow, value: 2.0, threshold: 10.0 }
        );
        // Nothing near: the decision speaks of the flow's gate.
        let c = t.step(2, &[1, 0], vec![det(0.0, 200.0, vec![[0.0; 2]; 2])], &strip(16, &[]), 16);
        assert!(matches!(c[0].decision, Decision::NewNothingNear { by: Association::Flow, threshold: 10.0, .. }));
    }
}
