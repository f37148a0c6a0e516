//! The shapes world (`docs/shapes-world.md`, "the spec" in this module's comments): procedural
//! videos of six shape classes with exact ground truth, written in YouTube-VIS layout.
//!
//! - [`SynthConfig`] says what to render; [`write_dataset`] renders and writes a data set.
//! - [`plan_video`] plans one video as a [`Scene`]; [`Scene::render`] draws any frame of it
//!   with its label map. Same seed and index, same scene, same bytes.

mod backdrop;
mod camera;
mod color;
mod dataset;
mod distractor;
mod error;
mod fill;
mod noise;
mod photos;
mod plan;
mod preset;
mod raster;
mod scene;
mod sdf;
mod shape;
mod style;
mod ytvis;

pub use backdrop::{Backdrop, BackdropKind};
pub use camera::{CameraPath, CameraPose};
pub use color::Rgb;
pub use dataset::{DatasetSummary, render_video_files, video_name, write_dataset};
pub use error::SynthError;
pub use fill::{Fill, Outline, Pattern, Shading};
pub use plan::{RADIUS_RANGE, plan_video};
pub use preset::{Preset, PresetParams, UnknownPreset};
pub use raster::Frame;
pub use scene::{Pose, Scene, Track};
pub use shape::{CROSS_WIDTH_RATIO, Class, RING_INNER_RATIO, STAR_INNER_RATIO, Shape, TRIANGLE_MIN_ANGLE_DEG};
pub use style::{Styles, UnknownStyles};
pub use ytvis::{Annotation, Category, Dataset, VideoEntry};

/// What to render.
#[derive(Clone, Debug, PartialEq)]
pub struct SynthConfig {
    pub preset: Preset,
    /// Number of videos.
    pub videos: usize,
    pub seed: u64,
    pub width: u32,
    pub height: u32,
    pub fps: u32,
    /// Frames per video; `None` draws 3 to 8 seconds per video.
    pub frames: Option<usize>,
    /// JPEG quality of the frame files (1 to 100).
    pub jpeg_quality: u8,
    /// Also write `videos/<video>.mp4`.
    pub mp4: bool,
    /// x264 constant rate factor of the MP4s.
    pub crf: u8,
    /// Which fill and background families to draw from.
    pub styles: Styles,
}

impl SynthConfig {
    /// The spec's defaults: 640x360, 25 fps, 3 to 8 s per video.
    pub fn new(preset: Preset, videos: usize, seed: u64) -> Self {
        Self {
            preset,
            videos,
            seed,
            width: 640,
            height: 360,
            fps: 25,
            frames: None,
            jpeg_quality: 90,
            mp4: true,
            crf: 20,
            styles: Styles::All,
        }
    }

    /// Checks that the settings can be rendered and encoded (H.264 4:2:0 needs even sizes).
    pub fn validate(&self) -> Result<(), SynthError> {
        let bad = |m: String| Err(SynthError::InvalidConfig(m));
        if self.width < 16 || self.height < 16 || self.width > 8192 || self.height > 8192 {
            return bad(format!("size {}x{} (each side 16 to 8192)", self.width, self.height));
        }
        if !self.width.is_multiple_of(2) || !self.height.is_multiple_of(2) {
            return bad(format!("size {}x{} must be even for H.264", self.width, self.height));
        }
        if self.fps == 0 || self.fps > 240 {
            return bad(format!("frame rate {} (1 to 240)", self.fps));
        }
        if self.frames == Some(0) {
            return bad("zero frames per video".to_owned());
        }
        if self.crf > 51 {
            return bad(format!("CRF {} (0 to 51)", self.crf));
        }
        if !(1..=100).contains(&self.jpeg_quality) {
            return bad(format!("JPEG quality {}", self.jpeg_quality));
        }
        Ok(())
    }
}
