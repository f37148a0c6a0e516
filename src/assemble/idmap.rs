//! Instance-id maps at the video's resolution, from the stride-4 label map.
//!
//! Each video pixel goes through the letterbox to its input position and from there to
//! fractional cell coordinates (cell `(i, j)` stands for input `(4i + 1.5, 4j + 1.5)`). Its label
//! is the one with the largest bilinear sum of soft weights among the four surrounding cells,
//! if that reaches one half: the same as upsampling each instance's soft mask bilinearly and
//! thresholding it, so edges fall between cell centres where the network's foreground
//! probability says, rather than on 4/s-pixel blocks as with nearest-cell lookup.

use super::edges::{soft_id, soft_weight};
use crate::model::Letterbox;
use crate::model::maps::cell_coord;

#[derive(Clone, Copy, Debug)]
struct Tap {
    i0: u32,
    i1: u32,
    w1: f32,
}

/// `scale`: input pixels per video pixel along this axis.
fn taps(video_len: u32, cells: usize, scale: f64) -> Vec<Tap> {
    let last = cells.saturating_sub(1) as f64;
    (0..video_len)
        .map(|v| {
            let input = (f64::from(v) + 0.5) * scale - 0.5;
            let c = cell_coord(input).clamp(0.0, last);
            let i0 = c.floor();
            let i1 = (i0 + 1.0).min(last);
            Tap { i0: i0 as u32, i1: i1 as u32, w1: (c - i0) as f32 }
        })
        .collect()
}

/// Maps stride-4 label maps of one model to one video size; built once per video.
#[derive(Clone, Debug)]
pub struct IdMapper {
    pub width: u32,
    pub height: u32,
    cells_w: usize,
    cells_h: usize,
    cols: Vec<Tap>,
    rows: Vec<Tap>,
}

/// Area and box of one id in a video-resolution map.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdExtent {
    pub id: u32,
    /// Pixels.
    pub area: u64,
    /// Inclusive box: x0, y0, x1, y1.
    pub bbox: [u32; 4],
}

impl IdMapper {
    pub fn new(lb: &Letterbox, cells_h: usize, cells_w: usize) -> Self {
        let (sx, sy) = lb.axis_scales();
        Self {
            width: lb.video_w,
            height: lb.video_h,
            cells_w,
            cells_h,
            cols: taps(lb.video_w, cells_w, sx),
            rows: taps(lb.video_h, cells_h, sy),
        }
    }

    /// Renders `cells` (`cells_h x cells_w` soft ids, [`super::edges`]; plain track ids count
    /// with full weight) into `out` (`width x height`, row-major track ids, 0 = none), reusing
    /// its allocation: each pixel takes the id with the largest bilinear sum of weights over its
    /// four surrounding cells if that sum reaches one half, else none. Inside an instance this
    /// is its id; at a border the edge lies where the interpolated foreground probability
    /// crosses 0.5. Returns `false` if `cells` has the wrong size.
    pub fn render(&self, cells: &[u32], out: &mut Vec<u32>) -> bool {
        if cells.len() != self.cells_h * self.cells_w {
            return false;
        }
        out.clear();
        out.reserve(self.width as usize * self.height as usize);
        for ty in &self.rows {
            for tx in &self.cols {
                out.push(self.pixel(cells, ty, tx));
            }
        }
        true
    }

    /// The id [`IdMapper::render`] gives video pixel `(x, y)` (for picking what is drawn);
    /// `None` outside the video or on a size mismatch.
    pub fn id_at(&self, cells: &[u32], x: u32, y: u32) -> Option<u32> {
        let (tx, ty) = (self.cols.get(x as usize)?, self.rows.get(y as usize)?);
        (cells.len() == self.cells_h * self.cells_w).then(|| self.pixel(cells, ty, tx))
    }

    #[inline]
    fn pixel(&self, cells: &[u32], ty: &Tap, tx: &Tap) -> u32 {
        let cw = self.cells_w;
        let (o0, o1) = (ty.i0 as usize * cw, ty.i1 as usize * cw);
        let (a, b) = (tx.i0 as usize, tx.i1 as usize);
        let v = [cells[o0 + a], cells[o0 + b], cells[o1 + a], cells[o1 + b]];
        if v[0] == v[1] && v[0] == v[2] && v[0] == v[3] {
            // Uniform: the common interior and background case.
            return if soft_weight(v[0]) >= 0.5 { soft_id(v[0]) } else { 0 };
        }
        let (wy1, wx1) = (ty.w1, tx.w1);
        let (wy0, wx0) = (1.0 - wy1, 1.0 - wx1);
        let tw = [wy0 * wx0, wy0 * wx1, wy1 * wx0, wy1 * wx1];
        let l = v.map(soft_id);
        // Sum per distinct non-zero id; ties go to the first tap (top-left).
        let mut best = (0u32, 0.0f32);
        for k in 0..4 {
            if l[k] == 0 || l[..k].contains(&l[k]) {
                continue;
            }
            let s: f32 = (k..4).filter(|&m| l[m] == l[k]).map(|m| tw[m] * soft_weight(v[m])).sum();
            if s > best.1 {
                best = (l[k], s);
            }
        }
        if best.1 >= 0.5 { best.0 } else { 0 }
    }
}

/// Area and box of every non-zero id in `map` (`width` columns), sorted by id.
pub fn extents(map: &[u32], width: u32) -> Vec<IdExtent> {
    let mut out: Vec<IdExtent> = Vec::new();
    let w = width.max(1) as usize;
    let mut last: Option<usize> = None;
    for (row, line) in map.chunks(w).enumerate() {
        for (x, &id) in line.iter().enumerate() {
            if id == 0 {
                continue;
            }
            // Runs of one id are common: remember where the last one lives.
            let slot = match last {
                Some(s) if out[s].id == id => s,
                _ => match out.iter().position(|e| e.id == id) {
                    Some(s) => s,
                    None => {
                        out.push(IdExtent { id, area: 0, bbox: [x as u32, row as u32, x as u32, row as u32] });
                        out.len() - 1
                    }
                },
            };
            last = Some(slot);
            let e = &mut out[slot];
            e.area += 1;
            let (x, y) = (x as u32, row as u32);
            e.bbox = [e.bbox[0].min(x), e.bbox[1].min(y), e.bbox[2].max(x), e.bbox[3].max(y)];
        }
    }
    out.sort_by_key(|e| e.id);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uniform_cells_stay_uniform_and_blocks_land_where_the_letterbox_says() {
        // 640x360 video into 320x192 input: s = 0.5, cells 48x80, content rows 0..45.
        let lb = Letterbox::new(640, 360, 320, 192);
        let m = IdMapper::new(&lb, 48, 80);
        let mut out = Vec::new();
        assert!(m.render(&vec![7; 48 * 80], &mut out));
        assert_eq!(out.len(), 640 * 360);
        assert!(out.iter().all(|&v| v == 7));

        // A block of cells i in 10..20, j in 30..40 → input y in [40, 80), x in [120, 160)
        // → video y in [80, 160), x in [240, 320), up to half a cell of smoothing at the edges.
        let mut cells = vec![0u32; 48 * 80];
        for i in 10..20 {
            for j in 30..40 {
                cells[i * 80 + j] = 3;
            }
        }
        assert!(m.render(&cells, &mut out));
        let ext = extents(&out, 640);
        assert_eq!(ext.len(), 1);
        let [x0, y0, x1, y1] = ext[0].bbox;
        for (got, want) in [(x0, 240), (y0, 80), (x1, 319), (y1, 159)] {
            assert!(got.abs_diff(want) <= 4, "box {:?}", ext[0].bbox);
        }
        let area = ext[0].area as i64;
        assert!((area - 80 * 80).abs() < 80 * 8, "area {area}");
        assert!(!m.render(&cells[1..], &mut out));
    }

    #[test]
    fn soft_edges_follow_the_foreground_probability_and_halo_alone_draws_nothing() {
        use crate::assemble::edges::pack;
        // 80x48 video into 80x48 input: one video pixel per input pixel, cells 12x20.
        let lb = Letterbox::new(80, 48, 80, 48);
        let m = IdMapper::new(&lb, 12, 20);
        let mut out = Vec::new();
        // Halo everywhere (below one half): nothing, whatever the id.
        assert!(m.render(&vec![pack(4, 7, false); 240], &mut out));
        assert!(out.iter().all(|&v| v == 0));
        // Columns 0..=9 foreground (weight 1), column 10 halo at 0.4, the rest background.
        // Between cell centres x = 37.5 (col 9) and 41.5 (col 10) the weight falls from 1 to
        // 0.4: it crosses 0.5 at 37.5 + 4 * 0.5 / 0.6 = 40.8, so pixels up to x = 40 are the
        // instance; with hard labels the edge would be the midpoint (39.5).
        let cells: Vec<u32> = (0..240)
            .map(|k| match k % 20 {
                0..=9 => pack(4, 15, true),
                10 => pack(4, 6, false),
                _ => 0,
            })
            .collect();
        assert!(m.render(&cells, &mut out));
        let row = &out[20 * 80..21 * 80];
        assert_eq!(row.iter().rposition(|&v| v == 4), Some(40), "{row:?}");
        assert_eq!(m.id_at(&cells, 40, 20), Some(4));
        assert_eq!(m.id_at(&cells, 41, 20), Some(0));
        assert_eq!(m.id_at(&cells, 80, 20), None);
    }
}
