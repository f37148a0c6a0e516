//! `ifa::eval` error handling and simple exact answers, plus the `ifa eval` command end to end.

use std::path::Path;
use std::process::Command;

use ifa::eval::{EvalError, GroundTruth, evaluate, evaluate_files, results_from_json_str};
use ifa::rle::Rle;
use serde_json::{Value, json};

/// Two videos, two categories, two tracks each (so precision reaches exactly 1).
fn gt_json() -> Value {
    let m = |h: u32, w: u32, f: &dyn Fn(u32, u32) -> bool| {
        let mask: Vec<u8> = (0..h * w).map(|i| u8::from(f(i / w, i % w))).collect();
        serde_json::to_value(Rle::from_mask(h, w, &mask).expect("mask")).expect("json")
    };
    let left = m(6, 8, &|_, x| x < 3);
    let right = m(6, 8, &|_, x| x > 4);
    let top = m(6, 8, &|y, _| y < 2);
    let ann = |id: i64, vid: i64, cat: i64, seg: &Value| {
        json!({"id": id, "video_id": vid, "category_id": cat, "iscrowd": 0,
               "segmentations": [seg, null, seg], "areas": [18, null, 18]})
    };
    json!({
        "videos": [{"id": 7, "height": 6, "width": 8}, {"id": 3, "height": 6, "width": 8}],
        "categories": [{"id": 2, "name": "dog"}, {"id": 1, "name": "cat"}],
        "annotations": [ann(1, 7, 1, &left), ann(2, 7, 2, &right), ann(3, 3, 1, &top), ann(4, 3, 2, &left)],
    })
}

#[test]
fn perfect_results_give_exactly_one() {
    let gt = GroundTruth::from_json(&gt_json()).expect("gt");
    let ev = evaluate(&gt, &gt.as_results()).expect("eval");
    for i in [0, 1, 2, 3, 6, 7, 8, 9] {
        assert_eq!(ev.stats[i], 1.0, "stat {i}");
    }
    // Nothing is medium or large.
    for i in [4, 5, 10, 11] {
        assert_eq!(ev.stats[i], -1.0, "stat {i}");
    }
    let names: Vec<&str> = ev.per_category.iter().map(|c| c.name.as_str()).collect();
    assert_eq!(names, ["cat", "dog"], "ordered by category id");
    assert!(ev.per_category.iter().all(|c| c.ap == Some(1.0)));
}

#[test]
fn empty_results_score_zero_not_crash() {
    let gt = GroundTruth::from_json(&gt_json()).expect("gt");
    let ev = evaluate(&gt, &[]).expect("eval");
    assert_eq!(ev.stats, [0.0, 0.0, 0.0, 0.0, -1.0, -1.0, 0.0, 0.0, 0.0, 0.0, -1.0, -1.0]);
}

#[test]
fn input_errors_are_clear() {
    let gt = GroundTruth::from_json(&gt_json()).expect("gt");
    let seg = serde_json::to_string(&Rle::empty(6, 8)).expect("json");
    let unknown = format!(r#"[{{"video_id": 99, "category_id": 1, "score": 0.5, "segmentations": [{seg}]}}]"#);
    let err = evaluate(&gt, &results_from_json_str(&unknown).expect("parses")).expect_err("unknown video");
    assert!(matches!(err, EvalError::UnknownVideo { video_id: 99, .. }));
    assert!(err.to_string().contains("99"));

    let un =
        r#"[{"video_id": 7, "category_id": 1, "score": 0.5, "segmentations": [null, {"size":[6,8],"counts":[48]}]}]"#;
    assert!(matches!(results_from_json_str(un), Err(EvalError::UncompressedResult { index: 0, frame: 1 })));
    let poly = r#"[{"video_id": 7, "category_id": 1, "score": 0.5, "segmentations": [[[0,0,4,0,4,4]]]}]"#;
    assert!(matches!(results_from_json_str(poly), Err(EvalError::PolygonResult { index: 0, frame: 0 })));
    let bad_sum =
        r#"[{"video_id": 7, "category_id": 1, "score": 0.5, "segmentations": [{"size":[6,8],"counts":"5"}]}]"#;
    assert!(matches!(results_from_json_str(bad_sum), Err(EvalError::Rle { .. })));
    assert!(matches!(results_from_json_str("[{"), Err(EvalError::Json { .. })));
    assert!(matches!(results_from_json_str(r#"[{"video_id": 7}]"#), Err(EvalError::BadResults(_))));
    // Falsy frames ({} and []) count as absent, as in Python.
    let falsy = r#"[{"video_id": 7, "category_id": 1, "score": 1, "segmentations": [{}, [], null]}]"#;
    assert_eq!(results_from_json_str(falsy).expect("ok")[0].segmentations, vec![None, None, None]);

    let mut poly_gt = gt_json();
    poly_gt["annotations"][0]["segmentations"][1] = json!([[0, 0, 4, 0, 4, 4]]);
    assert!(matches!(GroundTruth::from_json(&poly_gt), Err(EvalError::PolygonGroundTruth { ann_id: 1, frame: 1 })));
    let mut no_crowd = gt_json();
    no_crowd["annotations"][2].as_object_mut().expect("obj").remove("iscrowd");
    assert!(matches!(GroundTruth::from_json(&no_crowd), Err(EvalError::BadGroundTruth(_))));

    let missing = evaluate_files(Path::new("/nonexistent/gt.json"), Path::new("/nonexistent/r.json"));
    assert!(matches!(missing, Err(EvalError::Read { .. })));
}

#[test]
fn cli_prints_and_writes_json() {
    let dir = tempfile::tempdir().expect("tempdir");
    let fixture: Value = serde_json::from_str(
        &std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/eval/case_000.json"))
            .expect("fixture"),
    )
    .expect("json");
    let gt = dir.path().join("gt.json");
    let res = dir.path().join("res.json");
    let out = dir.path().join("out.json");
    std::fs::write(&gt, fixture["gt"].to_string()).expect("write");
    std::fs::write(&res, fixture["results"].to_string()).expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_ifa"))
        .args(["eval", "--gt"])
        .arg(&gt)
        .arg("--results")
        .arg(&res)
        .arg("--json")
        .arg(&out)
        .output()
        .expect("run ifa");
    assert!(o.status.success(), "stderr: {}", String::from_utf8_lossy(&o.stderr));
    let stdout = String::from_utf8_lossy(&o.stdout);
    for name in ["AP ", "AP50", "AP75", "APs", "APm", "APl", "AR1 ", "AR10 ", "AR100", "ARs", "ARm", "ARl"] {
        assert!(stdout.contains(name), "{name} missing from:\n{stdout}");
    }
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("out")).expect("out json");
    assert_eq!(doc["stats"], fixture["expected"]["stats"]);
    assert_eq!(doc["metrics"]["AP"], fixture["expected"]["stats"][0]);
    let cats = doc["per_category"].as_array().expect("per_category");
    let want = fixture["expected"]["per_category_ap"].as_array().expect("ap");
    assert_eq!(cats.len(), want.len());
    for (c, w) in cats.iter().zip(want) {
        assert_eq!(&c["ap"], w);
        assert!(c["name"].as_str().is_some_and(|n| n.starts_with("cat")));
    }

    // Unknown video: a failing exit and a message naming the id.
    std::fs::write(&res, r#"[{"video_id": 123456, "category_id": 1, "score": 0.5, "segmentations": [null]}]"#)
        .expect("write");
    let o = Command::new(env!("CARGO_BIN_EXE_ifa"))
        .args(["eval", "--gt"])
        .arg(&gt)
        .arg("--results")
        .arg(&res)
        .output()
        .expect("run ifa");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("123456"));
}

#[test]
fn cli_bootstrap_compares_two_results_files_with_the_same_draws() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gt_path = dir.path().join("gt.json");
    let perfect = dir.path().join("perfect.json");
    let partial = dir.path().join("partial.json");
    let out = dir.path().join("out.json");
    let gt_v = gt_json();
    std::fs::write(&gt_path, gt_v.to_string()).expect("write");
    let gt = GroundTruth::from_json(&gt_v).expect("gt");
    let all = gt.as_results();
    std::fs::write(&perfect, serde_json::to_string(&all).expect("json")).expect("write");
    let some: Vec<_> = all.iter().filter(|r| r.video_id == 7).cloned().collect();
    std::fs::write(&partial, serde_json::to_string(&some).expect("json")).expect("write");
    let run = |extra: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_ifa"))
            .args(["eval", "--gt"])
            .arg(&gt_path)
            .arg("--results")
            .arg(&perfect)
            .args(extra)
            .output()
            .expect("run ifa")
    };
    let (p, o) = (partial.to_str().expect("utf-8"), out.to_str().expect("utf-8"));
    let done = run(&["--compare", p, "--bootstrap", "300", "--json", o]);
    assert!(done.status.success(), "stderr: {}", String::from_utf8_lossy(&done.stderr));
    let stdout = String::from_utf8_lossy(&done.stdout);
    assert!(stdout.contains("300 resamples of the 2 videos, 95% percentile intervals"), "{stdout}");
    let doc: Value = serde_json::from_str(&std::fs::read_to_string(&out).expect("out")).expect("out json");
    let b = &doc["bootstrap"];
    assert_eq!((b["samples"].as_u64(), b["ap"]["point"].as_f64()), (Some(300), Some(1.0)));
    let d = &b["other"]["difference"];
    assert!(d["point"].as_f64().is_some_and(|x| x > 0.0) && d["low"].as_f64().is_some_and(|x| x >= 0.0), "{d}");
    // Comparing alone resamples 1000 times; zero resamples is refused.
    assert!(String::from_utf8_lossy(&run(&["--compare", p]).stdout).contains("1000 resamples"));
    let refused = run(&["--bootstrap", "0"]);
    assert!(!refused.status.success());
}

#[test]
fn cli_pools_several_sets_into_one_evaluation() {
    // Two copies of the two-video set (their video ids collide): perfect results on the first,
    // results for video 7 only on the second. Pooled, that is four videos of which three are
    // found: the same numbers as one file holding all four.
    let dir = tempfile::tempdir().expect("tempdir");
    let gt_v = gt_json();
    let gt = GroundTruth::from_json(&gt_v).expect("gt");
    let all = gt.as_results();
    let some: Vec<_> = all.iter().filter(|r| r.video_id == 7).cloned().collect();
    let write = |name: &str, v: String| {
        let p = dir.path().join(name);
        std::fs::write(&p, v).expect("write");
        p
    };
    let gt_path = write("gt.json", gt_v.to_string());
    let (perfect, partial) = (
        write("perfect.json", serde_json::to_string(&all).expect("json")),
        write("partial.json", serde_json::to_string(&some).expect("json")),
    );
    let mut merged = gt_v.clone();
    let mut extra = gt_v.clone();
    for v in extra["videos"].as_array_mut().expect("videos") {
        v["id"] = json!(v["id"].as_i64().expect("id") + 100);
    }
    for a in extra["annotations"].as_array_mut().expect("annotations") {
        a["id"] = json!(a["id"].as_i64().expect("id") + 100);
        a["video_id"] = json!(a["video_id"].as_i64().expect("id") + 100);
    }
    for key in ["videos", "annotations"] {
        let more = extra[key].as_array().expect("list").clone();
        merged[key].as_array_mut().expect("list").extend(more);
    }
    let mut both = all.clone();
    both.extend(some.iter().cloned().map(|mut r| {
        r.video_id += 100;
        r
    }));
    let merged_gt = write("merged_gt.json", merged.to_string());
    let merged_res = write("merged_res.json", serde_json::to_string(&both).expect("json"));
    let eval = |args: &[&Path]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ifa"));
        c.arg("eval");
        for (flag, p) in ["--gt", "--results"].iter().cycle().zip(args) {
            c.arg(flag).arg(p);
        }
        c.output().expect("run ifa")
    };
    let pooled = eval(&[&gt_path, &perfect, &gt_path, &partial]);
    assert!(pooled.status.success(), "stderr: {}", String::from_utf8_lossy(&pooled.stderr));
    assert!(String::from_utf8_lossy(&pooled.stderr).contains("pooled 2 sets: 4 videos, 8 ground-truth tracks"));
    let one = eval(&[&merged_gt, &merged_res]);
    assert_eq!(String::from_utf8_lossy(&pooled.stdout), String::from_utf8_lossy(&one.stdout));
    assert!(!String::from_utf8_lossy(&one.stdout).starts_with("AP     1.0000"));
    // A --results short is refused with the counts named.
    let short = eval(&[&gt_path, &perfect, &gt_path]);
    assert!(!short.status.success());
    assert!(String::from_utf8_lossy(&short.stderr).contains("got 2 --gt, 1 --results, 0 --compare"));
}
