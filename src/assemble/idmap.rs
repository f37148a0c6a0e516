//! Instance-id maps at the video's resolution, from the stride-4 label map.
//!
//! Each video pixel goes through the letterbox to its input position and from there to
//! fractional cell coordinates (cell `(i, j)` stands for input `(4i + 1.5, 4j + 1.5)`). Its label
//! is the one with the largest bilinear weight among the four surrounding cells: the same as
//! upsampling each instance's mask bilinearly and taking the argmax, so edges are smooth
//! rather than 4/s-pixel blocks as with nearest-cell lookup, at the cost of four reads.

use crate::model::Letterbox;

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
            let c = ((input - 1.5) / 4.0).clamp(0.0, last);
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

    /// Renders `cells` (`cells_h x cells_w` ids, 0 = none) into `out` (`width x height`,
    /// row-major), reusing its allocation. Returns `false` if `cells` has the wrong size.
    pub fn render(&self, cells: &[u32], out: &mut Vec<u32>) -> bool {
        if cells.len() != self.cells_h * self.cells_w {
            return false;
        }
        out.clear();
        out.reserve(self.width as usize * self.height as usize);
        let cw = self.cells_w;
        for ty in &self.rows {
            let r0 = &cells[ty.i0 as usize * cw..(ty.i0 as usize + 1) * cw];
            let r1 = &cells[ty.i1 as usize * cw..(ty.i1 as usize + 1) * cw];
            let wy1 = ty.w1;
            let wy0 = 1.0 - wy1;
            for tx in &self.cols {
                let (a, b) = (tx.i0 as usize, tx.i1 as usize);
                let (l00, l01, l10, l11) = (r0[a], r0[b], r1[a], r1[b]);
                if l00 == l01 && l00 == l10 && l00 == l11 {
                    out.push(l00);
                    continue;
                }
                let wx1 = tx.w1;
                let wx0 = 1.0 - wx1;
                let cand = [(l00, wy0 * wx0), (l01, wy0 * wx1), (l10, wy1 * wx0), (l11, wy1 * wx1)];
                // Sum the weights per distinct label; ties go to the first tap (top-left).
                let mut best = (l00, -1.0f32);
                for (k, &(l, _)) in cand.iter().enumerate() {
                    if cand[..k].iter().any(|&(p, _)| p == l) {
                        continue;
                    }
                    let w: f32 = cand.iter().filter(|&&(p, _)| p == l).map(|&(_, w)| w).sum();
                    if w > best.1 {
                        best = (l, w);
                    }
                }
                out.push(best.0);
            }
        }
        true
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
}
