//! COCO `accumulate`: precision/recall curves per (threshold, category, area range, maxDet),
//! with 101-point interpolated precision.

use super::matching::VideoRecord;
use super::params::{MAX_DETS, NUM_IOU_THRS, NUM_REC_THRS, recall_thresholds};

/// `precision[T][R][K][A][M]` and `recall[T][K][A][M]`, C order; −1 marks undefined settings.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Curves {
    pub num_cats: usize,
    pub precision: Vec<f64>,
    pub recall: Vec<f64>,
}

pub(crate) const NUM_AREAS: usize = 4;
pub(crate) const NUM_MAX_DETS: usize = MAX_DETS.len();

impl Curves {
    pub fn precision_index(&self, t: usize, r: usize, k: usize, a: usize, m: usize) -> usize {
        (((t * NUM_REC_THRS + r) * self.num_cats + k) * NUM_AREAS + a) * NUM_MAX_DETS + m
    }

    pub fn recall_index(&self, t: usize, k: usize, a: usize, m: usize) -> usize {
        ((t * self.num_cats + k) * NUM_AREAS + a) * NUM_MAX_DETS + m
    }
}

/// `records[k][a]` holds one optional record per video (sorted video ids).
pub(crate) fn accumulate(records: &[Vec<Vec<Option<VideoRecord>>>]) -> Curves {
    let present: Vec<Vec<Vec<&VideoRecord>>> =
        records.iter().map(|per_area| per_area.iter().map(|v| v.iter().flatten().collect()).collect()).collect();
    accumulate_present(&present)
}

/// [`accumulate`] over the records present, `present[k][a]` in video order (a resample of the
/// videos may hold one video's record several times).
pub(crate) fn accumulate_present(records: &[Vec<Vec<&VideoRecord>>]) -> Curves {
    let num_cats = records.len();
    let mut c = Curves {
        num_cats,
        precision: vec![-1.0; NUM_IOU_THRS * NUM_REC_THRS * num_cats * NUM_AREAS * NUM_MAX_DETS],
        recall: vec![-1.0; NUM_IOU_THRS * num_cats * NUM_AREAS * NUM_MAX_DETS],
    };
    let rec_thrs = recall_thresholds();
    for (k, per_area) in records.iter().enumerate() {
        for (a, present) in per_area.iter().enumerate() {
            if present.is_empty() {
                continue;
            }
            let npig = present.iter().flat_map(|r| &r.gt_ignored).filter(|&&ig| !ig).count();
            if npig == 0 {
                continue; // no GT to find: precision and recall stay −1
            }
            for (m, &max_det) in MAX_DETS.iter().enumerate() {
                // (score, record, detection) of each video's first max_det detections, then a
                // stable sort by descending score: ties keep video order, then in-video order.
                let mut dets: Vec<(f64, usize, usize)> = Vec::new();
                for (ri, r) in present.iter().enumerate() {
                    for d in 0..r.num_dets().min(max_det) {
                        dets.push((r.scores[d], ri, d));
                    }
                }
                dets.sort_by(|x, y| y.0.partial_cmp(&x.0).unwrap_or(std::cmp::Ordering::Equal));
                let nd = dets.len();
                for t in 0..NUM_IOU_THRS {
                    let (mut tp, mut fp) = (0u64, 0u64);
                    let mut rc = Vec::with_capacity(nd);
                    let mut pr = Vec::with_capacity(nd);
                    for &(_, ri, d) in &dets {
                        let r = present[ri];
                        let i = t * r.num_dets() + d;
                        if !r.ignored[i] {
                            if r.matched[i] {
                                tp += 1;
                            } else {
                                fp += 1;
                            }
                        }
                        let (tpf, fpf) = (tp as f64, fp as f64);
                        rc.push(tpf / npig as f64);
                        pr.push(tpf / (fpf + tpf + f64::EPSILON));
                    }
                    let ri = c.recall_index(t, k, a, m);
                    c.recall[ri] = rc.last().copied().unwrap_or(0.0);
                    // Precision envelope: make it non-increasing from the right.
                    for i in (1..nd).rev() {
                        if pr[i] > pr[i - 1] {
                            pr[i - 1] = pr[i];
                        }
                    }
                    for (j, &r_thr) in rec_thrs.iter().enumerate() {
                        // numpy searchsorted(side='left'): first index with rc >= r_thr.
                        let i = rc.partition_point(|&x| x < r_thr);
                        let pi = c.precision_index(t, j, k, a, m);
                        c.precision[pi] = if i < nd { pr[i] } else { 0.0 };
                    }
                }
            }
        }
    }
    c
}
