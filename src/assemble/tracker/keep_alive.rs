//! Keep-alive: a track that went unseen (missed by the detector, or hidden behind another
//! instance) keeps its identity for up to `max_hidden` frames, predicted forward at its recent
//! velocity, and is re-linked when a detection that no reference explained appears near that
//! prediction.

use super::slot_match::distance;
use super::{Decision, Detection, RefVote, TrackInfo, Tracker};

/// Frames over which a hidden track's velocity is extrapolated.
pub const VELOCITY_HORIZON: usize = 8;

/// Gate of the re-link after `hidden` unseen frames: `base` up to one frame, widening with the
/// square root of the time hidden (the uncertainty of a random walk) up to 3x `base`.
pub fn relink_gate(base: f64, hidden: usize) -> f64 {
    base * (1.0 + 0.5 * ((hidden as f64).sqrt() - 1.0).max(0.0)).min(3.0)
}

/// `center` (seen in frame `from`) moved at `velocity` up to `frame`, for at most `max_frames`
/// frames.
pub(super) fn extrapolate(
    center: [f64; 2],
    velocity: [f64; 2],
    from: usize,
    frame: usize,
    max_frames: usize,
) -> [f64; 2] {
    let k = frame.saturating_sub(from).min(max_frames) as f64;
    [center[0] + velocity[0] * k, center[1] + velocity[1] * k]
}

impl TrackInfo {
    /// Where its center is expected in `frame` (after its last frame): the last center moved at
    /// the recent velocity for at most [`VELOCITY_HORIZON`] frames, since a straight line is a
    /// poor guess for longer (paths curve and bounce).
    pub fn predict(&self, frame: usize) -> [f64; 2] {
        extrapolate(self.last_center, self.velocity, self.last_frame, frame, VELOCITY_HORIZON)
    }

    /// Records a sighting at `frame` with center `c`.
    pub(super) fn observe(&mut self, frame: usize, c: [f64; 2]) {
        if self.frames > 0 && frame > self.last_frame {
            let dt = (frame - self.last_frame) as f64;
            let v = [(c[0] - self.last_center[0]) / dt, (c[1] - self.last_center[1]) / dt];
            // The first displacement sets the velocity; later ones are averaged in.
            let a = if self.frames == 1 { 1.0 } else { 0.5 };
            self.velocity =
                [self.velocity[0] + a * (v[0] - self.velocity[0]), self.velocity[1] + a * (v[1] - self.velocity[1])];
        }
        self.last_frame = frame;
        self.last_center = c;
        self.occluder = None;
    }
}

impl Tracker {
    /// Keep-alive: detections that no reference explained against the tracks not seen in this
    /// frame and last seen at most `max_hidden` frames ago, nearest prediction first (in the
    /// consistency ordering: plus the size and class penalties against the track as last seen
    /// and its majority class), one-to-one.
    /// A track that a reference holds but whose flow gate failed is a candidate too: the motion
    /// prediction is a second opinion when the flow misses. With `relink_same_class`, only
    /// detections of the track's majority class are candidates.
    pub(super) fn relink(
        &self,
        frame: usize,
        refs: &[usize],
        detections: &[Detection],
        votes: &[Vec<RefVote>],
        assigned: &mut [Option<(u32, Decision)>],
        taken: &mut Vec<u32>,
    ) {
        if self.max_hidden == 0 || refs.is_empty() {
            return;
        }
        let lost: Vec<&TrackInfo> = self
            .tracks
            .values()
            .filter(|t| t.last_frame < frame && frame - t.last_frame - 1 <= self.max_hidden && !taken.contains(&t.id))
            .collect();
        if lost.is_empty() {
            return;
        }
        // (cost, distance, detection, track, via reference, gate)
        let mut pairs: Vec<(f64, f64, usize, u32, Option<usize>, f64)> = Vec::new();
        for (k, d) in detections.iter().enumerate() {
            if assigned[k].is_some() {
                continue;
            }
            for t in &lost {
                let class_id = t.class_id();
                if self.relink_same_class && d.class_id != class_id {
                    continue;
                }
                let gate = relink_gate(self.relink_distance, frame - t.last_frame - 1);
                let mut best = (distance(d.position, t.predict(frame)), None);
                for (slot, &rf) in refs.iter().enumerate() {
                    // Flow into a reference after the track's last sighting, where it was unseen:
                    // compare with where it was expected there.
                    if rf > t.last_frame {
                        let dist = distance(votes[k][slot].warped, t.predict(rf));
                        if dist < best.0 {
                            best = (dist, Some(rf));
                        }
                    }
                }
                if best.0 <= gate {
                    let cost = self.consistency.cost_against(best.0, d, t.last_radius, class_id);
                    pairs.push((cost, best.0, k, t.id, best.1, gate));
                }
            }
        }
        pairs.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.2.cmp(&b.2)).then(a.3.cmp(&b.3)));
        for (_, value, k, id, via_ref, threshold) in pairs {
            if assigned[k].is_some() || taken.contains(&id) {
                continue;
            }
            let last_seen = self.tracks[&id].last_frame;
            taken.push(id);
            assigned[k] =
                Some((id, Decision::Relinked { hidden: frame - last_seen - 1, last_seen, via_ref, value, threshold }));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{det, policy};
    use super::*;
    use crate::model::RefsPolicy;

    /// References: the 2 most recent frames, no first frame (so only the keep-alive can bridge).
    fn recent_only(t: &Tracker, frame: usize) -> Vec<usize> {
        let p = t.policy();
        crate::model::refs::reference_frames(frame, &p)
    }

    #[test]
    fn a_hidden_track_is_relinked_along_its_path_within_max_hidden() {
        let policy = RefsPolicy { count: 2, first_frame: false, step: 1 };
        let mut t = Tracker::new(policy, 10.0, 3);
        t.set_keep_alive(20, 12.0);
        // Moves +5 px/frame in x for frames 0..=3, hidden for frames 4..=9, back at frame 10.
        for f in 0..=3 {
            let refs = recent_only(&t, f);
            let flows = vec![[0.0, -5.0]; refs.len()];
            let out = t.step(f, &refs, vec![det(20.0, 10.0 + 5.0 * f as f64, flows)], &[], 0);
            assert_eq!(out[0].track_id, 1);
        }
        for f in 4..=9 {
            let refs = recent_only(&t, f);
            assert!(t.step(f, &refs, vec![], &[], 0).is_empty());
        }
        let refs = recent_only(&t, 10);
        // Its flow into frames 9 and 8 (where it was hidden) is meaningless: point it far away.
        let out = t.step(10, &refs, vec![det(20.0, 60.0, vec![[90.0, 90.0]; 2])], &[], 0);
        assert_eq!(out[0].track_id, 1, "{:?}", out[0].decision);
        // Predicted: 25 + 5 * min(7, 8) = 60.
        assert_eq!(
            out[0].decision,
            Decision::Relinked { hidden: 6, last_seen: 3, via_ref: None, value: 0.0, threshold: relink_gate(12.0, 6) }
        );
        assert_eq!(out[0].hidden_before, 6);
        assert!(out[0].describe().starts_with("re-linked after 6 hidden frames (last seen in frame 3) by position"));
        let tr = t.track(1).expect("track 1");
        assert_eq!((tr.frames, tr.first_frame, tr.last_frame), (5, 0, 10));

        // Far from the prediction: a new track, and the old one is still waiting.
        let refs = recent_only(&t, 11);
        let out = t.step(11, &refs, vec![det(200.0, 200.0, vec![[0.0; 2]; 2])], &[], 0);
        assert_eq!(out[0].track_id, 2);
        assert!(matches!(out[0].decision, Decision::NewNothingNear { .. }));
    }

    #[test]
    fn with_relink_same_class_a_hidden_track_waits_for_its_own_class() {
        let policy = RefsPolicy { count: 1, first_frame: false, step: 1 };
        for same_class in [false, true] {
            let mut t = Tracker::new(policy, 10.0, 3);
            t.set_keep_alive(20, 12.0);
            t.set_relink_same_class(same_class);
            t.step(0, &[], vec![det(20.0, 20.0, vec![])], &[], 0);
            for f in 1..=4 {
                t.step(f, &[f - 1], vec![], &[], 0);
            }
            // Another class where track 1 went unseen: re-linked only without the rule.
            let mut other = det(21.0, 20.0, vec![[0.0; 2]]);
            other.class_id = 2;
            let out = t.step(5, &[4], vec![other], &[], 0);
            assert_eq!(out[0].track_id, if same_class { 2 } else { 1 }, "same_class {same_class}");
            if same_class {
                // Track 1 still waits, and takes a detection of its own class.
                let out = t.step(6, &[5], vec![det(20.0, 20.0, vec![[90.0, 90.0]])], &[], 0);
                assert_eq!(out[0].track_id, 1, "{:?}", out[0].decision);
                assert!(matches!(out[0].decision, Decision::Relinked { hidden: 5, last_seen: 0, .. }));
            }
        }
    }

    #[test]
    fn keep_alive_is_bounded_and_off_when_zero() {
        let policy = RefsPolicy { count: 1, first_frame: false, step: 1 };
        for (max_hidden, gap, want) in [(5, 5, 1), (5, 6, 2), (0, 2, 2)] {
            let mut t = Tracker::new(policy, 10.0, 3);
            t.set_keep_alive(max_hidden, 12.0);
            t.step(0, &[], vec![det(20.0, 20.0, vec![])], &[], 0);
            for f in 1..=gap {
                t.step(f, &[f - 1], vec![], &[], 0);
            }
            let f = gap + 1;
            let out = t.step(f, &[f - 1], vec![det(21.0, 20.0, vec![[0.0; 2]])], &[], 0);
            assert_eq!(out[0].track_id, want, "max_hidden {max_hidden}, hidden {gap}");
        }
    }

    #[test]
    fn a_track_matched_after_a_gap_says_how_long_it_was_kept_alive() {
        let mut t = Tracker::new(policy(), 10.0, 3);
        t.step(0, &[], vec![det(10.0, 10.0, vec![]), det(40.0, 40.0, vec![])], &[], 0);
        for f in 1..=4 {
            t.step(
                f,
                &crate::model::refs::reference_frames(f, &policy()),
                vec![det(10.0, 10.0, vec![[0.0; 2]; 3])],
                &[],
                0,
            );
        }
        // Track 2 comes back at frame 5, matched through the first frame.
        let out = t.step(
            5,
            &[4, 3, 0],
            vec![det(10.0, 10.0, vec![[0.0; 2]; 3]), det(40.0, 41.0, vec![[0.0, -1.0]; 3])],
            &[],
            0,
        );
        assert_eq!(out[1].track_id, 2);
        assert!(matches!(out[1].decision, Decision::Matched { ref_frame: 0, .. }));
        assert_eq!(out[1].hidden_before, 4);
        assert_eq!(out[1].describe(), "matched via frame 0: 0.00 px <= 10.0 (kept alive 4 hidden frames)");
        assert_eq!(out[0].hidden_before, 0);
    }

    #[test]
    fn the_relink_gate_widens_with_time_hidden_up_to_three_times() {
        assert_eq!(relink_gate(10.0, 0), 10.0);
        assert_eq!(relink_gate(10.0, 1), 10.0);
        assert_eq!(relink_gate(10.0, 9), 20.0);
        assert_eq!(relink_gate(10.0, 10_000), 30.0);
    }
}
