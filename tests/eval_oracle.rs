//! Bit-exact comparison with the official YouTube-VIS evaluator on the fixtures made by
//! `scripts/gen_eval_fixtures.py` (random GT/result pairs; expected numbers from the official code).

use std::path::PathBuf;

use ifa::eval::{GroundTruth, evaluate, parse_results};
use serde_json::Value;

fn fixtures() -> Vec<(String, Value)> {
    fixtures_in(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval"))
}

fn fixtures_in(dir: &std::path::Path) -> Vec<(String, Value)> {
    let mut paths: Vec<PathBuf> = std::fs::read_dir(dir)
        .expect("fixture folder")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.file_name().is_some_and(|n| n.to_string_lossy().starts_with("case_")))
        .collect();
    paths.sort();
    paths
        .into_iter()
        .map(|p| {
            let text = std::fs::read_to_string(&p).expect("read fixture");
            (p.display().to_string(), serde_json::from_str(&text).expect("fixture JSON"))
        })
        .collect()
}

fn floats(v: &Value) -> Vec<f64> {
    v.as_array().expect("list").iter().map(|x| x.as_f64().expect("float")).collect()
}

/// Differences between our evaluation and the oracle's, as readable lines.
fn compare(case: &Value) -> Vec<String> {
    let gt = GroundTruth::from_json(&case["gt"]).expect("GT loads");
    let results = parse_results(&case["results"]).expect("results load");
    let ev = evaluate(&gt, &results).expect("evaluates");
    let exp = &case["expected"];
    let mut diffs = Vec::new();
    let stats = floats(&exp["stats"]);
    for (i, (&got, &want)) in ev.stats.iter().zip(&stats).enumerate() {
        if got != want {
            diffs.push(format!("stat {i}: got {got:?}, official {want:?}"));
        }
    }
    let per_cat: Vec<Option<f64>> =
        exp["per_category_ap"].as_array().expect("list").iter().map(Value::as_f64).collect();
    let got_cat: Vec<Option<f64>> = ev.per_category.iter().map(|c| c.ap).collect();
    if got_cat != per_cat {
        diffs.push(format!("per-category AP: got {got_cat:?}, official {per_cat:?}"));
    }
    if ev.recall != floats(&exp["recall"]) {
        diffs.push("recall array differs".to_owned());
    }
    if let Some(p) = exp.get("precision") {
        let want = floats(p);
        let n = ev.precision.iter().zip(&want).filter(|(a, b)| a != b).count();
        if n > 0 || want.len() != ev.precision.len() {
            diffs.push(format!("precision array differs in {n} entries"));
        }
    }
    diffs
}

#[test]
fn matches_official_evaluator_bit_for_bit() {
    check_all(&fixtures());
}

/// The official evaluator (from PyPI, in `.venv`) run now on fresh random pairs, side by side.
#[test]
fn matches_official_evaluator_live() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let dir = tempfile::tempdir().expect("tempdir");
    let status = std::process::Command::new(root.join(".venv/bin/python"))
        .arg(root.join("scripts/gen_eval_fixtures.py"))
        .args(["--count", "300", "--seed", "20261125", "--out"])
        .arg(dir.path())
        .status()
        .expect("the .venv made by training/setup.sh");
    assert!(status.success(), "oracle run failed");
    check_all(&fixtures_in(dir.path()));
}

fn check_all(cases: &[(String, Value)]) {
    assert!(cases.len() >= 300, "expected >= 300 fixtures, found {}", cases.len());
    let mut failures = Vec::new();
    let mut with_precision = 0;
    for (name, case) in cases {
        with_precision += usize::from(case["expected"].get("precision").is_some());
        let diffs = compare(case);
        if !diffs.is_empty() {
            failures.push(format!("{name}:\n  {}", diffs.join("\n  ")));
        }
    }
    println!(
        "bit-exact: {}/{} fixtures ({} with the full precision array)",
        cases.len() - failures.len(),
        cases.len(),
        with_precision
    );
    assert!(failures.is_empty(), "{} fixtures differ:\n{}", failures.len(), failures.join("\n"));
}

#[test]
fn empty_results_equal_results_of_unknown_categories_only() {
    // The official evaluator crashes on an empty list; its answer for results whose categories
    // are all unknown (hence ignored) is what we define for an empty list.
    let mut n = 0;
    for (name, case) in fixtures().iter().filter(|(_, c)| c["kind"] == "unknowncat") {
        let gt = GroundTruth::from_json(&case["gt"]).expect("GT loads");
        let ev = evaluate(&gt, &[]).expect("empty results evaluate");
        assert_eq!(ev.stats.to_vec(), floats(&case["expected"]["stats"]), "{name}");
        n += 1;
    }
    assert!(n >= 10, "only {n} unknown-category fixtures");
}

#[test]
fn ground_truth_as_results_scores_one() {
    // Every track must be findable: a nonzero id and at least one non-empty frame.
    let mut n = 0;
    for (name, case) in &fixtures() {
        let gt = GroundTruth::from_json(&case["gt"]).expect("GT loads");
        let anns = case["gt"]["annotations"].as_array().expect("annotations");
        let findable = |a: &Value| {
            a["id"].as_i64() != Some(0)
                && a["segmentations"].as_array().expect("segs").iter().any(|s| s.is_object() && case_rle_nonempty(s))
        };
        if anns.is_empty() || !anns.iter().all(findable) {
            continue;
        }
        let ev = evaluate(&gt, &gt.as_results()).expect("evaluates");
        // Crowd-only ground truth has nothing to find (−1); otherwise AP, AP50, AP75 and AR100
        // are 1. Precision is tp / (tp + fp + eps), so a category with a single track scores
        // 1 / (1 + eps), one ulp below 1, in the official code too: hence the tolerance.
        let has_real = anns.iter().any(|a| a["iscrowd"].as_i64() == Some(0));
        for i in [0, 1, 2, 8] {
            let s = ev.stats[i];
            if has_real {
                assert!((s - 1.0).abs() < 1e-12, "{name}: stat {i} = {s}");
            } else {
                assert_eq!(s, -1.0, "{name}: stat {i}");
            }
        }
        n += 1;
    }
    assert!(n >= 50, "only {n} fixtures usable");
}

fn case_rle_nonempty(seg: &Value) -> bool {
    let rle: ifa::rle::Rle = serde_json::from_value(seg.clone()).expect("RLE");
    rle.area() > 0
}
