//! The guided-filter refinement of mask edges (`src/assemble/refine.rs`) against its numpy twin
//! (`training/ifa_train/postprocess.py` `refine_ids`) on a generated frame: a striped disc, a
//! flat square touching it and a thin bar over a noisy gradient, their masks given as 4x4 blocks,
//! and from a soft start (the blocks' 3x3 means as weights).
//! Regenerate with `cd training && ../.venv/bin/python ../tests/runtime_fixtures/make_refine.py`.

use std::path::Path;

use ifa::assemble::refine::{RefineParams, RefineScratch, refine_ids};
use ifa::frame::RgbFrame;
use serde_json::Value;

fn list<T: TryFrom<u64>>(v: &Value) -> Vec<T> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| T::try_from(x.as_u64().expect("unsigned")).ok().expect("in range"))
        .collect()
}

#[test]
fn rust_and_numpy_refine_alike_and_towards_the_truth() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/runtime_fixtures/refine.json");
    let doc: Value = serde_json::from_slice(&std::fs::read(path).expect("refine.json")).expect("json");
    let (w, h) = (doc["width"].as_u64().unwrap() as u32, doc["height"].as_u64().unwrap() as u32);
    let image = RgbFrame::from_raw(w, h, list::<u8>(&doc["image"])).expect("frame size");
    let mut ids: Vec<u32> = list(&doc["ids"]);
    let blocky = ids.clone();
    let want: Vec<u32> = list(&doc["refined"]);
    let truth: Vec<u32> = list(&doc["truth"]);
    let params =
        RefineParams { radius: doc["radius"].as_u64().unwrap() as usize, eps: doc["eps"].as_f64().unwrap() as f32 };
    refine_ids(&mut ids, None, &image, params, &mut RefineScratch::default());
    let differ = ids.iter().zip(&want).filter(|(a, b)| a != b).count();
    // Both sides work in f64 and compare the same f32 value with one half; a pixel may only flip
    // where the filtered value lies within rounding of it.
    assert!(differ <= 2, "{differ} pixels differ from the numpy twin");
    let wrong = |m: &[u32]| m.iter().zip(&truth).filter(|(a, b)| a != b).count();
    assert!(
        wrong(&ids) * 3 < wrong(&blocky),
        "pixels unlike the truth: {} refined, {} before",
        wrong(&ids),
        wrong(&blocky)
    );
}
