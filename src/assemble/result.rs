//! One frame's outcome and the object that produces it from head maps.

use std::time::{Duration, Instant};

use super::detect::{DetectScratch, detect};
use super::maps::HeadMaps;
use super::tracker::{TrackedInstance, Tracker};
use crate::infer::contract::{PostParams, RefsPolicy};

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
    /// Stride-4 track-id map (`cells_h x cells_w`, 0 = none); render it at the video's
    /// resolution with [`super::idmap::IdMapper`].
    pub cells: Vec<u32>,
    pub cells_h: usize,
    pub cells_w: usize,
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
    tracker: Tracker,
}

impl Assembler {
    pub fn new(params: PostParams, refs: RefsPolicy, num_classes: usize) -> Self {
        Self {
            params,
            scratch: DetectScratch::default(),
            tracker: Tracker::new(refs, params.match_distance, num_classes),
        }
    }

    /// New post-processing parameters; identities so far are kept.
    pub fn set_params(&mut self, params: PostParams) {
        self.params = params;
        self.tracker.set_match_distance(params.match_distance);
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
        let t1 = Instant::now();
        let instances = self.tracker.step(index, &maps.refs, detections);
        let ids: Vec<u32> = instances.iter().map(|i| i.track_id).collect();
        let cells = self.scratch.group.iter().map(|&g| if g == u16::MAX { 0 } else { ids[g as usize] }).collect();
        let t2 = Instant::now();
        FrameResult {
            index,
            pts_seconds: 0.0,
            refs: maps.refs.clone(),
            instances,
            cells,
            cells_h: maps.h,
            cells_w: maps.w,
            times: StageTimes { postprocess: t1 - t0, assembly: t2 - t1, ..StageTimes::default() },
        }
    }
}
