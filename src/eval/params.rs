//! The fixed evaluation parameters of the official evaluator, with numpy-identical floats.

/// Number of IoU thresholds (T).
pub const NUM_IOU_THRS: usize = 10;
/// Number of recall thresholds (R).
pub const NUM_REC_THRS: usize = 101;
/// Detections kept per (video, category), as `maxDets` = [1, 10, 100].
pub const MAX_DETS: [usize; 3] = [1, 10, 100];
/// Area ranges all / small / medium / large (inclusive at both ends), on video-level mean areas.
pub const AREA_RANGES: [(f64, f64); 4] =
    [(0.0, 1e10), (0.0, 128.0 * 128.0), (128.0 * 128.0, 256.0 * 256.0), (256.0 * 256.0, 1e10)];
/// Labels of [`AREA_RANGES`].
pub const AREA_LABELS: [&str; 4] = ["all", "small", "medium", "large"];

/// `np.linspace(start, stop, num)`: `k * step + start`, with the last value exactly `stop`.
/// (Not `start + k * 0.05`, which differs in the last bit for some k.)
fn linspace<const N: usize>(start: f64, stop: f64) -> [f64; N] {
    let step = (stop - start) / (N - 1) as f64;
    let mut out = [0.0; N];
    for (k, v) in out.iter_mut().enumerate() {
        *v = k as f64 * step + start;
    }
    out[N - 1] = stop;
    out
}

/// IoU thresholds `np.linspace(.5, .95, 10)`.
pub fn iou_thresholds() -> [f64; NUM_IOU_THRS] {
    linspace(0.5, 0.95)
}

/// Recall thresholds `np.linspace(0, 1, 101)`.
pub fn recall_thresholds() -> [f64; NUM_REC_THRS] {
    linspace(0.0, 1.0)
}

/// numpy's pairwise summation for float64 (`np.add.reduce` on a contiguous array).
pub(crate) fn pairwise_sum(a: &[f64]) -> f64 {
    let n = a.len();
    if n < 8 {
        a.iter().fold(0.0, |s, &v| s + v)
    } else if n <= 128 {
        let mut r = [0.0f64; 8];
        r.copy_from_slice(&a[..8]);
        let whole = n - n % 8;
        for chunk in a[8..whole].chunks_exact(8) {
            for (acc, &v) in r.iter_mut().zip(chunk) {
                *acc += v;
            }
        }
        let mut res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
        for &v in &a[whole..] {
            res += v;
        }
        res
    } else {
        let half = n / 2;
        let n2 = half - half % 8;
        pairwise_sum(&a[..n2]) + pairwise_sum(&a[n2..])
    }
}

/// `np.mean` of a non-empty float64 array; `None` when empty.
pub(crate) fn numpy_mean(a: &[f64]) -> Option<f64> {
    (!a.is_empty()).then(|| pairwise_sum(a) / a.len() as f64)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_match_numpy_reprs() {
        let t = iou_thresholds();
        let expected = [0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.8999999999999999, 0.95];
        assert_eq!(t, expected);
        let r = recall_thresholds();
        assert_eq!(r[35], 0.35000000000000003);
        assert_eq!(r[100], 1.0);
        assert_eq!(r[1], 0.01);
    }

    #[test]
    fn pairwise_matches_numpy_where_naive_does_not() {
        // np.mean(1/(i+1) for i in 0..300) = 0.02094221293433168; a plain sum gives ...673.
        let a: Vec<f64> = (0..300).map(|i| 1.0 / f64::from(i + 1)).collect();
        assert_eq!(numpy_mean(&a), Some(0.02094221293433168));
        assert_ne!(a.iter().sum::<f64>() / 300.0, 0.02094221293433168);
        assert_eq!(pairwise_sum(&[1.0, 2.0, 3.0]), 6.0);
        assert_eq!(numpy_mean(&[]), None);
        assert_eq!(numpy_mean(&[0.25; 9]), Some(0.25));
    }
}
