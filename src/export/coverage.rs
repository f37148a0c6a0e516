//! Which frames of a video were decoded: a damaged or truncated file is decoded as far as it
//! goes, and this says how far, so that `ifa run`/`ifa export` can name the missing frames and
//! refuse to pass partial results off as whole ones.

use std::fmt;

/// Decoded frames against the frames the container's index lists.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Coverage {
    /// Frames in the index.
    pub expected: usize,
    /// Frames decoded.
    pub decoded: usize,
    /// Frames skipped between decoded ones, as inclusive ranges.
    pub gaps: Vec<(usize, usize)>,
    /// The decoder's message when it gave up (the rest of the file is not read).
    pub error: Option<String>,
    /// Packets the demuxer could not read (see [`crate::decode::FrameIndex::unreadable`]).
    pub unreadable_packets: usize,
    /// One past the highest frame decoded.
    next: usize,
}

impl Coverage {
    pub fn new(expected: usize) -> Self {
        Self { expected, ..Self::default() }
    }

    /// For reading all of `reader`'s video.
    pub fn for_reader(reader: &crate::decode::VideoReader) -> Self {
        Self { unreadable_packets: reader.index().unreadable(), ..Self::new(reader.expected_frames()) }
    }

    /// Frame `index` (display order) was decoded.
    pub fn saw(&mut self, index: usize) {
        if index > self.next {
            self.gaps.push((self.next, index - 1));
        }
        self.next = self.next.max(index + 1);
        self.decoded += 1;
    }

    /// The next frame of `reader`, recorded: `None` at the end, or when decoding broke down for
    /// good (the message is kept and the rest of the file is not read). Other errors (I/O,
    /// the decoder's own setup) are returned.
    pub fn read_next(
        &mut self,
        reader: &mut crate::decode::VideoReader,
    ) -> Result<Option<crate::decode::DecodedFrame>, crate::decode::DecodeError> {
        match reader.next_frame() {
            Ok(Some(frame)) => {
                self.saw(frame.index);
                Ok(Some(frame))
            }
            Ok(None) => Ok(None),
            Err(crate::decode::DecodeError::Corrupt { message, .. }) => {
                self.stopped(message);
                Ok(None)
            }
            Err(e) => Err(e),
        }
    }

    /// Decoding failed for good with `message`.
    pub fn stopped(&mut self, message: String) {
        self.error = Some(message);
    }

    /// The frames after the last decoded one, if any are missing.
    pub fn missing_tail(&self) -> Option<(usize, usize)> {
        (self.next < self.expected).then(|| (self.next, self.expected - 1))
    }

    /// Every frame of the index was decoded.
    pub fn is_complete(&self) -> bool {
        self.gaps.is_empty() && self.missing_tail().is_none() && self.error.is_none() && self.unreadable_packets == 0
    }
}

impl fmt::Display for Coverage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "decoded {} of {} frames", self.decoded, self.expected)?;
        let ranges: Vec<(usize, usize)> = self.gaps.iter().copied().chain(self.missing_tail()).collect();
        if !ranges.is_empty() {
            const SHOWN: usize = 5;
            let mut list: Vec<String> = ranges
                .iter()
                .take(SHOWN)
                .map(|&(a, b)| if a == b { a.to_string() } else { format!("{a}-{b}") })
                .collect();
            if ranges.len() > SHOWN {
                list.push(format!("and {} more ranges", ranges.len() - SHOWN));
            }
            let noun = if ranges.len() == 1 && ranges[0].0 == ranges[0].1 { "frame" } else { "frames" };
            write!(f, "; {noun} {} could not be decoded", list.join(", "))?;
        }
        match (&self.error, self.missing_tail()) {
            (Some(e), _) => write!(f, "; decoding failed near frame {}: {e}", self.next)?,
            (None, Some(_)) if self.next > 0 => {
                write!(f, "; the stream ends after frame {} (the file may be truncated)", self.next - 1)?;
            }
            _ => {}
        }
        match self.unreadable_packets {
            0 => Ok(()),
            1 => write!(f, "; 1 packet of the file could not be read"),
            n => write!(f, "; {n} packets of the file could not be read"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gaps_and_tails_are_named() {
        let mut c = Coverage::new(10);
        for i in [0, 1, 2, 5, 6, 8] {
            c.saw(i);
        }
        assert!(!c.is_complete());
        assert_eq!(
            c.to_string(),
            "decoded 6 of 10 frames; frames 3-4, 7, 9 could not be decoded; the stream ends after frame 8 (the file may be truncated)"
        );
        let mut whole = Coverage::new(3);
        (0..3).for_each(|i| whole.saw(i));
        assert!(whole.is_complete());
        assert_eq!(whole.to_string(), "decoded 3 of 3 frames");
        whole.unreadable_packets = 2;
        assert!(!whole.is_complete());
        assert_eq!(whole.to_string(), "decoded 3 of 3 frames; 2 packets of the file could not be read");
        let mut broken = Coverage::new(4);
        broken.saw(0);
        broken.stopped("Invalid data".to_owned());
        assert_eq!(
            broken.to_string(),
            "decoded 1 of 4 frames; frames 1-3 could not be decoded; decoding failed near frame 1: Invalid data"
        );
    }
}
