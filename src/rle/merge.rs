//! Intersection and union areas of two RLEs, computed by walking both run lists (no decoding).

use super::Rle;

/// Area of the merge of two run lists, with the same walk as COCO's `rleMerge` followed by
/// `rleArea`. For RLEs without zero-length runs in the middle (everything our encoders make)
/// this is the exact pixel count. COCO's walk stops early when both lists reach a zero-length
/// run at the same pixel; it is kept so that ground truth with such runs scores as officially.
fn merged_area(a: &[u32], b: &[u32], intersect: bool) -> u64 {
    let (Some(&a0), Some(&b0)) = (a.first(), b.first()) else {
        return 0;
    };
    let (mut ca, mut cb) = (a0, b0);
    let (mut ia, mut ib) = (1, 1);
    let (mut va, mut vb, mut v) = (false, false, false);
    let mut pending: u64 = 0; // pixels since the last state change, all in state `v`
    let mut area: u64 = 0;
    loop {
        let c = ca.min(cb);
        pending += u64::from(c);
        ca -= c;
        if ca == 0 && ia < a.len() {
            ca = a[ia];
            ia += 1;
            va = !va;
        }
        cb -= c;
        if cb == 0 && ib < b.len() {
            cb = b[ib];
            ib += 1;
            vb = !vb;
        }
        let more = ca > 0 || cb > 0;
        let prev = v;
        v = if intersect { va && vb } else { va || vb };
        if v != prev || !more {
            if prev {
                area += pending;
            }
            pending = 0;
        }
        if !more {
            return area;
        }
    }
}

impl Rle {
    /// Number of pixels set in both masks; `None` when the sizes differ.
    pub fn intersection_area(&self, other: &Rle) -> Option<u64> {
        (self.size() == other.size()).then(|| merged_area(&self.counts, &other.counts, true))
    }

    /// Number of pixels set in either mask; `None` when the sizes differ.
    pub fn union_area(&self, other: &Rle) -> Option<u64> {
        (self.size() == other.size()).then(|| merged_area(&self.counts, &other.counts, false))
    }

    /// Intersection over union; `None` when the sizes differ, 0 when both masks are empty.
    pub fn iou(&self, other: &Rle) -> Option<f64> {
        let i = self.intersection_area(other)?;
        let u = self.union_area(other)?;
        Some(if u == 0 { 0.0 } else { i as f64 / u as f64 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn simple_overlap() {
        // 1 row × 6: a = 011100, b = 000111.
        let a = Rle::from_mask(1, 6, &[0, 1, 1, 1, 0, 0]).expect("a");
        let b = Rle::from_mask(1, 6, &[0, 0, 0, 1, 1, 1]).expect("b");
        assert_eq!(a.intersection_area(&b), Some(1));
        assert_eq!(a.union_area(&b), Some(5));
        assert_eq!(a.iou(&b), Some(0.2));
        assert_eq!(a.intersection_area(&Rle::empty(6, 1)), None);
    }

    #[test]
    fn coco_early_stop_on_simultaneous_zero_runs() {
        // a = [2,0,0,2] is 0011, b = [0,2,0,2] is 1111; pycocotools (checked) gives union 2
        // and intersection 0 because its walk ends after 2 pixels, not 4 and 2.
        let a = Rle::from_counts(1, 4, vec![2, 0, 0, 2]).expect("a");
        let b = Rle::from_counts(1, 4, vec![0, 2, 0, 2]).expect("b");
        assert_eq!(a.union_area(&b), Some(2));
        assert_eq!(a.intersection_area(&b), Some(0));
    }
}
