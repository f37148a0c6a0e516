//! End-to-end speed of the `ifa run` pipeline on a 640x360 video, per stage, against the Python
//! pipeline (onnxruntime + training/ifa_train/postprocess.py, benches/runtime_bench.py) on the
//! same video and model in the same run; then, in the same run, the pipelined runtime (what
//! `ifa run` uses) against the frame-by-frame loop and against inference alone (the frames
//! decoded and pre-processed beforehand), and videos per minute of `ifa batch` over a 20-video
//! set with `--jobs 1` and `--jobs 2`; last, every other model in models/ on the same video
//! (end to end pipelined and inference only).
//!
//! `cargo bench --bench runtime` — uses models/ifa-shapes.onnx when it exists, otherwise a
//! random-weight 192x320 model made by tests/runtime_fixtures/make_model.py (same architecture
//! family, not trained: the post-processing load then differs from a trained model's).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::print_stdout)]

mod common;

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use ifa::assemble::StageTimes;
use ifa::decode::VideoReader;
use ifa::infer::runtime::{Device, SPIN_DEFAULT, SessionOptions, load_model};
use ifa::infer::stream::StreamEngine;
use ifa::runtime::{FrameContext, Pipeline, StreamFrame, StreamOptions};

const FRAMES: u32 = 150;
const THREADS: usize = 2;

fn main() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let work = root.join("target/runtime-bench");
    std::fs::create_dir_all(&work).unwrap();
    let py = root.join(".venv/bin/python");

    let model = common::model(&root, &work);
    let video = common::clip_640x360(&work, FRAMES);

    // Rust: the same loop as `ifa run` (decode, pipeline, id map + RLE).
    let loaded =
        load_model(&model, &SessionOptions { device: Device::Cpu, threads: THREADS, ..Default::default() }).unwrap();
    let mut pipe = Pipeline::new(loaded).unwrap();
    let mut reader = VideoReader::open(&video).unwrap();
    let (vw, vh) = (reader.info().width, reader.info().height);
    let mut ids = Vec::new();
    let mut sum = StageTimes::default();
    let mut post_max = Duration::ZERO;
    let mut n = 0usize;
    let start = Instant::now();
    loop {
        let t0 = Instant::now();
        let Some(f) = reader.next_frame().unwrap() else { break };
        let decode = t0.elapsed();
        let mut r = pipe.process(&f.image, f.pts_seconds).unwrap();
        r.times.decode = decode;
        assert!(pipe.render_ids(&mut r, &f.image, &mut ids));
        let t1 = Instant::now();
        let rles = ifa::rle::encode_label_map(vh, vw, &ids, 0u32).unwrap();
        std::hint::black_box(rles);
        r.times.render += t1.elapsed();
        post_max = post_max.max(r.times.postprocess + r.times.assembly);
        sum += r.times;
        n += 1;
    }
    let wall = start.elapsed().as_secs_f64();
    let tracks = pipe.tracks().count();
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / n as f64;

    // Python, same video, model and thread count.
    let out = Command::new(&py)
        .arg(root.join("benches/runtime_bench.py"))
        .arg(&video)
        .arg(&model)
        .arg(THREADS.to_string())
        .output()
        .expect("python");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let p: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let pf = |k: &str| p[k].as_f64().unwrap();
    let py_fps = pf("frames") / pf("wall");
    let fps = n as f64 / wall;

    println!(
        "model: {}   video: {} ({vw}x{vh}, {n} frames)   CPU, {THREADS} threads",
        model.display(),
        video.display()
    );
    println!("{:<28} {:>10} {:>10}", "per frame (ms)", "Rust", "Python");
    println!("{:<28} {:>10.3} {:>10.3}", "decode", ms(sum.decode), pf("decode"));
    println!("{:<28} {:>10.3} {:>10.3}", "pre-process", ms(sum.preprocess), pf("preprocess"));
    println!("{:<28} {:>10.3} {:>10.3}", "inference (+ref batching)", ms(sum.inference), pf("inference"));
    println!(
        "{:<28} {:>10.3} {:>10.3}",
        "post-process + assembly",
        ms(sum.postprocess + sum.assembly),
        pf("postprocess")
    );
    println!("{:<28} {:>10.3} {:>10}", "  of which post-process", ms(sum.postprocess), "");
    println!("{:<28} {:>10.3} {:>10}", "  of which assembly", ms(sum.assembly), "");
    println!("{:<28} {:>10.3} {:>10}", "  worst frame", post_max.as_secs_f64() * 1000.0, "");
    println!("{:<28} {:>10.3} {:>10.3}", "id map (+RLE in Rust)", ms(sum.render), pf("render"));
    println!("{:<28} {:>10.1} {:>10.1}", "end-to-end fps", fps, py_fps);
    println!("{:<28} {:>10} {:>10}", "tracks", tracks, p["tracks"]);
    println!("Rust / Python speed ratio: {:.2}x", fps / py_fps);

    // ONNX Runtime's spinning workers against the pipeline's other threads, both ways, in one run.
    let inference_spin = inference_only_fps(&model, &video, true);
    let (piped_spin, piped_tracks, input) = pipelined_fps(&model, &video, true);
    let (piped_idle, _, _) = pipelined_fps(&model, &video, false);
    let inference_idle = inference_only_fps(&model, &video, false);
    let inference_only = inference_spin.max(inference_idle);
    let piped = if SPIN_DEFAULT { piped_spin } else { piped_idle };
    println!();
    println!("{:<44} {:>10}", "one video, fps", "");
    println!("{:<44} {:>10.1}", "inference only, spinning workers", inference_spin);
    println!("{:<44} {:>10.1}", "inference only, idle workers", inference_idle);
    println!("{:<44} {:>10.1}   ({} tracks)", "end to end, pipelined, spinning workers", piped_spin, piped_tracks);
    println!("{:<44} {:>10.1}", "end to end, pipelined, idle workers", piped_idle);
    println!("{:<44} {:>10.1}", "end to end, frame by frame", fps);
    println!(
        "pipelined ({}, as ifa run) / best inference only: {:.2}; pipelined / frame by frame: {:.2}",
        if SPIN_DEFAULT { "spinning" } else { "idle" },
        piped / inference_only,
        piped / fps
    );

    let set = synth_set(&work, 20, 40);
    println!();
    println!("{:<40} {:>10}", "ifa batch, 20 videos x 40 frames", "videos/min");
    let mut per_min = Vec::new();
    for jobs in [1, 2] {
        let v = batch_videos_per_minute(&set, &model, jobs, &work);
        println!("{:<40} {:>10.1}", format!("--jobs {jobs}"), v);
        per_min.push(v);
    }
    println!("--jobs 2 / --jobs 1: {:.2}", per_min[1] / per_min[0]);

    // Every other model that ships, on the same video in the same run, so rows compare as ratios.
    other_models_table(&model, &input, &video, piped, inference_only);
}

/// Every model in models/ besides the default: inference-only and pipelined fps on `video`, and
/// the pipelined rate over the default's (`input`, `piped`, `inference_only` measured above).
fn other_models_table(model: &std::path::Path, input: &str, video: &std::path::Path, piped: f64, inference_only: f64) {
    let others = common::other_models();
    if others.is_empty() {
        return;
    }
    println!();
    println!("{:<32} {:>8} {:>16} {:>14} {:>10}", "model", "input", "inference only", "end to end", "÷ default");
    let row = |m: &std::path::Path, input: &str, p: f64, inference: f64| {
        let name = m.file_name().map_or_else(String::new, |n| n.to_string_lossy().into_owned());
        println!("{name:<32} {input:>8} {inference:>12.1} fps {p:>10.1} fps {:>10.2}", p / piped);
    };
    row(model, input, piped, inference_only);
    for m in &others {
        let (p, _, input) = pipelined_fps(m, video, SPIN_DEFAULT);
        row(m, &input, p, inference_only_fps(m, video, SPIN_DEFAULT));
    }
}

/// The pipelined runtime with `ifa run`'s work per frame (id map + RLE in the sink): fps, tracks
/// and the model's input size (`HxW`).
fn pipelined_fps(model: &std::path::Path, video: &std::path::Path, spinning: bool) -> (f64, usize, String) {
    let loaded = load_model(model, &SessionOptions { device: Device::Cpu, threads: THREADS, spinning }).unwrap();
    let mut pipe = Pipeline::new(loaded).unwrap();
    let mut reader = VideoReader::open(video).unwrap();
    let (vw, vh) = (reader.info().width, reader.info().height);
    let start = Instant::now();
    let mut next = || reader.next_frame().map_err(anyhow::Error::from);
    let mut sink = |out: StreamFrame, _: FrameContext<'_>| -> anyhow::Result<()> {
        std::hint::black_box(ifa::rle::encode_label_map(vh, vw, &out.ids, 0u32)?);
        Ok(())
    };
    let n = pipe.run_stream(&mut next, StreamOptions { ids: true, maps: false }, &mut sink).unwrap();
    let fps = n as f64 / start.elapsed().as_secs_f64();
    let c = pipe.contract();
    (fps, pipe.tracks().count(), format!("{}x{}", c.input_h, c.input_w))
}

/// The model alone: every frame decoded and pre-processed first, then only inference timed.
fn inference_only_fps(model: &std::path::Path, video: &std::path::Path, spinning: bool) -> f64 {
    let loaded = load_model(model, &SessionOptions { device: Device::Cpu, threads: THREADS, spinning }).unwrap();
    let mut engine = StreamEngine::new(loaded).unwrap();
    let mut reader = VideoReader::open(video).unwrap();
    let pre = engine.preprocessor(reader.info().width, reader.info().height);
    let mut inputs = Vec::new();
    while let Some(f) = reader.next_frame().unwrap() {
        let mut p = pre.clone();
        let mut input = vec![0.0; p.output_len()];
        assert!(p.run(&f.image, &mut input));
        inputs.push(input);
    }
    let start = Instant::now();
    for input in &mut inputs {
        std::hint::black_box(engine.infer_input(input, &pre).unwrap());
    }
    inputs.len() as f64 / start.elapsed().as_secs_f64()
}

/// Videos per minute of `ifa batch` over `set` (a fresh output folder each time).
fn batch_videos_per_minute(set: &std::path::Path, model: &std::path::Path, jobs: usize, work: &std::path::Path) -> f64 {
    let out = work.join(format!("batch-jobs{jobs}"));
    if out.exists() {
        std::fs::remove_dir_all(&out).unwrap();
    }
    // The binary cargo built with this bench, whatever the profile and target folder.
    let bin = PathBuf::from(env!("CARGO_BIN_EXE_ifa"));
    let start = Instant::now();
    let st = Command::new(&bin)
        .arg("batch")
        .arg(set)
        .arg("--out")
        .arg(&out)
        .arg("--model")
        .arg(model)
        .args(["--device", "cpu", "--jobs", &jobs.to_string()])
        .stderr(std::process::Stdio::null())
        .status()
        .expect("ifa batch");
    assert!(st.success(), "ifa batch --jobs {jobs} failed");
    20.0 / start.elapsed().as_secs_f64() * 60.0
}

/// A standard-preset set of `videos` videos of `frames` frames in YouTube-VIS layout (made once
/// with `ifa synth`, JPEG frames only).
fn synth_set(work: &std::path::Path, videos: u32, frames: u32) -> PathBuf {
    let set = work.join(format!("synth-{videos}x{frames}"));
    if !set.join("instances.json").is_file() {
        let st = Command::new(env!("CARGO_BIN_EXE_ifa"))
            .args(["synth", "--preset", "standard", "--seed", "21", "--no-mp4", "-q"])
            .args(["--videos", &videos.to_string(), "--frames", &frames.to_string(), "--out"])
            .arg(&set)
            .status()
            .expect("ifa synth");
        assert!(st.success(), "ifa synth could not make the benchmark set");
    }
    set
}
