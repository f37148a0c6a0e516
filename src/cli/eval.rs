//! `ifa eval`: YouTube-VIS video mask AP/AR of a results file against ground truth.

use std::path::PathBuf;

use anyhow::Context;

use ifa::eval::{Breakdown, Evaluation, GroundTruth, STAT_NAMES, bootstrap, load_results, match_videos};
use ifa::outpath::{Input, Output};

/// Arguments of `ifa eval`.
#[derive(clap::Args, Debug)]
pub struct EvalArgs {
    /// Ground-truth JSON (YouTube-VIS format).
    #[arg(long)]
    gt: PathBuf,
    /// Results JSON: a list of {video_id, category_id, score, segmentations} with compressed RLE.
    #[arg(long)]
    results: PathBuf,
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
    /// resampled with the same videos (with --bootstrap; 1000 resamples if not given).
    #[arg(long, value_name = "RESULTS")]
    compare: Option<PathBuf>,
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

#[allow(clippy::needless_pass_by_value)] // every subcommand's `run` takes its arguments by value
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let outputs: Vec<Output<'_>> = args.json.iter().map(|p| Output::file("evaluation JSON", p)).collect();
    let mut inputs = vec![Input::new("ground truth", &args.gt), Input::new("results", &args.results)];
    inputs.extend(args.compare.iter().map(|p| Input::new("results to compare", p)));
    super::report_stale(&ifa::outpath::check(&inputs, &outputs)?.stale);
    let gt = GroundTruth::load(&args.gt).context("cannot use the ground truth")?;
    let results = load_results(&args.results).context("cannot use the results")?;
    if let Some(w) = unknown_categories_warning(&gt.unknown_categories(&results)) {
        eprintln!("{w}");
    }
    // One matching serves the official numbers and the bootstrap.
    let matches = match_videos(&gt, &results).context("evaluation failed")?;
    let ev = matches.evaluate(&gt);
    let breakdown =
        if args.breakdown { Some(Breakdown::compute(&gt, &results).context("evaluation failed")?) } else { None };
    let other = match &args.compare {
        Some(p) => {
            let other =
                load_results(p).with_context(|| format!("cannot use the results to compare, {}", p.display()))?;
            if let Some(w) = unknown_categories_warning(&gt.unknown_categories(&other)) {
                eprintln!("{} (in {})", w, p.display());
            }
            Some(match_videos(&gt, &other).with_context(|| format!("cannot compare with {}", p.display()))?)
        }
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
