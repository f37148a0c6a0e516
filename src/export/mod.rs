//! Export: encoding annotated video and writing results as data.

mod audio;
pub mod encode;

pub use encode::{EncodeError, EncodeOptions, VideoWriter};
