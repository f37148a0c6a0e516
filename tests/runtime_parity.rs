//! Parity of the Rust post-processing and assembly with the Python reference
//! (training/ifa_train/postprocess.py) on 54 generated clips of raw network outputs (4 of
//! them with maps at stride 2, 4 of neighbours that only the consistency ordering tells apart, 4 of a small
//! instance whose center only its cells' votes give, 4 of crossing instances seen as one blob that only the
//! merge rule gives to the one in front, 4 of an instance of another class appearing where a track went
//! unseen, which the keep-alive with `relink_same_class` does not give that track, 4 where its flow
//! into an older reference points at that track, which `older_refs_same_class` does not give it, 4 of
//! two like neighbours whose flows point at each other, told apart by `flow_weight`).
//! Regenerate the fixtures with `.venv/bin/python tests/runtime_fixtures/make_parity.py`.

use std::path::Path;

use ifa::assemble::Assembler;
use ifa::assemble::tracker::Decision;
use ifa::model::HeadMaps;
use ifa::model::{PostParams, RefsPolicy};
use serde_json::Value;

fn fixtures() -> (Value, Vec<u8>) {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/runtime_fixtures");
    let meta: Value =
        serde_json::from_slice(&std::fs::read(dir.join("parity.json")).expect("parity.json")).expect("json");
    let blob = std::fs::read(dir.join("parity.bin")).expect("parity.bin");
    (meta, blob)
}

fn u(v: &Value) -> usize {
    v.as_u64().expect("unsigned") as usize
}

fn f(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

/// A run-length list `[value, count, ...]` of the fixtures, expanded.
fn unrle(runs: &Value, n: usize) -> Vec<u32> {
    let mut out = Vec::with_capacity(n);
    for pair in runs.as_array().expect("rle").chunks(2) {
        out.extend(std::iter::repeat_n(u(&pair[0]) as u32, u(&pair[1])));
    }
    out
}

fn decision_kind(d: &Decision) -> &'static str {
    match d {
        Decision::Matched { .. } => "matched",
        Decision::NewNoReference => "new_no_reference",
        Decision::NewNothingNear { .. } => "new_nothing_near",
        Decision::NewCandidatesTaken { .. } => "new_candidates_taken",
        Decision::Relinked { .. } => "relinked",
        Decision::Exchanged { .. } => "exchanged",
        Decision::Reemerged { .. } => "reemerged",
    }
}

/// What a decision names besides its kind: the deciding reference, the last sighting, the
/// other track of an exchange or the occluder.
fn check_decision_details(decision: &Decision, want: &Value, ctx: &str) {
    match *decision {
        Decision::Matched { ref_frame, .. } => {
            assert_eq!(ref_frame, u(&want["ref_frame"]), "{ctx}: deciding reference");
        }
        Decision::Relinked { via_ref, last_seen, .. } => {
            assert_eq!(via_ref, want["ref_frame"].as_u64().map(|r| r as usize), "{ctx}: re-link reference");
            assert_eq!(last_seen, u(&want["last_seen"]), "{ctx}: last sighting");
        }
        Decision::Exchanged { other, last_seen, .. } => {
            assert_eq!(other as usize, u(&want["other"]), "{ctx}: the other track of the exchange");
            assert_eq!(last_seen, u(&want["last_seen"]), "{ctx}: last sighting");
        }
        Decision::Reemerged { occluder, last_seen, .. } => {
            assert_eq!(occluder as usize, u(&want["other"]), "{ctx}: the occluder it came out from");
            assert_eq!(last_seen, u(&want["last_seen"]), "{ctx}: last sighting");
        }
        _ => {}
    }
}

#[test]
fn rust_assembly_matches_the_python_reference_on_54_clips() {
    let (meta, blob) = fixtures();
    let (h, w, k) = (u(&meta["h"]), u(&meta["w"]), u(&meta["classes"]));
    let n = h * w;
    let sem_scale = f(&meta["sem_scale"]) as f32;
    let off_scale = f(&meta["off_scale"]) as f32;
    let clips = meta["clips"].as_array().expect("clips");
    assert!(clips.len() >= 20);
    let (mut n_inst, mut n_matched, mut n_tracks, mut n_relinked, mut n_exchanged, mut n_emerged) = (0, 0, 0, 0, 0, 0);
    let (mut n_stride2, mut n_consistency, mut n_voted, mut n_merging) = (0, 0, 0, 0);
    let (mut n_one_class, mut n_older, mut n_blended) = (0, 0, 0);

    for (ci, clip) in clips.iter().enumerate() {
        let refs: RefsPolicy = serde_json::from_value(clip["refs"].clone()).expect("refs");
        let post: PostParams = serde_json::from_value(clip["post"].clone()).expect("post");
        let stride = clip.get("stride").map_or(4, u);
        n_stride2 += usize::from(stride == 2);
        n_consistency += usize::from(post.size_weight > 0.0 || post.class_penalty > 0.0);
        n_voted += usize::from(post.vote_distance > 0.0);
        n_merging += usize::from(post.merge_ratio > 0.0);
        n_one_class += usize::from(post.relink_same_class);
        n_older += usize::from(post.older_refs_same_class);
        n_blended += usize::from(post.flow_weight < 1.0);
        let mut asm = Assembler::new(post, refs, k);
        for (t, fr) in clip["frames"].as_array().expect("frames").iter().enumerate() {
            let ref_frames: Vec<usize> = fr["refs"].as_array().expect("refs").iter().map(u).collect();
            assert_eq!(
                ifa::model::refs::reference_frames(t, &refs),
                ref_frames,
                "clip {ci} frame {t}: reference choice"
            );
            let mut at = u(&fr["offset"]);
            let mut take = |len: usize| {
                let s = &blob[at..at + len];
                at += len;
                s
            };
            let i8s = |s: &[u8], scale: f32| s.iter().map(|&b| f32::from(b as i8) * scale).collect::<Vec<f32>>();
            let semantic = i8s(take((k + 1) * n), sem_scale);
            let center = take(n).iter().map(|&b| f32::from(b) / 255.0).collect();
            let offset = i8s(take(2 * n), off_scale);
            let inter_offset = i8s(take(2 * n * ref_frames.len()), off_scale);
            let maps =
                HeadMaps { h, w, stride, num_classes: k, semantic, center, offset, inter_offset, refs: ref_frames };
            let res = asm.step(t, &maps);

            let want = fr["instances"].as_array().expect("instances");
            let ctx = format!("clip {ci} frame {t}");
            assert_eq!(res.instances.len(), want.len(), "{ctx}: instance count");
            for (got, want) in res.instances.iter().zip(want) {
                let d = &got.detection;
                assert_eq!(got.track_id as usize, u(&want["track"]), "{ctx}: track id");
                assert_eq!(d.class_id as usize, u(&want["class"]), "{ctx}: class");
                assert_eq!(d.cells, u(&want["cells"]), "{ctx}: mask size");
                assert!(
                    (d.radius - f(&want["radius"])).abs() < 1e-9,
                    "{ctx}: radius {} vs {}",
                    d.radius,
                    want["radius"]
                );
                assert_eq!([d.center.cell.0, d.center.cell.1], [u(&want["cell"][0]), u(&want["cell"][1])], "{ctx}");
                assert!((d.score - f(&want["score"])).abs() < 1e-5, "{ctx}: score {} vs {}", d.score, want["score"]);
                for (fl, wf) in d.flows.iter().zip(want["flows"].as_array().expect("flows")) {
                    assert!((fl[0] - f(&wf[0])).abs() < 1e-5 && (fl[1] - f(&wf[1])).abs() < 1e-5, "{ctx}: flow");
                }
                assert_eq!(decision_kind(&got.decision), want["decision"].as_str().expect("kind"), "{ctx}: decision");
                check_decision_details(&got.decision, want, &ctx);
                match got.decision {
                    Decision::Matched { .. } => n_matched += 1,
                    Decision::Relinked { .. } => n_relinked += 1,
                    Decision::Exchanged { .. } => n_exchanged += 1,
                    Decision::Reemerged { .. } => n_emerged += 1,
                    _ => {}
                }
                assert_eq!(got.hidden_before, u(&want["hidden_before"]), "{ctx}: frames hidden before");
                n_inst += 1;
            }
            // The id map and the soft id map (halo and weights), cell by cell.
            for (key, got) in [("cells_rle", &res.cells), ("soft_rle", &res.soft_ids)] {
                assert_eq!(*got, unrle(&fr[key], n), "{ctx}: {key}");
            }
        }
        let want_tracks = clip["tracks"].as_array().expect("tracks");
        let got: Vec<_> = asm.tracker().tracks().collect();
        assert_eq!(got.len(), want_tracks.len(), "clip {ci}: track count");
        for (g, wt) in got.iter().zip(want_tracks) {
            assert_eq!(g.id as usize, u(&wt["id"]));
            assert_eq!(g.class_id() as usize, u(&wt["class"]), "clip {ci} track {}", g.id);
            assert!((g.score() - f(&wt["score"])).abs() < 1e-5, "clip {ci} track {}", g.id);
            assert_eq!((g.frames, g.first_frame, g.last_frame), (u(&wt["frames"]), u(&wt["first"]), u(&wt["last"])));
        }
        n_tracks += got.len();
    }
    // The fixtures exercise matching, new tracks and re-identification, not only one path.
    assert!(n_inst > 100 && n_matched > n_inst / 2 && n_tracks > 20, "{n_inst} {n_matched} {n_tracks}");
    assert!(n_relinked >= 5, "the fixtures exercise the keep-alive: {n_relinked} re-links");
    assert!(n_exchanged >= 4, "and the occlusion exchange: {n_exchanged} exchanged detections");
    let (e, s2, c, v, mg, oc) = (n_emerged, n_stride2, n_consistency, n_voted, n_merging, n_one_class);
    // ... the re-emergence from behind an occluder (instances), maps at stride 2, the
    // consistency ordering, the centers from votes, the merge rule, one-class re-links and the
    // flow weighed against the velocities (clips).
    assert!(
        e >= 2 && s2 >= 4 && c >= 4 && v >= 4 && mg >= 4 && oc >= 8 && n_older >= 4 && n_blended >= 4,
        "{e} re-emerged; clips {s2}, {c}, {v}, {mg}, {oc}, {n_older}, {n_blended}"
    );
}
