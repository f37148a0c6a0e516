//! Test clips made once per test binary with FFmpeg's test sources.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The project root.
pub fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// Runs the ffmpeg CLI quietly; panics with its stderr on failure.
pub fn ffmpeg(args: &[&str]) {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-nostdin"])
        .args(args)
        .output()
        .expect("ffmpeg CLI (installed by scripts/setup.sh)");
    assert!(out.status.success(), "ffmpeg {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

/// `secs` seconds of FFmpeg's testsrc2 at `size` (WxH), 10 fps, H.264 with the index at the
/// front (faststart): a copy cut short keeps every frame's index entry but loses the tail.
pub fn faststart_clip(path: &Path, size: &str, secs: u32) {
    let src = format!("testsrc2=size={size}:rate=10");
    let secs = secs.to_string();
    let p = path.to_str().expect("a UTF-8 path");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &src,
        "-t",
        &secs,
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        "-movflags",
        "+faststart",
        p,
    ]);
}

/// A 320x240, 25 fps H.264 clip of `secs` seconds at `dir/square.mp4`: a 40x40 square of colour
/// `square` (FFmpeg colour syntax) at y = 100 moving right by 60 px/s from x = 40 over `background`.
pub fn moving_square_clip(dir: &Path, background: &str, square: &str, secs: u32) -> PathBuf {
    let out = dir.join("square.mp4");
    let (bg, fg) =
        (format!("color=c={background}:s=320x240:r=25:d={secs}"), format!("color=c={square}:s=40x40:r=25:d={secs}"));
    let filter = "[0][1]overlay=x='40+t*60':y=100";
    let path = out.to_str().expect("UTF-8 temp path");
    ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        &bg,
        "-f",
        "lavfi",
        "-i",
        &fg,
        "-filter_complex",
        filter,
        "-c:v",
        "libx264",
        "-pix_fmt",
        "yuv420p",
        path,
    ]);
    out
}

/// A small 160x90, 10 fps H.264 clip of `frames` frames at `dir/name`.
pub fn small_clip(dir: &Path, name: &str, frames: u32) -> PathBuf {
    let out = dir.join(name);
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-nostdin", "-f", "lavfi", "-i"])
        .arg(format!("testsrc2=size=160x90:rate=10,trim=end_frame={frames}"))
        .args(["-pix_fmt", "yuv420p", "-c:v", "libx264"])
        .arg(&out)
        .status()
        .expect("ffmpeg CLI (installed by scripts/setup.sh)");
    assert!(st.success());
    out
}

/// A folder of generated clips shared by the tests of one binary.
pub struct Clips {
    pub dir: tempfile::TempDir,
}

impl Clips {
    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }
}

const SRC: &str = "testsrc2=size=320x240:rate=25";

#[allow(clippy::too_many_lines)] // one table of ffmpeg clip recipes, read top to bottom
pub fn clips() -> &'static Clips {
    static CLIPS: OnceLock<Clips> = OnceLock::new();
    CLIPS.get_or_init(|| {
        let dir = tempfile::tempdir().expect("tempdir");
        let p = |n: &str| dir.path().join(n).to_string_lossy().into_owned();
        // H.264 with B-frames and several GOPs, so seeks cross keyframes and reorder.
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            SRC,
            "-t",
            "3",
            "-c:v",
            "libx264",
            "-bf",
            "3",
            "-g",
            "12",
            "-pix_fmt",
            "yuv420p",
            &p("h264_bframes.mp4"),
        ]);
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            SRC,
            "-t",
            "2",
            "-c:v",
            "libvpx-vp9",
            "-deadline",
            "realtime",
            "-cpu-used",
            "8",
            "-g",
            "10",
            "-b:v",
            "300k",
            &p("vp9.webm"),
        ]);
        ffmpeg(&["-f", "lavfi", "-i", SRC, "-t", "2", "-c:v", "mpeg4", "-q:v", "5", "-g", "10", &p("mpeg4.avi")]);
        // Variable frame rate: every frame for 20 frames, then every third one.
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            SRC,
            "-t",
            "3",
            "-vf",
            "select='lt(n\\,20)+not(mod(n\\,3))'",
            "-vsync",
            "vfr",
            "-c:v",
            "libx264",
            "-g",
            "8",
            &p("vfr.mkv"),
        ]);
        ffmpeg(&["-i", &p("h264_bframes.mp4"), "-c", "copy", "-metadata:s:v:0", "rotate=90", &p("rotated.mp4")]);
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            "testsrc=size=321x241:rate=25",
            "-t",
            "1",
            "-c:v",
            "libx264",
            "-pix_fmt",
            "yuv444p",
            "-g",
            "7",
            &p("odd.mp4"),
        ]);
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            SRC,
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
            "2",
            "-c:v",
            "libx264",
            "-c:a",
            "aac",
            "-shortest",
            &p("with_audio.mp4"),
        ]);
        // PCM audio cannot go into MP4 as it is: the writer must re-encode it to AAC.
        ffmpeg(&[
            "-f",
            "lavfi",
            "-i",
            SRC,
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=300:sample_rate=44100",
            "-t",
            "2",
            "-c:v",
            "mpeg4",
            "-c:a",
            "pcm_s16le",
            "-shortest",
            &p("pcm_audio.avi"),
        ]);
        ffmpeg(&["-f", "lavfi", "-i", "sine=frequency=440", "-t", "2", "-c:a", "aac", &p("audio_only.m4a")]);
        // A file cut short after its index (moov at the front): the tail is gone.
        ffmpeg(&["-f", "lavfi", "-i", SRC, "-t", "3", "-c:v", "libx264", "-movflags", "+faststart", &p("whole.mp4")]);
        let whole = std::fs::read(p("whole.mp4")).unwrap();
        std::fs::write(p("truncated.mp4"), &whole[..whole.len() * 6 / 10]).unwrap();
        // The same cut without faststart loses the index itself.
        ffmpeg(&["-f", "lavfi", "-i", SRC, "-t", "3", "-c:v", "libx264", &p("noindex_whole.mp4")]);
        let whole = std::fs::read(p("noindex_whole.mp4")).unwrap();
        std::fs::write(p("truncated_noindex.mp4"), &whole[..whole.len() / 2]).unwrap();
        std::fs::write(p("text.mp4"), "this is not a video\n".repeat(50)).unwrap();
        Clips { dir }
    })
}

/// Decodes a whole file with the ffmpeg CLI (autorotate on) into packed RGB frames.
pub fn ffmpeg_frames(path: &Path, width: u32, height: u32) -> Vec<Vec<u8>> {
    let out = Command::new("ffmpeg")
        .args(["-v", "error", "-nostdin", "-i"])
        .arg(path)
        .args(["-f", "rawvideo", "-pix_fmt", "rgb24", "-vsync", "passthrough", "-sws_flags", "bilinear", "-"])
        .output()
        .expect("ffmpeg");
    assert!(out.status.success());
    let n = (width * height * 3) as usize;
    out.stdout.chunks_exact(n).map(<[u8]>::to_vec).collect()
}

/// Mean absolute difference of two byte buffers.
pub fn mean_abs_diff(a: &[u8], b: &[u8]) -> f64 {
    assert_eq!(a.len(), b.len());
    a.iter().zip(b).map(|(x, y)| f64::from(x.abs_diff(*y))).sum::<f64>() / a.len() as f64
}
