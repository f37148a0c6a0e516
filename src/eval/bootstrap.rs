//! How sure an AP is: the bootstrap over videos. Twenty videos give one AP; twenty others from
//! the same world would give another. Drawing the videos again with replacement, keeping each
//! video's matching as it is and redoing the accumulation, gives the spread of AP that the
//! choice of videos alone explains. Two results files on the same ground truth are resampled
//! together (paired), so the spread of their difference leaves out what both share: the
//! question "is this change better, or did these videos happen to suit it?".
//!
//! Percentile intervals (Efron) at a fixed seed, so the same files always give the same interval.
//! The resampled AP is the official one (the accumulation across videos is not an average of
//! per-video numbers, so resampling the per-video matches, not per-video APs, is what is right).

use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

use super::accumulate::accumulate_present;
use super::matching::VideoRecord;
use super::{VideoMatches, summary};

/// Seed of the resampling: the same inputs give the same intervals.
const SEED: u64 = 0x1fa;

/// A number and its interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Interval {
    /// On all the videos, as `ifa eval` reports it.
    pub point: f64,
    pub low: f64,
    pub high: f64,
}

/// Another results file on the same ground truth, resampled with the same draws.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comparison {
    pub ap: Interval,
    /// This file's AP minus the other's.
    pub difference: Interval,
    /// Share of the resamples in which this file's AP is the higher (ties count as not).
    pub share_higher: f64,
}

/// AP with its interval over resampled videos, and optionally the paired difference to other results.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Bootstrap {
    pub samples: usize,
    pub videos: usize,
    /// Coverage of the intervals, e.g. 0.95.
    pub level: f64,
    pub ap: Interval,
    pub other: Option<Comparison>,
}

/// Resamples the videos of `a` (one results file's [`VideoMatches`]) `samples` times, and those
/// of `b` (another results file on the same ground truth) with the same draws; `level` is the
/// intervals' coverage (0..1).
pub fn bootstrap(a: &VideoMatches, b: Option<&VideoMatches>, samples: usize, level: f64) -> Bootstrap {
    let n = a.videos;
    let all: Vec<usize> = (0..n).collect();
    let (ap_a, ap_b) = (ap_of(a, &all), b.map(|b| ap_of(b, &all)));
    let mut rng = ChaCha8Rng::seed_from_u64(SEED);
    let (mut va, mut vb, mut vd) = (Vec::with_capacity(samples), Vec::new(), Vec::new());
    let mut higher = 0usize;
    let mut draw = vec![0; n];
    for _ in 0..samples {
        for d in &mut draw {
            *d = rng.random_range(0..n);
        }
        let x = ap_of(a, &draw);
        va.push(x);
        if let Some(b) = b {
            let y = ap_of(b, &draw);
            vb.push(y);
            vd.push(x - y);
            higher += usize::from(x > y);
        }
    }
    let other = ap_b.map(|p| Comparison {
        ap: interval(p, &mut vb, level),
        difference: interval(ap_a - p, &mut vd, level),
        share_higher: if samples == 0 { 0.0 } else { higher as f64 / samples as f64 },
    });
    Bootstrap { samples, videos: n, level, ap: interval(ap_a, &mut va, level), other }
}

/// AP of the videos at `draw` (indices into the ground truth's videos, repeats allowed). Only
/// the "all" area range is accumulated: AP reads nothing else, and it is a quarter of the work.
fn ap_of(m: &VideoMatches, draw: &[usize]) -> f64 {
    let present: Vec<Vec<Vec<&VideoRecord>>> = m
        .records
        .iter()
        .map(|per_area| per_area[..1].iter().map(|v| draw.iter().filter_map(|&i| v[i].as_ref()).collect()).collect())
        .collect();
    summary::stats(&accumulate_present(&present))[0]
}

/// The percentile interval of `values` around `point`; the point itself when there are none.
fn interval(point: f64, values: &mut [f64], level: f64) -> Interval {
    if values.is_empty() {
        return Interval { point, low: point, high: point };
    }
    values.sort_by(f64::total_cmp);
    let tail = (1.0 - level) / 2.0;
    Interval { point, low: quantile(values, tail), high: quantile(values, 1.0 - tail) }
}

/// numpy's default (linear) quantile of sorted values.
fn quantile(sorted: &[f64], q: f64) -> f64 {
    let pos = q.clamp(0.0, 1.0) * (sorted.len() - 1) as f64;
    let (i, frac) = (pos.floor() as usize, pos.fract());
    match sorted.get(i + 1) {
        Some(next) => sorted[i] + frac * (next - sorted[i]),
        None => sorted[i],
    }
}

impl Bootstrap {
    /// The text `ifa eval --bootstrap` prints.
    pub fn table(&self) -> String {
        let pct = self.level * 100.0;
        let row = |name: &str, i: &Interval| format!("  {name:<12} {:.4}  [{:.4}, {:.4}]\n", i.point, i.low, i.high);
        let mut s = format!(
            "bootstrap over videos ({} resamples of the {} videos, {pct:.0}% percentile intervals):\n",
            self.samples, self.videos
        );
        s.push_str(&row("AP", &self.ap));
        if let Some(c) = &self.other {
            s.push_str(&row("AP, other", &c.ap));
            let d = &c.difference;
            s.push_str(&format!(
                "  {:<12} {:+.4} [{:+.4}, {:+.4}]  higher in {:.1}% of the resamples\n",
                "difference",
                d.point,
                d.low,
                d.high,
                c.share_higher * 100.0
            ));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::eval::{GroundTruth, ResultTrack, match_videos};
    use crate::rle::Rle;

    /// `n` videos of 4x4 pixels, each with one track of category 1 over 2 frames.
    fn gt(n: i64) -> GroundTruth {
        let mask: Vec<u8> = (0..16).map(|i| u8::from(i % 4 < 2)).collect();
        let seg = serde_json::to_value(Rle::from_mask(4, 4, &mask).expect("mask")).expect("json");
        let videos: Vec<Value> = (1..=n).map(|v| json!({"id": v, "height": 4, "width": 4})).collect();
        let anns: Vec<Value> = (1..=n)
            .map(|v| json!({"id": v, "video_id": v, "category_id": 1, "iscrowd": 0, "segmentations": [seg, seg], "areas": [8, 8]}))
            .collect();
        GroundTruth::from_json(&json!({"videos": videos, "categories": [{"id": 1, "name": "a"}], "annotations": anns}))
            .expect("gt")
    }

    #[test]
    fn perfect_results_are_sure_and_identical_results_differ_by_nothing() {
        let g = gt(6);
        let perfect = g.as_results();
        let m = match_videos(&g, &perfect).expect("match");
        let b = bootstrap(&m, Some(&m), 200, 0.95);
        assert_eq!(b.ap, Interval { point: 1.0, low: 1.0, high: 1.0 });
        let c = b.other.expect("comparison");
        assert_eq!(c.difference, Interval { point: 0.0, low: 0.0, high: 0.0 });
        assert_eq!(c.share_higher, 0.0);
        assert_eq!((b.samples, b.videos), (200, 6));
    }

    #[test]
    fn a_file_that_finds_more_is_higher_in_most_resamples_and_the_draws_are_repeatable() {
        let g = gt(8);
        let perfect = g.as_results();
        // The other finds the tracks of only half of the videos.
        let half: Vec<ResultTrack> = perfect.iter().filter(|r| r.video_id % 2 == 0).cloned().collect();
        let (m, mh) = (match_videos(&g, &perfect).expect("match"), match_videos(&g, &half).expect("match"));
        let b = bootstrap(&m, Some(&mh), 400, 0.9);
        let c = b.other.as_ref().expect("comparison");
        // Recall 0.5: precision 1 at 51 of the 101 recall thresholds.
        assert_eq!(c.ap.point, 51.0 / 101.0);
        // The point, from the "all" area range alone, is the official AP.
        assert_eq!(c.ap.point, crate::eval::evaluate(&g, &half).expect("eval").stats[0]);
        assert!(c.ap.low < c.ap.point && c.ap.high > c.ap.point, "{:?}", c.ap);
        assert!(c.difference.low > 0.0 && c.difference.high <= 1.0, "{:?}", c.difference);
        assert!(c.share_higher > 0.99, "{}", c.share_higher);
        assert_eq!(b, bootstrap(&m, Some(&mh), 400, 0.9));
        let t = b.table();
        assert!(t.contains("400 resamples of the 8 videos, 90%") && t.contains("difference   +0.4950"), "{t}");
    }

    #[test]
    fn quantiles_interpolate_like_numpy() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(quantile(&v, 0.0), 1.0);
        assert_eq!(quantile(&v, 1.0), 4.0);
        assert!((quantile(&v, 0.5) - 2.5).abs() < 1e-12);
        assert!((quantile(&v, 0.025) - 1.075).abs() < 1e-12);
        assert_eq!(interval(0.3, &mut [], 0.95), Interval { point: 0.3, low: 0.3, high: 0.3 });
    }
}
