//! The real `ifa view` binary in a virtual X server: it must open a window, show the video and,
//! with a model that finds instances (the bundled models/ifa-shapes.onnx, or IFA_TEST_MODEL),
//! draw palette-coloured masks over it. Needs Xvfb and ImageMagick's `import` (scripts/setup.sh).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use ifa::overlay::scene::{PALETTE, blend_channel};

struct Kill(Child);
impl Drop for Kill {
    fn drop(&mut self) {
        self.0.kill().ok();
        self.0.wait().ok();
    }
}

fn free_display() -> u32 {
    (90..200)
        .find(|n| {
            !Path::new(&format!("/tmp/.X11-unix/X{n}")).exists() && !Path::new(&format!("/tmp/.X{n}-lock")).exists()
        })
        .expect("a free X display number")
}

fn model() -> Option<PathBuf> {
    std::env::var_os("IFA_TEST_MODEL")
        .map(PathBuf::from)
        .or_else(|| Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("models/ifa-shapes.onnx")))
        .filter(|p| p.is_file())
}

#[test]
fn binary_shows_video_and_masks_under_xvfb() {
    let dir = tempfile::tempdir().unwrap();
    let clip = dir.path().join("clip.mp4");
    // Shapes on a plain background, so a shapes model finds instances.
    let st = Command::new("ffmpeg")
        .args(["-v", "error", "-y", "-nostdin", "-f", "lavfi", "-i", "color=c=0x303040:s=640x360:r=25:d=4"])
        .args(["-f", "lavfi", "-i", "color=c=0xe0c020:s=80x80:r=25:d=4"])
        .args(["-filter_complex", "[0][1]overlay=x='100+t*50':y=140", "-c:v", "libx264", "-pix_fmt", "yuv420p"])
        .arg(&clip)
        .status()
        .expect("ffmpeg");
    assert!(st.success());

    let n = free_display();
    let display = format!(":{n}");
    let _xvfb = Kill(
        Command::new("Xvfb")
            .args([&display, "-screen", "0", "1280x800x24", "-nolisten", "tcp"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("Xvfb (scripts/setup.sh installs it)"),
    );
    std::thread::sleep(Duration::from_millis(800));
    let runtime = dir.path().join("xdg");
    std::fs::create_dir(&runtime).unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&runtime, std::fs::Permissions::from_mode(0o700)).unwrap();
    }
    let model = model();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ifa"));
    cmd.arg("view").arg(&clip).env("DISPLAY", &display).env("XDG_RUNTIME_DIR", &runtime);
    cmd.env("XDG_CONFIG_HOME", dir.path().join("config")).stdout(Stdio::null()).stderr(Stdio::null());
    match &model {
        Some(m) => cmd.arg("--model").arg(m),
        None => cmd.arg("--no-model"),
    };
    let _app = Kill(cmd.spawn().expect("ifa binary"));
    std::thread::sleep(Duration::from_secs(8));
    let shot = dir.path().join("shot.png");
    let st =
        Command::new("import").args(["-window", "root"]).arg(&shot).env("DISPLAY", &display).status().expect("import");
    assert!(st.success());
    if let Ok(keep) = std::env::var("IFA_KEEP_SCREENSHOT") {
        std::fs::copy(&shot, keep).ok();
    }
    let img = image::open(&shot).unwrap().to_rgb8();
    let count = |f: &dyn Fn([u8; 3]) -> bool| img.pixels().filter(|p| f([p[0], p[1], p[2]])).count();
    let near = |a: [u8; 3], b: [u8; 3], tol: u8| (0..3).all(|k| a[k].abs_diff(b[k]) <= tol);
    // The video's background and the square are on screen (scaled, so many pixels of each).
    let bg = count(&|p| near(p, [0x30, 0x30, 0x40], 6));
    let sq = count(&|p| near(p, [0xe0, 0xc0, 0x20], 8));
    assert!(bg > 100_000, "video background pixels: {bg}");
    // The square is there, either as it is or under a mask colour at opacity 0.5.
    let masked_square = PALETTE
        .iter()
        .map(|c| {
            let v = [0xe0u8, 0xc0, 0x20];
            let want = [blend_channel(v[0], c[0], 0.5), blend_channel(v[1], c[1], 0.5), blend_channel(v[2], c[2], 0.5)];
            count(&|p| near(p, want, 6))
        })
        .max()
        .unwrap_or(0);
    assert!(sq > 2_000 || masked_square > 2_000, "square pixels: {sq} plain, {masked_square} masked");
    if model.is_some() {
        // Some palette colour blended at 0.5 over the square or the background.
        let blended = PALETTE.iter().any(|c| {
            [[0x30, 0x30, 0x40], [0xe0, 0xc0, 0x20]].iter().any(|v: &[u8; 3]| {
                let want =
                    [blend_channel(v[0], c[0], 0.5), blend_channel(v[1], c[1], 0.5), blend_channel(v[2], c[2], 0.5)];
                count(&|p| near(p, want, 6)) > 500
            })
        });
        assert!(blended, "no mask colour found over the video");
    } else {
        eprintln!("no model (models/ifa-shapes.onnx or IFA_TEST_MODEL): checked the video only");
    }
}
