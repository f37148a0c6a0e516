//! The COCO compressed string form of RLE counts: a LEB128-like code with 5 payload bits per
//! printable character (offset 48), where run `i > 2` is stored as the difference to run `i - 2`.

use super::RleError;

/// Encodes run lengths exactly as `pycocotools` (`rleToString`) does.
pub fn compress_counts(counts: &[u32]) -> String {
    let mut out = String::with_capacity(counts.len() * 2);
    for (i, &c) in counts.iter().enumerate() {
        let mut x = i64::from(c);
        if i > 2 {
            x -= i64::from(counts[i - 2]);
        }
        loop {
            let mut ch = (x & 0x1f) as u8;
            x >>= 5; // arithmetic shift keeps the sign for negative deltas
            let more = if ch & 0x10 != 0 { x != -1 } else { x != 0 };
            if more {
                ch |= 0x20;
            }
            out.push(char::from(ch + 48));
            if !more {
                break;
            }
        }
    }
    out
}

/// Decodes the compressed string form into run lengths (as `pycocotools` `rleFrString`).
/// Rejects characters outside the code's range, a string that ends inside a number, and
/// values that do not fit a `u32` run length.
pub fn decompress_counts(s: &str) -> Result<Vec<u32>, RleError> {
    let bytes = s.as_bytes();
    let mut counts: Vec<u32> = Vec::with_capacity(bytes.len());
    let mut p = 0;
    while p < bytes.len() {
        let mut x: i64 = 0;
        let mut shift = 0u32;
        loop {
            let Some(&b) = bytes.get(p) else {
                return Err(RleError::BadString("ends inside a run length"));
            };
            if !(48..48 + 64).contains(&b) {
                return Err(RleError::BadString("character outside the RLE alphabet"));
            }
            if shift > 35 {
                return Err(RleError::BadString("run length too long"));
            }
            let c = i64::from(b - 48);
            x |= (c & 0x1f) << shift;
            shift += 5;
            p += 1;
            if c & 0x20 == 0 {
                if c & 0x10 != 0 {
                    x |= -1i64 << shift; // sign-extend
                }
                break;
            }
        }
        let m = counts.len();
        if m > 2 {
            x += i64::from(counts[m - 2]);
        }
        let run = u32::try_from(x).map_err(|_| RleError::BadString("run length out of range"))?;
        counts.push(run);
    }
    Ok(counts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pycocotools_examples() {
        // Examples checked against pycocotools (docs/evaluation.md §7).
        let cases: &[(&[u32], &str)] = &[
            (&[5, 2, 5], "525"),
            (&[0, 4], "04"),
            (&[921_600], "PPTl0"),
            (&[100, 20, 80], "T3d0`2"),
            (&[100, 20, 80, 20, 80], "T3d0`200"),
        ];
        for &(counts, s) in cases {
            assert_eq!(compress_counts(counts), s);
            assert_eq!(decompress_counts(s).expect("decode"), counts);
        }
    }

    #[test]
    fn malformed_strings_are_errors() {
        assert!(decompress_counts("P").is_err(), "continuation bit on the last char");
        assert!(decompress_counts("5 2").is_err(), "space is outside the alphabet");
        assert!(decompress_counts("0").is_ok());
        // 0 then -1 relative to nothing at i = 1: negative run.
        assert!(decompress_counts("0O").is_err());
        assert_eq!(decompress_counts("").expect("empty"), Vec::<u32>::new());
    }

    #[test]
    fn large_and_decreasing_runs_round_trip() {
        let counts = vec![u32::MAX, 0, 7, u32::MAX - 3, 1, 1, 900_000, 3];
        assert_eq!(decompress_counts(&compress_counts(&counts)).expect("decode"), counts);
    }
}
