//! What the benchmarks share: the model and the 640x360 test clip.

use std::path::{Path, PathBuf};
use std::process::Command;

/// A 640x360, 25 fps H.264 clip of `frames` frames in `work` (made once with FFmpeg).
pub fn clip_640x360(work: &Path, frames: u32) -> PathBuf {
    let video = work.join("clip-640x360.mp4");
    if !video.is_file() {
        let st = Command::new("ffmpeg")
            .args(["-v", "error", "-y", "-nostdin", "-f", "lavfi", "-i"])
            .arg(format!("testsrc2=size=640x360:rate=25,trim=end_frame={frames}"))
            .args(["-pix_fmt", "yuv420p", "-c:v", "libx264"])
            .arg(&video)
            .status()
            .expect("ffmpeg");
        assert!(st.success(), "ffmpeg could not make the benchmark clip");
    }
    video
}

/// Every model shipped in models/ besides the default, sorted by name.
#[allow(dead_code)] // used by the runtime bench only
pub fn other_models() -> Vec<PathBuf> {
    ifa::bundled::models().into_iter().filter(|p| !p.ends_with(ifa::bundled::DEFAULT_MODEL)).collect()
}

/// The shipped model, or (before one exists) a random-weight 192x320 model that follows the
/// contract, made in `work` with the training package.
pub fn model(root: &Path, work: &Path) -> PathBuf {
    let trained = root.join("models/ifa-shapes.onnx");
    if trained.is_file() {
        return trained;
    }
    let m = work.join("random-192x320.onnx");
    if !m.is_file() {
        let st = Command::new(root.join(".venv/bin/python"))
            .arg(root.join("tests/runtime_fixtures/make_model.py"))
            .arg(&m)
            .args(["--size", "192", "320"])
            .status()
            .expect("python");
        assert!(st.success(), "could not make the random benchmark model");
    }
    m
}
