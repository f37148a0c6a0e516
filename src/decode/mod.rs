//! Video decoding (a video file, or a folder of JPEG/PNG frames): probing, the frame index built at open, and a reader that returns
//! RGB frames in order or exactly frame N after a seek.

mod error;
mod frames;
mod index;
mod probe;
mod reader;
mod rotate;

pub use error::DecodeError;
pub use frames::{DEFAULT_FOLDER_FPS, folder_fps, is_frame_file, set_folder_fps};
pub use index::FrameIndex;
pub use probe::{AudioInfo, VideoInfo, probe};
pub use reader::{DecodedFrame, IndexedVideo, VideoReader};

use std::sync::Once;

/// Initialises FFmpeg once per process and keeps its own logging quiet: our errors say what
/// went wrong in the user's terms.
pub fn init_ffmpeg() {
    static INIT: Once = Once::new();
    INIT.call_once(|| {
        ffmpeg_next::init().ok();
        ffmpeg_next::util::log::set_level(ffmpeg_next::util::log::Level::Fatal);
    });
}
