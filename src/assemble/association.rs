//! How a detection is compared with the identified instances of a reference frame: the
//! method's instance flow, our variant that moves the mask by the flow and compares masks, and
//! two baselines for the ablation (docs/method.md §2 against matching by nearest center and by
//! mask IoU). All share the tracker's reference order, fall-back and one-to-one greedy
//! assignment; only the comparison differs.

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

/// Which comparison gives a detection its identity.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum Association {
    /// The method: the center warped by the instance flow towards the reference, nearest
    /// identified center within `match_distance`.
    #[default]
    Flow,
    /// Baseline: the unwarped center, nearest identified center within `match_distance`.
    Center,
    /// Baseline: mask IoU at the head's stride with the reference's identified masks, at least
    /// [`AssociationParams::iou_threshold`].
    Iou,
    /// The method's flow compared mask to mask: the detection's mask (head cells) shifted by its
    /// instance flow into the reference, IoU with the identified masks there at least
    /// [`AssociationParams::iou_threshold`], highest first; detections that overlap nothing fall
    /// back to the warped center within `match_distance`.
    FlowMask,
}

impl Association {
    pub fn name(self) -> &'static str {
        match self {
            Self::Flow => "flow",
            Self::Center => "center",
            Self::Iou => "iou",
            Self::FlowMask => "flow-mask",
        }
    }
}

impl fmt::Display for Association {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The association mode and its own parameter (the distance gate is `PostParams::match_distance`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct AssociationParams {
    pub mode: Association,
    /// Smallest mask IoU at the head's stride that counts as a match in [`Association::Iou`] mode, in (0, 1].
    pub iou_threshold: f64,
}

impl AssociationParams {
    /// 0.1, measured with scripts/iou_gate_stats.py: running this association on the
    /// ground-truth cell masks of 20 standard and 20 hard shapes-world videos, the errors
    /// (identity switches + fragments) were 520 and 1268 at 0.1 against 1835 and 2931 at 0.3,
    /// because fast small shapes overlap their last mask little (median IoU of consecutive
    /// masks 0.47 on standard). Lower gates gained little more (378 and 1083 at 0.05) and leave
    /// almost no gate against the ragged edges and blobs of predicted masks. `iou:T` sweeps it.
    pub const DEFAULT_IOU_THRESHOLD: f64 = 0.1;

    pub fn new(mode: Association) -> Self {
        Self { mode, iou_threshold: Self::DEFAULT_IOU_THRESHOLD }
    }
}

impl Default for AssociationParams {
    fn default() -> Self {
        Self::new(Association::Flow)
    }
}

impl fmt::Display for AssociationParams {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.mode {
            Association::Iou => write!(f, "iou (mask IoU >= {})", self.iou_threshold),
            Association::FlowMask => write!(f, "flow-mask (warped mask IoU >= {})", self.iou_threshold),
            m => f.write_str(m.name()),
        }
    }
}

/// A mode string that is not `flow`, `center`, `iou` or `iou:T` with T in (0, 1].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "association `{0}` is not one of flow, flow-mask, flow-mask:THRESHOLD, center, iou, iou:THRESHOLD (THRESHOLD in (0, 1])"
)]
pub struct ParseAssociationError(pub String);

impl FromStr for AssociationParams {
    type Err = ParseAssociationError;

    /// `flow`, `center`, `iou` (default threshold) or `iou:0.5`.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || ParseAssociationError(s.to_owned());
        let (name, arg) = match s.trim().split_once(':') {
            Some((n, a)) => (n.trim(), Some(a.trim())),
            None => (s.trim(), None),
        };
        let mode = match name.to_ascii_lowercase().as_str() {
            "flow" => Association::Flow,
            "center" => Association::Center,
            "iou" => Association::Iou,
            "flow-mask" => Association::FlowMask,
            _ => return Err(bad()),
        };
        let mut p = Self::new(mode);
        if let Some(a) = arg {
            if !matches!(mode, Association::Iou | Association::FlowMask) {
                return Err(bad());
            }
            let t: f64 = a.parse().map_err(|_| bad())?;
            if !(t > 0.0 && t <= 1.0) {
                return Err(bad());
            }
            p.iou_threshold = t;
        }
        Ok(p)
    }
}

/// [`mask_ious`] with each detection's mask shifted first by `shift[k]` = (dy, dx) cells, in a
/// `w`-wide cell map. Each detection is compared on its own (shifted masks may overlap each
/// other); its cells shifted off the map overlap nothing but still count in its area.
pub fn shifted_mask_ious(
    group: &[u16],
    m: usize,
    w: usize,
    shift: &[(isize, isize)],
    ref_ids: &[u32],
) -> Vec<(usize, u32, f64)> {
    if group.len() != ref_ids.len() || m == 0 || w == 0 || !group.len().is_multiple_of(w) || shift.len() < m {
        return Vec::new();
    }
    let h = (group.len() / w) as isize;
    let mut ref_area: Vec<(u32, usize)> = Vec::new();
    for &t in ref_ids.iter().filter(|&&t| t != 0) {
        match ref_area.binary_search_by_key(&t, |e| e.0) {
            Ok(i) => ref_area[i].1 += 1,
            Err(i) => ref_area.insert(i, (t, 1)),
        }
    }
    let mut det_area = vec![0usize; m];
    let mut inter: BTreeMap<(usize, u32), usize> = BTreeMap::new();
    for (i, &g) in group.iter().enumerate() {
        let k = g as usize;
        if k >= m {
            continue;
        }
        det_area[k] += 1;
        let (y, x) = ((i / w) as isize + shift[k].0, (i % w) as isize + shift[k].1);
        if y < 0 || x < 0 || y >= h || x >= w as isize {
            continue;
        }
        let t = ref_ids[y as usize * w + x as usize];
        if t != 0 {
            *inter.entry((k, t)).or_default() += 1;
        }
    }
    inter
        .into_iter()
        .map(|((k, t), i)| {
            let r = ref_area.binary_search_by_key(&t, |e| e.0).map_or(0, |j| ref_area[j].1);
            (k, t, i as f64 / (det_area[k] + r - i) as f64)
        })
        .collect()
}

/// Mask IoU of every (detection, reference track) pair that overlaps at all, in one pass over
/// the cells. `group[i]` is the detection (`0..m`) owning cell `i` (`u16::MAX` for none);
/// `ref_ids[i]` is the track id at cell `i` of the reference frame (0 for none). Maps of
/// different sizes (e.g. after a reset) overlap nowhere. Returns `(detection, track id, IoU)`,
/// by detection then track id.
pub fn mask_ious(group: &[u16], m: usize, ref_ids: &[u32]) -> Vec<(usize, u32, f64)> {
    // Unshifted masks overlap the same way in a map of any width: one row will do.
    shifted_mask_ious(group, m, group.len(), &vec![(0, 0); m], ref_ids)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_print() {
        let p: AssociationParams = "flow".parse().expect("flow");
        assert_eq!(p, AssociationParams::default());
        assert_eq!("Center".parse::<AssociationParams>().expect("center").mode, Association::Center);
        let p: AssociationParams = "iou".parse().expect("iou");
        assert_eq!((p.mode, p.iou_threshold), (Association::Iou, AssociationParams::DEFAULT_IOU_THRESHOLD));
        let p: AssociationParams = "iou:0.5".parse().expect("iou:0.5");
        assert_eq!(p.iou_threshold, 0.5);
        assert_eq!(p.to_string(), "iou (mask IoU >= 0.5)");
        let p: AssociationParams = "flow-mask:0.3".parse().expect("flow-mask:0.3");
        assert_eq!((p.mode, p.iou_threshold), (Association::FlowMask, 0.3));
        assert_eq!(p.to_string(), "flow-mask (warped mask IoU >= 0.3)");
        for bad in ["", "nearest", "iou:0", "iou:1.5", "iou:x", "flow:0.3", "center:2"] {
            assert!(bad.parse::<AssociationParams>().is_err(), "{bad:?} must be refused");
        }
    }

    #[test]
    fn ious_count_overlaps_exactly() {
        // 1x8 strip: detection 0 on cells 0..4, detection 1 on cells 5..8;
        // reference track 7 on cells 2..6, track 9 on cell 7.
        const N: u16 = u16::MAX;
        let group = [0, 0, 0, 0, N, 1, 1, 1];
        let refs = [0, 0, 7, 7, 7, 7, 0, 9];
        let got = mask_ious(&group, 2, &refs);
        // det 0 ∩ 7 = 2 cells, union 4 + 4 - 2 = 6; det 1 ∩ 7 = 1, union 3 + 4 - 1 = 6;
        // det 1 ∩ 9 = 1, union 3 + 1 - 1 = 3.
        assert_eq!(got, vec![(0, 7, 2.0 / 6.0), (1, 7, 1.0 / 6.0), (1, 9, 1.0 / 3.0)]);
        assert!(mask_ious(&group, 2, &refs[..7]).is_empty(), "size mismatch overlaps nowhere");
        assert!(mask_ious(&group, 2, &[0; 8]).is_empty());
    }

    #[test]
    fn shifted_ious_move_each_mask_by_its_own_flow() {
        // A 2 x 4 map (w = 4). Detection 0 on row 0, cells 2..4; detection 1 on row 1, cell 0.
        // The reference holds track 5 on row 0, cells 0..2, and track 6 on row 0, cell 3.
        const N: u16 = u16::MAX;
        let group = [N, N, 0, 0, 1, N, N, N];
        let refs = [5, 5, 0, 6, 0, 0, 0, 0];
        // Detection 0 moved two cells right since the reference; detection 1 one row down.
        let got = shifted_mask_ious(&group, 2, 4, &[(0, -2), (-1, 0)], &refs);
        assert_eq!(got, vec![(0, 5, 1.0), (1, 5, 1.0 / 2.0)]);
        // Unshifted, detection 0 half-covers track 6 only.
        assert_eq!(shifted_mask_ious(&group, 2, 4, &[(0, 0), (0, 0)], &refs), vec![(0, 6, 1.0 / 2.0)]);
        // Shifted off the map: the lost cell still counts in the area (IoU 1/3, not 1/2).
        let got = shifted_mask_ious(&group, 2, 4, &[(0, -3), (0, 0)], &refs);
        assert_eq!(got, vec![(0, 5, 1.0 / 3.0)]);
        // Two detections shifted onto one cell: each is compared on its own.
        let group = [0, 1, N, N, N, N, N, N];
        let refs = [7, 0, 0, 0, 0, 0, 0, 0];
        let got = shifted_mask_ious(&group, 2, 4, &[(0, 0), (0, -1)], &refs);
        assert_eq!(got, vec![(0, 7, 1.0), (1, 7, 1.0)]);
        assert!(shifted_mask_ious(&group, 2, 3, &[(0, 0); 2], &refs).is_empty(), "width must divide the map");
    }
}
