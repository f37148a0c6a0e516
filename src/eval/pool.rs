//! Several (ground truth, results) pairs scored as one data set: `ifa eval` given more than one
//! `--gt`. A decision over several validation sets should rest on all their videos at once (one
//! AP, one bootstrap interval), and the official evaluator only knows one ground-truth file.
//!
//! Each set's videos get new ids 1, 2, … in order (set by set, each set's videos by ascending
//! id), its annotations new ids in file order, and its results follow their videos. The sets must
//! list the same categories. A result whose video is not in its own set's ground truth is an
//! error, as it is for one set.

use std::collections::BTreeMap;

use super::error::EvalError;
use super::load::{GroundTruth, ResultTrack, Video};

/// One set: its ground truth and one or more results files on it (e.g. results and the results
/// to compare with), the same number for every set.
pub struct PoolSet {
    pub gt: GroundTruth,
    pub results: Vec<Vec<ResultTrack>>,
}

/// The pooled ground truth and, per results slot, the pooled results.
pub fn pool(sets: Vec<PoolSet>) -> Result<(GroundTruth, Vec<Vec<ResultTrack>>), EvalError> {
    let slots = sets.first().map_or(0, |s| s.results.len());
    let mut videos = BTreeMap::new();
    let mut tracks = Vec::new();
    let mut results: Vec<Vec<ResultTrack>> = vec![Vec::new(); slots];
    let mut categories = None;
    for (k, set) in sets.into_iter().enumerate() {
        let in_set = |inner: EvalError| EvalError::InSet { set: k + 1, inner: Box::new(inner) };
        match &categories {
            None => categories = Some(set.gt.categories.clone()),
            Some(c) if *c != set.gt.categories => {
                return Err(in_set(EvalError::BadGroundTruth(
                    "its categories differ from the first set's; pooled sets must share one category list".to_owned(),
                )));
            }
            Some(_) => {}
        }
        if set.results.len() != slots {
            return Err(in_set(EvalError::BadResults(format!(
                "{} results files where the first set has {slots}",
                set.results.len()
            ))));
        }
        let base = videos.len() as i64;
        let new_id: BTreeMap<i64, i64> =
            set.gt.videos.keys().enumerate().map(|(i, &id)| (id, base + 1 + i as i64)).collect();
        for v in set.gt.videos.values() {
            let id = new_id[&v.id];
            videos.insert(id, Video { id, ..v.clone() });
        }
        for mut t in set.gt.tracks {
            // An annotation of a video the file does not list keeps no video: give it an id no
            // pooled video has, so that it is left out as it would be in its own set.
            t.video_id = new_id.get(&t.video_id).copied().unwrap_or(-1 - tracks.len() as i64);
            t.id = tracks.len() as i64 + 1;
            tracks.push(t);
        }
        for (slot, list) in set.results.into_iter().enumerate() {
            for (index, mut r) in list.into_iter().enumerate() {
                r.video_id = *new_id
                    .get(&r.video_id)
                    .ok_or_else(|| in_set(EvalError::UnknownVideo { index, video_id: r.video_id }))?;
                results[slot].push(r);
            }
        }
    }
    let categories = categories.unwrap_or_default();
    Ok((GroundTruth { videos, categories, tracks }, results))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::eval::{evaluate, results_from_json_str};

    /// A set of `n` one-frame videos (ids 10, 20, …), each with one 2x2 instance of category 1.
    fn set(n: usize, cats: &str) -> GroundTruth {
        let videos: Vec<String> =
            (1..=n).map(|i| format!(r#"{{"id": {}, "height": 2, "width": 2, "length": 1}}"#, i * 10)).collect();
        let anns: Vec<String> = (1..=n)
            .map(|i| {
                format!(
                    r#"{{"id": {i}, "video_id": {}, "category_id": 1, "iscrowd": 0, "areas": [4],
                        "segmentations": [{{"size": [2, 2], "counts": [0, 4]}}]}}"#,
                    i * 10
                )
            })
            .collect();
        GroundTruth::from_json_str(&format!(
            r#"{{"videos": [{}], "categories": {cats}, "annotations": [{}]}}"#,
            videos.join(","),
            anns.join(",")
        ))
        .expect("ground truth")
    }

    const CATS: &str = r#"[{"id": 1, "name": "disc"}]"#;

    /// Results that find the instance of the first `hit` videos (ids 10, 20, …) and put a wrong
    /// mask on the others.
    fn results(n: usize, hit: usize) -> Vec<ResultTrack> {
        let e: Vec<String> = (1..=n)
            .map(|i| {
                let counts = if i <= hit { "04" } else { "31" }; // all four pixels / the last one only
                format!(r#"{{"video_id": {}, "category_id": 1, "score": 0.9, "segmentations": [{{"size": [2, 2], "counts": "{counts}"}}]}}"#, i * 10)
            })
            .collect();
        results_from_json_str(&format!("[{}]", e.join(","))).expect("results")
    }

    #[test]
    fn pooled_sets_score_as_one_set_of_all_their_videos() {
        // Two sets whose video ids collide (10, 20, …): pooled, 3 + 2 videos of which 3 are found.
        let (gt, res) = pool(vec![
            PoolSet { gt: set(3, CATS), results: vec![results(3, 2)] },
            PoolSet { gt: set(2, CATS), results: vec![results(2, 1)] },
        ])
        .expect("pool");
        assert_eq!(gt.videos().map(|v| v.id).collect::<Vec<_>>(), vec![1, 2, 3, 4, 5]);
        assert_eq!(gt.num_tracks(), 5);
        // The same as one set of five videos with the same hits.
        let one = evaluate(&set(5, CATS), &{
            let mut r = results(5, 3);
            r[2].segmentations = results(1, 0)[0].segmentations.clone(); // video 3 missed
            r[3].segmentations = results(1, 1)[0].segmentations.clone(); // video 4 found
            r
        })
        .expect("one set");
        let pooled = evaluate(&gt, &res[0]).expect("pooled");
        assert_eq!(pooled.stats, one.stats);
    }

    #[test]
    fn sets_must_share_categories_and_results_must_name_their_own_videos() {
        let other = r#"[{"id": 1, "name": "disc"}, {"id": 2, "name": "square"}]"#;
        let err = pool(vec![
            PoolSet { gt: set(1, CATS), results: vec![results(1, 1)] },
            PoolSet { gt: set(1, other), results: vec![results(1, 1)] },
        ])
        .expect_err("categories differ");
        assert!(err.to_string().starts_with("set 2: ") && err.to_string().contains("categories"), "{err}");
        let err = pool(vec![
            PoolSet { gt: set(1, CATS), results: vec![results(1, 1)] },
            PoolSet { gt: set(1, CATS), results: vec![results(2, 1)] },
        ])
        .expect_err("video 20 is not in the second set");
        assert!(err.to_string().contains("set 2: results entry 1 refers to video id 20"), "{err}");
    }
}
