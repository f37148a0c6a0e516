//! The text of `ifa eval --breakdown`: the tables printed after the summary.

use std::fmt::Write as _;

use super::breakdown::{Breakdown, FrameStats};

impl Breakdown {
    /// A readable table, printed by `ifa eval --breakdown` after the summary.
    pub fn table(&self) -> String {
        let num = |v: Option<f64>, w: usize| v.map_or_else(|| format!("{:>w$}", "-"), |v| format!("{v:>w$.3}"));
        let mut s = String::new();
        s.push_str("per-frame masks (best IoU of any predicted mask with each ground-truth instance-frame):\n");
        s.push_str(&format!(
            "  {:<30}{:>8}{:>10}{:>10}{:>11}{:>9}{:>9}{:>9}\n",
            "instance size or class", "frames", "mean IoU", "IoU>=0.5", "IoU>=0.75", "missed", "merged", "partial"
        ));
        let mut row = |label: &str, st: &FrameStats| {
            let _ = writeln!(
                s,
                "  {label:<30}{:>8}{}{}{}{}{}{}",
                st.count,
                num(st.mean_best_iou, 10),
                num(st.recall_50, 10),
                num(st.recall_75, 11),
                num(st.missed, 9),
                num(st.merged, 9),
                num(st.partial, 9)
            );
        };
        row("all", &self.frames.all);
        for b in &self.frames.by_size {
            let range = match b.max_area {
                None => format!(">= {} px", thousands(b.min_area)),
                Some(hi) if b.min_area == 0 => format!("< {} px", thousands(hi)),
                Some(hi) => format!("{}-{} px", thousands(b.min_area), thousands(hi)),
            };
            row(&format!("{} ({range})", b.label), &b.stats);
        }
        for c in self.frames.by_class.iter().filter(|c| c.stats.count > 0) {
            row(&format!("class {} {}", c.category_id, c.name), &c.stats);
        }
        s.push_str(
            "  (under IoU 0.5: missed = no mask covers 30% of it, merged = the mask covering most of it is\n   \
             over 1.5x its size, partial = the rest)\n",
        );
        s.push_str("\nperfect tracking (masks with IoU >= 0.5 take that ground-truth identity):\n");
        s.push_str(&format!("  {:<30}{:>8}{:>8}{:>8}{:>9}\n", "", "AP", "AP50", "AP75", "tracks"));
        for (label, o) in [
            ("oracle tracks, voted class", &self.oracle_tracks),
            ("oracle tracks and class", &self.oracle_tracks_and_class),
        ] {
            let _ =
                writeln!(s, "  {label:<30}{:>8.4}{:>8.4}{:>8.4}{:>9}", o.stats[0], o.stats[1], o.stats[2], o.tracks);
        }
        let t = &self.tracking;
        s.push_str("\ntracking (a mask matches the ground-truth instance it overlaps most, at IoU >= 0.5):\n");
        let count = |n: usize| format!("{n:>8}");
        let rows = [
            ("ground-truth tracks", count(t.gt_tracks), "never matched", count(t.gt_tracks_unmatched)),
            ("predicted tracks", count(t.predicted_tracks), "never matched", count(t.predicted_tracks_unmatched)),
            (
                "predicted tracks per GT track",
                num(t.tracks_per_gt, 8),
                "per matched GT",
                num(t.tracks_per_matched_gt, 8),
            ),
            ("identity switches", count(t.id_switches), "per GT track", num(t.id_switches_per_gt, 8)),
        ];
        for (label, v, sub, w) in rows {
            let _ = writeln!(s, "  {label:<30}{v}   {sub:<15}{w}");
        }
        let k = &t.switches;
        let _ = writeln!(
            s,
            "  switches went to: a new track {}, a track of another instance {}, an older track {};\n  \
             the old track still shown there {}; after frames the instance went unmatched {}",
            k.to_new_track,
            k.to_track_of_other_instance,
            k.to_older_track,
            k.old_track_still_shown,
            k.after_unmatched_frames
        );
        s
    }
}

/// `4000` → `4,000`.
fn thousands(n: u64) -> String {
    let d = n.to_string();
    let mut out = String::new();
    for (i, c) in d.chars().enumerate() {
        if i > 0 && (d.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::thousands;

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1_000), "1,000");
    }
}
