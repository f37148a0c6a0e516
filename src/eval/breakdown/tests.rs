//! The breakdown's unit tests: per-frame quality, oracle edits, tracking counts and switch kinds.
use serde_json::{Value, json};

use super::*;
use crate::rle::Rle;

const H: u32 = 40;
const W: u32 = 60;

/// A filled rectangle `[x0, x1) × [y0, y1)` in an `H × W` frame.
fn rect(x0: u32, y0: u32, x1: u32, y1: u32) -> Rle {
    let mask: Vec<u8> =
        (0..H * W).map(|i| u8::from((x0..x1).contains(&(i % W)) && (y0..y1).contains(&(i / W)))).collect();
    Rle::from_mask(H, W, &mask).expect("mask")
}

/// Ground truth of one video with `tracks` = (category, frames); annotation ids from 1.
fn ground_truth(tracks: &[(i64, Vec<Option<Rle>>)]) -> GroundTruth {
    let anns: Vec<Value> = tracks
        .iter()
        .enumerate()
        .map(|(i, (cat, frames))| {
            json!({"id": i + 1, "video_id": 1, "category_id": cat, "iscrowd": 0,
                   "segmentations": frames, "areas": frames.iter().map(|f| f.as_ref().map(Rle::area)).collect::<Vec<_>>()})
        })
        .collect();
    GroundTruth::from_json(&json!({
        "videos": [{"id": 1, "height": H, "width": W, "length": tracks[0].1.len()}],
        "categories": [{"id": 1, "name": "a"}, {"id": 2, "name": "b"}],
        "annotations": anns,
    }))
    .expect("ground truth")
}

fn track(category_id: i64, score: f64, segmentations: Vec<Option<Rle>>) -> ResultTrack {
    ResultTrack { video_id: 1, category_id, score, segmentations }
}

/// Four squares over 4 frames, two per class (so that perfect results score exactly AP 1, as
/// the official evaluator's arithmetic gives 0.9999999999999998 with one per class); the
/// second one is missing in frame 2.
fn four_squares() -> GroundTruth {
    let a = (0..4).map(|f| Some(rect(2 + f, 2, 12 + f, 12))).collect();
    let b = (0..4).map(|f| (f != 2).then(|| rect(30, 10 + f, 50, 30 + f))).collect();
    let c = (0..4).map(|f| Some(rect(2, 20 + f, 12, 30 + f))).collect();
    let d = (0..4).map(|_| Some(rect(15, 25, 25, 35))).collect();
    ground_truth(&[(1, a), (2, b), (1, c), (2, d)])
}

#[test]
fn ground_truth_as_results_is_perfect() {
    let gt = four_squares();
    let b = Breakdown::compute(&gt, &gt.as_results()).expect("breakdown");
    assert_eq!(
        b.frames.all,
        FrameStats {
            count: 15,
            mean_best_iou: Some(1.0),
            recall_50: Some(1.0),
            recall_75: Some(1.0),
            missed: Some(0.0),
            merged: Some(0.0),
            partial: Some(0.0)
        }
    );
    // 100 px and 400 px squares: all small.
    assert_eq!(b.frames.by_size[0].stats.count, 15);
    assert_eq!(
        b.frames.by_size[1].stats,
        FrameStats {
            count: 0,
            mean_best_iou: None,
            recall_50: None,
            recall_75: None,
            missed: None,
            merged: None,
            partial: None
        }
    );
    assert_eq!(b.oracle_tracks.stats[0], 1.0);
    assert_eq!(b.oracle_tracks_and_class.stats[0], 1.0);
    assert_eq!((b.oracle_tracks.tracks, b.oracle_tracks.matched_tracks), (4, 4));
    let t = &b.tracking;
    assert_eq!(t.tracks_per_gt, Some(1.0));
    assert_eq!((t.gt_tracks, t.gt_tracks_unmatched, t.predicted_tracks, t.predicted_tracks_unmatched), (4, 0, 4, 0));
    assert_eq!(t.id_switches, 0);
}

#[test]
fn split_tracks_are_two_per_gt_and_one_switch() {
    let gt = four_squares();
    let mut results = Vec::new();
    for t in gt.as_results() {
        let (mut first, mut second) = (t.clone(), t.clone());
        for f in 0..4 {
            if f < 2 { second.segmentations[f] = None } else { first.segmentations[f] = None }
        }
        first.score = 0.9;
        second.score = 0.5;
        results.extend([first, second]);
    }
    let plain = evaluate(&gt, &results).expect("plain").stats[0];
    let b = Breakdown::compute(&gt, &results).expect("breakdown");
    assert!(plain < 0.9, "plain AP {plain}");
    assert_eq!(b.oracle_tracks.stats[0], 1.0);
    assert_eq!(b.oracle_tracks.tracks, 4);
    assert_eq!(b.frames.all.mean_best_iou, Some(1.0));
    let t = &b.tracking;
    assert_eq!(t.tracks_per_gt, Some(2.0));
    assert_eq!((t.id_switches, t.id_switches_per_gt), (4, Some(1.0)));
    assert_eq!(t.switches, SwitchKinds { to_new_track: 4, ..SwitchKinds::default() });
    // The score is the mean over contributing frames: 0.9, 0.9, 0.5, 0.5 and, for the square
    // missing in frame 2, 0.9, 0.9, 0.5.
    let edited = oracle_results(&gt, &results, OracleClass::Vote).expect("oracle");
    assert_eq!(edited[0].score, 0.7);
    assert_eq!(edited[1].score, numpy_mean(&[0.9, 0.9, 0.5]).expect("mean"));
}

#[test]
fn switches_are_sorted_into_swaps_older_tracks_and_gaps() {
    let (a, b, c) = (|| Some(rect(0, 0, 10, 10)), || Some(rect(20, 0, 30, 10)), || Some(rect(40, 20, 50, 30)));
    let gt = ground_truth(&[(1, vec![a(); 4]), (1, vec![b(); 4]), (1, vec![c(); 4])]);
    let results = vec![
        // Two tracks that swap their instances in frame 2.
        track(1, 0.9, vec![a(), a(), b(), b()]),
        track(1, 0.8, vec![b(), b(), a(), a()]),
        // C: one track for frame 0; in frame 1 only a sliver on it (IoU 0.04), from a track
        // that takes C from frame 2 on.
        track(1, 0.7, vec![c(), None, None, None]),
        track(1, 0.6, vec![None, Some(rect(40, 20, 42, 22)), c(), c()]),
    ];
    let t = Breakdown::compute(&gt, &results).expect("breakdown").tracking;
    assert_eq!(t.id_switches, 3);
    let want = SwitchKinds {
        to_new_track: 0,
        to_track_of_other_instance: 2,
        to_older_track: 1,
        old_track_still_shown: 2,
        after_unmatched_frames: 1,
    };
    assert_eq!(t.switches, want);
}

#[test]
fn shifted_masks_have_known_iou() {
    // A 10 × 10 square; predictions shifted by 2 px (IoU 80/120) and 5 px (IoU 50/150).
    let gt = ground_truth(&[(1, vec![Some(rect(10, 10, 20, 20)), Some(rect(10, 10, 20, 20))])]);
    let results = vec![track(1, 0.8, vec![Some(rect(12, 10, 22, 20)), Some(rect(15, 10, 25, 20))])];
    let b = Breakdown::compute(&gt, &results).expect("breakdown");
    let all = &b.frames.all;
    assert_eq!(all.count, 2);
    assert!((all.mean_best_iou.expect("mean") - (2.0 / 3.0 + 1.0 / 3.0) / 2.0).abs() < 1e-12);
    assert_eq!((all.recall_50, all.recall_75), (Some(0.5), Some(0.0)));
    // Frame 1 stays a track of its own; the track still matched the ground truth once.
    let edited = oracle_results(&gt, &results, OracleClass::Vote).expect("oracle");
    assert_eq!(edited.len(), 2);
    assert_eq!(edited[0].segmentations, vec![Some(rect(12, 10, 22, 20)), None]);
    assert_eq!(edited[1].segmentations, vec![None, Some(rect(15, 10, 25, 20))]);
    assert_eq!((b.tracking.predicted_tracks_unmatched, b.tracking.tracks_per_gt), (0, Some(1.0)));
    // A mask in a frame without predictions scores 0.
    let none = Breakdown::compute(&gt, &[]).expect("breakdown");
    assert_eq!(none.frames.all.mean_best_iou, Some(0.0));
    assert_eq!(none.tracking.gt_tracks_unmatched, 1);
}

#[test]
fn size_bins_use_the_frame_area() {
    // 999 px (27 × 37) is small, 1,000 px (25 × 40) is medium.
    let gt = ground_truth(&[(1, vec![Some(rect(0, 0, 27, 37))]), (1, vec![Some(rect(30, 0, 55, 40))])]);
    let b = Breakdown::compute(&gt, &gt.as_results()).expect("breakdown");
    let counts: Vec<usize> = b.frames.by_size.iter().map(|s| s.stats.count).collect();
    assert_eq!(counts, [1, 1, 0]);
    assert_eq!(b.frames.by_size[2].max_area, None);
    assert_eq!(b.frames.by_size[1].max_area, Some(4_000));
}

#[test]
fn lost_instance_frames_are_missed_merged_or_partial() {
    // A 10 x 10 square over five frames: found (IoU 0.81), missed (a mask elsewhere and a
    // sliver of 20%), merged into a mask four times its size, cut to its left 40%, and
    // nothing at all in the last frame.
    let sq = || Some(rect(10, 10, 20, 20));
    let gt = ground_truth(&[(1, vec![sq(), sq(), sq(), sq(), sq()])]);
    let results = vec![
        track(
            1,
            0.9,
            vec![Some(rect(10, 10, 19, 19)), Some(rect(40, 10, 50, 20)), None, Some(rect(10, 10, 14, 20)), None],
        ),
        track(1, 0.5, vec![None, Some(rect(18, 10, 20, 20)), Some(rect(5, 5, 25, 25)), None, None]),
    ];
    let all = Breakdown::compute(&gt, &results).expect("breakdown").frames.all;
    assert_eq!(all.count, 5);
    assert_eq!((all.recall_50, all.missed, all.merged, all.partial), (Some(0.2), Some(0.4), Some(0.2), Some(0.2)));
}

#[test]
fn highest_iou_wins_and_first_claim_keeps_the_frame() {
    // Two ground-truth squares side by side; a mask covering one fully and a sliver of the
    // other goes to the first; a second track on the same square loses the frame.
    let gt = ground_truth(&[(1, vec![Some(rect(0, 0, 10, 10))]), (2, vec![Some(rect(10, 0, 20, 10))])]);
    let results = vec![
        track(2, 0.6, vec![Some(rect(0, 0, 12, 10))]),
        track(1, 0.4, vec![Some(rect(1, 0, 10, 10))]),
        track(1, 0.3, vec![Some(rect(40, 20, 50, 30))]),
    ];
    let edited = oracle_results(&gt, &results, OracleClass::Vote).expect("oracle");
    assert_eq!(edited.len(), 2, "the duplicate is dropped, the stray mask stays");
    assert_eq!((edited[0].category_id, edited[0].score), (2, 0.6));
    assert_eq!(edited[0].segmentations, vec![Some(rect(0, 0, 12, 10))]);
    assert_eq!((edited[1].category_id, edited[1].score), (1, 0.3));
    let classed = oracle_results(&gt, &results, OracleClass::GroundTruth).expect("oracle");
    assert_eq!(classed[0].category_id, 1);
    let b = Breakdown::compute(&gt, &results).expect("breakdown");
    let t = &b.tracking;
    assert_eq!((t.predicted_tracks, t.predicted_tracks_unmatched, t.gt_tracks_unmatched), (3, 1, 1));
    assert_eq!((t.tracks_per_gt, t.tracks_per_matched_gt), (Some(1.0), Some(2.0)));
    // Voted class is wrong (2), the true class is right.
    assert!(b.oracle_tracks.stats[0] < b.oracle_tracks_and_class.stats[0]);
}

#[test]
fn vote_is_by_frame_and_ties_go_to_the_first_seen() {
    let sq = || Some(rect(5, 5, 15, 15));
    let gt = ground_truth(&[(1, vec![sq(), sq(), sq(), sq()])]);
    let results = vec![
        track(2, 0.2, vec![None, None, sq(), sq()]),
        track(1, 0.8, vec![sq(), None, None, None]),
        track(1, 0.8, vec![None, sq(), None, None]),
    ];
    let edited = oracle_results(&gt, &results, OracleClass::Vote).expect("oracle");
    assert_eq!(edited.len(), 1);
    assert_eq!((edited[0].category_id, edited[0].score), (2, 0.5));
    let b = Breakdown::compute(&gt, &results).expect("breakdown");
    assert_eq!(b.tracking.tracks_per_gt, Some(3.0));
    // Frames 0 → 1 → 2 change the matched track twice.
    assert_eq!(b.tracking.id_switches, 2);
}

#[test]
fn a_duplicate_that_keeps_matching_is_no_switch() {
    let sq = || Some(rect(5, 5, 15, 15));
    let gt = ground_truth(&[(1, vec![sq(), sq(), sq()])]);
    // Track 1 fits better in frame 1 but track 0 still matches there: identity kept.
    let results =
        vec![track(1, 0.9, vec![sq(), Some(rect(5, 5, 15, 16)), sq()]), track(1, 0.5, vec![None, sq(), None])];
    let b = Breakdown::compute(&gt, &results).expect("breakdown");
    assert_eq!(b.tracking.id_switches, 0);
    assert_eq!(b.tracking.tracks_per_gt, Some(2.0));
}

#[test]
fn a_track_under_several_classes_is_one_track() {
    let gt = four_squares();
    let results = gt.as_results();
    let one = Breakdown::compute(&gt, &results).expect("breakdown");
    let mut more = results.clone();
    // Every track again under another class and a lower score, one of them scored higher.
    for (i, r) in results.iter().enumerate() {
        let score = if i == 1 { 2.0 } else { r.score * 0.5 };
        more.push(ResultTrack { category_id: r.category_id % 3 + 1, score, ..r.clone() });
    }
    let b = Breakdown::compute(&gt, &more).expect("breakdown");
    assert_eq!(b.tracking.predicted_tracks, results.len());
    assert_eq!(b.frames.all.mean_best_iou, one.frames.all.mean_best_iou);
    assert!(matches!(one_entry_per_track(&results), Cow::Borrowed(_)), "nothing to collapse, nothing copied");
    let kept = one_entry_per_track(&more);
    assert_eq!(kept.len(), results.len());
    assert_eq!((kept[1].score, kept[1].category_id), (2.0, results[1].category_id % 3 + 1), "the higher score wins");
    assert_eq!(kept[0], results[0], "the first wins a tie or a lower score");
}

#[test]
fn unknown_video_is_an_error_and_json_names_the_metrics() {
    let gt = four_squares();
    let mut r = gt.as_results();
    r[0].video_id = 9;
    assert!(matches!(Breakdown::compute(&gt, &r), Err(EvalError::UnknownVideo { index: 0, video_id: 9 })));
    let b = Breakdown::compute(&gt, &gt.as_results()).expect("breakdown");
    let v = serde_json::to_value(&b).expect("json");
    assert_eq!(v["oracle_tracks"]["metrics"]["AP"], 1.0);
    assert_eq!(v["frames"]["by_size"][2]["max_area"], Value::Null);
    assert_eq!(v["frames"]["by_size"][0]["count"], 15);
    assert_eq!(v["tracking"]["tracks_per_gt"], 1.0);
    let table = b.table();
    for s in [
        "small (< 1,000 px)",
        "medium (1,000-4,000 px)",
        "large (>= 4,000 px)",
        "oracle tracks and class",
        "identity switches",
        "missed   merged  partial",
    ] {
        assert!(table.contains(s), "{s} missing from\n{table}");
    }
}
