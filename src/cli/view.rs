//! `ifa view`: the desktop viewer.

use std::path::PathBuf;

use ifa::infer::runtime::Device;
use ifa::present::dialog::NativeDialog;
use ifa::present::{ModelSource, ViewerApp, ViewerConfig, recent};

/// Arguments of `ifa view`.
#[derive(clap::Args, Debug)]
pub struct ViewArgs {
    /// Video to open (default: the bundled demo, assets/demo.mp4).
    pub video: Option<PathBuf>,
    /// Frame rate of a frame folder (ignored for video files). YouTube-VIS frames are every
    /// fifth frame of 30 fps videos, so their real rate is 6 fps.
    #[arg(long, default_value_t = ifa::decode::DEFAULT_FOLDER_FPS, value_parser = super::parse_fps)]
    pub fps: f64,
    /// ONNX model: a path, or the name of a model in models/ (default: models/ifa-shapes.onnx).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Show the video without a model.
    #[arg(long, conflicts_with = "model")]
    pub no_model: bool,
    /// Execution provider.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
    /// Start playing as soon as the video is open.
    #[arg(long)]
    pub play: bool,
    /// Loop playback.
    #[arg(long = "loop")]
    pub looping: bool,
    /// Write per-UI-frame timings (seconds, frame ms, playhead, processed, last seek ms).
    #[arg(long, value_name = "PATH")]
    pub frame_log: Option<PathBuf>,
    /// Memory budget of the processed-picture cache, MiB.
    #[arg(long, default_value_t = 512)]
    pub cache_mib: usize,
    /// ONNX Runtime intra-op threads for the viewer's inference (0: all cores but one, so the
    /// UI keeps a core).
    #[arg(long, default_value_t = 0)]
    pub inference_threads: usize,
    /// Draw frames as fast as possible instead of waiting for the display's refresh
    /// (for measuring the UI's frame rate).
    #[arg(long)]
    pub no_vsync: bool,
}

fn egui_wgpu_config(no_vsync: bool) -> eframe::egui_wgpu::WgpuConfiguration {
    let mut c = eframe::egui_wgpu::WgpuConfiguration::default();
    if no_vsync {
        c.surface.present_mode = eframe::egui_wgpu::wgpu::PresentMode::AutoNoVsync;
    }
    c
}

pub fn run(args: ViewArgs) -> anyhow::Result<()> {
    ifa::decode::set_folder_fps(args.fps);
    let bundled = |rel: &str| ifa::bundled::find(rel).unwrap_or_else(|_| PathBuf::from(rel));
    let video = args.video.or_else(|| Some(bundled(ifa::bundled::DEMO_VIDEO)));
    let model = if args.no_model {
        ModelSource::None { reason: "--no-model".to_owned() }
    } else {
        let path = args.model.unwrap_or_else(|| bundled(ifa::bundled::DEFAULT_MODEL));
        match ifa::bundled::resolve_model(&path) {
            Ok(path) => ModelSource::File { path, device: args.device },
            Err(reason) => ModelSource::None { reason },
        }
    };
    let config = ViewerConfig {
        video,
        model,
        dialog: Box::new(NativeDialog),
        recent_file: recent::default_file(),
        picture_budget: args.cache_mib << 20,
        autoplay: args.play,
        frame_log: args.frame_log,
        inference_threads: args.inference_threads,
        ..ViewerConfig::default()
    };
    let looping = args.looping;
    let options = eframe::NativeOptions {
        renderer: eframe::Renderer::Wgpu,
        wgpu_options: egui_wgpu_config(args.no_vsync),
        viewport: egui::ViewportBuilder::default().with_title("ifa viewer").with_inner_size([1280.0, 800.0]),
        ..Default::default()
    };
    eframe::run_native(
        "ifa viewer",
        options,
        Box::new(move |cc| {
            let mut app = ViewerApp::new(cc, config);
            app.playback.set_looping(looping);
            Ok(Box::new(app))
        }),
    )
    .map_err(|e| anyhow::anyhow!("cannot open the viewer window: {e}"))
}
