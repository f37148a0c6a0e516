//! Property tests of the RLE operations against a plain row-major mask implementation.

use proptest::prelude::*;

use super::*;

/// A random mask size and two masks of it (biased towards runs so that RLEs are non-trivial).
fn two_masks() -> impl Strategy<Value = (u32, u32, Vec<u8>, Vec<u8>)> {
    (1u32..12, 1u32..12).prop_flat_map(|(h, w)| {
        let n = (h * w) as usize;
        let mask = prop::collection::vec(prop::bool::weighted(0.4).prop_map(u8::from), n);
        (Just(h), Just(w), mask.clone(), mask)
    })
}

fn plain_bbox(h: u32, w: u32, m: &[u8]) -> Option<[u32; 4]> {
    let (mut xs, mut ys, mut xe, mut ye) = (u32::MAX, u32::MAX, 0, 0);
    for y in 0..h {
        for x in 0..w {
            if m[(y * w + x) as usize] != 0 {
                xs = xs.min(x);
                ys = ys.min(y);
                xe = xe.max(x);
                ye = ye.max(y);
            }
        }
    }
    (xs != u32::MAX).then(|| [xs, ys, xe - xs + 1, ye - ys + 1])
}

proptest! {
    #[test]
    fn encode_decode_area_bbox((h, w, a, _b) in two_masks()) {
        let r = Rle::from_mask(h, w, &a).expect("encode");
        prop_assert_eq!(r.to_mask(), a.clone());
        prop_assert_eq!(r.area(), a.iter().filter(|&&v| v != 0).count() as u64);
        prop_assert_eq!(r.bbox(), plain_bbox(h, w, &a));
        // Column-major input of the same mask gives the same RLE.
        let col = r.to_mask_col_major();
        prop_assert_eq!(&Rle::from_mask_col_major(h, w, &col).expect("col"), &r);
        let bools: Vec<bool> = a.iter().map(|&v| v != 0).collect();
        prop_assert_eq!(&Rle::from_bool_mask(h, w, &bools).expect("bool"), &r);
        // Canonical: only the first run may be empty.
        prop_assert!(r.counts().iter().skip(1).all(|&c| c > 0));
        let s = r.to_compressed_string();
        prop_assert_eq!(Rle::from_compressed_string(h, w, &s).expect("string"), r);
    }

    #[test]
    fn merge_matches_plain((h, w, a, b) in two_masks()) {
        let ra = Rle::from_mask(h, w, &a).expect("a");
        let rb = Rle::from_mask(h, w, &b).expect("b");
        let inter = a.iter().zip(&b).filter(|&(&x, &y)| x != 0 && y != 0).count() as u64;
        let union = a.iter().zip(&b).filter(|&(&x, &y)| x != 0 || y != 0).count() as u64;
        prop_assert_eq!(ra.intersection_area(&rb), Some(inter));
        prop_assert_eq!(ra.union_area(&rb), Some(union));
        prop_assert_eq!(rb.union_area(&ra), Some(union));
    }

    #[test]
    fn string_round_trips_any_counts(counts in prop::collection::vec(any::<u32>(), 0..40)) {
        prop_assert_eq!(decompress_counts(&compress_counts(&counts)).expect("decode"), counts);
    }

    #[test]
    fn label_map_matches_masks(
        (h, w, labels) in (1u32..10, 1u32..10).prop_flat_map(|(h, w)| {
            (Just(h), Just(w), prop::collection::vec(0u8..5, (h * w) as usize))
        })
    ) {
        let rles = encode_label_map(h, w, &labels, 0).expect("encode");
        for id in 1u8..5 {
            let mask: Vec<u8> = labels.iter().map(|&l| u8::from(l == id)).collect();
            match rles.get(&id) {
                Some(r) => prop_assert_eq!(r, &Rle::from_mask(h, w, &mask).expect("mask")),
                None => prop_assert!(mask.iter().all(|&v| v == 0)),
            }
        }
    }
}
