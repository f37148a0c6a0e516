//! A bounded fuzz harness for the parsers that read files users hand to `ifa`: compressed RLE
//! strings and RLE JSON, the ground truth and results loaders of `ifa eval` (and the
//! evaluation of whatever they accept), and the model-contract metadata. Every case must end
//! in a value or an error, never a panic. The case counts are fixed so that the harness runs
//! in the ordinary test command in seconds; `PROPTEST_CASES` raises them for a longer search.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::BTreeMap;
use std::path::Path;

use ifa::eval::{GroundTruth, evaluate, parse_results, results_from_json_str};
use ifa::infer::contract::{ModelContract, TensorSpec};
use ifa::rle::{Rle, decompress_counts};
use proptest::prelude::*;
use proptest::test_runner::Config;
use serde_json::{Value, json};

fn config(cases: u32) -> Config {
    let cases = std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(cases);
    // No regression files are written into the source tree; a failure prints its input.
    Config { failure_persistence: None, ..Config::with_cases(cases) }
}

/// Sizes that matter: zero, small, and the extremes of `u32`.
fn dim() -> impl Strategy<Value = u32> {
    prop_oneof![Just(0u32), 1u32..8, Just(u32::MAX), any::<u32>()]
}

/// Strings mostly from the RLE alphabet (`0`..`o`), sometimes anything.
fn rle_string() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => proptest::collection::vec(48u8..112, 0..24).prop_map(|b| String::from_utf8(b).unwrap()),
        1 => ".{0,16}",
    ]
}

/// Integers a JSON file may hold where ids and sizes belong.
fn json_int() -> impl Strategy<Value = Value> {
    prop_oneof![
        24 => (1i64..4).prop_map(Value::from),
        1 => Just(json!(0)),
        1 => any::<i64>().prop_map(Value::from),
        1 => any::<u64>().prop_map(Value::from),
        1 => Just(json!(-1)),
        1 => Just(json!(1.5)),
        1 => Just(json!("1")),
        1 => Just(Value::Null),
    ]
}

/// Any JSON value, a few levels deep.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_filter("JSON numbers are finite", |x| x.is_finite()).prop_map(Value::from),
        ".{0,8}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 0..4).prop_map(Value::from),
            proptest::collection::btree_map("[a-z_]{1,12}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// One frame's segmentation: absent, an RLE object of some size with compressed or list
/// counts (right or wrong), a polygon, or junk.
fn segmentation() -> impl Strategy<Value = Value> {
    prop_oneof![
        2 => Just(Value::Null),
        3 => (0u32..4, 0u32..4, rle_string()).prop_map(|(h, w, s)| json!({"size": [h, w], "counts": s})),
        2 => (1u32..4, 1u32..4).prop_map(|(h, w)| json!({"size": [h, w], "counts": [h * w]})),
        1 => (dim(), dim(), proptest::collection::vec(any::<u32>(), 0..4))
            .prop_map(|(h, w, c)| json!({"size": [h, w], "counts": c})),
        1 => Just(json!([[0.0, 0.0, 1.0, 1.0, 0.0, 1.0]])),
        1 => any_json(),
    ]
}

/// A ground-truth document near the YouTube-VIS layout: right keys, wrong values at random.
fn near_ground_truth() -> impl Strategy<Value = Value> {
    let video = (json_int(), json_int(), json_int()).prop_map(|(id, h, w)| json!({"id": id, "height": h, "width": w}));
    let category = (json_int(), ".{0,6}").prop_map(|(id, name)| json!({"id": id, "name": name}));
    let annotation = (
        json_int(),
        json_int(),
        json_int(),
        prop_oneof![Just(json!(0)), Just(json!(1)), Just(json!(true)), json_int()],
        proptest::collection::vec(prop_oneof![Just(Value::Null), json_int(), Just(json!(2.5))], 0..4),
        proptest::collection::vec(segmentation(), 0..4),
    )
        .prop_map(|(id, vid, cat, crowd, areas, segs)| {
            json!({"id": id, "video_id": vid, "category_id": cat, "iscrowd": crowd, "areas": areas,
                   "segmentations": segs})
        });
    (
        proptest::collection::vec(video, 0..3),
        proptest::collection::vec(category, 0..3),
        proptest::collection::vec(annotation, 0..4),
        any::<u8>(),
    )
        .prop_map(|(videos, categories, annotations, drop)| {
            let mut doc = json!({"videos": videos, "categories": categories, "annotations": annotations});
            // Now and then a top-level key goes missing.
            if let Some(o) = doc.as_object_mut() {
                match drop % 8 {
                    0 => o.remove("videos"),
                    1 => o.remove("annotations"),
                    _ => None,
                };
            }
            doc
        })
}

/// A results list near the submission format.
fn near_results() -> impl Strategy<Value = Value> {
    let entry = (json_int(), json_int(), prop_oneof![Just(json!(0.5)), json_int()], proptest::collection::vec(segmentation(), 0..4))
        .prop_map(|(vid, cat, score, segs)| json!({"video_id": vid, "category_id": cat, "score": score, "segmentations": segs}));
    proptest::collection::vec(entry, 0..5).prop_map(Value::from)
}

/// A byte-level mutation of a text. Most edits change a number (a digit replaced, added or
/// removed) so that the text often stays valid JSON with other values in it; the others
/// replace, insert or delete any byte.
fn mutate(text: &str, edits: &[(usize, u8, u8)]) -> String {
    let mut b = text.as_bytes().to_vec();
    for &(at, op, byte) in edits {
        if b.is_empty() {
            break;
        }
        let digit = b'0' + byte % 10;
        // The next digit at or after `at`, for the number edits.
        let num = (0..b.len()).map(|i| (at + i) % b.len()).find(|&i| b[i].is_ascii_digit());
        let at = at % b.len();
        match (op % 8, num) {
            (0..=2, Some(i)) => b[i] = digit,
            (3, Some(i)) => b.insert(i, digit),
            (4, Some(i)) if b.get(i + 1).is_some_and(u8::is_ascii_digit) => {
                b.remove(i);
            }
            (5, _) => b[at] = byte,
            (6, _) => b.insert(at, byte),
            (7, _) => {
                b.remove(at);
            }
            _ => {}
        }
    }
    String::from_utf8_lossy(&b).into_owned()
}

const GT: &str = r#"{"videos":[{"id":1,"height":2,"width":3}],"categories":[{"id":1,"name":"disc"},{"id":2,"name":"square"}],
"annotations":[{"id":1,"video_id":1,"category_id":1,"iscrowd":0,"areas":[2,null],"segmentations":[{"size":[2,3],"counts":[2,2,2]},null]},
{"id":2,"video_id":1,"category_id":2,"iscrowd":1,"areas":[6],"segmentations":[{"size":[2,3],"counts":"06"}]}]}"#;
const RESULTS: &str = r#"[{"video_id":1,"category_id":1,"score":0.9,"segmentations":[{"size":[2,3],"counts":"222"},null]},
{"video_id":1,"category_id":2,"score":0.4,"segmentations":[{"size":[2,3],"counts":"06"},{"size":[2,3],"counts":"6"}]}]"#;

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn compressed_rle_strings(h in dim(), w in dim(), s in rle_string()) {
        let _ = decompress_counts(&s);
        if let Ok(r) = Rle::from_compressed_string(h, w, &s) {
            let n: u64 = r.counts().iter().map(|&c| u64::from(c)).sum();
            prop_assert_eq!(n, u64::from(h) * u64::from(w));
            let again = Rle::from_compressed_string(h, w, &r.to_compressed_string()).expect("round trip");
            prop_assert_eq!(again, r);
        }
    }

    #[test]
    fn rle_json(v in segmentation(), text in ".{0,40}") {
        let _ = serde_json::from_value::<Rle>(v);
        let _ = serde_json::from_str::<Rle>(&text);
    }

    #[test]
    fn mutated_files(
        gt_edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..4),
        res_edits in proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 0..4),
    ) {
        let gt = mutate(GT, &gt_edits);
        let res = mutate(RESULTS, &res_edits);
        let g = GroundTruth::from_json_str(&gt);
        let r = results_from_json_str(&res);
        if let (Ok(g), Ok(r)) = (g, r) {
            let _ = evaluate(&g, &r);
        }
    }
}

proptest! {
    #![proptest_config(config(1024))]

    #[test]
    fn structured_ground_truth_and_results(gt in near_ground_truth(), res in near_results()) {
        let g = GroundTruth::from_json(&gt);
        let r = parse_results(&res);
        if let (Ok(g), Ok(r)) = (g, r) {
            if let Ok(ev) = evaluate(&g, &r) {
                prop_assert!(ev.stats.iter().all(|s| (-1.0..=1.0).contains(s)), "{:?}", ev.stats);
            }
            let _ = g.unknown_categories(&r);
        }
    }

    #[test]
    fn arbitrary_json_documents(v in any_json(), text in ".{0,64}") {
        let _ = GroundTruth::from_json(&v);
        let _ = parse_results(&v);
        let _ = GroundTruth::from_json_str(&text);
        let _ = results_from_json_str(&text);
    }
}

/// The metadata of a model that follows the contract.
fn good_metadata() -> BTreeMap<String, String> {
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
        ("ifa.temporal_fusion", "true"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_owned(), v.to_owned()))
    .collect()
}

fn spec(name: &str, shape: &[i64]) -> TensorSpec {
    TensorSpec { name: name.to_owned(), is_f32: true, shape: shape.to_vec() }
}

/// The graph signature that goes with [`good_metadata`].
fn good_io() -> (Vec<TensorSpec>, Vec<TensorSpec>) {
    let inputs =
        vec![spec("image", &[1, 3, 64, 96]), spec("ref_feat16", &[-1, 8, 4, 6]), spec("ref_feat32", &[-1, 16, 2, 3])];
    let outputs = vec![
        spec("semantic", &[1, 4, 16, 24]),
        spec("center", &[1, 1, 16, 24]),
        spec("offset", &[1, 2, 16, 24]),
        spec("inter_offset", &[-1, 2, 16, 24]),
        spec("feat16", &[1, 8, 4, 6]),
        spec("feat32", &[1, 16, 2, 3]),
    ];
    (inputs, outputs)
}

/// A value for a metadata key: the right one mutated, a hostile one, or anything.
fn hostile_meta_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just("[0, 0]".to_owned()),
        Just("[18446744073709551615, 32]".to_owned()),
        Just("[4294967296, 4294967296]".to_owned()),
        Just("[-32, 32]".to_owned()),
        Just("[NaN, 1, 1]".to_owned()),
        Just("[1e40, 0, 0]".to_owned()),
        Just(r#"{"count": 0, "first_frame": true, "step": 0}"#.to_owned()),
        Just(r#"{"count": 18446744073709551615, "first_frame": true, "step": 1}"#.to_owned()),
        Just(
            r#"{"center_threshold": -1, "nms_kernel": 0, "top_k": 0, "match_distance": -5, "min_pixels": 0}"#
                .to_owned()
        ),
        Just("[]".to_owned()),
        ".{0,24}",
    ]
}

/// Contract metadata with up to three keys changed (mutated, hostile, or removed).
fn metadata() -> impl Strategy<Value = BTreeMap<String, String>> {
    let change = (
        any::<usize>(),
        0u8..3,
        proptest::collection::vec((any::<usize>(), any::<u8>(), any::<u8>()), 1..4),
        hostile_meta_value(),
    );
    proptest::collection::vec(change, 0..4).prop_map(|changes| {
        let mut m = good_metadata();
        let keys: Vec<String> = m.keys().cloned().collect();
        for (k, how, edits, hostile) in changes {
            let key = &keys[k % keys.len()];
            match how {
                0 => {
                    let v = mutate(&m.get(key).cloned().unwrap_or_default(), &edits);
                    m.insert(key.clone(), v);
                }
                1 => {
                    m.insert(key.clone(), hostile);
                }
                _ => {
                    m.remove(key);
                }
            }
        }
        m
    })
}

/// A graph signature with up to three changes: a dimension made hostile, a tensor made
/// non-float, renamed or removed.
fn specs(good: Vec<TensorSpec>) -> impl Strategy<Value = Vec<TensorSpec>> {
    let hostile = prop_oneof![Just(-1i64), Just(0i64), Just(i64::MAX), Just(i64::MIN), any::<i64>()];
    let change = (any::<usize>(), any::<usize>(), 0u8..4, hostile);
    proptest::collection::vec(change, 0..3).prop_map(move |changes| {
        let mut v = good.clone();
        for (t, d, how, value) in changes {
            if v.is_empty() {
                break;
            }
            let t = t % v.len();
            match how {
                0 => {
                    let n = v[t].shape.len().max(1);
                    if let Some(x) = v[t].shape.get_mut(d % n) {
                        *x = value;
                    }
                }
                1 => v[t].is_f32 = false,
                2 => v[t].name.push('_'),
                _ => {
                    v.remove(t);
                }
            }
        }
        v
    })
}

proptest! {
    #![proptest_config(config(2048))]

    #[test]
    fn contract_metadata(meta in metadata(), ins in specs(good_io().0), outs in specs(good_io().1)) {
        if let Ok(c) = ModelContract::from_parts(Path::new("fuzz.onnx"), &meta, &ins, &outs) {
            prop_assert!(c.input_h > 0 && c.input_h % 32 == 0 && c.input_w > 0 && c.input_w % 32 == 0);
            prop_assert!(!c.classes.is_empty() && c.refs.count >= 1 && c.refs.step >= 1);
            prop_assert!(c.std.iter().all(|s| s.is_finite() && *s > 0.0));
        }
    }
}

#[test]
fn the_seeds_are_valid() {
    // The mutation seeds parse as they are, so mutations explore near valid files.
    let g = GroundTruth::from_json_str(GT).expect("GT seed");
    let r = results_from_json_str(RESULTS).expect("results seed");
    evaluate(&g, &r).expect("evaluation of the seeds");
    let (i, o) = good_io();
    ModelContract::from_parts(Path::new("seed.onnx"), &good_metadata(), &i, &o).expect("contract seed");
}
