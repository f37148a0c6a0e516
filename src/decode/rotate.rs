//! Applying a stream's display rotation to RGB pixels.

use crate::frame::RgbFrame;

/// Rotates clockwise by `degrees` (0, 90, 180 or 270; anything else is left as is).
pub fn rotate_clockwise(frame: RgbFrame, degrees: i32) -> RgbFrame {
    let (w, h) = (frame.width as usize, frame.height as usize);
    let src = &frame.data;
    match degrees.rem_euclid(360) {
        90 => {
            // Output is h wide and w tall; out(x', y') = in(x = y', y = h-1-x').
            let mut out = vec![0u8; src.len()];
            for y in 0..h {
                for x in 0..w {
                    let (ox, oy) = (h - 1 - y, x);
                    let s = (y * w + x) * 3;
                    let d = (oy * h + ox) * 3;
                    out[d..d + 3].copy_from_slice(&src[s..s + 3]);
                }
            }
            RgbFrame { width: h as u32, height: w as u32, data: out }
        }
        180 => {
            let mut out = vec![0u8; src.len()];
            for (i, px) in src.chunks_exact(3).enumerate() {
                let d = (w * h - 1 - i) * 3;
                out[d..d + 3].copy_from_slice(px);
            }
            RgbFrame { width: w as u32, height: h as u32, data: out }
        }
        270 => {
            let mut out = vec![0u8; src.len()];
            for y in 0..h {
                for x in 0..w {
                    let (ox, oy) = (y, w - 1 - x);
                    let s = (y * w + x) * 3;
                    let d = (oy * h + ox) * 3;
                    out[d..d + 3].copy_from_slice(&src[s..s + 3]);
                }
            }
            RgbFrame { width: h as u32, height: w as u32, data: out }
        }
        _ => frame,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn numbered(w: u32, h: u32) -> RgbFrame {
        let data = (0..w * h).flat_map(|i| [i as u8, 0, 0]).collect();
        RgbFrame { width: w, height: h, data }
    }

    #[test]
    fn quarter_turns() {
        // 3x2: [0 1 2 / 3 4 5]
        let f = numbered(3, 2);
        let r = rotate_clockwise(f.clone(), 90);
        assert_eq!((r.width, r.height), (2, 3));
        // Clockwise: first row becomes [3 0]
        assert_eq!(r.pixel(0, 0)[0], 3);
        assert_eq!(r.pixel(1, 0)[0], 0);
        assert_eq!(r.pixel(1, 2)[0], 2);
        let back = rotate_clockwise(rotate_clockwise(r, 180), 90);
        assert_eq!(back, f);
        assert_eq!(rotate_clockwise(rotate_clockwise(f.clone(), 180), 180), f);
        assert_eq!(rotate_clockwise(f.clone(), 0), f);
    }
}
