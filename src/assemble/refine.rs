//! Mask edges snapped to the picture: a colour guided filter (He, Sun and Tang, "Guided Image
//! Filtering", 2010) over each instance's mask at the video's resolution (`ifa.post`
//! `refine_radius`, `refine_eps`).
//!
//! The head's masks come from stride-4 cells, so an edge is only placed to within a cell even
//! with the frame-guided upsampling of [`super::idmap`]; video AP averages IoU thresholds up to
//! 0.95, where a one-pixel band around a shape already decides. The filter models the mask, in
//! each window of `(2r + 1)^2` pixels, as a linear function of the frame's colour: where an
//! instance meets a differently coloured background the refined mask follows the colour edge,
//! and where the window's colour does not vary it keeps the mask's own average.
//!
//! Every instance is filtered on its own, in its bounding box widened by `3r + 2` pixels (its
//! mask cannot reach further), starting from its interpolated foreground weight at each pixel
//! (the soft edge of [`super::idmap`], before the threshold: measured slightly better than the
//! thresholded mask), and each pixel of those boxes goes to the instance whose filtered value is
//! largest if that is at least one half, else to none. Pixels outside every box keep
//! their label (none). Why per instance and not one pass: two touching instances of similar
//! colour must still split their pixels by their own masks.

use super::idmap::extents;
use crate::frame::RgbFrame;

/// The working precision of the box means: the variances they give are regularised by `eps`
/// (1e-3 by default), far above f32's rounding of values in [0, 1].
type Real = f32;

/// The filter's parameters, in video pixels.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RefineParams {
    /// Window radius in video pixels (0: off).
    pub radius: usize,
    /// Regularisation of the linear model, in (RGB / 255)^2 units: larger keeps more of the mask.
    pub eps: f32,
}

impl RefineParams {
    pub fn is_on(&self) -> bool {
        self.radius > 0
    }
}

/// Working buffers of [`refine_ids`]; a caller refining many frames may keep one to reuse them.
#[derive(Debug, Default)]
pub struct RefineScratch {
    best: Vec<f32>,
    label: Vec<u32>,
    /// Per crop pixel: the guide (3), the mask, and the box-filtered channels.
    chans: Vec<Real>,
    tmp: Vec<Real>,
}

/// Channels of one crop in `RefineScratch::chans`, each `n` values.
const I_R: usize = 0;
const P: usize = 3;
/// Box means: I (3), p, I*p (3), I*I^T (6 unique).
const M_I: usize = 4;
const M_P: usize = 7;
const M_IP: usize = 8;
const M_II: usize = 11;
/// a (3) and b, then their box means.
const A: usize = 17;
const B: usize = 20;
const CHANNELS: usize = 21;

/// Refines `ids` (`image.width x image.height`, row-major track ids, 0 = none) in place.
/// Does nothing when the parameters are off or the sizes do not match.
///
/// `soft`, when given, is each pixel's best id and its weight before the threshold (the
/// interpolated foreground probability, [`super::idmap`]): the filter then starts from that
/// probability rather than from the thresholded mask.
pub fn refine_ids(
    ids: &mut [u32],
    soft: Option<&[(u32, f32)]>,
    image: &RgbFrame,
    params: RefineParams,
    scratch: &mut RefineScratch,
) {
    let (w, h) = (image.width as usize, image.height as usize);
    let soft = soft.filter(|s| s.len() == w * h);
    if !params.is_on() || ids.len() != w * h || image.data.len() != w * h * 3 || w == 0 || h == 0 {
        return;
    }
    let instances = extents(ids, image.width);
    if instances.is_empty() {
        return;
    }
    let r = params.radius;
    let margin = 3 * r + 2;
    let crops: Vec<(u32, [usize; 4])> = instances
        .iter()
        .map(|e| {
            let b = e.bbox.map(|v| v as usize);
            (
                e.id,
                [
                    b[0].saturating_sub(margin),
                    b[1].saturating_sub(margin),
                    (b[2] + margin + 1).min(w),
                    (b[3] + margin + 1).min(h),
                ],
            )
        })
        .collect();
    scratch.best.clear();
    scratch.best.resize(w * h, 0.0);
    scratch.label.clear();
    scratch.label.resize(w * h, 0);
    for &(id, crop) in &crops {
        filter_crop(ids, soft, image, id, crop, params, scratch);
    }
    for &(_, [x0, y0, x1, y1]) in &crops {
        for y in y0..y1 {
            let row = y * w;
            ids[row + x0..row + x1].copy_from_slice(&scratch.label[row + x0..row + x1]);
        }
    }
}

/// Filters instance `id`'s mask in `crop` (x0, y0, x1, y1 exclusive) and records, per pixel,
/// the instance with the largest value so far (at least one half).
fn filter_crop(
    ids: &[u32],
    soft: Option<&[(u32, f32)]>,
    image: &RgbFrame,
    id: u32,
    crop: [usize; 4],
    params: RefineParams,
    s: &mut RefineScratch,
) {
    let w = image.width as usize;
    let [x0, y0, x1, y1] = crop;
    let (cw, ch) = (x1 - x0, y1 - y0);
    let n = cw * ch;
    s.chans.clear();
    s.chans.resize(n * CHANNELS, 0.0);
    {
        let (inputs, _) = s.chans.split_at_mut(M_I * n);
        for y in 0..ch {
            for x in 0..cw {
                let (k, g) = (y * cw + x, (y0 + y) * w + x0 + x);
                for c in 0..3 {
                    inputs[(I_R + c) * n + k] = Real::from(image.data[g * 3 + c]) / 255.0;
                }
                inputs[P * n + k] = match soft {
                    Some(soft) if soft[g].0 == id => soft[g].1,
                    None if ids[g] == id => 1.0,
                    _ => 0.0,
                };
            }
        }
    }
    for c in 0..3 {
        copy_channel(&mut s.chans, n, I_R + c, M_I + c);
    }
    copy_channel(&mut s.chans, n, P, M_P);
    let r = params.radius;
    box_mean(&mut s.chans[M_P * n..(M_P + 1) * n], cw, ch, r, [0, 0, cw, ch], &mut s.tmp);
    // Only where a window holds both mask and not (within r of the mask's edge) does the linear
    // model need the colour statistics; elsewhere a = 0 and b = mean p. Their box means are
    // computed over the rectangle holding those pixels only (the same values: windows still
    // reach outside it).
    let edge = |k: usize| (1e-6..=1.0 - 1e-6).contains(&f64::from(s.chans[M_P * n + k]));
    let (mut rx0, mut ry0, mut rx1, mut ry1) = (cw, ch, 0, 0);
    for y in 0..ch {
        for x in 0..cw {
            if edge(y * cw + x) {
                (rx0, ry0, rx1, ry1) = (rx0.min(x), ry0.min(y), rx1.max(x + 1), ry1.max(y + 1));
            }
        }
    }
    if rx0 < rx1 {
        // The products whose box means the linear model needs, where those windows reach.
        let (px0, py0, px1, py1) =
            (rx0.saturating_sub(r), ry0.saturating_sub(r), (rx1 + r + 1).min(cw), (ry1 + r + 1).min(ch));
        for y in py0..py1 {
            for k in y * cw + px0..y * cw + px1 {
                let i = [s.chans[k], s.chans[n + k], s.chans[2 * n + k]];
                let p = s.chans[P * n + k];
                for (c, v) in i.iter().enumerate() {
                    s.chans[(M_IP + c) * n + k] = v * p;
                }
                for (j, (a, b)) in PAIRS.iter().enumerate() {
                    s.chans[(M_II + j) * n + k] = i[*a] * i[*b];
                }
            }
        }
    }
    for c in A..B {
        s.chans[c * n..(c + 1) * n].fill(0.0);
    }
    copy_channel(&mut s.chans, n, M_P, B);
    if rx0 < rx1 {
        let region = [rx0, ry0, rx1, ry1];
        for c in M_I..M_P {
            box_mean(&mut s.chans[c * n..(c + 1) * n], cw, ch, r, region, &mut s.tmp);
        }
        for c in M_IP..A {
            box_mean(&mut s.chans[c * n..(c + 1) * n], cw, ch, r, region, &mut s.tmp);
        }
        solve_region(&mut s.chans, n, cw, region, f64::from(params.eps));
    }
    for c in A..CHANNELS {
        box_mean(&mut s.chans[c * n..(c + 1) * n], cw, ch, r, [0, 0, cw, ch], &mut s.tmp);
    }
    for y in 0..ch {
        for x in 0..cw {
            let k = y * cw + x;
            let at = |c: usize| s.chans[c * n + k];
            let q = at(A) * at(I_R) + at(A + 1) * at(I_R + 1) + at(A + 2) * at(I_R + 2) + at(B);
            let g = (y0 + y) * w + x0 + x;
            if q >= 0.5 && q > s.best[g] {
                s.best[g] = q;
                s.label[g] = id;
            }
        }
    }
}

/// The linear model's a (3) and b at the pixels of `region` (crop coordinates x0, y0, x1, y1)
/// whose window holds both mask and not; the others keep a = 0 and b = mean p.
fn solve_region(chans: &mut [Real], n: usize, cw: usize, region: [usize; 4], eps: f64) {
    let [x0, y0, x1, y1] = region;
    for y in y0..y1 {
        for x in x0..x1 {
            let k = y * cw + x;
            let at = |c: usize| f64::from(chans[c * n + k]);
            let mp = at(M_P);
            if !(1e-6..=1.0 - 1e-6).contains(&mp) {
                continue;
            }
            let mi = [at(M_I), at(M_I + 1), at(M_I + 2)];
            let cov = [0, 1, 2].map(|c| at(M_IP + c) - mi[c] * mp);
            let mut var = [0.0; 6];
            for (j, (a, b)) in PAIRS.iter().enumerate() {
                var[j] = at(M_II + j) - mi[*a] * mi[*b] + if a == b { eps } else { 0.0 };
            }
            let a = solve_sym3(var, cov);
            let b = mp - a[0] * mi[0] - a[1] * mi[1] - a[2] * mi[2];
            for (c, v) in a.iter().enumerate() {
                chans[(A + c) * n + k] = *v as Real;
            }
            chans[B * n + k] = b as Real;
        }
    }
}

/// Mean over the `(2r + 1)^2` window around each pixel of `region` (x0, y0, x1, y1 exclusive)
/// of a `w x h` channel, in place; the channel's border values repeat beyond its edges (so a
/// window always holds `(2r + 1)^2` values), and its pixels outside the region are left as they
/// were (they still feed the windows). Rows are summed with a running sum, then rows of sums are
/// added and removed whole, so every pass reads memory in order.
fn box_mean(v: &mut [Real], w: usize, h: usize, r: usize, region: [usize; 4], tmp: &mut Vec<Real>) {
    let [x0, y0, x1, y1] = region;
    let (rw, rh) = (x1 - x0, y1 - y0);
    if rw == 0 || rh == 0 {
        return;
    }
    let norm = 1.0 / ((2 * r + 1) * (2 * r + 1)) as Real;
    // Horizontal window sums of the rows the region's windows reach, at the region's columns.
    // (One row past the last window: the running sum steps once more after the last output.)
    let (hy0, hy1) = (y0.saturating_sub(r), (y1 + r + 1).min(h));
    let rows = hy1 - hy0;
    tmp.clear();
    tmp.resize(rw * rows + rw, 0.0);
    let (hs, acc) = tmp.split_at_mut(rw * rows);
    for (y, out) in (hy0..hy1).zip(hs.chunks_exact_mut(rw)) {
        window_sums(&v[y * w..(y + 1) * w], r, x0, out);
    }
    // Rows above and below the channel repeat its first and last row.
    let row = |y: isize| {
        let y = (y.clamp(0, h as isize - 1) as usize) - hy0;
        &hs[y * rw..(y + 1) * rw]
    };
    let ri = r as isize;
    acc.fill(0.0);
    for d in -ri..=ri {
        for (a, b) in acc.iter_mut().zip(row(y0 as isize + d)) {
            *a += b;
        }
    }
    for y in y0..y1 {
        for (o, a) in v[y * w + x0..y * w + x1].iter_mut().zip(acc.iter()) {
            *o = a * norm;
        }
        let yi = y as isize;
        for ((a, add), sub) in acc.iter_mut().zip(row(yi + ri + 1)).zip(row(yi - ri)) {
            *a += add - sub;
        }
    }
}

/// `out[i] = sum of src[clamp(start + i + d)]` for d in -r..=r.
fn window_sums(src: &[Real], r: usize, start: usize, out: &mut [Real]) {
    let n = src.len();
    if n == 0 {
        return;
    }
    let at = |i: isize| src[i.clamp(0, n as isize - 1) as usize];
    let ri = r as isize;
    let mut sum: Real = (-ri..=ri).map(|d| at(start as isize + d)).sum();
    // Positions whose entering (p + r + 1) and leaving (p - r) values both lie inside the line
    // need no clamping.
    let (lo, hi) = (r, n.saturating_sub(r + 1));
    for (i, o) in out.iter_mut().enumerate() {
        *o = sum;
        let p = start + i;
        if (lo..hi).contains(&p) {
            sum += src[p + r + 1] - src[p - r];
        } else {
            sum += at(p as isize + ri + 1) - at(p as isize - ri);
        }
    }
}

/// The unique entries of a symmetric 3x3 matrix: rr, rg, rb, gg, gb, bb.
const PAIRS: [(usize, usize); 6] = [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)];

fn copy_channel(chans: &mut [Real], n: usize, from: usize, to: usize) {
    let (lo, hi) = chans.split_at_mut(to * n);
    hi[..n].copy_from_slice(&lo[from * n..(from + 1) * n]);
}

/// Solves `m x = v` for a symmetric positive definite `m` given as [`PAIRS`] (Cramer's rule; the
/// matrix is a covariance plus `eps` on its diagonal, so it is never singular for `eps` > 0).
fn solve_sym3(m: [f64; 6], v: [f64; 3]) -> [f64; 3] {
    let [a, b, c, d, e, f] = m;
    // Cofactors of [[a b c] [b d e] [c e f]].
    let c00 = d * f - e * e;
    let c01 = c * e - b * f;
    let c02 = b * e - c * d;
    let c11 = a * f - c * c;
    let c12 = b * c - a * e;
    let c22 = a * d - b * b;
    let det = a * c00 + b * c01 + c * c02;
    if det.abs() < 1e-18 {
        return [0.0; 3];
    }
    [
        (c00 * v[0] + c01 * v[1] + c02 * v[2]) / det,
        (c01 * v[0] + c11 * v[1] + c12 * v[2]) / det,
        (c02 * v[0] + c12 * v[1] + c22 * v[2]) / det,
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A `w x h` frame: colour `fg` inside the disc of radius `rad` at (cx, cy), `bg` elsewhere.
    fn disc_frame(w: u32, h: u32, cx: f64, cy: f64, rad: f64, fg: [u8; 3], bg: [u8; 3]) -> (RgbFrame, Vec<u32>) {
        let mut img = RgbFrame::new(w, h);
        let mut truth = vec![0u32; (w * h) as usize];
        for y in 0..h {
            for x in 0..w {
                let inside = (f64::from(x) - cx).hypot(f64::from(y) - cy) <= rad;
                let c = if inside { fg } else { bg };
                let i = ((y * w + x) * 3) as usize;
                img.data[i..i + 3].copy_from_slice(&c);
                if inside {
                    truth[(y * w + x) as usize] = 5;
                }
            }
        }
        (img, truth)
    }

    fn iou(a: &[u32], b: &[u32], id: u32) -> f64 {
        let i = a.iter().zip(b).filter(|(x, y)| **x == id && **y == id).count();
        let u = a.iter().zip(b).filter(|(x, y)| **x == id || **y == id).count();
        i as f64 / u as f64
    }

    #[test]
    fn a_blocky_mask_snaps_to_the_colour_edge() {
        let (img, truth) = disc_frame(96, 80, 47.3, 39.6, 20.5, [200, 60, 40], [40, 90, 160]);
        // The mask as 4-pixel blocks whose centre lies inside the disc: edges off by up to 2 px.
        let blocky: Vec<u32> = (0..96 * 80)
            .map(|i| {
                let (x, y) = (i % 96, i / 96);
                let (bx, by) = ((x / 4) * 4 + 2, (y / 4) * 4 + 2);
                if (bx as f64 - 47.3).hypot(by as f64 - 39.6) <= 20.5 { 5 } else { 0 }
            })
            .collect();
        let before = iou(&blocky, &truth, 5);
        let mut ids = blocky.clone();
        refine_ids(&mut ids, None, &img, RefineParams { radius: 6, eps: 1e-3 }, &mut RefineScratch::default());
        let after = iou(&ids, &truth, 5);
        assert!(before < 0.95, "the test's mask should start off the edge ({before})");
        assert!(after > 0.99, "refined IoU {after} (before {before})");
    }

    #[test]
    fn off_or_mismatched_sizes_change_nothing() {
        let (img, truth) = disc_frame(40, 30, 20.0, 15.0, 8.0, [255, 255, 255], [0, 0, 0]);
        let mut shifted: Vec<u32> = truth.clone();
        shifted.rotate_right(1);
        let mut ids = shifted.clone();
        refine_ids(&mut ids, None, &img, RefineParams { radius: 0, eps: 1e-3 }, &mut RefineScratch::default());
        assert_eq!(ids, shifted);
        let mut short = shifted[..100].to_vec();
        refine_ids(&mut short, None, &img, RefineParams { radius: 4, eps: 1e-3 }, &mut RefineScratch::default());
        assert_eq!(short, shifted[..100]);
    }

    #[test]
    fn a_uniform_picture_keeps_the_mask_and_touching_instances_keep_their_sides() {
        // No colour edge to follow: the filter is a box blur of the mask, thresholded at one half,
        // so a straight edge between two instances stays where it is.
        let img = RgbFrame::new(60, 40);
        let ids: Vec<u32> = (0..60 * 40)
            .map(|i| match i % 60 {
                x if (10..30).contains(&x) && (10..30).contains(&(i / 60)) => 1,
                x if (30..50).contains(&x) && (10..30).contains(&(i / 60)) => 2,
                _ => 0,
            })
            .collect();
        let mut out = ids.clone();
        refine_ids(&mut out, None, &img, RefineParams { radius: 3, eps: 1e-3 }, &mut RefineScratch::default());
        // (Corners round off: the blur of a corner is below one half within r of it.)
        for y in 14..26 {
            for x in 14..46 {
                assert_eq!(out[y * 60 + x], ids[y * 60 + x], "pixel ({x}, {y})");
            }
        }
        assert!(out.iter().filter(|&&v| v == 0).count() > 0);
    }

    #[test]
    fn solve_sym3_inverts() {
        let m = [4.0, 1.0, 0.5, 3.0, 0.2, 2.0];
        let x = [1.0, -2.0, 0.5];
        let v = [
            4.0 * x[0] + 1.0 * x[1] + 0.5 * x[2],
            1.0 * x[0] + 3.0 * x[1] + 0.2 * x[2],
            0.5 * x[0] + 0.2 * x[1] + 2.0 * x[2],
        ];
        let got = solve_sym3(m, v);
        for k in 0..3 {
            assert!((got[k] - x[k]).abs() < 1e-12);
        }
    }

    #[test]
    fn box_mean_over_a_region_is_the_full_box_mean_there() {
        let (w, h, r) = (23usize, 17usize, 4usize);
        let src: Vec<Real> = (0..w * h).map(|i| ((i * 53) % 17) as Real / 17.0).collect();
        let mut full = src.clone();
        box_mean(&mut full, w, h, r, [0, 0, w, h], &mut Vec::new());
        for region in [[0, 0, w, h], [5, 3, 12, 9], [0, 10, 4, 17], [20, 0, 23, 2], [7, 7, 8, 8]] {
            let mut got = src.clone();
            box_mean(&mut got, w, h, r, region, &mut Vec::new());
            let [x0, y0, x1, y1] = region;
            for y in 0..h {
                for x in 0..w {
                    let inside = (x0..x1).contains(&x) && (y0..y1).contains(&y);
                    let want = if inside { full[y * w + x] } else { src[y * w + x] };
                    assert!((got[y * w + x] - want).abs() < 1e-5, "region {region:?} at ({x}, {y})");
                }
            }
        }
    }

    #[test]
    fn box_mean_matches_a_direct_sum() {
        // Windows inside the channel, and windows wider than it (every value clamped).
        for (w, h, r) in [(7usize, 5usize, 2usize), (3, 2, 4), (1, 1, 3), (20, 9, 6)] {
            let src: Vec<Real> = (0..w * h).map(|i| ((i * 37) % 11) as Real).collect();
            let mut got = src.clone();
            box_mean(&mut got, w, h, r, [0, 0, w, h], &mut Vec::new());
            let ri = r as isize;
            for y in 0..h {
                for x in 0..w {
                    let mut s = 0.0;
                    for dy in -ri..=ri {
                        for dx in -ri..=ri {
                            let yy = (y as isize + dy).clamp(0, h as isize - 1) as usize;
                            let xx = (x as isize + dx).clamp(0, w as isize - 1) as usize;
                            s += src[yy * w + xx];
                        }
                    }
                    let want = s / ((2 * r + 1) * (2 * r + 1)) as Real;
                    assert!((got[y * w + x] - want).abs() < 1e-4, "{w}x{h} r {r} at ({x}, {y})");
                }
            }
        }
    }
}

#[cfg(test)]
mod timing {
    use super::*;

    /// `cargo test --release --lib refine::timing -- --ignored --nocapture`: time per 640x360 frame.
    #[test]
    #[ignore = "prints a timing"]
    fn time_a_frame_of_ten_instances() {
        let (w, h) = (640usize, 360usize);
        let mut img = RgbFrame::new(w as u32, h as u32);
        let mut ids = vec![0u32; w * h];
        for k in 0..10usize {
            let (cx, cy, r) = (40.0 + 60.0 * k as f64, 80.0 + 20.0 * (k % 5) as f64 * 2.0, 15.0 + 4.0 * k as f64);
            for y in 0..h {
                for x in 0..w {
                    if (x as f64 - cx).hypot(y as f64 - cy) <= r {
                        img.data[(y * w + x) * 3] = 200;
                        let (bx, by) = ((x / 4) * 4 + 2, (y / 4) * 4 + 2);
                        if (bx as f64 - cx).hypot(by as f64 - cy) <= r {
                            ids[y * w + x] = k as u32 + 1;
                        }
                    }
                }
            }
        }
        let mut scratch = RefineScratch::default();
        let t0 = std::time::Instant::now();
        let n = 20;
        for _ in 0..n {
            let mut out = ids.clone();
            refine_ids(&mut out, None, &img, RefineParams { radius: 4, eps: 1e-3 }, &mut scratch);
        }
        eprintln!("refine: {:.2} ms per frame", t0.elapsed().as_secs_f64() * 1e3 / f64::from(n));
    }
}
