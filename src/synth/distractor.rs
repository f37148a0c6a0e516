//! Distractors: background things that are none of the six classes (blobs with 7 or more
//! random vertices, thin lines and curves, scribbles), static or slowly moving.

use rand::Rng;

use super::color::{self, Rgb};
use super::fill::Fill;
use super::sdf::{self, P2};
use super::style::Styles;

#[derive(Clone, Debug, PartialEq)]
pub enum DistractorShape {
    /// A closed outline in local pixels around the origin.
    Blob { outline: Vec<P2>, radius: f32, fill: Fill },
    /// An open polyline in local pixels, `width` pixels wide.
    Stroke { points: Vec<P2>, width: f32, color: Rgb },
}

/// One distractor with its (world) motion.
#[derive(Clone, Debug, PartialEq)]
pub struct Distractor {
    pub shape: DistractorShape,
    pub pos: P2,
    /// World pixels per frame.
    pub velocity: P2,
    pub angle: f32,
    /// Radians per frame.
    pub spin: f32,
}

/// Maps target pixels to world points: `world = pixel * inv_scale + shift`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct WorldMap {
    pub inv_scale: f32,
    pub shift: P2,
}

impl WorldMap {
    fn to_target(self, w: P2) -> P2 {
        [(w[0] - self.shift[0]) / self.inv_scale, (w[1] - self.shift[1]) / self.inv_scale]
    }
}

impl Distractor {
    /// A random distractor somewhere in `extent` (world x0, y0, x1, y1).
    pub fn random(
        rng: &mut impl Rng,
        extent: [f32; 4],
        short: f32,
        long: f32,
        moving: bool,
        avoid: Rgb,
        styles: Styles,
    ) -> Self {
        let shape = match rng.random_range(0..3u32) {
            0 => {
                let n = rng.random_range(7..15);
                let radius = rng.random_range(0.04..0.2) * short;
                let mut outline: Vec<P2> = (0..n)
                    .map(|i| {
                        let a = (i as f32 + rng.random_range(0.0..0.7)) / n as f32 * std::f32::consts::TAU;
                        let r = radius * rng.random_range(0.35..1.0);
                        [r * a.cos(), r * a.sin()]
                    })
                    .collect();
                if rng.random_bool(0.6) {
                    outline = chaikin(&outline);
                }
                DistractorShape::Blob { outline, radius, fill: Fill::random(rng, avoid, false, styles) }
            }
            kind => {
                let width = rng.random_range(1.0..4.0);
                let points = if kind == 1 { curve(rng, long) } else { scribble(rng, short) };
                DistractorShape::Stroke { points, width, color: color::random(rng) }
            }
        };
        let (speed, heading) = (rng.random_range(0.0..0.005) * long, rng.random_range(0.0..std::f32::consts::TAU));
        Self {
            shape,
            pos: [rng.random_range(extent[0]..extent[2]), rng.random_range(extent[1]..extent[3])],
            velocity: if moving { [speed * heading.cos(), speed * heading.sin()] } else { [0.0; 2] },
            angle: rng.random_range(0.0..std::f32::consts::TAU),
            spin: if moving { rng.random_range(-0.015..0.015) } else { 0.0 },
        }
    }

    pub fn is_moving(&self) -> bool {
        self.velocity != [0.0; 2] || self.spin != 0.0
    }

    /// Paints the distractor at frame `t` over packed RGB `target` (`w` x `h`), whose pixel
    /// centres map to the world through `map`.
    pub fn draw(&self, t: usize, target: &mut [u8], w: usize, h: usize, map: WorldMap) {
        let pos = [self.pos[0] + self.velocity[0] * t as f32, self.pos[1] + self.velocity[1] * t as f32];
        let (sn, cs) = (self.angle + self.spin * t as f32).sin_cos();
        // Local pixels -> target pixels.
        let place = |p: P2| map.to_target([pos[0] + p[0] * cs - p[1] * sn, pos[1] + p[0] * sn + p[1] * cs]);
        let px_scale = 1.0 / map.inv_scale;
        match &self.shape {
            DistractorShape::Blob { outline, radius, fill } => {
                let poly: Vec<P2> = outline.iter().map(|&p| place(p)).collect();
                let c = place([0.0, 0.0]);
                let r = radius * px_scale;
                let Some([x0, y0, x1, y1]) = clip_box(&poly, 1.0, w, h) else { return };
                for y in y0..y1 {
                    for x in x0..x1 {
                        let p = [x as f32 + 0.5, y as f32 + 0.5];
                        let d = sdf::polygon(p, &poly);
                        let alpha = (0.5 - d).clamp(0.0, 1.0);
                        if alpha > 0.0 {
                            let (dx, dy) = ((p[0] - c[0]) / r, (p[1] - c[1]) / r);
                            let col = fill.color(dx * cs + dy * sn, dy * cs - dx * sn, t, r, -d);
                            blend(target, (y * w + x) * 3, col, alpha);
                        }
                    }
                }
            }
            DistractorShape::Stroke { points, width, color } => {
                let pts: Vec<P2> = points.iter().map(|&p| place(p)).collect();
                let half = width * px_scale / 2.0;
                let Some([x0, y0, x1, y1]) = clip_box(&pts, half + 1.0, w, h) else { return };
                let bw = x1 - x0;
                // Coverage of the whole stroke (max over segments), so joints are not painted twice.
                let mut alpha = vec![0.0f32; bw * (y1 - y0)];
                for seg in pts.windows(2) {
                    let Some([sx0, sy0, sx1, sy1]) = clip_box(seg, half + 1.0, w, h) else { continue };
                    for y in sy0..sy1 {
                        for x in sx0..sx1 {
                            let d = sdf::segment([x as f32 + 0.5, y as f32 + 0.5], seg[0], seg[1]);
                            let a = (half + 0.5 - d).clamp(0.0, 1.0);
                            let slot = &mut alpha[(y - y0) * bw + (x - x0)];
                            *slot = slot.max(a);
                        }
                    }
                }
                for y in y0..y1 {
                    for x in x0..x1 {
                        let a = alpha[(y - y0) * bw + (x - x0)];
                        if a > 0.0 {
                            blend(target, (y * w + x) * 3, *color, a);
                        }
                    }
                }
            }
        }
    }
}

#[inline]
fn blend(target: &mut [u8], i: usize, c: Rgb, a: f32) {
    for k in 0..3 {
        let old = f32::from(target[i + k]);
        target[i + k] = (old + (c[k] - old) * a).clamp(0.0, 255.0).round() as u8;
    }
}

/// Pixel box (x0, y0, x1, y1), exclusive ends, of the points grown by `pad`, clipped to the
/// target; `None` when empty.
fn clip_box(pts: &[P2], pad: f32, w: usize, h: usize) -> Option<[usize; 4]> {
    let mut b = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
    for p in pts {
        b = [b[0].min(p[0]), b[1].min(p[1]), b[2].max(p[0]), b[3].max(p[1])];
    }
    let x0 = (b[0] - pad).floor().max(0.0) as usize;
    let y0 = (b[1] - pad).floor().max(0.0) as usize;
    let x1 = ((b[2] + pad).ceil().max(0.0) as usize).min(w);
    let y1 = ((b[3] + pad).ceil().max(0.0) as usize).min(h);
    (x0 < x1 && y0 < y1).then_some([x0, y0, x1, y1])
}

/// One round of Chaikin corner cutting: a smoother closed outline.
fn chaikin(v: &[P2]) -> Vec<P2> {
    let n = v.len();
    let mut out = Vec::with_capacity(2 * n);
    for i in 0..n {
        let (a, b) = (v[i], v[(i + 1) % n]);
        out.push([0.75 * a[0] + 0.25 * b[0], 0.75 * a[1] + 0.25 * b[1]]);
        out.push([0.25 * a[0] + 0.75 * b[0], 0.25 * a[1] + 0.75 * b[1]]);
    }
    out
}

/// A straight line or a gentle quadratic curve, centred on the origin.
fn curve(rng: &mut impl Rng, long: f32) -> Vec<P2> {
    let len = rng.random_range(0.15..0.6) * long;
    let bend = if rng.random_bool(0.4) { 0.0 } else { rng.random_range(-0.4..0.4) * len };
    (0..=16)
        .map(|i| {
            let s = i as f32 / 16.0;
            [(s - 0.5) * len, bend * 4.0 * s * (1.0 - s) - bend * 0.5]
        })
        .collect()
}

/// A wandering scribble: a random walk with a smoothly varying heading.
fn scribble(rng: &mut impl Rng, short: f32) -> Vec<P2> {
    let n = rng.random_range(15..50);
    let step = rng.random_range(0.01..0.03) * short;
    let mut heading = rng.random_range(0.0..std::f32::consts::TAU);
    let mut turn = 0.0f32;
    let mut p = [0.0f32, 0.0];
    let mut pts = vec![p];
    for _ in 0..n {
        turn = (turn + rng.random_range(-0.5..0.5)).clamp(-0.9, 0.9);
        heading += turn;
        p = [p[0] + step * heading.cos(), p[1] + step * heading.sin()];
        pts.push(p);
    }
    let c = [
        pts.iter().map(|p| p[0]).sum::<f32>() / pts.len() as f32,
        pts.iter().map(|p| p[1]).sum::<f32>() / pts.len() as f32,
    ];
    pts.iter().map(|p| [p[0] - c[0], p[1] - c[1]]).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn distractors_paint_inside_the_target_only() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(4);
        let map = WorldMap { inv_scale: 1.0, shift: [0.0, 0.0] };
        let mut painted = 0;
        for _ in 0..30 {
            let d = Distractor::random(&mut rng, [0.0, 0.0, 64.0, 48.0], 48.0, 64.0, true, [0.0; 3], Styles::All);
            if let DistractorShape::Blob { outline, .. } = &d.shape {
                assert!(outline.len() >= 7);
            }
            let mut img = vec![0u8; 64 * 48 * 3];
            d.draw(3, &mut img, 64, 48, map);
            painted += usize::from(img.iter().any(|&v| v > 0));
        }
        assert!(painted > 10);
    }
}
