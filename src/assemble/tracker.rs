//! Assembly across frames (method §2 steps 5–7): instance flow warps each detection's center
//! into its references, where the instances already have identities.
//!
//! Decision policy: references are tried in the order the runtime chose them (most recent
//! first, the first frame last), so the nearest-in-time reference with a match wins and older
//! ones are fall-backs for occlusion. Within one reference, pairs (detection, track) within
//! `match_distance` are taken greedily by increasing distance, each detection and each track at
//! most once per frame. Greedy rather than Hungarian: with a distance gate, conflicts are rare,
//! greedy never gives a detection a farther track to shorten someone else's match, and it is
//! simple to mirror exactly in the Python reference (`postprocess.py`).

use std::collections::BTreeMap;

use super::detect::Detection;
use crate::infer::contract::RefsPolicy;
use crate::infer::refs::retain_from;

/// What the warped center met in one reference.
#[derive(Clone, Debug, PartialEq)]
pub struct RefVote {
    pub ref_frame: usize,
    /// Instance flow (dy, dx) towards this reference, input pixels.
    pub flow: [f64; 2],
    /// Center + flow, input pixels (y, x).
    pub warped: [f64; 2],
    /// The nearest identified instance in that reference: (track id, distance), whether or not
    /// it is within the threshold.
    pub nearest: Option<(u32, f64)>,
}

/// Why a detection got its identity.
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Matched the track through reference `ref_frame` (position `ref_slot` in the order).
    Matched { ref_frame: usize, ref_slot: usize, distance: f64, threshold: f64 },
    /// A new track: the video's first frame (no reference).
    NewNoReference,
    /// A new track: no reference held an instance within `threshold`; `nearest` is the closest
    /// (ref frame, track id, distance) seen, if any.
    NewNothingNear { nearest: Option<(usize, u32, f64)>, threshold: f64 },
    /// A new track: instances were near enough but other detections of this frame took them.
    NewCandidatesTaken { threshold: f64 },
}

impl Decision {
    /// One line for the inspector and the CSV.
    pub fn describe(&self) -> String {
        match self {
            Self::Matched { ref_frame, distance, threshold, .. } => {
                format!("matched via frame {ref_frame}: {distance:.2} px <= {threshold:.1}")
            }
            Self::NewNoReference => "new: first frame".to_owned(),
            Self::NewNothingNear { nearest: Some((f, t, d)), threshold } => {
                format!("new: nearest was track {t} in frame {f} at {d:.2} px > {threshold:.1}")
            }
            Self::NewNothingNear { nearest: None, .. } => "new: references hold no instance".to_owned(),
            Self::NewCandidatesTaken { threshold } => {
                format!("new: candidates within {threshold:.1} px taken by other instances")
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

/// Identities across a video. Feed frames in order with [`Tracker::step`].
#[derive(Clone, Debug)]
pub struct Tracker {
    policy: RefsPolicy,
    match_distance: f64,
    num_classes: usize,
    /// Identified centers of the frames a future frame may use as reference.
    memory: BTreeMap<usize, Vec<(u32, [f64; 2])>>,
    tracks: BTreeMap<u32, TrackInfo>,
    next_id: u32,
}

impl Tracker {
    pub fn new(policy: RefsPolicy, match_distance: f32, num_classes: usize) -> Self {
        Self {
            policy,
            match_distance: f64::from(match_distance),
            num_classes,
            memory: BTreeMap::new(),
            tracks: BTreeMap::new(),
            next_id: 1,
        }
    }

    pub fn set_match_distance(&mut self, d: f32) {
        self.match_distance = f64::from(d);
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

    /// Frames whose identified centers are kept (bounded by the reference policy).
    pub fn memory_frames(&self) -> Vec<usize> {
        self.memory.keys().copied().collect()
    }

    /// Gives frame `frame`'s detections identities. `refs` are its references in the runtime's
    /// order, matching the order of each detection's `flows`. A reference the tracker does not
    /// hold (e.g. after a reset) counts as holding no instance.
    pub fn step(&mut self, frame: usize, refs: &[usize], detections: Vec<Detection>) -> Vec<TrackedInstance> {
        let thr = self.match_distance;
        let m = detections.len();
        let empty = Vec::new();
        let ref_sets: Vec<&Vec<(u32, [f64; 2])>> = refs.iter().map(|r| self.memory.get(r).unwrap_or(&empty)).collect();

        // Votes: warped center and nearest identified instance, per reference.
        let votes: Vec<Vec<RefVote>> = detections
            .iter()
            .map(|d| {
                refs.iter()
                    .enumerate()
                    .map(|(slot, &rf)| {
                        let flow = d.flows.get(slot).copied().unwrap_or([0.0, 0.0]);
                        let warped = [d.position[0] + flow[0], d.position[1] + flow[1]];
                        let mut nearest: Option<(u32, f64)> = None;
                        for &(t, c) in ref_sets[slot] {
                            let dist = distance(warped, c);
                            if nearest.is_none_or(|(_, nd)| dist < nd) {
                                nearest = Some((t, dist));
                            }
                        }
                        RefVote { ref_frame: rf, flow, warped, nearest }
                    })
                    .collect()
            })
            .collect();

        let mut assigned: Vec<Option<(u32, Decision)>> = vec![None; m];
        let mut taken: Vec<u32> = Vec::new();
        let mut had_candidate = vec![false; m];
        for (slot, &rf) in refs.iter().enumerate() {
            let mut pairs: Vec<(f64, usize, u32)> = Vec::new();
            for (k, v) in votes.iter().enumerate() {
                if assigned[k].is_some() {
                    continue;
                }
                for &(t, c) in ref_sets[slot] {
                    let dist = distance(v[slot].warped, c);
                    if dist <= thr {
                        had_candidate[k] = true;
                        if !taken.contains(&t) {
                            pairs.push((dist, k, t));
                        }
                    }
                }
            }
            pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
            for (dist, k, t) in pairs {
                if assigned[k].is_some() || taken.contains(&t) {
                    continue;
                }
                taken.push(t);
                assigned[k] =
                    Some((t, Decision::Matched { ref_frame: rf, ref_slot: slot, distance: dist, threshold: thr }));
            }
        }

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
                        Decision::NewCandidatesTaken { threshold: thr }
                    } else {
                        let nearest = v
                            .iter()
                            .filter_map(|rv| rv.nearest.map(|(t, d)| (rv.ref_frame, t, d)))
                            .min_by(|a, b| a.2.total_cmp(&b.2));
                        Decision::NewNothingNear { nearest, threshold: thr }
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
            });
            info.last_frame = frame;
            info.frames += 1;
            info.score_sum += det.score;
            if let Some(v) = info.class_votes.get_mut(det.class_id as usize) {
                *v += 1;
            }
            out.push(TrackedInstance { track_id, detection: det, votes: v, decision });
        }

        self.memory.insert(frame, out.iter().map(|t| (t.track_id, t.detection.position)).collect());
        let keep_from = retain_from(frame, &self.policy);
        let first = self.policy.first_frame;
        self.memory.retain(|&f, _| f >= keep_from || (first && f == 0));
        out
    }
}

fn distance(a: [f64; 2], b: [f64; 2]) -> f64 {
    let dy = a[0] - b[0];
    let dx = a[1] - b[1];
    (dy * dy + dx * dx).sqrt()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::detect::Center;

    fn det(y: f64, x: f64, flows: Vec<[f64; 2]>) -> Detection {
        Detection {
            center: Center { cell: (0, 0), heat: 1.0 },
            position: [y, x],
            class_id: 1,
            score: 0.5,
            cells: 10,
            flows,
        }
    }

    fn policy() -> RefsPolicy {
        RefsPolicy { count: 3, first_frame: true, step: 1 }
    }

    #[test]
    fn flow_carries_identity_and_far_objects_start_tracks() {
        let mut t = Tracker::new(policy(), 10.0, 3);
        let a = t.step(0, &[], vec![det(10.0, 10.0, vec![]), det(50.0, 50.0, vec![])]);
        assert_eq!(a.iter().map(|i| i.track_id).collect::<Vec<_>>(), vec![1, 2]);
        assert_eq!(a[0].decision, Decision::NewNoReference);
        // Both objects moved by +20 in x; flow towards frame 0 says -20.
        let b = t.step(1, &[0], vec![det(50.0, 70.0, vec![[0.0, -20.0]]), det(10.0, 30.0, vec![[0.0, -20.0]])]);
        assert_eq!(b.iter().map(|i| i.track_id).collect::<Vec<_>>(), vec![2, 1]);
        assert!(matches!(b[0].decision, Decision::Matched { ref_frame: 0, .. }));
        // A detection whose flow points nowhere near anything.
        let c = t.step(2, &[1, 0], vec![det(100.0, 100.0, vec![[0.0, 0.0], [0.0, 0.0]])]);
        assert_eq!(c[0].track_id, 3);
        assert!(matches!(c[0].decision, Decision::NewNothingNear { nearest: Some(_), .. }));
    }

    #[test]
    fn one_identity_per_frame_and_older_reference_as_fallback() {
        let mut t = Tracker::new(policy(), 10.0, 3);
        t.step(0, &[], vec![det(10.0, 10.0, vec![]), det(40.0, 40.0, vec![])]);
        // Frame 1 sees only track 1 (track 2 occluded).
        let b = t.step(1, &[0], vec![det(10.0, 10.0, vec![[0.0, 0.0]])]);
        assert_eq!(b[0].track_id, 1);
        // Frame 2: both flow onto track 1 in frame 1; the nearer wins, the other is "taken" there
        // but finds track 2 in the first frame.
        let c = t.step(
            2,
            &[1, 0],
            vec![det(10.0, 12.0, vec![[0.0, -2.0], [0.0, -2.0]]), det(40.0, 40.0, vec![[-29.0, -29.0], [0.0, 0.0]])],
        );
        assert_eq!(c[0].track_id, 1);
        assert_eq!(c[1].track_id, 2, "{:?}", c[1].decision);
        assert!(matches!(c[1].decision, Decision::Matched { ref_frame: 0, ref_slot: 1, .. }));
        // Two detections on one track: the second becomes new with "taken".
        let d = t.step(3, &[2, 1, 0], vec![det(10.0, 12.0, vec![[0.0; 2]; 3]), det(11.0, 12.0, vec![[0.0; 2]; 3])]);
        assert_eq!(d[0].track_id, 1);
        assert_eq!(d[1].decision, Decision::NewCandidatesTaken { threshold: 10.0 });
        let tr = t.track(1).expect("track 1");
        assert_eq!((tr.frames, tr.first_frame, tr.last_frame, tr.class_id()), (4, 0, 3, 1));
        // Memory is bounded: frames 0 (first) and the 2 most recent.
        assert_eq!(t.memory_frames(), vec![0, 2, 3]);
    }
}
