//! What can go wrong while rendering or writing a synthetic data set.

use std::path::PathBuf;

/// Errors of [`crate::synth`].
#[derive(Debug, thiserror::Error)]
pub enum SynthError {
    /// The requested size, frame rate or length cannot be rendered.
    #[error("invalid synth settings: {0}")]
    InvalidConfig(String),
    /// A file or folder could not be written.
    #[error("cannot write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A frame could not be encoded as JPEG.
    #[error("cannot encode JPEG {path}: {source}")]
    Jpeg {
        path: PathBuf,
        #[source]
        source: image::ImageError,
    },
    /// The annotation file could not be serialised.
    #[error("cannot serialise annotations: {0}")]
    Json(#[from] serde_json::Error),
    /// The MP4 writer failed.
    #[error("cannot write video {path}: {source}")]
    Video {
        path: PathBuf,
        #[source]
        source: crate::export::EncodeError,
    },
    /// The label map could not be run-length encoded (a size mismatch; a bug if it happens).
    #[error("cannot encode masks: {0}")]
    Rle(#[from] crate::rle::RleError),
}

impl SynthError {
    pub(crate) fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Self::Io { path: path.into(), source }
    }
}
