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
//! gate) and `iou` (mask IoU at the head's stride at least the threshold, highest first), and our variant
//! `flow-mask` (the mask moved by the flow, then IoU; the warped center as fall-back). Everything else
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
//!
//! Motion (`flow_weight`): in `flow` mode the point compared with a reference track's center is
//! the detection moved by its instance flow weighted `flow_weight`, and back along that track's
//! own velocity weighted the rest (a track seen once has none: the flow alone). The network's
//! flow and the track's past motion err independently, so their mean lands nearer; either alone
//! loses identities on the hard preset.
//!
//! Consistency (`size_weight`, `class_penalty`): the distance pairs of a reference and the
//! keep-alive's re-links are taken in order of distance plus penalties for another size or
//! class than the track's, so a blob where a small instance overlaps a large one goes to the
//! large one's track (the gates stay the distances).
//!
//! Class gates (`relink_same_class`, `older_refs_same_class`): only a detection of the track's
//! majority class may take it in a re-link, or through any reference but the most recent. An
//! instance never changes class, and a track hidden for many frames otherwise goes to whatever
//! appears near its prediction (a neighbour's fragment, an instance entering the picture). The
//! most recent reference keeps the class penalty only: a blob of crossing instances of two
//! classes must still take one of their tracks.
//!
//! Occlusion (`occlusion`, `exchange_ratio`): a track that goes unseen next to another's
//! detection remembers it; when re-linked, the two exchange detections if their motion from
//! before says so, and a detection next to the occluder, ahead of the hidden track's motion,
//! takes the hidden track back.

use std::collections::BTreeMap;

use super::association::{Association, AssociationParams, mask_ious, shifted_mask_ious};
use super::detect::Detection;
use crate::model::RefsPolicy;
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
    /// the unwarped center in `center` mode, the warped one otherwise (with a `flow_weight`
    /// below 1, the one weighed against each reference track's velocity).
    pub nearest: Option<(u32, f64)>,
    /// `iou` mode only: the identified mask of that reference that overlaps this detection's
    /// mask most, (track id, IoU), if any overlaps.
    pub overlap: Option<(u32, f64)>,
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
    /// Its detection's radius in the last frame it was seen, input pixels.
    pub last_radius: f64,
    /// Recent velocity of its center, input pixels per frame (smoothed).
    pub velocity: [f64; 2],
    /// While unseen: the track whose detection covered this one's expected place in the first
    /// frame it went unseen, as that track was just before (see [`Occluder`]).
    pub occluder: Option<Occluder>,
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
    /// The identified instances.
    centers: Vec<RefInstance>,
    /// Stride-4 track-id map (0 = none); empty when the frame was given no cell map.
    ids: Vec<u32>,
}

/// An identified instance of a reference frame, as the matching compares it.
#[derive(Clone, Copy, Debug)]
struct RefInstance {
    track: u32,
    /// Center, input pixels (y, x).
    position: [f64; 2],
    /// Its detection's radius there, input pixels.
    radius: f64,
    /// Its track's majority class after that frame.
    class_id: u32,
    /// Its track's velocity after that frame, input pixels per frame (y, x); none for a track
    /// seen once.
    velocity: Option<[f64; 2]>,
}

/// Identities across a video. Feed frames in order with [`Tracker::step`].
#[derive(Clone, Debug)]
pub struct Tracker {
    policy: RefsPolicy,
    match_distance: f64,
    /// Keep-alive: frames a track may go unseen, and the re-link gate at one hidden frame.
    max_hidden: usize,
    relink_distance: f64,
    /// Whether a re-link needs the detection to be of the track's majority class.
    relink_same_class: bool,
    association: AssociationParams,
    num_classes: usize,
    /// The frames a future frame may use as reference.
    memory: BTreeMap<usize, RefFrame>,
    tracks: BTreeMap<u32, TrackInfo>,
    next_id: u32,
    /// Whether the first frame, as a reference of its own, gives identities (`ifa.post`).
    match_first_frame: bool,
    /// The occlusion rules (`occlusion`): exchange when the exchanged motion error is below
    /// this fraction of the one as taken; 0 switches both the exchange and the re-emergence off.
    exchange_ratio: f64,
    /// Input pixels per cell of the `group` maps `step` gets (the model's head stride).
    cell_stride: usize,
    /// Ordering of distance candidates (`ifa.post` `size_weight`, `class_penalty`): input pixels
    /// added per pixel of radius difference, and for a class other than the track's.
    consistency: Consistency,
    /// `ifa.post` `flow_weight`: the flow's share in a detection's displacement to a reference,
    /// the reference track's velocity the rest (1: the flow alone).
    flow_weight: f64,
}

/// What, besides the distance, orders a reference's candidate pairs (the gate stays the
/// distance): a detection much larger or smaller than the track was, or of another class, is
/// more likely a merge or a neighbour than the track itself. It also carries the class gate of
/// the older references, which `slot_match` applies with the ordering.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub(crate) struct Consistency {
    pub(crate) size_weight: f64,
    pub(crate) class_penalty: f64,
    /// `ifa.post` `merge_ratio`: the area ratio that makes a detection a merge of the tracks
    /// it is nearest to (0: off).
    pub(crate) merge_ratio: f64,
    /// `ifa.post` `older_refs_same_class`: in every reference but the most recent, only
    /// detections of a track's majority class are its candidates.
    pub(crate) older_refs_same_class: bool,
}

impl Consistency {
    /// Whether anything but the distance orders the pairs.
    fn is_on(&self) -> bool {
        self.size_weight > 0.0 || self.class_penalty > 0.0 || self.merge_ratio > 0.0
    }

    /// The order of a merge's pairs: the radius difference alone (plus the class penalty), so
    /// the track whose size the blob is nearest to, the instance in front, comes first.
    fn merge_cost(&self, d: &Detection, r: &RefInstance) -> f64 {
        (d.radius - r.radius).abs() + if d.class_id == r.class_id { 0.0 } else { self.class_penalty }
    }

    /// Distance plus the penalties of a detection against a reference instance.
    fn cost(&self, dist: f64, d: &Detection, r: &RefInstance) -> f64 {
        self.cost_against(dist, d, r.radius, r.class_id)
    }

    /// Distance plus the penalties of a detection against an instance of this radius and class.
    fn cost_against(&self, dist: f64, d: &Detection, radius: f64, class_id: u32) -> f64 {
        let class = if d.class_id == class_id { 0.0 } else { self.class_penalty };
        dist + self.size_weight * (d.radius - radius).abs() + class
    }
}

impl Tracker {
    /// A tracker in `flow` mode (the method); see [`Tracker::set_association`].
    pub fn new(policy: RefsPolicy, match_distance: f32, num_classes: usize) -> Self {
        Self {
            policy,
            match_distance: f64::from(match_distance),
            max_hidden: 0,
            relink_distance: 0.0,
            relink_same_class: false,
            association: AssociationParams::default(),
            num_classes,
            memory: BTreeMap::new(),
            tracks: BTreeMap::new(),
            next_id: 1,
            match_first_frame: true,
            exchange_ratio: 0.0,
            cell_stride: 4,
            consistency: Consistency::default(),
            flow_weight: 1.0,
        }
    }

    /// The flow's share in where a detection is compared with a reference track (`flow` mode):
    /// `weight` of its instance flow and `1 - weight` of that track's velocity times the frames
    /// between; clamped to [0, 1], non-finite counts as 1 (the flow alone).
    pub fn set_flow_weight(&mut self, weight: f32) {
        self.flow_weight = if weight.is_finite() { f64::from(weight.clamp(0.0, 1.0)) } else { 1.0 };
    }

    /// Orders a reference's candidates by distance plus `size_weight` input pixels per pixel of
    /// radius difference plus `class_penalty` for a class other than the track's (0, 0: by
    /// distance alone); non-finite or negative values count as 0.
    pub fn set_consistency(&mut self, size_weight: f32, class_penalty: f32) {
        let clean = |v: f32| if v.is_finite() { f64::from(v.max(0.0)) } else { 0.0 };
        self.consistency.size_weight = clean(size_weight);
        self.consistency.class_penalty = clean(class_penalty);
    }

    /// A detection that is the nearest one to two or more tracks within the gate, at least
    /// `ratio` times the area of each and at most 1.25 times their areas together, is their
    /// merge and takes the one nearest its size (0: off; non-finite or below 1 counts as 0).
    pub fn set_merge_ratio(&mut self, ratio: f32) {
        self.consistency.merge_ratio = if ratio.is_finite() && ratio >= 1.0 { f64::from(ratio) } else { 0.0 };
    }

    /// Whether a match through any reference but the most recent needs the detection to be of
    /// the track's majority class there (a later reference's match is a re-identification
    /// after the flow into the most recent one missed, like the keep-alive's re-link).
    pub fn set_older_refs_same_class(&mut self, on: bool) {
        self.consistency.older_refs_same_class = on;
    }

    /// The head stride of the cell maps `step` gets (the flow-mask mode moves masks by whole cells).
    pub fn set_cell_stride(&mut self, stride: usize) {
        self.cell_stride = stride.max(1);
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

    /// Whether the keep-alive re-links a track only to a detection of its majority class.
    pub fn set_relink_same_class(&mut self, on: bool) {
        self.relink_same_class = on;
    }

    /// The occlusion rules: a re-linked track exchanges detections with its occluder when their
    /// motion from before the occlusion fits the other way round below `ratio` times, and a
    /// hidden track may come out from behind its occluder (0: neither; see `occlusion`).
    pub fn set_exchange_ratio(&mut self, ratio: f32) {
        self.exchange_ratio = if ratio.is_finite() { f64::from(ratio.clamp(0.0, 1.0)) } else { 0.0 };
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
    /// order, matching the order of each detection's `flows`. `group` maps each cell of the head maps to
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
        let gates = Gates {
            distance: self.match_distance,
            iou: self.association.iou_threshold,
            motion: Motion { frame, flow_weight: self.flow_weight },
        };
        // The threshold a new track's decision reports: the `flow-mask` fall-back is the flow's.
        let (report_mode, thr) = match mode {
            Association::Iou => (mode, gates.iou),
            Association::FlowMask => (Association::Flow, gates.distance),
            Association::Flow | Association::Center => (mode, gates.distance),
        };
        let m = detections.len();
        let empty = RefFrame::default();
        let ref_sets: Vec<&RefFrame> = refs.iter().map(|r| self.memory.get(r).unwrap_or(&empty)).collect();
        let ious = reference_ious(mode, &detections, group, (cells_w, self.cell_stride), &ref_sets);
        let votes = ref_votes(mode, refs, &detections, &ref_sets, &ious, gates.motion);

        let mut st = MatchState { assigned: vec![None; m], taken: Vec::new(), had_candidate: vec![false; m] };
        for (slot, &rf) in refs.iter().enumerate() {
            // The first frame as a reference of its own (not also a recent frame) gives
            // identities only when `match_first_frame` says so: its flow spans the whole video.
            let first_only = rf == 0 && self.policy.first_frame && frame > recent_reach(&self.policy);
            if first_only && !self.match_first_frame {
                continue;
            }
            match_slot(slot, rf, mode, (gates, self.consistency), &detections, &votes, &ref_sets, &ious, &mut st);
        }
        self.relink(frame, refs, &detections, &votes, &mut st.assigned, &mut st.taken);
        self.exchange_after_occlusion(frame, &detections, &mut st.assigned);
        self.reemerge(frame, &detections, &mut st.assigned, &mut st.taken);
        // Recorded after this frame's sightings update the tracks, read from them as they were.
        let occluded = self.occluders(frame, &detections, &st.assigned);
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
                last_radius: det.radius,
                velocity: [0.0, 0.0],
                occluder: None,
            });
            let hidden_before = if info.frames == 0 { 0 } else { frame.saturating_sub(info.last_frame + 1) };
            info.observe(frame, det.position);
            info.last_radius = det.radius;
            info.frames += 1;
            info.score_sum += det.score;
            if let Some(v) = info.class_votes.get_mut(det.class_id as usize) {
                *v += 1;
            }
            out.push(TrackedInstance { track_id, detection: det, votes: v, decision, hidden_before });
        }

        for (id, o) in occluded {
            if let Some(t) = self.tracks.get_mut(&id) {
                t.occluder = Some(o);
            }
        }

        let ids: Vec<u32> = out.iter().map(|t| t.track_id).collect();
        let cells = group.iter().map(|&g| ids.get(g as usize).copied().unwrap_or(0)).collect();
        let centers = out
            .iter()
            .map(|t| RefInstance {
                track: t.track_id,
                position: t.detection.position,
                radius: t.detection.radius,
                class_id: self.tracks.get(&t.track_id).map_or(t.detection.class_id, TrackInfo::class_id),
                velocity: self.tracks.get(&t.track_id).filter(|i| i.frames >= 2).map(|i| i.velocity),
            })
            .collect();
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
    (cells_w, stride): (usize, usize),
    ref_sets: &[&RefFrame],
) -> Vec<Vec<(usize, u32, f64)>> {
    let m = detections.len();
    match mode {
        Association::Iou => ref_sets.iter().map(|rs| mask_ious(group, m, &rs.ids)).collect(),
        Association::FlowMask => ref_sets
            .iter()
            .enumerate()
            .map(|(slot, rs)| {
                let cells = |v: f64| (v / stride as f64).round() as isize;
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
    motion: Motion,
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
                    let mut nearest: Option<(u32, f64)> = None;
                    for r in &ref_sets[slot].centers {
                        let probe = match mode {
                            Association::Center => d.position,
                            _ => motion.probe(d, flow, warped, r, rf),
                        };
                        let dist = distance(probe, r.position);
                        if nearest.is_none_or(|(_, nd)| dist < nd) {
                            nearest = Some((r.track, dist));
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

mod decision;
mod keep_alive;
mod occlusion;
mod slot_match;

pub use decision::{Decision, describe_with_gap};
pub use keep_alive::{VELOCITY_HORIZON, relink_gate};
pub use occlusion::Occluder;
use slot_match::{Gates, MatchState, Motion, best_seen, distance, match_slot};

#[cfg(test)]
mod tests;
