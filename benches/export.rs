//! What an annotated export costs over inference alone, on a 640x360 clip, in one run:
//! `ifa export` (inference + overlay + H.264) against `ifa run` (inference + results) and a
//! plain FFmpeg re-encode with the same x264 preset and crf. The goal: export within 125%
//! of `ifa run`.
//!
//! `cargo bench --bench export` — uses models/ifa-shapes.onnx when it exists, otherwise the
//! random-weight 192x320 model of tests/runtime_fixtures/make_model.py (as benches/runtime.rs).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use ifa::export::{EncodeOptions, ExportJob, export_video};
use ifa::infer::runtime::{Device, SessionOptions, load_model};
use ifa::overlay::scene::{Layers, SceneOptions};
use ifa::runtime::Pipeline;

const FRAMES: u32 = 150;
const REPEATS: usize = 3;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Median wall time of a command over [`REPEATS`] runs.
fn time_cmd(make: &dyn Fn() -> Command) -> Duration {
    median(
        (0..REPEATS)
            .map(|_| {
                let t = Instant::now();
                let out = make().output().expect("spawn");
                assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
                t.elapsed()
            })
            .collect(),
    )
}

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = root.join("target/export-bench");
    std::fs::create_dir_all(&work).unwrap();
    let model = common::model(&root, &work);
    let video = common::clip_640x360(&work, FRAMES);
    let enc = EncodeOptions::default();
    let ifa = env!("CARGO_BIN_EXE_ifa");
    let out = work.join("out.mp4");
    let base = |sub: &str| {
        let mut c = Command::new(ifa);
        c.arg(sub).arg(&video).arg("--model").arg(&model).args(["--device", "cpu"]);
        c
    };

    let t_ffmpeg = time_cmd(&|| {
        let mut c = Command::new("ffmpeg");
        c.args(["-v", "error", "-y", "-nostdin", "-i"]).arg(&video);
        c.args(["-c:v", "libx264", "-preset", &enc.preset, "-crf", &enc.crf.to_string(), "-pix_fmt", "yuv420p"]);
        c.args(["-movflags", "+faststart"]).arg(&out);
        c
    });
    let t_run = time_cmd(&|| base("run"));
    let t_export = time_cmd(&|| {
        let mut c = base("export");
        c.arg("-o").arg(&out);
        c
    });
    let t_export_all = time_cmd(&|| {
        let mut c = base("export");
        c.arg("-o").arg(&out).args(["--layers", "masks,centers,flow,labels,trails"]);
        c
    });
    let t_export_data = time_cmd(&|| {
        let mut c = base("export");
        c.arg("-o").arg(&out).arg("--json").arg(work.join("r.json")).arg("--csv").arg(work.join("r.csv"));
        c.arg("--masks").arg(work.join("masks"));
        c
    });

    // In process: where an export's time goes.
    let loaded = load_model(&model, &SessionOptions { device: Device::Cpu, threads: 0, ..Default::default() }).unwrap();
    let mut pipe = Pipeline::new(loaded).unwrap();
    let all = Layers { masks: true, centers: true, flows: true, labels: true, trails: true };
    let job = ExportJob {
        output: Some(out.clone()),
        scene: SceneOptions { layers: all, ..SceneOptions::default() },
        ..ExportJob::new(video.clone())
    };
    let s = export_video(&job, &mut pipe, &AtomicBool::new(false), &mut |_| {}).unwrap();

    let secs = |d: Duration| d.as_secs_f64();
    let fps = |d: Duration| f64::from(FRAMES) / d.as_secs_f64();
    println!("export benchmark: 640x360, {FRAMES} frames, model {}", model.display());
    println!("x264 preset {} crf {}; median of {REPEATS} runs; wall time of each command", enc.preset, enc.crf);
    println!();
    println!("| what                                         |   time s |    fps | vs ifa run |");
    println!("|----------------------------------------------|---------:|-------:|-----------:|");
    let row = |name: &str, d: Duration| {
        println!("| {name:<44} | {:>8.2} | {:>6.1} | {:>9.0}% |", secs(d), fps(d), 100.0 * secs(d) / secs(t_run));
    };
    row("ffmpeg re-encode (libx264)", t_ffmpeg);
    row("ifa run (inference alone)", t_run);
    row("ifa export -o (masks, centers, labels)", t_export);
    row("ifa export -o, all layers", t_export_all);
    row("ifa export -o --json --csv --masks", t_export_data);
    println!();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / s.frames as f64;
    let t = &s.times;
    println!(
        "in process, all layers, ms/frame: decode {:.2}, pre {:.2}, inference {:.2}, post {:.2}, assembly {:.3}, id map {:.2}, overlay {:.2}, encode {:.2}; total {:.2}",
        ms(t.decode),
        ms(t.preprocess),
        ms(t.inference),
        ms(t.postprocess),
        ms(t.assembly),
        ms(t.render),
        ms(s.annotate),
        ms(s.encode),
        ms(s.elapsed)
    );
    let ratio = secs(t_export) / secs(t_run);
    println!(
        "export / run = {ratio:.2} (goal <= 1.25: {}); export / (run + ffmpeg) = {:.2}",
        if ratio <= 1.25 { "met" } else { "NOT met" },
        secs(t_export) / (secs(t_run) + secs(t_ffmpeg))
    );
}
