//! The network's head outputs for one frame (stride 4 or 2), as the post-processing reads them.

/// Raw head maps of one frame (row-major `h x w` planes). The buffers are reused from frame to
/// frame by the inference engine.
#[derive(Clone, Debug, PartialEq)]
pub struct HeadMaps {
    /// Height and width of the maps.
    pub h: usize,
    pub w: usize,
    /// Input pixels per cell along each axis (one of [`HEAD_STRIDES`]).
    pub stride: usize,
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

impl Default for HeadMaps {
    fn default() -> Self {
        Self {
            h: 0,
            w: 0,
            stride: 4,
            num_classes: 0,
            semantic: Vec::new(),
            center: Vec::new(),
            offset: Vec::new(),
            inter_offset: Vec::new(),
            refs: Vec::new(),
        }
    }
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

    /// Input-pixel position that cell `(i, j)` stands for (the centre of its block).
    #[inline]
    pub fn cell_position(&self, i: usize, j: usize) -> (f32, f32) {
        (cell_center(self.stride, i), cell_center(self.stride, j))
    }
}

// The head's cell geometry, in one place: cell `k` of stride-`s` maps covers input pixels
// sk..sk+s-1, and stands for their centre sk + (s-1)/2 (4k + 1.5 at stride 4, 2k + 0.5 at
// stride 2: what bilinear resizing with half-pixel centres assumes, in training and in the
// graph). `shaders/masks.wgsl` writes the inverse once more (WGSL cannot call Rust);
// `present/mask_paint.rs` derives its bounds from it.

/// The output strides of the head maps the runtime accepts, in input pixels.
pub const HEAD_STRIDES: [usize; 2] = [2, 4];

/// Input coordinate (along one axis) that cell index `k` stands for.
#[inline]
pub fn cell_center(stride: usize, k: usize) -> f32 {
    (stride * k) as f32 + (stride as f32 - 1.0) / 2.0
}

/// Fractional cell coordinate of input coordinate `x`: the inverse of [`cell_center`].
#[inline]
pub fn cell_coord(stride: usize, x: f64) -> f64 {
    (x - (stride as f64 - 1.0) / 2.0) / stride as f64
}

/// The stride of maps `cells` wide for an input `input` wide (4 when either is 0).
#[inline]
pub fn stride_of(input: usize, cells: usize) -> usize {
    if cells == 0 || input == 0 { 4 } else { (input / cells).max(1) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cell_geometry_at_both_strides() {
        // Stride 4: cell k covers input 4k..4k+3, centre 4k + 1.5; stride 2: 2k..2k+1, 2k + 0.5.
        assert_eq!((cell_center(4, 0), cell_center(4, 3)), (1.5, 13.5));
        assert_eq!((cell_center(2, 0), cell_center(2, 3)), (0.5, 6.5));
        for s in HEAD_STRIDES {
            for k in [0usize, 1, 7, 111] {
                assert_eq!(cell_coord(s, f64::from(cell_center(s, k))), k as f64);
            }
        }
        // The stride-4 cell's centre lies halfway between the two stride-2 cells that split it,
        // as bilinear resizing with half-pixel centres assumes.
        for k in [0usize, 5, 60] {
            assert_eq!((cell_center(2, 2 * k) + cell_center(2, 2 * k + 1)) / 2.0, cell_center(4, k));
        }
        assert_eq!((stride_of(448, 112), stride_of(448, 224), stride_of(448, 0)), (4, 2, 4));
        let m = HeadMaps { stride: 2, ..HeadMaps::default() };
        assert_eq!(m.cell_position(1, 2), (2.5, 4.5));
        assert_eq!(HeadMaps::default().stride, 4);
    }
}
