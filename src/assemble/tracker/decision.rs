//! Why a detection got its identity ([`Decision`]), in the words the inspector and the CSV show.

use super::super::association::Association;

/// Why a detection got its identity. `value` and `threshold` are in the unit of `by`: input
/// pixels for `flow` and `center` (match when value <= threshold), mask IoU for `iou` (match
/// when value >= threshold).
#[derive(Clone, Debug, PartialEq)]
pub enum Decision {
    /// Matched the track through reference `ref_frame` (position `ref_slot` in the order).
    /// `passed_over`: a nearer track (id, distance) that was still free but came later in the
    /// consistency ordering (other size or class); `flow` and `center` only.
    Matched {
        ref_frame: usize,
        ref_slot: usize,
        by: Association,
        value: f64,
        threshold: f64,
        passed_over: Option<(u32, f64)>,
        /// The detection held this track and others as one blob (`merge_ratio`) and took the
        /// one nearest its size.
        merge: bool,
    },
    /// A new track: the video's first frame (no reference).
    NewNoReference,
    /// A new track: no reference held an instance that passes the gate; `nearest` is the best
    /// (ref frame, track id, value) seen, if any.
    NewNothingNear { nearest: Option<(usize, u32, f64)>, by: Association, threshold: f64 },
    /// A new track: instances passed the gate but other detections of this frame took them.
    NewCandidatesTaken { by: Association, threshold: f64 },
    /// No reference held the track; it was re-linked by motion after `hidden` unseen frames
    /// (last seen in `last_seen`), comparing its predicted center with this detection's center
    /// (`via_ref` None) or with its flow-warped center in reference `via_ref`. Input pixels.
    Relinked { hidden: usize, last_seen: usize, via_ref: Option<usize>, value: f64, threshold: f64 },
    /// The track came back next to `other`, the track that covered it when it went unseen
    /// (`hidden` frames before, last seen in `last_seen`), and the two exchanged detections:
    /// their motion from before the occlusion puts them `after` input pixels (summed over both)
    /// from these detections, against `before` the other way round. Both detections carry it.
    Exchanged { other: u32, hidden: usize, last_seen: usize, before: f64, after: f64 },
    /// No reference or motion explained it, but it appeared `value` input pixels from the center
    /// of `occluder` (within `threshold`: that detection's radius plus the re-link gate), the
    /// track that covered this track when it went unseen `hidden` frames before (last seen in
    /// `last_seen`), on the side its motion was heading: it came out from behind.
    Reemerged { occluder: u32, hidden: usize, last_seen: usize, value: f64, threshold: f64 },
}

/// The clause a match adds when the consistency ordering passed over a nearer track, or the
/// detection was a merge of several tracks.
fn passed(over: Option<(u32, f64)>, merge: bool) -> String {
    match (over, merge) {
        (Some((t, d)), true) => format!(" (a merge, also of track {t} at {d:.2} px: the nearest in size)"),
        (None, true) => " (a merge of several tracks: the nearest in size)".to_owned(),
        (Some((t, d)), false) => format!(" (before track {t} at {d:.2} px: size or class)"),
        (None, false) => String::new(),
    }
}

impl Decision {
    /// One line for the inspector and the CSV (the `flow` wording is the method's).
    pub fn describe(&self) -> String {
        match self {
            Self::Matched { ref_frame, by: Association::Flow, value, threshold, passed_over, merge, .. } => {
                format!(
                    "matched via frame {ref_frame}: {value:.2} px <= {threshold:.1}{}",
                    passed(*passed_over, *merge)
                )
            }
            Self::Matched { ref_frame, by: Association::Center, value, threshold, passed_over, merge, .. } => {
                format!(
                    "matched via frame {ref_frame} by center: {value:.2} px <= {threshold:.1}{}",
                    passed(*passed_over, *merge)
                )
            }
            Self::Matched { ref_frame, by: Association::Iou, value, threshold, .. } => {
                format!("matched via frame {ref_frame} by mask IoU: {value:.2} >= {threshold:.2}")
            }
            Self::Matched { ref_frame, by: Association::FlowMask, value, threshold, .. } => {
                format!("matched via frame {ref_frame} by flow-warped mask IoU: {value:.2} >= {threshold:.2}")
            }
            Self::NewNoReference => "new: first frame".to_owned(),
            Self::NewNothingNear { nearest: Some((f, t, v)), by: Association::Iou, threshold } => {
                format!("new: best mask IoU was track {t} in frame {f} at {v:.2} < {threshold:.2}")
            }
            Self::NewNothingNear { nearest: None, by: Association::Iou, .. } => {
                "new: no identified mask in the references overlaps it".to_owned()
            }
            Self::NewNothingNear { nearest: Some((f, t, v)), by, threshold } => {
                let what = if *by == Association::Center { " (unwarped center)" } else { "" };
                format!("new: nearest was track {t} in frame {f} at {v:.2} px > {threshold:.1}{what}")
            }
            Self::NewNothingNear { nearest: None, .. } => "new: references hold no instance".to_owned(),
            Self::NewCandidatesTaken { by: Association::Iou, threshold } => {
                format!("new: candidates with mask IoU >= {threshold:.2} taken by other instances")
            }
            Self::NewCandidatesTaken { threshold, .. } => {
                format!("new: candidates within {threshold:.1} px taken by other instances")
            }
            Self::Relinked { hidden, last_seen, via_ref, value, threshold } => {
                let via = match via_ref {
                    Some(r) => format!("flow into frame {r}"),
                    None => "position".to_owned(),
                };
                format!(
                    "re-linked after {hidden} hidden frames (last seen in frame {last_seen}) by {via}: {value:.2} px <= {threshold:.1}"
                )
            }
            Self::Exchanged { other, hidden, last_seen, before, after } => format!(
                "exchanged with track {other} after an occlusion of {hidden} frames (last seen in frame {last_seen}): \
                 motion from before it fits {after:.1} px against {before:.1} px"
            ),
            Self::Reemerged { occluder, hidden, last_seen, value, threshold } => format!(
                "re-linked after {hidden} hidden frames (last seen in frame {last_seen}) coming out from behind \
                 track {occluder}: {value:.1} px from its center <= {threshold:.1}"
            ),
        }
    }
}

/// [`Decision::describe`], plus how long a matched track had been unseen (a re-link says so itself).
pub fn describe_with_gap(decision: &Decision, hidden_before: usize) -> String {
    match decision {
        Decision::Matched { .. } if hidden_before > 0 => {
            format!("{} (kept alive {hidden_before} hidden frames)", decision.describe())
        }
        _ => decision.describe(),
    }
}
