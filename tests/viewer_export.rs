//! The viewer's Export window driven headless with egui_kittest: open a generated clip with a
//! real (tiny, random-weight) model, choose paths through the scripted dialog, export, and
//! check the files; cancel an export and check nothing is left; refuse without a model file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use egui::accesskit::Role;
use egui_kittest::Harness;
use egui_kittest::kittest::{NodeT, Queryable};
use ifa::infer::runtime::Device;
use ifa::present::app::ModelStatus;
use ifa::present::dialog::ScriptedDialog;
use ifa::present::export_task::{ExportOutcome, OutputKind};
use ifa::present::{ModelSource, ViewerApp, ViewerConfig};

fn tiny() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/runtime_fixtures/tiny.onnx")
}

/// A clip of `secs` seconds: a bright square moving right on a dark background.
fn clip(dir: &Path, secs: u32) -> PathBuf {
    common::moving_square_clip(dir, "0x202830", "0xe63c28", secs)
}

fn harness(video: PathBuf, model: ModelSource, saves: Vec<PathBuf>) -> Harness<'static, ViewerApp> {
    Harness::builder().with_size(egui::vec2(1100.0, 700.0)).wgpu().build_eframe(move |cc| {
        ViewerApp::new(
            cc,
            ViewerConfig {
                video: Some(video),
                model,
                dialog: Box::new(ScriptedDialog { saves, ..ScriptedDialog::default() }),
                inference_threads: 1,
                ..ViewerConfig::default()
            },
        )
    })
}

/// Steps until `done` holds (the threads work in real time), at most `limit`.
fn wait_for(h: &mut Harness<'static, ViewerApp>, what: &str, limit: Duration, done: impl Fn(&ViewerApp) -> bool) {
    let t0 = Instant::now();
    while !done(h.state()) {
        assert!(t0.elapsed() < limit, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(20));
        h.step();
    }
    h.step();
}

fn has_label(h: &Harness<'static, ViewerApp>, text: &str) -> bool {
    h.query_all_by_label_contains(text).next().is_some()
}

fn click(h: &mut Harness<'static, ViewerApp>, role: Role, label: &str) {
    h.get_by_role_and_label(role, label).click();
    h.step();
    h.step();
}

fn open_with_model(h: &mut Harness<'static, ViewerApp>, frames: usize) {
    wait_for(h, "the clip and the model", Duration::from_secs(60), |a| {
        a.frame_count() == frames && matches!(a.model.status(), ModelStatus::Ready(_))
    });
}

fn files_in(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> =
        std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    v.sort();
    v
}

#[test]
fn export_window_writes_video_and_results() {
    let dir = tempfile::tempdir().unwrap();
    let video = clip(dir.path(), 2);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let (mp4, json) = (out.join("annotated.mp4"), out.join("results.json"));
    let model = ModelSource::File { path: tiny(), device: Device::Cpu };
    let mut h = harness(video.clone(), model, vec![mp4.clone(), json.clone()]);
    open_with_model(&mut h, 50);

    // Ctrl+E opens the window with outputs next to the video.
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::E);
    h.step();
    h.step();
    assert!(h.state().export.open);
    assert!(has_label(&h, "Start export"));
    let csv = dir.path().join("square.csv");
    assert!(has_label(&h, &csv.display().to_string()), "default CSV path beside the video");
    // Two paths through the (scripted) save dialog; the masks folder ticked at its default.
    click(&mut h, Role::Button, "Browse video…");
    click(&mut h, Role::Button, "Browse JSON…");
    assert!(has_label(&h, &mp4.display().to_string()));
    click(&mut h, Role::CheckBox, "Per-frame PNG id masks (folder)");
    let masks = dir.path().join("square.masks");

    click(&mut h, Role::Button, "Start export");
    assert!(h.state().export.running() || h.state().export.outcome.is_some());
    wait_for(&mut h, "the export", Duration::from_secs(180), |a| a.export.outcome.is_some());
    let summary = match &h.state().export.outcome {
        Some(ExportOutcome::Done(s)) => s.clone(),
        other => panic!("export did not finish: {other:?}"),
    };
    assert!(has_label(&h, "Export finished"));
    assert_eq!(summary.frames, 50);
    for p in [&mp4, &json, &csv, &masks] {
        assert!(summary.written.contains(p), "{} not in {:?}", p.display(), summary.written);
        assert!(has_label(&h, &p.display().to_string()), "the window lists {}", p.display());
    }

    let info = ifa::decode::probe(&mp4).expect("the annotated video opens");
    assert_eq!((info.width, info.height, info.frame_count), (320, 240, 50));
    let tracks = ifa::eval::load_results(&json).expect("valid YouTube-VIS results");
    for t in &tracks {
        assert_eq!(t.segmentations.len(), 50);
    }
    let rows = std::fs::read_to_string(&csv).unwrap();
    assert!(rows.lines().count() > 1 || tracks.is_empty(), "CSV rows for the tracks");
    let pngs = files_in(&masks).into_iter().filter(|n| n.ends_with(".png")).count();
    assert_eq!(pngs, 50);
}

#[test]
fn cancelled_export_leaves_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let video = clip(dir.path(), 20);
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let model = ModelSource::File { path: tiny(), device: Device::Cpu };
    let mut h = harness(video, model, vec![out.join("annotated.mp4")]);
    open_with_model(&mut h, 500);
    h.state_mut().apply(ifa::present::commands::UiCommand::Export);
    h.step();
    h.step();
    click(&mut h, Role::Button, "Browse video…");
    click(&mut h, Role::CheckBox, "Per-frame PNG id masks (folder)");
    let before = files_in(dir.path());

    h.get_by_role_and_label(Role::Button, "Start export").click();
    h.step();
    h.step();
    assert!(h.state().export.running(), "started");
    h.get_by_role_and_label(Role::Button, "Cancel export").click();
    h.step();
    wait_for(&mut h, "the cancelled export", Duration::from_secs(60), |a| a.export.outcome.is_some());
    assert!(
        matches!(h.state().export.outcome, Some(ExportOutcome::Cancelled)),
        "outcome {:?}",
        h.state().export.outcome
    );
    assert!(has_label(&h, "Export cancelled; nothing was written."));
    assert_eq!(files_in(&out), Vec::<String>::new(), "no video or temporary file");
    assert_eq!(files_in(dir.path()), before, "no CSV, JSON or mask folder beside the video");
    // The window is usable again.
    let start = h.get_by_role_and_label(Role::Button, "Start export");
    assert!(!start.accesskit_node().is_disabled());
}

#[test]
fn export_needs_a_model_file() {
    let dir = tempfile::tempdir().unwrap();
    let video = clip(dir.path(), 1);
    let model = ModelSource::None { reason: "--no-model".into() };
    let mut h = harness(video, model, Vec::new());
    wait_for(&mut h, "the clip", Duration::from_secs(60), |a| a.frame_count() == 25);
    h.key_press_modifiers(egui::Modifiers::COMMAND, egui::Key::E);
    h.step();
    h.step();
    assert!(has_label(&h, "Export needs a model file"));
    assert!(h.get_by_role_and_label(Role::Button, "Start export").accesskit_node().is_disabled());
    // The command is in the File menu and the help overlay.
    h.key_press(egui::Key::Questionmark);
    h.step();
    assert!(has_label(&h, "Export video and results…"));
    assert!(has_label(&h, "Ctrl+E"));
}

/// A video that breaks off: the export fails naming what was decoded and writes nothing, until
/// the user ticks the checkbox that accepts the decoded frames (the CLI's `--allow-partial`).
#[test]
fn a_video_that_breaks_off_exports_only_when_accepted() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.mp4");
    // The index at the front, so that the cut keeps every frame's entry but loses the tail.
    common::faststart_clip(&whole, "160x96", 3);
    let bytes = std::fs::read(&whole).unwrap();
    let video = dir.path().join("cut.mp4");
    std::fs::write(&video, &bytes[..bytes.len() * 6 / 10]).unwrap();
    std::fs::remove_file(&whole).unwrap();
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let mp4 = out.join("annotated.mp4");
    let model = ModelSource::File { path: tiny(), device: Device::Cpu };
    let mut h = harness(video, model, vec![mp4.clone()]);
    wait_for(&mut h, "the clip and the model", Duration::from_secs(60), |a| {
        a.frame_count() > 0 && matches!(a.model.status(), ModelStatus::Ready(_))
    });
    h.state_mut().apply(ifa::present::commands::UiCommand::Export);
    h.step();
    h.step();
    click(&mut h, Role::Button, "Browse video…");
    // Only the video: the other outputs off, whatever their defaults.
    for c in &mut h.state_mut().export.outputs.as_mut().unwrap().choices {
        c.enabled = c.kind == OutputKind::Video;
    }
    h.step();
    let before = files_in(dir.path());

    click(&mut h, Role::Button, "Start export");
    wait_for(&mut h, "the failed export", Duration::from_secs(120), |a| a.export.outcome.is_some());
    let Some(ExportOutcome::Failed(why)) = &h.state().export.outcome else {
        panic!("a partial video must fail the export: {:?}", h.state().export.outcome)
    };
    assert!(why.contains("cut.mp4") && why.contains("of 30 frames"), "{why}");
    assert!(why.contains(ifa::present::export_task::PARTIAL_LABEL), "the message names the checkbox: {why}");
    assert!(has_label(&h, "Nothing was written."));
    assert_eq!(files_in(&out), Vec::<String>::new());
    assert_eq!(files_in(dir.path()), before);

    click(&mut h, Role::CheckBox, ifa::present::export_task::PARTIAL_LABEL);
    click(&mut h, Role::Button, "Start export");
    wait_for(&mut h, "the partial export", Duration::from_secs(120), |a| {
        a.export.outcome.is_some() && !a.export.running()
    });
    let Some(ExportOutcome::Done(summary)) = &h.state().export.outcome else {
        panic!("accepted, the export writes the decoded frames: {:?}", h.state().export.outcome)
    };
    assert!(summary.frames > 0 && summary.frames < 30, "{} frames", summary.frames);
    assert!(summary.written.contains(&mp4));
    let info = ifa::decode::probe(&mp4).expect("the annotated video opens");
    assert_eq!(info.frame_count, summary.frames);
}
