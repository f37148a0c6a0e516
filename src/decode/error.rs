use std::path::PathBuf;

/// Why a video could not be read.
#[derive(Debug, thiserror::Error)]
pub enum DecodeError {
    #[error("video file {path} not found")]
    NotFound { path: PathBuf },
    #[error(
        "{path} cannot be read as a video: {reason} (ifa indexes a video's frames before decoding them, so it reads the file twice; save a stream to a file first)"
    )]
    NotAFile { path: PathBuf, reason: String },
    #[error("{path} is not a video FFmpeg can read: {message}")]
    Unreadable { path: PathBuf, message: String },
    #[error("{path} has no video stream")]
    NoVideo { path: PathBuf },
    #[error("{path}: no decoder for video codec {codec}")]
    UnsupportedCodec { path: PathBuf, codec: String },
    #[error("{path} has no decodable frames")]
    NoFrames { path: PathBuf },
    #[error("{path}: frame {frame} is out of range (the video has {count} frames)")]
    OutOfRange { path: PathBuf, frame: usize, count: usize },
    #[error("{path} holds no frames (a frame folder needs .jpg, .jpeg or .png files)")]
    EmptyFolder { path: PathBuf },
    #[error(
        "{path}: frame {file} is {width}x{height}, but {first} is {first_width}x{first_height}; every frame of a video must have one size"
    )]
    MixedSizes {
        path: PathBuf,
        file: PathBuf,
        width: u32,
        height: u32,
        first: PathBuf,
        first_width: u32,
        first_height: u32,
    },
    #[error("frame {file} of {path} cannot be read: {message}")]
    BadFrame { path: PathBuf, file: PathBuf, message: String },
    #[error(
        "{path} is {width}x{height}; ifa reads videos of at most {max_side} pixels a side and {max_mpx} megapixels (scale it down first, e.g. with ffmpeg -vf scale=-2:2160)"
    )]
    TooLarge { path: PathBuf, width: u32, height: u32, max_side: u32, max_mpx: u32 },
    #[error("{path}: decoding failed near frame {frame}: {message}")]
    Corrupt { path: PathBuf, frame: usize, message: String },
}
