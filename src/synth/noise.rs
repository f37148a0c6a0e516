//! Smooth value noise, keyed so that every texture of every video is its own, reproducibly.

/// 2-D value noise on the integer lattice, smoothly interpolated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ValueNoise {
    key: u64,
}

/// SplitMix64 finaliser: a cheap, well-mixed hash of one word.
#[inline]
fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl ValueNoise {
    pub fn new(key: u64) -> Self {
        Self { key: mix(key ^ 0x9e37_79b9_7f4a_7c15) }
    }

    /// The lattice value at (x, y), in [0, 1).
    #[inline]
    fn lattice(&self, x: i32, y: i32) -> f32 {
        let h = mix(self.key ^ (x as u32 as u64) ^ ((y as u32 as u64) << 32));
        (h >> 40) as f32 / (1u64 << 24) as f32
    }

    /// Noise at (x, y) in lattice units, in [0, 1).
    #[inline]
    pub fn sample(&self, x: f32, y: f32) -> f32 {
        let (xf, yf) = (x.floor(), y.floor());
        let (fx, fy) = (x - xf, y - yf);
        let (xi, yi) = (xf as i32, yf as i32);
        let sx = fx * fx * (3.0 - 2.0 * fx);
        let sy = fy * fy * (3.0 - 2.0 * fy);
        let a = self.lattice(xi, yi);
        let b = self.lattice(xi + 1, yi);
        let c = self.lattice(xi, yi + 1);
        let d = self.lattice(xi + 1, yi + 1);
        let top = a + (b - a) * sx;
        let bottom = c + (d - c) * sx;
        top + (bottom - top) * sy
    }

    /// Sum of `octaves` octaves (each half the size and weight of the last), in [0, 1).
    pub fn fractal(&self, x: f32, y: f32, octaves: u32) -> f32 {
        let (mut sum, mut norm, mut amp, mut freq) = (0.0, 0.0, 1.0, 1.0);
        for o in 0..octaves {
            // Offset each octave so that lattice points of different octaves do not line up.
            let off = o as f32 * 17.31;
            sum += amp * self.sample(x * freq + off, y * freq - off);
            norm += amp;
            amp *= 0.5;
            freq *= 2.0;
        }
        sum / norm
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn noise_is_bounded_smooth_and_keyed() {
        let n = ValueNoise::new(7);
        let mut max_step: f32 = 0.0;
        for i in 0..1000 {
            let x = i as f32 * 0.01;
            let v = n.fractal(x, 3.3, 4);
            assert!((0.0..1.0).contains(&v));
            max_step = max_step.max((n.sample(x + 0.01, 1.5) - n.sample(x, 1.5)).abs());
        }
        assert!(max_step < 0.05, "value noise must be continuous, step {max_step}");
        assert_eq!(n.sample(2.5, 1.25), ValueNoise::new(7).sample(2.5, 1.25));
        assert_ne!(n.sample(2.5, 1.25), ValueNoise::new(8).sample(2.5, 1.25));
    }
}
