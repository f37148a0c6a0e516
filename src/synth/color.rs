//! Colours as floating-point RGB in 0..=255, and random colour choices.

use rand::Rng;

/// An RGB colour with channels in 0..=255.
pub type Rgb = [f32; 3];

#[inline]
pub fn lerp(a: Rgb, b: Rgb, t: f32) -> Rgb {
    [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t]
}

#[inline]
pub fn scale(c: Rgb, f: f32) -> Rgb {
    [c[0] * f, c[1] * f, c[2] * f]
}

/// HSV (hue in turns, saturation and value in 0..=1) to RGB.
pub fn hsv(h: f32, s: f32, v: f32) -> Rgb {
    let h6 = (h.rem_euclid(1.0)) * 6.0;
    let i = h6.floor();
    let f = h6 - i;
    let (p, q, t) = (v * (1.0 - s), v * (1.0 - s * f), v * (1.0 - s * (1.0 - f)));
    let (r, g, b) = match i as u32 {
        0 => (v, t, p),
        1 => (q, v, p),
        2 => (p, v, t),
        3 => (p, q, v),
        4 => (t, p, v),
        _ => (v, p, q),
    };
    [r * 255.0, g * 255.0, b * 255.0]
}

/// Any colour: every hue, from greyish to saturated, from dark to bright.
pub fn random(rng: &mut impl Rng) -> Rgb {
    hsv(rng.random::<f32>(), rng.random_range(0.0..1.0f32).sqrt(), rng.random_range(0.15..1.0))
}

/// A colour clearly different in brightness or hue from `other`.
pub fn contrasting(rng: &mut impl Rng, other: Rgb) -> Rgb {
    let mut best = random(rng);
    for _ in 0..8 {
        if distance(best, other) > 90.0 {
            break;
        }
        best = random(rng);
    }
    best
}

pub fn distance(a: Rgb, b: Rgb) -> f32 {
    ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2) + (a[2] - b[2]).powi(2)).sqrt()
}

#[inline]
pub fn to_u8(c: Rgb) -> [u8; 3] {
    // Saturating float-to-int casts make the +0.5 rounding safe at 255.
    [(c[0].max(0.0) + 0.5) as u8, (c[1].max(0.0) + 0.5) as u8, (c[2].max(0.0) + 0.5) as u8]
}
