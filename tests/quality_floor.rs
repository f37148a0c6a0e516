//! A quality floor in the test command: the shipped model on the bundled demo video, through the
//! product's own path (`ifa run`, then the YouTube-VIS metric of `ifa eval`). A model or
//! post-processing change that loses masks or tracks fails here instead of shipping.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

/// Measured AP of the shipped model on `assets/demo.mp4` against `assets/demo.json`, and the floor
/// below it: room for ONNX Runtime's thread-count-dependent float sums, not for a regression
/// (models/README.md records the measurement).
const MEASURED_AP: f64 = 0.5834;
const FLOOR: f64 = 0.53;
const _: () = assert!(FLOOR < MEASURED_AP, "the floor sits below the measurement");

#[test]
fn the_shipped_model_keeps_its_ap_on_the_demo() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().unwrap();
    let results = dir.path().join("demo-results.json");
    let out = Command::new(env!("CARGO_BIN_EXE_ifa"))
        .arg("run")
        .arg(root.join("assets/demo.mp4"))
        .args(["--device", "cpu", "--json"])
        .arg(&results)
        .output()
        .expect("ifa runs");
    assert!(out.status.success(), "ifa run: {}", String::from_utf8_lossy(&out.stderr));
    let ev = ifa::eval::evaluate_files(&root.join("assets/demo.json"), &results).expect("evaluation");
    let ap = ev.stats[0];
    assert!(ap >= FLOOR, "AP {ap:.4} on the demo is below the floor {FLOOR} (measured {MEASURED_AP} when shipped)");
}
