//! The ablation settings through the real runtime on the small random-weight test model
//! (tests/runtime_fixtures/tiny.onnx, `ifa.refs` = 3 with the first frame): fewer references
//! change the reference batch and the memory, the baselines change only the association, and
//! `ifa run` takes both as flags.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use ifa::assemble::tracker::Decision;
use ifa::assemble::{Association, AssociationParams, FrameResult};
use ifa::frame::RgbFrame;
use ifa::infer::runtime::{Device, SessionOptions, load_model};
use ifa::runtime::{Pipeline, PipelineError, PipelineOptions};

fn tiny() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/runtime_fixtures/tiny.onnx")
}

fn pipeline(opts: PipelineOptions) -> Result<Pipeline, PipelineError> {
    let m = load_model(&tiny(), &SessionOptions { device: Device::Cpu, threads: 1, ..Default::default() })
        .expect("load tiny.onnx");
    Pipeline::with_options(m, &opts)
}

/// Two bright squares crossing on a textured background.
fn frame(t: usize) -> RgbFrame {
    let (w, h) = (160u32, 90u32);
    let mut f = RgbFrame::new(w, h);
    for y in 0..h {
        for x in 0..w {
            let i = ((y * w + x) * 3) as usize;
            let a = (x as usize).abs_diff(30 + 8 * t) < 12 && y.abs_diff(35) < 12;
            let b = (x as usize).abs_diff(130 - 8 * t) < 10 && y.abs_diff(60) < 10;
            let v = if a {
                [230, 60, 40]
            } else if b {
                [40, 200, 230]
            } else {
                [((x * 7 + y * 3) % 50) as u8, 40, ((x + y) % 30) as u8]
            };
            f.data[i..i + 3].copy_from_slice(&v);
        }
    }
    f
}

fn run(p: &mut Pipeline, frames: usize) -> Vec<FrameResult> {
    (0..frames).map(|t| p.process(&frame(t), t as f64).expect("frame runs")).collect()
}

#[test]
fn fewer_references_change_the_batch_and_the_memory() {
    let mut full = pipeline(PipelineOptions::default()).unwrap();
    assert_eq!(full.model_refs().count, 3);
    assert_eq!(full.contract().refs, full.model_refs());
    let full_res = run(&mut full, 6);
    assert_eq!(full_res[5].refs, vec![4, 3, 0]);

    let mut one = pipeline(PipelineOptions { refs: Some(1), ..PipelineOptions::default() }).unwrap();
    assert_eq!(one.model_refs().count, 3, "the model's own policy is still known");
    assert_eq!((one.contract().refs.count, one.contract().refs.first_frame), (1, false));
    for t in 0..6 {
        let r = one.process(&frame(t), t as f64).expect("frame runs");
        let want: Vec<usize> = t.checked_sub(1).into_iter().collect();
        assert_eq!(r.refs, want, "frame {t}: the most recent frame only");
        for i in &r.instances {
            assert_eq!(i.votes.len(), r.refs.len());
        }
        // The memory holds this frame only: the next one needs nothing older.
        assert_eq!(one.engine().memory_frames(), vec![t], "frame {t}");
        assert!(one.assembler().tracker().memory_frames().len() <= 1, "frame {t}");
    }

    let mut two = pipeline(PipelineOptions { refs: Some(2), ..PipelineOptions::default() }).unwrap();
    let res = run(&mut two, 6);
    assert_eq!(res[5].refs, vec![4, 0], "two references keep the first frame as the model says");
    assert_eq!(two.engine().memory_frames().len(), 2);

    // As many as the model's count is the model's own policy: identical results.
    let mut three = pipeline(PipelineOptions { refs: Some(3), ..PipelineOptions::default() }).unwrap();
    assert_eq!(
        run(&mut three, 6).iter().map(|r| &r.instances).collect::<Vec<_>>(),
        full_res.iter().map(|r| &r.instances).collect::<Vec<_>>()
    );

    for n in [0, 4] {
        let e = pipeline(PipelineOptions { refs: Some(n), ..PipelineOptions::default() }).err().expect("refused");
        let msg = e.to_string();
        assert!(msg.contains("tiny.onnx") && msg.contains("allows 1 to 3"), "{msg}");
    }
}

#[test]
fn baselines_change_only_the_association() {
    let mut flow = pipeline(PipelineOptions::default()).unwrap();
    let flow_res = run(&mut flow, 6);
    let mut seen_match = [false; 3];
    for (k, mode) in [Association::Flow, Association::Center, Association::Iou].into_iter().enumerate() {
        let mut p = pipeline(PipelineOptions { association: AssociationParams::new(mode), refs: None }).unwrap();
        assert_eq!(p.association().mode, mode);
        let res = run(&mut p, 6);
        for (a, b) in res.iter().zip(&flow_res) {
            // Same detections, masks and references; only identities and decisions may differ.
            assert_eq!(a.refs, b.refs);
            let dets = |r: &FrameResult| r.instances.iter().map(|i| i.detection.clone()).collect::<Vec<_>>();
            assert_eq!(dets(a), dets(b));
            let shape = |r: &FrameResult| r.cells.iter().map(|&c| c != 0).collect::<Vec<_>>();
            assert_eq!(shape(a), shape(b));
            for i in &a.instances {
                match &i.decision {
                    Decision::Matched { by, .. } => {
                        assert_eq!(*by, mode);
                        seen_match[k] = true;
                    }
                    Decision::NewNothingNear { by, .. } | Decision::NewCandidatesTaken { by, .. } => {
                        assert_eq!(*by, mode);
                    }
                    Decision::NewNoReference => assert_eq!(a.index, 0),
                    // The keep-alive (and its occlusion rules) is shared by every mode; it never
                    // runs on the first frame.
                    Decision::Relinked { .. } | Decision::Exchanged { .. } | Decision::Reemerged { .. } => {
                        assert!(a.index > 0);
                    }
                }
                let overlaps = i.votes.iter().any(|v| v.overlap.is_some());
                assert!(mode == Association::Iou || !overlaps, "overlaps are measured in iou mode only");
            }
        }
        if mode == Association::Flow {
            let ids = |r: &[FrameResult]| r.iter().map(|f| f.cells.clone()).collect::<Vec<_>>();
            assert_eq!(ids(&res), ids(&flow_res), "with_options(default) is the method");
        }
    }
    // Slow squares on consecutive frames: every mode finds some match, or the test shows nothing.
    assert_eq!(seen_match, [true; 3], "every mode must match something on this clip");
}

fn ifa_run(video: &Path, extra: &[&str], json: &Path) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_ifa"))
        .arg("run")
        .arg(video)
        .args(["--model".as_ref(), tiny().as_os_str(), "--device".as_ref(), "cpu".as_ref()])
        .arg("--json")
        .arg(json)
        .args(extra)
        .output()
        .expect("ifa binary")
}

#[test]
fn ifa_run_takes_the_ablation_flags_and_says_what_it_ran() {
    let dir = tempfile::tempdir().unwrap();
    let video = common::small_clip(dir.path(), "clip.mp4", 8);
    let json = dir.path().join("res.json");

    let out = ifa_run(&video, &[], &json);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(err.contains("association flow; references: up to 3 (first frame kept, step 1; the model's: 3)"), "{err}");

    let out = ifa_run(&video, &["--association", "iou:0.4", "--refs", "1"], &json);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    assert!(
        err.contains(
            "association iou (mask IoU >= 0.4); references: up to 1 (first frame not kept, step 1; the model's: 3)"
        ),
        "{err}"
    );
    let res: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert!(res.as_array().is_some_and(|a| a.iter().all(|e| e["segmentations"].as_array().unwrap().len() == 8)));

    let out = ifa_run(&video, &["--association", "center", "--refs", "2"], &json);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stderr).contains("association center; references: up to 2 (first frame kept"));

    std::fs::remove_file(&json).unwrap();
    for (flags, says) in [(["--refs", "4"], "allows 1 to 3"), (["--association", "nearest"], "nearest")] {
        let out = ifa_run(&video, &flags, &json);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(says), "{flags:?}: {err}");
        assert!(!json.exists(), "a refused run writes no results");
    }
}

#[test]
fn ifa_run_summary_json_has_the_numbers_scripts_need() {
    let dir = tempfile::tempdir().unwrap();
    let video = common::small_clip(dir.path(), "clip.mp4", 8);
    let (json, summary) = (dir.path().join("res.json"), dir.path().join("summary.json"));
    let s = summary.to_str().unwrap();
    let out = ifa_run(&video, &["--association", "center", "--refs", "2", "--summary-json", s], &json);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&summary).unwrap()).unwrap();
    assert_eq!(v["frames"], 8);
    assert_eq!(v["association"], "center");
    assert_eq!(v["provider"], "CPU");
    assert_eq!(v["refs"], serde_json::json!({"count": 2, "first_frame": true, "step": 1, "model_count": 3}));
    let results: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    assert_eq!(v["tracks"].as_u64().unwrap() as usize, results.as_array().unwrap().len());
    assert!(v["fps"].as_f64().unwrap() > 0.0 && v["seconds"].as_f64().unwrap() > 0.0);
    let ms = &v["stage_ms"];
    assert!(ms["inference"].as_f64().unwrap() > 0.0 && ms["decode"].as_f64().unwrap() > 0.0);
    let parts: f64 = ["decode", "preprocess", "inference", "postprocess", "assembly", "render"]
        .iter()
        .map(|k| ms[*k].as_f64().unwrap())
        .sum();
    assert!((parts - ms["total"].as_f64().unwrap()).abs() < 1e-6);
}
