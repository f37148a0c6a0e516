//! The viewer application: its parts (model, video data, playback, panels), event intake from
//! the threads, and the window's frame loop.

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use egui::{ColorImage, TextureHandle, TextureOptions};

use super::commands::UiCommand;
use super::debug_view::DebugMap;
use super::dialog::FileDialog;
use super::model_state::ModelState;
pub use super::model_state::{ModelSource, ModelStatus};
use super::pipeline::{Event, VideoSession, decode_jpeg};
use super::playback::Playback;
use super::recent::RecentFiles;
use super::stats::RateMeter;
pub use super::video_data::{ProcessingState, TrackLane, VideoData};
use crate::decode::VideoInfo;
use crate::frame::RgbFrame;
use crate::infer::runtime::Device;
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

/// The opened video.
pub struct VideoState {
    pub path: PathBuf,
    pub info: Option<VideoInfo>,
    pub frames: usize,
}

#[derive(Default)]
pub struct Stats {
    pub decode: RateMeter,
    pub inference: RateMeter,
    pub assembly: RateMeter,
    pub display: RateMeter,
    pub processed_per_frame: RateMeter,
    last_processed_at: Option<Instant>,
}

/// Which windows and panels are open, and their own state.
#[derive(Default)]
pub struct Panels {
    pub show_help: bool,
    pub show_debug: bool,
    pub debug_map: DebugMap,
    pub(super) debug_texture: Option<(usize, DebugMap, TextureHandle)>,
    pub goto_open: bool,
    pub goto_text: String,
}

/// The optional per-UI-frame log of `ViewerConfig::frame_log`.
struct FrameLog {
    file: Option<std::fs::File>,
    started: Instant,
    last_frame: Option<Instant>,
}

pub struct ViewerApp {
    pub(super) dialog: Box<dyn FileDialog>,
    pub recent: RecentFiles,
    pub model: ModelState,
    pub(super) session: Option<VideoSession>,
    pub video: Option<VideoState>,
    /// Messages shown in the window (errors the user must see).
    pub messages: Vec<String>,
    pub data: VideoData,
    pub playback: Playback,
    /// The frame whose picture is on screen.
    pub shown: Option<usize>,
    /// The shown picture for egui's image drawing (renderers without wgpu).
    pub(super) texture: Option<TextureHandle>,
    /// The shown picture for the wgpu video pass (`video_paint`).
    pub(super) video_frame: Option<Arc<super::video_paint::VideoFrame>>,
    pub(super) shown_image: Option<RgbFrame>,
    /// The shown frame's track ids at the video's resolution, when the model refines mask edges
    /// against the frame (`ifa.post` `refine_radius`): the mask pass then draws these, so the
    /// screen shows the masks the results files hold.
    pub(super) refined_ids: Option<Arc<RefinedIds>>,
    /// The last mask frame built for the GPU pass, by (mask generation, opacity): repaints of
    /// the same picture reuse it.
    pub(super) mask_frame: Option<BuiltMasks>,
    requested: Option<usize>,
    pub scene: SceneOptions,
    pub panels: Panels,
    pub stats: Stats,
    /// Where the video was last drawn: top-left corner and screen points per video pixel.
    pub video_rect: Option<(egui::Pos2, f32)>,
    pub(super) mask_generation: u64,
    /// Whether the wgpu video and mask pipelines are installed (else egui draws the picture and
    /// masks are blended into it on CPU).
    pub gpu_masks: bool,
    frame_log: FrameLog,
    pub(super) repaint: Option<Arc<dyn Fn() + Send + Sync>>,
    pending_open: Option<PathBuf>,
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
    pub fn headless(config: ViewerConfig, repaint: Option<Arc<dyn Fn() + Send + Sync>>) -> Self {
        let threads = inference_threads(config.inference_threads);
        let model = ModelState::start(config.model, threads, repaint.clone());
        let file = config.frame_log.as_ref().and_then(|p| std::fs::File::create(p).ok());
        Self {
            dialog: config.dialog,
            recent: RecentFiles::load(config.recent_file),
            model,
            session: None,
            video: None,
            messages: Vec::new(),
            data: VideoData::new(config.picture_budget, config.maps_budget),
            playback: Playback::default(),
            shown: None,
            texture: None,
            video_frame: None,
            shown_image: None,
            refined_ids: None,
            mask_frame: None,
            requested: None,
            scene: SceneOptions::default(),
            panels: Panels::default(),
            stats: Stats::default(),
            video_rect: None,
            mask_generation: 0,
            gpu_masks: false,
            frame_log: FrameLog { file, started: Instant::now(), last_frame: None },
            repaint,
            pending_open: config.video,
            autoplay: config.autoplay,
            inference_threads: threads,
            export: super::export_window::ExportState::default(),
        }
    }

    /// Opens a video (the threads report success or failure as events).
    pub fn open(&mut self, path: &Path) {
        self.session = None; // stops the previous video's threads
        self.data.clear();
        self.playback.reset();
        self.shown = None;
        self.shown_image = None;
        self.requested = None;
        self.scene.selected = None;
        self.messages.clear();
        self.video = Some(VideoState { path: path.to_path_buf(), info: None, frames: 0 });
        let repaint = self.repaint.clone().unwrap_or_else(|| Arc::new(|| {}));
        self.session = Some(VideoSession::start(path, self.model.slot(), repaint));
        if let Err(e) = self.recent.push(path) {
            self.messages.push(e.to_string());
        }
    }

    pub fn open_dialog(&mut self) {
        if let Some(p) = self.dialog.pick_video() {
            self.open(&p);
        }
    }

    /// Replaces the model: the new one loads in the background and the open video (if any) is
    /// processed again with it from the start; the device stays the one chosen before.
    pub fn open_model(&mut self, path: &Path) {
        let device = self.model.file().map_or(Device::Auto, |(_, d)| *d);
        self.session = None; // the old processor's threads stop before the new model loads
        self.model = ModelState::start(
            ModelSource::File { path: path.to_path_buf(), device },
            self.inference_threads,
            self.repaint.clone(),
        );
        if let Some(video) = self.video.as_ref().map(|v| v.path.clone()) {
            self.open(&video);
        }
    }

    pub fn open_model_dialog(&mut self) {
        let start = crate::bundled::find("models").ok();
        if let Some(p) = self.dialog.pick_model(start.as_deref()) {
            self.open_model(&p);
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
        self.playback.seek(frame, self.frame_count());
    }

    /// Steps by `delta` frames and pauses.
    pub fn step(&mut self, delta: i64) {
        self.playback.step(delta, self.frame_count());
    }

    /// The frame under the playhead.
    pub fn current(&self) -> usize {
        self.playback.current()
    }

    pub fn select_track(&mut self, id: u32, jump: bool) {
        self.scene.selected = Some(id);
        if jump && let Some(f) = self.data.lanes().get(&id).and_then(|l| l.nearest(self.current())) {
            self.seek(f);
        }
    }

    pub fn class_names(&self) -> Vec<String> {
        self.model.class_names()
    }

    pub fn model_input_size(&self) -> Option<(usize, usize)> {
        self.model.input_size()
    }

    pub fn apply(&mut self, cmd: UiCommand) {
        let l = &mut self.scene.layers;
        match cmd {
            UiCommand::Open => self.open_dialog(),
            UiCommand::OpenModel => self.open_model_dialog(),
            UiCommand::PlayPause => self.playback.toggle(self.frame_count()),
            UiCommand::StepBack => self.step(-1),
            UiCommand::StepForward => self.step(1),
            UiCommand::JumpBack => self.step(-10),
            UiCommand::JumpForward => self.step(10),
            UiCommand::First => self.seek(0),
            UiCommand::Last => self.seek(self.frame_count().saturating_sub(1)),
            UiCommand::GoToFrame => {
                self.panels.goto_open = true;
                self.panels.goto_text = self.current().to_string();
            }
            UiCommand::ToggleLoop => self.playback.set_looping(!self.playback.looping()),
            UiCommand::SpeedDown => self.playback.slower(),
            UiCommand::SpeedUp => self.playback.faster(),
            UiCommand::ToggleMasks => l.masks = !l.masks,
            UiCommand::ToggleCenters => l.centers = !l.centers,
            UiCommand::ToggleFlows => l.flows = !l.flows,
            UiCommand::ToggleLabels => l.labels = !l.labels,
            UiCommand::ToggleTrails => l.trails = !l.trails,
            UiCommand::ToggleDebug => self.panels.show_debug = !self.panels.show_debug,
            UiCommand::Deselect => self.scene.selected = None,
            UiCommand::ToggleHelp => self.panels.show_help = !self.panels.show_help,
            UiCommand::Export => self.open_export(),
        }
    }

    /// Takes in everything the threads sent.
    pub fn drain_events(&mut self) {
        if let Some(msg) = self.model.poll() {
            self.messages.push(msg);
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
                        self.playback.play();
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
                    let current = self.current();
                    let better = self.shown.is_none_or(|s| index.abs_diff(current) < s.abs_diff(current));
                    if index == current || (better && !self.data.pictures.contains(current)) {
                        self.set_picture(index, image);
                    }
                }
                Event::DisplayError(e) => {
                    self.requested = None;
                    self.messages.push(e);
                }
                Event::ProcessingStarted(_) => self.data.processing = ProcessingState::Running,
                Event::Processed { jpeg, processed } => self.take_processed(jpeg, *processed),
                Event::ProcessingDone => self.data.processing = ProcessingState::Done,
                Event::ProcessingFailed(e) => {
                    self.messages.push(format!("Processing stopped: {e}"));
                    self.data.processing = ProcessingState::Failed(e);
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
        let current = self.current();
        self.data.add(jpeg, p, current);
        // A processed picture replaces an unannotated one of the same frame.
        if self.shown == Some(i) {
            self.shown = None;
        }
    }

    fn set_picture(&mut self, index: usize, image: RgbFrame) {
        self.shown = Some(index);
        self.shown_image = Some(image);
        self.mask_generation += 1;
        self.playback.shown(index);
    }

    /// Advances playback by `dt` and makes sure the playhead's picture is (being) fetched.
    pub fn tick(&mut self, dt: Duration) {
        if let Some(p) = self.pending_open.take() {
            self.open(&p);
        }
        self.poll_export();
        self.drain_events();
        let (fps, n) = (self.fps(), self.frame_count());
        self.playback.advance(dt, fps, n);
        self.ensure_picture();
    }

    fn ensure_picture(&mut self) {
        let current = self.current();
        if self.shown == Some(current) || self.video.is_none() {
            return;
        }
        if let Some(jpeg) = self.data.pictures.get(current) {
            match decode_jpeg(jpeg) {
                Ok(img) => {
                    self.set_picture(current, img);
                    return;
                }
                Err(e) => self.messages.push(format!("cached picture of frame {current}: {e}")),
            }
        }
        if self.requested != Some(current)
            && let Some(s) = &self.session
            && self.frame_count() > 0
        {
            s.request(current);
            self.requested = Some(current);
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
        self.shown.and_then(|i| self.data.record(i))
    }

    fn log_frame(&mut self, dt: Duration, cpu: Option<f32>) {
        if let Some(f) = &mut self.frame_log.file {
            writeln!(
                f,
                "{:.4} {:.3} {} {} {} {:.3}",
                self.frame_log.started.elapsed().as_secs_f64(),
                dt.as_secs_f64() * 1000.0,
                self.playback.current(),
                self.data.processed(),
                self.playback.last_seek_ms().map_or(-1.0, |v| v),
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
        let dt = self.frame_log.last_frame.map_or(Duration::ZERO, |t| now - t);
        self.frame_log.last_frame = Some(now);
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
        if self.playback.playing() {
            ctx.request_repaint();
        } else if matches!(self.data.processing, ProcessingState::Running) || self.session.is_some() {
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
            self.refined_ids = self.render_ids(&img).map(Arc::new);
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

    /// The refined id map of the shown frame (`img`), when the model refines edges.
    fn render_ids(&self, img: &RgbFrame) -> Option<RefinedIds> {
        if self.model.refine().0 <= 0.0 {
            return None;
        }
        let (index, ids) = self.shown_id_map(img)?;
        Some(RefinedIds { index, width: img.width, height: img.height, ids })
    }

    /// The shown record's id map at `img`'s size with the loaded model's edge rules (guided by
    /// `img`, the shown frame, and refined against it): the frame index and the map.
    fn shown_id_map(&self, img: &RgbFrame) -> Option<(usize, Vec<u32>)> {
        let (rec, (iw, ih)) = (self.shown_record()?, self.model_input_size()?);
        let lb = crate::model::Letterbox::new(img.width, img.height, iw, ih);
        let (radius, eps) = self.model.refine();
        let mapper = crate::assemble::idmap::IdMapper::new(&lb, rec.soft_ids.h, rec.soft_ids.w)
            .with_edge_sigma(self.model.edge_sigma())
            .with_refine(radius, eps);
        let mut ids = Vec::new();
        mapper.render_guided(&rec.soft_ids.decode(), Some(img), &mut ids).then_some((rec.index, ids))
    }

    /// Without wgpu (e.g. a glow renderer) masks are blended into the picture on CPU.
    fn blend_on_cpu(&self, img: &mut RgbFrame) {
        if !self.scene.layers.masks {
            return;
        }
        let (Some(rec), Some((_, ids))) = (self.shown_record(), self.shown_id_map(img)) else { return };
        let visible = |id: u32| rec.instance(id).is_some_and(|i| self.scene.shows(i));
        crate::overlay::scene::blend_masks(img, &ids, &visible, self.scene.opacity);
    }
}

/// A mask frame for the GPU pass (`None`: nothing to draw) and what it was built for: the mask
/// generation and the opacity's bits.
#[derive(Debug)]
pub(super) struct BuiltMasks {
    pub(super) key: (u64, u32),
    pub(super) frame: Option<Arc<super::mask_paint::MaskFrame>>,
}

/// A frame's track ids at the video's resolution (row-major, 0 = none).
#[derive(Debug)]
pub(super) struct RefinedIds {
    pub(super) index: usize,
    pub(super) width: u32,
    pub(super) height: u32,
    pub(super) ids: Vec<u32>,
}
