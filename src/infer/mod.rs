//! Model inference: ONNX Runtime sessions, the model contract, pre-processing and the
//! streaming reference memory.

pub mod contract;
pub mod pipeline;
pub mod preprocess;
pub mod refs;
pub mod runtime;
pub mod stream;
