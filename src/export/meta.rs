//! The source's timing, written beside every exported data file (`<file>.meta.json`, or
//! `meta.json` inside the MOTS folder), so frame numbers can be turned back into times.

use std::path::{Path, PathBuf};

use crate::decode::VideoInfo;

/// What a data file was made from, and how its frame numbers map to time.
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SourceMeta {
    pub source: String,
    pub width: u32,
    pub height: u32,
    /// Nominal frame rate `[numerator, denominator]`.
    pub frame_rate: [i32; 2],
    /// Stream time base `[numerator, denominator]` of [`SourceMeta::frame_pts`].
    pub time_base: [i32; 2],
    pub variable_frame_rate: bool,
    pub frame_count: usize,
    /// Seconds.
    pub duration: f64,
    pub start_time: f64,
    /// Presentation timestamp of each frame in `time_base` units (frame `i` is at
    /// `frame_pts[i] * time_base` seconds).
    pub frame_pts: Vec<i64>,
    /// What the file holds and how to read it.
    pub content: String,
}

impl SourceMeta {
    pub fn new(info: &VideoInfo, frame_pts: Vec<i64>, content: &str) -> Self {
        Self {
            source: info.path.display().to_string(),
            width: info.width,
            height: info.height,
            frame_rate: [info.frame_rate.0, info.frame_rate.1],
            time_base: [info.time_base.0, info.time_base.1],
            variable_frame_rate: info.variable_frame_rate,
            frame_count: info.frame_count,
            duration: info.duration,
            start_time: info.start_time,
            frame_pts,
            content: content.to_owned(),
        }
    }

    /// Writes this as pretty JSON, atomically.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        crate::fsutil::write_atomic(path, |w| {
            serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        })
    }

    pub fn read(path: &Path) -> std::io::Result<Self> {
        serde_json::from_slice(&std::fs::read(path)?).map_err(std::io::Error::other)
    }
}

/// The sidecar of a data file: `results.json` → `results.json.meta.json`.
pub fn sidecar_path(data: &Path) -> PathBuf {
    let mut s = data.as_os_str().to_owned();
    s.push(".meta.json");
    PathBuf::from(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_names_the_sidecar() {
        assert_eq!(sidecar_path(Path::new("a/res.csv")), PathBuf::from("a/res.csv.meta.json"));
        let dir = tempfile::tempdir().expect("tempdir");
        let m = SourceMeta {
            source: "v.mp4".to_owned(),
            width: 4,
            height: 2,
            frame_rate: [30000, 1001],
            time_base: [1, 30000],
            variable_frame_rate: false,
            frame_count: 2,
            duration: 0.066,
            start_time: 0.0,
            frame_pts: vec![0, 1001],
            content: "test".to_owned(),
        };
        let p = dir.path().join("m.json");
        m.write(&p).expect("write");
        assert_eq!(SourceMeta::read(&p).expect("read"), m);
    }
}
