//! The YouTube-VIS video instance segmentation metric (video mask AP/AR), bit-exact with the
//! official evaluator (`youtubevos/cocoapi` `ytvoseval.py`); `docs/evaluation.md` states every rule.
//!
//! ```no_run
//! # fn main() -> Result<(), ifa::eval::EvalError> {
//! use std::path::Path;
//! let gt = ifa::eval::GroundTruth::load(Path::new("valid.json"))?;
//! let results = ifa::eval::load_results(Path::new("results.json"))?;
//! let ev = ifa::eval::evaluate(&gt, &results)?;
//! println!("AP {}", ev.stats[0]);
//! # Ok(()) }
//! ```
//!
//! Where the official code crashes, this port gives a defined answer or a clear error:
//! * an empty results list evaluates as "no detections" (the official evaluator raises
//!   IndexError): AP and AR are 0 for settings with ground truth and −1 where undefined, exactly
//!   what it returns when every result has a category that is not in the ground truth;
//! * a result for a video id that is not in the ground truth is an [`EvalError::UnknownVideo`];
//! * uncompressed RLE or polygons in results are errors (the official code raises TypeError);
//! * polygon ground truth is an error (YouTube-VIS ground truth is RLE);
//! * RLE counts that do not sum to height × width, or malformed compressed strings, are errors
//!   (the official C code would read them anyway, with undefined results).

mod accumulate;
mod assign;
pub mod bootstrap;
pub mod breakdown;
mod breakdown_table;
mod error;
mod load;
mod matching;
mod params;
pub mod pool;
mod summary;

use std::collections::{BTreeSet, HashMap};
use std::path::Path;

use serde::Serialize;

pub use bootstrap::{Bootstrap, Comparison, Interval, bootstrap};
pub use breakdown::{Breakdown, evaluate_files_with_breakdown};
pub use error::EvalError;
pub use load::{GroundTruth, ResultTrack, Video, load_results, parse_results, results_from_json_str};
pub use params::{AREA_LABELS, AREA_RANGES, MAX_DETS, NUM_IOU_THRS, NUM_REC_THRS, iou_thresholds, recall_thresholds};
pub use pool::{PoolSet, pool};
pub use summary::STAT_NAMES;

use matching::{DtInfo, GtInfo, VideoRecord, evaluate_video, video_iou};

/// Detections kept per (video, category) for IoU and matching.
const MAX_DETS_PER_VIDEO_CATEGORY: usize = 100;

/// AP of one category.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CategoryAp {
    pub id: i64,
    pub name: String,
    /// Mean precision over IoU and recall thresholds (all areas, 100 detections); `None` when
    /// the category has no non-ignored ground truth.
    pub ap: Option<f64>,
}

/// The outcome of an evaluation.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Evaluation {
    /// AP, AP50, AP75, APs, APm, APl, AR1, AR10, AR100, ARs, ARm, ARl (see [`STAT_NAMES`]);
    /// −1 where undefined, as in the official `stats`.
    pub stats: [f64; 12],
    /// Per category, ordered by id (the K axis of the arrays).
    pub per_category: Vec<CategoryAp>,
    /// `precision[T][R][K][A][M]` flattened in C order (T = 10 IoU thresholds, R = 101 recall
    /// thresholds, K categories, A = 4 area ranges, M = 3 maxDets); −1 = undefined.
    #[serde(skip)]
    pub precision: Vec<f64>,
    /// `recall[T][K][A][M]` flattened in C order; −1 = undefined.
    #[serde(skip)]
    pub recall: Vec<f64>,
}

impl Evaluation {
    /// `precision[t][r][k][a][m]`.
    pub fn precision_at(&self, t: usize, r: usize, k: usize, a: usize, m: usize) -> f64 {
        let nk = self.per_category.len();
        self.precision[(((t * NUM_REC_THRS + r) * nk + k) * AREA_RANGES.len() + a) * MAX_DETS.len() + m]
    }

    /// `recall[t][k][a][m]`.
    pub fn recall_at(&self, t: usize, k: usize, a: usize, m: usize) -> f64 {
        let nk = self.per_category.len();
        self.recall[((t * nk + k) * AREA_RANGES.len() + a) * MAX_DETS.len() + m]
    }
}

/// Reads both files and evaluates.
pub fn evaluate_files(gt_path: &Path, results_path: &Path) -> Result<Evaluation, EvalError> {
    let gt = GroundTruth::load(gt_path)?;
    let results = load_results(results_path)?;
    evaluate(&gt, &results)
}

/// Mean of the truthy (nonzero) per-frame areas of a result track, numpy style; 0 if none.
fn result_avg_area(r: &ResultTrack) -> f64 {
    let areas: Vec<f64> =
        r.segmentations.iter().flatten().map(|m| m.area()).filter(|&a| a != 0).map(|a| a as f64).collect();
    params::numpy_mean(&areas).unwrap_or(0.0)
}

/// Evaluates results against ground truth with the official YouTube-VIS rules.
pub fn evaluate(gt: &GroundTruth, results: &[ResultTrack]) -> Result<Evaluation, EvalError> {
    Ok(match_videos(gt, results)?.evaluate(gt))
}

/// Every video's matching of the results with its ground truth (COCO's `evaluateImg` per
/// video, the costly part: video IoUs over all frames): what [`VideoMatches::evaluate`]
/// accumulates and what the bootstrap resamples, so that both share one matching.
#[derive(Debug, Clone)]
pub struct VideoMatches {
    /// `records[k][a][v]` (category, area range, video in id order).
    records: Records,
    videos: usize,
}

type Records = Vec<Vec<Vec<Option<VideoRecord>>>>;

impl VideoMatches {
    /// The official numbers: accumulation over the videos, then the summary.
    pub fn evaluate(&self, gt: &GroundTruth) -> Evaluation {
        let curves = accumulate::accumulate(&self.records);
        let stats = summary::stats(&curves);
        let per_category = gt
            .categories
            .iter()
            .enumerate()
            .map(|(k, (&id, name))| CategoryAp { id, name: name.clone(), ap: summary::category_ap(&curves, k) })
            .collect();
        Evaluation { stats, per_category, precision: curves.precision, recall: curves.recall }
    }
}

/// Matches every video's results with its ground truth ([`VideoMatches`]).
pub fn match_videos(gt: &GroundTruth, results: &[ResultTrack]) -> Result<VideoMatches, EvalError> {
    if let Some((index, r)) = results.iter().enumerate().find(|(_, r)| !gt.videos.contains_key(&r.video_id)) {
        return Err(EvalError::UnknownVideo { index, video_id: r.video_id });
    }
    let video_ids: Vec<i64> = gt.videos.keys().copied().collect();
    let cat_ids: Vec<i64> = gt.categories.keys().copied().collect();
    let cat_set: BTreeSet<i64> = cat_ids.iter().copied().collect();

    // Tracks per (video, category), in file order; others (unknown video/category) are dropped.
    let mut gts: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, t) in gt.tracks.iter().enumerate() {
        if gt.videos.contains_key(&t.video_id) && cat_set.contains(&t.category_id) {
            gts.entry((t.video_id, t.category_id)).or_default().push(i);
        }
    }
    let mut dts: HashMap<(i64, i64), Vec<usize>> = HashMap::new();
    for (i, r) in results.iter().enumerate() {
        if cat_set.contains(&r.category_id) {
            dts.entry((r.video_id, r.category_id)).or_default().push(i);
        }
    }
    let dt_avg: Vec<f64> = results.iter().map(result_avg_area).collect();
    let thresholds = iou_thresholds();

    let mut records: Records = vec![vec![Vec::with_capacity(video_ids.len()); AREA_RANGES.len()]; cat_ids.len()];
    for (k, &cat) in cat_ids.iter().enumerate() {
        for &vid in &video_ids {
            let g_idx = gts.get(&(vid, cat)).map(Vec::as_slice).unwrap_or_default();
            let mut d_idx = dts.get(&(vid, cat)).cloned().unwrap_or_default();
            // Stable sort by descending score, keep the top 100.
            d_idx
                .sort_by(|&x, &y| results[y].score.partial_cmp(&results[x].score).unwrap_or(std::cmp::Ordering::Equal));
            d_idx.truncate(MAX_DETS_PER_VIDEO_CATEGORY);
            let mut ious = Vec::with_capacity(d_idx.len() * g_idx.len());
            for &d in &d_idx {
                for &g in g_idx {
                    ious.push(video_iou(&results[d].segmentations, &gt.tracks[g].frames));
                }
            }
            let g_info: Vec<GtInfo> = g_idx
                .iter()
                .map(|&g| {
                    let t = &gt.tracks[g];
                    GtInfo { id: t.id, crowd: t.crowd, avg_area: t.avg_area }
                })
                .collect();
            let d_info: Vec<DtInfo> =
                d_idx.iter().map(|&d| DtInfo { score: results[d].score, avg_area: dt_avg[d] }).collect();
            for (a, &range) in AREA_RANGES.iter().enumerate() {
                records[k][a].push(evaluate_video(&g_info, &d_info, &ious, range, &thresholds));
            }
        }
    }

    Ok(VideoMatches { records, videos: video_ids.len() })
}
