//! The whole runtime for one video: frame → inference with the reference memory →
//! post-processing → assembly → id map at the video's resolution. `ifa run`, the viewer and
//! the exporter drive this.

use std::path::PathBuf;
use std::time::Instant;

use crate::assemble::AssociationParams;
use crate::assemble::idmap::IdMapper;
use crate::assemble::tracker::TrackInfo;
use crate::assemble::{Assembler, FrameResult};
use crate::frame::RgbFrame;
use crate::infer::contract::ModelContract;
use crate::infer::runtime::{LoadedModel, Provider};
use crate::infer::stream::{InferError, StreamEngine};
use crate::model::refs::{RefsLimitError, limit_policy};
use crate::model::{HeadMaps, PostParams, RefsPolicy};

/// Run-time choices that differ from the method's defaults (the ablation settings).
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct PipelineOptions {
    /// How detections are compared with their references (default: instance flow).
    pub association: AssociationParams,
    /// Use at most this many references (`None`: the model's `ifa.refs.count`).
    pub refs: Option<usize>,
}

/// A pipeline that cannot be built.
#[derive(Debug, thiserror::Error)]
pub enum PipelineError {
    #[error(transparent)]
    Infer(#[from] InferError),
    #[error("model {path}: {source}")]
    Refs { path: PathBuf, source: RefsLimitError },
}

/// Model + memory + tracker for one stream of frames.
pub struct Pipeline {
    pub(super) engine: StreamEngine,
    pub(super) assembler: Assembler,
    pub(super) mapper: Option<IdMapper>,
    /// The model's own `ifa.refs` (the engine's contract holds the policy in use).
    model_refs: RefsPolicy,
}

impl Pipeline {
    /// Checks the model against the contract; post-processing uses the model's `ifa.post`.
    pub fn new(model: LoadedModel) -> Result<Self, InferError> {
        let engine = StreamEngine::new(model)?;
        let c = engine.contract();
        let assembler = Assembler::new(c.post, c.refs, c.num_classes());
        let model_refs = c.refs;
        Ok(Self { engine, assembler, mapper: None, model_refs })
    }

    /// As [`Pipeline::new`], with another association mode and/or fewer references.
    pub fn with_options(mut model: LoadedModel, opts: &PipelineOptions) -> Result<Self, PipelineError> {
        let model_refs = ModelContract::from_model(&model).map_err(InferError::from)?.refs;
        if let Some(n) = opts.refs {
            let path = model.path.clone();
            let policy = limit_policy(&model_refs, n).map_err(|source| PipelineError::Refs { path, source })?;
            // The engine reads its policy from the model's `ifa.refs`, so the limited policy is
            // handed to it there: the engine, the tracker and `contract().refs` then agree.
            let json = format!(
                r#"{{"count": {}, "first_frame": {}, "step": {}}}"#,
                policy.count, policy.first_frame, policy.step
            );
            model.metadata.insert("ifa.refs".to_owned(), json);
        }
        let mut p = Self::new(model)?;
        p.model_refs = model_refs;
        p.assembler.set_association(opts.association);
        Ok(p)
    }

    /// The model's contract; `refs` is the reference policy in use (see [`Pipeline::model_refs`]).
    pub fn contract(&self) -> &ModelContract {
        self.engine.contract()
    }

    /// The reference policy the model declares, before any `--refs` limit.
    pub fn model_refs(&self) -> RefsPolicy {
        self.model_refs
    }

    /// The association mode in use.
    pub fn association(&self) -> AssociationParams {
        self.assembler.tracker().association()
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

    /// The engine, to record its head maps or replay a recording (`model::maps_file`).
    pub fn engine_mut(&mut self) -> &mut StreamEngine {
        &mut self.engine
    }

    pub fn assembler(&self) -> &Assembler {
        &self.assembler
    }

    /// Overrides post-processing parameters (e.g. from the viewer); takes effect next frame.
    pub fn set_post(&mut self, post: PostParams) {
        self.mapper = self.mapper.take().map(|m| m.with_post(&post));
        self.assembler.set_params(post);
    }

    /// Starts a new stream: memory and identities are forgotten (a new video or a seek).
    pub fn reset(&mut self) {
        self.engine.reset();
        self.assembler.reset();
        self.mapper = None;
    }

    /// The raw head maps of the last frame run (for debug views).
    pub fn last_maps(&self) -> &HeadMaps {
        self.engine.maps()
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
            let post = &self.assembler.params;
            self.mapper = lb.map(|lb| IdMapper::new(&lb, res.cells_h, res.cells_w).with_post(post));
        }
        Ok(res)
    }

    /// Renders a result's id map at the video's resolution into `out` (row-major, 0 = none),
    /// its edges guided by `image`, the frame it came from (`ifa.post` `edge_sigma`,
    /// `refine_radius`); adds the
    /// time to `res.times.render`. `false` before the first frame or on a size mismatch.
    pub fn render_ids(&self, res: &mut FrameResult, image: &RgbFrame, out: &mut Vec<u32>) -> bool {
        let t0 = Instant::now();
        let ok = self.mapper.as_ref().is_some_and(|m| m.render_guided(&res.soft_ids, Some(image), out));
        res.times.render += t0.elapsed();
        ok
    }

    /// The id-map geometry of the current stream (known after its first frame).
    pub fn id_mapper(&self) -> Option<&IdMapper> {
        self.mapper.as_ref()
    }
}
