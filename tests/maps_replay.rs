//! `ifa run --save-maps` / `--replay-maps` end to end on the small random-weight model: a replay
//! gives the recorded run's results to the byte, takes other post-processing, and refuses a
//! recording that does not fit the run (other references, another video, a cut file) without
//! writing results.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn tiny() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/runtime_fixtures/tiny.onnx")
}

fn ifa_run(video: &Path, extra: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ifa"))
        .arg("run")
        .arg(video)
        .args(["--model".as_ref(), tiny().as_os_str(), "--device".as_ref(), "cpu".as_ref()])
        .args(extra)
        .output()
        .expect("ifa binary")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

#[test]
fn a_replay_gives_the_recorded_results_and_refuses_what_does_not_fit() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let video = common::small_clip(d, "clip.mp4", 12);
    let maps = d.join("clip.maps");
    let (json_a, csv_a, json_b, csv_b) = (d.join("a.json"), d.join("a.csv"), d.join("b.json"), d.join("b.csv"));
    let rec = ifa_run(
        &video,
        &[
            "--save-maps".as_ref(),
            maps.as_os_str(),
            "--json".as_ref(),
            json_a.as_os_str(),
            "--csv".as_ref(),
            csv_a.as_os_str(),
        ],
    );
    assert!(rec.status.success(), "{}", stderr(&rec));
    assert!(maps.is_file());

    let rep = ifa_run(
        &video,
        &[
            "--replay-maps".as_ref(),
            maps.as_os_str(),
            "--json".as_ref(),
            json_b.as_os_str(),
            "--csv".as_ref(),
            csv_b.as_os_str(),
        ],
    );
    let err = stderr(&rep);
    assert!(rep.status.success(), "{err}");
    assert!(err.contains("replayed") && err.contains("the network does not run"), "{err}");
    assert_eq!(std::fs::read(&json_a).unwrap(), std::fs::read(&json_b).unwrap());
    assert_eq!(std::fs::read(&csv_a).unwrap(), std::fs::read(&csv_b).unwrap());

    // Other post-processing on the same maps is what replays are for.
    let json_c = d.join("c.json");
    let post = ifa_run(
        &video,
        &[
            "--replay-maps".as_ref(),
            maps.as_os_str(),
            "--post".as_ref(),
            r#"{"min_track_frames": 1}"#.as_ref(),
            "--json".as_ref(),
            json_c.as_os_str(),
        ],
    );
    assert!(post.status.success(), "{}", stderr(&post));

    // A replay with another association gives what a live run with it gives: sweeps over
    // replays measure what the network would.
    let (live, replayed) = (d.join("center-live.json"), d.join("center-replayed.json"));
    let center = ["--association".as_ref(), "center".as_ref(), "--post".as_ref(), r#"{"max_hidden": 2}"#.as_ref()];
    let o = ifa_run(&video, &[&center[..], &["--json".as_ref(), live.as_os_str()]].concat());
    assert!(o.status.success(), "{}", stderr(&o));
    let o = ifa_run(
        &video,
        &[&center[..], &["--replay-maps".as_ref(), maps.as_os_str(), "--json".as_ref(), replayed.as_os_str()]].concat(),
    );
    assert!(o.status.success(), "{}", stderr(&o));
    assert_eq!(std::fs::read(&live).unwrap(), std::fs::read(&replayed).unwrap());

    // What does not fit fails and writes nothing.
    let out = d.join("never.json");
    let refused = |video: &Path, maps: &Path, extra: &[&OsStr], says: &str| {
        let mut args: Vec<&OsStr> =
            vec!["--replay-maps".as_ref(), maps.as_os_str(), "--json".as_ref(), out.as_os_str()];
        args.extend_from_slice(extra);
        let o = ifa_run(video, &args);
        let err = stderr(&o);
        assert!(!o.status.success(), "{err}");
        assert!(err.contains(says) && !err.contains("panicked"), "wanted `{says}` in: {err}");
        assert!(!out.exists());
    };
    refused(&video, &maps, &["--refs".as_ref(), "1".as_ref()], "do not fit this run");
    let short = common::small_clip(d, "short.mp4", 6);
    refused(&short, &maps, &[], "more than the 6 frames run");
    let long = common::small_clip(d, "long.mp4", 14);
    refused(&long, &maps, &[], "end before frame 12");
    let bytes = std::fs::read(&maps).unwrap();
    let cut = d.join("cut.maps");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    refused(&video, &cut, &[], "the recording stopped early");
    refused(&video, &json_a, &[], "is not a head-maps file");

    // Recording and replaying at once makes no sense; a recording never replaces its input.
    let both = ifa_run(&video, &["--save-maps".as_ref(), cut.as_os_str(), "--replay-maps".as_ref(), maps.as_os_str()]);
    assert!(!both.status.success());
    let onto_video = ifa_run(&video, &["--save-maps".as_ref(), video.as_os_str()]);
    assert!(!onto_video.status.success(), "{}", stderr(&onto_video));
    assert_eq!(std::fs::read(&cut).unwrap().len(), bytes.len() / 2);
}
