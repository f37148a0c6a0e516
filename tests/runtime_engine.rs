//! The runtime end to end on a small random-weight model that follows the contract
//! (tests/runtime_fixtures/tiny.onnx, made by make_model.py): streaming memory, reference
//! batches, results, id maps, and `ifa run` with its outputs and its refusals.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::PathBuf;
use std::process::Command;

use ifa::frame::RgbFrame;
use ifa::infer::runtime::{Device, SessionOptions, load_model};
use ifa::rle::{Rle, RleJson};
use ifa::runtime::Pipeline;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tiny() -> PathBuf {
    root().join("tests/runtime_fixtures/tiny.onnx")
}

fn pipeline() -> Pipeline {
    let m = load_model(&tiny(), &SessionOptions { device: Device::Cpu, threads: 1, ..Default::default() })
        .expect("load tiny.onnx");
    Pipeline::new(m).expect("tiny.onnx follows the contract")
}

/// A bright square moving right on a dark textured background.
fn frame(t: usize, w: u32, h: u32) -> RgbFrame {
    let mut f = RgbFrame::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let i = ((y * w + x) * 3) as usize;
            let inside = (x as usize).abs_diff(30 + 6 * t) < 12 && y.abs_diff(h / 2) < 12;
            let v = if inside { [230, 60, 40] } else { [((x * 7 + y * 3) % 50) as u8, 40, ((x + y) % 30) as u8] };
            f.data[i..i + 3].copy_from_slice(&v);
        }
    }
    f
}

#[test]
fn streaming_memory_references_and_results() {
    let mut p = pipeline();
    let c = p.contract().clone();
    assert_eq!((c.input_h, c.input_w, c.classes.len()), (64, 96, 3));
    let (w, h) = (160u32, 90u32);
    let mut ids = Vec::new();
    let mut seen = 0;
    for t in 0..8 {
        let image = frame(t, w, h);
        let mut r = p.process(&image, t as f64 * 0.1).expect("frame runs");
        assert_eq!(r.index, t);
        assert_eq!(r.refs, ifa::model::refs::reference_frames(t, &c.refs), "frame {t}");
        // Memory: the first frame plus what the next frames can still ask for.
        let mem = p.engine().memory_frames();
        assert!(mem.len() <= c.refs.count, "memory {mem:?} at frame {t}");
        assert!(mem.contains(&0) && mem.contains(&t), "memory {mem:?} at frame {t}");
        assert_eq!(r.cells.len(), 16 * 24);
        assert!(p.render_ids(&mut r, &image, &mut ids));
        assert_eq!(ids.len(), (w * h) as usize);
        for inst in &r.instances {
            assert_eq!(inst.votes.len(), r.refs.len());
            assert!(r.cells.contains(&inst.track_id), "every instance owns cells");
            assert!((1..=3).contains(&inst.detection.class_id));
            assert!(inst.detection.score > 0.0 && inst.detection.score <= 1.0);
        }
        for &id in &ids {
            assert!(id == 0 || r.instances.iter().any(|i| i.track_id == id), "id map holds only this frame's ids");
        }
        seen += r.instances.len();
        assert!(r.times.inference > std::time::Duration::ZERO);
    }
    assert!(seen > 0, "the test model must produce instances, or nothing downstream is tested");
    // A frame of another size in the same stream is refused; after a reset it starts a new one.
    assert!(p.process(&frame(0, 100, 100), 0.0).is_err());
    p.reset();
    let r = p.process(&frame(0, 100, 100), 0.0).expect("new stream");
    assert!(r.refs.is_empty());
    assert_eq!(p.engine().memory_frames(), vec![0]);
}

const BROKEN_MODEL: &str = r#"
import sys, numpy as np, onnx
from onnx import helper, TensorProto
g = helper.make_graph([helper.make_node("Relu", ["image"], ["semantic"])], "broken",
    [helper.make_tensor_value_info("image", TensorProto.FLOAT, [1, 3, 64, 96])],
    [helper.make_tensor_value_info("semantic", TensorProto.FLOAT, [1, 3, 64, 96])])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
helper.set_model_props(m, {"ifa.contract": "1", "ifa.classes": "[\"a\"]", "ifa.input_size": "[64, 96]",
    "ifa.mean": "[0,0,0]", "ifa.std": "[1,1,1]", "ifa.refs": "{\"count\": 2, \"first_frame\": true, \"step\": 1}",
    "ifa.post": "{\"center_threshold\": 0.1, \"nms_kernel\": 7, \"top_k\": 32, \"match_distance\": 24.0, \"min_pixels\": 4}"})
onnx.save(m, sys.argv[1])
"#;

/// The pipelined runtime (three threads) gives exactly the frame-by-frame results: same
/// detections, identities, decisions, cells and id maps, in frame order, with the raw maps when
/// asked; and a sink's error stops it with that error.
#[test]
fn the_pipelined_runtime_equals_frame_by_frame() {
    use ifa::decode::DecodedFrame;
    use ifa::runtime::{FrameContext, StreamFrame, StreamOptions};
    let (w, h) = (160u32, 90u32);
    let frames: Vec<DecodedFrame> =
        (0..12).map(|t| DecodedFrame { index: t, pts_seconds: t as f64 * 0.04, image: frame(t, w, h) }).collect();

    let mut seq = pipeline();
    let mut expected = Vec::new();
    for f in &frames {
        let mut r = seq.process(&f.image, f.pts_seconds).unwrap();
        let mut ids = Vec::new();
        assert!(seq.render_ids(&mut r, &f.image, &mut ids));
        expected.push((r, ids, seq.last_maps().clone()));
    }

    let mut piped = pipeline();
    let mut queue = frames.clone().into_iter();
    let mut next = || Ok::<_, anyhow::Error>(queue.next());
    let mut got = Vec::new();
    let mut sink = |out: StreamFrame, ctx: FrameContext<'_>| -> anyhow::Result<()> {
        assert!(ctx.letterbox.is_some() && ctx.mapper.is_some());
        got.push(out);
        Ok(())
    };
    let n = piped.run_stream(&mut next, StreamOptions { ids: true, maps: true }, &mut sink).unwrap();
    assert_eq!((n, got.len()), (12, 12));
    for (out, (r, ids, maps)) in got.iter().zip(&expected) {
        let strip =
            |r: &ifa::assemble::FrameResult| ifa::assemble::FrameResult { times: Default::default(), ..r.clone() };
        assert_eq!(strip(&out.result), strip(r), "frame {}", r.index);
        assert_eq!(&out.ids, ids, "frame {}", r.index);
        assert_eq!(out.maps.as_ref(), Some(maps), "frame {}", r.index);
        assert_eq!(out.frame.index, r.index);
    }
    assert_eq!(piped.tracks().count(), seq.tracks().count());

    // A sink that fails at the fifth frame stops the stream with its error.
    let mut p = pipeline();
    let mut queue = frames.into_iter();
    let mut next = || Ok::<_, anyhow::Error>(queue.next());
    let mut seen = 0;
    let mut sink = |_: StreamFrame, _: FrameContext<'_>| -> anyhow::Result<()> {
        seen += 1;
        anyhow::ensure!(seen < 5, "sink full");
        Ok(())
    };
    let err = p.run_stream(&mut next, StreamOptions::default(), &mut sink).unwrap_err();
    assert_eq!(err.to_string(), "sink full");
}

fn ifa(args: &[&std::ffi::OsStr]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ifa")).arg("run").args(args).output().expect("ifa binary")
}

#[test]
fn ifa_run_writes_ytvis_results_and_csv() {
    let dir = tempfile::tempdir().unwrap();
    let video = common::small_clip(dir.path(), "clip.mp4", 12);
    let (json, csv) = (dir.path().join("res.json"), dir.path().join("frames.csv"));
    let out = ifa(&[
        video.as_os_str(),
        "--model".as_ref(),
        tiny().as_os_str(),
        "--device".as_ref(),
        "cpu".as_ref(),
        "--video-id".as_ref(),
        "7".as_ref(),
        "--json".as_ref(),
        json.as_os_str(),
        "--csv".as_ref(),
        csv.as_os_str(),
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("on CPU") && err.contains("tracks over 12 frames"), "{err}");

    let res: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let entries = res.as_array().unwrap();
    let rows: Vec<String> = std::fs::read_to_string(&csv).unwrap().lines().map(str::to_owned).collect();
    assert!(rows[0].starts_with("frame,time,track,class,score"));
    let mut masks = 0;
    for e in entries {
        assert_eq!(e["video_id"], 7);
        assert!((1..=3).contains(&e["category_id"].as_u64().unwrap()));
        let segs = e["segmentations"].as_array().unwrap();
        assert_eq!(segs.len(), 12);
        for s in segs.iter().filter(|s| !s.is_null()) {
            let rle: RleJson = serde_json::from_value(s.clone()).unwrap();
            let rle = Rle::try_from(rle).unwrap();
            assert_eq!(rle.size(), (90, 160));
            assert!(rle.area() > 0);
            masks += 1;
        }
    }
    // Every mask in the results is one CSV row with a non-empty box (rows without a mask at
    // video resolution may exist for instances too small to survive the upsampling).
    assert!(rows.len() > masks, "{} rows, {masks} masks", rows.len());
}

#[test]
fn ifa_run_refuses_bad_input_without_leaving_results() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("res.json");

    // Unreadable video.
    let missing = dir.path().join("nope.mp4");
    let out = ifa(&[missing.as_os_str(), "--model".as_ref(), tiny().as_os_str(), "--json".as_ref(), json.as_os_str()]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("nope.mp4"));
    assert!(!json.exists());

    // A video of zero frames.
    let empty = dir.path().join("empty.mp4");
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-nostdin", "-f", "lavfi", "-i", "testsrc=size=64x48:rate=25"])
        .args(["-frames:v", "0", "-c:v", "libx264"])
        .arg(&empty)
        .status()
        .expect("ffmpeg");
    assert!(st.success());
    let out = ifa(&[empty.as_os_str(), "--model".as_ref(), tiny().as_os_str(), "--json".as_ref(), json.as_os_str()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("empty.mp4") && !err.contains("panicked"), "{err}");
    assert!(!json.exists());

    // A model that breaks the contract: the error names the file and the rule.
    let broken = dir.path().join("broken.onnx");
    let py = root().join(".venv/bin/python");
    let st = Command::new(&py).arg("-c").arg(BROKEN_MODEL).arg(&broken).status().expect("the .venv");
    assert!(st.success());
    let video = common::small_clip(dir.path(), "clip.mp4", 3);
    let out = ifa(&[video.as_os_str(), "--model".as_ref(), broken.as_os_str(), "--json".as_ref(), json.as_os_str()]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(err.contains("broken.onnx") && err.contains("ref_feat16"), "{err}");
    assert!(!json.exists());
    let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(leftovers.iter().all(|n| !n.to_string_lossy().contains("partial")), "{leftovers:?}");
}
