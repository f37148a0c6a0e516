//! The background: one picture in world coordinates, large enough for everything the camera
//! sees over the video, sampled through the camera every frame.

use rand::Rng;

use super::color::{self, Rgb};
use super::noise::ValueNoise;
use super::photos;
use super::style::Styles;

/// The kinds of background the spec lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BackdropKind {
    Solid,
    Noise,
    Gradient,
    Tiles,
    Photo,
}

/// A background picture covering the world rectangle starting at (`x0`, `y0`).
#[derive(Clone, Debug, PartialEq)]
pub struct Backdrop {
    kind: BackdropKind,
    x0: f32,
    y0: f32,
    width: usize,
    height: usize,
    /// Packed RGB, row-major.
    px: Vec<u8>,
}

impl Backdrop {
    /// Covers the world rectangle `extent` = (x0, y0, x1, y1) with a margin.
    fn blank(kind: BackdropKind, extent: [f32; 4]) -> Self {
        let x0 = extent[0].floor() - 2.0;
        let y0 = extent[1].floor() - 2.0;
        let width = ((extent[2] - x0).ceil() + 2.0).max(1.0) as usize;
        let height = ((extent[3] - y0).ceil() + 2.0).max(1.0) as usize;
        Self { kind, x0, y0, width, height, px: vec![0; width * height * 3] }
    }

    /// One flat colour.
    pub fn solid(extent: [f32; 4], c: Rgb) -> Self {
        let mut b = Self::blank(BackdropKind::Solid, extent);
        let c = color::to_u8(c);
        for p in b.px.chunks_exact_mut(3) {
            p.copy_from_slice(&c);
        }
        b
    }

    /// A random background of any kind. `short` is the frame's short side in pixels.
    pub fn random(rng: &mut impl Rng, extent: [f32; 4], short: f32, styles: Styles) -> Self {
        let kind = match (styles, rng.random_range(0..100u32)) {
            (Styles::Heldout, 0..50) | (Styles::All, 50..70) => BackdropKind::Tiles,
            (Styles::Heldout, _) => BackdropKind::Photo,
            (_, 0..30) => BackdropKind::Noise,
            (_, 30..50) => BackdropKind::Gradient,
            _ => BackdropKind::Photo,
        };
        let mut b = Self::blank(kind, extent);
        match kind {
            BackdropKind::Noise => b.paint_noise(rng, short),
            BackdropKind::Gradient => b.paint_gradient(rng),
            BackdropKind::Tiles => b.paint_tiles(rng, short),
            BackdropKind::Photo | BackdropKind::Solid => b.paint_photo(rng, styles),
        }
        b
    }

    pub fn kind(&self) -> BackdropKind {
        self.kind
    }

    /// World position of pixel (0, 0)'s corner, and the size in pixels.
    pub fn rect(&self) -> ([f32; 2], usize, usize) {
        ([self.x0, self.y0], self.width, self.height)
    }

    pub fn pixels_mut(&mut self) -> &mut [u8] {
        &mut self.px
    }

    /// Average colour (sampled sparsely).
    pub fn mean(&self) -> Rgb {
        let mut s = [0.0f64; 3];
        let mut n = 0.0;
        for p in self.px.chunks_exact(3).step_by(97) {
            for k in 0..3 {
                s[k] += f64::from(p[k]);
            }
            n += 1.0;
        }
        if n == 0.0 {
            return [0.0; 3];
        }
        [(s[0] / n) as f32, (s[1] / n) as f32, (s[2] / n) as f32]
    }

    /// Bilinear sample at world point (x, y), clamped at the edges.
    #[inline]
    pub fn sample(&self, x: f32, y: f32) -> Rgb {
        let fx = (x - self.x0 - 0.5).clamp(0.0, (self.width - 1) as f32);
        let fy = (y - self.y0 - 0.5).clamp(0.0, (self.height - 1) as f32);
        let (ix, iy) = (fx as usize, fy as usize);
        let (tx, ty) = (fx - ix as f32, fy - iy as f32);
        let ix1 = (ix + 1).min(self.width - 1);
        let iy1 = (iy + 1).min(self.height - 1);
        let at = |x: usize, y: usize, k: usize| f32::from(self.px[(y * self.width + x) * 3 + k]);
        let mut out = [0.0; 3];
        for (k, o) in out.iter_mut().enumerate() {
            let top = at(ix, iy, k) + (at(ix1, iy, k) - at(ix, iy, k)) * tx;
            let bot = at(ix, iy1, k) + (at(ix1, iy1, k) - at(ix, iy1, k)) * tx;
            *o = top + (bot - top) * ty;
        }
        out
    }

    fn fill_with(&mut self, f: impl Fn(f32, f32) -> Rgb) {
        let w = self.width;
        for (i, p) in self.px.chunks_exact_mut(3).enumerate() {
            let x = self.x0 + (i % w) as f32 + 0.5;
            let y = self.y0 + (i / w) as f32 + 0.5;
            p.copy_from_slice(&color::to_u8(f(x, y)));
        }
    }

    fn paint_noise(&mut self, rng: &mut impl Rng, short: f32) {
        let palette = [color::random(rng), color::random(rng), color::random(rng)];
        let noise = ValueNoise::new(rng.random());
        let scale = rng.random_range(0.08..0.6) * short;
        let octaves = rng.random_range(2..6);
        self.fill_with(|x, y| {
            let n = ((noise.fractal(x / scale, y / scale, octaves) - 0.5) * 2.0 + 0.5).clamp(0.0, 1.0);
            if n < 0.5 {
                color::lerp(palette[0], palette[1], n * 2.0)
            } else {
                color::lerp(palette[1], palette[2], n * 2.0 - 1.0)
            }
        });
    }

    fn paint_gradient(&mut self, rng: &mut impl Rng) {
        let (a, b) = (color::random(rng), color::random(rng));
        let grain = ValueNoise::new(rng.random());
        let grain_amp = rng.random_range(0.0..12.0f32);
        let (cx, cy) = (self.x0 + self.width as f32 / 2.0, self.y0 + self.height as f32 / 2.0);
        let span = (self.width.max(self.height)) as f32;
        let radial = rng.random_bool(0.4);
        let ang = rng.random_range(0.0..std::f32::consts::TAU);
        let (ox, oy) = (rng.random_range(-0.3..0.3) * span, rng.random_range(-0.3..0.3) * span);
        self.fill_with(|x, y| {
            let t = if radial {
                (((x - cx - ox).powi(2) + (y - cy - oy).powi(2)).sqrt() / (0.7 * span)).min(1.0)
            } else {
                (((x - cx) * ang.cos() + (y - cy) * ang.sin()) / span + 0.5).clamp(0.0, 1.0)
            };
            let g = (grain.sample(x * 0.3, y * 0.3) - 0.5) * grain_amp;
            let c = color::lerp(a, b, t);
            [c[0] + g, c[1] + g, c[2] + g]
        });
    }

    fn paint_tiles(&mut self, rng: &mut impl Rng, short: f32) {
        let a = color::random(rng);
        let b = if rng.random_bool(0.5) { color::contrasting(rng, a) } else { color::random(rng) };
        let size = rng.random_range(0.03..0.15) * short;
        let style = rng.random_range(0..4u32);
        let grain = ValueNoise::new(rng.random());
        let ang = if rng.random_bool(0.5) { 0.0 } else { rng.random_range(0.0..std::f32::consts::PI) };
        let (sn, cs) = ang.sin_cos();
        self.fill_with(|x0, y0| {
            let x = (x0 * cs + y0 * sn) / size;
            let y = (y0 * cs - x0 * sn) / size;
            let on = match style {
                // Checkerboard.
                0 => (x.floor() as i64 + y.floor() as i64) & 1 == 0,
                // Bricks: mortar lines with every other row shifted by half a brick.
                1 => {
                    let row = (y * 2.0).floor();
                    let bx = x + if (row as i64) & 1 == 0 { 0.0 } else { 0.5 };
                    let fy = y * 2.0 - row;
                    let fx = bx - bx.floor();
                    fy > 0.12 && fx > 0.06
                }
                // Dots on a grid.
                2 => {
                    let (fx, fy) = (x - x.floor() - 0.5, y - y.floor() - 0.5);
                    fx * fx + fy * fy > 0.09
                }
                // Grid lines.
                _ => {
                    let (fx, fy) = (x - x.floor(), y - y.floor());
                    fx > 0.1 && fy > 0.1
                }
            };
            let g = (grain.fractal(x0 * 0.1, y0 * 0.1, 3) - 0.5) * 30.0;
            let c = if on { a } else { b };
            [c[0] + g, c[1] + g, c[2] + g]
        });
    }

    fn paint_photo(&mut self, rng: &mut impl Rng, styles: Styles) {
        let photos = photos::all();
        let allowed: Vec<usize> = (0..photos.len()).filter(|&i| styles.allows_photo(i)).collect();
        if allowed.is_empty() {
            self.kind = BackdropKind::Noise;
            return self.paint_noise(rng, self.height as f32);
        }
        // `All` draws over every photo exactly as before the style split.
        let photo = &photos[allowed[rng.random_range(0..allowed.len())]];
        let (pw, ph) = (photo.width() as f32, photo.height() as f32);
        // Scale so the photo covers the whole rectangle, then crop at a random place.
        let s = (self.width as f32 / pw).max(self.height as f32 / ph) * rng.random_range(1.0..1.5);
        let ox = rng.random_range(0.0..=(pw * s - self.width as f32).max(0.0));
        let oy = rng.random_range(0.0..=(ph * s - self.height as f32).max(0.0));
        let flip = rng.random_bool(0.5);
        let grey = photo.pixels().take(2000).all(|p| p[0] == p[1] && p[1] == p[2]);
        let tint = if grey { color::scale(color::random(rng), 1.0 / 180.0) } else { [1.0; 3] };
        let gain = rng.random_range(0.75..1.2);
        let w = self.width;
        let get = |x: u32, y: u32, k: usize| f32::from(photo.get_pixel(x, y)[k]);
        for (i, p) in self.px.chunks_exact_mut(3).enumerate() {
            let mut u = ((i % w) as f32 + 0.5 + ox) / s - 0.5;
            let v = ((i / w) as f32 + 0.5 + oy) / s - 0.5;
            if flip {
                u = pw - 1.0 - u;
            }
            let u = u.clamp(0.0, pw - 1.0);
            let v = v.clamp(0.0, ph - 1.0);
            let (ix, iy) = (u as u32, v as u32);
            let (tx, ty) = (u - ix as f32, v - iy as f32);
            let ix1 = (ix + 1).min(photo.width() - 1);
            let iy1 = (iy + 1).min(photo.height() - 1);
            let mut c = [0.0; 3];
            for (k, o) in c.iter_mut().enumerate() {
                let top = get(ix, iy, k) + (get(ix1, iy, k) - get(ix, iy, k)) * tx;
                let bot = get(ix, iy1, k) + (get(ix1, iy1, k) - get(ix, iy1, k)) * tx;
                *o = (top + (bot - top) * ty) * gain * tint[k];
            }
            p.copy_from_slice(&color::to_u8(c));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn every_kind_covers_its_extent() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
        let extent = [-10.5, 3.0, 120.0, 80.0];
        let mut kinds = std::collections::HashSet::new();
        for _ in 0..40 {
            let b = Backdrop::random(&mut rng, extent, 80.0, Styles::All);
            kinds.insert(format!("{:?}", b.kind()));
            let ([x0, y0], w, h) = b.rect();
            assert!(x0 <= extent[0] && y0 <= extent[1]);
            assert!(x0 + w as f32 >= extent[2] && y0 + h as f32 >= extent[3]);
        }
        assert_eq!(kinds.len(), 4, "{kinds:?}");
        let s = Backdrop::solid(extent, [10.0, 20.0, 30.0]);
        assert_eq!(s.sample(0.0, 40.0), [10.0, 20.0, 30.0]);
    }
}
