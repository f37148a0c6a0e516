//! Tracks that hold, through `ifa run` with each shipped model on clips of the shapes world made
//! for the purpose: an instance fully hidden behind another for a second keeps its track id when
//! it comes back, and two identical clones on crossing paths keep theirs. Both rest on the
//! assembly's occlusion rules (`ifa.post` `exchange_ratio`, docs/method.md): the disc comes
//! back as a sliver far from its motion prediction and is re-linked as coming out from behind
//! the square; the stars are seen as one blob for about 10 frames, which the merge rule
//! (`merge_ratio`) gives to the star in front, and take their own pieces back by their motion
//! from before.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::Path;
use std::process::Command;

use ifa::eval::load_results;
use ifa::export::encode::{EncodeOptions, VideoWriter};
use ifa::synth::{Fill, Pose, Scene, Shape, Track};

const W: u32 = 640;
const H: u32 = 360;
const FPS: i32 = 25;

fn pose(x: f32, y: f32, radius: f32, depth: u32) -> Option<Pose> {
    Some(Pose { center: [x, y], radius, angle: 0.0, depth })
}

/// Renders the scene to `path` (H.264, as users' videos are) and returns each frame's label map.
fn render(scene: &Scene, path: &Path) -> Vec<Vec<u8>> {
    let opts = EncodeOptions { frame_rate: (FPS, 1), crf: 18, threads: 2, ..EncodeOptions::default() };
    let mut wr = VideoWriter::create(path, W, H, &opts).expect("encoder");
    let mut labels = Vec::new();
    for t in 0..scene.len() {
        let f = scene.render(t);
        wr.write_frame(&f.image, None).expect("frame");
        labels.push(f.labels);
    }
    wr.finish().expect("finish");
    labels
}

/// `ifa run` with a shipped model (`None`: the default, as a user runs it; else a bundled
/// model's name); per predicted track, its per-frame masks (row-major).
fn ifa_run(video: &Path, json: &Path, model: Option<&str>) -> Vec<Vec<Option<Vec<u8>>>> {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ifa"));
    cmd.arg("run").arg(video).args(["--device", "cpu", "--json"]).arg(json);
    if let Some(m) = model {
        cmd.args(["--model", m]);
    }
    let out = cmd.output().expect("ifa runs");
    assert!(out.status.success(), "ifa run: {}", String::from_utf8_lossy(&out.stderr));
    load_results(json)
        .expect("results")
        .into_iter()
        .map(|r| r.segmentations.into_iter().map(|s| s.map(|m| m.to_mask())).collect())
        .collect()
}

/// For ground-truth label `k`: per frame where at least `min_px` of it is visible, the predicted
/// track whose mask overlaps it with IoU >= 0.5 (None if no track does).
fn matched_tracks(
    labels: &[Vec<u8>],
    k: u8,
    tracks: &[Vec<Option<Vec<u8>>>],
    min_px: usize,
) -> Vec<(usize, Option<usize>)> {
    let mut out = Vec::new();
    for (t, lab) in labels.iter().enumerate() {
        let gt: Vec<bool> = lab.iter().map(|&l| l == k).collect();
        let area = gt.iter().filter(|&&g| g).count();
        if area < min_px {
            continue;
        }
        let mut best = (0.0, None);
        for (id, tr) in tracks.iter().enumerate() {
            let Some(Some(m)) = tr.get(t) else { continue };
            let inter = m.iter().zip(&gt).filter(|&(&p, &g)| p != 0 && g).count();
            let union = area + m.iter().filter(|&&p| p != 0).count() - inter;
            let iou = inter as f64 / union.max(1) as f64;
            if iou > best.0 {
                best = (iou, Some(id));
            }
        }
        out.push((t, if best.0 >= 0.5 { best.1 } else { None }));
    }
    out
}

/// The distinct tracks matched over the frames, and the share of frames matched at all.
fn summary(m: &[(usize, Option<usize>)]) -> (Vec<usize>, f64) {
    let mut ids: Vec<usize> = m.iter().filter_map(|x| x.1).collect();
    let found = ids.len() as f64 / m.len().max(1) as f64;
    ids.sort_unstable();
    ids.dedup();
    (ids, found)
}

/// The other shipped model (`--model ifa-shapes-fast`), which must keep tracks too.
const FAST: Option<&str> = Some("ifa-shapes-fast");

#[test]
fn an_instance_hidden_for_a_second_keeps_its_track() {
    hidden_for_a_second(None);
}

#[test]
fn an_instance_hidden_for_a_second_keeps_its_track_with_the_fast_model() {
    hidden_for_a_second(FAST);
}

#[test]
fn crossing_clones_keep_both_tracks() {
    crossing_clones(None);
}

#[test]
fn crossing_clones_keep_both_tracks_with_the_fast_model() {
    crossing_clones(FAST);
}

fn hidden_for_a_second(model: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    // A large square stands still in the middle; a disc crosses behind it at 3.5 px per frame
    // and is fully hidden for about 27 frames (over a second at 25 fps).
    let n = 110;
    let square = Track {
        shape: Shape::square(),
        fill: Fill::solid([40.0, 90.0, 200.0]),
        poses: (0..n).map(|_| pose(320.0, 180.0, 110.0, 2)).collect(),
        clone_group: None,
    };
    let disc = Track {
        shape: Shape::disc(),
        fill: Fill::solid([230.0, 180.0, 40.0]),
        poses: (0..n).map(|t| pose(130.0 + 3.5 * t as f32, 180.0, 30.0, 1)).collect(),
        clone_group: None,
    };
    let scene = Scene::still(W, H, n, [150.0, 150.0, 150.0], vec![square, disc]).unwrap();
    let video = dir.path().join("hide.mp4");
    let labels = render(&scene, &video);
    let hidden = labels.iter().filter(|l| !l.contains(&2)).count();
    assert!(hidden >= 25, "the disc must be hidden for a second, is for {hidden} frames");

    let tracks = ifa_run(&video, &dir.path().join("hide.json"), model);
    let disc_m = matched_tracks(&labels, 2, &tracks, 400);
    let (ids, found) = summary(&disc_m);
    assert!(found >= 0.8, "the disc is found in {:.0}% of its visible frames: {disc_m:?}", found * 100.0);
    assert_eq!(ids.len(), 1, "the disc keeps one track through the hiding: {disc_m:?}");
    let (sq_ids, sq_found) = summary(&matched_tracks(&labels, 1, &tracks, 400));
    assert!(sq_found >= 0.8 && sq_ids.len() == 1, "the square: {sq_ids:?} in {sq_found}");
}

fn crossing_clones(model: Option<&str>) {
    let dir = tempfile::tempdir().unwrap();
    // Two identical stars on crossing paths at 5 px per frame; they overlap in the middle
    // (the left one passes in front). Only motion tells them apart.
    let n = 90;
    let star = Shape::star(0.5);
    let fill = Fill::solid([200.0, 40.0, 60.0]);
    let mk = |x0: f32, dx: f32, y0: f32, dy: f32, depth: u32| Track {
        shape: star.clone(),
        fill: fill.clone(),
        poses: (0..n).map(|t| pose(x0 + dx * t as f32, y0 + dy * t as f32, 45.0, depth)).collect(),
        clone_group: Some(1),
    };
    let scene = Scene::still(
        W,
        H,
        n,
        [90.0, 160.0, 110.0],
        vec![mk(100.0, 5.0, 150.0, 0.5, 2), mk(540.0, -5.0, 210.0, -0.5, 1)],
    )
    .unwrap();
    let video = dir.path().join("cross.mp4");
    let labels = render(&scene, &video);
    let tracks = ifa_run(&video, &dir.path().join("cross.json"), model);
    let a = summary(&matched_tracks(&labels, 1, &tracks, 1500));
    let b = summary(&matched_tracks(&labels, 2, &tracks, 1500));
    assert!(a.1 >= 0.8 && b.1 >= 0.8, "both stars are found in most frames: {a:?} {b:?}");
    assert_eq!(a.0.len(), 1, "the first star keeps one track: {a:?}");
    assert_eq!(b.0.len(), 1, "the second star keeps one track: {b:?}");
    assert_ne!(a.0, b.0, "and the two tracks differ");
}
