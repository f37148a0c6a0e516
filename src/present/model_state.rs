//! The viewer's model: where it comes from, its loading (on the model-load worker of
//! [`super::pipeline`]) and its status line.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use crossbeam_channel::Receiver;

use super::pipeline::{FrameProcessor, ProcessorInfo, ProcessorSlot, SlotState, load_model_in_background};
use crate::infer::runtime::{Device, SessionOptions};

/// Where the model comes from.
pub enum ModelSource {
    None {
        reason: String,
    },
    File {
        path: PathBuf,
        device: Device,
    },
    /// A ready processor (tests, or callers that build their own).
    Processor(Box<dyn FrameProcessor>),
}

#[derive(Clone, Debug, PartialEq)]
pub enum ModelStatus {
    Absent(String),
    Loading(String),
    Ready(ProcessorInfo),
    Failed(String),
}

/// The model of this viewer: the slot the processing threads take it from, and its status.
pub struct ModelState {
    slot: ProcessorSlot,
    loading: Option<Receiver<Result<ProcessorInfo, String>>>,
    status: ModelStatus,
    /// The model file, for the export's own session (`None` when given as a processor).
    file: Option<(PathBuf, Device)>,
}

impl ModelState {
    /// Takes the model from `source`; a file starts loading in the background with `threads`
    /// intra-op threads.
    pub fn start(source: ModelSource, threads: usize, repaint: Option<Arc<dyn Fn() + Send + Sync>>) -> Self {
        let slot: ProcessorSlot = Arc::new(Mutex::new(SlotState::Loading));
        let set = |state: SlotState| {
            if let Ok(mut s) = slot.lock() {
                *s = state;
            }
        };
        match source {
            ModelSource::None { reason } => {
                set(SlotState::Absent);
                Self { slot, loading: None, status: ModelStatus::Absent(reason), file: None }
            }
            ModelSource::Processor(p) => {
                let info = p.info();
                set(SlotState::Ready(p));
                Self { slot, loading: None, status: ModelStatus::Ready(info), file: None }
            }
            ModelSource::File { path, device } => {
                let rx = load_model_in_background(
                    path.clone(),
                    SessionOptions { device, threads, ..Default::default() },
                    &slot,
                    repaint,
                );
                let status = ModelStatus::Loading(path.display().to_string());
                Self { slot, loading: Some(rx), status, file: Some((path, device)) }
            }
        }
    }

    /// Takes the loader's answer if it came; returns the message the user must see when the
    /// model turned out unusable.
    pub fn poll(&mut self) -> Option<String> {
        let r = self.loading.as_ref()?.try_recv().ok()?;
        self.loading = None;
        match r {
            Ok(info) => {
                self.status = ModelStatus::Ready(info);
                None
            }
            Err(e) => {
                let msg = format!("Model not usable, showing video only: {e}");
                self.status = ModelStatus::Failed(e);
                Some(msg)
            }
        }
    }

    pub fn status(&self) -> &ModelStatus {
        &self.status
    }

    pub fn is_ready(&self) -> bool {
        matches!(self.status, ModelStatus::Ready(_))
    }

    /// The slot a video's processing thread takes the processor from.
    pub fn slot(&self) -> ProcessorSlot {
        self.slot.clone()
    }

    pub fn file(&self) -> Option<&(PathBuf, Device)> {
        self.file.as_ref()
    }

    pub fn class_names(&self) -> Vec<String> {
        match &self.status {
            ModelStatus::Ready(i) => i.class_names.clone(),
            _ => Vec::new(),
        }
    }

    /// `ifa.post` `refine_radius` and `refine_eps` of the loaded model (radius 0 before one is ready).
    pub fn refine(&self) -> (f32, f32) {
        match &self.status {
            ModelStatus::Ready(i) => i.refine,
            _ => (0.0, 0.0),
        }
    }

    /// `ifa.post` `edge_sigma` of the loaded model (0 before one is ready).
    pub fn edge_sigma(&self) -> f32 {
        match &self.status {
            ModelStatus::Ready(i) => i.edge_sigma,
            _ => 0.0,
        }
    }

    /// The network's input (width, height), once known.
    pub fn input_size(&self) -> Option<(usize, usize)> {
        match &self.status {
            ModelStatus::Ready(i) if i.input_w > 0 => Some((i.input_w, i.input_h)),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_file_fails_with_its_name_and_frees_the_slot() {
        let path = PathBuf::from("/nonexistent/ifa-model-state-test.onnx");
        let mut m = ModelState::start(ModelSource::File { path, device: Device::Cpu }, 1, None);
        assert!(matches!(m.status(), ModelStatus::Loading(_)));
        let t0 = std::time::Instant::now();
        let msg = loop {
            if let Some(msg) = m.poll() {
                break msg;
            }
            assert!(t0.elapsed().as_secs() < 30, "the loader answers");
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert!(msg.contains("ifa-model-state-test.onnx"), "{msg}");
        assert!(matches!(m.status(), ModelStatus::Failed(_)));
        assert!(matches!(*m.slot().lock().unwrap(), SlotState::Absent));
        assert!(m.file().is_some(), "the file is still named for the export");
    }

    #[test]
    fn no_model_is_absent_with_its_reason() {
        let m = ModelState::start(ModelSource::None { reason: "--no-model".into() }, 1, None);
        assert_eq!(m.status(), &ModelStatus::Absent("--no-model".into()));
        assert!(m.input_size().is_none() && m.class_names().is_empty() && !m.is_ready());
    }
}
