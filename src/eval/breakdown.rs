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
//!   ground-truth tracks, each sorted by where the identity went and by what preceded it
//!   ([`SwitchKinds`]).
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
    /// Switches where the track followed before still has a mask in the frame of the switch (it
    /// went on elsewhere, or on this instance with a poor mask).
    pub old_track_still_shown: usize,
    /// Switches where the instance was present but matched by no mask in its last frame before
    /// the switch (a miss, a merge or a poor mask preceded it).
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
mod tests;
