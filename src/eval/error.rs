//! Why an evaluation could not run.

use std::path::PathBuf;

use crate::rle::RleError;

/// Errors from loading ground truth or results, or from evaluating them.
#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{what} is not valid JSON: {source}")]
    Json { what: String, source: serde_json::Error },
    #[error("ground truth: {0}")]
    BadGroundTruth(String),
    #[error("results: {0}")]
    BadResults(String),
    #[error("results entry {index} refers to video id {video_id}, which is not in the ground truth")]
    UnknownVideo { index: usize, video_id: i64 },
    #[error(
        "results entry {index}, frame {frame}: uncompressed RLE (list counts); the official \
         evaluator only reads compressed RLE with string counts"
    )]
    UncompressedResult { index: usize, frame: usize },
    #[error(
        "results entry {index}, frame {frame}: polygon segmentation; the official evaluator only \
         reads compressed RLE with string counts"
    )]
    PolygonResult { index: usize, frame: usize },
    #[error(
        "ground truth annotation {ann_id}, frame {frame}: polygon segmentations are not supported; \
         convert them to RLE"
    )]
    PolygonGroundTruth { ann_id: i64, frame: usize },
    #[error("{context}: {source}")]
    Rle { context: String, source: RleError },
    #[error("{}: {inner}", path.display())]
    File { path: PathBuf, inner: Box<EvalError> },
    /// In the `set`-th (from 1) of several pooled sets.
    #[error("set {set}: {inner}")]
    InSet { set: usize, inner: Box<EvalError> },
}
