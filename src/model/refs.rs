//! Which earlier frames are a frame's references (`ifa.refs`), and which frames the memory
//! must therefore keep.

use super::params::RefsPolicy;

/// A reference count the model's policy cannot give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{asked} references asked, but the model's `ifa.refs.count` allows 1 to {count}")]
pub struct RefsLimitError {
    pub asked: usize,
    pub count: usize,
}

/// The policy with at most `n` references (the `--refs` ablation; the graph takes any L up
/// to the model's count, so no other model is needed). Step and the first-frame rule are kept,
/// except that one reference alone is the most recent frame: the method's "one reference"
/// setting, and the only choice that still follows objects once they have moved.
pub fn limit_policy(p: &RefsPolicy, n: usize) -> Result<RefsPolicy, RefsLimitError> {
    if n == 0 || n > p.count {
        return Err(RefsLimitError { asked: n, count: p.count });
    }
    Ok(match n {
        1 => RefsPolicy { count: 1, first_frame: false, step: p.step },
        _ => RefsPolicy { count: n, ..*p },
    })
}

/// How many references may be recent frames (the first frame takes one slot when it is used).
fn recent_slots(p: &RefsPolicy) -> usize {
    if p.first_frame { p.count.saturating_sub(1) } else { p.count }
}

/// References of frame `t`: the most recent processed frames `t - step, t - 2·step, …`, then the
/// video's first frame (when the policy uses it), distinct, up to `count` in all, most recent
/// first and the first frame last. Empty for frame 0.
pub fn reference_frames(t: usize, p: &RefsPolicy) -> Vec<usize> {
    let mut out = Vec::with_capacity(p.count);
    if t == 0 {
        return out;
    }
    let recent = recent_slots(p);
    let mut k = 1;
    while out.len() < recent && k * p.step <= t {
        let f = t - k * p.step;
        if !(p.first_frame && f == 0) {
            out.push(f);
        }
        k += 1;
    }
    if p.first_frame && out.len() < p.count {
        out.push(0);
    }
    out
}

/// How far back the recent references of a frame reach: frame 0 is one of the recent
/// references of frame `t` exactly when `t <= recent_reach(p)`; later, it is a reference only
/// as the first frame.
pub fn recent_reach(p: &RefsPolicy) -> usize {
    recent_slots(p) * p.step
}

/// After frame `t`, no later frame needs a recent reference older than this (the first frame
/// aside, which the policy may keep for the whole video).
pub fn retain_from(t: usize, p: &RefsPolicy) -> usize {
    (t + 1).saturating_sub(recent_slots(p) * p.step)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_follow_the_contract() {
        let p = RefsPolicy { count: 4, first_frame: true, step: 1 };
        assert!(reference_frames(0, &p).is_empty());
        assert_eq!(reference_frames(1, &p), vec![0]);
        assert_eq!(reference_frames(2, &p), vec![1, 0]);
        assert_eq!(reference_frames(10, &p), vec![9, 8, 7, 0]);
        let p = RefsPolicy { count: 3, first_frame: true, step: 2 };
        assert_eq!(reference_frames(3, &p), vec![1, 0]);
        assert_eq!(reference_frames(4, &p), vec![2, 0]);
        assert_eq!(reference_frames(9, &p), vec![7, 5, 0]);
        let p = RefsPolicy { count: 2, first_frame: false, step: 1 };
        assert_eq!(reference_frames(1, &p), vec![0]);
        assert_eq!(reference_frames(5, &p), vec![4, 3]);
        // Frame 0 is a recent reference up to t = 3 under (4, first, 1): [2, 1, 0] at t = 3.
        let p4 = RefsPolicy { count: 4, first_frame: true, step: 1 };
        assert_eq!(recent_reach(&p4), 3);
        assert_eq!(reference_frames(3, &p4), vec![2, 1, 0]);
        assert_eq!(reference_frames(4, &p4), vec![3, 2, 1, 0]);
        let p = RefsPolicy { count: 1, first_frame: true, step: 1 };
        assert_eq!(reference_frames(7, &p), vec![0]);
    }

    #[test]
    fn a_limit_keeps_the_policy_and_one_reference_is_the_latest_frame() {
        let model = RefsPolicy { count: 4, first_frame: true, step: 1 };
        assert_eq!(limit_policy(&model, 4), Ok(model));
        let two = limit_policy(&model, 2).expect("2 <= 4");
        assert_eq!(reference_frames(10, &two), vec![9, 0]);
        assert_eq!(reference_frames(1, &two), vec![0]);
        let one = limit_policy(&model, 1).expect("1 <= 4");
        assert_eq!(one, RefsPolicy { count: 1, first_frame: false, step: 1 });
        assert_eq!(reference_frames(10, &one), vec![9]);
        assert_eq!(reference_frames(1, &one), vec![0]);
        let stepped = RefsPolicy { count: 3, first_frame: false, step: 2 };
        assert_eq!(reference_frames(9, &limit_policy(&stepped, 1).expect("1")), vec![7]);
        assert_eq!(limit_policy(&model, 0), Err(RefsLimitError { asked: 0, count: 4 }));
        let e = limit_policy(&model, 5).expect_err("more than the model");
        assert_eq!(e.to_string(), "5 references asked, but the model's `ifa.refs.count` allows 1 to 4");
    }

    #[test]
    fn retention_covers_every_future_reference() {
        for p in [
            RefsPolicy { count: 1, first_frame: false, step: 1 },
            RefsPolicy { count: 1, first_frame: false, step: 3 },
            RefsPolicy { count: 4, first_frame: true, step: 1 },
            RefsPolicy { count: 3, first_frame: true, step: 3 },
            RefsPolicy { count: 2, first_frame: false, step: 2 },
        ] {
            for t in 0..30 {
                let keep = retain_from(t, &p);
                for later in t + 1..t + 20 {
                    for r in reference_frames(later, &p) {
                        assert!(r > t || r >= keep || (p.first_frame && r == 0), "{p:?} t{t} later{later} r{r}");
                    }
                }
            }
        }
    }
}
