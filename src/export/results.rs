//! Results as data, shared by `ifa run` and `ifa export`: YouTube-VIS results (one entry per
//! track, compressed RLE per frame) and one CSV row per instance and frame.
//!
//! Feed every processed frame to [`ResultsCollector::add_frame`] with its video-resolution id
//! map, then write with [`ResultsCollector::write_json`] / [`ResultsCollector::write_csv`]
//! (both atomic: a failure leaves no file). Memory grows with the masks kept (one compressed
//! RLE string per track and frame it appears in), not with tracks × frames: the JSON, where
//! every track lists every frame, is streamed out.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use crate::assemble::idmap::extents;
use crate::assemble::{FrameResult, TrackInfo};
use crate::rle::{RleError, encode_label_map};
use crate::runtime::FrameContext;

/// The CSV's first line.
pub const CSV_HEADER: &str =
    "frame,time,track,class,score,center_x,center_y,flows,box_x0,box_y0,box_x1,box_y1,area,decision\n";

#[derive(Debug, thiserror::Error)]
pub enum ResultsError {
    #[error("frame {frame}: id map does not fit the video: {source}")]
    IdMap { frame: usize, source: RleError },
    #[error("writing {path}: {source}")]
    Write { path: PathBuf, source: std::io::Error },
}

/// One result entry in YouTube-VIS format (the same JSON as [`crate::eval::ResultTrack`]),
/// borrowing the collector's masks.
#[derive(Debug, Clone, serde::Serialize)]
struct YtvisEntry<'a> {
    video_id: u64,
    category_id: u32,
    score: f64,
    segmentations: Segmentations<'a>,
}

/// A track's masks as the full-length list YouTube-VIS wants: `null` where it is absent.
#[derive(Debug, Clone)]
struct Segmentations<'a> {
    size: [u32; 2],
    length: usize,
    /// (frame, compressed counts), ascending by frame.
    frames: &'a [(usize, Box<str>)],
}

/// A compressed RLE in COCO's JSON form.
#[derive(serde::Serialize)]
struct RleRef<'a> {
    size: [u32; 2],
    counts: &'a str,
}

impl serde::Serialize for Segmentations<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeSeq;
        let mut seq = s.serialize_seq(Some(self.length))?;
        let mut next = self.frames.iter().peekable();
        for f in 0..self.length {
            match next.next_if(|(at, _)| *at == f) {
                Some((_, counts)) => seq.serialize_element(&Some(RleRef { size: self.size, counts }))?,
                None => seq.serialize_element(&None::<RleRef<'_>>)?,
            }
        }
        seq.end()
    }
}

/// Collects the results of one video, frame by frame.
#[derive(Debug)]
pub struct ResultsCollector {
    video_id: u64,
    width: u32,
    height: u32,
    /// Per track: (frame, compressed RLE counts) of each frame it appears in, ascending.
    segs: BTreeMap<u32, Vec<(usize, Box<str>)>>,
    csv: Option<String>,
    frames_seen: usize,
    /// Tracks seen in fewer frames are left out of the YouTube-VIS results (`ifa.post.min_track_frames`).
    min_track_frames: usize,
    /// Most YouTube-VIS entries per track, one per class it was seen as (`ifa.post.class_hypotheses`).
    class_hypotheses: usize,
}

impl ResultsCollector {
    /// `with_csv`: also build the CSV rows (kept in memory until written).
    pub fn new(video_id: u64, width: u32, height: u32, with_csv: bool) -> Self {
        Self {
            video_id,
            width,
            height,
            segs: BTreeMap::new(),
            csv: with_csv.then(|| CSV_HEADER.to_owned()),
            frames_seen: 0,
            min_track_frames: 1,
            class_hypotheses: 1,
        }
    }

    /// Leaves tracks seen in fewer than `n` frames out of the YouTube-VIS results (the birth
    /// rule: one- or two-frame tracks are mostly false positives). The CSV keeps every row.
    pub fn with_min_track_frames(mut self, n: usize) -> Self {
        self.min_track_frames = n.max(1);
        self
    }

    /// Writes up to `n` YouTube-VIS entries per track: its majority class with the track's score,
    /// then the other classes it was seen as, most frames first, each with the track's score
    /// times its frames over the majority's. Why: the benchmark scores each category on its own,
    /// so a small instance whose class flickers between two look-alikes (a disc and a ring) is
    /// lost entirely when the vote picks the wrong one; the second entry, ranked lower, recovers
    /// it, the way query-based VIS models report their top classes per instance. The masks are
    /// the same; the CSV and the viewer keep one class per track.
    pub fn with_class_hypotheses(mut self, n: usize) -> Self {
        self.class_hypotheses = n.max(1);
        self
    }

    /// Records one frame: `ids` is its id map at video resolution (`Pipeline::render_ids`), `ctx`
    /// its stream's names and geometry (`Pipeline::context`).
    pub fn add_frame(
        &mut self,
        frame: usize,
        res: &FrameResult,
        ids: &[u32],
        ctx: FrameContext<'_>,
    ) -> Result<(), ResultsError> {
        let rles = encode_label_map(self.height, self.width, ids, 0u32)
            .map_err(|source| ResultsError::IdMap { frame, source })?;
        for (id, rle) in &rles {
            let counts = rle.to_compressed_string().into_boxed_str();
            let per = self.segs.entry(*id).or_default();
            // Frames come in order; a frame seen again replaces its earlier mask.
            match per.last() {
                Some(&(last, _)) if last >= frame => match per.binary_search_by_key(&frame, |(f, _)| *f) {
                    Ok(i) => per[i].1 = counts,
                    Err(i) => per.insert(i, (frame, counts)),
                },
                _ => per.push((frame, counts)),
            }
        }
        if let Some(csv) = self.csv.as_mut() {
            write_csv_rows(csv, frame, res, ids, self.width, ctx);
        }
        self.frames_seen = self.frames_seen.max(frame + 1);
        Ok(())
    }

    /// Writes the YouTube-VIS entries to `w`, one per track (and class hypothesis), each
    /// `length` frames long (at least as long as the frames seen), without building them in
    /// memory; returns how many tracks were written (not entries).
    pub fn write_json_to<'a>(
        &self,
        w: &mut dyn std::io::Write,
        tracks: impl Iterator<Item = &'a TrackInfo>,
        length: usize,
    ) -> std::io::Result<usize> {
        let length = length.max(self.frames_seen);
        let mut written = 0;
        let entries: Vec<YtvisEntry<'_>> = tracks
            .filter(|t| t.frames >= self.min_track_frames)
            .inspect(|_| written += 1)
            .flat_map(|t| {
                let frames = self.segs.get(&t.id).map_or(&[][..], Vec::as_slice);
                class_hypotheses(t, self.class_hypotheses).into_iter().map(move |(category_id, score)| YtvisEntry {
                    video_id: self.video_id,
                    category_id,
                    score,
                    segmentations: Segmentations { size: [self.height, self.width], length, frames },
                })
            })
            .collect();
        serde_json::to_writer(&mut *w, &entries).map_err(std::io::Error::other)?;
        w.write_all(b"\n")?;
        Ok(written)
    }

    /// Writes the YouTube-VIS results; returns how many tracks were written.
    pub fn write_json<'a>(
        &self,
        path: &Path,
        tracks: impl Iterator<Item = &'a TrackInfo>,
        length: usize,
    ) -> Result<usize, ResultsError> {
        let mut n = 0;
        crate::fsutil::write_atomic(path, |w| {
            n = self.write_json_to(w, tracks, length)?;
            Ok(())
        })
        .map_err(|source| ResultsError::Write { path: path.to_path_buf(), source })?;
        Ok(n)
    }

    /// The CSV text so far (`None` if built without CSV).
    pub fn csv(&self) -> Option<&str> {
        self.csv.as_deref()
    }

    /// Writes the CSV (only the header if built without CSV rows).
    pub fn write_csv(&self, path: &Path) -> Result<(), ResultsError> {
        let text = self.csv.as_deref().unwrap_or(CSV_HEADER);
        crate::fsutil::write_atomic(path, |w| w.write_all(text.as_bytes()))
            .map_err(|source| ResultsError::Write { path: path.to_path_buf(), source })
    }
}

/// One CSV row per instance: positions in video pixels, flows in input pixels as
/// `ref_frame:dy:dx` joined by `;`, box and area from the video-resolution id map.
fn write_csv_rows(out: &mut String, frame: usize, res: &FrameResult, ids: &[u32], width: u32, ctx: FrameContext<'_>) {
    let ext = extents(ids, width);
    let lb = ctx.letterbox.copied();
    for inst in &res.instances {
        let d = &inst.detection;
        let (cy, cx) = lb.map_or((d.position[0], d.position[1]), |lb| lb.to_video(d.position[0], d.position[1]));
        let mut flows = String::new();
        for (k, v) in inst.votes.iter().enumerate() {
            if k > 0 {
                flows.push(';');
            }
            let _ = write!(flows, "{}:{:.2}:{:.2}", v.ref_frame, v.flow[0], v.flow[1]);
        }
        let class = ctx.contract.class_name(d.class_id).unwrap_or("?");
        let (bx, area) = match ext.iter().find(|e| e.id == inst.track_id) {
            Some(e) => (e.bbox.map(|v| v.to_string()), e.area),
            None => (std::array::from_fn(|_| String::new()), 0),
        };
        let _ = writeln!(
            out,
            "{frame},{:.4},{},{class},{:.5},{cx:.1},{cy:.1},{flows},{},{},{},{},{area},\"{}\"",
            res.pts_seconds,
            inst.track_id,
            d.score,
            bx[0],
            bx[1],
            bx[2],
            bx[3],
            inst.describe()
        );
    }
}

/// (category, score) of a track's entries: the majority class with the track's score, then up
/// to `n - 1` other classes with votes, most votes first (ties: lower id), scaled by their
/// votes over the majority's.
fn class_hypotheses(t: &TrackInfo, n: usize) -> Vec<(u32, f64)> {
    let top = t.class_id();
    let mut out = vec![(top, t.score())];
    let top_votes = t.class_votes.get(top as usize).copied().unwrap_or(0);
    if n <= 1 || top_votes == 0 {
        return out;
    }
    let mut others: Vec<(u32, u32)> = (1..t.class_votes.len())
        .filter(|&c| c != top as usize && t.class_votes[c] > 0)
        .map(|c| (c as u32, t.class_votes[c]))
        .collect();
    others.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    out.extend(others.into_iter().take(n - 1).map(|(c, v)| (c, t.score() * f64::from(v) / f64::from(top_votes))));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn track(id: u32, class: u32) -> TrackInfo {
        let mut class_votes = vec![0; 4];
        class_votes[class as usize] = 3;
        TrackInfo {
            id,
            first_frame: 0,
            last_frame: 2,
            frames: 2,
            class_votes,
            score_sum: 1.5,
            last_center: [0.0; 2],
            last_radius: 4.0,
            velocity: [0.0; 2],
            occluder: None,
        }
    }

    #[test]
    fn ytvis_entries_have_one_slot_per_frame() {
        let mut c = ResultsCollector::new(3, 4, 2, false);
        // Bypasses add_frame (which needs a pipeline) to test the assembly of entries.
        let ids = [0, 5, 5, 0, 0, 5, 0, 0];
        let rles = encode_label_map(2, 4, &ids, 0u32).expect("size");
        c.segs.entry(5).or_default().push((1, rles[&5].to_compressed_string().into_boxed_str()));
        c.frames_seen = 2;
        let tracks = [track(5, 2), track(9, 1)];
        let mut text = Vec::new();
        assert_eq!(c.write_json_to(&mut text, tracks.iter(), 4).expect("json"), 2);
        let parsed = crate::eval::results_from_json_str(std::str::from_utf8(&text).expect("utf8")).expect("official");
        assert_eq!(parsed.len(), 2);
        assert_eq!((parsed[0].video_id, parsed[0].category_id, parsed[0].score), (3, 2, 0.75));
        assert_eq!(parsed[0].segmentations.len(), 4);
        assert!(parsed[0].segmentations[0].is_none() && parsed[0].segmentations[1].is_some());
        assert!(parsed[1].segmentations.iter().all(Option::is_none));
        assert_eq!(parsed[0].segmentations[1].as_ref().map(crate::rle::Rle::area), Some(3));
        let v: serde_json::Value = serde_json::from_slice(&text).expect("json");
        assert_eq!(
            v[0]["segmentations"][1],
            serde_json::json!({"size": [2, 4], "counts": rles[&5].to_compressed_string()})
        );
    }

    #[test]
    fn a_track_seen_as_several_classes_gives_one_entry_per_class_up_to_the_limit() {
        let mut t = track(5, 2);
        t.class_votes = vec![0, 1, 6, 2];
        t.frames = 9;
        t.score_sum = 4.5;
        assert_eq!(class_hypotheses(&t, 1), vec![(2, 0.5)]);
        assert_eq!(class_hypotheses(&t, 2), vec![(2, 0.5), (3, 0.5 * 2.0 / 6.0)]);
        assert_eq!(class_hypotheses(&t, 5), vec![(2, 0.5), (3, 0.5 * 2.0 / 6.0), (1, 0.5 / 6.0)]);
        // One class only: one entry whatever the limit.
        assert_eq!(class_hypotheses(&track(9, 1), 3).len(), 1);

        let mut c = ResultsCollector::new(3, 4, 2, false).with_class_hypotheses(2);
        let ids = [0, 5, 5, 0, 0, 5, 0, 0];
        let rles = encode_label_map(2, 4, &ids, 0u32).expect("size");
        c.segs.entry(5).or_default().push((1, rles[&5].to_compressed_string().into_boxed_str()));
        c.frames_seen = 2;
        let mut text = Vec::new();
        assert_eq!(c.write_json_to(&mut text, [t].iter(), 2).expect("json"), 1, "one track");
        let parsed = crate::eval::results_from_json_str(std::str::from_utf8(&text).expect("utf8")).expect("official");
        assert_eq!(parsed.iter().map(|r| r.category_id).collect::<Vec<_>>(), vec![2, 3]);
        assert_eq!(parsed[0].segmentations, parsed[1].segmentations, "the same masks");
    }

    #[test]
    fn writing_to_a_missing_folder_is_an_error_naming_the_path() {
        let c = ResultsCollector::new(1, 2, 2, true);
        let bad = Path::new("/nonexistent-ifa-dir/out.csv");
        let e = c.write_csv(bad).expect_err("no such folder");
        assert!(e.to_string().contains("/nonexistent-ifa-dir/out.csv"), "{e}");
    }
}
