//! Video IoU and the per-(video, category, area range) greedy matching (COCO `evaluateImg`
//! with track IoU and mean track areas).

use super::params::NUM_IOU_THRS;
use crate::rle::Rle;

/// Σ_t intersection / Σ_t union over the frames both sequences have (Python `zip` truncation).
/// Frames of different mask sizes add 0 to both sums; the IoU is 0 when the union is 0.
pub(crate) fn video_iou(d: &[Option<Rle>], g: &[Option<Rle>]) -> f64 {
    let (mut inter, mut union) = (0.0f64, 0.0f64);
    for (d, g) in d.iter().zip(g) {
        match (d, g) {
            (Some(d), Some(g)) => {
                inter += d.intersection_area(g).unwrap_or(0) as f64;
                union += d.union_area(g).unwrap_or(0) as f64;
            }
            (None, Some(m)) | (Some(m), None) => union += m.area() as f64,
            (None, None) => {}
        }
    }
    if union > 0.0 { inter / union } else { 0.0 }
}

/// What matching needs of a ground-truth track.
pub(crate) struct GtInfo {
    pub id: i64,
    pub crowd: bool,
    pub avg_area: f64,
}

/// What matching needs of a detection, in descending score order (top 100, stable).
pub(crate) struct DtInfo {
    pub score: f64,
    pub avg_area: f64,
}

/// One (video, category, area range) after matching, as COCO's `evalImgs` entry.
#[derive(Debug, Clone)]
pub(crate) struct VideoRecord {
    /// Detection scores, descending.
    pub scores: Vec<f64>,
    /// `[t * D + d]`: matched to a GT whose id is nonzero (COCO's `dtMatches != 0`).
    pub matched: Vec<bool>,
    /// `[t * D + d]`: detection ignored at threshold t.
    pub ignored: Vec<bool>,
    /// Per GT (any order): ignored in this area range.
    pub gt_ignored: Vec<bool>,
}

impl VideoRecord {
    pub fn num_dets(&self) -> usize {
        self.scores.len()
    }
}

fn outside(area: f64, (lo, hi): (f64, f64)) -> bool {
    area < lo || area > hi
}

/// Greedy matching for one (video, category, area range). `ious[d * G + g]` follows the file
/// order of `gts`. Returns `None` when there is neither GT nor detection.
pub(crate) fn evaluate_video(
    gts: &[GtInfo],
    dts: &[DtInfo],
    ious: &[f64],
    range: (f64, f64),
    thresholds: &[f64; NUM_IOU_THRS],
) -> Option<VideoRecord> {
    if gts.is_empty() && dts.is_empty() {
        return None;
    }
    let n_g = gts.len();
    let n_d = dts.len();
    let ignore_of = |g: &GtInfo| g.crowd || outside(g.avg_area, range);
    // Non-ignored GTs first, file order otherwise (stable sort on the flag).
    let mut order: Vec<usize> = (0..n_g).collect();
    order.sort_by_key(|&g| ignore_of(&gts[g]));
    let gt_ig: Vec<bool> = order.iter().map(|&g| ignore_of(&gts[g])).collect();
    let crowd: Vec<bool> = order.iter().map(|&g| gts[g].crowd).collect();

    let mut matched = vec![false; NUM_IOU_THRS * n_d];
    let mut ignored = vec![false; NUM_IOU_THRS * n_d];
    for (t, &thr) in thresholds.iter().enumerate() {
        let mut gt_taken = vec![false; n_g];
        for d in 0..n_d {
            let mut best = thr.min(1.0 - 1e-10);
            let mut m: Option<usize> = None;
            for (s, &g) in order.iter().enumerate() {
                if gt_taken[s] && !crowd[s] {
                    continue; // crowd GTs absorb any number of detections
                }
                if m.is_some_and(|m| !gt_ig[m]) && gt_ig[s] {
                    break; // never trade a real match for an ignored GT
                }
                let iou = ious[d * n_g + g];
                if iou < best {
                    continue;
                }
                best = iou; // ties go to the later GT
                m = Some(s);
            }
            if let Some(s) = m {
                ignored[t * n_d + d] = gt_ig[s];
                matched[t * n_d + d] = gts[order[s]].id != 0;
                gt_taken[s] = true;
            }
        }
        // Unmatched (dtMatch == 0) detections outside the area range are ignored.
        for (d, dt) in dts.iter().enumerate() {
            let i = t * n_d + d;
            if !matched[i] && outside(dt.avg_area, range) {
                ignored[i] = true;
            }
        }
    }
    Some(VideoRecord { scores: dts.iter().map(|d| d.score).collect(), matched, ignored, gt_ignored: gt_ig })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::params::iou_thresholds;

    fn rle(h: u32, w: u32, m: &[u8]) -> Option<Rle> {
        Some(Rle::from_mask(h, w, m).expect("mask"))
    }

    #[test]
    fn iou_truncates_and_handles_size_mismatch() {
        let g = vec![rle(1, 4, &[1, 1, 0, 0]), None, rle(1, 4, &[1, 1, 1, 1])];
        let d = vec![rle(1, 4, &[0, 1, 1, 0]), rle(1, 4, &[1, 0, 0, 0])];
        // Frame 0: I=1, U=3. Frame 1: only d, U += 1. Frame 2 is past the end of d.
        assert_eq!(video_iou(&d, &g), 1.0 / 4.0);
        let other = vec![rle(2, 2, &[1, 1, 0, 0])];
        assert_eq!(video_iou(&other, &g), 0.0, "sizes differ, union 0");
    }

    #[test]
    fn crowd_absorbs_and_ties_go_to_later_gt() {
        let thr = iou_thresholds();
        let gts = [
            GtInfo { id: 1, crowd: false, avg_area: 10.0 },
            GtInfo { id: 2, crowd: false, avg_area: 10.0 },
            GtInfo { id: 3, crowd: true, avg_area: 10.0 },
        ];
        let dts = [DtInfo { score: 0.9, avg_area: 10.0 }, DtInfo { score: 0.8, avg_area: 10.0 }];
        // d0 ties on g0/g1 (0.6), d1 only overlaps the crowd.
        let ious = [0.6, 0.6, 0.0, 0.0, 0.0, 0.7];
        let r = evaluate_video(&gts, &dts, &ious, (0.0, 1e10), &thr).expect("record");
        assert_eq!(r.gt_ignored, vec![false, false, true]);
        assert!(r.matched[0] && !r.ignored[0]);
        assert!(r.matched[1] && r.ignored[1], "matched to the crowd: ignored");
        // At t = 0.65 d0 is unmatched.
        assert!(!r.matched[3 * 2]);
    }
}
