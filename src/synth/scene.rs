//! A planned video: camera, background, distractors and instance tracks with a pose per frame.
//! Everything needed to render any frame, independently of the others.

use super::backdrop::Backdrop;
use super::camera::CameraPath;
use super::distractor::Distractor;
use super::error::SynthError;
use super::fill::Fill;
use super::shape::{Class, Shape};

/// Where an instance is in one frame, in screen pixels (camera already applied).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Pose {
    pub center: [f32; 2],
    /// Outer radius (half the largest extent) in pixels.
    pub radius: f32,
    /// Rotation in radians.
    pub angle: f32,
    /// Layer: larger is nearer the viewer.
    pub depth: u32,
}

/// One instance over the whole video.
#[derive(Clone, Debug, PartialEq)]
pub struct Track {
    pub shape: Shape,
    pub fill: Fill,
    /// One entry per frame; `None` before it is spawned and after it has left the frame.
    pub poses: Vec<Option<Pose>>,
    /// Instances of one clone group share class, shape and fill.
    pub clone_group: Option<u32>,
}

impl Track {
    pub fn class(&self) -> Class {
        self.shape.class()
    }
}

/// Everything of one video.
#[derive(Clone, Debug)]
pub struct Scene {
    pub(crate) width: u32,
    pub(crate) height: u32,
    pub(crate) camera: CameraPath,
    pub(crate) backdrop: Backdrop,
    /// Only moving distractors; static ones are painted into the backdrop.
    pub(crate) distractors: Vec<Distractor>,
    pub(crate) tracks: Vec<Track>,
}

/// Labels are one byte: 0 for background, track index + 1 otherwise.
pub const MAX_TRACKS: usize = 255;

impl Scene {
    /// Assembles a scene; every track must have one pose entry per camera frame.
    pub fn new(
        width: u32,
        height: u32,
        camera: CameraPath,
        backdrop: Backdrop,
        distractors: Vec<Distractor>,
        tracks: Vec<Track>,
    ) -> Result<Self, SynthError> {
        if width == 0 || height == 0 {
            return Err(SynthError::InvalidConfig(format!("frame size {width}x{height}")));
        }
        if tracks.len() > MAX_TRACKS {
            return Err(SynthError::InvalidConfig(format!("{} tracks (at most {MAX_TRACKS})", tracks.len())));
        }
        if let Some(t) = tracks.iter().find(|t| t.poses.len() != camera.len()) {
            return Err(SynthError::InvalidConfig(format!(
                "a track has {} poses for {} frames",
                t.poses.len(),
                camera.len()
            )));
        }
        Ok(Self { width, height, camera, backdrop, distractors, tracks })
    }

    /// A still scene on a flat background, for tests and tools.
    pub fn still(
        width: u32,
        height: u32,
        frames: usize,
        background: [f32; 3],
        tracks: Vec<Track>,
    ) -> Result<Self, SynthError> {
        let camera = CameraPath::still(width, height, frames);
        let backdrop = Backdrop::solid(camera.world_extent(), background);
        Self::new(width, height, camera, backdrop, Vec::new(), tracks)
    }

    pub fn width(&self) -> u32 {
        self.width
    }

    pub fn height(&self) -> u32 {
        self.height
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.camera.len()
    }

    pub fn is_empty(&self) -> bool {
        self.camera.is_empty()
    }

    pub fn tracks(&self) -> &[Track] {
        &self.tracks
    }

    pub fn camera(&self) -> &CameraPath {
        &self.camera
    }

    pub fn backdrop(&self) -> &Backdrop {
        &self.backdrop
    }
}
