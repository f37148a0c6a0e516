//! The viewer application: state, event intake from the threads, playback and the window.

use std::collections::BTreeMap;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use egui::{ColorImage, TextureHandle, TextureOptions};

use super::cache::{CacheCost, FrameCache};
use super::commands::UiCommand;
use super::debug_view::DebugMap;
use super::dialog::FileDialog;
use super::pipeline::{
    Event, FrameProcessor, ModelProcessor, ProcessorInfo, ProcessorSlot, SlotState, VideoSession, decode_jpeg,
};
use super::recent::RecentFiles;
use super::stats::RateMeter;
use crate::decode::VideoInfo;
use crate::frame::RgbFrame;
use crate::infer::runtime::{Device, SessionOptions, load_model};
use crate::model::HeadMaps;
use crate::overlay::scene::{FrameRecord, SceneOptions};

/// Intra-op threads for an inference session that shares the machine with the UI: `requested`
/// if set, else all cores but one. ONNX Runtime's default (every core, with spinning workers)
/// starves the UI thread and the software rasteriser on small machines.
pub fn inference_threads(requested: usize) -> usize {
    if requested > 0 {
        return requested;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get().saturating_sub(1).max(1))
}

impl CacheCost for HeadMaps {
    fn bytes(&self) -> usize {
        4 * (self.semantic.len() + self.center.len() + self.offset.len() + self.inter_offset.len())
    }
}

/// Where the model comes from.
pub enum ModelSource {
    None {
        reason: String,
    },
    File {
        path: PathBuf,
        device: Device,
    },
    /// A ready processor (tests, or callers that build their own).
    Processor(Box<dyn FrameProcessor>),
}

pub struct ViewerConfig {
    pub video: Option<PathBuf>,
    pub model: ModelSource,
    pub dialog: Box<dyn FileDialog>,
    /// `None`: recent files are not persisted.
    pub recent_file: Option<PathBuf>,
    /// Memory budget of the JPEG picture cache.
    pub picture_budget: usize,
    /// Raw maps are large: only this many bytes of them are kept (frames near the playhead).
    pub maps_budget: usize,
    pub autoplay: bool,
    /// Writes one line per UI frame: seconds since start, frame time in ms, playhead, processed,
    /// last seek ms, and the previous frame's CPU time in ms (UI code plus rendering, as eframe
    /// measures it; -1 when unknown).
    pub frame_log: Option<PathBuf>,
    /// Intra-op threads of the viewer's inference session (0: one core is left to the UI).
    pub inference_threads: usize,
}

impl Default for ViewerConfig {
    fn default() -> Self {
        Self {
            video: None,
            model: ModelSource::None { reason: "no model given".to_owned() },
            dialog: Box::new(super::dialog::ScriptedDialog::default()),
            recent_file: None,
            picture_budget: 512 << 20,
            maps_budget: 32 << 20,
            autoplay: false,
            frame_log: None,
            inference_threads: 0,
        }
    }
}

#[derive(Clone, Debug, PartialEq)]
pub enum ModelStatus {
    Absent(String),
    Loading(String),
    Ready(ProcessorInfo),
    Failed(String),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProcessingState {
    Idle,
    Running,
    Done,
    Failed(String),
}

/// Where one track is present.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrackLane {
    pub id: u32,
    pub class_id: u32,
    /// Inclusive frame ranges.
    pub spans: Vec<(usize, usize)>,
}

impl TrackLane {
    fn add(&mut self, f: usize) {
        match self.spans.last_mut() {
            Some((_, e)) if *e + 1 == f => *e = f,
            Some((_, e)) if *e >= f => {}
            _ => self.spans.push((f, f)),
        }
    }

    pub fn first(&self) -> Option<usize> {
        self.spans.first().map(|s| s.0)
    }

    pub fn frames(&self) -> usize {
        self.spans.iter().map(|(a, b)| b - a + 1).sum()
    }

    /// The frame of this track nearest to `f`.
    pub fn nearest(&self, f: usize) -> Option<usize> {
        self.spans.iter().map(|&(a, b)| f.clamp(a, b)).min_by_key(|&g| g.abs_diff(f))
    }
}

/// The opened video.
pub struct VideoState {
    pub path: PathBuf,
    pub info: Option<VideoInfo>,
    pub frames: usize,
}

pub struct Stats {
    pub decode: RateMeter,
    pub inference: RateMeter,
    pub assembly: RateMeter,
    pub display: RateMeter,
    pub processed_per_frame: RateMeter,
    last_processed_at: Option<Instant>,
}

pub struct ViewerApp {
    pub(super) dialog: Box<dyn FileDialog>,
    pub recent: RecentFiles,
    slot: ProcessorSlot,
    model_rx: Option<crossbeam_channel::Receiver<Result<ProcessorInfo, String>>>,
    pub model_status: ModelStatus,
    pub(super) session: Option<VideoSession>,
    pub video: Option<VideoState>,
    /// Messages shown in the window (errors the user must see).
    pub messages: Vec<String>,
    pub records: BTreeMap<usize, FrameRecord>,
    pub pictures: FrameCache<Vec<u8>>,
    pub maps: FrameCache<HeadMaps>,
    /// Frames 0..processed are processed.
    pub processed: usize,
    pub processing: ProcessingState,
    pub lanes: BTreeMap<u32, TrackLane>,
    // Playback.
    pub current: usize,
    pub playing: bool,
    pub speed: f32,
    pub looping: bool,
    play_accum: f64,
    /// The frame whose picture is in the texture, and whether it came from the processed cache.
    pub shown: Option<usize>,
    /// The shown picture for egui's image drawing (renderers without wgpu).
    pub(super) texture: Option<TextureHandle>,
    /// The shown picture for the wgpu video pass (`video_paint`).
    pub(super) video_frame: Option<Arc<super::video_paint::VideoFrame>>,
    pub(super) shown_image: Option<RgbFrame>,
    requested: Option<usize>,
    pub scene: SceneOptions,
    pub show_help: bool,
    pub show_debug: bool,
    pub debug_map: DebugMap,
    pub(super) debug_texture: Option<(usize, DebugMap, TextureHandle)>,
    pub goto_open: bool,
    pub goto_text: String,
    pub stats: Stats,
    /// Where the video was last drawn: top-left corner and screen points per video pixel.
    pub video_rect: Option<(egui::Pos2, f32)>,
    pub(super) mask_generation: u64,
    /// Whether the wgpu video and mask pipelines are installed (else egui draws the picture and
    /// masks are blended into it on CPU).
    pub gpu_masks: bool,
    last_frame: Option<Instant>,
    started: Instant,
    frame_log: Option<std::fs::File>,
    /// Time from a seek to the frame being on screen (ms), for the status bar and the log.
    pub last_seek_ms: Option<f64>,
    seek_started: Option<(usize, Instant)>,
    pub(super) repaint: Option<Arc<dyn Fn() + Send + Sync>>,
    pending_open: Option<PathBuf>,
    /// The model file, for the export's own session (`None` when given as a processor).
    pub(super) model_file: Option<(PathBuf, Device)>,
    /// Intra-op threads of inference sessions (resolved from the config).
    pub(super) inference_threads: usize,
    pub export: super::export_window::ExportState,
    autoplay: bool,
}

impl ViewerApp {
    pub fn new(cc: &eframe::CreationContext<'_>, config: ViewerConfig) -> Self {
        let mut gpu_masks = false;
        if let Some(rs) = cc.wgpu_render_state.as_ref() {
            super::mask_paint::install(rs);
            super::video_paint::install(rs);
            gpu_masks = true;
        }
        let ctx = cc.egui_ctx.clone();
        let repaint: Arc<dyn Fn() + Send + Sync> = Arc::new(move || ctx.request_repaint());
        let mut app = Self::headless(config, Some(repaint));
        app.gpu_masks = gpu_masks;
        app
    }

    /// The app without a window context (threads cannot ask for repaints).
    #[allow(clippy::too_many_lines)] // older than the limit; the viewer state split (issue 14, item 2) shortens it
    pub fn headless(config: ViewerConfig, repaint: Option<Arc<dyn Fn() + Send + Sync>>) -> Self {
        let slot: ProcessorSlot = Arc::new(Mutex::new(SlotState::Loading));
        let mut model_rx = None;
        let threads = inference_threads(config.inference_threads);
        let model_file = match &config.model {
            ModelSource::File { path, device } => Some((path.clone(), *device)),
            _ => None,
        };
        let model_status = match config.model {
            ModelSource::None { reason } => {
                *slot.lock().expect("fresh lock") = SlotState::Absent;
                ModelStatus::Absent(reason)
            }
            ModelSource::Processor(p) => {
                let info = p.info();
                *slot.lock().expect("fresh lock") = SlotState::Ready(p);
                ModelStatus::Ready(info)
            }
            ModelSource::File { path, device } => {
                let (tx, rx) = crossbeam_channel::bounded(1);
                let fail_tx = tx.clone();
                let slot2 = slot.clone();
                let repaint2 = repaint.clone();
                let p = path.clone();
                let spawned = std::thread::Builder::new().name("ifa-model-load".into()).spawn(move || {
                    // ONNX Runtime's pool threads start here and inherit the lower priority.
                    super::priority::lower_current_thread(super::priority::WORKER_NICE);
                    let r = load_model(&p, &SessionOptions { device, threads })
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
                    if let Some(r) = repaint2 {
                        r();
                    }
                });
                if let Err(e) = spawned {
                    // The load never starts: the status line says why instead of "loading", and
                    // processing stops waiting for a model.
                    if let Ok(mut s) = slot.lock() {
                        *s = SlotState::Absent;
                    }
                    fail_tx.send(Err(format!("cannot start the model-load thread: {e}"))).ok();
                }
                model_rx = Some(rx);
                ModelStatus::Loading(path.display().to_string())
            }
        };
        let frame_log = config.frame_log.as_ref().and_then(|p| std::fs::File::create(p).ok());
        Self {
            dialog: config.dialog,
            recent: RecentFiles::load(config.recent_file),
            slot,
            model_rx,
            model_status,
            session: None,
            video: None,
            messages: Vec::new(),
            records: BTreeMap::new(),
            pictures: FrameCache::new(config.picture_budget),
            maps: FrameCache::new(config.maps_budget),
            processed: 0,
            processing: ProcessingState::Idle,
            lanes: BTreeMap::new(),
            current: 0,
            playing: false,
            speed: 1.0,
            looping: false,
            play_accum: 0.0,
            shown: None,
            texture: None,
            video_frame: None,
            shown_image: None,
            requested: None,
            scene: SceneOptions::default(),
            show_help: false,
            show_debug: false,
            debug_map: DebugMap::Center,
            debug_texture: None,
            goto_open: false,
            goto_text: String::new(),
            stats: Stats {
                decode: RateMeter::default(),
                inference: RateMeter::default(),
                assembly: RateMeter::default(),
                display: RateMeter::default(),
                processed_per_frame: RateMeter::default(),
                last_processed_at: None,
            },
            video_rect: None,
            mask_generation: 0,
            gpu_masks: false,
            last_frame: None,
            started: Instant::now(),
            frame_log,
            last_seek_ms: None,
            seek_started: None,
            repaint,
            pending_open: config.video,
            autoplay: config.autoplay,
            model_file,
            inference_threads: threads,
            export: super::export_window::ExportState::default(),
        }
    }

    /// Opens a video (the threads report success or failure as events).
    pub fn open(&mut self, path: &Path) {
        self.session = None; // stops the previous video's threads
        self.records.clear();
        self.pictures.clear();
        self.maps.clear();
        self.lanes.clear();
        self.processed = 0;
        self.processing = ProcessingState::Idle;
        self.current = 0;
        self.shown = None;
        self.shown_image = None;
        self.requested = None;
        self.scene.selected = None;
        self.messages.clear();
        self.video = Some(VideoState { path: path.to_path_buf(), info: None, frames: 0 });
        let repaint = self.repaint.clone().unwrap_or_else(|| Arc::new(|| {}));
        self.session = Some(VideoSession::start(path, self.slot.clone(), repaint));
        if let Err(e) = self.recent.push(path) {
            self.messages.push(e.to_string());
        }
    }

    pub fn open_dialog(&mut self) {
        if let Some(p) = self.dialog.pick_video() {
            self.open(&p);
        }
    }

    pub fn frame_count(&self) -> usize {
        self.video.as_ref().map_or(0, |v| v.frames)
    }

    pub fn fps(&self) -> f64 {
        self.video.as_ref().and_then(|v| v.info.as_ref()).map(|i| i.avg_fps).filter(|f| *f > 0.0).unwrap_or(25.0)
    }

    /// Moves the playhead (clamped).
    pub fn seek(&mut self, frame: usize) {
        let n = self.frame_count();
        if n == 0 {
            return;
        }
        let f = frame.min(n - 1);
        if f != self.current {
            self.seek_started = Some((f, Instant::now()));
        }
        self.current = f;
        self.play_accum = 0.0;
    }

    pub fn step(&mut self, delta: i64) {
        let f = (self.current as i64 + delta).max(0) as usize;
        self.playing = false;
        self.seek(f);
    }

    pub fn select_track(&mut self, id: u32, jump: bool) {
        self.scene.selected = Some(id);
        if jump && let Some(f) = self.lanes.get(&id).and_then(|l| l.nearest(self.current)) {
            self.seek(f);
        }
    }

    pub fn class_names(&self) -> Vec<String> {
        match &self.model_status {
            ModelStatus::Ready(i) => i.class_names.clone(),
            _ => Vec::new(),
        }
    }

    pub fn model_input_size(&self) -> Option<(usize, usize)> {
        match &self.model_status {
            ModelStatus::Ready(i) if i.input_w > 0 => Some((i.input_w, i.input_h)),
            _ => None,
        }
    }

    pub fn apply(&mut self, cmd: UiCommand) {
        let l = &mut self.scene.layers;
        match cmd {
            UiCommand::Open => self.open_dialog(),
            UiCommand::PlayPause => {
                if !self.playing && self.current + 1 >= self.frame_count() {
                    self.seek(0);
                }
                self.playing = !self.playing;
            }
            UiCommand::StepBack => self.step(-1),
            UiCommand::StepForward => self.step(1),
            UiCommand::JumpBack => self.step(-10),
            UiCommand::JumpForward => self.step(10),
            UiCommand::First => self.seek(0),
            UiCommand::Last => self.seek(self.frame_count().saturating_sub(1)),
            UiCommand::GoToFrame => {
                self.goto_open = true;
                self.goto_text = self.current.to_string();
            }
            UiCommand::ToggleLoop => self.looping = !self.looping,
            UiCommand::SpeedDown => self.speed = (self.speed / 2.0).max(0.125),
            UiCommand::SpeedUp => self.speed = (self.speed * 2.0).min(8.0),
            UiCommand::ToggleMasks => l.masks = !l.masks,
            UiCommand::ToggleCenters => l.centers = !l.centers,
            UiCommand::ToggleFlows => l.flows = !l.flows,
            UiCommand::ToggleLabels => l.labels = !l.labels,
            UiCommand::ToggleTrails => l.trails = !l.trails,
            UiCommand::ToggleDebug => self.show_debug = !self.show_debug,
            UiCommand::Deselect => self.scene.selected = None,
            UiCommand::ToggleHelp => self.show_help = !self.show_help,
            UiCommand::Export => self.open_export(),
        }
    }

    /// Takes in everything the threads sent.
    pub fn drain_events(&mut self) {
        if let Some(rx) = &self.model_rx
            && let Ok(r) = rx.try_recv()
        {
            self.model_status = match r {
                Ok(info) => ModelStatus::Ready(info),
                Err(e) => {
                    self.messages.push(format!("Model not usable, showing video only: {e}"));
                    ModelStatus::Failed(e)
                }
            };
            self.model_rx = None;
        }
        let Some(session) = &self.session else { return };
        let events: Vec<Event> = session.events.try_iter().collect();
        for ev in events {
            match ev {
                Event::Opened { info, frames } => {
                    if let Some(v) = &mut self.video {
                        v.info = Some(info);
                        v.frames = frames;
                    }
                    if self.autoplay {
                        self.playing = true;
                    }
                }
                Event::OpenFailed(e) => {
                    self.messages.push(format!("Cannot open the video: {e}"));
                    self.video = None;
                    self.session = None;
                    return;
                }
                Event::Shown { index, image } => {
                    self.requested = None;
                    // Keep a late answer only if it is what we still want (or closer to it).
                    let better = self.shown.is_none_or(|s| index.abs_diff(self.current) < s.abs_diff(self.current));
                    if index == self.current || (better && !self.pictures.contains(self.current)) {
                        self.set_picture(index, image);
                    }
                }
                Event::DisplayError(e) => {
                    self.requested = None;
                    self.messages.push(e);
                }
                Event::ProcessingStarted(_) => self.processing = ProcessingState::Running,
                Event::Processed { jpeg, processed } => self.take_processed(jpeg, *processed),
                Event::ProcessingDone => self.processing = ProcessingState::Done,
                Event::ProcessingFailed(e) => {
                    self.messages.push(format!("Processing stopped: {e}"));
                    self.processing = ProcessingState::Failed(e);
                }
            }
        }
    }

    fn take_processed(&mut self, jpeg: Vec<u8>, p: super::pipeline::Processed) {
        let i = p.record.index;
        let now = Instant::now();
        if let Some(t) = self.stats.last_processed_at {
            self.stats.processed_per_frame.push(now - t);
        }
        self.stats.last_processed_at = Some(now);
        self.stats.decode.push(p.times.decode);
        self.stats.inference.push(p.times.preprocess + p.times.inference);
        self.stats.assembly.push(p.times.postprocess + p.times.assembly);
        for inst in &p.record.instances {
            let lane = self.lanes.entry(inst.track_id).or_insert_with(|| TrackLane {
                id: inst.track_id,
                class_id: inst.class_id,
                spans: Vec::new(),
            });
            lane.add(i);
        }
        if i == self.processed {
            self.processed += 1;
        }
        if !jpeg.is_empty() {
            self.pictures.insert(i, jpeg, self.current);
        }
        if let Some(m) = p.maps {
            self.maps.insert(i, m, self.current);
        }
        self.records.insert(i, p.record);
        // A processed picture replaces an unannotated one of the same frame.
        if self.shown == Some(i) {
            self.shown = None;
        }
    }

    fn set_picture(&mut self, index: usize, image: RgbFrame) {
        self.shown = Some(index);
        self.shown_image = Some(image);
        self.mask_generation += 1;
        if let Some((f, t)) = self.seek_started
            && f == index
        {
            self.last_seek_ms = Some(t.elapsed().as_secs_f64() * 1000.0);
            self.seek_started = None;
        }
    }

    /// Advances playback by `dt` and makes sure the playhead's picture is (being) fetched.
    pub fn tick(&mut self, dt: Duration) {
        if let Some(p) = self.pending_open.take() {
            self.open(&p);
        }
        self.poll_export();
        self.drain_events();
        let n = self.frame_count();
        if self.playing && n > 0 {
            self.play_accum += dt.as_secs_f64() * self.fps() * f64::from(self.speed);
            while self.play_accum >= 1.0 {
                self.play_accum -= 1.0;
                if self.current + 1 < n {
                    self.current += 1;
                } else if self.looping {
                    self.current = 0;
                } else {
                    self.playing = false;
                    break;
                }
            }
            // Never run more than a frame ahead of what can be shown.
            self.play_accum = self.play_accum.min(1.0);
        }
        self.ensure_picture();
    }

    fn ensure_picture(&mut self) {
        if self.shown == Some(self.current) || self.video.is_none() {
            return;
        }
        if let Some(jpeg) = self.pictures.get(self.current) {
            match decode_jpeg(jpeg) {
                Ok(img) => {
                    self.set_picture(self.current, img);
                    return;
                }
                Err(e) => self.messages.push(format!("cached picture of frame {}: {e}", self.current)),
            }
        }
        if self.requested != Some(self.current)
            && let Some(s) = &self.session
            && self.frame_count() > 0
        {
            s.request(self.current);
            self.requested = Some(self.current);
        }
    }

    /// Width and height of the shown picture, whichever way it is drawn.
    pub fn picture_size(&self) -> Option<[usize; 2]> {
        if self.gpu_masks {
            self.video_frame.as_ref().map(|f| [f.width as usize, f.height as usize])
        } else {
            self.texture.as_ref().map(|t| t.size())
        }
    }

    /// The record drawn with the current picture.
    pub fn shown_record(&self) -> Option<&FrameRecord> {
        self.shown.and_then(|i| self.records.get(&i))
    }

    fn log_frame(&mut self, dt: Duration, cpu: Option<f32>) {
        if let Some(f) = &mut self.frame_log {
            writeln!(
                f,
                "{:.4} {:.3} {} {} {} {:.3}",
                self.started.elapsed().as_secs_f64(),
                dt.as_secs_f64() * 1000.0,
                self.current,
                self.processed,
                self.last_seek_ms.map_or(-1.0, |v| v),
                cpu.map_or(-1.0, |c| c * 1000.0)
            )
            .ok();
        }
    }
}

impl eframe::App for ViewerApp {
    /// The panels' colour: `ui::draw` leaves the panels unfilled and lets the clear do it.
    fn clear_color(&self, visuals: &egui::Visuals) -> [f32; 4] {
        visuals.panel_fill.to_normalized_gamma_f32()
    }

    fn ui(&mut self, ui: &mut egui::Ui, frame: &mut eframe::Frame) {
        let now = Instant::now();
        let dt = self.last_frame.map_or(Duration::ZERO, |t| now - t);
        self.last_frame = Some(now);
        if dt > Duration::ZERO {
            self.stats.display.push(dt);
        }
        self.log_frame(dt, frame.info().cpu_usage);
        let ctx = ui.ctx().clone();
        for cmd in UiCommand::pressed(&ctx) {
            self.apply(cmd);
        }
        let dropped: Vec<PathBuf> = ctx.input(|i| {
            i.raw.dropped_files.iter().map(|f| f.path().to_path_buf()).filter(|p| !p.as_os_str().is_empty()).collect()
        });
        if let Some(p) = dropped.first() {
            self.open(p);
        }
        self.tick(dt);
        self.upload_texture(&ctx);
        super::ui::draw(self, ui);
        if self.playing {
            ctx.request_repaint();
        } else if matches!(self.processing, ProcessingState::Running) || self.session.is_some() {
            // Threads repaint on news; this only keeps rates fresh.
            ctx.request_repaint_after(Duration::from_millis(250));
        }
    }
}

impl ViewerApp {
    fn upload_texture(&mut self, ctx: &egui::Context) {
        let Some(img) = self.shown_image.take() else { return };
        let mut img = img;
        if self.gpu_masks {
            let generation = self.video_frame.as_ref().map_or(0, |f| f.generation + 1);
            let frame = super::video_paint::VideoFrame::from_rgb(generation, img.width, img.height, &img.data);
            self.video_frame = Some(Arc::new(frame));
            return;
        }
        self.blend_on_cpu(&mut img);
        let ci = ColorImage::from_rgb([img.width as usize, img.height as usize], &img.data);
        match &mut self.texture {
            Some(t) => t.set(ci, TextureOptions::LINEAR),
            None => self.texture = Some(ctx.load_texture("ifa-video", ci, TextureOptions::LINEAR)),
        }
    }

    /// Without wgpu (e.g. a glow renderer) masks are blended into the picture on CPU.
    fn blend_on_cpu(&self, img: &mut RgbFrame) {
        let (Some(rec), Some((iw, ih))) = (self.shown_record(), self.model_input_size()) else { return };
        if !self.scene.layers.masks {
            return;
        }
        let lb = crate::model::Letterbox::new(img.width, img.height, iw, ih);
        let mapper = crate::assemble::idmap::IdMapper::new(&lb, rec.soft_ids.h, rec.soft_ids.w);
        let mut ids = Vec::new();
        if mapper.render(&rec.soft_ids.decode(), &mut ids) {
            let visible = |id: u32| rec.instance(id).is_some_and(|i| self.scene.shows(i));
            crate::overlay::scene::blend_masks(img, &ids, &visible, self.scene.opacity);
        }
    }
}
