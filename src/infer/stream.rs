//! Streaming inference with the reference memory: every frame runs through the graph once, its
//! stride-16/32 features are kept for as long as a later frame may use them as references.

use std::time::{Duration, Instant};

use ort::value::TensorRef;

use super::contract::{ContractError, ModelContract};
use super::preprocess::Preprocessor;
use super::runtime::{LoadedModel, Provider};
use crate::frame::RgbFrame;
use crate::model::HeadMaps;
use crate::model::Letterbox;
use crate::model::maps_file::{MapsFileError, MapsHeader, MapsReader, MapsWriter};
use crate::model::refs::{reference_frames, retain_from};

#[derive(Debug, thiserror::Error)]
pub enum InferError {
    #[error(transparent)]
    Contract(#[from] ContractError),
    #[error("frame {index} is {got_w}x{got_h} but this stream started at {want_w}x{want_h}")]
    FrameSize { index: usize, got_w: u32, got_h: u32, want_w: u32, want_h: u32 },
    #[error("frame is empty (0x0 or truncated pixel data)")]
    EmptyFrame,
    #[error("model {path}: inference failed on frame {index}: {message}")]
    Run { path: String, index: usize, message: String },
    #[error("model {path}: output `{name}` has shape {got:?} at run time, expected {want:?}")]
    OutputShape { path: String, name: String, got: Vec<i64>, want: Vec<i64> },
    #[error(
        "model {path}: output `{name}` holds {value} on frame {index}; the model is broken (its weights or export)"
    )]
    NonFinite { path: String, name: String, index: usize, value: f32 },
    #[error(transparent)]
    Maps(#[from] MapsFileError),
}

impl InferError {
    /// Frame `index` is `got_w`x`got_h` but the stream's letterbox was made for `want`'s video.
    pub fn frame_size(index: usize, got_w: u32, got_h: u32, want: &Letterbox) -> Self {
        Self::FrameSize { index, got_w, got_h, want_w: want.video_w, want_h: want.video_h }
    }
}

/// Time spent in each stage of one frame.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct InferTimes {
    pub preprocess: Duration,
    /// The session run, reference batching and output copies included.
    pub inference: Duration,
}

/// One memory entry: a processed frame's features.
struct Entry {
    frame: usize,
    feat16: Vec<f32>,
    feat32: Vec<f32>,
}

/// Runs a contract-following model frame by frame.
pub struct StreamEngine {
    model: LoadedModel,
    contract: ModelContract,
    pre: Option<Preprocessor>,
    image: Vec<f32>,
    memory: Vec<Entry>,
    /// Dropped entries' buffers, reused for new ones.
    spare: Vec<Entry>,
    ref16: Vec<f32>,
    ref32: Vec<f32>,
    maps: HeadMaps,
    next_frame: usize,
    /// Recording the head maps, or replaying a recording instead of running the network.
    maps_io: MapsIo,
}

/// Where head maps go besides the assembly, or come from instead of the network.
enum MapsIo {
    Off,
    Record(MapsWriter),
    Replay(MapsReader),
}

impl StreamEngine {
    /// Checks the model against the contract and prepares the stream.
    pub fn new(model: LoadedModel) -> Result<Self, InferError> {
        let contract = ModelContract::from_model(&model)?;
        let (h, w) = contract.head_size();
        let maps =
            HeadMaps { h, w, stride: contract.head_stride, num_classes: contract.num_classes(), ..HeadMaps::default() };
        Ok(Self {
            model,
            contract,
            pre: None,
            image: Vec::new(),
            memory: Vec::new(),
            spare: Vec::new(),
            ref16: Vec::new(),
            ref32: Vec::new(),
            maps,
            next_frame: 0,
            maps_io: MapsIo::Off,
        })
    }

    pub fn contract(&self) -> &ModelContract {
        &self.contract
    }

    pub fn provider(&self) -> Provider {
        self.model.provider
    }

    pub fn warnings(&self) -> &[String] {
        &self.model.warnings
    }

    /// The letterbox of the current stream (known after its first frame).
    pub fn letterbox(&self) -> Option<&Letterbox> {
        self.pre.as_ref().map(Preprocessor::letterbox)
    }

    /// Index the next frame will get.
    pub fn next_frame(&self) -> usize {
        self.next_frame
    }

    /// Frames whose features are held in memory.
    pub fn memory_frames(&self) -> Vec<usize> {
        self.memory.iter().map(|e| e.frame).collect()
    }

    /// Starts a new stream (a new video, or a seek): the memory is emptied and the next frame is
    /// a first frame.
    pub fn reset(&mut self) {
        self.spare.append(&mut self.memory);
        self.next_frame = 0;
        self.pre = None;
    }

    /// The head maps of the last frame run (empty before the first).
    pub fn maps(&self) -> &HeadMaps {
        &self.maps
    }

    /// Runs one frame; returns its head maps (valid until the next call) and stage times.
    pub fn infer(&mut self, frame: &RgbFrame) -> Result<(&HeadMaps, InferTimes), InferError> {
        let index = self.next_frame;
        let t0 = Instant::now();
        self.preprocess(frame, index)?;
        let t1 = Instant::now();
        self.run_frame(index)?;
        self.next_frame += 1;
        let t2 = Instant::now();
        Ok((&self.maps, InferTimes { preprocess: t1 - t0, inference: t2 - t1 }))
    }

    /// A pre-processor for `width`x`height` frames, for a caller that prepares the input
    /// tensors on another thread ([`StreamEngine::infer_input`]).
    pub fn preprocessor(&self, width: u32, height: u32) -> Preprocessor {
        self.contract.preprocessor(width, height)
    }

    /// Runs one frame that `pre` turned into `input` (a pre-processor of this engine's, from
    /// [`StreamEngine::preprocessor`]); `input` comes back holding a spare buffer of the same
    /// size. Returns the head maps (valid until the next call) and the inference time.
    pub fn infer_input(
        &mut self,
        input: &mut Vec<f32>,
        pre: &Preprocessor,
    ) -> Result<(&HeadMaps, Duration), InferError> {
        let index = self.next_frame;
        let lb = *pre.letterbox();
        match &self.pre {
            Some(p) if p.letterbox() != &lb => {
                return Err(InferError::frame_size(index, lb.video_w, lb.video_h, p.letterbox()));
            }
            Some(_) => {}
            None => self.pre = Some(pre.clone()),
        }
        if input.len() != pre.output_len() || lb.input_w != self.contract.input_w || lb.input_h != self.contract.input_h
        {
            return Err(self.run_err(index, "the input was prepared for another model".to_owned()));
        }
        let t0 = Instant::now();
        std::mem::swap(&mut self.image, input);
        self.run_frame(index)?;
        self.next_frame += 1;
        Ok((&self.maps, t0.elapsed()))
    }

    /// The header of a recording of this engine's maps for a `video_w`x`video_h` video.
    pub fn maps_header(&self, video_w: u32, video_h: u32) -> MapsHeader {
        let c = &self.contract;
        let (head_h, head_w) = c.head_size();
        MapsHeader {
            head_h,
            head_w,
            stride: c.head_stride,
            num_classes: c.num_classes(),
            input_h: c.input_h,
            input_w: c.input_w,
            video_w,
            video_h,
            refs: c.refs,
        }
    }

    /// Writes every frame's head maps to `writer` from now on ([`StreamEngine::finish_maps`]
    /// puts the file in place).
    pub fn record_maps(&mut self, writer: MapsWriter) {
        self.maps_io = MapsIo::Record(writer);
    }

    /// Takes every frame's head maps from `reader` instead of running the network. The
    /// recording must come from a model with this one's head, input and references (the video's
    /// size is checked frame by frame, each frame's references as it comes).
    pub fn replay_maps(&mut self, reader: MapsReader) -> Result<(), InferError> {
        let mut want = self.maps_header(0, 0);
        let got = *reader.header();
        (want.video_w, want.video_h) = (got.video_w, got.video_h);
        if got != want {
            return Err(reader.mismatch(format!("recorded as {got:?}, this model and run need {want:?}")).into());
        }
        self.maps_io = MapsIo::Replay(reader);
        Ok(())
    }

    /// Ends a recording (the file is renamed into place) or checks that a replay used every
    /// frame of its recording; nothing to do otherwise.
    pub fn finish_maps(&mut self) -> Result<(), InferError> {
        match std::mem::replace(&mut self.maps_io, MapsIo::Off) {
            MapsIo::Off => Ok(()),
            MapsIo::Record(w) => Ok(w.finish()?),
            MapsIo::Replay(mut r) => match r.next_into(&mut HeadMaps::default())? {
                None => Ok(()),
                Some(_) => Err(r.mismatch(format!("it holds more than the {} frames run", self.next_frame)).into()),
            },
        }
    }

    /// Frame `index`'s head maps into `self.maps`: from the network (and then to a recording,
    /// if one is made) or from the recording being replayed.
    fn run_frame(&mut self, index: usize) -> Result<(), InferError> {
        let refs = reference_frames(index, &self.contract.refs);
        if let MapsIo::Replay(r) = &mut self.maps_io {
            let lb = self.pre.as_ref().map(Preprocessor::letterbox);
            let h = *r.header();
            if let Some(lb) = lb.filter(|lb| (lb.video_w, lb.video_h) != (h.video_w, h.video_h)) {
                let what = format!(
                    "recorded on a {}x{} video, this one is {}x{}",
                    h.video_w, h.video_h, lb.video_w, lb.video_h
                );
                return Err(r.mismatch(what).into());
            }
            let Some(got) = r.next_into(&mut self.maps)? else { return Err(r.ended_before(index).into()) };
            if got != index || self.maps.refs != refs {
                let what = format!(
                    "frame {index} (references {refs:?}) is recorded as frame {got} (references {:?})",
                    self.maps.refs
                );
                return Err(r.mismatch(what).into());
            }
            return Ok(());
        }
        self.gather_refs(index, &refs)?;
        self.run_graph(index, refs)?;
        self.forget_old(index);
        if let MapsIo::Record(w) = &mut self.maps_io {
            w.write(index, &self.maps)?;
        }
        Ok(())
    }

    /// Letterboxes and normalises `frame` into the input tensor's buffer.
    fn preprocess(&mut self, frame: &RgbFrame, index: usize) -> Result<(), InferError> {
        if frame.width == 0 || frame.height == 0 || frame.data.len() != frame.width as usize * frame.height as usize * 3
        {
            return Err(InferError::EmptyFrame);
        }
        let c = &self.contract;
        let pre = self.pre.get_or_insert_with(|| c.preprocessor(frame.width, frame.height));
        self.image.resize(pre.output_len(), 0.0);
        if !pre.run(frame, &mut self.image) {
            return Err(InferError::frame_size(index, frame.width, frame.height, pre.letterbox()));
        }
        Ok(())
    }

    /// The reference batch, most recent first; one zero reference for the first frame.
    fn gather_refs(&mut self, index: usize, refs: &[usize]) -> Result<(), InferError> {
        let c = &self.contract;
        let (n16, n32) = (c.c16 * (c.input_h / 16) * (c.input_w / 16), c.c32 * (c.input_h / 32) * (c.input_w / 32));
        self.ref16.clear();
        self.ref32.clear();
        if refs.is_empty() {
            self.ref16.resize(n16, 0.0);
            self.ref32.resize(n32, 0.0);
        }
        for r in refs {
            // The policy and the retention rule agree, so a missing entry means a bug; fail loudly.
            let Some(e) = self.memory.iter().find(|e| e.frame == *r) else {
                return Err(self.run_err(index, format!("reference frame {r} is not in memory")));
            };
            self.ref16.extend_from_slice(&e.feat16);
            self.ref32.extend_from_slice(&e.feat32);
        }
        Ok(())
    }

    /// One session run: the head maps into `self.maps`, this frame's features into the memory.
    fn run_graph(&mut self, index: usize, refs: Vec<usize>) -> Result<(), InferError> {
        let c = &self.contract;
        let (ih, iw) = (c.input_h, c.input_w);
        let (h16, w16, h32, w32) = (ih / 16, iw / 16, ih / 32, iw / 32);
        let (c16, c32, k1) = (c.c16, c.c32, c.num_classes() + 1);
        let (mh, mw) = c.head_size();
        let l = refs.len().max(1);
        let path = self.model.path.display().to_string();
        let run_err = |message: String| InferError::Run { path: path.clone(), index, message };
        let image =
            TensorRef::from_array_view(([1usize, 3, ih, iw], &self.image[..])).map_err(|e| run_err(e.to_string()))?;
        let r16 =
            TensorRef::from_array_view(([l, c16, h16, w16], &self.ref16[..])).map_err(|e| run_err(e.to_string()))?;
        let r32 =
            TensorRef::from_array_view(([l, c32, h32, w32], &self.ref32[..])).map_err(|e| run_err(e.to_string()))?;
        let outputs = self
            .model
            .session
            .run(ort::inputs!["image" => image, "ref_feat16" => r16, "ref_feat32" => r32])
            .map_err(|e| run_err(e.to_string()))?;

        let fetch = |name: &str, want: [usize; 4]| -> Result<&[f32], InferError> {
            let value = outputs.get(name).ok_or_else(|| run_err(format!("output `{name}` missing")))?;
            let (shape, data) = value.try_extract_tensor::<f32>().map_err(|e| run_err(e.to_string()))?;
            let want: Vec<i64> = want.iter().map(|&d| d as i64).collect();
            if shape[..] != want[..] {
                return Err(InferError::OutputShape {
                    path: path.clone(),
                    name: name.to_owned(),
                    got: shape.to_vec(),
                    want,
                });
            }
            // A NaN or infinity would flow silently into peaks, argmaxes and the memory of
            // later frames; a model that produces one is broken, so say so.
            if let Some(v) = data.iter().find(|v| !v.is_finite()) {
                return Err(InferError::NonFinite { path: path.clone(), name: name.to_owned(), index, value: *v });
            }
            Ok(data)
        };
        let maps = &mut self.maps;
        copy_into(&mut maps.semantic, fetch("semantic", [1, k1, mh, mw])?);
        copy_into(&mut maps.center, fetch("center", [1, 1, mh, mw])?);
        copy_into(&mut maps.offset, fetch("offset", [1, 2, mh, mw])?);
        let inter = fetch("inter_offset", [l, 2, mh, mw])?;
        if refs.is_empty() {
            maps.inter_offset.clear(); // the zero reference's answer means nothing
        } else {
            copy_into(&mut maps.inter_offset, inter);
        }
        maps.refs = refs;
        let f16 = fetch("feat16", [1, c16, h16, w16])?;
        let f32_ = fetch("feat32", [1, c32, h32, w32])?;

        // Store this frame's features, recycling a dropped entry's buffers.
        let mut entry = self.spare.pop().unwrap_or(Entry { frame: index, feat16: Vec::new(), feat32: Vec::new() });
        entry.frame = index;
        copy_into(&mut entry.feat16, f16);
        copy_into(&mut entry.feat32, f32_);
        drop(outputs);
        self.memory.push(entry);
        Ok(())
    }

    /// Drops the memory entries no later frame can use (the retention rule of `model::refs`).
    fn forget_old(&mut self, index: usize) {
        let keep_from = retain_from(index, &self.contract.refs);
        let first = self.contract.refs.first_frame;
        let mut i = 0;
        while i < self.memory.len() {
            let f = self.memory[i].frame;
            if f >= keep_from || (first && f == 0) {
                i += 1;
            } else {
                self.spare.push(self.memory.swap_remove(i));
            }
        }
        self.spare.truncate(2);
    }

    fn run_err(&self, index: usize, message: String) -> InferError {
        InferError::Run { path: self.model.path.display().to_string(), index, message }
    }
}

fn copy_into(dst: &mut Vec<f32>, src: &[f32]) {
    dst.clear();
    dst.extend_from_slice(src);
}
