//! How an instance (or a blob distractor) is painted: a pattern in the shape's own frame, so it
//! moves, turns and scales with the shape, plus an optional outline and drifting shading.

use rand::Rng;

use super::color::{self, Rgb};
use super::noise::ValueNoise;
use super::style::Styles;

/// The pattern of a fill, in local units (outer radius 1).
#[derive(Clone, Debug, PartialEq)]
pub enum Pattern {
    Solid(Rgb),
    /// Two-colour stripes of `period` across direction `angle`.
    Stripes {
        a: Rgb,
        b: Rgb,
        period: f32,
        angle: f32,
    },
    Checker {
        a: Rgb,
        b: Rgb,
        cell: f32,
        angle: f32,
    },
    /// From `a` to `b` along direction `angle`.
    Linear {
        a: Rgb,
        b: Rgb,
        angle: f32,
    },
    /// From `a` at `center` to `b` at distance `reach`.
    Radial {
        a: Rgb,
        b: Rgb,
        center: [f32; 2],
        reach: f32,
    },
    Noise {
        a: Rgb,
        b: Rgb,
        noise: ValueNoise,
        scale: f32,
    },
}

/// A band of colour just inside the shape's border.
#[derive(Clone, Debug, PartialEq)]
pub struct Outline {
    pub color: Rgb,
    /// Width in pixels.
    pub width: f32,
}

/// A soft brightness gradient whose direction turns slowly over time.
#[derive(Clone, Debug, PartialEq)]
pub struct Shading {
    pub strength: f32,
    pub angle: f32,
    /// Radians per frame.
    pub drift: f32,
}

/// An instance's appearance, fixed for its life.
#[derive(Clone, Debug, PartialEq)]
pub struct Fill {
    pub pattern: Pattern,
    pub outline: Option<Outline>,
    pub shading: Option<Shading>,
}

impl Fill {
    pub fn solid(c: Rgb) -> Self {
        Self { pattern: Pattern::Solid(c), outline: None, shading: None }
    }

    /// A random fill of any kind; `avoid` is a colour it should stand out from (the
    /// background's mean), though not always: some instances are meant to be hard to see.
    pub fn random(rng: &mut impl Rng, avoid: Rgb, decorate: bool, styles: Styles) -> Self {
        let a = if rng.random_bool(0.85) { color::contrasting(rng, avoid) } else { color::random(rng) };
        let b = color::contrasting(rng, a);
        let angle = rng.random_range(0.0..std::f32::consts::TAU);
        let pattern = match styles.fill_kind(rng) {
            0 => Pattern::Solid(a),
            1 => Pattern::Stripes { a, b, period: rng.random_range(0.25..0.8), angle },
            2 => Pattern::Checker { a, b, cell: rng.random_range(0.2..0.6), angle },
            3 => Pattern::Linear { a, b, angle },
            4 => Pattern::Radial {
                a,
                b,
                center: [rng.random_range(-0.5..0.5), rng.random_range(-0.5..0.5)],
                reach: rng.random_range(0.8..1.6),
            },
            _ => Pattern::Noise { a, b, noise: ValueNoise::new(rng.random()), scale: rng.random_range(1.5..5.0) },
        };
        let outline = (decorate && rng.random_bool(0.3)).then(|| Outline {
            color: if rng.random_bool(0.5) { color::scale(a, 0.35) } else { color::random(rng) },
            width: rng.random_range(1.0..3.5),
        });
        let shading = (decorate && rng.random_bool(0.4)).then(|| Shading {
            strength: rng.random_range(0.1..0.35),
            angle: rng.random_range(0.0..std::f32::consts::TAU),
            drift: rng.random_range(-0.035..0.035),
        });
        Self { pattern, outline, shading }
    }

    /// A representative colour (for picking contrasting colours).
    pub fn mean(&self) -> Rgb {
        match &self.pattern {
            Pattern::Solid(c) => *c,
            Pattern::Stripes { a, b, .. }
            | Pattern::Checker { a, b, .. }
            | Pattern::Linear { a, b, .. }
            | Pattern::Radial { a, b, .. }
            | Pattern::Noise { a, b, .. } => color::lerp(*a, *b, 0.5),
        }
    }

    /// The colour at local point (u, v) of frame `t`. `px_per_unit` is the instance's radius in
    /// pixels (for anti-aliased stripes); `inside_px` is how far inside the border the point is.
    #[inline]
    pub fn color(&self, u: f32, v: f32, t: usize, px_per_unit: f32, inside_px: f32) -> Rgb {
        let mut c = match &self.pattern {
            Pattern::Solid(c) => *c,
            Pattern::Stripes { a, b, period, angle } => {
                let s = (u * angle.cos() + v * angle.sin()) / period;
                let f = s - s.floor();
                // Distance to the nearest stripe edge, in pixels, gives a soft edge about 2 pixels wide.
                let edge = (f.min(1.0 - f).min((f - 0.5).abs())) * period * px_per_unit;
                let hard = if f < 0.5 { 0.0 } else { 1.0 };
                let soft = edge.min(1.0);
                let t = hard * soft + 0.5 * (1.0 - soft);
                color::lerp(*a, *b, t)
            }
            Pattern::Checker { a, b, cell, angle } => {
                let (s, co) = angle.sin_cos();
                let x = ((u * co + v * s) / cell).floor() as i32;
                let y = ((v * co - u * s) / cell).floor() as i32;
                if (x + y) & 1 == 0 { *a } else { *b }
            }
            Pattern::Linear { a, b, angle } => {
                let s = (u * angle.cos() + v * angle.sin()) * 0.5 + 0.5;
                color::lerp(*a, *b, s.clamp(0.0, 1.0))
            }
            Pattern::Radial { a, b, center, reach } => {
                let d = ((u - center[0]).powi(2) + (v - center[1]).powi(2)).sqrt() / reach;
                color::lerp(*a, *b, d.clamp(0.0, 1.0))
            }
            Pattern::Noise { a, b, noise, scale } => {
                let n = noise.fractal(u * scale + 50.0, v * scale + 50.0, 3);
                color::lerp(*a, *b, ((n - 0.5) * 2.2 + 0.5).clamp(0.0, 1.0))
            }
        };
        if let Some(s) = &self.shading {
            let ang = s.angle + s.drift * t as f32;
            let f = 1.0 + s.strength * (u * ang.cos() + v * ang.sin());
            c = color::scale(c, f);
        }
        if let Some(o) = &self.outline {
            let k = (inside_px - o.width + 0.5).clamp(0.0, 1.0);
            c = color::lerp(o.color, c, k);
        }
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn fills_are_deterministic_and_cover_every_kind() {
        let mut r1 = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut r2 = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        let mut kinds = std::collections::HashSet::new();
        for _ in 0..200 {
            let f = Fill::random(&mut r1, [0.0; 3], true, Styles::All);
            assert_eq!(f, Fill::random(&mut r2, [0.0; 3], true, Styles::All));
            kinds.insert(std::mem::discriminant(&f.pattern));
            let c = f.color(0.3, -0.2, 4, 40.0, 10.0);
            assert!(c.iter().all(|x| x.is_finite()));
        }
        assert_eq!(kinds.len(), 6);
    }

    #[test]
    fn outline_paints_the_border_only() {
        let mut f = Fill::solid([200.0, 0.0, 0.0]);
        f.outline = Some(Outline { color: [0.0, 0.0, 255.0], width: 2.0 });
        assert_eq!(f.color(0.0, 0.0, 0, 50.0, 0.2), [0.0, 0.0, 255.0]);
        assert_eq!(f.color(0.0, 0.0, 0, 50.0, 10.0), [200.0, 0.0, 0.0]);
    }
}
