//! What the network takes and gives, as plain data shared by the layers on both sides of it:
//! the inference engine ([`crate::infer`]) fills these types and the assembly
//! ([`crate::assemble`]) reads them, and neither depends on the other.
//!
//! - [`params`]: the model's post-processing parameters (`ifa.post`) and reference policy
//!   (`ifa.refs`);
//! - [`refs`]: which earlier frames a frame's references are, and what memory must keep;
//! - [`letterbox`]: how video pixels map to the model's input pixels and back;
//! - [`maps`]: the head outputs of one frame (stride 4 or 2) and their cell geometry;
//! - [`maps_file`]: a video's head maps recorded to a file and replayed.

pub mod letterbox;
pub mod maps;
pub mod maps_file;
pub mod params;
pub mod refs;

pub use letterbox::Letterbox;
pub use maps::HeadMaps;
pub use params::{PostParams, RefsPolicy};
