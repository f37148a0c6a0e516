//! COCO run-length encoding (RLE) of binary masks, compatible with `pycocotools`.
//!
//! Layout, as in COCO: an `height × width` mask is flattened **column-major** (pixel `(y, x)` has
//! linear index `x * height + y`), and [`Rle::counts`] holds alternating run lengths that start
//! with a run of zeros (possibly of length 0) and sum to `height * width`.
//!
//! Callers usually hold row-major images; [`Rle::from_mask`] and [`Rle::to_mask`] take and give
//! row-major `h * w` slices (index `y * width + x`) and do the transposition. For a whole label
//! image (one id per pixel) use [`encode_label_map`], which produces the RLEs of every id in one
//! pass. The JSON form `{"size":[h,w],"counts":"…"|[…]}` comes through serde (see [`RleJson`]).

mod compress;
mod json;
mod labels;
mod mask;
mod merge;
#[cfg(test)]
mod proptests;

pub use compress::{compress_counts, decompress_counts};
pub use json::{CountsJson, RleJson};
pub use labels::encode_label_map;

/// Why an RLE could not be built or read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum RleError {
    #[error("mask has {len} values, expected height {height} × width {width}")]
    MaskSize { height: u32, width: u32, len: usize },
    #[error("RLE run lengths sum to {sum}, expected height {height} × width {width} = {expected}")]
    CountsSum { height: u32, width: u32, sum: u64, expected: u64 },
    #[error("compressed RLE string is malformed: {0}")]
    BadString(&'static str),
}

/// A COCO run-length encoded binary mask. The counts always sum to `height * width`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Rle {
    height: u32,
    width: u32,
    counts: Vec<u32>,
}

impl Rle {
    /// Builds an RLE from column-major run lengths (first run = zeros); checks that they sum to
    /// `height * width`. Runs of length 0 are kept as given (COCO keeps them too).
    pub fn from_counts(height: u32, width: u32, mut counts: Vec<u32>) -> Result<Self, RleError> {
        if counts.is_empty() {
            counts.push(0); // a 0-pixel mask: keep the invariant that there is a first run
        }
        let sum: u64 = counts.iter().map(|&c| u64::from(c)).sum();
        let expected = u64::from(height) * u64::from(width);
        if sum != expected {
            return Err(RleError::CountsSum { height, width, sum, expected });
        }
        Ok(Self { height, width, counts })
    }

    /// An all-zero mask.
    pub fn empty(height: u32, width: u32) -> Self {
        let n = u64::from(height) * u64::from(width);
        Self::from_pixel_count(height, width, n, false)
    }

    /// An all-one mask.
    pub fn full(height: u32, width: u32) -> Self {
        let n = u64::from(height) * u64::from(width);
        Self::from_pixel_count(height, width, n, true)
    }

    fn from_pixel_count(height: u32, width: u32, n: u64, ones: bool) -> Self {
        // A mask bigger than u32::MAX pixels cannot be represented by COCO either; such sizes
        // would need > 16 GiB of mask and do not occur, so split into maximal runs to stay valid.
        let mut counts = Vec::new();
        if ones {
            counts.push(0);
        }
        let mut left = n;
        loop {
            let run = left.min(u64::from(u32::MAX));
            counts.push(run as u32);
            left -= run;
            if left == 0 {
                break;
            }
            counts.push(0);
        }
        Self { height, width, counts }
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    /// `(height, width)`.
    pub fn size(&self) -> (u32, u32) {
        (self.height, self.width)
    }

    /// Column-major run lengths, starting with a run of zeros.
    pub fn counts(&self) -> &[u32] {
        &self.counts
    }

    /// Number of set pixels (sum of the odd-indexed runs).
    pub fn area(&self) -> u64 {
        self.counts.iter().skip(1).step_by(2).map(|&c| u64::from(c)).sum()
    }

    /// The COCO compressed string form of the counts.
    pub fn to_compressed_string(&self) -> String {
        compress_counts(&self.counts)
    }

    /// Reads the COCO compressed string form; checks that the runs sum to `height * width`.
    pub fn from_compressed_string(height: u32, width: u32, s: &str) -> Result<Self, RleError> {
        Self::from_counts(height, width, decompress_counts(s)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_and_full() {
        let e = Rle::empty(3, 4);
        assert_eq!(e.counts(), &[12]);
        assert_eq!(e.area(), 0);
        let f = Rle::full(3, 4);
        assert_eq!(f.counts(), &[0, 12]);
        assert_eq!(f.area(), 12);
        assert_eq!(Rle::empty(0, 5).counts(), &[0]);
    }

    #[test]
    fn counts_must_sum_to_size() {
        assert!(Rle::from_counts(2, 2, vec![1, 3]).is_ok());
        assert_eq!(
            Rle::from_counts(2, 2, vec![1, 2]),
            Err(RleError::CountsSum { height: 2, width: 2, sum: 3, expected: 4 })
        );
    }
}
