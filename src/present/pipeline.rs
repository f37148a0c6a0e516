//! The viewer's background threads; the UI thread never decodes sequentially or runs the model.
//!
//! Per opened video:
//! - **display decoder**: opens the file (reports [`Event::Opened`] or the error), then serves
//!   "show frame N" commands. Only the newest pending command is served: a seek discards the
//!   requests it overtook.
//! - **processing**: waits for the model (see [`ProcessorSlot`]), spawns a **decode** thread
//!   that reads frames in order and JPEG-compresses them, and runs every frame through the
//!   processor (inference + assembly). Decode → processing goes through a bounded channel so
//!   decoding runs at most a few frames ahead of inference.
//!
//!
//! Per viewer: a **model-load** thread ([`load_model_in_background`]) fills the processor slot.
//!
//! Every thread holds a clone of the `egui::Context` and asks for a repaint after each message.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, bounded, unbounded};

pub use crate::assemble::StageTimes;
use crate::decode::{DecodedFrame, IndexedVideo, VideoInfo, VideoReader};
use crate::frame::RgbFrame;
use crate::infer::runtime::{LoadedModel, SessionOptions, load_model};
use crate::model::HeadMaps;
use crate::overlay::scene::FrameRecord;
use crate::runtime::{FrameContext, Pipeline, StreamError, StreamFrame, StreamOptions};

/// One frame through the model.
#[derive(Debug)]
pub struct Processed {
    pub record: FrameRecord,
    /// Raw head maps (for the debug views); the viewer keeps only a few.
    pub maps: Option<HeadMaps>,
    pub times: StageTimes,
}

/// What a processor tells the status bar.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ProcessorInfo {
    pub name: String,
    pub provider: String,
    pub warnings: Vec<String>,
    pub class_names: Vec<String>,
    /// The model's input size (for the letterbox); 0 when unknown.
    pub input_w: usize,
    pub input_h: usize,
    /// `ifa.post` `edge_sigma`: how strongly the frame guides mask edges (0: not at all).
    pub edge_sigma: f32,
    /// `ifa.post` `refine_radius` and `refine_eps`: the guided filter on the rendered masks.
    pub refine: (f32, f32),
    /// The graph's own test-time averaging, in words (`ifa.tta`), when it does any.
    pub averaging: Option<String>,
}

/// Turns frames, in order from 0, into per-frame records.
pub trait FrameProcessor: Send {
    fn info(&self) -> ProcessorInfo;
    /// Forgets the previous video: the next frame is frame 0.
    fn reset(&mut self);
    fn process(&mut self, frame: &DecodedFrame) -> Result<Processed, String>;

    /// Runs the frames `next` gives, in order, until it gives `None`, handing each result with
    /// its frame index to `out`, which returns `false` to stop; a failure is handed on and
    /// ends the run. By default frame by frame with [`FrameProcessor::process`].
    fn run(&mut self, next: &mut dyn FnMut() -> Option<DecodedFrame>, out: &mut ProcessedSink<'_>) {
        while let Some(frame) = next() {
            let r = self.process(&frame);
            let failed = r.is_err();
            if !out(frame.index, r) || failed {
                return;
            }
        }
    }
}

/// Where [`FrameProcessor::run`] hands each frame's result (on any thread).
pub type ProcessedSink<'a> = dyn FnMut(usize, Result<Processed, String>) -> bool + Send + 'a;

/// The real processor: the runtime pipeline of `ifa run` (model, memory, assembly, id maps).
pub struct ModelProcessor {
    pipe: Pipeline,
    info: ProcessorInfo,
}

impl ModelProcessor {
    pub fn new(model: LoadedModel) -> Result<Self, crate::infer::stream::InferError> {
        let name = model.path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        let pipe = Pipeline::new(model)?;
        let c = pipe.contract();
        let info = ProcessorInfo {
            name,
            provider: pipe.provider().to_string(),
            warnings: pipe.warnings().to_vec(),
            class_names: c.classes.clone(),
            input_w: c.input_w,
            input_h: c.input_h,
            edge_sigma: pipe.assembler().params.edge_sigma,
            refine: (pipe.assembler().params.refine_radius, pipe.assembler().params.refine_eps),
            averaging: c.tta_label(),
        };
        Ok(Self { pipe, info })
    }
}

impl FrameProcessor for ModelProcessor {
    fn info(&self) -> ProcessorInfo {
        self.info.clone()
    }

    fn reset(&mut self) {
        self.pipe.reset();
    }

    fn process(&mut self, frame: &DecodedFrame) -> Result<Processed, String> {
        let result = self.pipe.process(&frame.image, frame.pts_seconds).map_err(|e| e.to_string())?;
        let lb = *self.pipe.engine().letterbox().ok_or("no letterbox after a frame")?;
        let record = FrameRecord::from_result(&result, &lb, self.pipe.id_mapper(), Some(&frame.image));
        Ok(Processed { record, maps: Some(self.pipe.last_maps().clone()), times: result.times })
    }

    /// The pipelined runtime: inference and assembly overlap the caller's decoding.
    fn run(&mut self, next: &mut dyn FnMut() -> Option<DecodedFrame>, out: &mut ProcessedSink<'_>) {
        let mut delivered = 0usize;
        let mut nx = || Ok::<_, Stop>(next());
        let mut sink = |f: StreamFrame, ctx: FrameContext<'_>| -> Result<(), Stop> {
            let lb = ctx.letterbox.ok_or_else(|| Stop::Failed("no letterbox after a frame".to_owned()))?;
            let record = FrameRecord::from_result(&f.result, lb, ctx.mapper, Some(&f.frame.image));
            delivered += 1;
            let p = Processed { record, maps: f.maps, times: f.result.times };
            if out(f.frame.index, Ok(p)) { Ok(()) } else { Err(Stop::Halted) }
        };
        let r = self.pipe.run_stream(&mut nx, StreamOptions { ids: false, maps: true }, &mut sink);
        if let Err(Stop::Failed(e)) = r {
            out(delivered, Err(e));
        }
    }
}

/// How a pipelined run of the viewer ended early.
#[derive(Debug)]
enum Stop {
    /// The receiver asked to stop.
    Halted,
    Failed(String),
}

impl From<StreamError> for Stop {
    fn from(e: StreamError) -> Self {
        Self::Failed(e.to_string())
    }
}

/// Where the processor lives between videos; loading happens in the background.
pub enum SlotState {
    Loading,
    Ready(Box<dyn FrameProcessor>),
    /// Taken by a running video's processing thread.
    Busy,
    /// No model (none given, or it failed to load): video only.
    Absent,
}

pub type ProcessorSlot = Arc<Mutex<SlotState>>;

/// Messages from the threads to the UI.
#[derive(Debug)]
pub enum Event {
    Opened {
        info: VideoInfo,
        frames: usize,
    },
    OpenFailed(String),
    /// A frame from the display decoder.
    Shown {
        index: usize,
        image: RgbFrame,
    },
    DisplayError(String),
    /// Processing started with this processor.
    ProcessingStarted(ProcessorInfo),
    Processed {
        jpeg: Vec<u8>,
        processed: Box<Processed>,
    },
    ProcessingDone,
    ProcessingFailed(String),
}

enum DisplayCmd {
    Show(usize),
}

/// The threads of one opened video; dropping it stops them.
pub struct VideoSession {
    pub path: PathBuf,
    pub events: Receiver<Event>,
    display: Sender<DisplayCmd>,
    stop: Arc<AtomicBool>,
}

impl VideoSession {
    pub fn start(path: &Path, slot: ProcessorSlot, repaint: Arc<dyn Fn() + Send + Sync>) -> Self {
        let (ev_tx, events) = unbounded();
        let (display, cmd_rx) = unbounded();
        let stop = Arc::new(AtomicBool::new(false));
        // The display decoder indexes the video once; the processing decoder reuses its index.
        let (index_tx, index_rx) = bounded::<Result<IndexedVideo, String>>(1);
        {
            let (path, tx, repaint, stop) = (path.to_path_buf(), ev_tx.clone(), repaint.clone(), stop.clone());
            let (fail_tx, fail_repaint) = (tx.clone(), repaint.clone());
            if let Err(e) = std::thread::Builder::new()
                .name("ifa-display".into())
                .spawn(move || display_thread(&path, &cmd_rx, &index_tx, &tx, &*repaint, &stop))
            {
                // Without its decoder the video cannot be shown: say so instead of waiting.
                fail_tx.send(Event::OpenFailed(format!("cannot start the display thread: {e}"))).ok();
                fail_repaint();
            }
        }
        {
            let stop = stop.clone();
            let (fail_tx, fail_repaint) = (ev_tx.clone(), repaint.clone());
            if let Err(e) = std::thread::Builder::new()
                .name("ifa-process".into())
                .spawn(move || processing_thread(index_rx, &slot, &ev_tx, &repaint, &stop))
            {
                fail_tx.send(Event::ProcessingFailed(format!("cannot start the processing thread: {e}"))).ok();
                fail_repaint();
            }
        }
        Self { path: path.to_path_buf(), events, display, stop }
    }

    /// Asks the display decoder for frame `n` (older pending requests are dropped).
    pub fn request(&self, n: usize) {
        self.display.send(DisplayCmd::Show(n)).ok();
    }
}

impl Drop for VideoSession {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn display_thread(
    path: &Path,
    cmds: &Receiver<DisplayCmd>,
    index_tx: &Sender<Result<IndexedVideo, String>>,
    tx: &Sender<Event>,
    repaint: &(dyn Fn() + Send + Sync),
    stop: &AtomicBool,
) {
    let mut reader = match VideoReader::open(path) {
        Ok(r) => r,
        Err(e) => {
            index_tx.send(Err(e.to_string())).ok();
            tx.send(Event::OpenFailed(e.to_string())).ok();
            repaint();
            return;
        }
    };
    index_tx.send(Ok(reader.indexed())).ok();
    tx.send(Event::Opened { info: reader.info().clone(), frames: reader.frame_count() }).ok();
    repaint();
    let mut last: Option<usize> = None;
    while let Ok(mut cmd) = cmds.recv() {
        // Only the newest request matters.
        while let Ok(newer) = cmds.try_recv() {
            cmd = newer;
        }
        if stop.load(Ordering::Relaxed) {
            return;
        }
        let DisplayCmd::Show(n) = cmd;
        let result = if last.is_some_and(|l| l + 1 == n) {
            reader.next_frame().and_then(|f| {
                f.ok_or(crate::decode::DecodeError::OutOfRange {
                    path: path.to_path_buf(),
                    frame: n,
                    count: reader.frame_count(),
                })
            })
        } else {
            reader.read_frame(n)
        };
        match result {
            Ok(f) => {
                last = Some(f.index);
                tx.send(Event::Shown { index: f.index, image: f.image }).ok();
            }
            Err(e) => {
                last = None;
                tx.send(Event::DisplayError(e.to_string())).ok();
            }
        }
        repaint();
    }
}

/// JPEG quality of the picture cache: visually clean, ~15–40 KB for 640x360.
const JPEG_QUALITY: u8 = 85;

/// Loads a model on its own thread into `slot` (where the processing thread picks it up) and
/// answers on the returned channel with the model's info or why it cannot be used. A thread
/// that cannot be started answers at once, so the status never stays at "loading".
pub fn load_model_in_background(
    path: PathBuf,
    session: SessionOptions,
    slot: &ProcessorSlot,
    repaint: Option<Arc<dyn Fn() + Send + Sync>>,
) -> Receiver<Result<ProcessorInfo, String>> {
    let (tx, rx) = bounded(1);
    let fail_tx = tx.clone();
    let slot2 = slot.clone();
    let spawned = std::thread::Builder::new().name("ifa-model-load".into()).spawn(move || {
        // ONNX Runtime's pool threads start here and inherit the lower priority.
        super::priority::lower_current_thread(super::priority::WORKER_NICE);
        let r = load_model(&path, &session)
            .map_err(|e| e.to_string())
            .and_then(|m| ModelProcessor::new(m).map_err(|e| e.to_string()));
        let msg = match r {
            Ok(proc_) => {
                let info = proc_.info();
                if let Ok(mut s) = slot2.lock() {
                    *s = SlotState::Ready(Box::new(proc_));
                }
                Ok(info)
            }
            Err(e) => {
                if let Ok(mut s) = slot2.lock() {
                    *s = SlotState::Absent;
                }
                Err(e)
            }
        };
        tx.send(msg).ok();
        if let Some(r) = repaint {
            r();
        }
    });
    if let Err(e) = spawned {
        if let Ok(mut s) = slot.lock() {
            *s = SlotState::Absent;
        }
        fail_tx.send(Err(format!("cannot start the model-load thread: {e}"))).ok();
    }
    rx
}

pub fn encode_jpeg(img: &RgbFrame) -> Result<Vec<u8>, String> {
    let mut buf = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, JPEG_QUALITY)
        .encode(&img.data, img.width, img.height, image::ExtendedColorType::Rgb8)
        .map_err(|e| e.to_string())?;
    Ok(buf)
}

pub fn decode_jpeg(bytes: &[u8]) -> Result<RgbFrame, String> {
    let img = image::load_from_memory_with_format(bytes, image::ImageFormat::Jpeg).map_err(|e| e.to_string())?;
    let rgb = img.to_rgb8();
    let (w, h) = rgb.dimensions();
    RgbFrame::from_raw(w, h, rgb.into_raw()).ok_or_else(|| "jpeg size mismatch".to_owned())
}

fn take_processor(slot: &ProcessorSlot, stop: &AtomicBool) -> Option<Box<dyn FrameProcessor>> {
    loop {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        {
            let mut s = slot.lock().ok()?;
            match std::mem::replace(&mut *s, SlotState::Busy) {
                SlotState::Ready(p) => return Some(p),
                SlotState::Absent => {
                    *s = SlotState::Absent;
                    return None;
                }
                other => *s = other,
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Processing news is shown at most this often: each repaint costs a whole frame of rendering,
/// which on a software rasteriser takes CPU from inference. (The UI also polls while
/// processing runs, and repaints continuously while playing.)
const PROCESSING_REPAINT_INTERVAL: Duration = Duration::from_millis(200);

fn processing_thread(
    index: Receiver<Result<IndexedVideo, String>>,
    slot: &ProcessorSlot,
    tx: &Sender<Event>,
    repaint: &Arc<dyn Fn() + Send + Sync>,
    stop: &Arc<AtomicBool>,
) {
    super::priority::lower_current_thread(super::priority::WORKER_NICE);
    let Some(mut proc_) = take_processor(slot, stop) else { return };
    proc_.reset();
    tx.send(Event::ProcessingStarted(proc_.info())).ok();
    let (ftx, frx) = bounded::<(DecodedFrame, Vec<u8>, Duration)>(4);
    {
        let (fail_tx, fail_repaint) = (tx.clone(), repaint.clone());
        let (stop, tx, repaint) = (stop.clone(), tx.clone(), repaint.clone());
        let spawned = std::thread::Builder::new().name("ifa-decode".into()).spawn(move || {
            super::priority::lower_current_thread(super::priority::WORKER_NICE);
            let opened = index
                .recv()
                .map_err(|_| "the display decoder stopped before opening the video".to_owned())
                .and_then(|r| r)
                .and_then(|v| VideoReader::open_indexed(v).map_err(|e| e.to_string()));
            let mut reader = match opened {
                Ok(r) => r,
                Err(e) => {
                    tx.send(Event::ProcessingFailed(e)).ok();
                    repaint();
                    return;
                }
            };
            while !stop.load(Ordering::Relaxed) {
                let t0 = Instant::now();
                match reader.next_frame() {
                    Ok(Some(f)) => {
                        let jpeg = encode_jpeg(&f.image).unwrap_or_default();
                        if ftx.send((f, jpeg, t0.elapsed())).is_err() {
                            return;
                        }
                    }
                    Ok(None) => return,
                    Err(e) => {
                        tx.send(Event::ProcessingFailed(e.to_string())).ok();
                        repaint();
                        return;
                    }
                }
            }
        });
        if let Err(e) = spawned {
            fail_tx.send(Event::ProcessingFailed(format!("cannot start the decode thread: {e}"))).ok();
            fail_repaint();
            return;
        }
    }
    let mut failed = false;
    let mut last_repaint: Option<Instant> = None;
    // Each frame's JPEG and decode time wait here while the frame is in the processor.
    let (pending_tx, pending_rx) = unbounded::<(Vec<u8>, Duration)>();
    let mut next = || {
        if stop.load(Ordering::Relaxed) {
            return None;
        }
        let (frame, jpeg, decode) = frx.recv().ok()?;
        pending_tx.send((jpeg, decode)).ok();
        Some(frame)
    };
    let mut out = |index: usize, r: Result<Processed, String>| -> bool {
        let (jpeg, decode) = pending_rx.try_recv().unwrap_or_default();
        match r {
            Ok(mut p) => {
                p.times.decode = decode;
                tx.send(Event::Processed { jpeg, processed: Box::new(p) }).ok();
            }
            Err(e) => {
                tx.send(Event::ProcessingFailed(format!("frame {index}: {e}"))).ok();
                repaint();
                failed = true;
                return false;
            }
        }
        if last_repaint.is_none_or(|t| t.elapsed() >= PROCESSING_REPAINT_INTERVAL) {
            repaint();
            last_repaint = Some(Instant::now());
        }
        !stop.load(Ordering::Relaxed)
    };
    proc_.run(&mut next, &mut out);
    if !failed && !stop.load(Ordering::Relaxed) {
        tx.send(Event::ProcessingDone).ok();
        repaint();
    }
    drop(frx);
    if let Ok(mut s) = slot.lock() {
        *s = SlotState::Ready(proc_);
    }
}
