//! Occlusion rules of the keep-alive (`ifa.post` `exchange_ratio` > 0 switches both on).
//!
//! Where two instances cross, the detector often sees one blob for a while; the track that
//! follows the blob drifts to its middle and, when the two part, may take either piece, while
//! the hidden track re-links to the other. So a track that goes unseen next to another's
//! detection remembers that track as it was just before (its [`Occluder`]); when it is
//! re-linked, the two tracks' motion from before the occlusion decides which piece is whose,
//! and the two exchange detections if that fits clearly better. A hidden track whose motion
//! prediction misses (it slowed while sliding behind, or came back as a sliver) is also
//! re-linked to a detection that nothing else explains when that appears next to its occluder,
//! on the side it was heading: it came out from behind.

use super::keep_alive::{VELOCITY_HORIZON, extrapolate};
use super::slot_match::distance;
use super::{Decision, Detection, Tracker};

/// Longest occlusion (frames unseen) after which the exchange is considered: beyond it the
/// velocities from before say little about where the two are (measured: a 21-frame occlusion
/// on the standard validation set exchanged a track onto the wrong instance).
pub const EXCHANGE_MAX_HIDDEN: usize = 2 * VELOCITY_HORIZON;

/// The track whose detection covered a track's expected place in the first frame that track
/// went unseen, as it was in its last sighting before that frame: the merged detection of the
/// two that followed would have pulled its center and velocity towards the hidden one.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Occluder {
    pub track: u32,
    /// Its last sighting before the occlusion: frame, center and velocity (input pixels).
    pub frame: usize,
    pub center: [f64; 2],
    pub velocity: [f64; 2],
}

impl Tracker {
    /// For each track seen in the previous frame but not in this one: the track (already
    /// identified in this frame) whose detection's center is nearest to where the lost one was
    /// expected, if within that detection's radius plus `relink_distance`, and if both were
    /// seen at least twice (a single sighting has no velocity; measured: a one-frame track
    /// took a moving instance's detection). Read before this frame's sightings update the tracks.
    pub(super) fn occluders(
        &self,
        frame: usize,
        detections: &[Detection],
        assigned: &[Option<(u32, Decision)>],
    ) -> Vec<(u32, Occluder)> {
        if self.exchange_ratio <= 0.0 || self.max_hidden == 0 || frame == 0 {
            return Vec::new();
        }
        let seen: Vec<(u32, usize)> =
            assigned.iter().enumerate().filter_map(|(k, a)| a.as_ref().map(|(id, _)| (*id, k))).collect();
        let mut out = Vec::new();
        // Both tracks need a velocity: two sightings or more.
        for t in self.tracks.values().filter(|t| t.last_frame + 1 == frame && t.frames >= 2) {
            if seen.iter().any(|&(id, _)| id == t.id) {
                continue;
            }
            let p = t.predict(frame);
            let mut best: Option<(f64, u32)> = None;
            for &(id, k) in &seen {
                let d = &detections[k];
                let dist = distance(p, d.position);
                if dist <= d.radius + self.relink_distance && best.is_none_or(|(b, _)| dist < b) {
                    best = Some((dist, id));
                }
            }
            if let Some((_, id)) = best
                && let Some(a) = self.tracks.get(&id).filter(|a| a.frames >= 2)
            {
                let o = Occluder { track: id, frame: a.last_frame, center: a.last_center, velocity: a.velocity };
                out.push((t.id, o));
            }
        }
        out
    }

    /// A track re-linked next to its occluder: if the two tracks' motion from before the
    /// occlusion fits the two detections the other way round clearly better (summed distance
    /// below `exchange_ratio` times), they exchange detections.
    pub(super) fn exchange_after_occlusion(
        &self,
        frame: usize,
        detections: &[Detection],
        assigned: &mut [Option<(u32, Decision)>],
    ) {
        if self.exchange_ratio <= 0.0 {
            return;
        }
        let relinked: Vec<(usize, u32, usize, usize)> = assigned
            .iter()
            .enumerate()
            .filter_map(|(k, a)| match a {
                Some((id, Decision::Relinked { hidden, last_seen, .. })) => Some((k, *id, *hidden, *last_seen)),
                _ => None,
            })
            .collect();
        for (kh, h, hidden, last_seen) in relinked {
            if hidden > EXCHANGE_MAX_HIDDEN {
                continue;
            }
            let Some(o) = self.tracks.get(&h).and_then(|t| t.occluder) else { continue };
            let Some(ka) = assigned.iter().position(|a| a.as_ref().is_some_and(|(id, _)| *id == o.track)) else {
                continue;
            };
            // An occluder that was itself exchanged or re-linked this frame is left as it is.
            if !matches!(assigned[ka], Some((_, Decision::Matched { .. }))) {
                continue;
            }
            // Over the whole gap, without the horizon's cap: the two assignments are compared
            // under one rule, so a curving path errs for both, while the cap would pull both
            // predictions back towards where the paths met.
            let th = &self.tracks[&h];
            let ph = extrapolate(th.last_center, th.velocity, th.last_frame, frame, usize::MAX);
            let pa = extrapolate(o.center, o.velocity, o.frame, frame, usize::MAX);
            let (dh, da) = (detections[kh].position, detections[ka].position);
            let before = distance(dh, ph) + distance(da, pa);
            let after = distance(da, ph) + distance(dh, pa);
            if after < self.exchange_ratio * before {
                let d = |other| Decision::Exchanged { other, hidden, last_seen, before, after };
                assigned[kh] = Some((o.track, d(h)));
                assigned[ka] = Some((h, d(o.track)));
            }
        }
    }

    /// Detections still without identity that appear next to the occluder of a hidden track
    /// (within its detection's radius plus `relink_distance` of its center, the occluder seen
    /// in this frame) and ahead of that track's last motion: taken by the hidden track whose
    /// prediction is nearest, one-to-one. Part of the occlusion rules (`exchange_ratio` > 0).
    pub(super) fn reemerge(
        &self,
        frame: usize,
        detections: &[Detection],
        assigned: &mut [Option<(u32, Decision)>],
        taken: &mut Vec<u32>,
    ) {
        if self.exchange_ratio <= 0.0 || self.max_hidden == 0 {
            return;
        }
        // (distance to the prediction, detection, hidden track, occluder, distance to it, gate)
        let mut pairs: Vec<(f64, usize, u32, u32, f64, f64)> = Vec::new();
        for t in self.tracks.values() {
            if t.last_frame >= frame || frame - t.last_frame - 1 > self.max_hidden || taken.contains(&t.id) {
                continue;
            }
            let Some(o) = t.occluder else { continue };
            let Some(ko) = assigned.iter().position(|a| a.as_ref().is_some_and(|(id, _)| *id == o.track)) else {
                continue;
            };
            let od = &detections[ko];
            let gate = od.radius + self.relink_distance;
            for (k, d) in detections.iter().enumerate() {
                if assigned[k].is_some() {
                    continue;
                }
                let value = distance(d.position, od.position);
                let ahead = (d.position[0] - t.last_center[0]) * t.velocity[0]
                    + (d.position[1] - t.last_center[1]) * t.velocity[1];
                if value <= gate && ahead > 0.0 {
                    pairs.push((distance(d.position, t.predict(frame)), k, t.id, o.track, value, gate));
                }
            }
        }
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)).then(a.2.cmp(&b.2)));
        for (_, k, id, occluder, value, threshold) in pairs {
            if assigned[k].is_some() || taken.contains(&id) {
                continue;
            }
            let last_seen = self.tracks[&id].last_frame;
            taken.push(id);
            let hidden = frame - last_seen - 1;
            assigned[k] = Some((id, Decision::Reemerged { occluder, hidden, last_seen, value, threshold }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::TrackedInstance;
    use super::super::tests::det;
    use super::*;
    use crate::model::RefsPolicy;

    /// Two instances crossing: A moves right, H left; for frames 10..=19 the detector sees one
    /// blob between them, which track A follows. At frame 20 they part, and both pieces' flow
    /// points into the blob: A takes the first piece (H's), and H re-links to the other.
    fn cross(exchange_ratio: f32, blob_frames: usize) -> (Vec<TrackedInstance>, Tracker) {
        let policy = RefsPolicy { count: 2, first_frame: false, step: 1 };
        let mut t = Tracker::new(policy, 10.0, 3);
        t.set_keep_alive(50, 32.0);
        t.set_exchange_ratio(exchange_ratio);
        let refs = |f: usize| crate::model::refs::reference_frames(f, &policy);
        for f in 0..10 {
            let x = 5.0 * f as f64;
            let (r, n) = (refs(f), refs(f).len());
            let dets = vec![det(50.0, 100.0 + x, vec![[0.0, -5.0]; n]), det(60.0, 200.0 - x, vec![[0.0, 5.0]; n])];
            let out = t.step(f, &r, dets, &[], 0);
            assert_eq!(out.iter().map(|i| i.track_id).collect::<Vec<_>>(), vec![1, 2]);
        }
        let end = 10 + blob_frames;
        for f in 10..end {
            let mut blob = det(55.0, 150.0, vec![[0.0, 0.0]; 2]);
            (blob.cells, blob.radius) = (200, 31.9);
            let out = t.step(f, &refs(f), vec![blob], &[], 0);
            assert_eq!(out[0].track_id, 1, "frame {f}: {:?}", out[0].decision);
        }
        let parted = vec![det(60.0, 100.0, vec![[-5.0, 50.0]; 2]), det(50.0, 200.0, vec![[5.0, -50.0]; 2])];
        (t.step(end, &refs(end), parted, &[], 0), t)
    }

    #[test]
    fn crossing_tracks_that_part_take_back_their_own_pieces() {
        let (out, t) = cross(0.0, 10);
        // Off: A kept the piece that moved left (H's), H the one that moved right.
        assert_eq!(out.iter().map(|i| i.track_id).collect::<Vec<_>>(), vec![1, 2]);
        assert!(matches!(out[1].decision, Decision::Relinked { hidden: 10, last_seen: 9, .. }), "{:?}", out[1]);
        assert_eq!(t.track(2).and_then(|t| t.occluder), None, "nothing recorded when off");

        let (out, t) = cross(0.5, 10);
        assert_eq!(out.iter().map(|i| i.track_id).collect::<Vec<_>>(), vec![2, 1], "{out:?}");
        // Predicted over the 11 frames from before the blob: H at 155 - 55 = 100, A at 145 + 55
        // = 200. Pieces at (60, 100) and (50, 200): 2 x hypot(10, 100) the way they were taken,
        // 0 the other way.
        let (before, after) = (2.0 * 10f64.hypot(100.0), 0.0);
        assert_eq!(out[0].decision, Decision::Exchanged { other: 1, hidden: 10, last_seen: 9, before, after });
        assert_eq!(out[1].decision, Decision::Exchanged { other: 2, hidden: 10, last_seen: 9, before, after });
        assert!(
            out[0]
                .describe()
                .starts_with("exchanged with track 1 after an occlusion of 10 frames (last seen in frame 9)")
        );
        assert_eq!(t.track(2).and_then(|t| t.occluder), None, "seen again: the occluder is forgotten");

        // Occluded for longer than the exchange considers: left as re-linked.
        let (out, _) = cross(0.5, EXCHANGE_MAX_HIDDEN + 1);
        assert!(matches!(out[1].decision, Decision::Relinked { .. }), "{:?}", out[1].decision);
    }

    #[test]
    fn no_exchange_when_the_motion_does_not_say_so() {
        // The same blob, but the pieces part the way the tracks already have them.
        let policy = RefsPolicy { count: 2, first_frame: false, step: 1 };
        let mut t = Tracker::new(policy, 10.0, 3);
        t.set_keep_alive(50, 32.0);
        t.set_exchange_ratio(0.5);
        let refs = |f: usize| crate::model::refs::reference_frames(f, &policy);
        for f in 0..10 {
            let x = 5.0 * f as f64;
            let n = refs(f).len();
            t.step(
                f,
                &refs(f),
                vec![det(50.0, 100.0 + x, vec![[0.0, -5.0]; n]), det(60.0, 200.0 - x, vec![[0.0, 5.0]; n])],
                &[],
                0,
            );
        }
        for f in 10..20 {
            let mut blob = det(55.0, 150.0, vec![[0.0, 0.0]; 2]);
            (blob.cells, blob.radius) = (200, 31.9);
            t.step(f, &refs(f), vec![blob], &[], 0);
        }
        assert!(t.track(2).and_then(|t| t.occluder).is_some_and(|o| o.track == 1 && o.frame == 9));
        let parted = vec![det(50.0, 190.0, vec![[5.0, -40.0]; 2]), det(60.0, 110.0, vec![[-5.0, 40.0]; 2])];
        let out = t.step(20, &refs(20), parted, &[], 0);
        assert_eq!(out.iter().map(|i| i.track_id).collect::<Vec<_>>(), vec![1, 2]);
        assert!(matches!(out[1].decision, Decision::Relinked { .. }), "{:?}", out[1].decision);
    }

    /// A small track (2) slides right behind a large still one (1) at 3 px/frame, hidden from
    /// frame 10, and a detection appears at `x` in frame 40, far beyond the motion gate.
    fn behind(x: f64) -> Vec<TrackedInstance> {
        let policy = RefsPolicy { count: 2, first_frame: false, step: 1 };
        let mut t = Tracker::new(policy, 10.0, 3);
        t.set_keep_alive(50, 12.0);
        t.set_exchange_ratio(0.5);
        let refs = |f: usize| crate::model::refs::reference_frames(f, &policy);
        let big = |n: usize| {
            let mut d = det(100.0, 150.0, vec![[0.0, 0.0]; n]);
            (d.cells, d.radius) = (400, 45.1);
            d
        };
        for f in 0..10 {
            let n = refs(f).len();
            t.step(f, &refs(f), vec![big(n), det(100.0, 90.0 + 3.0 * f as f64, vec![[0.0, -3.0]; n])], &[], 0);
        }
        for f in 10..40 {
            t.step(f, &refs(f), vec![big(2)], &[], 0);
        }
        assert!(t.track(2).and_then(|t| t.occluder).is_some_and(|o| o.track == 1));
        t.step(40, &refs(40), vec![big(2), det(100.0, x, vec![[0.0, 0.0]; 2])], &[], 0)
    }

    #[test]
    fn a_track_that_went_behind_another_comes_out_on_the_far_side() {
        let out = behind(200.0);
        assert_eq!(out[1].track_id, 2, "{:?}", out[1].decision);
        let gate = 45.1 + 12.0;
        assert_eq!(
            out[1].decision,
            Decision::Reemerged { occluder: 1, hidden: 30, last_seen: 9, value: 50.0, threshold: gate }
        );
        assert!(
            out[1]
                .describe()
                .starts_with("re-linked after 30 hidden frames (last seen in frame 9) coming out from behind track 1")
        );
        // Out on the side it came from: not ahead of its motion, a new track.
        assert_eq!(behind(100.0)[1].track_id, 3);
        // Too far from the occluder: a new track.
        assert_eq!(behind(150.0 + gate + 1.0)[1].track_id, 3);
    }
}
