//! Export: encoding annotated video and writing results as data.
//!
//! - [`encode`]: the H.264/yuv420p/faststart MP4 writer (audio carried over, atomic).
//! - [`results`]: YouTube-VIS JSON and the per-frame CSV (shared with `ifa run`).
//! - [`mots`]: per-frame 16-bit PNG instance-id masks in a folder written atomically.
//! - [`annotate`]: draws a [`crate::overlay::scene::Scene`] onto an [`crate::frame::RgbFrame`]
//!   exactly as the viewer paints it (same shapes, tessellated by epaint, rasterised on CPU).
//! - [`coverage`]: which frames of the source were decoded (for damaged or truncated files).
//! - [`job`]: the whole export of one video, with progress and cancellation.

pub mod annotate;
mod audio;
pub mod coverage;
pub mod encode;
pub mod job;
pub mod meta;
pub mod mots;
mod raster;
pub mod results;

pub use coverage::Coverage;
pub use encode::{EncodeError, EncodeOptions, VideoWriter};
pub use job::{ExportError, ExportJob, ExportProgress, ExportSummary, check_outputs, export_video};
