//! One frame's outcome and the object that produces it from head maps.

use std::time::{Duration, Instant};

use super::association::AssociationParams;
use super::detect::{DetectScratch, detect};
use super::edges::{SoftCells, soft_cells, soft_ids};
use super::tracker::{TrackedInstance, Tracker};
use crate::model::{HeadMaps, PostParams, RefsPolicy};

/// Everything known about one frame after assembly.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FrameResult {
    pub index: usize,
    /// Presentation time, seconds (filled by the caller that knows it).
    pub pts_seconds: f64,
    /// References used, runtime order.
    pub refs: Vec<usize>,
    /// Identified instances, in detection order (by center heat, highest first).
    pub instances: Vec<TrackedInstance>,
    /// Track-id map at the head's stride (`cells_h x cells_w`, 0 = none); render it at the video's
    /// resolution with [`super::idmap::IdMapper`].
    pub cells: Vec<u32>,
    pub cells_h: usize,
    pub cells_w: usize,
    /// The same cells as soft ids ([`super::edges`]): halo cells included, each with its
    /// foreground probability. Masks at the video's resolution are drawn from this map.
    pub soft_ids: Vec<u32>,
    /// Time per stage; `step` fills post-processing and assembly, the pipeline the rest.
    pub times: StageTimes,
}

/// Time spent in each stage of one frame (or summed over many).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct StageTimes {
    pub decode: Duration,
    pub preprocess: Duration,
    pub inference: Duration,
    pub postprocess: Duration,
    pub assembly: Duration,
    /// Id map at the video's resolution.
    pub render: Duration,
}

impl StageTimes {
    pub fn total(&self) -> Duration {
        self.decode + self.preprocess + self.inference + self.postprocess + self.assembly + self.render
    }
}

impl std::ops::AddAssign for StageTimes {
    fn add_assign(&mut self, o: Self) {
        self.decode += o.decode;
        self.preprocess += o.preprocess;
        self.inference += o.inference;
        self.postprocess += o.postprocess;
        self.assembly += o.assembly;
        self.render += o.render;
    }
}

/// Post-processing and assembly for one video.
#[derive(Clone, Debug)]
pub struct Assembler {
    pub params: PostParams,
    scratch: DetectScratch,
    soft: SoftCells,
    tracker: Tracker,
}

impl Assembler {
    pub fn new(params: PostParams, refs: RefsPolicy, num_classes: usize) -> Self {
        let mut tracker = Tracker::new(refs, params.match_distance, num_classes);
        tracker.set_keep_alive(params.max_hidden, params.relink_distance);
        tracker.set_relink_same_class(params.relink_same_class);
        tracker.set_older_refs_same_class(params.older_refs_same_class);
        tracker.set_flow_weight(params.flow_weight);
        tracker.set_match_first_frame(params.match_first_frame);
        tracker.set_exchange_ratio(params.exchange_ratio);
        tracker.set_consistency(params.size_weight, params.class_penalty);
        tracker.set_merge_ratio(params.merge_ratio);
        Self { params, scratch: DetectScratch::default(), soft: SoftCells::default(), tracker }
    }

    /// New post-processing parameters; identities so far are kept.
    pub fn set_params(&mut self, params: PostParams) {
        self.params = params;
        self.tracker.set_match_distance(params.match_distance);
        self.tracker.set_keep_alive(params.max_hidden, params.relink_distance);
        self.tracker.set_relink_same_class(params.relink_same_class);
        self.tracker.set_older_refs_same_class(params.older_refs_same_class);
        self.tracker.set_flow_weight(params.flow_weight);
        self.tracker.set_match_first_frame(params.match_first_frame);
        self.tracker.set_exchange_ratio(params.exchange_ratio);
        self.tracker.set_consistency(params.size_weight, params.class_penalty);
        self.tracker.set_merge_ratio(params.merge_ratio);
    }

    /// Changes how detections are compared with the references (the ablation baselines);
    /// identities so far are kept, takes effect next frame.
    pub fn set_association(&mut self, a: AssociationParams) {
        self.tracker.set_association(a);
    }

    pub fn tracker(&self) -> &Tracker {
        &self.tracker
    }

    /// Forgets all identities (a new video or a seek).
    pub fn reset(&mut self) {
        self.tracker.reset();
    }

    /// Detects the instances of frame `index` and gives them identities.
    pub fn step(&mut self, index: usize, maps: &HeadMaps) -> FrameResult {
        let t0 = Instant::now();
        let detections = detect(maps, &self.params, &mut self.scratch);
        soft_cells(maps, &detections, &self.scratch.group, &mut self.soft);
        let t1 = Instant::now();
        self.tracker.set_cell_stride(maps.stride);
        let instances = self.tracker.step(index, &maps.refs, detections, &self.scratch.group, maps.w);
        let ids: Vec<u32> = instances.iter().map(|i| i.track_id).collect();
        let cells = self.scratch.group.iter().map(|&g| if g == u16::MAX { 0 } else { ids[g as usize] }).collect();
        let soft_ids = soft_ids(&self.scratch.group, &self.soft, &ids);
        let t2 = Instant::now();
        FrameResult {
            index,
            pts_seconds: 0.0,
            refs: maps.refs.clone(),
            instances,
            cells,
            cells_h: maps.h,
            cells_w: maps.w,
            soft_ids,
            times: StageTimes { postprocess: t1 - t0, assembly: t2 - t1, ..StageTimes::default() },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::assemble::association::Association;
    use crate::assemble::tracker::Decision;

    const H: usize = 12;
    const W: usize = 24;

    /// (class, center cell, flow (dy, dx) in input pixels towards each reference).
    type Object<'a> = (usize, (usize, usize), &'a [[f32; 2]]);

    /// Head maps with one 3x3-cell square per object, exact intra and inter offsets.
    fn scene(objects: &[Object<'_>], refs: Vec<usize>) -> HeadMaps {
        let (n, k, l) = (H * W, 2, refs.len());
        let mut m = HeadMaps {
            h: H,
            stride: 4,
            w: W,
            num_classes: k,
            semantic: vec![0.0; (k + 1) * n],
            center: vec![0.0; n],
            offset: vec![0.0; 2 * n],
            inter_offset: vec![0.0; 2 * n * l],
            refs,
        };
        for &(cls, (ci, cj), flows) in objects {
            m.center[ci * W + cj] = 0.9;
            let (cy, cx) = m.cell_position(ci, cj);
            for i in ci - 1..=ci + 1 {
                for j in cj - 1..=cj + 1 {
                    let idx = i * W + j;
                    m.semantic[cls * n + idx] = 5.0;
                    let (py, px) = m.cell_position(i, j);
                    m.offset[idx] = cy - py;
                    m.offset[n + idx] = cx - px;
                    for (r, f) in flows.iter().enumerate() {
                        m.inter_offset[r * 2 * n + idx] = cy + f[0] - py;
                        m.inter_offset[r * 2 * n + n + idx] = cx + f[1] - px;
                    }
                }
            }
        }
        m
    }

    fn assembler(mode: &str) -> Assembler {
        let post = PostParams {
            center_threshold: 0.1,
            nms_kernel: 3,
            top_k: 8,
            match_distance: 20.0,
            min_pixels: 1,
            // These tests isolate the association comparison; the keep-alive (which would
            // re-link what the comparison refuses) has its own tests in `tracker`.
            max_hidden: 0,
            ..PostParams::default()
        };
        let mut a = Assembler::new(post, RefsPolicy { count: 2, first_frame: true, step: 1 }, 2);
        a.set_association(mode.parse().expect("mode"));
        a
    }

    /// Track id of the instance of class `cls`.
    fn track_of(r: &FrameResult, cls: u32) -> u32 {
        r.instances.iter().find(|i| i.detection.class_id == cls).expect("instance of the class").track_id
    }

    /// Two objects 16 px apart vertically cross horizontally at 24 px per frame: each lands 16 px
    /// from where the other was and 24 px from its own old place.
    fn crossing(mode: &str) -> (FrameResult, FrameResult) {
        let mut a = assembler(mode);
        let f0 = a.step(0, &scene(&[(1, (3, 7), &[]), (2, (7, 13), &[])], vec![]));
        let f1 = a.step(1, &scene(&[(1, (3, 13), &[[0.0, -24.0]]), (2, (7, 7), &[[0.0, 24.0]])], vec![0]));
        (f0, f1)
    }

    #[test]
    fn crossing_objects_keep_identities_by_flow_and_swap_by_center() {
        let (f0, f1) = crossing("flow");
        let (a, b) = (track_of(&f0, 1), track_of(&f0, 2));
        assert_eq!((track_of(&f1, 1), track_of(&f1, 2)), (a, b), "flow keeps identities");
        for i in &f1.instances {
            assert!(matches!(i.decision, Decision::Matched { by: Association::Flow, value: 0.0, .. }), "{i:?}");
        }

        let (f0, f1) = crossing("center");
        let (a, b) = (track_of(&f0, 1), track_of(&f0, 2));
        assert_eq!((track_of(&f1, 1), track_of(&f1, 2)), (b, a), "nearest unwarped center swaps them");
        for i in &f1.instances {
            assert!(matches!(i.decision, Decision::Matched { by: Association::Center, value: 16.0, .. }), "{i:?}");
        }

        // The masks moved farther than their size: nothing overlaps, two new tracks.
        let (_, f1) = crossing("iou");
        assert_eq!((track_of(&f1, 1), track_of(&f1, 2)), (3, 4));
        for i in &f1.instances {
            assert_eq!(i.decision.describe(), "new: no identified mask in the references overlaps it");
        }
        // The id map follows the identities in every mode.
        assert_eq!(f1.cells.iter().filter(|&&c| c == 3).count(), 9);
    }

    #[test]
    fn slow_neighbours_match_by_mask_overlap() {
        // Two squares a column apart, both moving a cell right: each keeps 2 of its 3 columns
        // (IoU 0.5) and the left one comes a column closer to its neighbour's old place.
        let mut a = assembler("iou");
        let f0 = a.step(0, &scene(&[(1, (5, 7), &[]), (2, (5, 11), &[])], vec![]));
        let f1 = a.step(1, &scene(&[(1, (5, 8), &[[0.0; 2]]), (2, (5, 12), &[[0.0; 2]])], vec![0]));
        assert_eq!((track_of(&f1, 1), track_of(&f1, 2)), (track_of(&f0, 1), track_of(&f0, 2)));
        for i in &f1.instances {
            assert!(matches!(i.decision, Decision::Matched { by: Association::Iou, value: 0.5, .. }), "{i:?}");
            assert_eq!(i.votes[0].overlap.map(|o| o.1), Some(0.5));
        }
        // A stricter gate refuses both.
        let mut a = assembler("iou:0.6");
        a.step(0, &scene(&[(1, (5, 7), &[]), (2, (5, 11), &[])], vec![]));
        let f1 = a.step(1, &scene(&[(1, (5, 8), &[[0.0; 2]]), (2, (5, 12), &[[0.0; 2]])], vec![0]));
        assert!(f1.instances.iter().all(|i| matches!(i.decision, Decision::NewNothingNear { .. })));
    }
}
