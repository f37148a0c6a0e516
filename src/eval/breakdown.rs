//! Where a results file loses video AP (`ifa eval --breakdown`; the rules in `docs/evaluation.md`
//! section 10).
//!
//! * **Per-frame quality**: for every ground-truth instance-frame, the best IoU of any predicted
//!   mask of that frame (any track, any class), overall, by instance size and by the ground
//!   truth's category; each instance-frame under IoU 0.5 counted as missed, merged or partial
//!   ([`Lost`], decided in `assign.rs`).
//! * **Perfect-tracking ("oracle") AP**: every predicted per-frame mask that overlaps a
//!   ground-truth instance at IoU ≥ 0.5 (the one it overlaps most; the first in file order on a
//!   tie) takes that instance's identity; its class is the majority vote of the contributing
//!   masks' classes (first seen wins a tie), or the ground truth's class for the class oracle;
//!   its score is the mean score over the contributing frames. When several masks claim the same
//!   instance-frame, the first result in file order keeps it and the others are dropped.
//!   Unmatched masks stay in their own tracks. The edited results are then scored with
//!   [`evaluate`]. This follows `scripts/ap_breakdown.py` exactly, down to the order of the
//!   edited tracks (which decides score ties).
//! * **Tracking**: with the same per-frame assignment, how many predicted tracks cover each
//!   ground-truth track, how many predicted tracks never match, and identity switches along
//!   ground-truth tracks.
//!
//! Entries of one video with the same masks in every frame are one track seen under several
//! classes (`ifa.post` `class_hypotheses`, or a query-based model's top classes per instance):
//! the breakdown keeps one of them, the highest-scored (the first on a tie), at the place of the
//! first. The AP of the summary scores them all, as the benchmark does.
//!
//! Everything is computed on the RLEs (nothing is decoded), one video and one frame at a time,
//! so memory stays at the size of the loaded files plus the edited results (and a copy of the
//! kept entries where several entries share their masks). The text tables are in
//! `breakdown_table.rs`.

use std::borrow::Cow;
use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::path::Path;

use serde::ser::SerializeMap;
use serde::{Serialize, Serializer};

use super::assign::{build_oracle, run_pass};
use super::load::{GroundTruth, ResultTrack, load_results};
use super::params::numpy_mean;
use super::summary::STAT_NAMES;
use super::{EvalError, Evaluation, evaluate};

/// IoU at which a predicted mask counts as finding a ground-truth instance-frame.
pub const MATCH_IOU: f64 = 0.5;
/// The stricter per-frame recall threshold.
pub const TIGHT_IOU: f64 = 0.75;
/// Instance-size bins on the per-frame mask area in pixels: (label, lowest, first excluded).
pub const SIZE_BINS: [(&str, u64, u64); 3] =
    [("small", 0, 1_000), ("medium", 1_000, 4_000), ("large", 4_000, u64::MAX)];

/// Why a ground-truth instance-frame has no predicted mask at IoU ≥ 0.5, judged by the predicted
/// mask that covers most of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lost {
    /// No predicted mask covers [`Lost::MIN_COVER`] of it: the detector did not find it.
    Missed,
    /// The mask covering most of it is over [`Lost::MERGED_RATIO`] times its area: it went into
    /// a neighbour's mask (or a far too large one).
    Merged,
    /// Covered, by a mask not much larger: split, shifted or cut short.
    Partial,
}

impl Lost {
    pub const MIN_COVER: f64 = 0.3;
    pub const MERGED_RATIO: f64 = 1.5;
}

/// Per-frame mask quality of a set of ground-truth instance-frames.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameStats {
    /// Number of ground-truth instance-frames.
    pub count: usize,
    /// Mean over them of the best IoU of any predicted mask of the frame; `None` when `count` is 0.
    pub mean_best_iou: Option<f64>,
    /// Fraction with a best IoU ≥ 0.5.
    pub recall_50: Option<f64>,
    /// Fraction with a best IoU ≥ 0.75.
    pub recall_75: Option<f64>,
    /// Fractions lost (best IoU under 0.5) as [`Lost::Missed`], [`Lost::Merged`], [`Lost::Partial`];
    /// with `recall_50` they add up to 1.
    pub missed: Option<f64>,
    pub merged: Option<f64>,
    pub partial: Option<f64>,
}

/// [`FrameStats`] of the instance-frames whose area is in `[min_area, max_area)` pixels.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SizeBin {
    pub label: &'static str,
    pub min_area: u64,
    /// `None`: no upper bound.
    pub max_area: Option<u64>,
    #[serde(flatten)]
    pub stats: FrameStats,
}

/// [`FrameStats`] of the instance-frames of one ground-truth category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ClassBin {
    pub category_id: i64,
    pub name: String,
    #[serde(flatten)]
    pub stats: FrameStats,
}

/// Per-frame quality overall, by instance size and by ground-truth category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct FrameQuality {
    pub all: FrameStats,
    pub by_size: Vec<SizeBin>,
    /// Every category of the ground truth, in id order (count 0 where it has no instance-frame).
    pub by_class: Vec<ClassBin>,
}

/// The AP of the edited ("oracle") results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OracleAp {
    /// Tracks in the edited results.
    pub tracks: usize,
    /// Of those, tracks that took a ground-truth identity.
    pub matched_tracks: usize,
    /// The 12 numbers of [`evaluate`] on the edited results (see [`STAT_NAMES`]).
    #[serde(rename = "metrics", serialize_with = "named_stats")]
    pub stats: [f64; 12],
}

/// How predicted tracks cover ground-truth tracks (a mask matches the ground-truth instance it
/// overlaps most, at IoU ≥ 0.5, as in the oracle).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Tracking {
    pub gt_tracks: usize,
    /// Ground-truth tracks matched by no predicted mask in any frame.
    pub gt_tracks_unmatched: usize,
    pub predicted_tracks: usize,
    /// Predicted tracks none of whose masks matches a ground-truth instance.
    pub predicted_tracks_unmatched: usize,
    /// Distinct predicted tracks matching a ground-truth track in at least one frame, averaged
    /// over all ground-truth tracks.
    pub tracks_per_gt: Option<f64>,
    /// The same, averaged over the ground-truth tracks that are matched at all.
    pub tracks_per_matched_gt: Option<f64>,
    /// Changes of the matched predicted track along ground-truth tracks (frames without a match
    /// are skipped; a track that still matches keeps the identity, as in CLEAR MOT).
    pub id_switches: usize,
    pub id_switches_per_gt: Option<f64>,
    /// What the identity switches were, to tell fragmentation from swaps.
    pub switches: SwitchKinds,
}

/// Identity switches sorted by where the identity went and how it left. "Followed" means the
/// track was the one matched to that instance (the identity along it) in an earlier frame.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct SwitchKinds {
    /// To a track whose first mask is in this frame (the old track broke: fragmentation).
    pub to_new_track: usize,
    /// To a track that had followed another ground-truth instance (a swap or a steal).
    pub to_track_of_other_instance: usize,
    /// To an older track that had followed no instance (often one born on this instance while
    /// its masks were too poor to match).
    pub to_older_track: usize,
    /// The track followed before still has a mask in the frame of the switch (it went on
    /// elsewhere or with a poor mask), against it being gone there.
    pub old_track_still_shown: usize,
    /// The instance was present but matched by no mask in the frame before the switch (a miss
    /// or a merge preceded it).
    pub after_unmatched_frames: usize,
}

/// Everything `ifa eval --breakdown` reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Breakdown {
    pub frames: FrameQuality,
    /// Perfect tracking, class by vote of the predictions.
    pub oracle_tracks: OracleAp,
    /// Perfect tracking and the ground truth's class.
    pub oracle_tracks_and_class: OracleAp,
    pub tracking: Tracking,
}

/// Which class an oracle track gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OracleClass {
    /// The most frequent class among the contributing masks (first seen wins a tie).
    Vote,
    /// The ground-truth instance's class.
    GroundTruth,
}

fn named_stats<S: Serializer>(stats: &[f64; 12], s: S) -> Result<S::Ok, S::Error> {
    // A map in the official order, as the `metrics` of `ifa eval --json`.
    let mut m = s.serialize_map(Some(STAT_NAMES.len()))?;
    for (name, v) in STAT_NAMES.iter().zip(stats) {
        m.serialize_entry(name, v)?;
    }
    m.end()
}

fn check_videos(gt: &GroundTruth, results: &[ResultTrack]) -> Result<(), EvalError> {
    match results.iter().enumerate().find(|(_, r)| !gt.videos.contains_key(&r.video_id)) {
        Some((index, r)) => Err(EvalError::UnknownVideo { index, video_id: r.video_id }),
        None => Ok(()),
    }
}

/// The perfect-tracking edit of `results` (what `scripts/ap_breakdown.py oracle` writes).
pub fn oracle_results(
    gt: &GroundTruth,
    results: &[ResultTrack],
    class: OracleClass,
) -> Result<Vec<ResultTrack>, EvalError> {
    check_videos(gt, results)?;
    let results = one_entry_per_track(results);
    Ok(build_oracle(&run_pass(gt, &results), &results, class).0)
}

/// One entry per track: entries of a video with equal masks collapse into the highest-scored
/// (first on a tie), kept where the first of them was. Borrows `results` when nothing collapses,
/// so a file without such entries is not copied.
pub fn one_entry_per_track(results: &[ResultTrack]) -> Cow<'_, [ResultTrack]> {
    // Per (video, masks): the index of the entry kept for it.
    let mut slot: HashMap<(i64, &[Option<crate::rle::Rle>]), usize> = HashMap::new();
    let mut keep: Vec<usize> = Vec::with_capacity(results.len());
    for (i, r) in results.iter().enumerate() {
        match slot.entry((r.video_id, r.segmentations.as_slice())) {
            Entry::Occupied(e) => {
                let k = &mut keep[*e.get()];
                if r.score > results[*k].score {
                    *k = i;
                }
            }
            Entry::Vacant(e) => {
                e.insert(keep.len());
                keep.push(i);
            }
        }
    }
    if keep.len() == results.len() {
        Cow::Borrowed(results)
    } else {
        Cow::Owned(keep.into_iter().map(|i| results[i].clone()).collect())
    }
}

/// One ground-truth instance-frame: best IoU, area, why it was lost.
type FrameItem = (f64, u64, Option<Lost>);

fn frame_stats(items: &[FrameItem]) -> FrameStats {
    let ious: Vec<f64> = items.iter().map(|i| i.0).collect();
    let n = ious.len();
    let frac = |t: f64| (n > 0).then(|| ious.iter().filter(|&&v| v >= t).count() as f64 / n as f64);
    let lost = |k: Lost| (n > 0).then(|| items.iter().filter(|i| i.2 == Some(k)).count() as f64 / n as f64);
    FrameStats {
        count: n,
        mean_best_iou: numpy_mean(&ious),
        recall_50: frac(MATCH_IOU),
        recall_75: frac(TIGHT_IOU),
        missed: lost(Lost::Missed),
        merged: lost(Lost::Merged),
        partial: lost(Lost::Partial),
    }
}

fn ratio(a: usize, b: usize) -> Option<f64> {
    (b > 0).then(|| a as f64 / b as f64)
}

impl Breakdown {
    /// Computes the breakdown of `results` against `gt` (two more evaluations inside).
    pub fn compute(gt: &GroundTruth, results: &[ResultTrack]) -> Result<Self, EvalError> {
        check_videos(gt, results)?;
        let results = &*one_entry_per_track(results);
        let mut pass = run_pass(gt, results);

        // Annotation order, then frame order, as the script, so that the means are bit-identical.
        pass.best.sort_by_key(|b| (b.0, b.1));
        let items: Vec<FrameItem> = pass.best.iter().map(|b| (b.2, b.3, b.4)).collect();
        let by_size = SIZE_BINS
            .iter()
            .map(|&(label, lo, hi)| {
                let sub: Vec<FrameItem> = items.iter().copied().filter(|i| i.1 >= lo && i.1 < hi).collect();
                SizeBin { label, min_area: lo, max_area: (hi != u64::MAX).then_some(hi), stats: frame_stats(&sub) }
            })
            .collect();
        let by_class = gt
            .categories
            .iter()
            .map(|(&category_id, name)| {
                let sub: Vec<FrameItem> = pass
                    .best
                    .iter()
                    .filter(|b| gt.tracks[b.0].category_id == category_id)
                    .map(|b| (b.2, b.3, b.4))
                    .collect();
                ClassBin { category_id, name: name.clone(), stats: frame_stats(&sub) }
            })
            .collect();
        let frames = FrameQuality { all: frame_stats(&items), by_size, by_class };

        let oracle = |class| -> Result<OracleAp, EvalError> {
            let (edited, matched_tracks) = build_oracle(&pass, results, class);
            let ev = evaluate(gt, &edited)?;
            Ok(OracleAp { tracks: edited.len(), matched_tracks, stats: ev.stats })
        };
        let oracle_tracks = oracle(OracleClass::Vote)?;
        let oracle_tracks_and_class = oracle(OracleClass::GroundTruth)?;

        let gt_tracks = gt.tracks.iter().filter(|t| gt.videos.contains_key(&t.video_id)).count();
        let matched_gts: HashSet<usize> = pass.pairs.iter().map(|p| p.0).collect();
        let tracking = Tracking {
            gt_tracks,
            gt_tracks_unmatched: gt_tracks - matched_gts.len(),
            predicted_tracks: results.len(),
            predicted_tracks_unmatched: pass.result_matched.iter().filter(|&&m| !m).count(),
            tracks_per_gt: ratio(pass.pairs.len(), gt_tracks),
            tracks_per_matched_gt: ratio(pass.pairs.len(), matched_gts.len()),
            id_switches: pass.id_switches,
            id_switches_per_gt: ratio(pass.id_switches, gt_tracks),
            switches: pass.switch_kinds,
        };
        Ok(Self { frames, oracle_tracks, oracle_tracks_and_class, tracking })
    }
}

/// Reads both files once, evaluates, and computes the breakdown.
pub fn evaluate_files_with_breakdown(
    gt_path: &Path,
    results_path: &Path,
) -> Result<(Evaluation, Breakdown), EvalError> {
    let gt = GroundTruth::load(gt_path)?;
    let results = load_results(results_path)?;
    let ev = evaluate(&gt, &results)?;
    let b = Breakdown::compute(&gt, &results)?;
    Ok((ev, b))
}

#[cfg(test)]
mod tests {
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
        assert_eq!(
            (t.gt_tracks, t.gt_tracks_unmatched, t.predicted_tracks, t.predicted_tracks_unmatched),
            (4, 0, 4, 0)
        );
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
        assert_eq!(
            (kept[1].score, kept[1].category_id),
            (2.0, results[1].category_id % 3 + 1),
            "the higher score wins"
        );
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
}
