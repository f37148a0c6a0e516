//! The desktop viewer (`ifa view`): an eframe/wgpu app over background decode, inference and
//! display threads.
//!
//! - What to draw is [`crate::overlay`], shared with the exporter; here it is painted with egui.
//! - [`pipeline`]: the threads and their messages; [`cache`]: memory-budgeted frame caches.
//! - [`app`]: the application and its event intake, over its parts: [`model_state`] (the model
//!   and its loading), [`video_data`] (records, caches, track lanes), [`playback`] (the
//!   playhead); [`ui`]: the panels; [`mask_paint`]: GPU mask colouring
//!   (`shaders/masks.wgsl`); [`commands`]: shortcuts, menus and help from one table.
//! - [`export_task`], [`export_window`]: the Export window and its background thread.
//! - [`dialog`], [`recent`]: opening and saving files; [`debug_view`]: raw network outputs; [`stats`].
//! - [`priority`]: background threads yield the CPU to the UI and the renderer.

pub mod app;
pub mod cache;
pub mod commands;
pub mod debug_view;
pub mod dialog;
pub mod export_task;
pub mod export_window;
pub mod gpu_pass;
pub mod mask_frame;
pub mod mask_paint;
pub mod model_state;
pub mod pipeline;
pub mod playback;
pub mod priority;
pub mod recent;
pub mod stats;
pub mod ui;
pub mod video_data;
pub mod video_paint;

pub use app::{ModelSource, ViewerApp, ViewerConfig};
