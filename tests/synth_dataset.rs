//! `write_dataset` writes a valid YouTube-VIS data set, and the same seed gives the same bytes.

use std::collections::BTreeMap;
use std::path::Path;

use ifa::rle::Rle;
use ifa::synth::{Dataset, Preset, SynthConfig, write_dataset};

fn small(preset: Preset, seed: u64) -> SynthConfig {
    let mut cfg = SynthConfig::new(preset, 3, seed);
    cfg.width = 96;
    cfg.height = 64;
    cfg.frames = Some(12);
    cfg
}

/// Every file under `dir`, relative path -> bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir") {
            let p = e.expect("entry").path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).expect("prefix").to_string_lossy().into_owned();
                out.insert(rel, std::fs::read(&p).expect("read"));
            }
        }
    }
    out
}

#[test]
fn same_seed_same_bytes_other_seed_other_bytes() {
    // As users run it: one `ifa synth` process per data set. (Two encodes of identical frames
    // inside one process have been seen to differ in the H.264 bitstream; see the closing note
    // of the synth issue. Between processes the bytes are identical.)
    let tmp = tempfile::tempdir().expect("tempdir");
    let synth = |seed: &str, out: &str| {
        let st = std::process::Command::new(env!("CARGO_BIN_EXE_ifa"))
            .args(["synth", "--preset", "hard", "--videos", "3", "--frames", "12", "--size", "96x64", "-q"])
            .args(["--seed", seed, "--out"])
            .arg(tmp.path().join(out))
            .status()
            .expect("run ifa synth");
        assert!(st.success());
        snapshot(&tmp.path().join(out))
    };
    let a = synth("42", "a");
    let b = synth("42", "b");
    assert_eq!(a.keys().collect::<Vec<_>>(), b.keys().collect::<Vec<_>>());
    for (k, v) in &a {
        assert!(v == &b[k], "{k} differs between two runs with the same seed");
    }
    assert!(a.keys().any(|k| k.ends_with(".mp4")));
    let c = synth("43", "c");
    assert_ne!(a["instances.json"], c["instances.json"]);
}

#[test]
fn instances_json_is_valid_youtube_vis() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = small(Preset::Standard, 7);
    cfg.frames = None;
    cfg.fps = 2; // 6 to 16 frames per video
    let summary = write_dataset(&cfg, tmp.path(), &|_, _| {}).expect("write");
    let text = std::fs::read_to_string(tmp.path().join("instances.json")).expect("json");
    let ds: Dataset = serde_json::from_str(&text).expect("parse");
    assert_eq!(summary.videos, 3);
    assert_eq!(summary.annotations, ds.annotations.len());

    let names: Vec<(u32, &str)> = ds.categories.iter().map(|c| (c.id, c.name.as_str())).collect();
    assert_eq!(names, [(1, "disc"), (2, "square"), (3, "triangle"), (4, "star"), (5, "ring"), (6, "cross")]);
    for v in &ds.videos {
        assert_eq!((v.width, v.height), (96, 64));
        assert!((6..=16).contains(&v.length), "3 to 8 s at 2 fps: {}", v.length);
        assert_eq!(v.file_names.len(), v.length);
        for f in &v.file_names {
            let img = image::open(tmp.path().join("JPEGImages").join(f)).expect("frame decodes");
            assert_eq!((img.width(), img.height()), (96, 64));
        }
        let stem = v.file_names[0].split('/').next().expect("folder");
        assert!(tmp.path().join("videos").join(format!("{stem}.mp4")).is_file());
    }
    let mut ids = std::collections::HashSet::new();
    let raw: serde_json::Value = serde_json::from_str(&text).expect("value");
    for (a, ra) in ds.annotations.iter().zip(raw["annotations"].as_array().expect("list")) {
        assert!(a.id >= 1 && ids.insert(a.id), "ids are unique and >= 1");
        assert_eq!(a.iscrowd, 0);
        assert!((1..=6).contains(&a.category_id));
        let video = ds.videos.iter().find(|v| v.id == a.video_id).expect("video exists");
        assert_eq!(a.segmentations.len(), video.length);
        assert_eq!(a.areas.len(), video.length);
        assert_eq!(a.bboxes.len(), video.length);
        assert!(a.segmentations.iter().any(Option::is_some), "every track is visible somewhere");
        for (t, seg) in a.segmentations.iter().enumerate() {
            match seg {
                None => {
                    assert!(a.areas[t].is_none() && a.bboxes[t].is_none());
                    assert!(ra["segmentations"][t].is_null());
                }
                Some(rle) => {
                    assert_eq!(rle.size(), (64, 96));
                    assert!(rle.area() > 0, "a present frame has visible pixels");
                    assert_eq!(a.areas[t], Some(rle.area()));
                    let b = rle.bbox().expect("non-empty");
                    assert_eq!(a.bboxes[t], Some(b.map(f64::from)));
                    // Compressed string form, as pycocotools writes it.
                    let counts = &ra["segmentations"][t]["counts"];
                    let s = counts.as_str().expect("compressed RLE string");
                    assert_eq!(&Rle::from_compressed_string(64, 96, s).expect("decodes"), rle);
                }
            }
        }
    }
}

#[test]
fn masks_in_one_frame_do_not_overlap() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = small(Preset::Hard, 3);
    cfg.mp4 = false;
    write_dataset(&cfg, tmp.path(), &|_, _| {}).expect("write");
    let ds: Dataset = serde_json::from_str(&std::fs::read_to_string(tmp.path().join("instances.json")).expect("json"))
        .expect("parse");
    assert!(!tmp.path().join("videos").exists());
    for v in &ds.videos {
        for t in 0..v.length {
            let mut owner = vec![0u8; 96 * 64];
            for a in ds.annotations.iter().filter(|a| a.video_id == v.id) {
                if let Some(rle) = &a.segmentations[t] {
                    for (i, &m) in rle.to_mask().iter().enumerate() {
                        if m != 0 {
                            assert_eq!(owner[i], 0, "a pixel belongs to one instance only");
                            owner[i] = 1;
                        }
                    }
                }
            }
        }
    }
}

#[test]
fn bad_settings_are_rejected() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let mut cfg = small(Preset::Easy, 1);
    cfg.width = 95;
    assert!(write_dataset(&cfg, tmp.path(), &|_, _| {}).is_err());
    let mut cfg = small(Preset::Easy, 1);
    cfg.frames = Some(0);
    assert!(write_dataset(&cfg, tmp.path(), &|_, _| {}).is_err());
}

#[test]
fn ground_truth_as_results_scores_ap_one_for_every_preset() {
    let tmp = tempfile::tempdir().expect("tempdir");
    for preset in Preset::ALL {
        let mut cfg = small(preset, 11);
        cfg.width = 160;
        cfg.height = 96;
        cfg.mp4 = false;
        let dir = tmp.path().join(preset.name());
        let summary = write_dataset(&cfg, &dir, &|_, _| {}).expect("render");
        let gt = ifa::eval::GroundTruth::load(&summary.instances_json).expect("GT loads");
        let ev = ifa::eval::evaluate(&gt, &gt.as_results()).expect("evaluates");
        // AP, AP50, AP75 and AR100; tp / (tp + fp + eps) leaves 1 ulp below 1 when a category
        // holds a single track, exactly as in the official evaluator.
        for i in [0, 1, 2, 8] {
            assert!((ev.stats[i] - 1.0).abs() < 1e-12, "{}: stat {i} = {}", preset.name(), ev.stats[i]);
        }
    }
}
