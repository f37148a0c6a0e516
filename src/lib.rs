//! ifa: video instance segmentation by instance flow assembly.
//!
//! The modules are layers along the data path. A module uses only modules of lower layers (never
//! one of its own layer, never a higher one); `tests/layers.rs` checks this. From the bottom:
//!
//! 1. [`frame`], [`fsutil`], [`bundled`], [`rle`]: pictures, atomic files, shipped files, COCO RLE.
//! 2. [`dataset`] (YouTube-VIS splits, shards, merged results), [`decode`] (video → frames), [`model`] (the types the network takes and gives),
//!    [`eval`] (the YouTube-VIS metric), [`outpath`] (the output-path policy of every command).
//! 3. [`infer`] (frames → head maps, with the reference memory), [`assemble`] (head maps →
//!    tracked instances).
//! 4. [`runtime`] (the per-video pipeline: inference, assembly, id maps), [`overlay`] (what is
//!    drawn over a frame, for any painter).
//! 5. [`export`] (annotated video and results as data).
//! 6. [`synth`] (the shapes world the default model learns from), [`present`] (the viewer).
//!
//! The `ifa` binary (`src/main.rs`, `src/cli/`) sits above them all. See `ARCHITECTURE.md`.

// Layer 1
pub mod bundled;
pub mod frame;
pub mod fsutil;
pub mod rle;
// Layer 2
pub mod dataset;
pub mod decode;
pub mod eval;
pub mod model;
pub mod outpath;
// Layer 3
pub mod assemble;
pub mod infer;
// Layer 4
pub mod overlay;
pub mod runtime;
// Layer 5
pub mod export;
// Layer 6
pub mod present;
pub mod synth;
