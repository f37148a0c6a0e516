//! The export of one video: decode → segment and track → draw the overlay → encode, plus the
//! results as data. `ifa export` drives it; the viewer's Export button can too:
//!
//! ```no_run
//! # fn main() -> Result<(), Box<dyn std::error::Error>> {
//! use std::sync::Arc;
//! use std::sync::atomic::AtomicBool;
//! use ifa::export::{ExportJob, export_video};
//! use ifa::runtime::Pipeline;
//! use ifa::infer::runtime::{SessionOptions, load_model};
//!
//! let model = load_model("models/ifa-shapes.onnx".as_ref(), &SessionOptions::default())?;
//! let mut pipe = Pipeline::new(model)?;
//! let job = ExportJob { output: Some("out.mp4".into()), ..ExportJob::new("in.mp4".into()) };
//! let cancel = Arc::new(AtomicBool::new(false)); // set from the UI thread to stop
//! let summary = export_video(&job, &mut pipe, &cancel, &mut |p| {
//!     eprintln!("{}/{} frames", p.frame, p.total);
//! })?;
//! println!("wrote {:?}", summary.written);
//! # Ok(()) }
//! ```
//!
//! Every output is written under a temporary name and moved into place only when the whole
//! video is done: a cancelled or failed export leaves nothing behind. Before any work the
//! outputs go through [`crate::outpath::check`] (none may be an input, two outputs may not
//! share a path, nothing but a regular file or ifa's own mask folder is replaced, every folder
//! must take new files). A video that cannot be decoded to its end fails the export unless
//! [`ExportJob::allow_partial`] is set.

use std::collections::VecDeque;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use super::annotate::{AnnotateError, Annotator};
use super::coverage::Coverage;
use super::encode::{EncodeError, EncodeOptions, VideoWriter};
use super::meta::{SourceMeta, sidecar_path};
use super::mots::{self, MotsError, MotsWriter};
use super::results::{ResultsCollector, ResultsError};
use crate::assemble::{FrameResult, StageTimes};
use crate::decode::{DecodeError, VideoInfo, VideoReader};
use crate::frame::RgbFrame;
use crate::infer::stream::InferError;
use crate::model::Letterbox;
use crate::outpath::{Checked, Input, Output, OutputError, Role};
use crate::overlay::scene::{FrameRecord, SceneOptions, build_scene};
use crate::runtime::{FrameContext, Pipeline, StreamError, StreamFrame, StreamOptions};

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error("nothing to export: give an output video, JSON, CSV or mask folder")]
    NothingToWrite,
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error(transparent)]
    Decode(#[from] DecodeError),
    #[error("{}: {coverage}; nothing was written", path.display())]
    Partial { path: PathBuf, coverage: Coverage },
    #[error("{video}: {source}")]
    Infer { video: PathBuf, source: InferError },
    #[error(transparent)]
    Encode(#[from] EncodeError),
    #[error(transparent)]
    Results(#[from] ResultsError),
    #[error(transparent)]
    Mots(#[from] MotsError),
    #[error(transparent)]
    Annotate(#[from] AnnotateError),
    #[error("writing {path}: {source}")]
    Meta { path: PathBuf, source: std::io::Error },
    #[error("internal: the id map of frame {frame} could not be rendered")]
    IdMap { frame: usize },
    #[error("{path} has no decodable frames: {coverage}")]
    NoFrames { path: PathBuf, coverage: Coverage },
    #[error("export cancelled")]
    Cancelled,
    #[error("internal: the encoder thread stopped")]
    EncoderPanicked,
    #[error("cannot start the encoder thread: {0}")]
    Thread(std::io::Error),
    #[error(transparent)]
    Stream(#[from] StreamError),
}

/// What to export.
#[derive(Clone, Debug)]
pub struct ExportJob {
    pub video: PathBuf,
    /// The annotated video (H.264 MP4).
    pub output: Option<PathBuf>,
    /// YouTube-VIS results.
    pub json: Option<PathBuf>,
    /// One row per instance and frame.
    pub csv: Option<PathBuf>,
    /// MOTS-style 16-bit PNG id masks, one per frame.
    pub masks: Option<PathBuf>,
    /// `video_id` in the JSON results.
    pub video_id: u64,
    /// Layers, opacity and filters of the overlay (the viewer's).
    pub scene: SceneOptions,
    /// Quality settings (crf, preset, threads); frame rate, time base and audio always come
    /// from the source.
    pub encode: EncodeOptions,
    /// Write the outputs even when the video cannot be decoded to its end (otherwise that is
    /// an [`ExportError::Partial`] and nothing is written).
    pub allow_partial: bool,
}

impl ExportJob {
    /// A job for `video` with nothing to write yet and the viewer's default overlay.
    pub fn new(video: PathBuf) -> Self {
        Self {
            video,
            output: None,
            json: None,
            csv: None,
            masks: None,
            video_id: 1,
            scene: SceneOptions::default(),
            encode: EncodeOptions::default(),
            allow_partial: false,
        }
    }
}

/// Where an export stands; given to the progress callback after every frame.
#[derive(Clone, Debug)]
pub struct ExportProgress {
    /// Frames done.
    pub frame: usize,
    /// Frames in the video.
    pub total: usize,
    pub elapsed: Duration,
}

impl ExportProgress {
    /// Done fraction, 0..=1.
    pub fn fraction(&self) -> f32 {
        if self.total == 0 { 0.0 } else { (self.frame as f32 / self.total as f32).min(1.0) }
    }

    /// Frames per second so far.
    pub fn fps(&self) -> f64 {
        self.frame as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }
}

/// What an export did.
#[derive(Clone, Debug, Default)]
pub struct ExportSummary {
    pub frames: usize,
    pub tracks: usize,
    /// The files and folders written, in the order they were moved into place.
    pub written: Vec<PathBuf>,
    pub elapsed: Duration,
    /// Decode, pre-process, inference, post-process, assembly, id map (summed over frames).
    pub times: StageTimes,
    /// Drawing the overlay (on the encoder thread, overlapping inference).
    pub annotate: Duration,
    /// Colour conversion, H.264 encoding and muxing, audio included (on the encoder thread,
    /// except the final flush).
    pub encode: Duration,
    /// RLE, CSV rows and MOTS PNGs.
    pub data: Duration,
    /// Which frames were decoded, of how many.
    pub coverage: Coverage,
    /// The source's size, and the annotated video's (even numbers: yuv420p needs them).
    pub source_size: (u32, u32),
    pub video_size: Option<(u32, u32)>,
}

/// Applies the output-path policy to `job`'s outputs (and the timing files beside its data
/// files) against its video and `model`; removes temporaries killed exports left beside them.
pub fn check_outputs(job: &ExportJob, model: Option<&Path>) -> Result<Checked, ExportError> {
    let mut inputs = vec![Input::new("source video", &job.video)];
    if let Some(m) = model {
        inputs.push(Input::new("model", m));
    }
    let sidecars: Vec<(&str, PathBuf)> =
        [("timing file of the JSON results", &job.json), ("timing file of the CSV", &job.csv)]
            .into_iter()
            .filter_map(|(label, p)| p.as_ref().map(|p| (label, sidecar_path(p))))
            .collect();
    let mut outputs = Vec::new();
    let files = [("annotated video", &job.output), ("JSON results", &job.json), ("CSV", &job.csv)];
    for (label, p) in files {
        if let Some(p) = p {
            outputs.push(Output::file(label, p));
        }
    }
    if let Some(m) = &job.masks {
        outputs.push(Output { label: "mask folder", path: m, role: Role::Folder { is_own: mots::is_own_folder } });
    }
    outputs.extend(sidecars.iter().map(|(label, p)| Output::file(label, p)));
    Ok(crate::outpath::check(&inputs, &outputs)?)
}

/// Runs `job` with `pipe` (reset first: the export is a new stream). Checks `cancel` before
/// every frame and returns [`ExportError::Cancelled`] once it is set; calls `progress` after
/// every frame. Nothing is left at any output path unless the whole export succeeds.
pub fn export_video(
    job: &ExportJob,
    pipe: &mut Pipeline,
    cancel: &AtomicBool,
    progress: &mut (dyn FnMut(&ExportProgress) + Send),
) -> Result<ExportSummary, ExportError> {
    let start = Instant::now();
    let mut reader = open_checked(job, pipe)?;
    let info = reader.info().clone();
    let (w, h) = (info.width, info.height);
    let total = reader.frame_count();
    let mut coverage = Coverage::for_reader(&reader);
    pipe.reset();

    let mut sinks = DataSinks::open(job, pipe, w, h)?;
    let encode = job.output.as_ref().map(|out| (out.clone(), encode_options(job, &info)));
    let need_ids = sinks.need_ids() || (encode.is_some() && job.scene.layers.masks);
    let class_names = pipe.contract().classes.clone();

    let mut sum = ExportSummary::default();
    let mut frame_pts: Vec<i64> = Vec::with_capacity(total);
    // Overlay and encoding run on their own thread (FFmpeg's contexts stay on it), overlapping
    // the next frames' inference.
    std::thread::scope(|scope| -> Result<(), ExportError> {
        let (tx, rx) = crossbeam_channel::bounded::<ToEncoder>(4);
        let (ready_tx, ready_rx) = crossbeam_channel::bounded::<Result<(), ExportError>>(1);
        let (scene, names) = (&job.scene, &class_names[..]);
        let worker = encode
            .map(|(out, opts)| {
                let work = move || encode_frames(&out, w, h, &opts, &rx, &ready_tx, scene, names);
                std::thread::Builder::new().name("ifa-encode".into()).spawn_scoped(scope, work)
            })
            .transpose()
            .map_err(ExportError::Thread)?;
        let finish_worker = |worker: Option<std::thread::ScopedJoinHandle<'_, _>>| match worker {
            Some(h) => h.join().map_err(|_| ExportError::EncoderPanicked)?,
            None => Ok(EncoderReport::default()),
        };
        // Creating the video fails early (no encoder, unreadable audio) or not at all.
        match worker.as_ref().map(|_| ready_rx.recv()) {
            Some(Ok(Err(e))) => return Err(e),
            Some(Err(_)) => return finish_worker(worker).map(drop),
            Some(Ok(Ok(()))) | None => {}
        }
        let mut last_pts: Option<i64> = None;
        let index = reader.index().clone();
        let masks_drawn = need_ids && job.scene.layers.masks;
        // Decoding here; inference and assembly on the runtime's threads (runtime::stream); the
        // sink below runs on the assembly thread and feeds the encoder thread.
        let mut next = || -> Result<Option<crate::decode::DecodedFrame>, ExportError> {
            if cancel.load(Ordering::Relaxed) {
                return Err(ExportError::Cancelled);
            }
            // `None` also when decoding broke down: what came before is kept, the coverage
            // says where.
            Ok(coverage.read_next(&mut reader)?)
        };
        let has_encoder = worker.is_some();
        let mut sink = |out: StreamFrame, ctx: FrameContext<'_>| -> Result<(), ExportError> {
            let StreamFrame { frame, result: res, ids, .. } = out;
            sum.times += res.times;
            let t_data = Instant::now();
            sinks.add(frame.index, &res, &ids, ctx)?;
            sum.data += t_data.elapsed();
            // Timestamps from the source, kept strictly increasing for the encoder.
            let pts = index.pts(frame.index).unwrap_or(frame.index as i64);
            let pts = last_pts.map_or(pts, |l: i64| pts.max(l + 1));
            last_pts = Some(pts);
            frame_pts.push(pts);
            if has_encoder {
                let ids = masks_drawn.then_some(ids);
                let work = Work::new(ctx.letterbox, &res, frame.image, ids, pts);
                // A closed channel means the encoder failed: its error is reported below.
                tx.send(ToEncoder::Frame(Box::new(work))).map_err(|_| ExportError::EncoderPanicked)?;
            }
            sum.frames += 1;
            progress(&ExportProgress { frame: sum.frames, total, elapsed: start.elapsed() });
            Ok(())
        };
        let produced = pipe
            .run_stream(&mut next, StreamOptions { ids: need_ids, maps: false }, &mut sink)
            .map(drop)
            .map_err(|e| match e {
                ExportError::Stream(StreamError::Infer(source)) => {
                    ExportError::Infer { video: job.video.clone(), source }
                }
                e => e,
            });
        let encoder_gone = matches!(produced, Err(ExportError::EncoderPanicked));
        let partial = !coverage.is_complete() && !job.allow_partial;
        if produced.is_err() || cancel.load(Ordering::Relaxed) || sum.frames == 0 || partial {
            drop(tx); // the encoder stops and removes its temporary file
            let report = finish_worker(worker);
            // A failed encoder's own error says more than the closed channel.
            if encoder_gone {
                report?;
            }
            produced?;
            return Err(stopped(job, sum.frames, cancel.load(Ordering::Relaxed), &coverage));
        }

        // Everything is done: move the outputs into place, the video last.
        sum.tracks = pipe.tracks().count();
        let length = total.max(frame_pts.len());
        let meta = |content: &str| SourceMeta::new(&info, frame_pts.clone(), content);
        let data = sinks.commit(job, pipe, &meta, length);
        if data.is_ok() {
            tx.send(ToEncoder::Finish).ok();
        }
        drop(tx);
        let report = finish_worker(worker)?;
        sum.written = data?;
        sum.written.extend(report.written);
        sum.annotate = report.annotate;
        sum.encode = report.encode;
        Ok(())
    })?;
    let video_size = job.output.as_ref().map(|_| (w + w % 2, h + h % 2));
    Ok(ExportSummary { elapsed: start.elapsed(), coverage, source_size: (w, h), video_size, ..sum })
}

/// Refuses a job with nothing to write or an unsafe output (before any work), then opens the video.
fn open_checked(job: &ExportJob, pipe: &Pipeline) -> Result<VideoReader, ExportError> {
    if [&job.output, &job.json, &job.csv, &job.masks].iter().all(|o| o.is_none()) {
        return Err(ExportError::NothingToWrite);
    }
    check_outputs(job, Some(&pipe.contract().path))?;
    Ok(VideoReader::open(&job.video)?)
}

/// The job's encoder settings with the source's timing and audio.
fn encode_options(job: &ExportJob, info: &VideoInfo) -> EncodeOptions {
    EncodeOptions {
        frame_rate: info.frame_rate,
        time_base: Some(info.time_base),
        audio_from: info.audio.is_some().then(|| job.video.clone()),
        ..job.encode.clone()
    }
}

/// Why a loop that ended early failed: nothing decoded, cancelled, or a partial video that the
/// job does not accept.
fn stopped(job: &ExportJob, frames: usize, cancelled: bool, coverage: &Coverage) -> ExportError {
    if frames == 0 {
        ExportError::NoFrames { path: job.video.clone(), coverage: coverage.clone() }
    } else if cancelled {
        ExportError::Cancelled
    } else {
        ExportError::Partial { path: job.video.clone(), coverage: coverage.clone() }
    }
}

/// The data outputs of one export (results JSON and CSV, mask folder); the video is the
/// encoder thread's.
struct DataSinks {
    results: Option<ResultsCollector>,
    mots: Option<MotsWriter>,
}

impl DataSinks {
    fn open(job: &ExportJob, pipe: &Pipeline, w: u32, h: u32) -> Result<Self, ExportError> {
        let mots = job.masks.as_deref().map(|d| MotsWriter::create(d, w, h)).transpose()?;
        let results = (job.json.is_some() || job.csv.is_some()).then(|| {
            ResultsCollector::new(job.video_id, w, h, job.csv.is_some())
                .with_min_track_frames(pipe.assembler().params.min_track_frames)
                .with_class_hypotheses(pipe.assembler().params.class_hypotheses)
        });
        Ok(Self { results, mots })
    }

    /// Whether any of them needs the frame's id map.
    fn need_ids(&self) -> bool {
        self.results.is_some() || self.mots.is_some()
    }

    fn add(&mut self, index: usize, res: &FrameResult, ids: &[u32], ctx: FrameContext<'_>) -> Result<(), ExportError> {
        if let Some(r) = self.results.as_mut() {
            r.add_frame(index, res, ids, ctx)?;
        }
        if let Some(m) = self.mots.as_mut() {
            let class_of = |id: u32| res.instances.iter().find(|i| i.track_id == id).map(|i| i.detection.class_id);
            m.write_frame(index, ids, &class_of)?;
        }
        Ok(())
    }

    /// Writes each output with its sidecar and moves it into place; returns the paths written.
    fn commit(
        &mut self,
        job: &ExportJob,
        pipe: &Pipeline,
        meta: &dyn Fn(&str) -> SourceMeta,
        length: usize,
    ) -> Result<Vec<PathBuf>, ExportError> {
        let write_meta = |data: &Path, content: &str| {
            let p = sidecar_path(data);
            meta(content).write(&p).map_err(|source| ExportError::Meta { path: p, source })
        };
        let mut written = Vec::new();
        if let (Some(r), Some(p)) = (self.results.as_ref(), job.json.as_ref()) {
            r.write_json(p, pipe.tracks(), length)?;
            write_meta(p, "YouTube-VIS results: a list of tracks, segmentations[i] is frame i (compressed RLE)")?;
            written.push(p.clone());
        }
        if let (Some(r), Some(p)) = (self.results.as_ref(), job.csv.as_ref()) {
            r.write_csv(p)?;
            write_meta(p, "one row per instance and frame; `time` is the frame's presentation time in seconds")?;
            written.push(p.clone());
        }
        if let Some(m) = self.mots.take() {
            written.push(m.commit(&meta(mots::CONTENT))?);
        }
        Ok(written)
    }
}

enum ToEncoder {
    Frame(Box<Work>),
    /// All frames sent and the other outputs written: finish the file and move it into place.
    Finish,
}

#[derive(Default)]
struct EncoderReport {
    written: Option<PathBuf>,
    annotate: Duration,
    encode: Duration,
}

/// One processed frame on its way to the encoder.
struct Work {
    image: RgbFrame,
    /// The id map, when masks are drawn.
    ids: Option<Vec<u32>>,
    record: Option<FrameRecord>,
    pts: i64,
}

impl Work {
    fn new(letterbox: Option<&Letterbox>, res: &FrameResult, image: RgbFrame, ids: Option<Vec<u32>>, pts: i64) -> Self {
        let record = letterbox.map(|lb| FrameRecord::from_result(res, lb, None, None));
        Self { image, ids, record, pts }
    }
}

/// The encoder thread: creates the video (answering on `ready`), draws each frame's scene
/// and encodes it; finishes the file on [`ToEncoder::Finish`], and drops it (leaving nothing)
/// if the channel closes first.
fn encode_frames(
    out: &Path,
    width: u32,
    height: u32,
    encode: &EncodeOptions,
    rx: &crossbeam_channel::Receiver<ToEncoder>,
    ready: &crossbeam_channel::Sender<Result<(), ExportError>>,
    opts: &SceneOptions,
    class_names: &[String],
) -> Result<EncoderReport, ExportError> {
    let mut writer = match VideoWriter::create(out, width, height, encode) {
        Ok(wr) => {
            ready.send(Ok(())).ok();
            wr
        }
        Err(e) => {
            ready.send(Err(e.into())).ok();
            return Ok(EncoderReport::default());
        }
    };
    let mut annotator = Annotator::new();
    let mut history: VecDeque<FrameRecord> = VecDeque::new();
    let mut report = EncoderReport::default();
    for msg in rx {
        let mut work = match msg {
            ToEncoder::Frame(work) => work,
            ToEncoder::Finish => {
                let t0 = Instant::now();
                report.written = Some(writer.finish()?);
                report.encode += t0.elapsed();
                return Ok(report);
            }
        };
        let t0 = Instant::now();
        if let Some(record) = work.record.take() {
            let scene = build_scene(&record, &|i| history.iter().find(|r| r.index == i), opts, class_names);
            annotator.draw(&mut work.image, work.ids.as_deref(), &scene)?;
            if opts.layers.trails && opts.trail_frames > 0 {
                history.push_back(record);
                while history.len() > opts.trail_frames {
                    history.pop_front();
                }
            }
        }
        let t1 = Instant::now();
        writer.write_frame(&work.image, Some(work.pts))?;
        report.annotate += t1 - t0;
        report.encode += t1.elapsed();
    }
    Ok(report)
}
