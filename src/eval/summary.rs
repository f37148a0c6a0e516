//! COCO `summarize`: the 12 summary numbers and per-category AP from the curves.

use super::accumulate::{Curves, NUM_AREAS, NUM_MAX_DETS};
use super::params::{MAX_DETS, NUM_IOU_THRS, NUM_REC_THRS, iou_thresholds, numpy_mean};

/// Names of the 12 summary numbers, in order.
pub const STAT_NAMES: [&str; 12] =
    ["AP", "AP50", "AP75", "APs", "APm", "APl", "AR1", "AR10", "AR100", "ARs", "ARm", "ARl"];

/// (is AP, IoU threshold or all, area index, maxDets value) of each summary number.
const STAT_SPECS: [(bool, Option<f64>, usize, usize); 12] = [
    (true, None, 0, 100),
    (true, Some(0.5), 0, 100),
    (true, Some(0.75), 0, 100),
    (true, None, 1, 100),
    (true, None, 2, 100),
    (true, None, 3, 100),
    (false, None, 0, 1),
    (false, None, 0, 10),
    (false, None, 0, 100),
    (false, None, 1, 100),
    (false, None, 2, 100),
    (false, None, 3, 100),
];

/// Mean of the defined (> −1) entries, as numpy would compute it; −1 when there are none.
fn mean_defined(values: impl Iterator<Item = f64>) -> f64 {
    let kept: Vec<f64> = values.filter(|&v| v > -1.0).collect();
    numpy_mean(&kept).unwrap_or(-1.0)
}

pub(crate) fn stats(c: &Curves) -> [f64; 12] {
    let thrs = iou_thresholds();
    let mut out = [0.0; 12];
    for (o, &(ap, thr, a, max_det)) in out.iter_mut().zip(&STAT_SPECS) {
        // Exact float match, like `np.where(iouThr == p.iouThrs)`.
        let ts: Vec<usize> = (0..NUM_IOU_THRS).filter(|&t| thr.is_none_or(|x| thrs[t] == x)).collect();
        let Some(m) = MAX_DETS.iter().position(|&d| d == max_det) else {
            continue;
        };
        debug_assert!(a < NUM_AREAS && m < NUM_MAX_DETS);
        // C order of the selected slice: t, then r, then k (AP) or t, then k (AR).
        *o = if ap {
            mean_defined(ts.iter().flat_map(|&t| {
                (0..NUM_REC_THRS)
                    .flat_map(move |r| (0..c.num_cats).map(move |k| c.precision[c.precision_index(t, r, k, a, m)]))
            }))
        } else {
            mean_defined(ts.iter().flat_map(|&t| (0..c.num_cats).map(move |k| c.recall[c.recall_index(t, k, a, m)])))
        };
    }
    out
}

/// AP of category index k (all areas, 100 detections); `None` when the category has no
/// countable ground truth.
pub(crate) fn category_ap(c: &Curves, k: usize) -> Option<f64> {
    let m = NUM_MAX_DETS - 1;
    let v = mean_defined(
        (0..NUM_IOU_THRS).flat_map(|t| (0..NUM_REC_THRS).map(move |r| c.precision[c.precision_index(t, r, k, 0, m)])),
    );
    (v > -1.0).then_some(v)
}
