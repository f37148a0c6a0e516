//! The pipelined runtime: one video's frames through three stages on their own threads, so
//! that a video's throughput approaches its slowest stage (inference) rather than the sum of
//! all stages.
//!
//! ```text
//!  calling thread            ifa-infer                 ifa-assemble
//!  decode + pre-process ──▶  model + memory  ──▶  post-process, tracking, id map, sink
//!        (queue of 2)               (queue of 2)
//! ```
//!
//! Decoding stays on the calling thread (FFmpeg's scaler is not `Send`); the queues are
//! bounded, so memory holds a few frames whatever the video's length, and buffers go back
//! upstream for reuse. The results are those of [`Pipeline::process`] frame by frame: the
//! stages only overlap in time. The first error of any stage stops all three.

use std::sync::Arc;
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded};

use super::Pipeline;
use crate::assemble::FrameResult;
use crate::assemble::idmap::IdMapper;
use crate::decode::DecodedFrame;
use crate::infer::contract::ModelContract;
use crate::infer::preprocess::Preprocessor;
use crate::infer::stream::InferError;
use crate::model::{HeadMaps, Letterbox};

/// Frames in flight between two stages.
const QUEUE: usize = 2;

/// Why the runtime itself stopped (the caller's decoder and sink have their own errors).
#[derive(Debug, thiserror::Error)]
pub enum StreamError {
    #[error(transparent)]
    Infer(#[from] InferError),
    #[error("cannot start a runtime thread: {0}")]
    Thread(std::io::Error),
}

/// What the sink gets besides the result.
#[derive(Clone, Copy, Debug, Default)]
pub struct StreamOptions {
    /// Render each frame's id map at the video's resolution.
    pub ids: bool,
    /// Keep each frame's raw head maps (the viewer's debug views).
    pub maps: bool,
}

/// One frame out of the runtime, handed to the sink in frame order.
pub struct StreamFrame {
    pub frame: DecodedFrame,
    pub result: FrameResult,
    /// The id map at the video's resolution (row-major, 0 = none) when asked for; else empty.
    pub ids: Vec<u32>,
    /// The raw head maps when asked for.
    pub maps: Option<HeadMaps>,
}

/// What the sink may need besides the frame: the model's contract (class names) and the
/// letterbox of this stream.
#[derive(Clone, Copy)]
pub struct FrameContext<'a> {
    pub contract: &'a ModelContract,
    pub letterbox: Option<&'a Letterbox>,
    /// The id-map geometry of this stream (known after its first frame).
    pub mapper: Option<&'a IdMapper>,
}

impl Pipeline {
    /// What [`FrameContext`] the frame-by-frame [`Pipeline::process`] gives its caller.
    pub fn context(&self) -> FrameContext<'_> {
        FrameContext { contract: self.contract(), letterbox: self.engine().letterbox(), mapper: self.id_mapper() }
    }

    /// Runs a whole stream (after [`Pipeline::reset`] if it is not the first): `next` decodes
    /// the next frame on the calling thread (`None` at the end); `sink` receives every frame's
    /// result in order on the assembly thread, with what `opts` asks for. Returns the frames
    /// run. The results equal those of calling [`Pipeline::process`] (and
    /// [`Pipeline::render_ids`]) frame by frame.
    pub fn run_stream<E>(
        &mut self,
        next: &mut dyn FnMut() -> Result<Option<DecodedFrame>, E>,
        opts: StreamOptions,
        sink: &mut (dyn FnMut(StreamFrame, FrameContext<'_>) -> Result<(), E> + Send),
    ) -> Result<usize, E>
    where
        E: From<StreamError> + Send,
    {
        let contract = self.contract().clone();
        let Self { engine, assembler, mapper, .. } = self;
        let (to_infer, infer_rx) = bounded::<Prepared>(QUEUE);
        let (spare_tx, spare_rx) = bounded::<Vec<f32>>(QUEUE + 2);
        let (to_assemble, assemble_rx) = bounded::<Inferred>(QUEUE);
        let (maps_back, maps_spare) = bounded::<HeadMaps>(QUEUE + 2);
        let mut frames = 0usize;
        std::thread::scope(|scope| -> Result<usize, E> {
            let infer = std::thread::Builder::new()
                .name("ifa-infer".into())
                .spawn_scoped(scope, move || infer_stage(engine, &infer_rx, &spare_tx, &to_assemble, &maps_spare));
            let infer = infer.map_err(|e| E::from(StreamError::Thread(e)))?;
            let contract = &contract;
            let assemble = std::thread::Builder::new().name("ifa-assemble".into()).spawn_scoped(scope, move || {
                assemble_stage(assembler, mapper, contract, opts, &assemble_rx, &maps_back, sink)
            });
            // Without it the inference thread ends when its queue closes, below.
            let assemble = match assemble {
                Ok(a) => a,
                Err(e) => {
                    drop(to_infer);
                    infer.join().ok();
                    return Err(E::from(StreamError::Thread(e)));
                }
            };
            // Decoding and pre-processing here; a closed queue means a later stage stopped, and
            // its error (reported when joined) is the one that counts.
            let mut pre: Option<(Preprocessor, Arc<Preprocessor>)> = None;
            let decoded = (|| -> Result<(), E> {
                loop {
                    let t0 = Instant::now();
                    let Some(frame) = next()? else { return Ok(()) };
                    let decode = t0.elapsed();
                    let t1 = Instant::now();
                    let (w, h) = (frame.image.width, frame.image.height);
                    let (p, shared) = pre.get_or_insert_with(|| {
                        // The engine is on the inference thread: the contract makes the same one.
                        let p = contract.preprocessor(w, h);
                        (p.clone(), Arc::new(p))
                    });
                    let mut input = spare_rx.try_recv().unwrap_or_default();
                    input.resize(p.output_len(), 0.0);
                    if !p.run(&frame.image, &mut input) {
                        let e = InferError::frame_size(frame.index, w, h, p.letterbox());
                        return Err(StreamError::from(e).into());
                    }
                    let item = Prepared { frame, input, pre: shared.clone(), decode, preprocess: t1.elapsed() };
                    if to_infer.send(item).is_err() {
                        return Ok(());
                    }
                    frames += 1;
                }
            })();
            drop(to_infer);
            let inferred = infer.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            let assembled = assemble.join().unwrap_or_else(|p| std::panic::resume_unwind(p));
            decoded?;
            inferred.map_err(|e| E::from(StreamError::from(e)))?;
            let done = assembled?;
            Ok(done.min(frames))
        })
    }
}

/// A decoded frame with its input tensor.
struct Prepared {
    frame: DecodedFrame,
    input: Vec<f32>,
    pre: Arc<Preprocessor>,
    decode: Duration,
    preprocess: Duration,
}

/// A frame with its head maps.
struct Inferred {
    /// The frame's position in the stream (what the tracker counts), as `Pipeline::process`.
    index: usize,
    frame: DecodedFrame,
    maps: HeadMaps,
    times: [Duration; 3],
}

fn infer_stage(
    engine: &mut crate::infer::stream::StreamEngine,
    rx: &Receiver<Prepared>,
    spare: &Sender<Vec<f32>>,
    tx: &Sender<Inferred>,
    maps_spare: &Receiver<HeadMaps>,
) -> Result<(), InferError> {
    for mut p in rx {
        let index = engine.next_frame();
        let (maps, inference) = engine.infer_input(&mut p.input, &p.pre)?;
        let mut copy = maps_spare.try_recv().unwrap_or_default();
        copy.clone_from(maps);
        spare.try_send(p.input).ok();
        let item = Inferred { index, frame: p.frame, maps: copy, times: [p.decode, p.preprocess, inference] };
        if tx.send(item).is_err() {
            return Ok(()); // the assembly stage stopped; its error is reported
        }
    }
    Ok(())
}

fn assemble_stage<E>(
    assembler: &mut crate::assemble::Assembler,
    mapper: &mut Option<IdMapper>,
    contract: &ModelContract,
    opts: StreamOptions,
    rx: &Receiver<Inferred>,
    maps_back: &Sender<HeadMaps>,
    sink: &mut (dyn FnMut(StreamFrame, FrameContext<'_>) -> Result<(), E> + Send),
) -> Result<usize, E> {
    let mut done = 0;
    let mut letterbox: Option<Letterbox> = None;
    for item in rx {
        let lb = *letterbox.get_or_insert_with(|| {
            Letterbox::new(item.frame.image.width, item.frame.image.height, contract.input_w, contract.input_h)
        });
        let mut result = assembler.step(item.index, &item.maps);
        let maps = if opts.maps {
            Some(item.maps)
        } else {
            maps_back.try_send(item.maps).ok();
            None
        };
        let [decode, preprocess, inference] = item.times;
        result.pts_seconds = item.frame.pts_seconds;
        result.times.decode = decode;
        result.times.preprocess = preprocess;
        result.times.inference = inference;
        let post = &assembler.params;
        let map = &*mapper.get_or_insert_with(|| IdMapper::new(&lb, result.cells_h, result.cells_w).with_post(post));
        let mut ids = Vec::new();
        if opts.ids {
            let t0 = Instant::now();
            map.render_guided(&result.soft_ids, Some(&item.frame.image), &mut ids);
            result.times.render += t0.elapsed();
        }
        let ctx = FrameContext { contract, letterbox: Some(&lb), mapper: Some(map) };
        sink(StreamFrame { frame: item.frame, result, ids, maps }, ctx)?;
        done += 1;
    }
    Ok(done)
}
