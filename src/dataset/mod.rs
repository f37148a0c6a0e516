//! Whole data sets in YouTube-VIS layout: which videos a split holds (`split`), which of them a
//! shard runs and how shards are merged (`shard`), and the merged results with the zip the
//! benchmark server takes (`merge`, `zip`). Running the model over the videos is the binary's
//! job (`ifa batch`); this module holds what can be checked without a model.

mod merge;
mod shard;
mod split;
mod zip;

pub use merge::{merge_results, video_results_path, write_results_zip};
pub use shard::{Manifest, ShardSpec, check_shards};
pub use split::{Split, SplitVideo};
pub use zip::write_zip;

use std::path::PathBuf;

/// Why a data set cannot be read, run or merged.
#[derive(Debug, thiserror::Error)]
pub enum DatasetError {
    #[error("cannot read {path}: {source}")]
    Read { path: PathBuf, source: std::io::Error },
    #[error("{path} is not a YouTube-VIS split: {message}")]
    Split { path: PathBuf, message: String },
    #[error("--shard {spec:?}: {message}")]
    ShardSpec { spec: String, message: String },
    #[error("{0}")]
    Shards(String),
    #[error("cannot write {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
    #[error("{path}: the results of one video are not a JSON array")]
    VideoResults { path: PathBuf },
}
