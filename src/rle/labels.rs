//! One-pass RLE encoding of every id in a label image.

use std::collections::BTreeMap;

use super::{Rle, RleError};

/// Per-id state while walking the image: runs so far and where the last run of ones ended.
struct Builder {
    counts: Vec<u32>,
    end: usize,
}

/// Encodes a **row-major** label image (`labels[y * width + x]`) into one RLE per id other than
/// `background`, in one column-major pass over the pixels (cost O(h·w + total runs)).
/// The result is ordered by id.
pub fn encode_label_map<T: Copy + Ord>(
    height: u32,
    width: u32,
    labels: &[T],
    background: T,
) -> Result<BTreeMap<T, Rle>, RleError> {
    let n = u64::from(height) * u64::from(width);
    if n != labels.len() as u64 || n > u64::from(u32::MAX) {
        return Err(RleError::MaskSize { height, width, len: labels.len() });
    }
    let (h, w) = (height as usize, width as usize);
    let n = labels.len();
    let mut builders: BTreeMap<T, Builder> = BTreeMap::new();
    let mut close = |id: T, start: usize, end: usize| {
        if id != background {
            let b = builders.entry(id).or_insert_with(|| Builder { counts: Vec::new(), end: 0 });
            b.counts.push((start - b.end) as u32);
            b.counts.push((end - start) as u32);
            b.end = end;
        }
    };
    // Column-major walk over the row-major image (nested loops, no division per pixel: a
    // column's rows stay in cache for the next columns); runs of one label close on change.
    if let Some(&first) = labels.first() {
        let (mut id, mut start, mut i) = (first, 0, 0);
        for x in 0..w {
            for y in 0..h {
                let v = labels[y * w + x];
                if v != id {
                    close(id, start, i);
                    (id, start) = (v, i);
                }
                i += 1;
            }
        }
        close(id, start, n);
    }
    Ok(builders
        .into_iter()
        .map(|(id, mut b)| {
            if b.end < n {
                b.counts.push((n - b.end) as u32); // trailing zeros, as the mask encoder does
            }
            (id, Rle { height, width, counts: b.counts })
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_per_id_masks() {
        // 3 rows × 4 columns, row-major.
        #[rustfmt::skip]
        let labels: [u16; 12] = [
            0, 1, 1, 2,
            0, 1, 2, 2,
            3, 0, 0, 2,
        ];
        let rles = encode_label_map(3, 4, &labels, 0).expect("encode");
        assert_eq!(rles.keys().copied().collect::<Vec<_>>(), vec![1, 2, 3]);
        for (id, rle) in &rles {
            let mask: Vec<u8> = labels.iter().map(|&l| u8::from(l == *id)).collect();
            assert_eq!(rle, &Rle::from_mask(3, 4, &mask).expect("mask"), "id {id}");
        }
    }

    #[test]
    fn wrong_length_is_an_error() {
        assert!(encode_label_map(2, 2, &[0u8; 3], 0).is_err());
    }
}
