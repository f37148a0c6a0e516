//! `ifa eval`: YouTube-VIS video mask AP/AR of a results file against ground truth.

use std::path::PathBuf;

use anyhow::Context;

use ifa::eval::{Evaluation, STAT_NAMES, evaluate_files, evaluate_files_with_breakdown};

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
}

fn report(ev: &Evaluation) -> String {
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

#[allow(clippy::needless_pass_by_value)] // every subcommand's `run` takes its arguments by value
pub fn run(args: EvalArgs) -> anyhow::Result<()> {
    let (ev, breakdown) = if args.breakdown {
        let (ev, b) = evaluate_files_with_breakdown(&args.gt, &args.results).context("evaluation failed")?;
        (ev, Some(b))
    } else {
        (evaluate_files(&args.gt, &args.results).context("evaluation failed")?, None)
    };
    print!("{}", report(&ev));
    if let Some(b) = &breakdown {
        print!("\n{}", b.table());
    }
    if let Some(out) = &args.json {
        let mut doc = json_doc(&ev);
        if let Some(b) = &breakdown {
            doc["breakdown"] = serde_json::to_value(b).context("breakdown to JSON")?;
        }
        ifa::fsutil::write_atomic(out, |w| {
            serde_json::to_writer_pretty(&mut *w, &doc)?;
            w.write_all(b"\n")
        })
        .with_context(|| format!("cannot write {}", out.display()))?;
    }
    Ok(())
}
