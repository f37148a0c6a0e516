//! End-to-end speed of the `ifa run` pipeline on a 640x360 video, per stage, against the Python
//! pipeline (onnxruntime + training/ifa_train/postprocess.py, benches/runtime_bench.py) on the
//! same video and model in the same run.
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
use ifa::infer::runtime::{Device, SessionOptions, load_model};
use ifa::runtime::Pipeline;

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
    let loaded = load_model(&model, &SessionOptions { device: Device::Cpu, threads: THREADS }).unwrap();
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
        assert!(pipe.render_ids(&mut r, &mut ids));
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
}
