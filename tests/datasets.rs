//! Whole data sets: a frame folder is a video, `ifa batch` over a synthetic YouTube-VIS set
//! equals the per-video runs merged, shards merge to the single run, an interrupted run resumes,
//! and broken videos are reported while the rest is written. All with the tiny test model.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use ifa::decode::VideoReader;

fn ifa(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ifa")).args(args).output().expect("run ifa")
}

fn ok(args: &[&str]) -> String {
    let out = ifa(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(out.status.success(), "ifa {args:?} failed:\n{err}");
    err
}

fn s(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn model() -> PathBuf {
    common::root().join("tests/runtime_fixtures/tiny.onnx")
}

/// `ifa batch` with the tiny model on the CPU plus `extra`.
fn batch(root: &Path, out: &Path, extra: &[&str]) -> Output {
    let m = model();
    let mut args = vec!["batch", s(root), "--out", s(out), "--model", s(&m), "--device", "cpu"];
    args.extend_from_slice(extra);
    ifa(&args)
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// Three 8-frame videos of the easy preset, JPEG frames only.
fn synth_set(dir: &Path) -> PathBuf {
    let ds = dir.join("ds");
    let args = ["synth", "--preset", "easy", "--videos", "3", "--frames", "8", "--size", "160x96", "--no-mp4", "-q"];
    ok(&[&args[..], &["--out", s(&ds)]].concat());
    ds
}

/// The frame folders of a synthetic set, by video id (ids are 1, 2, 3 in folder order).
fn video_folders(ds: &Path) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(ds.join("JPEGImages")).unwrap().map(|e| e.unwrap().path()).collect();
    v.sort();
    v
}

/// A results file's entries, sorted by their JSON text (the order-free comparison).
fn sorted_entries(path: &Path) -> Vec<String> {
    let v: Vec<serde_json::Value> = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    let mut e: Vec<String> = v.iter().map(|x| x.to_string()).collect();
    e.sort();
    e
}

#[test]
fn a_frame_folder_and_a_lossless_mp4_of_it_are_the_same_video() {
    let dir = tempfile::tempdir().unwrap();
    let ds = synth_set(dir.path());
    // PNG copies of one video's frames: both readers then decode exactly the same pixels.
    let folder = dir.path().join("frames");
    std::fs::create_dir(&folder).unwrap();
    let jpegs = video_folders(&ds)[0].clone();
    let mut names: Vec<PathBuf> = std::fs::read_dir(&jpegs).unwrap().map(|e| e.unwrap().path()).collect();
    names.sort();
    for (i, p) in names.iter().enumerate() {
        image::open(p).unwrap().to_rgb8().save(folder.join(format!("{i:05}.png"))).unwrap();
    }
    let mp4 = dir.path().join("lossless.mp4");
    let pattern = folder.join("%05d.png");
    common::ffmpeg(&[
        "-framerate",
        "25",
        "-i",
        s(&pattern),
        "-c:v",
        "libx264rgb",
        "-qp",
        "0",
        "-pix_fmt",
        "rgb24",
        s(&mp4),
    ]);

    let mut a = VideoReader::open(&folder).unwrap();
    let mut b = VideoReader::open(&mp4).unwrap();
    assert_eq!(a.frame_count(), 8);
    assert_eq!(a.frame_count(), b.frame_count());
    assert_eq!(a.info().frame_rate, (25, 1));
    assert_eq!((a.info().width, a.info().height), (b.info().width, b.info().height));
    for n in [5, 0, 7, 3, 3, 6, 1] {
        let (fa, fb) = (a.read_frame(n).unwrap(), b.read_frame(n).unwrap());
        assert_eq!((fa.index, fb.index), (n, n));
        assert!(fa.image.data == fb.image.data, "frame {n} differs between the folder and the MP4");
        assert!((fa.pts_seconds - fb.pts_seconds).abs() < 1e-6, "frame {n}: {} vs {}", fa.pts_seconds, fb.pts_seconds);
        let png = image::open(folder.join(format!("{n:05}.png"))).unwrap().to_rgb8();
        assert!(fa.image.data == png.into_raw(), "frame {n} is not file {n}");
    }

    let m = model();
    let (ra, rb) = (dir.path().join("a.json"), dir.path().join("b.json"));
    for (video, out) in [(&folder, &ra), (&mp4, &rb)] {
        ok(&["run", s(video), "--json", s(out), "--model", s(&m), "--device", "cpu"]);
    }
    assert!(std::fs::read(&ra).unwrap() == std::fs::read(&rb).unwrap(), "results differ");

    let probe = ok(&["probe", s(&jpegs), "--fps", "6"]);
    let text = String::from_utf8_lossy(&ifa(&["probe", s(&jpegs), "--fps", "6"]).stdout).into_owned();
    assert!(text.contains("frames:      8") && text.contains("nominal 6/1"), "{probe}{text}");
    let empty = dir.path().join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = stderr(&ifa(&["probe", s(&empty)]));
    assert!(e.contains("empty") && e.contains("holds no frames"), "{e}");
    image::RgbImage::new(8, 8).save(folder.join("00002b.png")).unwrap();
    let e = stderr(&ifa(&["probe", s(&folder)]));
    assert!(e.contains("00002b.png is 8x8") && e.contains("every frame"), "{e}");
}

#[test]
fn a_dataset_run_equals_the_per_video_runs_and_the_shards_merged() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = synth_set(d);
    let single = d.join("single");
    let o = batch(&ds, &single, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    let results = single.join("results.json");

    // `ifa run` per video, concatenated in id order: the same bytes.
    let m = model();
    let mut merged: Vec<serde_json::Value> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    for (i, folder) in video_folders(&ds).iter().enumerate() {
        let out = d.join(format!("run{}.json", i + 1));
        let id = (i + 1).to_string();
        ok(&["run", s(folder), "--video-id", &id, "--json", s(&out), "--model", s(&m), "--device", "cpu"]);
        let text = std::fs::read_to_string(&out).unwrap();
        merged.extend(serde_json::from_str::<Vec<serde_json::Value>>(&text).unwrap());
        let inner = text.trim().strip_prefix('[').unwrap().strip_suffix(']').unwrap().to_owned();
        if !inner.is_empty() {
            texts.push(inner);
        }
    }
    assert!(!merged.is_empty(), "the tiny model found nothing: the comparison would be empty");
    let by_hand = d.join("by_hand.json");
    std::fs::write(&by_hand, format!("{}\n", serde_json::to_string(&merged).unwrap())).unwrap();
    assert!(sorted_entries(&results) == sorted_entries(&by_hand), "the entries differ");
    let joined = format!("[{}]\n", texts.join(","));
    assert!(std::fs::read_to_string(&results).unwrap() == joined, "results.json is not the per-video files joined");
    let zip = std::fs::read(single.join("results.zip")).unwrap();
    assert_eq!(&zip[..4], b"PK\x03\x04");
    assert_eq!(&zip[30..42], b"results.json");

    // Two shards in two folders (two machines), merged: the single run's file.
    let (s1, s2) = (d.join("shard1"), d.join("shard2"));
    for (spec, out) in [("1/2", &s1), ("2/2", &s2)] {
        let o = batch(&ds, out, &["--shard", spec]);
        assert!(o.status.success(), "{}", stderr(&o));
        assert!(!out.join("results.json").exists(), "a shard writes no results.json");
    }
    let merged_dir = d.join("merged");
    ok(&["merge", s(&s1), s(&s2), "--out", s(&merged_dir)]);
    assert!(
        std::fs::read(merged_dir.join("results.json")).unwrap() == std::fs::read(&results).unwrap(),
        "files differ"
    );
    assert!(std::fs::read(merged_dir.join("results.zip")).unwrap() == zip, "files differ");
    // Missing and overlapping shards are refused.
    let e = stderr(&ifa(&["merge", s(&s1), "--out", s(&d.join("m1"))]));
    assert!(e.contains("2/2") && e.contains("missing"), "{e}");
    let copy = d.join("shard1copy");
    std::fs::create_dir_all(copy.join("videos")).unwrap();
    for f in ["shard-1-of-2.json", "videos/1.json", "videos/3.json"] {
        std::fs::copy(s1.join(f), copy.join(f)).unwrap();
    }
    let e = stderr(&ifa(&["merge", s(&s1), s(&s2), s(&copy), "--out", s(&d.join("m2"))]));
    assert!(e.contains("twice") && e.contains("overlap"), "{e}");

    // Two videos at once: the same file.
    let jobs = d.join("jobs");
    let o = batch(&ds, &jobs, &["--jobs", "2"]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(std::fs::read(jobs.join("results.json")).unwrap() == std::fs::read(&results).unwrap(), "files differ");

    // --eval scores straight away against the synthetic ground truth.
    let o = batch(&ds, &single, &["--eval"]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success() && text.contains("AP50"), "{}{text}", stderr(&o));
}

#[test]
fn an_interrupted_run_resumes_and_broken_videos_do_not_sink_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let ds = synth_set(d);
    let full = d.join("full");
    assert!(batch(&ds, &full, &[]).status.success());
    let reference = std::fs::read(full.join("results.json")).unwrap();

    // A run stopped after its first video: that video's file is all it left.
    let resumed = d.join("resumed");
    std::fs::create_dir_all(resumed.join("videos")).unwrap();
    std::fs::copy(full.join("batch.json"), resumed.join("batch.json")).unwrap();
    std::fs::copy(full.join("videos/1.json"), resumed.join("videos/1.json")).unwrap();
    let before = std::fs::metadata(resumed.join("videos/1.json")).unwrap().modified().unwrap();
    let o = batch(&ds, &resumed, &[]);
    assert!(o.status.success(), "{}", stderr(&o));
    assert!(stderr(&o).contains("1 already done") && stderr(&o).contains("2 to run"), "{}", stderr(&o));
    assert_eq!(
        std::fs::metadata(resumed.join("videos/1.json")).unwrap().modified().unwrap(),
        before,
        "video 1 was redone"
    );
    assert!(std::fs::read(resumed.join("results.json")).unwrap() == reference, "files differ");

    // A work folder of another model is not mixed in.
    let other = d.join("other.onnx");
    std::fs::copy(model(), &other).unwrap();
    let e = stderr(&ifa(&["batch", s(&ds), "--out", s(&resumed), "--model", s(&other), "--device", "cpu"]));
    assert!(e.contains("another run"), "{e}");

    // Video 2 misses a frame, video 3 has a broken one: both are named, video 1 is written.
    let folders = video_folders(&ds);
    let missing = folders[1].join("00004.jpg");
    let cut = folders[2].join("00006.jpg");
    let (kept_missing, kept_cut) = (std::fs::read(&missing).unwrap(), std::fs::read(&cut).unwrap());
    std::fs::remove_file(&missing).unwrap();
    std::fs::write(&cut, b"this is not a picture").unwrap();
    let broken = d.join("broken");
    let o = batch(&ds, &broken, &[]);
    let e = stderr(&o);
    assert!(!o.status.success(), "a failed video must fail the run:\n{e}");
    assert!(e.contains("video 2 failed") && e.contains("00004.jpg"), "{e}");
    assert!(e.contains("video 3 failed") && e.contains("00006.jpg"), "{e}");
    assert!(e.contains("2 of 3 videos failed"), "{e}");
    let good = std::fs::read(full.join("videos/1.json")).unwrap();
    assert!(std::fs::read(broken.join("results.json")).unwrap() == good, "the results of the good video");
    // Repaired, the same command redoes only the failed videos and ends with the full file.
    std::fs::write(&missing, kept_missing).unwrap();
    std::fs::write(&cut, kept_cut).unwrap();
    let o = batch(&ds, &broken, &[]);
    assert!(o.status.success() && stderr(&o).contains("1 already done"), "{}", stderr(&o));
    assert!(std::fs::read(broken.join("results.json")).unwrap() == reference, "files differ");
}
