//! The viewer driven headless with egui_kittest on wgpu (lavapipe here): open a generated clip,
//! let it process, step, seek, select a track, toggle layers, and check what the window shows,
//! GPU-coloured masks included.
//!
//! The network is replaced by a processor that reads the clip's one white square and writes the
//! head maps a perfect model would give; post-processing and assembly are the real ones.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::Queryable;
use ifa::assemble::Assembler;
use ifa::decode::{DecodedFrame, VideoReader};
use ifa::model::HeadMaps;
use ifa::model::Letterbox;
use ifa::model::maps::cell_center;
use ifa::model::{PostParams, RefsPolicy};
use ifa::overlay::scene::{FrameRecord, PALETTE, blend_channel};
use ifa::present::pipeline::{FrameProcessor, Processed, ProcessorInfo, StageTimes};
use ifa::present::{ModelSource, ViewerApp, ViewerConfig};

const IN_W: usize = 160;
const IN_H: usize = 96;

/// A 2 s clip: black, one white 40x40 square moving right by 2.4 px a frame.
fn clip(dir: &Path) -> PathBuf {
    common::moving_square_clip(dir, "black", "white", 2)
}

/// The processor's edges follow the frame, as the shipped model's do (`ifa.post` `edge_sigma`).
const EDGE_SIGMA: f32 = 20.0;

struct SquareProcessor {
    assembler: Assembler,
    centers: Vec<(f32, f32)>,
    /// The head stride of the maps it gives (4, or 2 as a stride-2 model's).
    stride: usize,
    /// `ifa.post` `edge_sigma` and (`refine_radius`, `refine_eps`) of this fake model.
    edge_sigma: f32,
    refine: (f32, f32),
}

impl SquareProcessor {
    fn new(stride: usize) -> Self {
        let post = PostParams {
            center_threshold: 0.3,
            nms_kernel: 7,
            top_k: 8,
            match_distance: 24.0,
            min_pixels: 2,
            ..PostParams::default()
        };
        Self {
            assembler: Assembler::new(post, RefsPolicy { count: 2, first_frame: true, step: 1 }, 2),
            centers: Vec::new(),
            stride,
            edge_sigma: EDGE_SIGMA,
            refine: (0.0, 1e-3),
        }
    }

    /// Edges as a model with these `ifa.post` values draws them.
    fn with_edges(mut self, edge_sigma: f32, refine: (f32, f32)) -> Self {
        self.edge_sigma = edge_sigma;
        self.refine = refine;
        self
    }

    fn mapper(&self, lb: &Letterbox) -> ifa::assemble::idmap::IdMapper {
        let (h, w) = (IN_H / self.stride, IN_W / self.stride);
        ifa::assemble::idmap::IdMapper::new(lb, h, w)
            .with_edge_sigma(self.edge_sigma)
            .with_refine(self.refine.0, self.refine.1)
    }
}

impl FrameProcessor for SquareProcessor {
    fn info(&self) -> ProcessorInfo {
        ProcessorInfo {
            name: "square-oracle".into(),
            provider: "CPU".into(),
            warnings: vec![],
            class_names: vec!["disc".into(), "square".into()],
            input_w: IN_W,
            input_h: IN_H,
            edge_sigma: self.edge_sigma,
            refine: self.refine,
            averaging: None,
        }
    }

    fn reset(&mut self) {
        self.assembler.reset();
        self.centers.clear();
    }

    fn process(&mut self, f: &DecodedFrame) -> Result<Processed, String> {
        let img = &f.image;
        let lb = Letterbox::new(img.width, img.height, IN_W, IN_H);
        let d = self.stride;
        let (h, w) = (IN_H / d, IN_W / d);
        let n = h * w;
        let fg: Vec<bool> = (0..n)
            .map(|c| {
                let (y, x) = cell_xy(d, c / w, c % w);
                let (vy, vx) = lb.to_video(f64::from(y), f64::from(x));
                vx >= 0.0
                    && vy >= 0.0
                    && (vx as u32) < img.width
                    && (vy as u32) < img.height
                    && img.pixel(vx as u32, vy as u32)[0] > 128
            })
            .collect();
        let k = fg.iter().filter(|&&b| b).count().max(1) as f32;
        let (mut cy, mut cx) = (0.0f32, 0.0f32);
        for c in (0..n).filter(|&c| fg[c]) {
            let (y, x) = cell_xy(d, c / w, c % w);
            cy += y / k;
            cx += x / k;
        }
        self.centers.push((cy, cx));
        let refs: Vec<usize> =
            ifa::model::refs::reference_frames(f.index, &RefsPolicy { count: 2, first_frame: true, step: 1 });
        let mut m = HeadMaps { h, w, stride: d, num_classes: 2, refs: refs.clone(), ..HeadMaps::default() };
        m.semantic = vec![0.0; 3 * n];
        m.center = vec![0.0; n];
        m.offset = vec![0.0; 2 * n];
        m.inter_offset = vec![0.0; 2 * n * refs.len()];
        #[allow(clippy::needless_range_loop)] // c indexes several planes at once
        for c in 0..n {
            let (y, x) = cell_xy(d, c / w, c % w);
            m.center[c] = (-((y - cy).powi(2) + (x - cx).powi(2)) / (2.0 * 16.0)).exp();
            if fg[c] {
                m.semantic[2 * n + c] = 5.0; // class 2, "square"
                m.offset[c] = cy - y;
                m.offset[n + c] = cx - x;
                for (r, &rf) in refs.iter().enumerate() {
                    let (ry, rx) = self.centers[rf];
                    m.inter_offset[r * 2 * n + c] = ry - y;
                    m.inter_offset[r * 2 * n + n + c] = rx - x;
                }
            }
        }
        let mut result = self.assembler.step(f.index, &m);
        result.pts_seconds = f.pts_seconds;
        let record = FrameRecord::from_result(&result, &lb, Some(&self.mapper(&lb)), Some(img));
        Ok(Processed { record, maps: Some(m), times: StageTimes::default() })
    }
}

fn harness(video: PathBuf, size: egui::Vec2, stride: usize) -> Harness<'static, ViewerApp> {
    harness_with(video, size, SquareProcessor::new(stride))
}

fn harness_with(video: PathBuf, size: egui::Vec2, processor: SquareProcessor) -> Harness<'static, ViewerApp> {
    Harness::builder().with_size(size).wgpu().build_eframe(move |cc| {
        ViewerApp::new(
            cc,
            ViewerConfig {
                video: Some(video),
                model: ModelSource::Processor(Box::new(processor)),
                ..ViewerConfig::default()
            },
        )
    })
}

/// Steps until `done` holds (the threads work in real time).
fn wait_for(h: &mut Harness<'static, ViewerApp>, what: &str, done: impl Fn(&ViewerApp) -> bool) {
    let t0 = Instant::now();
    while !done(h.state()) {
        assert!(t0.elapsed() < Duration::from_secs(60), "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.step();
}

fn has_label(h: &Harness<'static, ViewerApp>, text: &str) -> bool {
    h.query_by_label_contains(text).is_some()
}

#[test]
fn open_process_step_seek_select_and_toggle() {
    let dir = tempfile::tempdir().unwrap();
    let video = clip(dir.path());
    let mut h = harness(video.clone(), egui::vec2(1100.0, 700.0), 4);
    wait_for(&mut h, "the whole clip processed", |a| {
        a.frame_count() == 50 && a.data.processing == ifa::present::app::ProcessingState::Done
    });
    wait_for(&mut h, "frame 0 on screen", |a| a.shown == Some(0));
    assert!(has_label(&h, "Frame 0 / 49"));
    assert!(has_label(&h, "processed all 50"));
    assert_eq!(h.state().data.lanes().len(), 1, "one square, one track: {:?}", h.state().data.lanes().keys());

    // Step and seek with the keyboard.
    h.key_press(egui::Key::ArrowRight);
    wait_for(&mut h, "frame 1", |a| a.shown == Some(1));
    assert!(has_label(&h, "Frame 1 / 49"));
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowRight);
    wait_for(&mut h, "frame 11", |a| a.shown == Some(11));
    assert!(has_label(&h, "Frame 11 / 49"));
    h.key_press(egui::Key::End);
    wait_for(&mut h, "last frame", |a| a.shown == Some(49));
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowLeft);
    wait_for(&mut h, "frame 39", |a| a.shown == Some(39));
    // A processed frame is on screen in the frame the seek happened.
    assert!(h.state().playback.last_seek_ms().is_some());

    // Select the track by its lane: selection, jump and inspector.
    h.get_by_role_and_label(Role::Button, "track 1").click();
    h.step();
    h.step();
    assert_eq!(h.state().scene.selected, Some(1));
    assert!(has_label(&h, "Selected track: #1"));
    assert!(has_label(&h, "class: square"));
    assert!(has_label(&h, "decision: matched via frame 38"), "inspector shows the deciding reference");
    assert!(has_label(&h, "ref 38:"));
    let inst = h.state().shown_record().unwrap().instance(1).unwrap().clone();
    assert!(has_label(&h, &format!("score: {:.3}", inst.score)));
    assert!(has_label(&h, &format!("area: {} px", inst.area)));
    // The square is 40x40 video pixels; the id map is smooth at stride 4 (±1 cell at the edges).
    assert!((1000..2600).contains(&inst.area), "area {}", inst.area);
    // Flow points 2.4 px back per frame.
    assert!((inst.flows[0].vector[0] + 2.4).abs() < 2.5, "{:?}", inst.flows[0]);

    // Masks drawn on the GPU: the square's center is white in the video, palette[0]-blended on screen.
    let px = |h: &mut Harness<'static, ViewerApp>| {
        let img = h.render().expect("render");
        let a = h.state();
        let c = a.shown_record().unwrap().instance(1).unwrap().center;
        let (rect_min, k) = a.video_rect.unwrap();
        let sx = (rect_min.x + (c[0] + 0.5) * k) as u32;
        let sy = (rect_min.y + (c[1] + 0.5) * k + 10.0) as u32; // below the center marker and label
        let p = img.get_pixel(sx, sy);
        [p[0], p[1], p[2]]
    };
    let on = px(&mut h);
    // Kept for a human look (numbers in the status bar vary, so no snapshot comparison).
    h.render().unwrap().save(std::env::temp_dir().join("ifa_viewer_ui.png")).unwrap();
    let want = [
        blend_channel(255, PALETTE[0][0], 0.5),
        blend_channel(255, PALETTE[0][1], 0.5),
        blend_channel(255, PALETTE[0][2], 0.5),
    ];
    for k in 0..3 {
        assert!(on[k].abs_diff(want[k]) <= 3, "mask pixel {on:?}, expected {want:?}");
    }
    h.key_press(egui::Key::M);
    h.step();
    assert!(!h.state().scene.layers.masks);
    h.step();
    let off = px(&mut h);
    assert!(off.iter().all(|&v| v > 240), "video is white without masks: {off:?}");
    h.key_press(egui::Key::M);
    h.step();
    h.step();

    assert_gpu_edge_is_the_cpus(&mut h, &video, 4);

    // Help overlay lists the shortcuts from the command table.
    h.key_press(egui::Key::Questionmark);
    h.step();
    assert!(has_label(&h, "Back 10 frames"));
}

#[test]
fn unreadable_file_shows_a_message_and_the_app_stays_usable() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.mp4");
    std::fs::write(&bad, "not a video").unwrap();
    let mut h = harness(bad, egui::vec2(900.0, 600.0), 4);
    wait_for(&mut h, "the error", |a| !a.messages.is_empty());
    assert!(has_label(&h, "Cannot open the video"));
    let good = clip(dir.path());
    h.state_mut().open(&good);
    wait_for(&mut h, "the good clip", |a| a.frame_count() == 50 && a.shown.is_some());
    assert!(has_label(&h, "Frame 0 / 49"));
}

/// The GPU's guided edge is the CPU's: along a row through the square, the screen pixels in the
/// mask colour (over white or black) span what `render_guided` gives, which hugs the 40-pixel
/// square.
fn assert_gpu_edge_is_the_cpus(h: &mut Harness<'static, ViewerApp>, video: &Path, stride: usize) {
    assert_gpu_edge_is(h, video, &SquareProcessor::new(stride), Some(1));
}

/// As [`assert_gpu_edge_is_the_cpus`], for the edges of `model`'s `ifa.post`; with `hug`, the
/// CPU's row is within that many pixels of the square's 40.
fn assert_gpu_edge_is(h: &mut Harness<'static, ViewerApp>, video: &Path, model: &SquareProcessor, hug: Option<usize>) {
    let stride = model.stride;
    let img = h.render().expect("render");
    let a = h.state();
    let rec = a.shown_record().unwrap();
    let c = rec.instance(1).unwrap().center;
    let (rect_min, k) = a.video_rect.unwrap();
    let frame_img = {
        let mut r = VideoReader::open(video).unwrap();
        r.read_frame(rec.index).unwrap().image
    };
    let lb = Letterbox::new(frame_img.width, frame_img.height, IN_W, IN_H);
    let mapper = model.mapper(&lb);
    let mut ids = Vec::new();
    assert!(mapper.render_guided(&rec.soft_ids.decode(), Some(&frame_img), &mut ids));
    let row = (c[1] + 12.0).round() as usize; // below the center marker and the label
    let cpu =
        ids[row * frame_img.width as usize..(row + 1) * frame_img.width as usize].iter().filter(|&&v| v == 1).count();
    if let Some(hug) = hug {
        assert!(cpu.abs_diff(40) <= hug, "the edge hugs the square: {cpu} px");
    }
    let sy = (rect_min.y + (row as f32 + 0.5) * k) as u32;
    let masked = |p: [u8; 3]| {
        (0..3).all(|q| p[q].abs_diff(blend_channel(255, PALETTE[0][q], 0.5)) <= 3)
            || (0..3).all(|q| p[q].abs_diff(blend_channel(0, PALETTE[0][q], 0.5)) <= 3)
    };
    let x0 = rect_min.x as u32;
    let x1 = (rect_min.x + frame_img.width as f32 * k) as u32;
    let gpu = (x0..x1).filter(|&x| masked(img.get_pixel(x, sy).0[..3].try_into().unwrap())).count() as f32;
    assert!(
        (gpu - cpu as f32 * k).abs() <= 2.0 * k + 2.0,
        "stride {stride}: GPU {gpu} screen px, CPU {cpu} video px at {k} px/px"
    );
    if model.refine.0 > 0.0 {
        // The screen shows the refined edge, not the one the cells alone give.
        let plain = SquareProcessor::new(stride).with_edges(model.edge_sigma, (0.0, 1e-3)).mapper(&lb);
        assert!(plain.render_guided(&rec.soft_ids.decode(), Some(&frame_img), &mut ids));
        let unrefined = ids[row * frame_img.width as usize..(row + 1) * frame_img.width as usize]
            .iter()
            .filter(|&&v| v == 1)
            .count();
        assert!(unrefined.abs_diff(cpu) >= 2, "the test needs edges the refinement moves: {unrefined} vs {cpu} px");
        assert!(
            (gpu - cpu as f32 * k).abs() < (gpu - unrefined as f32 * k).abs(),
            "GPU {gpu} screen px: the refined {cpu} video px, not the unrefined {unrefined}, at {k} px/px"
        );
    }
}

/// A stride-2 model's maps: the shader reads the stride and draws the CPU's edge, and the mask
/// is the square's size.
#[test]
fn stride_2_masks_on_the_gpu_are_the_cpus() {
    let dir = tempfile::tempdir().unwrap();
    let video = clip(dir.path());
    let mut h = harness(video.clone(), egui::vec2(1100.0, 700.0), 2);
    wait_for(&mut h, "frame 10 processed and shown", |a| a.frame_count() == 50 && a.shown.is_some());
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowRight);
    wait_for(&mut h, "frame 10", |a| a.shown == Some(10) && a.shown_record().is_some_and(|r| r.instance(1).is_some()));
    let area = h.state().shown_record().unwrap().instance(1).unwrap().area;
    assert!((1200..2200).contains(&area), "area {area} for a 40x40 square");
    assert_gpu_edge_is_the_cpus(&mut h, &video, 2);
}

/// A model that refines its edges against the frame (`ifa.post` `refine_radius`) and does not
/// guide the upsampling: the viewer draws the refined id map, which hugs the square as the CPU's.
#[test]
fn refined_masks_on_the_gpu_are_the_cpus() {
    let dir = tempfile::tempdir().unwrap();
    let video = clip(dir.path());
    let model = || SquareProcessor::new(4).with_edges(0.0, (4.0, 1e-3));
    let mut h = harness_with(video.clone(), egui::vec2(1100.0, 700.0), model());
    wait_for(&mut h, "frame 10 processed and shown", |a| a.frame_count() == 50 && a.shown.is_some());
    h.key_press_modifiers(egui::Modifiers::SHIFT, egui::Key::ArrowRight);
    wait_for(&mut h, "frame 10", |a| a.shown == Some(10) && a.shown_record().is_some_and(|r| r.instance(1).is_some()));
    // This fake model's cells are 10 video pixels (0.4 input pixels per video pixel at stride
    // 4) and all of full weight, so the soft start it gives the filter is a 10-pixel ramp that
    // knows nothing of the edge, unlike a network's foreground probability: the refined mask is
    // not the square here. What this test holds is that the screen shows the refined map.
    assert_gpu_edge_is(&mut h, &video, &model(), None);
}

/// Input position of cell `(i, j)` of the stride-`d` maps this test's fake model gives.
fn cell_xy(d: usize, i: usize, j: usize) -> (f32, f32) {
    (cell_center(d, i), cell_center(d, j))
}

#[test]
fn open_model_switches_the_model_and_processes_the_video_again() {
    let dir = tempfile::tempdir().unwrap();
    let video = clip(dir.path());
    let bad = dir.path().join("not-a-model.onnx");
    std::fs::write(&bad, "not onnx").unwrap();
    let tiny = common::root().join("tests/runtime_fixtures/tiny.onnx");
    let dialog = ifa::present::dialog::ScriptedDialog { models: vec![bad, tiny], ..Default::default() };
    let mut h = Harness::builder().with_size(egui::vec2(1100.0, 700.0)).wgpu().build_eframe(move |cc| {
        ViewerApp::new(
            cc,
            ViewerConfig {
                video: Some(video),
                model: ModelSource::Processor(Box::new(SquareProcessor::new(4))),
                dialog: Box::new(dialog),
                ..ViewerConfig::default()
            },
        )
    });
    let done = |a: &ViewerApp| a.frame_count() == 50 && a.data.processing == ifa::present::app::ProcessingState::Done;
    wait_for(&mut h, "the clip processed by the first model", done);

    // A file that is no model: the user is told, the video stays open and plays without masks.
    h.key_press_modifiers(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::O);
    wait_for(&mut h, "the model's failure", |a| !a.messages.is_empty());
    assert!(has_label(&h, "Model not usable"), "{:?}", h.state().messages);
    assert!(has_label(&h, "not-a-model.onnx"));
    wait_for(&mut h, "the video reopened", |a| a.frame_count() == 50 && a.shown.is_some());

    // The next answer is a real model: it loads, and the whole clip is processed again with it.
    h.key_press_modifiers(egui::Modifiers::COMMAND | egui::Modifiers::SHIFT, egui::Key::O);
    wait_for(&mut h, "the new model ready and the clip processed again", |a| a.model.is_ready() && done(a));
    assert!(has_label(&h, "Model: tiny"), "the status bar names the model in use");
    assert_eq!(h.state().model.file().map(|(p, _)| p.ends_with("tiny.onnx")), Some(true));
    // The help overlay lists the command from the command table.
    h.key_press(egui::Key::Questionmark);
    h.step();
    assert!(has_label(&h, "Open model…"));
}
