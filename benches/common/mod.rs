//! What the benchmarks share: the 640x360 test clip.

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
