//! Planned videos stay within the ranges of docs/shapes-world.md: sizes, speeds, size changes,
//! rotation, presets; identities survive full occlusion; an instance that leaves never comes back.

mod synth_util;

use ifa::synth::{Preset, SynthConfig, plan_video};
use synth_util::Mask;

fn config(preset: Preset, seed: u64, w: u32, h: u32, frames: usize) -> SynthConfig {
    let mut cfg = SynthConfig::new(preset, 1, seed);
    cfg.width = w;
    cfg.height = h;
    cfg.frames = Some(frames);
    cfg
}

#[test]
fn poses_stay_within_the_spec_ranges() {
    for preset in Preset::ALL {
        let p = preset.params();
        for index in 0..12 {
            let cfg = config(preset, 3, 320, 180, 40);
            let scene = plan_video(&cfg, index);
            let (short, long) = (180.0f32, 320.0f32);
            let n = scene.tracks().len();
            assert!((p.instances.0..=p.instances.1).contains(&n), "{preset}: {n} instances");
            for tr in scene.tracks() {
                let mut prev: Option<ifa::synth::Pose> = None;
                for pose in tr.poses.iter() {
                    let Some(q) = pose else {
                        prev = None;
                        continue;
                    };
                    let frac = q.radius / short;
                    assert!((0.03..=0.25).contains(&frac), "{preset}: radius {frac} of the short side");
                    if let Some(a) = prev {
                        let growth = (q.radius / a.radius - 1.0).abs();
                        assert!(growth <= 0.02, "{preset}: size change {growth}");
                        let turn = (q.angle - a.angle).abs().to_degrees();
                        assert!(turn <= p.max_spin_deg + 1e-3 && turn <= 12.0, "{preset}: rotation {turn}");
                        let inside = |c: [f32; 2]| c[0] >= 0.0 && c[1] >= 0.0 && c[0] <= long && c[1] <= short;
                        if inside(a.center) && inside(q.center) {
                            let d = ((q.center[0] - a.center[0]).powi(2) + (q.center[1] - a.center[1]).powi(2)).sqrt();
                            assert!(d <= p.max_speed * long + 0.05, "{preset}: speed {d} px/frame");
                        }
                    }
                    prev = Some(*q);
                }
            }
            if preset == Preset::Easy {
                assert!(scene.tracks().iter().all(|t| t.clone_group.is_none()), "easy has no clones");
                let c0 = scene.camera().pose(0);
                assert!((0..40).all(|t| scene.camera().pose(t) == c0), "easy camera is still");
            }
        }
    }
}

#[test]
fn measured_masks_move_and_size_within_range() {
    // Independent of the planner's numbers: centroids and extents of fully visible masks.
    let (w, h) = (192usize, 108usize);
    let mut pairs = 0;
    for index in 0..4 {
        let cfg = config(Preset::Hard, 8, w as u32, h as u32, 16);
        let scene = plan_video(&cfg, index);
        let frames: Vec<_> = (0..scene.len()).map(|t| scene.render(t)).collect();
        for (k, tr) in scene.tracks().iter().enumerate() {
            let mut prev: Option<[f64; 2]> = None;
            for (t, f) in frames.iter().enumerate() {
                let m = Mask::from_labels(&f.labels, w, h, (k + 1) as u8);
                let full = tr.poses[t].is_some_and(|p| {
                    let expected = f64::from(tr.shape.area() * p.radius * p.radius);
                    m.area() as f64 > 0.97 * expected && p.radius > 4.0
                });
                if !full {
                    prev = None;
                    continue;
                }
                let half = m.half_extent() / h as f64;
                assert!((0.03 - 0.01..=0.25 + 0.01).contains(&half), "half extent {half} of the short side");
                let c = m.centroid().expect("visible");
                if let Some(p) = prev {
                    let d = ((c[0] - p[0]).powi(2) + (c[1] - p[1]).powi(2)).sqrt();
                    assert!(d <= 0.06 * w as f64 + 1.0, "moved {d} px in one frame");
                    pairs += 1;
                }
                prev = Some(c);
            }
        }
    }
    assert!(pairs > 20, "only {pairs} frame pairs measured");
}

#[test]
fn instances_that_leave_never_come_back() {
    let mut exits = 0;
    for preset in Preset::ALL {
        for index in 0..20 {
            let scene = plan_video(&config(preset, 5, 160, 96, 60), index);
            for tr in scene.tracks() {
                let first = tr.poses.iter().position(Option::is_some);
                let last = tr.poses.iter().rposition(Option::is_some);
                if let (Some(a), Some(b)) = (first, last) {
                    assert!(tr.poses[a..=b].iter().all(Option::is_some), "a track came back after leaving");
                    if b + 1 < tr.poses.len() {
                        exits += 1;
                        // It left: its last pose touches the frame border region.
                        let p = tr.poses[b].expect("present");
                        let reach = p.radius * tr.shape.bound() + 2.0 * 0.06 * 160.0;
                        let near_border = p.center[0] < reach
                            || p.center[1] < reach
                            || p.center[0] > 160.0 - reach
                            || p.center[1] > 96.0 - reach;
                        assert!(near_border, "left from the middle of the frame");
                    }
                }
            }
        }
    }
    assert!(exits > 5, "exits happen ({exits})");
}

#[test]
fn identity_is_kept_through_full_occlusion() {
    // Hard videos plan full hiding: find tracks that vanish while inside the frame and come
    // back; their masks after the gap must be where the same track is.
    let (w, h) = (160usize, 96usize);
    let mut gaps = 0;
    for index in 0..6 {
        let scene = plan_video(&config(Preset::Hard, 11, w as u32, h as u32, 40), index);
        let frames: Vec<_> = (0..scene.len()).map(|t| scene.render(t)).collect();
        for (k, tr) in scene.tracks().iter().enumerate() {
            let label = (k + 1) as u8;
            let visible: Vec<bool> = frames.iter().map(|f| f.labels.contains(&label)).collect();
            let Some(first) = visible.iter().position(|&v| v) else { continue };
            let last = visible.iter().rposition(|&v| v).unwrap_or(first);
            let hidden: Vec<usize> = (first..last).filter(|&t| !visible[t]).collect();
            if hidden.is_empty() {
                continue;
            }
            for &t in &hidden {
                assert!(tr.poses[t].is_some(), "a track is only ever hidden, not gone, inside its life");
            }
            gaps += 1;
            let back = hidden[hidden.len() - 1] + 1;
            let m = Mask::from_labels(&frames[back].labels, w, h, label);
            let c = m.centroid().expect("visible again");
            let p = tr.poses[back].expect("present");
            let reach = f64::from(p.radius * tr.shape.bound()) + 1.0;
            let d = ((c[0] - f64::from(p.center[0])).powi(2) + (c[1] - f64::from(p.center[1])).powi(2)).sqrt();
            assert!(d <= reach, "reappears where the same instance is");
        }
    }
    assert!(gaps >= 3, "hard videos hide and show instances again ({gaps})");
}

#[test]
fn hard_videos_have_crossing_clones() {
    let mut with_clones = 0;
    for index in 0..10 {
        let scene = plan_video(&config(Preset::Hard, 2, 160, 96, 30), index);
        let groups: std::collections::BTreeSet<u32> = scene.tracks().iter().filter_map(|t| t.clone_group).collect();
        for g in &groups {
            let members: Vec<_> = scene.tracks().iter().filter(|t| t.clone_group == Some(*g)).collect();
            assert!(members.len() >= 2);
            assert!(members.iter().all(|m| m.fill == members[0].fill && m.shape == members[0].shape));
        }
        with_clones += usize::from(!groups.is_empty());
    }
    assert!(with_clones >= 5, "most hard videos have clones ({with_clones}/10)");
}
