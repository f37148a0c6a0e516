//! What a video file holds: container, codecs, size, rotation, frame rate, exact frame count.

use std::path::{Path, PathBuf};

use ffmpeg_next as ff;
use serde::Serialize;

use super::{DecodeError, VideoReader};

/// The audio stream, if the file has one.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct AudioInfo {
    pub codec: String,
    pub sample_rate: u32,
    pub channels: u16,
}

/// A description of a video file. Sizes are after rotation (as shown) unless named `coded_`.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct VideoInfo {
    pub path: PathBuf,
    /// FFmpeg's short container name(s), e.g. `mov,mp4,m4a,3gp,3g2,mj2`.
    pub container: String,
    pub container_long: String,
    pub video_codec: String,
    pub pixel_format: String,
    pub coded_width: u32,
    pub coded_height: u32,
    /// Clockwise rotation applied to decoded frames, in degrees (0, 90, 180 or 270).
    pub rotation: i32,
    pub width: u32,
    pub height: u32,
    /// Stream time base as (numerator, denominator).
    pub time_base: (i32, i32),
    /// The stream's nominal frame rate as a fraction (for writing a matching video).
    pub frame_rate: (i32, i32),
    /// Average frames per second over the whole stream, from the frame index.
    pub avg_fps: f64,
    pub variable_frame_rate: bool,
    /// Seconds.
    pub duration: f64,
    /// Exact number of frames, from the frame index.
    pub frame_count: usize,
    /// Timestamp of the first frame, in seconds.
    pub start_time: f64,
    pub audio: Option<AudioInfo>,
}

/// Opens `path` and describes it (builds the frame index, decodes nothing).
pub fn probe(path: &Path) -> Result<VideoInfo, DecodeError> {
    Ok(VideoReader::open(path)?.info().clone())
}

/// Clockwise rotation from a stream's display matrix (as FFmpeg's own autorotate reads it).
pub(super) fn rotation_of(stream: &ff::format::stream::Stream<'_>) -> i32 {
    for sd in stream.side_data() {
        if sd.kind() != ff::codec::packet::side_data::Type::DisplayMatrix {
            continue;
        }
        let d = sd.data();
        if d.len() < 36 {
            continue;
        }
        let m: Vec<f64> =
            d.chunks_exact(4).take(9).map(|c| f64::from(i32::from_ne_bytes([c[0], c[1], c[2], c[3]]))).collect();
        let (s0, s1) = (m[0].hypot(m[3]), m[1].hypot(m[4]));
        if s0 == 0.0 || s1 == 0.0 {
            continue;
        }
        // The matrix rotates counter-clockwise by -atan2(..); players turn the picture the
        // other way, i.e. clockwise by this angle.
        let deg = (m[1] / s1).atan2(m[0] / s0).to_degrees();
        return (((deg / 90.0).round() as i32) * 90).rem_euclid(360);
    }
    // Older muxers keep it as a tag.
    stream
        .metadata()
        .get("rotate")
        .and_then(|r| r.trim().parse::<i32>().ok())
        .map_or(0, |r| ((r as f64 / 90.0).round() as i32 * 90).rem_euclid(360))
}

pub(super) fn rational(r: ff::Rational) -> (i32, i32) {
    (r.numerator(), r.denominator())
}
