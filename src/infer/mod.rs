//! Model inference: ONNX Runtime sessions, the model contract, pre-processing and the
//! streaming reference memory. The types it shares with the assembly are [`crate::model`]'s;
//! the pipeline that joins the two is [`crate::runtime`].

pub mod contract;
pub mod preprocess;
pub mod runtime;
pub mod stream;
