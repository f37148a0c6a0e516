//! The frame index: every video packet's presentation timestamp, sorted, built at open by
//! demuxing (no decoding), so that frame N has one exact timestamp to seek to.

use std::path::Path;

use ffmpeg_next as ff;

use super::DecodeError;

/// Presentation timestamps of all frames of one stream, in display order.
#[derive(Clone, Debug, Default)]
pub struct FrameIndex {
    /// Timestamps in stream time-base units, ascending.
    pts: Vec<i64>,
    /// Whether the frame's packet is a keyframe (a safe place to start decoding).
    key: Vec<bool>,
    /// Packets the demuxer could not read (a damaged or truncated file).
    unreadable: usize,
}

impl FrameIndex {
    /// Reads every packet of `stream` from the current position to the end.
    pub(super) fn build(
        input: &mut ff::format::context::Input,
        stream: usize,
        path: &Path,
    ) -> Result<Self, DecodeError> {
        let mut entries: Vec<(i64, bool)> = Vec::new();
        let mut packet = ff::Packet::empty();
        let mut synthetic = 0i64;
        let mut unreadable = 0;
        loop {
            match packet.read(input) {
                Ok(()) => {}
                Err(ff::Error::Eof) => break,
                // A damaged packet (or, in a cut MP4, every sample past the end): the demuxer
                // can resync past it.
                Err(ff::Error::InvalidData) => {
                    unreadable += 1;
                    continue;
                }
                Err(e) => {
                    // A truncated or unreadable tail ends the index; what came before stays usable.
                    if entries.is_empty() {
                        return Err(DecodeError::Unreadable { path: path.to_path_buf(), message: e.to_string() });
                    }
                    unreadable += 1;
                    break;
                }
            }
            // A packet cut short (the file ends inside it) is kept but counts as damaged.
            if packet.is_corrupt() {
                unreadable += 1;
            }
            if packet.stream() != stream {
                continue;
            }
            // The MP4 demuxer marks packets outside the edit list; decoders drop their frames.
            if packet.flags().bits() & ff::ffi::AV_PKT_FLAG_DISCARD != 0 {
                continue;
            }
            let ts = match packet.pts().or(packet.dts()) {
                Some(ts) => ts,
                // No timestamps at all (rare raw streams): decode order is display order.
                None => entries.last().map_or(synthetic, |&(t, _)| t + 1),
            };
            synthetic += 1;
            entries.push((ts, packet.is_key()));
        }
        entries.sort_by_key(|&(ts, _)| ts);
        let (pts, key) = entries.into_iter().unzip();
        Ok(Self { pts, key, unreadable })
    }

    /// `n` frames numbered 0, 1, … in time-base units, each a keyframe (a folder of pictures).
    pub(super) fn sequential(n: usize) -> Self {
        Self { pts: (0..n as i64).collect(), key: vec![true; n], unreadable: 0 }
    }

    /// Packets the demuxer could not read while indexing: nonzero for a damaged or cut file,
    /// whose frames then cannot all be decoded.
    pub fn unreadable(&self) -> usize {
        self.unreadable
    }

    /// Number of frames.
    pub fn len(&self) -> usize {
        self.pts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.pts.is_empty()
    }

    /// Timestamp of frame `n` in stream time-base units.
    pub fn pts(&self, n: usize) -> Option<i64> {
        self.pts.get(n).copied()
    }

    /// All timestamps, ascending.
    pub fn all_pts(&self) -> &[i64] {
        &self.pts
    }

    /// The frame shown at timestamp `ts`: exact match, or the last frame starting before it.
    pub fn frame_at(&self, ts: i64) -> usize {
        match self.pts.binary_search(&ts) {
            Ok(i) => i,
            Err(0) => 0,
            Err(i) => i - 1,
        }
    }

    /// The exact frame with timestamp `ts`, if any.
    pub fn exact(&self, ts: i64) -> Option<usize> {
        self.pts.binary_search(&ts).ok()
    }

    /// The nearest keyframe at or before frame `n` (0 if none is marked).
    pub fn keyframe_before(&self, n: usize) -> usize {
        (0..=n.min(self.key.len().saturating_sub(1))).rev().find(|&i| self.key[i]).unwrap_or(0)
    }

    /// Whether successive frame durations differ (variable frame rate), allowing one tick of
    /// rounding jitter.
    pub fn is_variable_rate(&self) -> bool {
        let d: Vec<i64> = self.pts.windows(2).map(|w| w[1] - w[0]).collect();
        match (d.iter().min(), d.iter().max()) {
            (Some(lo), Some(hi)) => hi - lo > 1.max(*lo / 100),
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookups() {
        let idx = FrameIndex { pts: vec![0, 512, 1024, 2048], key: vec![true, false, true, false], unreadable: 0 };
        assert_eq!(idx.frame_at(600), 1);
        assert_eq!(idx.frame_at(-5), 0);
        assert_eq!(idx.exact(1024), Some(2));
        assert_eq!(idx.exact(1000), None);
        assert_eq!(idx.keyframe_before(3), 2);
        assert_eq!(idx.keyframe_before(1), 0);
        assert!(idx.is_variable_rate());
        let cfr = FrameIndex { pts: vec![0, 512, 1024, 1537], key: vec![true; 4], unreadable: 0 };
        assert!(!cfr.is_variable_rate());
    }
}
