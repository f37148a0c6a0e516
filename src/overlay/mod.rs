//! What is drawn over a frame, independent of who paints it: the viewer paints it with egui
//! (masks on the GPU), the exporter rasterises the same description on CPU, so an annotated
//! video looks as the viewer does.
//!
//! - [`scene`]: per-frame records, track colours, the mask blend formula, and the overlay
//!   primitives (centers, flow arrows, labels, trails) after the user's filters;
//! - [`shapes`]: that scene as epaint shapes, for both painters.

pub mod scene;
pub mod shapes;
