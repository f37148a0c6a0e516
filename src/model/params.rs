//! The model's post-processing parameters (`ifa.post`) and reference policy (`ifa.refs`): read
//! from the model by `infer::contract`, used by the engine (which frames to keep and feed) and
//! by the assembly (how to detect and match).

use serde::Deserialize;

/// Which earlier frames serve as references (`ifa.refs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RefsPolicy {
    /// Most references in all, first frame included.
    pub count: usize,
    pub first_frame: bool,
    pub step: usize,
}

/// Post-processing defaults (`ifa.post`).
#[derive(Clone, Copy, Debug, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostParams {
    pub center_threshold: f32,
    /// Max-pool kernel in stride-4 cells (odd).
    pub nms_kernel: usize,
    pub top_k: usize,
    /// In input pixels.
    pub match_distance: f32,
    /// In stride-4 cells.
    pub min_pixels: usize,
}

impl Default for PostParams {
    fn default() -> Self {
        Self { center_threshold: 0.1, nms_kernel: 7, top_k: 32, match_distance: 24.0, min_pixels: 4 }
    }
}
