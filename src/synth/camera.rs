//! The camera: a global pan and gentle zoom applied to everything, the background included.
//!
//! World coordinates equal screen pixels at frame 0. A camera pose maps a world point `w` to the
//! screen as `(w - center) * zoom + frame_center`.

use rand::Rng;

/// Where the camera looks in one frame.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CameraPose {
    pub center: [f32; 2],
    /// >= 1: the camera only zooms in, so the prepared background always covers the view.
    pub zoom: f32,
}

/// The camera of a whole video.
#[derive(Clone, Debug, PartialEq)]
pub struct CameraPath {
    width: f32,
    height: f32,
    poses: Vec<CameraPose>,
}

/// Largest zoom change per frame (relative); keeps apparent size changes gentle.
pub const MAX_ZOOM_RATE: f32 = 0.004;
/// Largest pan per frame, as a fraction of the frame's long side (spec: 2%).
pub const MAX_PAN: f32 = 0.02;

impl CameraPath {
    /// A camera that never moves.
    pub fn still(width: u32, height: u32, frames: usize) -> Self {
        let pose = CameraPose { center: [width as f32 / 2.0, height as f32 / 2.0], zoom: 1.0 };
        Self { width: width as f32, height: height as f32, poses: vec![pose; frames] }
    }

    /// A camera that pans (when `pan`) with a slowly turning velocity, staying within a band
    /// around its start, and zooms (when `zoom`) in and out smoothly.
    pub fn random(rng: &mut impl Rng, width: u32, height: u32, frames: usize, pan: bool, zoom: bool) -> Self {
        let (w, h) = (width as f32, height as f32);
        let long = w.max(h);
        let mut center = [w / 2.0, h / 2.0];
        let speed = if pan { rng.random_range(0.003..MAX_PAN) * long } else { 0.0 };
        let mut heading = rng.random_range(0.0..std::f32::consts::TAU);
        let turn = rng.random_range(-0.02..0.02f32);
        let zoom_amp = if zoom { rng.random_range(0.05..0.25f32) } else { 0.0 };
        // Period long enough that the zoom rate stays under MAX_ZOOM_RATE.
        let min_period = (zoom_amp * std::f32::consts::PI / MAX_ZOOM_RATE).max(60.0);
        let period = rng.random_range(min_period..min_period * 2.0);
        let phase = rng.random_range(0.0..std::f32::consts::TAU);
        let (bx, by) = (0.3 * w, 0.3 * h);
        let mut poses = Vec::with_capacity(frames);
        for t in 0..frames {
            let z = 1.0 + zoom_amp * 0.5 * (1.0 - (std::f32::consts::TAU * t as f32 / period + phase).cos());
            poses.push(CameraPose { center, zoom: z });
            heading += turn;
            let mut v = [speed * heading.cos(), speed * heading.sin()];
            // Turn back at the edge of the band so the background stays a bounded picture.
            if (center[0] - w / 2.0 > bx && v[0] > 0.0) || (w / 2.0 - center[0] > bx && v[0] < 0.0) {
                v[0] = -v[0];
            }
            if (center[1] - h / 2.0 > by && v[1] > 0.0) || (h / 2.0 - center[1] > by && v[1] < 0.0) {
                v[1] = -v[1];
            }
            heading = v[1].atan2(v[0]);
            center = [center[0] + v[0], center[1] + v[1]];
        }
        Self { width: w, height: h, poses }
    }

    pub fn len(&self) -> usize {
        self.poses.len()
    }

    pub fn is_empty(&self) -> bool {
        self.poses.is_empty()
    }

    pub fn pose(&self, t: usize) -> CameraPose {
        self.poses[t.min(self.poses.len().saturating_sub(1))]
    }

    /// World point to screen point at frame `t`.
    #[inline]
    pub fn to_screen(&self, t: usize, w: [f32; 2]) -> [f32; 2] {
        let p = self.pose(t);
        [(w[0] - p.center[0]) * p.zoom + self.width / 2.0, (w[1] - p.center[1]) * p.zoom + self.height / 2.0]
    }

    /// Screen point to world point at frame `t`.
    #[inline]
    pub fn to_world(&self, t: usize, s: [f32; 2]) -> [f32; 2] {
        let p = self.pose(t);
        [(s[0] - self.width / 2.0) / p.zoom + p.center[0], (s[1] - self.height / 2.0) / p.zoom + p.center[1]]
    }

    /// Largest zoom over the video.
    pub fn max_zoom(&self) -> f32 {
        self.poses.iter().map(|p| p.zoom).fold(1.0, f32::max)
    }

    /// Largest apparent motion of a world point that stays inside the frame, in pixels per
    /// frame (pan plus the zoom's spread at the frame corners).
    pub fn max_flow(&self) -> f32 {
        let corners = [[0.0, 0.0], [self.width, 0.0], [0.0, self.height], [self.width, self.height]];
        let mut best: f32 = 0.0;
        for t in 1..self.poses.len() {
            for c in corners {
                let w = self.to_world(t - 1, c);
                let s = self.to_screen(t, w);
                best = best.max(((s[0] - c[0]).powi(2) + (s[1] - c[1]).powi(2)).sqrt());
            }
        }
        best
    }

    /// The world rectangle (x0, y0, x1, y1) seen at any frame.
    pub fn world_extent(&self) -> [f32; 4] {
        let mut e = [f32::MAX, f32::MAX, f32::MIN, f32::MIN];
        for t in 0..self.poses.len() {
            for c in [[0.0, 0.0], [self.width, self.height]] {
                let w = self.to_world(t, c);
                e = [e[0].min(w[0]), e[1].min(w[1]), e[2].max(w[0]), e[3].max(w[1])];
            }
        }
        e
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::SeedableRng;

    #[test]
    fn camera_moves_within_limits() {
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(9);
        for _ in 0..20 {
            let cam = CameraPath::random(&mut rng, 640, 360, 200, true, true);
            assert!(cam.max_flow() <= MAX_PAN * 640.0 + MAX_ZOOM_RATE * 1.3 * 367.0 + 0.5);
            for t in 1..cam.len() {
                let r = cam.pose(t).zoom / cam.pose(t - 1).zoom;
                assert!((r - 1.0).abs() <= MAX_ZOOM_RATE * 1.01);
                assert!(cam.pose(t).zoom >= 1.0);
            }
            let w = [100.0, 50.0];
            let s = cam.to_screen(37, w);
            let back = cam.to_world(37, s);
            assert!((back[0] - w[0]).abs() < 1e-3 && (back[1] - w[1]).abs() < 1e-3);
            let e = cam.world_extent();
            assert!(e[2] - e[0] < 640.0 * 1.7 && e[3] - e[1] < 360.0 * 1.7);
        }
    }
}
