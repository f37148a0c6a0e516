//! Model inference: ONNX Runtime sessions, the model contract, pre-processing and the
//! streaming reference memory.

pub mod contract;
pub mod preprocess;
pub mod refs;
pub mod runtime;
