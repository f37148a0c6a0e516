//! The model contract (docs/model-contract.md, version 1): what a loaded model must look like
//! before the runtime feeds it frames. Every broken rule is reported with the model path.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use ort::value::{TensorElementType, ValueType};

use super::preprocess::Preprocessor;
use super::runtime::LoadedModel;
use crate::model::maps::HEAD_STRIDES;
use crate::model::{PostParams, RefsPolicy};

/// The contract version this runtime understands.
pub const CONTRACT_VERSION: &str = "1";

/// A rule of the contract that a model breaks.
#[derive(Debug, thiserror::Error)]
#[error("model {path} breaks the ifa model contract: {rule}")]
pub struct ContractError {
    pub path: PathBuf,
    pub rule: String,
}

/// Name, element type and shape (-1 = dynamic) of one graph input or output.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TensorSpec {
    pub name: String,
    /// Whether it is a float32 tensor.
    pub is_f32: bool,
    pub shape: Vec<i64>,
}

/// Everything the runtime needs to know about a model that follows the contract.
#[derive(Clone, Debug, PartialEq)]
pub struct ModelContract {
    pub path: PathBuf,
    /// `classes[i]` is category id `i + 1`.
    pub classes: Vec<String>,
    /// Input height and width (multiples of 32).
    pub input_h: usize,
    pub input_w: usize,
    pub mean: [f32; 3],
    pub std: [f32; 3],
    pub refs: RefsPolicy,
    pub post: PostParams,
    /// Output stride of the head maps (`ifa.head_stride`, 4 when absent; 2 or 4).
    pub head_stride: usize,
    /// Channels of the stride-16 and stride-32 memory features.
    pub c16: usize,
    pub c32: usize,
    pub temporal_fusion: Option<bool>,
    /// `ifa.train`, verbatim (informative).
    pub train_info: Option<String>,
    /// `ifa.tta`, verbatim (informative): the test-time averaging the graph does inside itself,
    /// "flip" for a frame averaged with its mirror image. The runtime needs nothing for it.
    pub tta: Option<String>,
}

impl ModelContract {
    /// How the graph averages each frame's reading, in words, for the model's one-line summary.
    pub fn tta_label(&self) -> Option<String> {
        self.tta.as_deref().map(|t| match t {
            "flip" => "each frame averaged with its mirror image".to_owned(),
            other => format!("test-time averaging `{other}`"),
        })
    }

    /// The letterbox and normalisation of this model for `width`x`height` frames.
    pub fn preprocessor(&self, width: u32, height: u32) -> Preprocessor {
        Preprocessor::new(width, height, self.input_w, self.input_h, self.mean, self.std)
    }

    /// Height and width of the head maps.
    pub fn head_size(&self) -> (usize, usize) {
        (self.input_h / self.head_stride, self.input_w / self.head_stride)
    }

    pub fn num_classes(&self) -> usize {
        self.classes.len()
    }

    /// The name of category `id` (1-based); `None` for background or out of range.
    pub fn class_name(&self, id: u32) -> Option<&str> {
        (id as usize).checked_sub(1).and_then(|i| self.classes.get(i)).map(String::as_str)
    }

    /// Reads and checks the contract of a loaded model.
    pub fn from_model(model: &LoadedModel) -> Result<Self, ContractError> {
        let inputs: Vec<TensorSpec> = model.session.inputs().iter().map(|o| spec(o.name(), o.dtype())).collect();
        let outputs: Vec<TensorSpec> = model.session.outputs().iter().map(|o| spec(o.name(), o.dtype())).collect();
        Self::from_parts(&model.path, &model.metadata, &inputs, &outputs)
    }

    /// Checks the contract from the graph's signature and metadata (testable without ONNX Runtime).
    pub fn from_parts(
        path: &Path,
        metadata: &BTreeMap<String, String>,
        inputs: &[TensorSpec],
        outputs: &[TensorSpec],
    ) -> Result<Self, ContractError> {
        let fail = |rule: String| ContractError { path: path.to_path_buf(), rule };

        let version =
            metadata.get("ifa.contract").ok_or_else(|| fail("metadata key `ifa.contract` is missing".into()))?;
        if version.trim() != CONTRACT_VERSION {
            return Err(fail(format!(
                "contract version `{version}` is not supported (this runtime reads version {CONTRACT_VERSION})"
            )));
        }
        let classes: Vec<String> = meta_json(metadata, "ifa.classes").map_err(fail)?;
        if classes.is_empty() {
            return Err(fail("`ifa.classes` lists no class".into()));
        }
        // The per-cell class argmax is kept in a byte (background + K classes).
        if classes.len() > MAX_CLASSES {
            return Err(fail(format!(
                "`ifa.classes` lists {} classes; at most {MAX_CLASSES} are supported",
                classes.len()
            )));
        }
        let [input_h, input_w]: [usize; 2] = meta_json(metadata, "ifa.input_size").map_err(fail)?;
        if input_h == 0 || input_w == 0 || input_h % 32 != 0 || input_w % 32 != 0 {
            return Err(fail(format!("`ifa.input_size` [{input_h}, {input_w}] must be positive multiples of 32")));
        }
        let mean: [f32; 3] = meta_json(metadata, "ifa.mean").map_err(fail)?;
        let std: [f32; 3] = meta_json(metadata, "ifa.std").map_err(fail)?;
        if std.iter().any(|s| !(s.is_finite() && *s > 0.0)) || mean.iter().any(|m| !m.is_finite()) {
            return Err(fail("`ifa.mean` must be finite and `ifa.std` positive".into()));
        }
        let refs: RefsPolicy = meta_json(metadata, "ifa.refs").map_err(fail)?;
        if refs.count == 0 || refs.step == 0 {
            return Err(fail("`ifa.refs` needs count >= 1 and step >= 1".into()));
        }
        let post: PostParams = meta_json(metadata, "ifa.post").map_err(fail)?;
        check_post(&post).map_err(fail)?;
        let temporal_fusion = match metadata.get("ifa.temporal_fusion") {
            Some(v) => Some(serde_json::from_str::<bool>(v).map_err(|e| fail(format!("`ifa.temporal_fusion`: {e}")))?),
            None => None,
        };

        let head_stride = match metadata.get("ifa.head_stride") {
            Some(v) => serde_json::from_str::<usize>(v).map_err(|e| fail(format!("`ifa.head_stride`: {e}")))?,
            None => 4,
        };
        if !HEAD_STRIDES.contains(&head_stride) {
            return Err(fail(format!("`ifa.head_stride` {head_stride} is not supported (one of {HEAD_STRIDES:?})")));
        }
        let (mh, mw, h16, w16, h32, w32) =
            (input_h / head_stride, input_w / head_stride, input_h / 16, input_w / 16, input_h / 32, input_w / 32);
        let k1 = classes.len() as i64 + 1;

        let image = find(inputs, "image", "input").map_err(fail)?;
        expect_shape(image, &[Dim::Is(1), Dim::Is(3), Dim::Is(input_h as i64), Dim::Is(input_w as i64)])
            .map_err(fail)?;
        let r16 = find(inputs, "ref_feat16", "input").map_err(fail)?;
        let c16 = channel_dim(r16).map_err(fail)?;
        expect_shape(r16, &[Dim::Any, Dim::Is(c16), Dim::Is(h16 as i64), Dim::Is(w16 as i64)]).map_err(fail)?;
        let r32 = find(inputs, "ref_feat32", "input").map_err(fail)?;
        let c32 = channel_dim(r32).map_err(fail)?;
        expect_shape(r32, &[Dim::Any, Dim::Is(c32), Dim::Is(h32 as i64), Dim::Is(w32 as i64)]).map_err(fail)?;
        if inputs.len() != 3 {
            let names: Vec<&str> = inputs.iter().map(|s| s.name.as_str()).collect();
            return Err(fail(format!(
                "the graph must have exactly the inputs image, ref_feat16, ref_feat32 (has {names:?})"
            )));
        }

        let (mh, mw) = (mh as i64, mw as i64);
        let rules: [(&str, [Dim; 4]); 6] = [
            ("semantic", [Dim::Is(1), Dim::Is(k1), Dim::Is(mh), Dim::Is(mw)]),
            ("center", [Dim::Is(1), Dim::Is(1), Dim::Is(mh), Dim::Is(mw)]),
            ("offset", [Dim::Is(1), Dim::Is(2), Dim::Is(mh), Dim::Is(mw)]),
            ("inter_offset", [Dim::Any, Dim::Is(2), Dim::Is(mh), Dim::Is(mw)]),
            ("feat16", [Dim::Is(1), Dim::Is(c16), Dim::Is(h16 as i64), Dim::Is(w16 as i64)]),
            ("feat32", [Dim::Is(1), Dim::Is(c32), Dim::Is(h32 as i64), Dim::Is(w32 as i64)]),
        ];
        for (name, dims) in &rules {
            let s = find(outputs, name, "output").map_err(fail)?;
            expect_shape(s, dims).map_err(fail)?;
        }

        Ok(Self {
            path: path.to_path_buf(),
            classes,
            input_h,
            input_w,
            mean,
            std,
            refs,
            post,
            head_stride,
            c16: c16 as usize,
            c32: c32 as usize,
            temporal_fusion,
            train_info: metadata.get("ifa.train").cloned(),
            tta: metadata.get("ifa.tta").filter(|v| v.as_str() != "none").cloned(),
        })
    }
}

fn spec(name: &str, dtype: &ValueType) -> TensorSpec {
    TensorSpec {
        name: name.to_owned(),
        is_f32: dtype.tensor_type() == Some(TensorElementType::Float32),
        shape: dtype.tensor_shape().map(|s| s.to_vec()).unwrap_or_default(),
    }
}

fn meta_json<T: serde::de::DeserializeOwned>(metadata: &BTreeMap<String, String>, key: &str) -> Result<T, String> {
    let raw = metadata.get(key).ok_or_else(|| format!("metadata key `{key}` is missing"))?;
    serde_json::from_str(raw).map_err(|e| format!("metadata `{key}` = `{raw}` is not valid: {e}"))
}

/// Most classes a model may have: the per-cell argmax (background included) is a `u8`.
pub const MAX_CLASSES: usize = u8::MAX as usize;
/// Most centers per frame: a cell's detection index is a `u16`, with `u16::MAX` for none.
pub const MAX_TOP_K: usize = u16::MAX as usize - 1;

fn check_post(p: &PostParams) -> Result<(), String> {
    if !(0.0..=1.0).contains(&p.center_threshold) {
        return Err(format!("`ifa.post.center_threshold` {} must be in [0, 1]", p.center_threshold));
    }
    if p.nms_kernel == 0 || p.nms_kernel.is_multiple_of(2) {
        return Err(format!("`ifa.post.nms_kernel` {} must be odd", p.nms_kernel));
    }
    if p.top_k == 0 || p.top_k > MAX_TOP_K {
        return Err(format!("`ifa.post.top_k` {} must be in 1..={MAX_TOP_K}", p.top_k));
    }
    if !(p.match_distance.is_finite() && p.match_distance >= 0.0) {
        return Err(format!("`ifa.post.match_distance` {} must be a non-negative number", p.match_distance));
    }
    if !(p.relink_distance.is_finite() && p.relink_distance >= 0.0) {
        return Err(format!("`ifa.post.relink_distance` {} must be a non-negative number", p.relink_distance));
    }
    if p.min_track_frames == 0 {
        return Err("`ifa.post.min_track_frames` must be at least 1".into());
    }
    if !(p.edge_sigma.is_finite() && p.edge_sigma >= 0.0) {
        return Err(format!("`ifa.post.edge_sigma` {} must be a non-negative number", p.edge_sigma));
    }
    if !(p.refine_radius.is_finite() && (0.0..=64.0).contains(&p.refine_radius)) {
        return Err(format!("`ifa.post.refine_radius` {} must be a number in [0, 64]", p.refine_radius));
    }
    if !(p.refine_eps.is_finite() && p.refine_eps > 0.0) {
        return Err(format!("`ifa.post.refine_eps` {} must be a positive number", p.refine_eps));
    }
    Ok(())
}

#[derive(Clone, Copy)]
enum Dim {
    Is(i64),
    /// Dynamic or any size (the reference batch L).
    Any,
}

fn find<'a>(specs: &'a [TensorSpec], name: &str, what: &str) -> Result<&'a TensorSpec, String> {
    let s = specs.iter().find(|s| s.name == name).ok_or_else(|| format!("the graph has no {what} named `{name}`"))?;
    if !s.is_f32 {
        return Err(format!("{what} `{name}` must be a float32 tensor"));
    }
    Ok(s)
}

fn channel_dim(s: &TensorSpec) -> Result<i64, String> {
    match s.shape.get(1) {
        Some(&c) if c > 0 => Ok(c),
        _ => Err(format!("input `{}` must have a fixed channel count (shape {:?})", s.name, s.shape)),
    }
}

/// A dynamic (-1) dimension in the graph is accepted where a fixed size is expected: exporters
/// often leave sizes symbolic, and the run-time shapes are checked on every frame anyway.
fn expect_shape(s: &TensorSpec, dims: &[Dim]) -> Result<(), String> {
    let ok = s.shape.len() == dims.len()
        && s.shape.iter().zip(dims).all(|(&got, want)| match want {
            Dim::Any => true,
            Dim::Is(n) => got == *n || got < 0,
        });
    if ok {
        return Ok(());
    }
    let want: Vec<String> = dims
        .iter()
        .map(|d| match d {
            Dim::Any => "L".to_owned(),
            Dim::Is(n) => n.to_string(),
        })
        .collect();
    Err(format!("`{}` must have shape [{}], the graph says {:?}", s.name, want.join(", "), s.shape))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn metadata() -> BTreeMap<String, String> {
        [
            ("ifa.contract", "1"),
            ("ifa.classes", r#"["disc","square","triangle"]"#),
            ("ifa.input_size", "[64, 96]"),
            ("ifa.mean", "[0.485, 0.456, 0.406]"),
            ("ifa.std", "[0.229, 0.224, 0.225]"),
            ("ifa.refs", r#"{"count": 3, "first_frame": true, "step": 1}"#),
            (
                "ifa.post",
                r#"{"center_threshold": 0.1, "nms_kernel": 7, "top_k": 32, "match_distance": 24.0, "min_pixels": 4}"#,
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn t(name: &str, shape: &[i64]) -> TensorSpec {
        TensorSpec { name: name.to_owned(), is_f32: true, shape: shape.to_vec() }
    }

    fn io() -> (Vec<TensorSpec>, Vec<TensorSpec>) {
        let inputs =
            vec![t("image", &[1, 3, 64, 96]), t("ref_feat16", &[-1, 8, 4, 6]), t("ref_feat32", &[-1, 16, 2, 3])];
        let outputs = vec![
            t("semantic", &[1, 4, 16, 24]),
            t("center", &[1, 1, 16, 24]),
            t("offset", &[1, 2, 16, 24]),
            t("inter_offset", &[-1, 2, 16, 24]),
            t("feat16", &[1, 8, 4, 6]),
            t("feat32", &[1, 16, 2, 3]),
        ];
        (inputs, outputs)
    }

    #[test]
    fn a_conforming_signature_is_read() {
        let (i, o) = io();
        let c = ModelContract::from_parts(Path::new("m.onnx"), &metadata(), &i, &o).expect("valid");
        assert_eq!((c.input_h, c.input_w, c.c16, c.c32), (64, 96, 8, 16));
        assert_eq!(c.class_name(2), Some("square"));
        assert_eq!(c.class_name(0), None);
        assert_eq!(c.refs, RefsPolicy { count: 3, first_frame: true, step: 1 });
        assert_eq!(c.head_size(), (16, 24));
        assert_eq!(c.head_stride, 4);
        assert_eq!(c.tta_label(), None);
    }

    #[test]
    fn a_flip_averaged_graph_is_named_and_needs_nothing_else() {
        // Its memory has twice the channels; the shapes come from the graph, so it loads as any.
        let (mut i, mut o) = io();
        i[1] = t("ref_feat16", &[-1, 16, 4, 6]);
        i[2] = t("ref_feat32", &[-1, 32, 2, 3]);
        o[4] = t("feat16", &[1, 16, 4, 6]);
        o[5] = t("feat32", &[1, 32, 2, 3]);
        let mut m = metadata();
        m.insert("ifa.tta".into(), "flip".into());
        let c = ModelContract::from_parts(Path::new("m.onnx"), &m, &i, &o).expect("valid");
        assert_eq!((c.c16, c.c32), (16, 32));
        assert_eq!(c.tta_label().as_deref(), Some("each frame averaged with its mirror image"));
        m.insert("ifa.tta".into(), "none".into());
        let c = ModelContract::from_parts(Path::new("m.onnx"), &m, &i, &o).expect("valid");
        assert_eq!(c.tta_label(), None);
    }

    #[test]
    fn a_stride_2_head_is_declared_and_checked() {
        let (i, o) = io();
        let mut m = metadata();
        m.insert("ifa.head_stride".into(), "2".into());
        // Maps at stride 4 do not fit a declared stride of 2.
        let e = ModelContract::from_parts(Path::new("m.onnx"), &m, &i, &o).expect_err("shape");
        assert!(e.to_string().contains("`semantic` must have shape [1, 4, 32, 48]"), "{e}");
        let o2: Vec<TensorSpec> = o
            .iter()
            .map(|s| match s.name.as_str() {
                "semantic" | "center" | "offset" | "inter_offset" => {
                    t(&s.name, &[s.shape[0], s.shape[1], s.shape[2] * 2, s.shape[3] * 2])
                }
                _ => s.clone(),
            })
            .collect();
        let c = ModelContract::from_parts(Path::new("m.onnx"), &m, &i, &o2).expect("valid");
        assert_eq!((c.head_stride, c.head_size()), (2, (32, 48)));
        m.insert("ifa.head_stride".into(), "3".into());
        let e = ModelContract::from_parts(Path::new("m.onnx"), &m, &i, &o2).expect_err("stride 3");
        assert!(e.to_string().contains("`ifa.head_stride` 3 is not supported"), "{e}");
    }

    #[test]
    fn broken_rules_name_the_model_and_the_rule() {
        let (i, o) = io();
        let mut m = metadata();
        m.insert("ifa.contract".into(), "2".into());
        let e = ModelContract::from_parts(Path::new("bad.onnx"), &m, &i, &o).expect_err("version");
        assert!(e.to_string().contains("bad.onnx") && e.to_string().contains("version"), "{e}");

        let mut m = metadata();
        m.remove("ifa.refs");
        let e = ModelContract::from_parts(Path::new("bad.onnx"), &m, &i, &o).expect_err("refs");
        assert!(e.to_string().contains("ifa.refs"), "{e}");

        let mut o2 = o.clone();
        o2[0] = t("semantic", &[1, 5, 16, 24]);
        let e = ModelContract::from_parts(Path::new("bad.onnx"), &metadata(), &i, &o2).expect_err("classes");
        assert!(e.to_string().contains("`semantic` must have shape [1, 4, 16, 24]"), "{e}");

        let mut o3 = o;
        o3.retain(|s| s.name != "feat32");
        let e = ModelContract::from_parts(Path::new("bad.onnx"), &metadata(), &i, &o3).expect_err("missing");
        assert!(e.to_string().contains("no output named `feat32`"), "{e}");

        let mut m = metadata();
        m.insert("ifa.input_size".into(), "[60, 96]".into());
        assert!(ModelContract::from_parts(Path::new("bad.onnx"), &m, &i, &io().1).is_err());

        // Sizes the runtime's types cannot carry.
        let mut m = metadata();
        let many: Vec<String> = (0..300).map(|k| format!("c{k}")).collect();
        m.insert("ifa.classes".into(), serde_json::to_string(&many).expect("json"));
        let e = ModelContract::from_parts(Path::new("bad.onnx"), &m, &i, &io().1).expect_err("classes");
        assert!(e.to_string().contains("at most 255"), "{e}");
        let mut m = metadata();
        m.insert(
            "ifa.post".into(),
            r#"{"center_threshold": 0.1, "nms_kernel": 7, "top_k": 70000, "match_distance": 24.0, "min_pixels": 4}"#
                .into(),
        );
        let e = ModelContract::from_parts(Path::new("bad.onnx"), &m, &i, &io().1).expect_err("top_k");
        assert!(e.to_string().contains("top_k` 70000"), "{e}");
    }
}
