//! `ifa eval`: YouTube-VIS video mask AP/AR of a results file against ground truth.

use std::path::{Path, PathBuf};

use anyhow::Context;

use ifa::eval::{
    Breakdown, Evaluation, GroundTruth, PoolSet, ResultTrack, STAT_NAMES, bootstrap, load_results, match_videos, pool,
};
use ifa::outpath::{Input, Output};

/// Arguments of `ifa eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Ground-truth JSON (YouTube-VIS format). Give it several times, each with its own
    /// --results (and --compare), to score several sets as one: their videos pooled.
    #[arg(long, required = true)]
    gt: Vec<PathBuf>,
    /// Results JSON: a list of {video_id, category_id, score, segmentations} with compressed RLE.
    /// One per --gt, in the same order.
    #[arg(long, required = true)]
    results: Vec<PathBuf>,
    /// Also write the 12 numbers and per-category AP to this JSON file.
    #[arg(long)]
    json: Option<PathBuf>,
    /// Also show where the AP goes: per-frame mask IoU by instance size, perfect-tracking AP
    /// (with voted and true classes) and how predicted tracks cover ground-truth tracks.
    #[arg(long)]
    breakdown: bool,
    /// Also give AP an interval: the videos resampled with replacement this many times (e.g.
    /// 1000), so that the spread the choice of videos alone explains is seen.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=100_000))]
    bootstrap: Option<u32>,
    /// Another results file on the same ground truth: its AP and the paired difference, both
    /// resampled with the same videos (with --bootstrap; 1000 resamples if not given). One per
    /// --gt when there are several.
    #[arg(long, value_name = "RESULTS")]
    compare: Vec<PathBuf>,
}

/// Coverage of the bootstrap's intervals.
const BOOTSTRAP_LEVEL: f64 = 0.95;

pub fn report(ev: &Evaluation) -> String {
    let mut s = String::new();
    for (name, v) in STAT_NAMES.iter().zip(&ev.stats) {
        s.push_str(&format!("{name:<6} {v:.4}\n"));
    }
    s.push_str("\nper-category AP (all areas, 100 detections):\n");
    for c in &ev.per_category {
        match c.ap {
            Some(ap) => s.push_str(&format!("  {:>4} {:<24} {ap:.4}\n", c.id, c.name)),
            None => s.push_str(&format!("  {:>4} {:<24} -    (no ground truth)\n", c.id, c.name)),
        }
    }
    s
}

/// The `--json` document: named stats, the stats list in official order, per-category AP.
fn json_doc(ev: &Evaluation) -> serde_json::Value {
    let named: serde_json::Map<String, serde_json::Value> =
        STAT_NAMES.iter().zip(&ev.stats).map(|(n, v)| ((*n).to_owned(), serde_json::json!(v))).collect();
    serde_json::json!({
        "metrics": named,
        "stats": ev.stats,
        "per_category": ev.per_category,
    })
}

/// The warning for results whose category the ground truth does not list (`None` if none).
fn unknown_categories_warning(unknown: &[(usize, i64)]) -> Option<String> {
    if unknown.is_empty() {
        return None;
    }
    let mut ids: Vec<i64> = unknown.iter().map(|&(_, c)| c).collect();
    ids.sort_unstable();
    ids.dedup();
    let ids: Vec<String> = ids.iter().map(i64::to_string).collect();
    let entries: Vec<String> = unknown.iter().take(5).map(|(i, _)| i.to_string()).collect();
    let more = if unknown.len() > 5 { ", …" } else { "" };
    Some(format!(
        "warning: {} results (entries {}{more}) have category ids not in the ground truth ({}): they are not counted, as in the official evaluator",
        unknown.len(),
        entries.join(", "),
        ids.join(", ")
    ))
}

/// Loads a results file and warns of its categories the ground truth does not list.
fn results_on(gt: &GroundTruth, path: &Path, what: &str) -> anyhow::Result<Vec<ResultTrack>> {
    let results = load_results(path).with_context(|| format!("cannot use the {what}, {}", path.display()))?;
    if let Some(w) = unknown_categories_warning(&gt.unknown_categories(&results)) {
        eprintln!("{} (in {})", w, path.display());
    }
    Ok(results)
}

/// The ground truth, the results and the results to compare, pooled when there are several sets.
fn load_sets(args: &EvalArgs) -> anyhow::Result<(GroundTruth, Vec<ResultTrack>, Option<Vec<ResultTrack>>)> {
    let n = args.gt.len();
    if args.results.len() != n || !(args.compare.is_empty() || args.compare.len() == n) {
        anyhow::bail!(
            "give one --results (and, to compare, one --compare) per --gt, in the same order: got {n} --gt, {} --results, {} --compare",
            args.results.len(),
            args.compare.len()
        );
    }
    let mut sets = Vec::with_capacity(n);
    for (i, (g, r)) in args.gt.iter().zip(&args.results).enumerate() {
        let gt = GroundTruth::load(g).with_context(|| format!("cannot use the ground truth, {}", g.display()))?;
        let mut lists = vec![results_on(&gt, r, "results")?];
        if let Some(c) = args.compare.get(i) {
            lists.push(results_on(&gt, c, "results to compare")?);
        }
        sets.push(PoolSet { gt, results: lists });
    }
    let (gt, mut lists) = if n == 1 {
        let s = sets.pop().context("no ground truth")?;
        (s.gt, s.results)
    } else {
        let (gt, lists) = pool(sets).context("cannot pool the sets")?;
        eprintln!("pooled {n} sets: {} videos, {} ground-truth tracks", gt.videos().count(), gt.num_tracks());
        (gt, lists)
    };
    let other = if args.compare.is_empty() { None } else { lists.pop() };
    let results = lists.pop().context("no results")?;
    Ok((gt, results, other))
}

#[allow(clippy::needless_pass_by_value)] // every subcommand's `run` takes its arguments by value
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let outputs: Vec<Output<'_>> = args.json.iter().map(|p| Output::file("evaluation JSON", p)).collect();
    let mut inputs: Vec<Input<'_>> = args.gt.iter().map(|p| Input::new("ground truth", p)).collect();
    inputs.extend(args.results.iter().map(|p| Input::new("results", p)));
    inputs.extend(args.compare.iter().map(|p| Input::new("results to compare", p)));
    super::report_stale(&ifa::outpath::check(&inputs, &outputs)?.stale);
    let (gt, results, other) = load_sets(&args)?;
    // One matching serves the official numbers and the bootstrap.
    let matches = match_videos(&gt, &results).context("evaluation failed")?;
    let ev = matches.evaluate(&gt);
    let breakdown =
        if args.breakdown { Some(Breakdown::compute(&gt, &results).context("evaluation failed")?) } else { None };
    let other = match &other {
        Some(o) => Some(match_videos(&gt, o).context("cannot compare with the results to compare")?),
        None => None,
    };
    let samples = args.bootstrap.or(other.as_ref().map(|_| 1000));
    let boot = samples.map(|n| bootstrap(&matches, other.as_ref(), n as usize, BOOTSTRAP_LEVEL));
    print!("{}", report(&ev));
    if let Some(b) = &breakdown {
        print!("\n{}", b.table());
    }
    if let Some(b) = &boot {
        print!("\n{}", b.table());
    }
    if let Some(out) = &args.json {
        let mut doc = json_doc(&ev);
        if let Some(b) = &breakdown {
            doc["breakdown"] = serde_json::to_value(b).context("breakdown to JSON")?;
        }
        if let Some(b) = &boot {
            doc["bootstrap"] = serde_json::to_value(b).context("bootstrap to JSON")?;
        }
        ifa::fsutil::write_atomic(out, |w| {
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            w.write_all(b"\n")
        })
        .with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_categories_are_named() {
        assert_eq!(unknown_categories_warning(&[]), None);
        let w = unknown_categories_warning(&[(1, 99), (3, 42), (4, 99)]).expect("warning");
        assert!(w.contains("3 results (entries 1, 3, 4)") && w.contains("(42, 99)"), "{w}");
    }
}
