//! `ifa synth` end to end through the binary.

use std::process::Command;

#[test]
fn cli_writes_the_youtube_vis_layout() {
    let tmp = tempfile::tempdir().expect("tempdir");
    let out = tmp.path().join("set");
    let status = Command::new(env!("CARGO_BIN_EXE_ifa"))
        .args(["synth", "--out"])
        .arg(&out)
        .args([
            "--preset", "easy", "--videos", "2", "--seed", "3", "--frames", "5", "--size", "64x48", "--fps", "10", "-q",
        ])
        .status()
        .expect("run ifa");
    assert!(status.success());
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("instances.json")).expect("json")).expect("parse");
    let videos = json["videos"].as_array().expect("videos");
    assert_eq!(videos.len(), 2);
    for v in videos {
        assert_eq!(v["length"], 5);
        assert_eq!((v["width"].as_u64(), v["height"].as_u64()), (Some(64), Some(48)));
        let first = v["file_names"][0].as_str().expect("name");
        assert!(out.join("JPEGImages").join(first).is_file());
        let stem = first.split('/').next().expect("folder");
        assert!(out.join("videos").join(format!("{stem}.mp4")).is_file());
    }

    let bad = Command::new(env!("CARGO_BIN_EXE_ifa"))
        .args(["synth", "--out"])
        .arg(tmp.path().join("bad"))
        .args(["--preset", "medium"])
        .output()
        .expect("run ifa");
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).contains("preset"));

    // Encoder settings out of range are refused before anything is written.
    for (flag, value) in [("--crf", "100"), ("--jpeg-quality", "0"), ("--fps", "0")] {
        let dir = tmp.path().join(format!("bad{}", flag.trim_start_matches('-')));
        let out = Command::new(env!("CARGO_BIN_EXE_ifa"))
            .args(["synth", "--out"])
            .arg(&dir)
            .args([flag, value])
            .output()
            .expect("run ifa");
        assert!(!out.status.success(), "{flag} {value} accepted");
        assert!(String::from_utf8_lossy(&out.stderr).contains(flag), "{flag}");
        assert!(!dir.exists(), "{flag}: nothing written");
    }
}
