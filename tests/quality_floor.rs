//! A quality floor in the test command: each shipped model on the bundled demo video, through the
//! product's own path (`ifa run`, then the YouTube-VIS metric of `ifa eval`). A model or
//! post-processing change that loses masks or tracks fails here instead of shipping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

/// A shipped model with its AP measured on `assets/demo.mp4` against `assets/demo.json`, and the
/// floor below it: room for ONNX Runtime's thread-count-dependent float sums, not for a
/// regression (models/README.md records the measurements).
struct Shipped {
    /// `None`: the default model (no `--model`), as a user runs it.
    model: Option<&'static str>,
    measured_ap: f64,
    floor: f64,
}

const DEFAULT: Shipped = Shipped { model: None, measured_ap: 0.6339, floor: 0.59 };
const FAST: Shipped = Shipped { model: Some("models/ifa-shapes-fast.onnx"), measured_ap: 0.5710, floor: 0.53 };
const _: () =
    assert!(DEFAULT.floor < DEFAULT.measured_ap && FAST.floor < FAST.measured_ap, "floors sit below the measurements");

/// Runs `shipped` on the demo and checks its AP against the floor.
fn keeps_its_floor(shipped: &Shipped) {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("demo-results.json");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ifa"));
    cmd.arg("run").arg(root.join("assets/demo.mp4")).args(["--device", "cpu", "--json"]).arg(&results);
    if let Some(m) = shipped.model {
        cmd.arg("--model").arg(root.join(m));
    }
    let out = cmd.output().expect("ifa runs");
    assert!(out.status.success(), "ifa run: {}", String::from_utf8_lossy(&out.stderr));
    let ev = ifa::eval::evaluate_files(&root.join("assets/demo.json"), &results).expect("evaluation");
    let ap = ev.stats[0];
    assert!(
        ap >= shipped.floor,
        "AP {ap:.4} on the demo is below the floor {} (measured {} when shipped)",
        shipped.floor,
        shipped.measured_ap
    );
}

#[test]
fn the_default_model_keeps_its_ap_on_the_demo() {
    keeps_its_floor(&DEFAULT);
}

#[test]
fn the_fast_model_keeps_its_ap_on_the_demo() {
    keeps_its_floor(&FAST);
}
