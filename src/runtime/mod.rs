//! The frame-by-frame pipeline of one video, above inference and assembly: a frame goes through
//! the model with its reference memory ([`crate::infer`]), then post-processing and tracking
//! ([`crate::assemble`]), then becomes an id map at the video's resolution. `ifa run`, the
//! viewer's processing thread and the exporter all drive [`Pipeline`]; [`RunSummary`] is what
//! `ifa run --summary-json` writes.

pub mod pipeline;
pub mod stream;
pub mod summary;

pub use pipeline::{Pipeline, PipelineError, PipelineOptions};
pub use stream::{FrameContext, StreamError, StreamFrame, StreamOptions};
pub use summary::RunSummary;
