//! `ifa eval --breakdown` end to end on `ifa synth` ground truth, and (where the project's
//! Python environment has pycocotools) against `scripts/ap_breakdown.py` on the same files.

use std::path::{Path, PathBuf};
use std::process::Command;

use ifa::eval::breakdown::{Breakdown, OracleClass, oracle_results};
use ifa::eval::{GroundTruth, ResultTrack, evaluate, load_results};
use ifa::rle::Rle;
use serde_json::Value;

fn ifa() -> Command {
    Command::new(env!("CARGO_BIN_EXE_ifa"))
}

/// `ifa eval` on two files; returns stdout and, with `json`, the written document.
fn eval(gt: &Path, results: &Path, extra: &[&str], json: Option<&Path>) -> (String, Option<Value>) {
    let mut cmd = ifa();
    cmd.args(["eval", "--gt"]).arg(gt).arg("--results").arg(results).args(extra);
    if let Some(j) = json {
        cmd.arg("--json").arg(j);
    }
    let o = cmd.output().expect("run ifa eval");
    assert!(o.status.success(), "ifa eval failed: {}", String::from_utf8_lossy(&o.stderr));
    let doc = json.map(|j| serde_json::from_str(&std::fs::read_to_string(j).expect("read json")).expect("json"));
    (String::from_utf8(o.stdout).expect("utf-8"), doc)
}

fn write_results(path: &Path, results: &[ResultTrack]) {
    std::fs::write(path, serde_json::to_string(results).expect("serialise")).expect("write results");
}

/// The mask moved `dx` pixels right (what leaves the frame is lost).
fn shifted(m: &Rle, dx: usize) -> Rle {
    let (h, w) = (m.height() as usize, m.width() as usize);
    let src = m.to_mask();
    let mut out = vec![0u8; h * w];
    for y in 0..h {
        for x in dx..w {
            out[y * w + x] = src[y * w + x - dx];
        }
    }
    Rle::from_mask(m.height(), m.width(), &out).expect("mask")
}

/// Ground truth as results, every track cut in two at its middle present frame: the first part
/// keeps the class (score 0.9), the second gets `second_class(track index)` (score 0.6).
fn split(gt: &GroundTruth, mut second_class: impl FnMut(usize, i64) -> i64) -> Vec<ResultTrack> {
    let mut out = Vec::new();
    for (i, t) in gt.as_results().into_iter().enumerate() {
        let present: Vec<usize> = (0..t.segmentations.len()).filter(|&f| t.segmentations[f].is_some()).collect();
        let cut = present[present.len() / 2];
        let mut first = ResultTrack { score: 0.9, ..t.clone() };
        let mut second = ResultTrack { score: 0.6, category_id: second_class(i, t.category_id), ..t };
        first.segmentations[cut..].fill(None);
        second.segmentations[..cut].fill(None);
        out.extend([first, second]);
    }
    out
}

fn synth(dir: &Path) -> PathBuf {
    let out = dir.join("set");
    let status = ifa()
        .args(["synth", "--out"])
        .arg(&out)
        .args(["--preset", "easy", "--videos", "2", "--frames", "10", "--size", "160x96", "--seed", "11"])
        .args(["--no-mp4", "-q"])
        .status()
        .expect("run ifa synth");
    assert!(status.success());
    out.join("instances.json")
}

#[test]
fn breakdown_on_synth_ground_truth() {
    let dir = tempfile::tempdir().expect("tempdir");
    let gt_path = synth(dir.path());
    let gt = GroundTruth::load(&gt_path).expect("ground truth");
    assert!(gt.num_tracks() >= 2, "the set needs tracks");

    // Split tracks with their classes: perfect masks, two tracks and one switch per ground-truth
    // track (those seen in one frame only stay whole), and the oracle undoes the split.
    let res_path = dir.path().join("split.json");
    let results: Vec<ResultTrack> =
        split(&gt, |_, c| c).into_iter().filter(|t| t.segmentations.iter().any(Option::is_some)).collect();
    write_results(&res_path, &results);
    let out = dir.path().join("out.json");
    let (plain_stdout, plain_doc) = eval(&gt_path, &res_path, &[], Some(&out));
    let (stdout, doc) = eval(&gt_path, &res_path, &["--breakdown"], Some(&out));
    let (plain_doc, doc) = (plain_doc.expect("json"), doc.expect("json"));
    assert!(stdout.starts_with(&plain_stdout), "the normal summary comes first, unchanged");
    assert!(plain_doc.get("breakdown").is_none());
    assert_eq!(doc["stats"], plain_doc["stats"]);
    for s in ["per-frame masks", "small (< 1,000 px)", "perfect tracking", "identity switches"] {
        assert!(stdout.contains(s), "{s} missing from:\n{stdout}");
    }
    let b = &doc["breakdown"];
    let perfect = evaluate(&gt, &gt.as_results()).expect("evaluate").stats;
    assert_eq!(b["frames"]["all"]["mean_best_iou"], 1.0);
    assert_eq!(b["frames"]["all"]["recall_75"], 1.0);
    assert_eq!(b["oracle_tracks"]["metrics"]["AP"], perfect[0]);
    assert_eq!(b["oracle_tracks_and_class"]["metrics"]["AP"], perfect[0]);
    assert!(doc["stats"][0].as_f64().expect("AP") < perfect[0] - 0.1, "splitting costs AP");
    let n = gt.num_tracks();
    let tr = &b["tracking"];
    assert_eq!(tr["gt_tracks"], n);
    assert_eq!(tr["predicted_tracks"], results.len());
    assert_eq!(tr["predicted_tracks_unmatched"], 0);
    assert_eq!(tr["tracks_per_gt"].as_f64(), Some(results.len() as f64 / n as f64));
    assert_eq!(tr["id_switches"], results.len() - n);
    // Each switch goes to the second half, whose first mask is there, after a matched frame.
    assert_eq!(tr["switches"]["to_new_track"], results.len() - n);
    assert_eq!(tr["switches"]["after_unmatched_frames"], 0);
    // The CLI writes what the library computes.
    let lib = Breakdown::compute(&gt, &load_results(&res_path).expect("results")).expect("breakdown");
    assert_eq!(b, &serde_json::to_value(&lib).expect("json"));

    // Wrong classes on odd tracks, masks moved 1 px in the second halves, a stray track, a duplicate.
    let mut messy = split(&gt, |i, c| if i % 2 == 1 { c % 5 + 1 } else { c });
    for t in messy.iter_mut().skip(1).step_by(2) {
        for m in t.segmentations.iter_mut().flatten() {
            *m = shifted(m, 1);
        }
    }
    let mut stray = messy[0].clone();
    stray.score = 0.95;
    for m in stray.segmentations.iter_mut().flatten() {
        *m = shifted(m, 40);
    }
    messy.push(stray);
    // A duplicate of the first track: it loses every frame to the earlier claims.
    messy.push(ResultTrack { score: 0.3, ..gt.as_results()[0].clone() });
    // A second class for the third track, as `class_hypotheses` writes it: one track to the breakdown.
    let third = messy[2].clone();
    messy.push(ResultTrack { category_id: third.category_id % 5 + 1, score: third.score * 0.5, ..third });
    let messy_path = dir.path().join("messy.json");
    write_results(&messy_path, &messy);
    let (_, doc) = eval(&gt_path, &messy_path, &["--breakdown"], Some(&out));
    let b = doc.expect("json")["breakdown"].clone();
    let mean = b["frames"]["all"]["mean_best_iou"].as_f64().expect("mean");
    assert!(mean > 0.3 && mean < 1.0, "mean best IoU {mean}");
    assert_eq!(b["tracking"]["predicted_tracks"], messy.len() - 1);
    let voted = b["oracle_tracks"]["metrics"]["AP"].as_f64().expect("AP");
    let classed = b["oracle_tracks_and_class"]["metrics"]["AP"].as_f64().expect("AP");
    assert!(classed >= voted, "true classes cannot lose to voted ones: {classed} vs {voted}");

    python_parity(dir.path(), &gt_path, &messy_path, &b);
}

/// `.venv/bin/python` if it exists and imports pycocotools.
fn python() -> Option<PathBuf> {
    let py = Path::new(env!("CARGO_MANIFEST_DIR")).join(".venv/bin/python");
    let ok = py.is_file()
        && Command::new(&py).args(["-c", "import numpy, pycocotools"]).output().is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

/// The numbers after `key` in `line` (`key 0.123,` → 0.123).
fn number_after(line: &str, key: &str) -> f64 {
    let rest = &line[line.find(key).unwrap_or_else(|| panic!("{key} not in {line}")) + key.len()..];
    let token: String = rest.trim_start().chars().take_while(|c| c.is_ascii_digit() || *c == '.').collect();
    token.parse().unwrap_or_else(|_| panic!("no number after {key} in {line}"))
}

fn close(ours: &Value, printed: f64, what: &str) {
    let ours = ours.as_f64().unwrap_or_else(|| panic!("{what} missing"));
    assert!((ours - printed).abs() <= 0.0005 + 1e-9, "{what}: ours {ours}, script {printed}");
}

fn python_parity(dir: &Path, gt_path: &Path, res_path: &Path, b: &Value) {
    let Some(py) = python() else {
        eprintln!("skipping the scripts/ap_breakdown.py comparison: no .venv/bin/python with pycocotools");
        return;
    };
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/ap_breakdown.py");
    let o = Command::new(&py).arg(&script).arg("frames").arg(gt_path).arg(res_path).output().expect("run script");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let text = String::from_utf8(o.stdout).expect("utf-8");
    let mut lines = text.lines();
    let head = lines.next().expect("summary line");
    let all = &b["frames"]["all"];
    assert_eq!(number_after(head, "instance-frames") as u64, all["count"].as_u64().expect("count"));
    close(&all["mean_best_iou"], number_after(head, "mean best IoU"), "mean best IoU");
    close(&all["recall_50"], number_after(head, ">= 0.5"), "recall 0.5");
    close(&all["recall_75"], number_after(head, ">= 0.75"), "recall 0.75");
    for key in ["missed", "merged", "partial"] {
        close(&all[key], number_after(head, key), key);
    }
    // The script prints only bins with instance-frames, in order.
    let bins: Vec<&Value> =
        b["frames"]["by_size"].as_array().expect("bins").iter().filter(|s| s["count"].as_u64() > Some(0)).collect();
    let (class_rows, rows): (Vec<&str>, Vec<&str>) = lines.partition(|l| l.trim_start().starts_with("class "));
    assert_eq!(rows.len(), bins.len(), "script:\n{text}");
    let classes: Vec<&Value> =
        b["frames"]["by_class"].as_array().expect("classes").iter().filter(|c| c["count"].as_u64() > Some(0)).collect();
    assert!(!classes.is_empty());
    assert_eq!(class_rows.len(), classes.len(), "script:\n{text}");
    for (row, c) in class_rows.iter().zip(classes) {
        assert_eq!(number_after(row, "class") as i64, c["category_id"].as_i64().expect("id"), "{row}");
        assert_eq!(number_after(row, ":") as u64, c["count"].as_u64().expect("count"), "{row}");
        close(&c["mean_best_iou"], number_after(row, "mean best IoU"), row);
        close(&c["recall_50"], number_after(row, ">= 0.5"), row);
    }
    for (row, bin) in rows.iter().zip(bins) {
        assert_eq!(number_after(row, "px:") as u64, bin["count"].as_u64().expect("count"), "{row}");
        assert_eq!(number_after(row, "[") as u64, bin["min_area"].as_u64().expect("min"), "{row}");
        close(&bin["mean_best_iou"], number_after(row, "mean best IoU"), row);
        close(&bin["recall_50"], number_after(row, ">= 0.5"), row);
        for key in ["missed", "merged", "partial"] {
            close(&bin[key], number_after(row, key), row);
        }
    }

    // The oracle edits: the script's file scored by `ifa eval` gives exactly our numbers.
    let gt = GroundTruth::load(gt_path).expect("gt");
    let results = load_results(res_path).expect("results");
    for (mode, key, class) in
        [("track", "oracle_tracks", OracleClass::Vote), ("class", "oracle_tracks_and_class", OracleClass::GroundTruth)]
    {
        let edited = dir.join(format!("oracle_{mode}.json"));
        let o = Command::new(&py)
            .arg(&script)
            .arg("oracle")
            .arg(gt_path)
            .arg(res_path)
            .arg(mode)
            .arg(&edited)
            .output()
            .expect("run script");
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let (_, doc) = eval(gt_path, &edited, &[], Some(&dir.join("oracle_eval.json")));
        assert_eq!(doc.expect("json")["metrics"], b[key]["metrics"], "{mode} oracle AP");
        let theirs = load_results(&edited).expect("script's results");
        let ours = oracle_results(&gt, &results, class).expect("oracle");
        assert_eq!(ours, theirs, "{mode} oracle edit differs from the script's");
    }
}
