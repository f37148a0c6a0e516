//! ONNX Runtime through `ort`: a small model made at test time, known outputs, provider report.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::process::Command;

use ifa::infer::runtime::{Device, Provider, RuntimeError, SessionOptions, load_model};

const MAKE_MODEL: &str = r#"
import sys, numpy as np, onnx
from onnx import helper, TensorProto, numpy_helper
W = np.zeros((2, 3, 3, 3), np.float32)
W[0] = 0.1
W[1] = -0.05
B = np.array([-0.5, 0.25], np.float32)
g = helper.make_graph(
    [helper.make_node("Conv", ["input", "W", "B"], ["conv"], pads=[1, 1, 1, 1]),
     helper.make_node("Sigmoid", ["conv"], ["output"])],
    "tiny", [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 8, 8])],
    [helper.make_tensor_value_info("output", TensorProto.FLOAT, [1, 2, 8, 8])],
    [numpy_helper.from_array(W, "W"), numpy_helper.from_array(B, "B")])
m = helper.make_model(g, opset_imports=[helper.make_opsetid("", 17)], ir_version=8)
helper.set_model_props(m, {"ifa.test": "tiny conv"})
onnx.save(m, sys.argv[1])
"#;

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

#[test]
fn tiny_model_known_values_on_cpu() {
    let dir = tempfile::tempdir().unwrap();
    let model = dir.path().join("tiny.onnx");
    let py = common::root().join(".venv/bin/python");
    let st =
        Command::new(&py).arg("-c").arg(MAKE_MODEL).arg(&model).status().expect("the .venv made by training/setup.sh");
    assert!(st.success());

    let mut loaded =
        load_model(&model, &SessionOptions { device: Device::Cpu, threads: 1, ..Default::default() }).unwrap();
    assert_eq!(loaded.provider, Provider::Cpu);
    assert_eq!(loaded.provider.to_string(), "CPU");
    assert!(loaded.warnings.is_empty());
    assert_eq!(loaded.metadata.get("ifa.test").map(String::as_str), Some("tiny conv"));

    let x = ndarray::Array4::<f32>::ones((1, 3, 8, 8));
    let out = loaded.session.run(ort::inputs!["input" => ort::value::TensorRef::from_array_view(&x).unwrap()]).unwrap();
    let y = out["output"].try_extract_array::<f32>().unwrap();
    assert_eq!(y.shape(), &[1, 2, 8, 8]);
    // Interior: 27 taps of 1.0; corner: 12 taps (2x2 window x 3 channels).
    let cases = [
        ((0, 4, 4), 27.0 * 0.1 - 0.5),
        ((1, 4, 4), 27.0 * -0.05 + 0.25),
        ((0, 0, 0), 12.0 * 0.1 - 0.5),
        ((1, 0, 7), 12.0 * -0.05 + 0.25),
        ((0, 0, 3), 18.0 * 0.1 - 0.5),
    ];
    for ((c, yy, xx), pre) in cases {
        let got = y[[0, c, yy, xx]];
        assert!((got - sigmoid(pre)).abs() < 1e-6, "output[{c},{yy},{xx}] = {got}, want {}", sigmoid(pre));
    }
    drop(out);

    // Auto on a CPU-only ONNX Runtime: runs on CPU and says so, with the reason.
    let auto = load_model(&model, &SessionOptions { device: Device::Auto, threads: 1, ..Default::default() }).unwrap();
    assert_eq!(auto.provider, Provider::Cpu);
    assert!(auto.warnings.iter().any(|w| w.contains("CUDA unavailable")), "{:?}", auto.warnings);
    assert!(auto.warnings.iter().any(|w| w.contains("falling back to the CPU")), "{:?}", auto.warnings);

    // An explicit GPU request never falls back silently.
    let err =
        load_model(&model, &SessionOptions { device: Device::Cuda, threads: 1, ..Default::default() }).unwrap_err();
    assert!(matches!(err, RuntimeError::ProviderUnavailable { provider: Provider::Cuda, .. }), "{err}");
    assert!(err.to_string().contains("tiny.onnx"));
}

#[test]
fn bad_models_name_their_path() {
    let dir = tempfile::tempdir().unwrap();
    let missing = dir.path().join("nope.onnx");
    let err = load_model(&missing, &SessionOptions::default()).unwrap_err();
    assert!(matches!(err, RuntimeError::ModelUnreadable { .. }));
    assert!(err.to_string().contains("nope.onnx"), "{err}");

    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"definitely not protobuf").unwrap();
    let err = load_model(&junk, &SessionOptions { device: Device::Cpu, threads: 1, ..Default::default() }).unwrap_err();
    assert!(matches!(err, RuntimeError::ModelLoad { .. }), "{err}");
    assert!(err.to_string().contains("junk.onnx"), "{err}");
}
