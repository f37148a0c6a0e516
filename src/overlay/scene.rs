//! "What to draw" over a frame, independent of any painter: per-frame records that the viewer
//! caches, track colours, the mask blend formula, and the overlay primitives (centers, flow
//! arrows, labels, trails) after the user's filters.
//!
//! The viewer paints a [`Scene`] with egui and colours masks on the GPU (`shaders/masks.wgsl`);
//! the export path paints the same [`Scene`] on CPU and uses [`blend_masks`], which follows the
//! shader's formula exactly:
//!
//! ```text
//! a   = opacity                          (0..=1, the same for every visible track)
//! out = video + (colour - video) * a     per channel, in 8-bit sRGB values (no linearisation),
//!                                        rounded to nearest
//! ```
//!
//! Pixels whose track id is 0 or hidden by the filters keep the video value. All positions are
//! video pixel coordinates `[x, y]` with pixel centres at integers.

use std::collections::BTreeSet;

use crate::assemble::idmap::IdMapper;
use crate::assemble::{Decision, FrameResult};
use crate::frame::RgbFrame;
use crate::model::Letterbox;

/// Track colours: distinct, saturated, readable on video; indexed by `(track_id - 1) % len`.
pub const PALETTE: [[u8; 3]; 20] = [
    [230, 25, 75],
    [60, 180, 75],
    [255, 225, 25],
    [0, 130, 200],
    [245, 130, 48],
    [145, 30, 180],
    [70, 240, 240],
    [240, 50, 230],
    [210, 245, 60],
    [250, 190, 212],
    [0, 128, 128],
    [220, 190, 255],
    [170, 110, 40],
    [255, 250, 200],
    [128, 0, 0],
    [170, 255, 195],
    [128, 128, 0],
    [255, 215, 180],
    [0, 0, 128],
    [128, 128, 128],
];

/// The stable colour of a track (`None` for id 0, "no instance").
pub fn track_color(track_id: u32) -> Option<[u8; 3]> {
    (track_id > 0).then(|| PALETTE[(track_id as usize - 1) % PALETTE.len()])
}

/// One channel of the mask blend (see the module docs).
#[inline]
pub fn blend_channel(video: u8, colour: u8, opacity: f32) -> u8 {
    let a = opacity.clamp(0.0, 1.0);
    let v = f32::from(video);
    (v + (f32::from(colour) - v) * a).round().clamp(0.0, 255.0) as u8
}

/// Blends every visible track's colour into `frame`; `ids` is a video-resolution id map
/// (from [`IdMapper::render`]). Returns `false` (and leaves the frame) if the sizes differ.
pub fn blend_masks(frame: &mut RgbFrame, ids: &[u32], visible: &dyn Fn(u32) -> bool, opacity: f32) -> bool {
    if ids.len() != frame.width as usize * frame.height as usize || frame.data.len() != ids.len() * 3 {
        return false;
    }
    for (px, &id) in frame.data.chunks_exact_mut(3).zip(ids) {
        if id == 0 || !visible(id) {
            continue;
        }
        if let Some(c) = track_color(id) {
            for k in 0..3 {
                px[k] = blend_channel(px[k], c[k], opacity);
            }
        }
    }
    true
}

/// Stride-4 id map stored as runs `(id, length)` in row-major order: a few hundred bytes a frame.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CellRuns {
    pub w: usize,
    pub h: usize,
    pub runs: Vec<(u32, u32)>,
}

impl CellRuns {
    pub fn encode(cells: &[u32], w: usize, h: usize) -> Self {
        let mut runs: Vec<(u32, u32)> = Vec::new();
        for &c in cells {
            match runs.last_mut() {
                Some((id, n)) if *id == c => *n += 1,
                _ => runs.push((c, 1)),
            }
        }
        Self { w, h, runs }
    }

    pub fn decode_into(&self, out: &mut Vec<u32>) {
        out.clear();
        out.reserve(self.w * self.h);
        for &(id, n) in &self.runs {
            out.extend(std::iter::repeat_n(id, n as usize));
        }
    }

    pub fn decode(&self) -> Vec<u32> {
        let mut v = Vec::new();
        self.decode_into(&mut v);
        v
    }

    /// Bytes held (for memory budgets).
    pub fn bytes(&self) -> usize {
        self.runs.len() * 8
    }
}

/// One instance's flow towards one reference, in video coordinates.
#[derive(Clone, Debug, PartialEq)]
pub struct FlowRecord {
    pub ref_frame: usize,
    /// Where center + flow lands, `[x, y]`.
    pub target: [f32; 2],
    /// Flow vector `[dx, dy]` in video pixels.
    pub vector: [f32; 2],
    /// Nearest identified instance there: (track id, distance in input pixels).
    pub nearest: Option<(u32, f64)>,
}

/// One identified instance, in the compact form the viewer keeps for every processed frame.
#[derive(Clone, Debug, PartialEq)]
pub struct InstanceRecord {
    pub track_id: u32,
    pub class_id: u32,
    pub score: f32,
    /// Mask area in video pixels (exact when built with an [`IdMapper`], else from cells).
    pub area: u64,
    /// Center `[x, y]`.
    pub center: [f32; 2],
    pub flows: Vec<FlowRecord>,
    pub decision: Decision,
    /// Frames the track went unseen just before this one (kept alive while hidden).
    pub hidden_before: usize,
}

/// Everything the viewer and the exporter need to draw one processed frame.
#[derive(Clone, Debug, PartialEq)]
pub struct FrameRecord {
    pub index: usize,
    pub pts_seconds: f64,
    /// The soft id map at the head's stride (`assemble::edges`), run-length encoded.
    pub soft_ids: CellRuns,
    pub instances: Vec<InstanceRecord>,
}

impl FrameRecord {
    /// Converts an assembler result; `mapper` (for the same letterbox) gives exact areas, with
    /// the edges `image` (the frame) guides as in the results files.
    pub fn from_result(r: &FrameResult, lb: &Letterbox, mapper: Option<&IdMapper>, image: Option<&RgbFrame>) -> Self {
        let mut areas: Option<Vec<(u32, u64)>> = None;
        if let Some(m) = mapper {
            let mut ids = Vec::new();
            if m.render_guided(&r.soft_ids, image, &mut ids) {
                areas = Some(crate::assemble::idmap::extents(&ids, m.width).iter().map(|e| (e.id, e.area)).collect());
            }
        }
        let (sx, sy) = lb.axis_scales();
        let video = |p: [f64; 2]| {
            let (y, x) = lb.to_video(p[0], p[1]);
            [x as f32, y as f32]
        };
        let instances = r
            .instances
            .iter()
            .map(|t| {
                let d = &t.detection;
                let center = video(d.position);
                let area = match &areas {
                    Some(a) => a.iter().find(|(id, _)| *id == t.track_id).map_or(0, |&(_, a)| a),
                    None => (d.cells as f64 * 16.0 / (sx * sy)).round() as u64,
                };
                let flows = t
                    .votes
                    .iter()
                    .map(|v| {
                        let target = video(v.warped);
                        FlowRecord {
                            ref_frame: v.ref_frame,
                            target,
                            vector: [target[0] - center[0], target[1] - center[1]],
                            nearest: v.nearest,
                        }
                    })
                    .collect();
                InstanceRecord {
                    track_id: t.track_id,
                    class_id: d.class_id,
                    score: d.score as f32,
                    area,
                    center,
                    flows,
                    decision: t.decision.clone(),
                    hidden_before: t.hidden_before,
                }
            })
            .collect();
        Self {
            index: r.index,
            pts_seconds: r.pts_seconds,
            soft_ids: CellRuns::encode(&r.soft_ids, r.cells_w, r.cells_h),
            instances,
        }
    }

    pub fn instance(&self, track_id: u32) -> Option<&InstanceRecord> {
        self.instances.iter().find(|i| i.track_id == track_id)
    }

    /// Approximate bytes held (for memory budgets).
    pub fn bytes(&self) -> usize {
        size_of::<Self>()
            + self.soft_ids.bytes()
            + self.instances.iter().map(|i| size_of::<InstanceRecord>() + i.flows.len() * 48).sum::<usize>()
    }
}

/// Which overlay layers are drawn.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Layers {
    pub masks: bool,
    pub centers: bool,
    pub flows: bool,
    pub labels: bool,
    pub trails: bool,
}

impl Default for Layers {
    fn default() -> Self {
        Self { masks: true, centers: true, flows: false, labels: true, trails: false }
    }
}

/// The user's choices that shape a scene.
#[derive(Clone, Debug, PartialEq)]
pub struct SceneOptions {
    pub layers: Layers,
    /// Mask opacity `a` of the blend formula.
    pub opacity: f32,
    /// Instances scoring below this are hidden everywhere (masks included).
    pub min_score: f32,
    /// Class ids that are hidden.
    pub hidden_classes: BTreeSet<u32>,
    /// How many past frames a trail reaches back.
    pub trail_frames: usize,
    pub selected: Option<u32>,
}

impl Default for SceneOptions {
    fn default() -> Self {
        Self {
            layers: Layers::default(),
            opacity: 0.5,
            min_score: 0.0,
            hidden_classes: BTreeSet::new(),
            trail_frames: 30,
            selected: None,
        }
    }
}

impl SceneOptions {
    pub fn shows(&self, inst: &InstanceRecord) -> bool {
        inst.score >= self.min_score && !self.hidden_classes.contains(&inst.class_id)
    }
}

#[derive(Clone, Debug, PartialEq)]
pub struct Marker {
    pub track_id: u32,
    pub pos: [f32; 2],
    pub color: [u8; 3],
    pub selected: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Arrow {
    pub track_id: u32,
    pub ref_frame: usize,
    pub from: [f32; 2],
    pub to: [f32; 2],
    pub color: [u8; 3],
}

#[derive(Clone, Debug, PartialEq)]
pub struct Label {
    pub track_id: u32,
    /// Anchor: the instance's center; painters put the text just above it.
    pub pos: [f32; 2],
    pub text: String,
    pub color: [u8; 3],
}

#[derive(Clone, Debug, PartialEq)]
pub struct Trail {
    pub track_id: u32,
    /// Oldest first; ends at the current center.
    pub points: Vec<[f32; 2]>,
    pub color: [u8; 3],
}

/// The overlay of one frame after filtering.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Scene {
    /// Track ids whose masks are drawn (sorted); empty when the mask layer is off.
    pub mask_ids: Vec<u32>,
    pub opacity: f32,
    pub centers: Vec<Marker>,
    pub arrows: Vec<Arrow>,
    pub labels: Vec<Label>,
    pub trails: Vec<Trail>,
}

impl Scene {
    pub fn shows_mask(&self, id: u32) -> bool {
        self.mask_ids.binary_search(&id).is_ok()
    }
}

/// Label text: `#track class score`.
pub fn label_text(inst: &InstanceRecord, class_names: &[String]) -> String {
    let class = class_names
        .get((inst.class_id as usize).wrapping_sub(1))
        .cloned()
        .unwrap_or_else(|| format!("class {}", inst.class_id));
    format!("#{} {} {:.2}", inst.track_id, class, inst.score)
}

/// Builds the scene of `current`; `history(i)` gives earlier processed frames for trails.
pub fn build_scene<'a>(
    current: &FrameRecord,
    history: &dyn Fn(usize) -> Option<&'a FrameRecord>,
    opts: &SceneOptions,
    class_names: &[String],
) -> Scene {
    let mut scene = Scene { opacity: opts.opacity.clamp(0.0, 1.0), ..Scene::default() };
    let l = opts.layers;
    for inst in current.instances.iter().filter(|i| opts.shows(i)) {
        let Some(color) = track_color(inst.track_id) else { continue };
        let id = inst.track_id;
        if l.masks {
            scene.mask_ids.push(id);
        }
        if l.centers {
            scene.centers.push(Marker { track_id: id, pos: inst.center, color, selected: opts.selected == Some(id) });
        }
        if l.flows {
            for f in &inst.flows {
                scene.arrows.push(Arrow {
                    track_id: id,
                    ref_frame: f.ref_frame,
                    from: inst.center,
                    to: f.target,
                    color,
                });
            }
        }
        if l.labels {
            scene.labels.push(Label { track_id: id, pos: inst.center, text: label_text(inst, class_names), color });
        }
        if l.trails && opts.trail_frames > 0 {
            let first = current.index.saturating_sub(opts.trail_frames);
            let mut points: Vec<[f32; 2]> = (first..current.index)
                .filter_map(|f| history(f).and_then(|r| r.instance(id)).map(|i| i.center))
                .collect();
            points.push(inst.center);
            if points.len() > 1 {
                scene.trails.push(Trail { track_id: id, points, color });
            }
        }
    }
    scene.mask_ids.sort_unstable();
    scene.mask_ids.dedup();
    scene
}

#[cfg(test)]
mod tests {
    use super::*;

    fn inst(id: u32, class_id: u32, score: f32, x: f32) -> InstanceRecord {
        InstanceRecord {
            track_id: id,
            class_id,
            score,
            area: 10,
            center: [x, 5.0],
            flows: vec![FlowRecord { ref_frame: 0, target: [x - 2.0, 5.0], vector: [-2.0, 0.0], nearest: None }],
            decision: Decision::NewNoReference,
            hidden_before: 0,
        }
    }

    fn rec(index: usize, instances: Vec<InstanceRecord>) -> FrameRecord {
        FrameRecord { index, pts_seconds: 0.0, soft_ids: CellRuns::default(), instances }
    }

    #[test]
    fn colours_are_stable_and_zero_has_none() {
        assert_eq!(track_color(0), None);
        assert_eq!(track_color(1), Some(PALETTE[0]));
        assert_eq!(track_color(1 + PALETTE.len() as u32), Some(PALETTE[0]));
        assert_ne!(track_color(1), track_color(2));
    }

    #[test]
    fn blend_follows_the_formula_and_skips_hidden_ids() {
        assert_eq!(blend_channel(100, 200, 0.5), 150);
        assert_eq!(blend_channel(0, 255, 1.0), 255);
        assert_eq!(blend_channel(10, 255, 0.0), 10);
        let mut f = RgbFrame::from_raw(2, 1, vec![0, 0, 0, 50, 50, 50]).expect("size");
        assert!(blend_masks(&mut f, &[1, 2], &|id| id == 1, 0.5));
        let c = PALETTE[0];
        assert_eq!(
            &f.data[..3],
            &[blend_channel(0, c[0], 0.5), blend_channel(0, c[1], 0.5), blend_channel(0, c[2], 0.5)]
        );
        assert_eq!(&f.data[3..], &[50, 50, 50]);
        assert!(!blend_masks(&mut f, &[1], &|_| true, 0.5));
    }

    #[test]
    fn cell_runs_round_trip() {
        let cells = vec![0, 0, 3, 3, 3, 0, 7, 7];
        let r = CellRuns::encode(&cells, 4, 2);
        assert_eq!(r.runs.len(), 4);
        assert_eq!(r.decode(), cells);
    }

    #[test]
    fn filters_layers_and_trails() {
        let names = vec!["disc".to_owned(), "square".to_owned()];
        let past: Vec<FrameRecord> = (0..3).map(|i| rec(i, vec![inst(1, 1, 0.9, i as f32)])).collect();
        let cur = rec(3, vec![inst(1, 1, 0.9, 3.0), inst(2, 2, 0.2, 50.0)]);
        let history = |i: usize| past.get(i);
        let mut o = SceneOptions { min_score: 0.5, ..SceneOptions::default() };
        o.layers.trails = true;
        o.layers.flows = true;
        let s = build_scene(&cur, &history, &o, &names);
        assert_eq!(s.mask_ids, vec![1]);
        assert_eq!(s.labels[0].text, "#1 disc 0.90");
        assert_eq!(s.arrows.len(), 1);
        assert_eq!(s.trails[0].points.len(), 4);
        o.min_score = 0.0;
        o.hidden_classes.insert(1);
        o.layers.masks = false;
        let s = build_scene(&cur, &history, &o, &names);
        assert!(s.mask_ids.is_empty());
        assert_eq!(s.centers.len(), 1);
        assert_eq!(s.centers[0].track_id, 2);
    }
}
