//! ifa: video instance segmentation by instance flow assembly.
//!
//! The modules follow the data path: [`decode`] → [`infer`] → [`assemble`] → [`present`] →
//! [`export`]. [`synth`] renders the shapes world the default model learns from, and [`eval`]
//! judges results with the YouTube-VIS metric. See `ARCHITECTURE.md`.

pub mod assemble;
pub mod bundled;
pub mod decode;
pub mod eval;
pub mod export;
pub mod frame;
pub mod fsutil;
pub mod infer;
pub mod present;
pub mod rle;
pub mod synth;
