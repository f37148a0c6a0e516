//! Per-frame post-processing (docs/method.md §2 steps 1–4): centers, grouping, class and score, and
//! each instance's flow towards every reference.
//!
//! `training/ifa_train/postprocess.py` is the line-by-line numpy twin of this file; the parity
//! test (`tests/runtime_parity.rs`) holds them together. Float rules both sides follow: grouping
//! distances in f32 (no fused multiply-add), sums for means and flow votes in f64, ties go to the
//! lower index, medians are the upper median.

use crate::model::HeadMaps;
use crate::model::PostParams;
use crate::model::maps::cell_center;

/// A detected center: a local maximum of the heatmap.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Center {
    /// Cell coordinates in the head maps.
    pub cell: (usize, usize),
    pub heat: f32,
}

/// One instance of one frame, before it has an identity.
#[derive(Clone, Debug, PartialEq)]
pub struct Detection {
    pub center: Center,
    /// Center position in input pixels (y, x).
    pub position: [f64; 2],
    /// Category id (1..=K).
    pub class_id: u32,
    /// Mean probability of `class_id` over the mask × center heat.
    pub score: f64,
    /// Number of cells in the mask.
    pub cells: usize,
    /// Radius of a disc as large as the mask, input pixels (the cells times the stride squared).
    pub radius: f64,
    /// Instance flow (dy, dx) towards each reference, in `HeadMaps::refs` order.
    pub flows: Vec<[f64; 2]>,
}

/// Reusable buffers for [`detect`] so that a frame allocates nothing once warm.
#[derive(Clone, Debug, Default)]
pub struct DetectScratch {
    pooled: Vec<f32>,
    argmax: Vec<u8>,
    /// Per cell: index of the detection it belongs to, or `u16::MAX`.
    pub group: Vec<u16>,
    class_votes: Vec<u32>,
    flow_votes: Vec<Vec<f64>>,
    center_votes: Vec<u32>,
    /// Per cell: whether it voted for a center of its own (`vote_centers`).
    voter: Vec<bool>,
}

/// Heatmap peaks: above `threshold`, equal to the max of their `k x k` window, the `top_k`
/// highest (ties: lower cell index first).
pub fn extract_centers(heat: &[f32], h: usize, w: usize, p: &PostParams, pooled: &mut Vec<f32>) -> Vec<Center> {
    let r = p.nms_kernel / 2;
    // Separable max-pool: rows then columns, windows clipped at the borders.
    pooled.clear();
    pooled.resize(h * w, f32::NEG_INFINITY);
    let mut rowmax = vec![f32::NEG_INFINITY; w];
    let mut out = Vec::new();
    for i in 0..h {
        let row = &heat[i * w..(i + 1) * w];
        for (j, m) in rowmax.iter_mut().enumerate() {
            let (a, b) = (j.saturating_sub(r), (j + r + 1).min(w));
            *m = row[a..b].iter().copied().fold(f32::NEG_INFINITY, f32::max);
        }
        pooled[i * w..(i + 1) * w].copy_from_slice(&rowmax);
    }
    for j in 0..w {
        for i in 0..h {
            let (a, b) = (i.saturating_sub(r), (i + r + 1).min(h));
            let mut m = f32::NEG_INFINITY;
            for ii in a..b {
                m = m.max(pooled[ii * w + j]);
            }
            let v = heat[i * w + j];
            if v > p.center_threshold && v == m {
                out.push(Center { cell: (i, j), heat: v });
            }
        }
    }
    out.sort_by(|a, b| b.heat.total_cmp(&a.heat).then((a.cell.0 * w + a.cell.1).cmp(&(b.cell.0 * w + b.cell.1))));
    out.truncate(p.top_k);
    out
}

/// Semantic argmax per cell (the first maximum wins).
fn semantic_argmax(maps: &HeadMaps, argmax: &mut Vec<u8>) {
    let (n, k1) = (maps.cells(), maps.num_classes + 1);
    argmax.clear();
    argmax.resize(n, 0);
    for (idx, a) in argmax.iter_mut().enumerate() {
        let mut best = maps.semantic[idx];
        for c in 1..k1 {
            let v = maps.semantic[c * n + idx];
            if v > best {
                best = v;
                *a = c as u8;
            }
        }
    }
}

/// Grouping: each foreground cell to the center nearest to p + Ot(p); returns the cells per
/// center.
fn group_cells(maps: &HeadMaps, cpos: &[(f32, f32)], argmax: &[u8], group: &mut [u16]) -> Vec<usize> {
    let mut counts = vec![0usize; cpos.len()];
    for_each_vote(maps, argmax, |idx, qy, qx| {
        let mut best = f32::INFINITY;
        let mut arg = 0usize;
        for (k, &(cy, cx)) in cpos.iter().enumerate() {
            let dy = qy - cy;
            let dx = qx - cx;
            let d = dy * dy + dx * dx;
            if d < best {
                best = d;
                arg = k;
            }
        }
        group[idx] = arg as u16;
        counts[arg] += 1;
    });
    counts
}

/// Calls `f(cell, qy, qx)` for every foreground cell in row-major order with the point its
/// intra offset points at, `p + Ot(p)`, in input pixels (f32, as the twin computes it).
#[inline]
fn for_each_vote(maps: &HeadMaps, argmax: &[u8], mut f: impl FnMut(usize, f32, f32)) {
    let (h, w, n) = (maps.h, maps.w, maps.cells());
    let (oy, ox) = maps.offset.split_at(n);
    for i in 0..h {
        let py = cell_center(maps.stride, i);
        for j in 0..w {
            let idx = i * w + j;
            if argmax[idx] != 0 {
                f(idx, py + oy[idx], cell_center(maps.stride, j) + ox[idx]);
            }
        }
    }
}

/// Centers the heatmap missed. Foreground cells whose vote `p + Ot(p)` lands farther than
/// `vote_distance` from every center (so from the one they were grouped to), and whose class is
/// not the majority class of that center's group (ties: the lower id), vote for the cell
/// nearest that spot. A cell whose 3 x 3 window holds at least `vote_min_cells` votes, and no
/// fewer than any neighbouring cell's window, becomes a center, most votes first (ties: more
/// votes in the cell itself, then the lower index), unless a center lies within
/// `vote_distance` of it, a center from votes lies within two cells each way, or its heat is
/// below `vote_min_heat`; up to `top_k` centers in all.
///
/// Why: a small instance over a large one often has no heatmap peak of its own while its
/// cells still point at its center, and grouping alone hands them to the large one. Without the
/// class rule the arms of large crosses, whose offsets fall short, split off (the demo's AP
/// halved).
fn vote_centers(
    maps: &HeadMaps,
    cpos: &[(f32, f32)],
    argmax: &[u8],
    group: &[u16],
    p: &PostParams,
    votes: &mut Vec<u32>,
    voter: &mut Vec<bool>,
) -> Vec<Center> {
    let (h, w, n) = (maps.h, maps.w, maps.cells());
    let stride = maps.stride as f32;
    let c0 = cell_center(maps.stride, 0);
    let vd2 = p.vote_distance * p.vote_distance;
    // Each heatmap group's majority class: only cells of another class may vote.
    let k1 = maps.num_classes + 1;
    let mut class_votes = vec![0u32; cpos.len() * k1];
    if !cpos.is_empty() {
        for (idx, &a) in argmax.iter().enumerate() {
            if a != 0 {
                class_votes[group[idx] as usize * k1 + a as usize] += 1;
            }
        }
    }
    let majority: Vec<u8> = class_votes
        .chunks(k1)
        .map(|v| (2..k1).fold(1, |best, c| if v[c] > v[best] { c } else { best }) as u8)
        .collect();
    votes.clear();
    votes.resize(n, 0);
    voter.clear();
    voter.resize(n, false);
    let mut any = false;
    for_each_vote(maps, argmax, |idx, qy, qx| {
        if let Some(&(cy, cx)) = cpos.get(group[idx] as usize) {
            let dy = qy - cy;
            let dx = qx - cx;
            if dy * dy + dx * dx <= vd2 || argmax[idx] == majority[group[idx] as usize] {
                return;
            }
        }
        voter[idx] = true;
        let vi = ((qy - c0) / stride + 0.5).floor();
        let vj = ((qx - c0) / stride + 0.5).floor();
        if vi >= 0.0 && vj >= 0.0 && vi < h as f32 && vj < w as f32 {
            votes[vi as usize * w + vj as usize] += 1;
            any = true;
        }
    });
    if !any {
        return Vec::new();
    }
    // The cells of the 3 x 3 window around cell `k`, clipped at the border.
    let window = |k: usize| {
        let (i, j) = (k / w, k % w);
        (i.saturating_sub(1)..(i + 2).min(h))
            .flat_map(move |ii| (j.saturating_sub(1)..(j + 2).min(w)).map(move |jj| ii * w + jj))
    };
    let sums: Vec<u32> = (0..n).map(|k| window(k).map(|c| votes[c]).sum()).collect();
    let min = p.vote_min_cells.max(1) as u32;
    let mut cand: Vec<usize> = (0..n).filter(|&k| sums[k] >= min && window(k).all(|c| sums[c] <= sums[k])).collect();
    cand.sort_by(|&a, &b| sums[b].cmp(&sums[a]).then(votes[b].cmp(&votes[a])).then(a.cmp(&b)));
    let mut taken: Vec<(f32, f32)> = cpos.to_vec();
    let mut out: Vec<Center> = Vec::new();
    for idx in cand {
        if taken.len() >= p.top_k {
            break;
        }
        let (i, j) = (idx / w, idx % w);
        let (y, x) = maps.cell_position(i, j);
        let near = taken.iter().any(|&(cy, cx)| {
            let dy = y - cy;
            let dx = x - cx;
            dy * dy + dx * dx <= vd2
        });
        // A plateau of window sums around one spot of votes spans two cells each way.
        let same_spot = out.iter().any(|c| c.cell.0.abs_diff(i) <= 2 && c.cell.1.abs_diff(j) <= 2);
        if !near && !same_spot && maps.center[idx] >= p.vote_min_heat {
            taken.push((y, x));
            out.push(Center { cell: (i, j), heat: maps.center[idx].max(0.0) });
        }
    }
    out
}

/// Adds the centers from votes (`vote_centers`), groups the cells again and drops the voted
/// centers that `voted_keep` refuses, grouping once more if any goes.
fn add_voted_centers(
    maps: &HeadMaps,
    p: &PostParams,
    scratch: &mut DetectScratch,
    centers: &mut Vec<Center>,
    cpos: &mut Vec<(f32, f32)>,
    counts: &mut Vec<usize>,
) {
    let first = centers.len();
    let more =
        vote_centers(maps, cpos, &scratch.argmax, &scratch.group, p, &mut scratch.center_votes, &mut scratch.voter);
    if more.is_empty() {
        return;
    }
    cpos.extend(more.iter().map(|c| maps.cell_position(c.cell.0, c.cell.1)));
    centers.extend(more);
    *counts = group_cells(maps, cpos, &scratch.argmax, &mut scratch.group);
    let keep = voted_keep(&scratch.group, &scratch.voter, counts, first, p.vote_min_share);
    if keep.iter().all(|&k| k) {
        return;
    }
    let mut k = keep.iter();
    centers.retain(|_| *k.next().unwrap_or(&true));
    *cpos = centers.iter().map(|c| maps.cell_position(c.cell.0, c.cell.1)).collect();
    *counts = group_cells(maps, cpos, &scratch.argmax, &mut scratch.group);
}

/// Per center: false for a center from votes (index `first` on) whose regrouped cells are less
/// than `min_share` voters. Why: where two instances of different classes touch, border cells
/// whose offsets point between both centers can gather enough votes, and the center they make
/// then takes its cells mostly from both neighbours' groups; a missed small instance's center
/// gets back mostly the cells that voted for it.
fn voted_keep(group: &[u16], voter: &[bool], counts: &[usize], first: usize, min_share: f32) -> Vec<bool> {
    let mut voters = vec![0usize; counts.len()];
    for (&g, &v) in group.iter().zip(voter) {
        if v && (g as usize) < voters.len() {
            voters[g as usize] += 1;
        }
    }
    (0..counts.len())
        .map(|k| {
            k < first
                || min_share <= 0.0
                || (counts[k] > 0 && voters[k] as f64 >= f64::from(min_share) * counts[k] as f64)
        })
        .collect()
}

/// Keeps the groups with at least `min_pixels` cells, renumbered in center order; returns the
/// center → kept group map (`u16::MAX`: dropped) and how many were kept.
fn keep_groups(counts: &[usize], min_pixels: usize, group: &mut [u16]) -> (Vec<u16>, usize) {
    let min = min_pixels.max(1);
    let mut remap = vec![u16::MAX; counts.len()];
    let mut kept = 0u16;
    for (k, &c) in counts.iter().enumerate() {
        if c >= min {
            remap[k] = kept;
            kept += 1;
        }
    }
    for g in group.iter_mut() {
        if *g != u16::MAX {
            *g = remap[*g as usize];
        }
    }
    (remap, kept as usize)
}

/// Each kept group's class: the majority of its cells' argmax classes (ties: the lower id).
fn majority_classes(maps: &HeadMaps, m: usize, argmax: &[u8], group: &[u16], class_votes: &mut Vec<u32>) -> Vec<usize> {
    let k1 = maps.num_classes + 1;
    class_votes.clear();
    class_votes.resize(m * k1, 0);
    for (idx, &g) in group.iter().enumerate() {
        if g != u16::MAX {
            class_votes[g as usize * k1 + argmax[idx] as usize] += 1;
        }
    }
    (0..m)
        .map(|g| {
            let votes = &class_votes[g * k1..(g + 1) * k1];
            let mut best = 1;
            for c in 2..k1 {
                if votes[c] > votes[best] {
                    best = c;
                }
            }
            best
        })
        .collect()
}

/// Detections of one frame; `scratch.group` afterwards maps each cell to its detection. The
/// steps, each one function, follow `detect` in postprocess.py in the same order.
pub fn detect(maps: &HeadMaps, p: &PostParams, scratch: &mut DetectScratch) -> Vec<Detection> {
    let (h, w, n) = (maps.h, maps.w, maps.cells());
    let k1 = maps.num_classes + 1;
    scratch.group.clear();
    scratch.group.resize(n, u16::MAX);
    if !maps.is_consistent() || n == 0 {
        return Vec::new();
    }
    let mut centers = extract_centers(&maps.center, h, w, p, &mut scratch.pooled);
    if centers.is_empty() && p.vote_distance <= 0.0 {
        return Vec::new();
    }
    let mut cpos: Vec<(f32, f32)> = centers.iter().map(|c| maps.cell_position(c.cell.0, c.cell.1)).collect();

    semantic_argmax(maps, &mut scratch.argmax);
    let mut counts =
        if cpos.is_empty() { Vec::new() } else { group_cells(maps, &cpos, &scratch.argmax, &mut scratch.group) };
    if p.vote_distance > 0.0 {
        add_voted_centers(maps, p, scratch, &mut centers, &mut cpos, &mut counts);
    }
    if centers.is_empty() {
        return Vec::new();
    }
    let (remap, m) = keep_groups(&counts, p.min_pixels, &mut scratch.group);
    let classes = majority_classes(maps, m, &scratch.argmax, &scratch.group, &mut scratch.class_votes);
    let (oy, ox) = maps.offset.split_at(n);

    let nref = maps.refs.len();
    let mut prob_sum = vec![0f64; m];
    // Per instance and reference: the cells' flow votes `Or(p) − Ot(p)`, y and x.
    // `flow_votes[(g * nref + r) * 2 + c]`: instance g's votes towards reference r, component
    // c (y, x). The buffers keep their capacity from frame to frame.
    let votes = &mut scratch.flow_votes;
    if votes.len() < m * nref * 2 {
        votes.resize_with(m * nref * 2, Vec::new);
    }
    votes.iter_mut().for_each(Vec::clear);
    let mut cells = vec![0usize; m];
    for idx in 0..n {
        let g = scratch.group[idx];
        if g == u16::MAX {
            continue;
        }
        let g = g as usize;
        cells[g] += 1;
        // Softmax probability of the instance's class at this cell.
        let mut mx = f64::NEG_INFINITY;
        for c in 0..k1 {
            mx = mx.max(f64::from(maps.semantic[c * n + idx]));
        }
        let mut denom = 0f64;
        for c in 0..k1 {
            denom += (f64::from(maps.semantic[c * n + idx]) - mx).exp();
        }
        prob_sum[g] += (f64::from(maps.semantic[classes[g] * n + idx]) - mx).exp() / denom;
        let (ty, tx) = (f64::from(oy[idx]), f64::from(ox[idx]));
        for r in 0..nref {
            let base = r * 2 * n;
            let v = (g * nref + r) * 2;
            votes[v].push(f64::from(maps.inter_offset[base + idx]) - ty);
            votes[v + 1].push(f64::from(maps.inter_offset[base + n + idx]) - tx);
        }
    }

    // Instance flow: the per-component median of the cells' votes (upper median for an even
    // count), so that cells grouped into the wrong instance cannot drag it.
    let median = |v: &mut Vec<f64>| {
        let mid = v.len() / 2;
        if v.is_empty() { 0.0 } else { *v.select_nth_unstable_by(mid, f64::total_cmp).1 }
    };
    let flows: Vec<[f64; 2]> =
        (0..m * nref).map(|k| [median(&mut votes[2 * k]), median(&mut votes[2 * k + 1])]).collect();
    let mut out = Vec::with_capacity(m);
    for (k, c) in centers.iter().enumerate() {
        let g = remap[k];
        if g == u16::MAX {
            continue;
        }
        let g = g as usize;
        let nc = cells[g] as f64;
        let (py, px) = cpos[k];
        out.push(Detection {
            center: *c,
            position: [f64::from(py), f64::from(px)],
            class_id: classes[g] as u32,
            score: prob_sum[g] / nc * f64::from(c.heat),
            cells: cells[g],
            radius: (nc / std::f64::consts::PI).sqrt() * maps.stride as f64,
            flows: flows[g * nref..(g + 1) * nref].to_vec(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> PostParams {
        PostParams {
            center_threshold: 0.1,
            nms_kernel: 3,
            top_k: 8,
            match_distance: 10.0,
            min_pixels: 1,
            ..PostParams::default()
        }
    }

    /// Two square objects of classes 1 and 2 with exact offsets and a known flow.
    fn two_objects(flow: [f32; 2]) -> HeadMaps {
        let (h, w, k) = (12usize, 16usize, 2usize);
        let n = h * w;
        let mut m = HeadMaps {
            h,
            stride: 4,
            w,
            num_classes: k,
            semantic: vec![0.0; (k + 1) * n],
            center: vec![0.0; n],
            offset: vec![0.0; 2 * n],
            inter_offset: vec![0.0; 2 * n],
            refs: vec![3],
        };
        for (cls, (ci, cj)) in [(1usize, (3usize, 3usize)), (2, (8, 11))] {
            m.center[ci * w + cj] = 0.9;
            let (cy, cx) = m.cell_position(ci, cj);
            for i in ci - 2..=ci + 2 {
                for j in cj - 2..=cj + 2 {
                    let idx = i * w + j;
                    m.semantic[cls * n + idx] = 5.0;
                    let (py, px) = m.cell_position(i, j);
                    m.offset[idx] = cy - py;
                    m.offset[n + idx] = cx - px;
                    m.inter_offset[idx] = cy + flow[0] - py;
                    m.inter_offset[n + idx] = cx + flow[1] - px;
                }
            }
        }
        m
    }

    #[test]
    fn peaks_respect_threshold_window_and_top_k() {
        let (h, w) = (5, 7);
        let mut heat = vec![0.0f32; h * w];
        heat[w + 1] = 0.5;
        heat[w + 2] = 0.4; // inside the first peak's window: suppressed
        heat[3 * w + 5] = 0.8;
        heat[4 * w] = 0.05; // below threshold
        let mut pooled = Vec::new();
        let c = extract_centers(&heat, h, w, &params(), &mut pooled);
        assert_eq!(c.iter().map(|c| c.cell).collect::<Vec<_>>(), vec![(3, 5), (1, 1)]);
        let one = PostParams { top_k: 1, ..params() };
        assert_eq!(extract_centers(&heat, h, w, &one, &mut pooled).len(), 1);
    }

    #[test]
    fn grouping_class_score_and_flow() {
        let maps = two_objects([-4.0, 6.0]);
        let mut s = DetectScratch::default();
        let d = detect(&maps, &params(), &mut s);
        assert_eq!(d.len(), 2);
        for det in &d {
            assert_eq!(det.cells, 25);
            assert!((det.flows[0][0] + 4.0).abs() < 1e-9 && (det.flows[0][1] - 6.0).abs() < 1e-9);
            let p = 5f64.exp() / (5f64.exp() + 2.0);
            assert!((det.score - p * 0.9f32 as f64).abs() < 1e-6, "{}", det.score);
        }
        let classes: Vec<u32> = d.iter().map(|d| d.class_id).collect();
        assert_eq!(classes, vec![1, 2]);
        assert_eq!(s.group.iter().filter(|&&g| g == 0).count(), 25);
        let big = PostParams { min_pixels: 26, ..params() };
        assert!(detect(&maps, &big, &mut s).is_empty());
    }

    #[test]
    fn votes_give_a_center_the_heatmap_missed() {
        let mut maps = two_objects([0.0, 0.0]);
        let w = maps.w;
        maps.center[8 * w + 11] = 0.0; // the second object's peak is missing
        let mut s = DetectScratch::default();
        let swallowed = detect(&maps, &params(), &mut s);
        assert_eq!(swallowed.len(), 1);
        assert_eq!(swallowed[0].cells, 50);
        let voting = PostParams { vote_distance: 8.0, vote_min_cells: 8, ..params() };
        let d = detect(&maps, &voting, &mut s);
        assert_eq!(
            d.iter().map(|d| (d.center.cell, d.cells, d.class_id)).collect::<Vec<_>>(),
            vec![((3, 3), 25, 1), ((8, 11), 25, 2)]
        );
        assert_eq!(d[1].score, 0.0, "a voted center's score carries its (here zero) heat");
        // Too few votes, or a center within the vote distance: nothing is added.
        assert_eq!(detect(&maps, &PostParams { vote_min_cells: 26, ..voting }, &mut s).len(), 1);
        assert_eq!(detect(&maps, &PostParams { vote_distance: 60.0, ..voting }, &mut s).len(), 1);
        // Colder than `vote_min_heat` where the votes meet: nothing either.
        assert_eq!(detect(&maps, &PostParams { vote_min_heat: 0.01, ..voting }, &mut s).len(), 1);
        maps.center[8 * w + 11] = 0.02;
        assert_eq!(detect(&maps, &PostParams { vote_min_heat: 0.01, ..voting }, &mut s).len(), 2);
        maps.center[8 * w + 11] = 0.0;
        // No heatmap peak at all: every foreground cell votes.
        maps.center[3 * w + 3] = 0.0;
        assert!(detect(&maps, &params(), &mut s).is_empty());
        assert_eq!(detect(&maps, &voting, &mut s).len(), 2);
    }

    #[test]
    fn a_voted_center_that_takes_other_groups_cells_is_dropped() {
        let mut maps = two_objects([0.0, 0.0]);
        maps.center[8 * maps.w + 11] = 0.0;
        let mut s = DetectScratch::default();
        // Every cell the voted center gets back voted for it: kept at any share up to 1.
        let all = PostParams { vote_distance: 8.0, vote_min_cells: 8, vote_min_share: 1.0, ..params() };
        assert_eq!(detect(&maps, &all, &mut s).len(), 2);
        // A share no group can reach: the center goes and its cells return to the first group.
        let d = detect(&maps, &PostParams { vote_min_share: 1.01, ..all }, &mut s);
        assert_eq!(d.iter().map(|d| d.cells).collect::<Vec<_>>(), vec![50]);

        // Centers 0 and 1 from the heatmap, 2 and 3 from votes: 2 holds 3 voters of 4 cells,
        // 3 holds 1 voter of 4 (the rest it took from center 0's group).
        let group = [0u16, 0, 1, 2, 2, 2, 2, 3, 3, 3, 3, u16::MAX];
        let voter = [true, false, true, true, true, true, false, true, false, false, false, false];
        let counts = [2, 1, 4, 4];
        assert_eq!(voted_keep(&group, &voter, &counts, 2, 0.5), vec![true, true, true, false]);
        assert_eq!(voted_keep(&group, &voter, &counts, 2, 0.25), vec![true, true, true, true]);
        assert_eq!(voted_keep(&group, &voter, &counts, 2, 0.0), vec![true; 4]);
        assert!(!voted_keep(&group, &voter, &[2, 1, 4, 0], 2, 0.5)[3], "an empty group goes");
    }
}
