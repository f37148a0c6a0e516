//! A folder of JPEG/PNG frames read as a video (the layout of YouTube-VIS, OVIS and DAVIS:
//! `JPEGImages/<video>/00000.jpg`, …): frames in name order, shown at a given rate. Frame N is
//! file N, so seeking is exact by construction.

use std::cmp::Ordering;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering as AtomicOrdering};

use super::DecodeError;
use super::index::FrameIndex;
use super::probe::VideoInfo;
use super::reader::DecodedFrame;
use crate::frame::RgbFrame;

/// The rate a frame folder is shown at unless told otherwise. YouTube-VIS frames are every
/// fifth frame of 30 fps videos, so their real rate is 6 fps.
pub const DEFAULT_FOLDER_FPS: f64 = 25.0;

/// The process's frame-folder rate as `f64` bits; 0 means the default. Set once by the command
/// line (`--fps`) so that every place that opens a video by path (the viewer's threads, the
/// exporter, probe) treats a folder alike without each carrying the rate.
static FOLDER_FPS_BITS: AtomicU64 = AtomicU64::new(0);

/// Sets the rate [`super::VideoReader::open`] gives frame folders (ignored unless finite and > 0).
pub fn set_folder_fps(fps: f64) {
    if fps.is_finite() && fps > 0.0 {
        FOLDER_FPS_BITS.store(fps.to_bits(), AtomicOrdering::Relaxed);
    }
}

/// The rate frame folders are shown at (see [`set_folder_fps`]).
pub fn folder_fps() -> f64 {
    match FOLDER_FPS_BITS.load(AtomicOrdering::Relaxed) {
        0 => DEFAULT_FOLDER_FPS,
        bits => f64::from_bits(bits),
    }
}

/// Whether `path` names a frame picture by its extension (`.jpg`, `.jpeg`, `.png`, any case).
pub fn is_frame_file(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| ["jpg", "jpeg", "png"].iter().any(|x| e.eq_ignore_ascii_case(x)))
}

/// Orders names as people number frames: digit runs by value (`f2` before `f10`), the rest
/// byte-wise; equal values with different zero padding fall back to the plain name.
fn natural_cmp(a: &str, b: &str) -> Ordering {
    fn runs(s: &str) -> Vec<(bool, &str)> {
        let mut out = Vec::new();
        let mut start = 0;
        let bytes = s.as_bytes();
        for i in 1..=bytes.len() {
            if i == bytes.len() || bytes[i].is_ascii_digit() != bytes[start].is_ascii_digit() {
                out.push((bytes[start].is_ascii_digit(), &s[start..i]));
                start = i;
            }
        }
        out
    }
    let (ra, rb) = (runs(a), runs(b));
    for ((da, sa), (db, sb)) in ra.iter().zip(&rb) {
        let ord = if *da && *db {
            let (ta, tb) = (sa.trim_start_matches('0'), sb.trim_start_matches('0'));
            ta.len().cmp(&tb.len()).then_with(|| ta.cmp(tb))
        } else {
            sa.cmp(sb)
        };
        if ord != Ordering::Equal {
            return ord;
        }
    }
    ra.len().cmp(&rb.len()).then_with(|| a.cmp(b))
}

/// Reduces `fps` to a fraction with a denominator of 1000 at most (29.97 → 2997/100).
fn fps_fraction(fps: f64) -> (i32, i32) {
    fn gcd(a: i64, b: i64) -> i64 {
        if b == 0 { a } else { gcd(b, a % b) }
    }
    let num = ((fps * 1000.0).round() as i64).clamp(1, i64::from(i32::MAX));
    let g = gcd(num, 1000).max(1);
    ((num / g) as i32, (1000 / g) as i32)
}

/// The frames of one video as picture files.
#[derive(Clone, Debug)]
pub(super) struct FrameFolder {
    files: Vec<PathBuf>,
    info: VideoInfo,
    index: FrameIndex,
    fps: f64,
    /// The next frame [`FrameFolder::next_frame`] returns.
    pos: usize,
}

impl FrameFolder {
    /// Every `.jpg`/`.jpeg`/`.png` file of `folder`, in natural name order.
    pub(super) fn open(folder: &Path, fps: f64) -> Result<Self, DecodeError> {
        let unreadable =
            |e: std::io::Error| DecodeError::Unreadable { path: folder.to_path_buf(), message: e.to_string() };
        let mut files: Vec<PathBuf> = Vec::new();
        for entry in std::fs::read_dir(folder).map_err(unreadable)? {
            let path = entry.map_err(unreadable)?.path();
            if is_frame_file(&path) && !path.is_dir() {
                files.push(path);
            }
        }
        files.sort_by(|a, b| {
            let name = |p: &Path| p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            natural_cmp(&name(a), &name(b))
        });
        Self::from_files(folder, files, fps)
    }

    /// The given files in this order; `name` stands for the video. Reads every file's header
    /// (not its pixels) so that a missing, foreign or differently sized frame fails here.
    pub(super) fn from_files(name: &Path, files: Vec<PathBuf>, fps: f64) -> Result<Self, DecodeError> {
        let fps = if fps.is_finite() && fps > 0.0 { fps } else { DEFAULT_FOLDER_FPS };
        let Some(first) = files.first().cloned() else {
            return Err(DecodeError::EmptyFolder { path: name.to_path_buf() });
        };
        let mut size = None;
        let mut codecs: Vec<&'static str> = Vec::new();
        for file in &files {
            let bad = |message: String| DecodeError::BadFrame { path: name.to_path_buf(), file: file.clone(), message };
            if !file.exists() {
                return Err(bad("the file does not exist".to_owned()));
            }
            crate::fsutil::require_regular_file(file).map_err(|e| bad(e.to_string()))?;
            let reader = image::ImageReader::open(file)
                .map_err(|e| bad(e.to_string()))?
                .with_guessed_format()
                .map_err(|e| bad(e.to_string()))?;
            let codec = match reader.format() {
                Some(image::ImageFormat::Jpeg) => "mjpeg",
                Some(image::ImageFormat::Png) => "png",
                _ => return Err(bad("it is neither a JPEG nor a PNG picture".to_owned())),
            };
            if !codecs.contains(&codec) {
                codecs.push(codec);
            }
            let (w, h) = reader.into_dimensions().map_err(|e| bad(e.to_string()))?;
            match size {
                None => size = Some((w, h)),
                Some((fw, fh)) if (fw, fh) != (w, h) => {
                    return Err(DecodeError::MixedSizes {
                        path: name.to_path_buf(),
                        file: file.clone(),
                        width: w,
                        height: h,
                        first: first.clone(),
                        first_width: fw,
                        first_height: fh,
                    });
                }
                Some(_) => {}
            }
        }
        let (width, height) = size.unwrap_or((0, 0));
        let n = files.len();
        let (num, den) = fps_fraction(fps);
        let info = VideoInfo {
            path: name.to_path_buf(),
            container: "frames".to_owned(),
            container_long: "folder of JPEG/PNG frames".to_owned(),
            video_codec: codecs.join("+"),
            pixel_format: "rgb24".to_owned(),
            coded_width: width,
            coded_height: height,
            rotation: 0,
            width,
            height,
            // Frame N has timestamp N, so one tick is one frame.
            time_base: (den, num),
            frame_rate: (num, den),
            avg_fps: f64::from(num) / f64::from(den),
            variable_frame_rate: false,
            duration: n as f64 * f64::from(den) / f64::from(num),
            frame_count: n,
            start_time: 0.0,
            audio: None,
        };
        Ok(Self { files, info, index: FrameIndex::sequential(n), fps, pos: 0 })
    }

    pub(super) fn info(&self) -> &VideoInfo {
        &self.info
    }

    /// The same frames, read from the first.
    pub(super) fn rewound(&self) -> Self {
        Self { pos: 0, ..self.clone() }
    }

    pub(super) fn index(&self) -> &FrameIndex {
        &self.index
    }

    pub(super) fn frame_count(&self) -> usize {
        self.files.len()
    }

    pub(super) fn expected_frames(&self) -> usize {
        self.files.len()
    }

    pub(super) fn time_of(&self, n: usize) -> Option<f64> {
        (n < self.files.len()).then(|| n as f64 * f64::from(self.info.frame_rate.1) / f64::from(self.info.frame_rate.0))
    }

    pub(super) fn seek(&mut self, n: usize) -> Result<(), DecodeError> {
        if n >= self.files.len() {
            return Err(DecodeError::OutOfRange { path: self.info.path.clone(), frame: n, count: self.files.len() });
        }
        self.pos = n;
        Ok(())
    }

    pub(super) fn read_frame(&mut self, n: usize) -> Result<DecodedFrame, DecodeError> {
        self.seek(n)?;
        self.next_frame()?.ok_or_else(|| DecodeError::OutOfRange {
            path: self.info.path.clone(),
            frame: n,
            count: self.files.len(),
        })
    }

    /// Decodes the next file; a frame that cannot be decoded is `Corrupt` naming the file.
    pub(super) fn next_frame(&mut self) -> Result<Option<DecodedFrame>, DecodeError> {
        let Some(file) = self.files.get(self.pos) else { return Ok(None) };
        let n = self.pos;
        let corrupt = |message: String| DecodeError::Corrupt {
            path: self.info.path.clone(),
            frame: n,
            message: format!("frame file {}: {message}", file.display()),
        };
        let picture = image::ImageReader::open(file)
            .map_err(|e| corrupt(e.to_string()))?
            .with_guessed_format()
            .map_err(|e| corrupt(e.to_string()))?
            .decode()
            .map_err(|e| corrupt(e.to_string()))?
            .into_rgb8();
        if (picture.width(), picture.height()) != (self.info.width, self.info.height) {
            return Err(corrupt(format!(
                "the picture is {}x{}, the video {}x{}",
                picture.width(),
                picture.height(),
                self.info.width,
                self.info.height
            )));
        }
        self.pos += 1;
        let image = RgbFrame { width: picture.width(), height: picture.height(), data: picture.into_raw() };
        Ok(Some(DecodedFrame { index: n, pts_seconds: n as f64 / self.fps, image }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, w: u32, h: u32, shade: u8) {
        let img = image::RgbImage::from_fn(w, h, |x, y| image::Rgb([shade, (x * 7) as u8, (y * 5) as u8]));
        img.save(path).expect("save");
    }

    #[test]
    fn names_sort_by_number_and_rates_reduce() {
        let mut names = vec!["f10.png", "f2.png", "f1.png", "00005.jpg", "00000.jpg"];
        names.sort_by(|a, b| natural_cmp(a, b));
        assert_eq!(names, ["00000.jpg", "00005.jpg", "f1.png", "f2.png", "f10.png"]);
        assert_eq!(fps_fraction(25.0), (25, 1));
        assert_eq!(fps_fraction(29.97), (2997, 100));
        assert_eq!(fps_fraction(6.0), (6, 1));
    }

    #[test]
    fn a_folder_reads_in_order_and_seeks_exactly() {
        let dir = tempfile::tempdir().expect("tempdir");
        for i in [0u8, 1, 2, 10] {
            write(&dir.path().join(format!("frame{i}.png")), 8, 6, i * 20);
        }
        std::fs::write(dir.path().join("notes.txt"), b"not a frame").expect("write");
        let mut f = FrameFolder::open(dir.path(), 6.0).expect("open");
        assert_eq!(f.frame_count(), 4);
        assert_eq!((f.info().width, f.info().height, f.info().frame_rate), (8, 6, (6, 1)));
        let shades: Vec<u8> = std::iter::from_fn(|| f.next_frame().expect("decode")).map(|d| d.image.data[0]).collect();
        assert_eq!(shades, [0, 20, 40, 200]);
        let d = f.read_frame(2).expect("seek");
        assert_eq!((d.index, d.image.data[0]), (2, 40));
        assert!((d.pts_seconds - 2.0 / 6.0).abs() < 1e-12);
        assert!(matches!(f.seek(4), Err(DecodeError::OutOfRange { .. })));
    }

    #[test]
    fn empty_mixed_and_broken_folders_name_the_culprit() {
        let dir = tempfile::tempdir().expect("tempdir");
        let e = FrameFolder::open(dir.path(), 25.0).expect_err("empty");
        assert!(matches!(e, DecodeError::EmptyFolder { .. }), "{e}");
        write(&dir.path().join("a.png"), 8, 6, 0);
        write(&dir.path().join("b.png"), 9, 6, 0);
        let e = FrameFolder::open(dir.path(), 25.0).expect_err("mixed");
        assert!(e.to_string().contains("b.png is 9x6") && e.to_string().contains("8x6"), "{e}");
        std::fs::remove_file(dir.path().join("b.png")).expect("rm");
        std::fs::write(dir.path().join("c.jpg"), b"garbage").expect("write");
        let e = FrameFolder::open(dir.path(), 25.0).expect_err("garbage");
        assert!(e.to_string().contains("c.jpg"), "{e}");
        // A valid header with a cut body passes the open and fails at decode, naming the file.
        write(&dir.path().join("c.png"), 8, 6, 0);
        std::fs::remove_file(dir.path().join("c.jpg")).expect("rm");
        let bytes = std::fs::read(dir.path().join("c.png")).expect("read");
        std::fs::write(dir.path().join("c.png"), &bytes[..bytes.len() / 2]).expect("cut");
        let mut f = FrameFolder::open(dir.path(), 25.0).expect("headers are fine");
        f.next_frame().expect("a.png decodes");
        let e = f.next_frame().expect_err("cut");
        assert!(matches!(e, DecodeError::Corrupt { frame: 1, .. }) && e.to_string().contains("c.png"), "{e}");
    }
}
