//! Instance-id maps at the video's resolution, from the head's label map (stride 4 or 2).
//!
//! Each video pixel goes through the letterbox to its input position and from there to
//! fractional cell coordinates (at stride 4, cell `(i, j)` stands for input `(4i + 1.5, 4j + 1.5)`;
//! `model::maps::cell_center`). Its label
//! is the one with the largest bilinear sum of soft weights among the four surrounding cells,
//! if that reaches one half: the same as upsampling each instance's soft mask bilinearly and
//! thresholding it, so edges fall between cell centres where the network's foreground
//! probability says, rather than on 4/s-pixel blocks as with nearest-cell lookup.
//!
//! With the frame as a guide (`ifa.post` `edge_sigma` > 0), each of the four weights is also
//! multiplied by how alike the pixel's colour is to its cell's (the mean of the 3x3 video pixels
//! at the cell's centre): `exp(-|c_pixel - c_cell|^2 / (2 sigma^2))`, renormalised: joint
//! bilateral upsampling (Kopf et al., 2007). Where an instance meets a differently coloured
//! background, the edge then follows the picture within the cell rather than the interpolated
//! probability; where the four cells agree nothing changes (docs/results.md has the gain).

use super::edges::{soft_id, soft_weight};
use super::refine::{RefineParams, RefineScratch, refine_ids};
use crate::frame::RgbFrame;
use crate::model::Letterbox;
use crate::model::maps::{cell_center, cell_coord, stride_of};
use crate::model::params::PostParams;

#[derive(Clone, Copy, Debug)]
struct Tap {
    i0: u32,
    i1: u32,
    w1: f32,
}

/// `scale`: input pixels per video pixel along this axis; `stride`: input pixels per cell.
fn taps(video_len: u32, cells: usize, scale: f64, stride: usize) -> Vec<Tap> {
    let last = cells.saturating_sub(1) as f64;
    (0..video_len)
        .map(|v| {
            let input = (f64::from(v) + 0.5) * scale - 0.5;
            let c = cell_coord(stride, input).clamp(0.0, last);
            let i0 = c.floor();
            let i1 = (i0 + 1.0).min(last);
            Tap { i0: i0 as u32, i1: i1 as u32, w1: (c - i0) as f32 }
        })
        .collect()
}

/// Maps the label maps of one model to one video size; built once per video.
#[derive(Clone, Debug)]
pub struct IdMapper {
    pub width: u32,
    pub height: u32,
    cells_w: usize,
    cells_h: usize,
    cols: Vec<Tap>,
    rows: Vec<Tap>,
    /// Runs of columns with the same two cells (`start..end` of `cols`): where a run's four
    /// cells agree, its pixels all take one id without interpolating.
    col_runs: Vec<(usize, usize)>,
    /// Video pixel (row or column) at each cell centre, where its guide colour is taken.
    centre_rows: Vec<usize>,
    centre_cols: Vec<usize>,
    /// Colour scale of the frame-guided edge (0: no guide).
    edge_sigma: f32,
    /// Video pixels per input pixel (the larger axis scale's inverse): turns `ifa.post` distances
    /// into video pixels.
    video_per_input: f64,
    /// The guided-filter refinement of the rendered map (`super::refine`; radius 0: off).
    refine: RefineParams,
}

/// What [`IdMapper::render_guided`] weighs the taps with: the cells' guide colours.
struct Guide<'a> {
    image: &'a RgbFrame,
    colours: Vec<[f32; 3]>,
    inv_two_sigma2: f32,
}

impl Guide<'_> {
    fn pixel(&self, x: usize, y: usize) -> [f32; 3] {
        let i = (y * self.image.width as usize + x) * 3;
        let d = &self.image.data;
        [f32::from(d[i]), f32::from(d[i + 1]), f32::from(d[i + 2])]
    }

    /// The range weight of a cell for a pixel of colour `p`.
    fn weight(&self, p: [f32; 3], cell: usize) -> f32 {
        let c = self.colours[cell];
        let d2 = (p[0] - c[0]).powi(2) + (p[1] - c[1]).powi(2) + (p[2] - c[2]).powi(2);
        (-d2 * self.inv_two_sigma2).exp()
    }
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
    /// The maps' stride follows from the letterbox's input width and `cells_w`.
    pub fn new(lb: &Letterbox, cells_h: usize, cells_w: usize) -> Self {
        let (sx, sy) = lb.axis_scales();
        let stride = stride_of(lb.input_w, cells_w);
        // Cell k's centre in video pixels (clamped: cells over the letterbox's padding).
        let centres = |n: usize, s: f64, len: u32| -> Vec<usize> {
            (0..n)
                .map(|k| {
                    let v = (f64::from(cell_center(stride, k)) + 0.5) / s - 0.5;
                    v.round().clamp(0.0, f64::from(len.max(1) - 1)) as usize
                })
                .collect()
        };
        let cols = taps(lb.video_w, cells_w, sx, stride);
        let mut col_runs = Vec::new();
        let mut start = 0;
        for x in 1..=cols.len() {
            if x == cols.len() || (cols[x].i0, cols[x].i1) != (cols[start].i0, cols[start].i1) {
                col_runs.push((start, x));
                start = x;
            }
        }
        Self {
            width: lb.video_w,
            height: lb.video_h,
            cells_w,
            cells_h,
            col_runs,
            cols,
            rows: taps(lb.video_h, cells_h, sy, stride),
            centre_rows: centres(cells_h, sy, lb.video_h),
            centre_cols: centres(cells_w, sx, lb.video_w),
            edge_sigma: 0.0,
            video_per_input: 1.0 / sx.max(sy).max(f64::MIN_POSITIVE),
            refine: RefineParams { radius: 0, eps: 0.0 },
        }
    }

    /// The edge rules of a model's `ifa.post`: the frame-guided upsampling and the refinement.
    #[must_use]
    pub fn with_post(self, post: &PostParams) -> Self {
        self.with_edge_sigma(post.edge_sigma).with_refine(post.refine_radius, post.refine_eps)
    }

    /// Refines the rendered edges against the frame with a guided filter of this radius (input
    /// pixels, `ifa.post` `refine_radius`; 0 or less: off) and regularisation (`refine_eps`).
    #[must_use]
    pub fn with_refine(mut self, radius: f32, eps: f32) -> Self {
        let r = if radius.is_finite() && radius > 0.0 {
            (f64::from(radius) * self.video_per_input).round().max(1.0)
        } else {
            0.0
        };
        let eps = if eps.is_finite() { eps.max(0.0) } else { 0.0 };
        self.refine = RefineParams { radius: r as usize, eps };
        self
    }

    /// Guides the edges by the frame with this colour scale (`ifa.post` `edge_sigma`; 0 or
    /// less: no guide).
    #[must_use]
    pub fn with_edge_sigma(mut self, sigma: f32) -> Self {
        self.edge_sigma = if sigma.is_finite() { sigma.max(0.0) } else { 0.0 };
        self
    }

    /// The guide colours of every cell: the mean of the 3x3 video pixels at its centre.
    fn guide<'a>(&self, image: &'a RgbFrame) -> Guide<'a> {
        let (w, h) = (self.width as usize, self.height as usize);
        let mut colours = Vec::with_capacity(self.cells_w * self.cells_h);
        for &cy in &self.centre_rows {
            for &cx in &self.centre_cols {
                let mut acc = [0f32; 3];
                let mut n = 0.0f32;
                for y in cy.saturating_sub(1)..=(cy + 1).min(h - 1) {
                    for x in cx.saturating_sub(1)..=(cx + 1).min(w - 1) {
                        let i = (y * w + x) * 3;
                        for (a, &v) in acc.iter_mut().zip(&image.data[i..i + 3]) {
                            *a += f32::from(v);
                        }
                        n += 1.0;
                    }
                }
                colours.push(acc.map(|a| a / n));
            }
        }
        Guide { image, colours, inv_two_sigma2: 1.0 / (2.0 * self.edge_sigma * self.edge_sigma) }
    }

    /// Renders `cells` (`cells_h x cells_w` soft ids, [`super::edges`]; plain track ids count
    /// with full weight) into `out` (`width x height`, row-major track ids, 0 = none), reusing
    /// its allocation: each pixel takes the id with the largest bilinear sum of weights over its
    /// four surrounding cells if that sum reaches one half, else none. Inside an instance this
    /// is its id; at a border the edge lies where the interpolated foreground probability
    /// crosses 0.5. Returns `false` if `cells` has the wrong size.
    pub fn render(&self, cells: &[u32], out: &mut Vec<u32>) -> bool {
        self.render_guided(cells, None, out)
    }

    /// As [`IdMapper::render`], with `image` (the frame these cells were computed from, at the
    /// video's size) guiding the edges when the mapper has an edge sigma (see the module), and
    /// refining them when it has a refinement ([`IdMapper::with_refine`]).
    /// Without an image, or with one of another size, the plain rule applies.
    pub fn render_guided(&self, cells: &[u32], image: Option<&RgbFrame>, out: &mut Vec<u32>) -> bool {
        if cells.len() != self.cells_h * self.cells_w {
            return false;
        }
        let image = image
            .filter(|i| (i.width, i.height) == (self.width, self.height))
            .filter(|i| i.data.len() == i.width as usize * i.height as usize * 3);
        let guide = image.filter(|_| self.edge_sigma > 0.0).map(|i| self.guide(i));
        match image.filter(|_| self.refine.is_on()) {
            Some(image) => {
                let mut soft = Vec::new();
                self.render_cells(cells, guide.as_ref(), out, Some(&mut soft));
                refine_ids(out, Some(&soft), image, self.refine, &mut RefineScratch::default());
            }
            None => self.render_cells(cells, guide.as_ref(), out, None),
        }
        true
    }

    /// Renders the thresholded ids into `out` and, with `soft`, each pixel's best id and its
    /// summed weight before the threshold (what the refinement filters).
    fn render_cells(
        &self,
        cells: &[u32],
        guide: Option<&Guide<'_>>,
        out: &mut Vec<u32>,
        mut soft: Option<&mut Vec<(u32, f32)>>,
    ) {
        let w = self.width as usize;
        out.clear();
        out.resize(w * self.height as usize, 0);
        if let Some(s) = soft.as_deref_mut() {
            s.clear();
            s.resize(w * self.height as usize, (0, 0.0));
        }
        let cw = self.cells_w;
        for ((y, ty), row) in self.rows.iter().enumerate().zip(out.chunks_exact_mut(w.max(1))) {
            let (o0, o1) = (ty.i0 as usize * cw, ty.i1 as usize * cw);
            for &(x0, x1) in &self.col_runs {
                let (a, b) = (self.cols[x0].i0 as usize, self.cols[x0].i1 as usize);
                let v = cells[o0 + a];
                if v == cells[o0 + b] && v == cells[o1 + a] && v == cells[o1 + b] {
                    // Uniform: the common interior and background case (as in `pixel`).
                    row[x0..x1].fill(if soft_weight(v) >= 0.5 { soft_id(v) } else { 0 });
                    if let Some(s) = soft.as_deref_mut() {
                        s[y * w + x0..y * w + x1].fill((soft_id(v), soft_weight(v)));
                    }
                    continue;
                }
                for (x, tx) in self.cols[x0..x1].iter().enumerate() {
                    let (id, weight) = self.pixel_soft(cells, ty, tx, guide.map(|g| (g, x0 + x, y)));
                    row[x0 + x] = if weight >= 0.5 { id } else { 0 };
                    if let Some(s) = soft.as_deref_mut() {
                        s[y * w + x0 + x] = (id, weight);
                    }
                }
            }
        }
    }

    /// The id [`IdMapper::render`] gives video pixel `(x, y)` (for picking what is drawn);
    /// `None` outside the video or on a size mismatch.
    pub fn id_at(&self, cells: &[u32], x: u32, y: u32) -> Option<u32> {
        let (tx, ty) = (self.cols.get(x as usize)?, self.rows.get(y as usize)?);
        (cells.len() == self.cells_h * self.cells_w).then(|| self.pixel(cells, ty, tx, None))
    }

    #[inline]
    fn pixel(&self, cells: &[u32], ty: &Tap, tx: &Tap, guide: Option<(&Guide<'_>, usize, usize)>) -> u32 {
        let (id, weight) = self.pixel_soft(cells, ty, tx, guide);
        if weight >= 0.5 { id } else { 0 }
    }

    /// The id with the largest summed weight at a pixel and that weight (below one half too).
    #[inline]
    fn pixel_soft(&self, cells: &[u32], ty: &Tap, tx: &Tap, guide: Option<(&Guide<'_>, usize, usize)>) -> (u32, f32) {
        let cw = self.cells_w;
        let (o0, o1) = (ty.i0 as usize * cw, ty.i1 as usize * cw);
        let (a, b) = (tx.i0 as usize, tx.i1 as usize);
        let at = [o0 + a, o0 + b, o1 + a, o1 + b];
        let v = at.map(|i| cells[i]);
        if v[0] == v[1] && v[0] == v[2] && v[0] == v[3] {
            // Uniform: the common interior and background case.
            return (soft_id(v[0]), soft_weight(v[0]));
        }
        let (wy1, wx1) = (ty.w1, tx.w1);
        let (wy0, wx0) = (1.0 - wy1, 1.0 - wx1);
        let mut tw = [wy0 * wx0, wy0 * wx1, wy1 * wx0, wy1 * wx1];
        if let Some((g, x, y)) = guide {
            let p = g.pixel(x, y);
            let mut guided = tw;
            let mut total = 0.0;
            for (w, &cell) in guided.iter_mut().zip(&at) {
                *w *= g.weight(p, cell);
                total += *w;
            }
            // A pixel unlike all four cells (a thin line, noise) keeps the plain weights.
            if total > 1e-6 {
                tw = guided.map(|w| w / total);
            }
        }
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
        best
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
    use crate::assemble::edges::pack;

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
    fn rendering_by_runs_gives_every_pixel_what_id_at_gives_it() {
        // Soft ids of several tracks and levels, clustered so that uniform runs and mixed runs
        // both occur, through a letterbox with padding and a scale that is not a whole number.
        let lb = Letterbox::new(500, 300, 320, 192);
        let (h, w) = (48, 80);
        let m = IdMapper::new(&lb, h, w);
        let mut state = 12345u64;
        let mut rnd = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1442695040888963407);
            (state >> 33) as u32
        };
        let cells: Vec<u32> = (0..h * w)
            .map(|k| {
                let block = ((k / w) / 6 * 16 + (k % w) / 5) as u32;
                let id = if block.is_multiple_of(3) { 0 } else { 1 + block % 4 };
                if rnd() % 5 == 0 {
                    pack(1 + rnd() % 4, (rnd() % 16) as u8, rnd() % 2 == 0)
                } else {
                    pack(id, 15, id != 0)
                }
            })
            .collect();
        let mut out = Vec::new();
        assert!(m.render(&cells, &mut out));
        for y in 0..300 {
            for x in 0..500 {
                assert_eq!(Some(out[(y * 500 + x) as usize]), m.id_at(&cells, x, y), "pixel ({x}, {y})");
            }
        }
        assert!(out.contains(&0) && (1..=4).all(|id| out.contains(&id)));
    }

    #[test]
    fn stride_2_maps_land_where_the_same_input_block_does_at_stride_4() {
        // The same input block as above (y in [40, 80), x in [120, 160)) in 96x160 cells of 2 px.
        let lb = Letterbox::new(640, 360, 320, 192);
        let m = IdMapper::new(&lb, 96, 160);
        let mut cells = vec![0u32; 96 * 160];
        for i in 20..40 {
            for j in 60..80 {
                cells[i * 160 + j] = 3;
            }
        }
        let mut out = Vec::new();
        assert!(m.render(&cells, &mut out));
        let ext = extents(&out, 640);
        let [x0, y0, x1, y1] = ext[0].bbox;
        // Half a 2-px cell of smoothing: within 2 video pixels.
        for (got, want) in [(x0, 240), (y0, 80), (x1, 319), (y1, 159)] {
            assert!(got.abs_diff(want) <= 2, "box {:?}", ext[0].bbox);
        }
        assert!((ext[0].area as i64 - 80 * 80).abs() < 80 * 4, "area {}", ext[0].area);
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

    #[test]
    fn the_frame_moves_the_edge_to_its_colour_boundary() {
        // 80x48 video, one video pixel per input pixel, cells 12x20; columns 0..=9 are the
        // instance (hard labels), so the plain edge is the midpoint between the centres of
        // columns 9 and 10 (x = 39.5). The picture's instance ends at x = 37 instead.
        let lb = Letterbox::new(80, 48, 80, 48);
        let cells: Vec<u32> = (0..240).map(|k| if k % 20 <= 9 { 4 } else { 0 }).collect();
        let mut image = RgbFrame::new(80, 48);
        for (k, px) in image.data.chunks_exact_mut(3).enumerate() {
            let x = k % 80;
            px.copy_from_slice(if x <= 37 { &[200, 40, 40] } else { &[30, 90, 160] });
        }
        let last = |out: &[u32]| out[20 * 80..21 * 80].iter().rposition(|&v| v == 4);
        let mut out = Vec::new();
        let plain = IdMapper::new(&lb, 12, 20);
        assert!(plain.render_guided(&cells, Some(&image), &mut out));
        assert_eq!(last(&out), Some(39), "no sigma, no guide");
        let guided = IdMapper::new(&lb, 12, 20).with_edge_sigma(20.0);
        assert!(guided.render_guided(&cells, Some(&image), &mut out));
        assert_eq!(last(&out), Some(37), "the edge follows the picture");
        // Inside and far outside nothing changes; without a frame (or with one of another
        // size) the plain rule applies.
        assert!(out[20 * 80..20 * 80 + 30].iter().all(|&v| v == 4));
        assert!(out[20 * 80 + 45..21 * 80].iter().all(|&v| v == 0));
        assert!(guided.render_guided(&cells, None, &mut out));
        assert_eq!(last(&out), Some(39));
        assert!(guided.render_guided(&cells, Some(&RgbFrame::new(8, 8)), &mut out));
        assert_eq!(last(&out), Some(39));
        // A colour edge the cells do not support (inside the instance) moves nothing.
        let uniform_cells = vec![4u32; 240];
        assert!(guided.render_guided(&uniform_cells, Some(&image), &mut out));
        assert!(out.iter().all(|&v| v == 4));
    }
}
