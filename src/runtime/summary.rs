//! A machine-readable summary of one run over a video (`ifa run --summary-json`): what ran, how
//! many frames and tracks, time per stage and frame rate, so that scripts read numbers instead
//! of scraping the human-readable lines.

use std::path::Path;
use std::time::Duration;

use serde::Serialize;

use super::Pipeline;
use crate::assemble::StageTimes;

/// Mean milliseconds per frame of each stage.
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize)]
pub struct StageMs {
    pub decode: f64,
    pub preprocess: f64,
    pub inference: f64,
    pub postprocess: f64,
    pub assembly: f64,
    /// Id map at the video's resolution (and, in `ifa run`, its RLE).
    pub render: f64,
    /// Sum of the stages.
    pub total: f64,
}

impl StageMs {
    /// Means over `frames` of the summed `times` (zeros for no frame).
    pub fn per_frame(times: &StageTimes, frames: usize) -> Self {
        let ms = |d: Duration| if frames == 0 { 0.0 } else { d.as_secs_f64() * 1000.0 / frames as f64 };
        Self {
            decode: ms(times.decode),
            preprocess: ms(times.preprocess),
            inference: ms(times.inference),
            postprocess: ms(times.postprocess),
            assembly: ms(times.assembly),
            render: ms(times.render),
            total: ms(times.total()),
        }
    }
}

/// The reference policy a run used, and the model's own count.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct RefsUsed {
    /// Most references per frame in this run (the first frame included when kept).
    pub count: usize,
    pub first_frame: bool,
    pub step: usize,
    /// The model's `ifa.refs.count`, before any `--refs` limit.
    pub model_count: usize,
}

/// One run over one video.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct RunSummary {
    /// Execution provider (`cpu`, `cuda`, ...).
    pub provider: String,
    /// Association mode (`flow`, `center`, `iou`).
    pub association: String,
    pub refs: RefsUsed,
    /// Frames processed.
    pub frames: usize,
    /// Tracks (identities) over the whole video.
    pub tracks: usize,
    /// Wall time of the frame loop, seconds.
    pub seconds: f64,
    /// Frames per second over the wall time.
    pub fps: f64,
    /// Mean time per frame of each stage, milliseconds.
    pub stage_ms: StageMs,
}

impl RunSummary {
    /// The numbers of a run: `times` summed over `frames` frames, `wall` for the whole loop.
    pub fn new(frames: usize, tracks: usize, times: &StageTimes, wall: Duration) -> Self {
        let seconds = wall.as_secs_f64();
        Self {
            frames,
            tracks,
            seconds,
            fps: if seconds > 0.0 { frames as f64 / seconds } else { 0.0 },
            stage_ms: StageMs::per_frame(times, frames),
            ..Self::default()
        }
    }

    /// Adds what ran: provider, association and references of `pipe`.
    pub fn with_pipeline(mut self, pipe: &Pipeline) -> Self {
        let r = pipe.contract().refs;
        self.provider = pipe.provider().to_string();
        self.association = pipe.association().mode.name().to_owned();
        self.refs =
            RefsUsed { count: r.count, first_frame: r.first_frame, step: r.step, model_count: pipe.model_refs().count };
        self
    }

    /// Writes the summary as pretty JSON, atomically.
    pub fn write(&self, path: &Path) -> std::io::Result<()> {
        crate::fsutil::write_atomic(path, |w| {
            serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn per_frame_means_and_rate() {
        let times = StageTimes {
            decode: Duration::from_millis(40),
            preprocess: Duration::from_millis(20),
            inference: Duration::from_millis(200),
            postprocess: Duration::from_millis(10),
            assembly: Duration::from_millis(2),
            render: Duration::from_millis(8),
        };
        let s = RunSummary::new(4, 3, &times, Duration::from_secs(2));
        assert_eq!((s.frames, s.tracks), (4, 3));
        assert!((s.fps - 2.0).abs() < 1e-12);
        assert!((s.stage_ms.inference - 50.0).abs() < 1e-9 && (s.stage_ms.decode - 10.0).abs() < 1e-9);
        assert!((s.stage_ms.total - 70.0).abs() < 1e-9, "{}", s.stage_ms.total);
        let empty = RunSummary::new(0, 0, &StageTimes::default(), Duration::ZERO);
        assert_eq!((empty.fps, empty.stage_ms.total), (0.0, 0.0));
    }

    #[test]
    fn written_as_json_with_every_field() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("s.json");
        let mut s = RunSummary::new(10, 2, &StageTimes::default(), Duration::from_secs(5));
        s.refs = RefsUsed { count: 2, first_frame: true, step: 1, model_count: 4 };
        s.write(&path).expect("write");
        let v: serde_json::Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("json");
        assert_eq!(v["frames"], 10);
        assert_eq!(v["tracks"], 2);
        assert_eq!(v["fps"], 2.0);
        assert_eq!(v["refs"]["count"], 2);
        assert_eq!(v["refs"]["model_count"], 4);
        for k in ["decode", "preprocess", "inference", "postprocess", "assembly", "render", "total"] {
            assert!(v["stage_ms"][k].is_number(), "{k}");
        }
    }
}
