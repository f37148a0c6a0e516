//! The `ifa` binary as a user meets it: help texts, probe output, errors.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::{Command, Output};

fn ifa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ifa")).args(args).output().expect("run ifa")
}

#[test]
fn every_subcommand_has_help() {
    for sub in ["view", "run", "export", "synth", "eval", "probe", "batch", "merge"] {
        let out = ifa(&[sub, "--help"]);
        assert!(out.status.success(), "ifa {sub} --help");
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(text.contains("Usage: ifa"), "ifa {sub} --help:\n{text}");
    }
}

#[test]
fn probe_vtest_text_and_json() {
    let path = common::root().join("assets/vtest.avi");
    let out = ifa(&["probe", path.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("frames:      795"), "{text}");
    assert!(text.contains("768x576"), "{text}");
    assert!(text.contains("audio:       none"), "{text}");

    let out = ifa(&["probe", "--json", path.to_str().unwrap()]);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["frame_count"], 795);
    assert_eq!(v["avg_fps"], 10.0);
    assert_eq!(v["variable_frame_rate"], false);
    assert_eq!(v["rotation"], 0);
}

#[test]
fn probe_errors_are_clear_and_nonzero() {
    let dir = tempfile::tempdir().unwrap();
    let text = dir.path().join("notes.mp4");
    std::fs::write(&text, "plain text, renamed").unwrap();
    let out = ifa(&["probe", text.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.starts_with("error: ") && err.contains("notes.mp4") && err.contains("not a video"), "{err}");
    assert!(!err.contains("panicked"), "{err}");

    let out = ifa(&["probe", "/nonexistent/clip.mp4"]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("not found"));
}

#[test]
fn a_model_is_named_by_path_or_by_its_bundled_name() {
    let dir = tempfile::tempdir().unwrap();
    let json = dir.path().join("r.json");
    let run = |video: &std::path::Path, model: &str| {
        ifa(&["run", video.to_str().unwrap(), "--device", "cpu", "--model", model, "--json", json.to_str().unwrap()])
    };
    // A name that no bundled model has: the error lists the ones there are, and nothing is written.
    let out = run(&common::root().join("assets/demo.mp4"), "no-such-model");
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("model no-such-model not found") && err.contains("bundled models: ") && err.contains("ifa-shapes"),
        "{err}"
    );
    assert!(!json.exists());
    // The default model by its bare name runs.
    let out = run(&common::moving_square_clip(dir.path(), "black", "white", 2), "ifa-shapes");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(json.is_file());
}
