//! The tracker's unit tests: flow, center, IoU and flow-mask matching, the first frame.

use super::*;
use crate::assemble::detect::Center;

pub(super) fn det(y: f64, x: f64, flows: Vec<[f64; 2]>) -> Detection {
    Detection {
        center: Center { cell: (0, 0), heat: 1.0 },
        position: [y, x],
        class_id: 1,
        score: 0.5,
        cells: 10,
        radius: 7.1,
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
    let d = t.step(3, &[2, 1, 0], vec![det(10.0, 12.0, vec![[0.0; 2]; 3]), det(11.0, 12.0, vec![[0.0; 2]; 3])], &[], 0);
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
        Decision::Matched {
            ref_frame: 0,
            ref_slot: 0,
            by: Association::Iou,
            value: 4.0 / 6.0,
            threshold: 0.3,
            passed_over: None,
            merge: false
        }
    );
    assert_eq!(b[1].decision.describe(), "matched via frame 0 by mask IoU: 0.67 >= 0.30");
    assert_eq!(b[0].track_id, 3);
    assert_eq!(b[0].decision, Decision::NewCandidatesTaken { by: Association::Iou, threshold: 0.3 });
    assert_eq!(b[0].votes[0].overlap, Some((1, 2.0 / 6.0)));
    // Frame 2: track 2 reappears where the first frame had it; frame 1 holds nothing there.
    let c =
        t.step(2, &[1, 0], vec![det(0.0, 13.0, far.clone()), det(0.0, 2.0, far)], &strip(16, &[(11, 15), (0, 4)]), 16);
    assert_eq!(c[0].track_id, 2);
    assert_eq!(
        c[0].decision,
        Decision::Matched {
            ref_frame: 0,
            ref_slot: 1,
            by: Association::Iou,
            value: 3.0 / 5.0,
            threshold: 0.3,
            passed_over: None,
            merge: false
        }
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
    assert_eq!(*d, Decision::NewNothingNear { nearest: Some((0, 1, 4.0 / 6.0)), by: Association::Iou, threshold: 0.7 });
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
    assert_eq!(b[1].decision.describe(), "new: nearest was track 1 in frame 0 at 20.00 px > 10.0 (unwarped center)");
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
        Decision::Matched {
            ref_frame: 0,
            ref_slot: 0,
            by: Association::FlowMask,
            value: 1.0,
            threshold: 0.5,
            passed_over: None,
            merge: false
        }
    );
    assert_eq!(b[0].decision.describe(), "matched via frame 0 by flow-warped mask IoU: 1.00 >= 0.50");
    assert_eq!(b[0].votes[0].overlap, Some((1, 1.0)));
    assert_eq!(
        b[1].decision,
        Decision::Matched {
            ref_frame: 0,
            ref_slot: 0,
            by: Association::Flow,
            value: 2.0,
            threshold: 10.0,
            passed_over: None,
            merge: false
        }
    );
    // Nothing near: the decision speaks of the flow's gate.
    let c = t.step(2, &[1, 0], vec![det(0.0, 200.0, vec![[0.0; 2]; 2])], &strip(16, &[]), 16);
    assert!(matches!(c[0].decision, Decision::NewNothingNear { by: Association::Flow, threshold: 10.0, .. }));
}

/// The demo's failure: a small star passes over a large cross and the detector sees one large
/// blob near the star's old place and a small piece of the cross. Nearest first hands the blob to
/// the star's track; with size and class in the order it goes to the cross's.
#[test]
fn consistency_orders_a_merged_blob_to_the_track_of_its_size_and_class() {
    let shape = |y, x, class_id, radius| Detection { class_id, radius, ..det(y, x, vec![[0.0, 0.0]]) };
    let run = |size_weight, class_penalty| {
        let mut t = Tracker::new(RefsPolicy { count: 1, first_frame: false, step: 1 }, 32.0, 3);
        t.set_consistency(size_weight, class_penalty);
        // Track 1: a small star (class 2); track 2: a large cross (class 3).
        t.step(0, &[], vec![shape(100.0, 100.0, 2, 12.0), shape(130.0, 95.0, 3, 30.0)], &[], 0);
        t.step(1, &[0], vec![shape(110.0, 98.0, 3, 31.0), shape(151.0, 95.0, 3, 11.0)], &[], 0)
    };
    let ids = |b: Vec<TrackedInstance>| b.iter().map(|i| i.track_id).collect::<Vec<_>>();
    // The blob is 10.2 px from the star and 20.2 px from the cross; the piece 21 px from the cross.
    let nearest = run(0.0, 0.0);
    assert_eq!(ids(nearest.clone()), vec![1, 2], "nearest first");
    assert_eq!(nearest[0].decision.describe(), "matched via frame 0: 10.20 px <= 32.0");
    let by_size = run(1.0, 0.0);
    assert_eq!(ids(by_size.clone()), vec![2, 3], "size: the blob is the cross; the piece starts a track");
    // The inspector says which nearer track the ordering passed over.
    assert_eq!(
        by_size[0].decision.describe(),
        "matched via frame 0: 20.22 px <= 32.0 (before track 1 at 10.20 px: size or class)"
    );
    assert_eq!(ids(run(0.0, 16.0)), vec![2, 3], "class alone also decides");
    // Non-finite or negative weights count as 0.
    assert_eq!(ids(run(f32::NAN, -5.0)), vec![1, 2]);
}

/// Two clones cross and the detector sees one blob, larger than either, whose pooled flow lands
/// nearer the one behind (it had already lost part of its area to the one in front). Nearest
/// first gives the blob to the one behind; as a merge it goes to the one whose size it is
/// nearest to, the one in front, and the other goes unseen.
#[test]
fn a_merged_blob_goes_to_the_instance_in_front() {
    let shape = |y, x, radius| Detection { radius, ..det(y, x, vec![[0.0, 0.0]]) };
    let run = |merge_ratio, blob: Detection, second: Option<Detection>| {
        let mut t = Tracker::new(RefsPolicy { count: 1, first_frame: false, step: 1 }, 46.0, 3);
        t.set_merge_ratio(merge_ratio);
        // Track 1, in front (radius 33), moving right; track 2, partly behind it (radius 30).
        t.step(0, &[], vec![shape(165.0, 290.0, 33.0), shape(185.0, 333.0, 30.0)], &[], 0);
        let mut dets = vec![blob];
        dets.extend(second);
        t.step(1, &[0], dets, &[], 0)
    };
    let blob = shape(177.0, 320.0, 43.0);
    // The blob is 32.3 px from track 1 and 15.3 px from track 2.
    let nearest = run(0.0, blob.clone(), None);
    assert_eq!(nearest[0].track_id, 2, "nearest first: the one behind");
    let merged = run(1.3, blob.clone(), None);
    assert_eq!(merged[0].track_id, 1, "as a merge: the one in front");
    assert_eq!(
        merged[0].decision.describe(),
        "matched via frame 0: 32.31 px <= 46.0 (a merge, also of track 2 at 15.26 px: the nearest in size)"
    );
    // Not a merge: the blob is not the nearest detection to track 2 (track 2 has its own), or
    // not large enough against both tracks' areas.
    let own = run(1.3, blob.clone(), Some(shape(186.0, 331.0, 29.0)));
    assert_eq!((own[0].track_id, own[1].track_id), (1, 2));
    assert!(!own[0].decision.describe().contains("merge"));
    assert_eq!(run(1.3, shape(177.0, 320.0, 35.0), None)[0].track_id, 2, "35 px: under 1.3 x track 1's area");
    assert_eq!(run(0.5, blob.clone(), None)[0].track_id, 2, "a ratio below 1 is off");
    // Nearest also to a track it is not larger than (a large instance that a small one passes
    // over, its own detection missed): that track, not a merge.
    let mut t = Tracker::new(RefsPolicy { count: 1, first_frame: false, step: 1 }, 46.0, 3);
    t.set_merge_ratio(1.3);
    t.step(0, &[], vec![shape(165.0, 290.0, 33.0), shape(185.0, 333.0, 30.0), shape(180.0, 310.0, 40.0)], &[], 0);
    let large = t.step(1, &[0], vec![blob.clone()], &[], 0);
    assert_eq!(large[0].track_id, 3, "the large track, nearest at 10.4 px");
    assert!(!large[0].decision.describe().contains("merge"));
    // Much larger than its tracks together (two fragments, then the instance seen whole): not a
    // merge of them either.
    let mut t = Tracker::new(RefsPolicy { count: 1, first_frame: false, step: 1 }, 46.0, 3);
    t.set_merge_ratio(1.3);
    t.step(0, &[], vec![shape(165.0, 290.0, 12.0), shape(185.0, 333.0, 14.0)], &[], 0);
    assert_eq!(t.step(1, &[0], vec![blob], &[], 0)[0].track_id, 2, "fragments: the nearest");
}

#[test]
fn older_references_of_one_class_only_when_asked() {
    // Track 1 (class 1) in frame 0, unseen in frame 1; in frame 2 a class-2 detection whose flow
    // into frame 0 lands on it. The keep-alive is off, so only the older reference can match.
    let policy = RefsPolicy { count: 2, first_frame: false, step: 1 };
    for on in [false, true] {
        let mut t = Tracker::new(policy, 10.0, 3);
        t.set_older_refs_same_class(on);
        t.step(0, &[], vec![det(20.0, 20.0, vec![])], &[], 0);
        t.step(1, &[0], vec![], &[], 0);
        let mut other = det(20.0, 30.0, vec![[90.0, 90.0], [0.0, -10.0]]);
        other.class_id = 2;
        let out = t.step(2, &[1, 0], vec![other.clone()], &[], 0);
        assert_eq!(out[0].track_id, if on { 2 } else { 1 }, "older_refs_same_class {on}");
        // Its own class still matches through the older reference.
        let mut t = Tracker::new(policy, 10.0, 3);
        t.set_older_refs_same_class(on);
        t.step(0, &[], vec![det(20.0, 20.0, vec![])], &[], 0);
        t.step(1, &[0], vec![], &[], 0);
        other.class_id = 1;
        let out = t.step(2, &[1, 0], vec![other.clone()], &[], 0);
        assert!(matches!(out[0].decision, Decision::Matched { ref_frame: 0, .. }), "{:?}", out[0].decision);
    }
}

#[test]
fn a_flow_weight_below_one_weighs_each_tracks_velocity_against_the_flow() {
    // Two like instances 30 px apart moving +10 px a frame in x; in frame 3 each one's flow
    // points 25 px past its own place towards the other's (a confused flow).
    let p = RefsPolicy { count: 1, first_frame: false, step: 1 };
    for (w, swapped) in [(1.0f32, true), (0.4, false), (f32::NAN, true)] {
        let mut t = Tracker::new(p, 40.0, 3);
        t.set_flow_weight(w);
        let mut ids = Vec::new();
        for f in 0..4usize {
            let x = 10.0 + 10.0 * f as f64;
            let refs: Vec<usize> = if f == 0 { vec![] } else { vec![f - 1] };
            let (fa, fb) = if f == 3 { ([0.0, 15.0], [0.0, -35.0]) } else { ([0.0, -10.0], [0.0, -10.0]) };
            let flows = |v: [f64; 2]| if refs.is_empty() { vec![] } else { vec![v] };
            let out = t.step(f, &refs, vec![det(20.0, x, flows(fa)), det(20.0, x + 30.0, flows(fb))], &[], 0);
            ids = out.iter().map(|i| i.track_id).collect::<Vec<_>>();
        }
        // Flow alone: the first detection's warped center lands 5 px from the second's track
        // and 25 px from its own. Weighted 0.4 against the velocity: it moves 0.4 * 15 - 0.6 * 10
        // = 0 px, 10 px from its own track and 20 px from the other.
        assert_eq!(ids == vec![2, 1], swapped, "flow_weight {w}: {ids:?}");
    }
}
