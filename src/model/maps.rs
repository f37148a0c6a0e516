//! The network's stride-4 head outputs for one frame, as the post-processing reads them.

/// Raw head maps of one frame (row-major `h x w` planes). The buffers are reused from frame to
/// frame by the inference engine.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct HeadMaps {
    /// Height and width of the stride-4 maps.
    pub h: usize,
    pub w: usize,
    /// Foreground classes K (the semantic map has K + 1 channels, 0 = background).
    pub num_classes: usize,
    /// `[K + 1, h, w]` class logits.
    pub semantic: Vec<f32>,
    /// `[h, w]` center heatmap after sigmoid.
    pub center: Vec<f32>,
    /// `[2, h, w]` intra-frame offset (dy, dx) in input pixels.
    pub offset: Vec<f32>,
    /// `[L, 2, h, w]` inter-frame offsets, one pair of planes per entry of `refs`.
    pub inter_offset: Vec<f32>,
    /// Frame indices of the references, in the order of `inter_offset` (most recent first, the
    /// first frame last); empty for a video's first frame.
    pub refs: Vec<usize>,
}

impl HeadMaps {
    /// Number of cells in one plane.
    pub fn cells(&self) -> usize {
        self.h * self.w
    }

    /// Whether every buffer has the length its sizes promise.
    pub fn is_consistent(&self) -> bool {
        let n = self.cells();
        self.semantic.len() == (self.num_classes + 1) * n
            && self.center.len() == n
            && self.offset.len() == 2 * n
            && self.inter_offset.len() == 2 * n * self.refs.len()
    }

    /// Input-pixel position that cell `(i, j)` stands for (the centre of its 4x4 block).
    #[inline]
    pub fn cell_position(i: usize, j: usize) -> (f32, f32) {
        (cell_center(i), cell_center(j))
    }
}

// The head's cell geometry, in one place: cell `k` of the stride-4 maps covers input pixels
// 4k..4k+3, and stands for their centre 4k + 1.5. `shaders/masks.wgsl` writes the inverse
// once more (WGSL cannot call Rust); `present/mask_paint.rs` derives its bounds from it.

/// Output stride of the head maps, in input pixels.
pub const HEAD_STRIDE: f32 = 4.0;

/// Input coordinate (along one axis) that cell index `k` stands for.
#[inline]
pub fn cell_center(k: usize) -> f32 {
    HEAD_STRIDE * k as f32 + 1.5
}

/// Fractional cell coordinate of input coordinate `x`: the inverse of [`cell_center`].
#[inline]
pub fn cell_coord(x: f64) -> f64 {
    (x - 1.5) / f64::from(HEAD_STRIDE)
}
