//! Soft mask edges: where each instance's boundary lies between two cells of the head maps.
//!
//! A cell's hard label (semantic argmax, grouped by offsets) says only on which side of a cell
//! midpoint the boundary falls. The foreground probability `1 − p(background)` says more: the
//! network is trained on the label at each cell's centre, so the boundary lies roughly where
//! that probability, interpolated between cell centres, crosses 0.5. For this, every cell keeps
//! its foreground probability, and the cells just outside an instance (background argmax, but
//! some foreground probability) are grouped to the nearest center like foreground cells, as a
//! *halo* that only the rendering at video resolution reads ([`super::idmap::IdMapper::render`]).
//!
//! Both travel in one `u32` per cell, a *soft id*: the track id in the low [`ID_BITS`] bits and
//! the foreground probability, quantised to 1/15, in the top four bits, stored as its deficit
//! from 1 so that a plain track id is a soft id of full weight. Background is 0. Interiors stay
//! runs of one value, so run-length encoded frames stay small.

use crate::model::HeadMaps;

use super::detect::Detection;

/// Cells with a foreground probability below this are never part of a halo: alone, a halo cell
/// cannot lift a pixel to 0.5, so the floor only saves work.
pub const HALO_FLOOR: f32 = 0.05;

/// Bits of a soft id that hold the track id; larger ids are cut to these bits.
pub const ID_BITS: u32 = 28;
const ID_MASK: u32 = (1 << ID_BITS) - 1;

/// A probability in fifteenths, rounded half up (numpy's twin does the same, not half-even).
pub fn level_of(p: f32) -> u8 {
    (p.clamp(0.0, 1.0) * 15.0 + 0.5).floor() as u8
}

/// The soft id of a cell of track `id` with foreground probability `level`/15 (0 for `id` 0).
/// `foreground` is the cell's hard label: its weight is kept above one half (at least 8/15),
/// a halo cell's at or below 7/15, so that a region of one kind renders as its hard label says.
pub fn pack(id: u32, level: u8, foreground: bool) -> u32 {
    if id == 0 {
        return 0;
    }
    let level = u32::from(level.min(15));
    let level = if foreground { level.max(8) } else { level.min(7) };
    ((15 - level) << ID_BITS) | (id & ID_MASK)
}

/// The track id of a soft id (0 = none).
#[inline]
pub fn soft_id(v: u32) -> u32 {
    v & ID_MASK
}

/// The weight (foreground probability, 0..=1 in steps of 1/15) of a soft id.
#[inline]
pub fn soft_weight(v: u32) -> f32 {
    (15 - (v >> ID_BITS)) as f32 / 15.0
}

/// The soft id map of one frame: `ids[g]` is detection `g`'s track id.
pub fn soft_ids(group: &[u16], soft: &SoftCells, ids: &[u32]) -> Vec<u32> {
    let id = |g: u16| if g == u16::MAX { 0 } else { ids.get(g as usize).copied().unwrap_or(0) };
    group
        .iter()
        .zip(&soft.halo)
        .zip(&soft.level)
        .map(|((&g, &h), &level)| if g != u16::MAX { pack(id(g), level, true) } else { pack(id(h), level, false) })
        .collect()
}

/// Per-cell soft edge data of one frame, in detection indices.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct SoftCells {
    /// Foreground probability per cell in fifteenths, `floor(15 p + 0.5)` (0..=15).
    pub level: Vec<u8>,
    /// Detection index of each halo cell (background argmax, foreground probability at least
    /// [`HALO_FLOOR`]), `u16::MAX` elsewhere.
    pub halo: Vec<u16>,
}

/// Fills `out` for one frame: `group` is the hard grouping of [`super::detect::detect`] and
/// `detections` its result (detection `g` owns the cells whose group is `g`).
pub fn soft_cells(maps: &HeadMaps, detections: &[Detection], group: &[u16], out: &mut SoftCells) {
    let n = maps.cells();
    out.level.clear();
    out.halo.clear();
    out.halo.resize(n, u16::MAX);
    if !maps.is_consistent() || group.len() != n {
        out.level.resize(n, 0);
        return;
    }
    out.level.reserve(n);
    let k1 = maps.num_classes + 1;
    let (oy, ox) = maps.offset.split_at(n);
    for idx in 0..n {
        // Foreground against background as the hard label decides it: the best class against
        // background, so that the weight is above one half exactly where the argmax is a class.
        let mut best = f32::NEG_INFINITY;
        for c in 1..k1 {
            best = best.max(maps.semantic[c * n + idx]);
        }
        let fg = 1.0 / (1.0 + (maps.semantic[idx] - best).exp());
        out.level.push(level_of(fg));
        if group[idx] != u16::MAX || fg < HALO_FLOOR || detections.is_empty() {
            continue;
        }
        let (i, j) = (idx / maps.w, idx % maps.w);
        let (py, px) = maps.cell_position(i, j);
        let (qy, qx) = (py + oy[idx], px + ox[idx]);
        let mut best = f64::INFINITY;
        let mut arg = 0usize;
        for (k, d) in detections.iter().enumerate() {
            let dy = f64::from(qy) - d.position[0];
            let dx = f64::from(qx) - d.position[1];
            let dist = dy * dy + dx * dx;
            if dist < best {
                best = dist;
                arg = k;
            }
        }
        out.halo[idx] = arg as u16;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::detect::{DetectScratch, detect};
    use crate::model::PostParams;

    #[test]
    fn halo_cells_join_the_instance_their_offsets_point_to() {
        // One 3x3 instance (class 1) in a 7x7 map; its ring of neighbours is background by
        // argmax but 30% foreground, with offsets pointing to the center.
        let (h, w) = (7usize, 7usize);
        let n = h * w;
        let mut m = HeadMaps {
            h,
            stride: 4,
            w,
            num_classes: 1,
            // Background logit 0, class logit -5 (fg 0.7%) unless set below.
            semantic: [vec![0.0; n], vec![-5.0; n]].concat(),
            center: vec![0.0; n],
            offset: vec![0.0; 2 * n],
            inter_offset: vec![],
            refs: vec![],
        };
        m.center[3 * w + 3] = 0.9;
        let (cy, cx) = m.cell_position(3, 3);
        for i in 1..=5 {
            for j in 1..=5 {
                let idx = i * w + j;
                let inner = (2..=4).contains(&i) && (2..=4).contains(&j);
                // fg = sigmoid(l1 - l0): 0.95 inside, 0.3 on the ring.
                m.semantic[n + idx] = if inner { 3.0 } else { -0.85 };
                let (py, px) = m.cell_position(i, j);
                m.offset[idx] = cy - py;
                m.offset[n + idx] = cx - px;
            }
        }
        let p = PostParams { center_threshold: 0.1, nms_kernel: 3, top_k: 4, min_pixels: 1, ..PostParams::default() };
        let mut s = DetectScratch::default();
        let d = detect(&m, &p, &mut s);
        assert_eq!(d.len(), 1);
        let mut soft = SoftCells::default();
        soft_cells(&m, &d, &s.group, &mut soft);
        assert_eq!(soft.halo.iter().filter(|&&g| g == 0).count(), 16, "the ring");
        assert_eq!(soft.halo[3 * w + 3], u16::MAX, "foreground cells are not halo");
        assert_eq!(soft.halo[0], u16::MAX, "below the floor");
        assert_eq!(soft.level[3 * w + 3], 14, "0.95");
        assert_eq!(soft.level[w + 1], 4, "0.3");

        let packed = soft_ids(&s.group, &soft, &[9]);
        assert_eq!(soft_id(packed[3 * w + 3]), 9);
        assert_eq!(soft_weight(packed[3 * w + 3]), 14.0 / 15.0);
        assert_eq!(soft_id(packed[w + 1]), 9);
        assert!((soft_weight(packed[w + 1]) - 0.3).abs() < 0.04);
        assert_eq!(packed[0], 0);
    }

    #[test]
    fn plain_ids_are_soft_ids_of_full_weight() {
        for id in [1u32, 7, ID_MASK] {
            assert_eq!(soft_id(id), id);
            assert_eq!(soft_weight(id), 1.0);
            assert_eq!(pack(id, 15, true), id);
            assert_eq!(soft_id(pack(id, 3, false)), id);
        }
        assert_eq!(pack(0, 14, true), 0);
        assert_eq!(soft_weight(pack(5, 0, false)), 0.0);
        // The hard label wins over rounding: each side of one half stays on its side.
        assert!(soft_weight(pack(5, 2, true)) > 0.5);
        assert!(soft_weight(pack(5, 13, false)) < 0.5);
        assert_eq!((level_of(0.5), level_of(7.5 / 15.0), level_of(2.0)), (8, 8, 15));
    }
}
