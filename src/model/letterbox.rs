//! The letterbox geometry of the model contract: a video frame is scaled with its aspect ratio
//! kept to the largest size that fits the model's input and placed top-left. Pre-processing
//! resamples through it; id maps and overlays map positions back through it.

/// The geometry that maps video pixels to input pixels and back.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Letterbox {
    pub video_w: u32,
    pub video_h: u32,
    pub input_w: usize,
    pub input_h: usize,
    /// `s = min(H / h, W / w)`: input pixels per video pixel.
    pub scale: f64,
    /// Size of the resized picture inside the input (the rest is padding).
    pub content_w: usize,
    pub content_h: usize,
}

impl Letterbox {
    pub fn new(video_w: u32, video_h: u32, input_w: usize, input_h: usize) -> Self {
        let (vw, vh) = (f64::from(video_w.max(1)), f64::from(video_h.max(1)));
        let scale = (input_h as f64 / vh).min(input_w as f64 / vw);
        let content_w = ((vw * scale).round() as usize).clamp(1, input_w);
        let content_h = ((vh * scale).round() as usize).clamp(1, input_h);
        Self { video_w, video_h, input_w, input_h, scale, content_w, content_h }
    }

    /// Input pixels per video pixel along x and y (`content / video`, ≈ `scale`).
    pub fn axis_scales(&self) -> (f64, f64) {
        (self.content_w as f64 / f64::from(self.video_w.max(1)), self.content_h as f64 / f64::from(self.video_h.max(1)))
    }

    /// Input coordinates (y, x) of video coordinates (pixel centres at integers).
    #[inline]
    pub fn to_input(&self, y: f64, x: f64) -> (f64, f64) {
        let (sx, sy) = self.axis_scales();
        ((y + 0.5) * sy - 0.5, (x + 0.5) * sx - 0.5)
    }

    /// Video coordinates (y, x) of input coordinates.
    #[inline]
    pub fn to_video(&self, y: f64, x: f64) -> (f64, f64) {
        let (sx, sy) = self.axis_scales();
        ((y + 0.5) / sy - 0.5, (x + 0.5) / sx - 0.5)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn letterbox_keeps_aspect_and_sits_top_left() {
        let lb = Letterbox::new(640, 360, 320, 192);
        assert!((lb.scale - 0.5).abs() < 1e-12);
        assert_eq!((lb.content_w, lb.content_h), (320, 180));
        let lb = Letterbox::new(100, 400, 320, 192);
        assert_eq!((lb.content_w, lb.content_h), (48, 192));
        let (y, x) = lb.to_input(21.0, 37.0);
        let (y, x) = lb.to_video(y, x);
        assert!((y - 21.0).abs() < 1e-9 && (x - 37.0).abs() < 1e-9);
    }
}
