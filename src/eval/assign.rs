//! The per-frame assignment behind `ifa eval --breakdown` (rules in `docs/evaluation.md`
//! section 10): every predicted mask of a frame against that frame's ground-truth instances,
//! best IoU first; the identity switches along each ground-truth track, sorted by kind; and the
//! perfect-tracking ("oracle") results built from that assignment.

use std::collections::{BTreeMap, HashMap, HashSet};

use super::breakdown::{Lost, MATCH_IOU, OracleClass, SwitchKinds};
use super::load::{GroundTruth, ResultTrack};
use super::params::numpy_mean;
use crate::rle::Rle;

/// A ground-truth track that took predicted masks, keyed like the script by (video, annotation id).
pub(super) struct Merged<'a> {
    pub(super) gt_category: i64,
    pub(super) segmentations: Vec<Option<&'a Rle>>,
    /// (result index, frame) of every mask that claimed a frame, for vote, score and order.
    pub(super) contributions: Vec<(usize, usize)>,
}

/// What one pass over every (video, frame) gathers.
#[derive(Default)]
pub(super) struct Pass<'a> {
    /// (ground-truth track index, frame, best IoU, area, why it was lost when the best IoU is
    /// under 0.5) per present ground-truth instance-frame.
    pub(super) best: Vec<(usize, usize, f64, u64, Option<Lost>)>,
    /// In no particular order; sorted by first contribution when the results are built.
    pub(super) merged: HashMap<(i64, i64), Merged<'a>>,
    /// Result index → its frames that matched nothing.
    pub(super) leftovers: BTreeMap<usize, Vec<Option<&'a Rle>>>,
    /// (ground-truth track index, result index) pairs that matched in some frame.
    pub(super) pairs: HashSet<(usize, usize)>,
    pub(super) result_matched: Vec<bool>,
    pub(super) id_switches: usize,
    pub(super) switch_kinds: SwitchKinds,
}

/// Bounding boxes `[x0, y0, x1, y1)` overlap.
fn boxes_overlap(a: [u32; 4], b: [u32; 4]) -> bool {
    a[0] < b[0] + b[2] && b[0] < a[0] + a[2] && a[1] < b[1] + b[3] && b[1] < a[1] + a[3]
}

/// IoU of two masks with a bounding-box shortcut (as pycocotools); 0 for different sizes.
fn mask_iou(a: &Rle, abox: Option<[u32; 4]>, b: &Rle, bbox: Option<[u32; 4]>) -> f64 {
    match (abox, bbox) {
        (Some(x), Some(y)) if boxes_overlap(x, y) => a.iou(b).unwrap_or(0.0),
        _ => 0.0,
    }
}

pub(super) fn run_pass<'a>(gt: &'a GroundTruth, results: &'a [ResultTrack]) -> Pass<'a> {
    let mut gts_of: BTreeMap<i64, Vec<usize>> = gt.videos.keys().map(|&v| (v, Vec::new())).collect();
    for (i, t) in gt.tracks.iter().enumerate() {
        if let Some(list) = gts_of.get_mut(&t.video_id) {
            list.push(i);
        }
    }
    let mut res_of: HashMap<i64, Vec<usize>> = HashMap::new();
    for (i, r) in results.iter().enumerate() {
        res_of.entry(r.video_id).or_default().push(i);
    }
    let mut pass = Pass { result_matched: vec![false; results.len()], ..Pass::default() };
    let mut ids = Identities::new(gt.tracks.len());
    for (&video, g_idx) in &gts_of {
        let r_idx = res_of.get(&video).map(Vec::as_slice).unwrap_or_default();
        // The official files' `length`; the loaders do not keep it and every track has it.
        let length = g_idx
            .iter()
            .map(|&g| gt.tracks[g].frames.len())
            .chain(r_idx.iter().map(|&r| results[r].segmentations.len()))
            .max()
            .unwrap_or(0);
        for f in 0..length {
            let gs: Vec<(usize, &Rle, Option<[u32; 4]>)> =
                g_idx.iter().filter_map(|&g| gt.tracks[g].frames.get(f)?.as_ref().map(|m| (g, m, m.bbox()))).collect();
            let ps: Vec<(usize, &Rle, Option<[u32; 4]>)> = r_idx
                .iter()
                .filter_map(|&r| results[r].segmentations.get(f)?.as_ref().map(|m| (r, m, m.bbox())))
                .collect();
            let ious: Vec<f64> = ps.iter().flat_map(|p| gs.iter().map(move |g| mask_iou(p.1, p.2, g.1, g.2))).collect();
            let iou = |p: usize, g: usize| ious[p * gs.len() + g];
            for (j, &(g, m, _)) in gs.iter().enumerate() {
                let best = (0..ps.len()).map(|p| iou(p, j)).fold(0.0, f64::max);
                let lost = (best < MATCH_IOU).then(|| why_lost(m, gs[j].2, &ps));
                pass.best.push((g, f, best, m.area(), lost));
            }
            // Each predicted mask goes to the ground truth it overlaps most (strictly more wins,
            // so the first in file order keeps a tie), if that IoU reaches 0.5.
            let mut claims: Vec<Vec<(usize, f64)>> = vec![Vec::new(); gs.len()];
            for (p, &(r, seg, _)) in ps.iter().enumerate() {
                let mut hit: Option<(usize, f64)> = None;
                for j in 0..gs.len() {
                    if iou(p, j) > hit.map_or(0.0, |h| h.1) {
                        hit = Some((j, iou(p, j)));
                    }
                }
                match hit {
                    Some((j, v)) if v >= MATCH_IOU => {
                        let t = &gt.tracks[gs[j].0];
                        let e = pass.merged.entry((video, t.id)).or_insert_with(|| Merged {
                            gt_category: t.category_id,
                            segmentations: vec![None; length],
                            contributions: Vec::new(),
                        });
                        if e.segmentations[f].is_none() {
                            e.segmentations[f] = Some(seg);
                            e.contributions.push((r, f));
                        }
                        claims[j].push((r, v));
                        pass.pairs.insert((gs[j].0, r));
                        pass.result_matched[r] = true;
                    }
                    _ => {
                        pass.leftovers.entry(r).or_insert_with(|| vec![None; length])[f] = Some(seg);
                    }
                }
            }
            for (j, c) in claims.iter().enumerate() {
                let g = gs[j].0;
                let keep = ids.last_match[g].filter(|l| c.iter().any(|&(r, _)| r == *l));
                // Otherwise the highest IoU, the first in file order on a tie.
                let pick = keep.or_else(|| {
                    c.iter()
                        .fold(
                            None,
                            |b: Option<(usize, f64)>, &(r, v)| if b.is_none_or(|b| v > b.1) { Some((r, v)) } else { b },
                        )
                        .map(|b| b.0)
                });
                if let Some(p) = pick {
                    ids.pick(g, p, f, results, &mut pass);
                }
            }
            for &(g, _, _) in &gs {
                ids.present(g, f);
            }
        }
    }
    pass
}

/// Along each ground-truth track (by index): the predicted track that carries its identity, and
/// what sorting a switch needs.
struct Identities {
    /// The matched (followed) predicted track.
    last_match: Vec<Option<usize>>,
    /// The last frame it was present, and the last it was matched.
    last_present: Vec<Option<usize>>,
    last_matched_frame: Vec<Option<usize>>,
    /// Per result: the ground-truth tracks it was the followed track of.
    followed: HashMap<usize, Vec<usize>>,
}

impl Identities {
    fn new(n: usize) -> Self {
        Self {
            last_match: vec![None; n],
            last_present: vec![None; n],
            last_matched_frame: vec![None; n],
            followed: HashMap::new(),
        }
    }

    /// Ground-truth track `g` is present in frame `f` (after that frame's picks).
    fn present(&mut self, g: usize, f: usize) {
        self.last_present[g] = Some(f);
    }

    /// Result `p` is the matched track of ground-truth track `g` in frame `f`: a change of track
    /// counts as a switch, sorted into [`SwitchKinds`].
    fn pick(&mut self, g: usize, p: usize, f: usize, results: &[ResultTrack], pass: &mut Pass<'_>) {
        if let Some(l) = self.last_match[g].filter(|&l| l != p) {
            pass.id_switches += 1;
            let k = &mut pass.switch_kinds;
            if results[p].segmentations.iter().position(Option::is_some) == Some(f) {
                k.to_new_track += 1;
            } else if self.followed.get(&p).is_some_and(|v| v.iter().any(|&h| h != g)) {
                k.to_track_of_other_instance += 1;
            } else {
                k.to_older_track += 1;
            }
            k.old_track_still_shown += usize::from(results[l].segmentations.get(f).is_some_and(Option::is_some));
            // Present in its last frame before this one but not matched there.
            k.after_unmatched_frames += usize::from(self.last_present[g] != self.last_matched_frame[g]);
        }
        self.last_match[g] = Some(p);
        self.last_matched_frame[g] = Some(f);
        let v = self.followed.entry(p).or_default();
        if !v.contains(&g) {
            v.push(g);
        }
    }
}

/// Why a ground-truth mask that no predicted mask matches at IoU 0.5 was lost, from the
/// predicted mask that covers most of it (the first in file order on a tie).
fn why_lost(gt: &Rle, gt_box: Option<[u32; 4]>, ps: &[(usize, &Rle, Option<[u32; 4]>)]) -> Lost {
    let area = gt.area();
    let mut cover: Option<(u64, u64)> = None; // (intersection, that mask's area)
    for &(_, p, pbox) in ps {
        let inter = match (gt_box, pbox) {
            (Some(a), Some(b)) if boxes_overlap(a, b) => gt.intersection_area(p).unwrap_or(0),
            _ => 0,
        };
        if inter > cover.map_or(0, |c| c.0) {
            cover = Some((inter, p.area()));
        }
    }
    match cover {
        Some((inter, p_area)) if inter as f64 >= Lost::MIN_COVER * area as f64 => {
            if p_area as f64 > Lost::MERGED_RATIO * area as f64 { Lost::Merged } else { Lost::Partial }
        }
        _ => Lost::Missed,
    }
}

/// Python's `Counter(xs).most_common(1)[0][0]`: the most frequent, the first seen on a tie.
fn majority(xs: &[i64]) -> Option<i64> {
    let mut counts: Vec<(i64, usize)> = Vec::new();
    for &x in xs {
        match counts.iter_mut().find(|c| c.0 == x) {
            Some(c) => c.1 += 1,
            None => counts.push((x, 1)),
        }
    }
    counts
        .iter()
        .fold(None, |b: Option<(i64, usize)>, &c| if b.is_none_or(|b| c.1 > b.1) { Some(c) } else { b })
        .map(|c| c.0)
}

/// The edited results, in the script's order: ground-truth identities in the order they were
/// first claimed (by result, then frame), then the leftover tracks by result index.
pub(super) fn build_oracle(pass: &Pass<'_>, results: &[ResultTrack], class: OracleClass) -> (Vec<ResultTrack>, usize) {
    let mut merged: Vec<&Merged<'_>> = pass.merged.values().collect();
    merged.sort_by_key(|m| m.contributions.iter().min().copied());
    let mut out = Vec::with_capacity(merged.len() + pass.leftovers.len());
    for m in &merged {
        let mut contrib = m.contributions.clone();
        contrib.sort_unstable();
        let cats: Vec<i64> = contrib.iter().map(|&(r, _)| results[r].category_id).collect();
        let scores: Vec<f64> = contrib.iter().map(|&(r, _)| results[r].score).collect();
        let category_id = match class {
            OracleClass::GroundTruth => m.gt_category,
            OracleClass::Vote => majority(&cats).unwrap_or(m.gt_category),
        };
        let Some(&(first, _)) = contrib.first() else {
            continue; // cannot happen: an entry is made by its first contribution
        };
        out.push(ResultTrack {
            video_id: results[first].video_id,
            category_id,
            score: numpy_mean(&scores).unwrap_or(0.0),
            segmentations: m.segmentations.iter().map(|s| s.cloned()).collect(),
        });
    }
    let matched = out.len();
    for (&r, segs) in &pass.leftovers {
        let t = &results[r];
        out.push(ResultTrack {
            video_id: t.video_id,
            category_id: t.category_id,
            score: t.score,
            segmentations: segs.iter().map(|s| s.cloned()).collect(),
        });
    }
    (out, matched)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn majority_is_the_most_frequent_and_the_first_seen_on_a_tie() {
        assert_eq!(majority(&[3, 1, 1, 3]), Some(3));
        assert_eq!(majority(&[2, 1, 1]), Some(1));
        assert_eq!(majority(&[]), None);
    }
}
