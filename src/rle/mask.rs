//! Conversions between RLE and plain masks, and the bounding box.

use super::{Rle, RleError};

/// Run-length encodes `n` pixels visited in column-major order through `is_set(i)`.
fn encode_with(height: u32, width: u32, n: usize, is_set: impl Fn(usize) -> bool) -> Rle {
    let mut counts = Vec::new();
    let mut current = false;
    let mut run: u32 = 0;
    for i in 0..n {
        let v = is_set(i);
        if v != current {
            counts.push(run);
            run = 0;
            current = v;
        }
        run += 1;
    }
    counts.push(run);
    Rle { height, width, counts }
}

fn check_len(height: u32, width: u32, len: usize) -> Result<usize, RleError> {
    let n = u64::from(height) * u64::from(width);
    if n != len as u64 || n > u64::from(u32::MAX) {
        return Err(RleError::MaskSize { height, width, len });
    }
    Ok(len)
}

impl Rle {
    /// Encodes a **row-major** mask (`mask[y * width + x]`, nonzero = set).
    pub fn from_mask(height: u32, width: u32, mask: &[u8]) -> Result<Self, RleError> {
        let n = check_len(height, width, mask.len())?;
        let (h, w) = (height as usize, width as usize);
        // Column-major index i = x * h + y reads row-major element y * w + x.
        Ok(encode_with(height, width, n, |i| mask[(i % h) * w + i / h] != 0))
    }

    /// Encodes a **row-major** boolean mask (`mask[y * width + x]`).
    pub fn from_bool_mask(height: u32, width: u32, mask: &[bool]) -> Result<Self, RleError> {
        let n = check_len(height, width, mask.len())?;
        let (h, w) = (height as usize, width as usize);
        Ok(encode_with(height, width, n, |i| mask[(i % h) * w + i / h]))
    }

    /// Encodes a **column-major** mask (`mask[x * height + y]`, nonzero = set), COCO's own order.
    pub fn from_mask_col_major(height: u32, width: u32, mask: &[u8]) -> Result<Self, RleError> {
        let n = check_len(height, width, mask.len())?;
        Ok(encode_with(height, width, n, |i| mask[i] != 0))
    }

    /// Decodes into a **row-major** mask of 0/1 values (`mask[y * width + x]`).
    pub fn to_mask(&self) -> Vec<u8> {
        let (h, w) = (self.height as usize, self.width as usize);
        let mut out = vec![0u8; h * w];
        for (start, end) in self.one_runs() {
            for i in start..end {
                out[(i % h) * w + i / h] = 1;
            }
        }
        out
    }

    /// Decodes into a **column-major** mask of 0/1 values (`mask[x * height + y]`).
    pub fn to_mask_col_major(&self) -> Vec<u8> {
        let mut out = vec![0u8; self.height as usize * self.width as usize];
        for (start, end) in self.one_runs() {
            out[start..end].fill(1);
        }
        out
    }

    /// Column-major `[start, end)` pixel ranges of the runs of ones.
    pub fn one_runs(&self) -> impl Iterator<Item = (usize, usize)> + '_ {
        let mut pos = 0usize;
        self.counts.iter().enumerate().filter_map(move |(j, &c)| {
            let start = pos;
            pos += c as usize;
            (j % 2 == 1 && c > 0).then_some((start, pos))
        })
    }

    /// Tight bounding box `[x, y, w, h]` of the set pixels, or `None` for an empty mask.
    pub fn bbox(&self) -> Option<[u32; 4]> {
        let h = self.height as usize;
        let (mut xs, mut ys, mut xe, mut ye) = (usize::MAX, usize::MAX, 0usize, 0usize);
        let mut any = false;
        for (start, end) in self.one_runs() {
            any = true;
            let (x0, y0) = (start / h, start % h);
            let (x1, y1) = ((end - 1) / h, (end - 1) % h);
            xs = xs.min(x0);
            xe = xe.max(x1);
            if x0 == x1 {
                ys = ys.min(y0);
                ye = ye.max(y1);
            } else {
                // The run wraps past the bottom of a column, so it covers the first and last row.
                ys = 0;
                ye = h - 1;
            }
        }
        any.then(|| [xs as u32, ys as u32, (xe - xs + 1) as u32, (ye - ys + 1) as u32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_example() {
        // 4 rows × 3 columns with (y=1,x=1) and (y=2,x=1) set: column-major runs 5,2,5.
        let mut m = vec![0u8; 12];
        m[3 + 1] = 1;
        m[2 * 3 + 1] = 1;
        let r = Rle::from_mask(4, 3, &m).expect("encode");
        assert_eq!(r.counts(), &[5, 2, 5]);
        assert_eq!(r.to_compressed_string(), "525");
        assert_eq!(r.to_mask(), m);
        assert_eq!(r.bbox(), Some([1, 1, 1, 2]));
    }

    #[test]
    fn wrong_length_is_an_error() {
        assert!(Rle::from_mask(2, 3, &[0; 5]).is_err());
        assert!(Rle::from_bool_mask(2, 3, &[false; 7]).is_err());
    }

    #[test]
    fn first_pixel_set_gives_leading_zero_run() {
        let r = Rle::from_mask(2, 2, &[1, 0, 0, 0]).expect("encode");
        assert_eq!(r.counts(), &[0, 1, 3]);
        assert_eq!(Rle::empty(2, 2).bbox(), None);
    }
}
