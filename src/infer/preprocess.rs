//! Letterbox and normalisation: a video frame becomes the model's `image` input.
//!
//! The frame is resized with its aspect ratio kept (2-tap bilinear, half-pixel centres, no
//! antialiasing: PyTorch's `interpolate(size=…, align_corners=False)`, which the training
//! package's `letterbox.py` uses) to the largest size that fits the input, placed top-left; the
//! rest stays 0 in normalised space (the mean colour). Like PyTorch, each axis uses its own ratio
//! `content / video` (equal to `s` up to the rounding of the content size). Source indices and
//! weights are computed once per video size, and the output buffer is reused.

use crate::frame::RgbFrame;
use crate::model::Letterbox;

/// One output pixel's two source taps along one axis.
#[derive(Clone, Copy, Debug)]
struct Tap {
    i0: usize,
    i1: usize,
    w1: f32,
}

fn taps(dst_len: usize, src_len: usize) -> Vec<Tap> {
    let last = src_len.saturating_sub(1);
    let ratio = src_len as f64 / dst_len.max(1) as f64;
    (0..dst_len)
        .map(|d| {
            let s = ((d as f64 + 0.5) * ratio - 0.5).clamp(0.0, last as f64);
            let i0 = (s.floor() as usize).min(last);
            let i1 = (i0 + 1).min(last);
            Tap { i0, i1, w1: (s - i0 as f64) as f32 }
        })
        .collect()
}

/// Turns frames of one size into normalised CHW `float32` input.
#[derive(Clone, Debug)]
pub struct Preprocessor {
    letterbox: Letterbox,
    cols: Vec<Tap>,
    rows: Vec<Tap>,
    /// `x * gain[c] + bias[c]` = `(x / 255 - mean) / std`.
    gain: [f32; 3],
    bias: [f32; 3],
    /// One horizontally resized source row (3 interleaved channels) per tap row, reused.
    row0: Vec<f32>,
    row1: Vec<f32>,
}

impl Preprocessor {
    pub fn new(video_w: u32, video_h: u32, input_w: usize, input_h: usize, mean: [f32; 3], std: [f32; 3]) -> Self {
        let letterbox = Letterbox::new(video_w, video_h, input_w, input_h);
        let cols = taps(letterbox.content_w, video_w.max(1) as usize);
        let rows = taps(letterbox.content_h, video_h.max(1) as usize);
        let gain = std::array::from_fn(|c| 1.0 / (255.0 * std[c]));
        let bias = std::array::from_fn(|c| -mean[c] / std[c]);
        let n = letterbox.content_w * 3;
        Self { letterbox, cols, rows, gain, bias, row0: vec![0.0; n], row1: vec![0.0; n] }
    }

    pub fn letterbox(&self) -> &Letterbox {
        &self.letterbox
    }

    /// Length of the output buffer: `3 * H * W`.
    pub fn output_len(&self) -> usize {
        3 * self.letterbox.input_h * self.letterbox.input_w
    }

    /// Whether frames of this size can go through this pre-processor.
    pub fn fits(&self, frame: &RgbFrame) -> bool {
        frame.width == self.letterbox.video_w
            && frame.height == self.letterbox.video_h
            && frame.data.len() == frame.width as usize * frame.height as usize * 3
    }

    /// Writes the normalised input into `out` (`output_len()` floats, CHW); `false` (and `out`
    /// untouched) when the frame's size does not match.
    pub fn run(&mut self, frame: &RgbFrame, out: &mut [f32]) -> bool {
        if !self.fits(frame) || out.len() != self.output_len() {
            return false;
        }
        let lb = self.letterbox;
        let plane = lb.input_h * lb.input_w;
        // Padding is 0 in normalised space; only the content area is rewritten below.
        if lb.content_w < lb.input_w || lb.content_h < lb.input_h {
            out.fill(0.0);
        }
        let stride = frame.width as usize * 3;
        let mut cached = [usize::MAX, usize::MAX];
        for (y, tap) in self.rows.iter().enumerate() {
            // Horizontal pass per source row, cached: consecutive output rows share source rows.
            for (slot, src_row) in [(0, tap.i0), (1, tap.i1)] {
                if cached[slot] == src_row {
                    continue;
                }
                if cached[1 - slot] == src_row {
                    let (a, b) = (&mut self.row0, &mut self.row1);
                    if slot == 0 { a.copy_from_slice(b) } else { b.copy_from_slice(a) }
                } else {
                    let src = &frame.data[src_row * stride..(src_row + 1) * stride];
                    let dst = if slot == 0 { &mut self.row0 } else { &mut self.row1 };
                    horizontal(src, &self.cols, dst);
                }
                cached[slot] = src_row;
            }
            let w1 = tap.w1;
            let w0 = 1.0 - w1;
            for c in 0..3 {
                let dst = &mut out[c * plane + y * lb.input_w..c * plane + y * lb.input_w + lb.content_w];
                let (g, b) = (self.gain[c], self.bias[c]);
                for (x, d) in dst.iter_mut().enumerate() {
                    let v = self.row0[x * 3 + c] * w0 + self.row1[x * 3 + c] * w1;
                    *d = v * g + b;
                }
            }
        }
        true
    }
}

fn horizontal(src: &[u8], cols: &[Tap], dst: &mut [f32]) {
    for (x, t) in cols.iter().enumerate() {
        let (a, b) = (t.i0 * 3, t.i1 * 3);
        let w0 = 1.0 - t.w1;
        for c in 0..3 {
            dst[x * 3 + c] = f32::from(src[a + c]) * w0 + f32::from(src[b + c]) * t.w1;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_frame_becomes_uniform_content_and_zero_padding() {
        let mut f = RgbFrame::new(64, 36);
        for p in f.data.chunks_mut(3) {
            p.copy_from_slice(&[255, 128, 0]);
        }
        let (mean, std) = ([0.5, 0.5, 0.5], [0.25, 0.5, 1.0]);
        let mut pre = Preprocessor::new(64, 36, 32, 32, mean, std);
        let mut out = vec![9.0; pre.output_len()];
        assert!(pre.run(&f, &mut out));
        let plane = 32 * 32;
        // content is 32x18
        let expect = [(1.0 - 0.5) / 0.25, (128.0 / 255.0 - 0.5) / 0.5, -0.5];
        for c in 0..3 {
            for y in 0..32 {
                for x in 0..32 {
                    let v = out[c * plane + y * 32 + x];
                    let want = if y < 18 { expect[c] } else { 0.0 };
                    assert!((v - want).abs() < 1e-5, "c{c} y{y} x{x}: {v} vs {want}");
                }
            }
        }
        assert!(!pre.run(&RgbFrame::new(10, 10), &mut out), "size mismatch is refused");
    }

    #[test]
    fn bilinear_matches_a_direct_computation() {
        let (w, h) = (37u32, 23u32);
        let data: Vec<u8> = (0..w * h * 3).map(|i| ((i * 7919) % 251) as u8).collect();
        let f = RgbFrame::from_raw(w, h, data).expect("size");
        let mut pre = Preprocessor::new(w, h, 64, 32, [0.0; 3], [1.0 / 255.0; 3]);
        let mut out = vec![0.0; pre.output_len()];
        assert!(pre.run(&f, &mut out));
        let lb = *pre.letterbox();
        for y in 0..lb.content_h {
            for x in 0..lb.content_w {
                let (sy, sx) = lb.to_video(y as f64, x as f64);
                let (sy, sx) = (sy.clamp(0.0, f64::from(h - 1)), sx.clamp(0.0, f64::from(w - 1)));
                let (y0, x0) = (sy.floor() as u32, sx.floor() as u32);
                let (y1, x1) = ((y0 + 1).min(h - 1), (x0 + 1).min(w - 1));
                let (wy, wx) = (sy - f64::from(y0), sx - f64::from(x0));
                for c in 0..3 {
                    let p = |xx: u32, yy: u32| f64::from(f.pixel(xx, yy)[c]);
                    let top = p(x0, y0) * (1.0 - wx) + p(x1, y0) * wx;
                    let bot = p(x0, y1) * (1.0 - wx) + p(x1, y1) * wx;
                    let want = top * (1.0 - wy) + bot * wy;
                    let got = f64::from(out[c * 64 * 32 + y * 64 + x]);
                    assert!((got - want).abs() < 1e-3, "({y},{x},{c}): {got} vs {want}");
                }
            }
        }
    }
}
