//! The whole runtime for one video: frame → inference with the reference memory →
//! post-processing → assembly → id map at the video's resolution. `ifa run`, the viewer and
//! the exporter drive this.

use std::time::Instant;

use super::contract::ModelContract;
use super::runtime::{LoadedModel, Provider};
use super::stream::{InferError, StreamEngine};
use crate::assemble::idmap::IdMapper;
use crate::assemble::tracker::TrackInfo;
use crate::assemble::{Assembler, FrameResult};
use crate::frame::RgbFrame;

/// Model + memory + tracker for one stream of frames.
pub struct Pipeline {
    engine: StreamEngine,
    assembler: Assembler,
    mapper: Option<IdMapper>,
}

impl Pipeline {
    /// Checks the model against the contract; post-processing uses the model's `ifa.post`.
    pub fn new(model: LoadedModel) -> Result<Self, InferError> {
        let engine = StreamEngine::new(model)?;
        let c = engine.contract();
        let assembler = Assembler::new(c.post, c.refs, c.num_classes());
        Ok(Self { engine, assembler, mapper: None })
    }

    pub fn contract(&self) -> &ModelContract {
        self.engine.contract()
    }

    pub fn provider(&self) -> Provider {
        self.engine.provider()
    }

    pub fn warnings(&self) -> &[String] {
        self.engine.warnings()
    }

    pub fn engine(&self) -> &StreamEngine {
        &self.engine
    }

    pub fn assembler(&self) -> &Assembler {
        &self.assembler
    }

    /// Overrides post-processing parameters (e.g. from the viewer); takes effect next frame.
    pub fn set_post(&mut self, post: crate::infer::contract::PostParams) {
        self.assembler.set_params(post);
    }

    /// Starts a new stream: memory and identities are forgotten (a new video or a seek).
    pub fn reset(&mut self) {
        self.engine.reset();
        self.assembler.reset();
        self.mapper = None;
    }

    /// All tracks so far, by id.
    pub fn tracks(&self) -> impl Iterator<Item = &TrackInfo> {
        self.assembler.tracker().tracks()
    }

    /// Runs one frame. `pts_seconds` is copied into the result.
    pub fn process(&mut self, frame: &RgbFrame, pts_seconds: f64) -> Result<FrameResult, InferError> {
        let index = self.engine.next_frame();
        let (maps, t) = self.engine.infer(frame)?;
        let mut res = self.assembler.step(index, maps);
        res.pts_seconds = pts_seconds;
        res.times.preprocess = t.preprocess;
        res.times.inference = t.inference;
        if self.mapper.is_none() {
            let lb = self.engine.letterbox().copied();
            self.mapper = lb.map(|lb| IdMapper::new(&lb, res.cells_h, res.cells_w));
        }
        Ok(res)
    }

    /// Renders a result's id map at the video's resolution into `out` (row-major, 0 = none);
    /// adds the time to `res.times.render`. `false` before the first frame or on a size mismatch.
    pub fn render_ids(&self, res: &mut FrameResult, out: &mut Vec<u32>) -> bool {
        let t0 = Instant::now();
        let ok = self.mapper.as_ref().is_some_and(|m| m.render(&res.cells, out));
        res.times.render += t0.elapsed();
        ok
    }

    /// The id-map geometry of the current stream (known after its first frame).
    pub fn id_mapper(&self) -> Option<&IdMapper> {
        self.mapper.as_ref()
    }
}
