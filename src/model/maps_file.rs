//! Recorded head maps: every frame's raw network outputs in one file (`ifa run --save-maps`), so
//! that the post-processing and the assembly can be rerun on them (`--replay-maps`) without the
//! network: tuning `ifa.post` or comparing association modes then costs the assembly's time
//! only, and a replay gives exactly the results of the recorded run.
//!
//! Layout, little-endian: the magic `IFAMAPS1`; the header as 11 `u32` (head height and width,
//! stride, classes, input height and width, video width and height, the references' count,
//! first frame 0/1, step); then per frame the tag `FRME`, its index, its reference count and
//! references, and its planes as `f32` in [`HeadMaps`] order (semantic, center, offset,
//! inter-frame offsets); at the end the tag `DONE` and the number of frames. A file without its
//! end (a run that stopped) is refused as truncated.

use std::fs::File;
use std::io::{self, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use super::{HeadMaps, RefsPolicy};
use crate::fsutil::AtomicFile;

const MAGIC: &[u8; 8] = b"IFAMAPS1";
const FRAME: &[u8; 4] = b"FRME";
const DONE: &[u8; 4] = b"DONE";
/// More references than any model declares: a count above it means a damaged file.
const MAX_REFS: u32 = 64;

/// What a recording was made with; a replay must match it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MapsHeader {
    pub head_h: usize,
    pub head_w: usize,
    pub stride: usize,
    pub num_classes: usize,
    pub input_h: usize,
    pub input_w: usize,
    pub video_w: u32,
    pub video_h: u32,
    pub refs: RefsPolicy,
}

#[derive(Debug, thiserror::Error)]
pub enum MapsFileError {
    #[error("head maps {path}: {source}")]
    Io { path: PathBuf, source: io::Error },
    #[error("{path} is not a head-maps file of this version (ifa run --save-maps writes them)")]
    NotMaps { path: PathBuf },
    #[error("head maps {path} end before frame {frame} (the recording stopped early, or the video differs)")]
    Truncated { path: PathBuf, frame: usize },
    #[error("head maps {path} do not fit this run: {what}")]
    Mismatch { path: PathBuf, what: String },
}

impl MapsHeader {
    fn to_words(self) -> [u32; 11] {
        let r = self.refs;
        let w = |v: usize| u32::try_from(v).unwrap_or(u32::MAX);
        [
            w(self.head_h),
            w(self.head_w),
            w(self.stride),
            w(self.num_classes),
            w(self.input_h),
            w(self.input_w),
            self.video_w,
            self.video_h,
            w(r.count),
            u32::from(r.first_frame),
            w(r.step),
        ]
    }

    fn from_words(w: [u32; 11]) -> Self {
        let u = |i: usize| w[i] as usize;
        Self {
            head_h: u(0),
            head_w: u(1),
            stride: u(2),
            num_classes: u(3),
            input_h: u(4),
            input_w: u(5),
            video_w: w[6],
            video_h: w[7],
            refs: RefsPolicy { count: u(8), first_frame: w[9] != 0, step: u(10) },
        }
    }

    /// Cells of one plane, or `None` for sizes no model has (a damaged header).
    fn cells(&self) -> Option<usize> {
        let n = self.head_h.checked_mul(self.head_w)?;
        (n > 0 && n <= 1 << 24 && self.num_classes < 1024).then_some(n)
    }
}

/// Writes a recording; [`MapsWriter::finish`] puts it in place (until then it is a temporary
/// file beside the destination, removed if the run fails).
pub struct MapsWriter {
    file: AtomicFile,
    out: BufWriter<File>,
    frames: u32,
    /// One frame's bytes, reused.
    bytes: Vec<u8>,
}

impl MapsWriter {
    pub fn create(dest: &Path, header: MapsHeader) -> Result<Self, MapsFileError> {
        let io = |source| MapsFileError::Io { path: dest.to_path_buf(), source };
        let file = AtomicFile::new(dest).map_err(io)?;
        let mut out = BufWriter::with_capacity(1 << 20, File::create(file.path()).map_err(io)?);
        out.write_all(MAGIC).map_err(io)?;
        header.to_words().iter().try_for_each(|v| out.write_all(&v.to_le_bytes())).map_err(io)?;
        Ok(Self { file, out, frames: 0, bytes: Vec::new() })
    }

    /// Appends frame `index`'s maps.
    pub fn write(&mut self, index: usize, maps: &HeadMaps) -> Result<(), MapsFileError> {
        let word = |v: usize| u32::try_from(v).unwrap_or(u32::MAX).to_le_bytes();
        let b = &mut self.bytes;
        b.clear();
        b.extend_from_slice(FRAME);
        b.extend_from_slice(&word(index));
        b.extend_from_slice(&word(maps.refs.len()));
        maps.refs.iter().for_each(|&r| b.extend_from_slice(&word(r)));
        for v in [&maps.semantic, &maps.center, &maps.offset, &maps.inter_offset].into_iter().flatten() {
            b.extend_from_slice(&v.to_le_bytes());
        }
        let path = || self.file.dest().to_path_buf();
        self.out.write_all(b).map_err(|source| MapsFileError::Io { path: path(), source })?;
        self.frames += 1;
        Ok(())
    }

    /// Ends the file and renames it into place.
    pub fn finish(mut self) -> Result<(), MapsFileError> {
        let path = self.file.dest().to_path_buf();
        let r = (|| -> io::Result<()> {
            self.out.write_all(DONE)?;
            self.out.write_all(&self.frames.to_le_bytes())?;
            self.out.flush()?;
            self.out.get_ref().sync_all()?;
            self.file.commit()
        })();
        r.map_err(|source| MapsFileError::Io { path, source })
    }
}

/// Reads a recording frame by frame.
pub struct MapsReader {
    path: PathBuf,
    input: BufReader<File>,
    header: MapsHeader,
    cells: usize,
    frames: usize,
    /// One plane's bytes, reused.
    bytes: Vec<u8>,
}

impl MapsReader {
    pub fn open(path: &Path) -> Result<Self, MapsFileError> {
        let io = |source| MapsFileError::Io { path: path.to_path_buf(), source };
        let mut input = BufReader::with_capacity(1 << 20, File::open(path).map_err(io)?);
        let mut magic = [0u8; 8];
        let mut words = [0u8; 44];
        let not_maps = || MapsFileError::NotMaps { path: path.to_path_buf() };
        input.read_exact(&mut magic).map_err(|_| not_maps())?;
        input.read_exact(&mut words).map_err(|_| not_maps())?;
        let mut w = [0u32; 11];
        for (i, c) in words.chunks_exact(4).enumerate() {
            w[i] = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        }
        let header = MapsHeader::from_words(w);
        let cells = header.cells().filter(|_| &magic == MAGIC).ok_or_else(not_maps)?;
        Ok(Self { path: path.to_path_buf(), input, header, cells, frames: 0, bytes: Vec::new() })
    }

    pub fn header(&self) -> &MapsHeader {
        &self.header
    }

    /// Frames read so far.
    pub fn frames(&self) -> usize {
        self.frames
    }

    /// Reads the next frame into `maps` (its sizes from the header); returns its index, or
    /// `None` at the file's end.
    pub fn next_into(&mut self, maps: &mut HeadMaps) -> Result<Option<usize>, MapsFileError> {
        let at = self.frames;
        let mut tag = [0u8; 4];
        self.input.read_exact(&mut tag).map_err(|_| self.ended_before(at))?;
        if &tag == DONE {
            let n = self.word().map_err(|_| self.ended_before(at))?;
            if n as usize != self.frames {
                return Err(self.mismatch(format!("its end counts {n} frames, it holds {}", self.frames)));
            }
            return Ok(None);
        }
        if &tag != FRAME {
            return Err(MapsFileError::NotMaps { path: self.path.clone() });
        }
        let index = self.word().map_err(|_| self.ended_before(at))? as usize;
        let nrefs = self.word().map_err(|_| self.ended_before(at))?;
        if nrefs > MAX_REFS {
            return Err(MapsFileError::NotMaps { path: self.path.clone() });
        }
        maps.refs.clear();
        for _ in 0..nrefs {
            maps.refs.push(self.word().map_err(|_| self.ended_before(at))? as usize);
        }
        let (h, n) = (self.header, self.cells);
        (maps.h, maps.w, maps.stride, maps.num_classes) = (h.head_h, h.head_w, h.stride, h.num_classes);
        let sizes = [(h.num_classes + 1) * n, n, 2 * n, 2 * n * maps.refs.len()];
        for (plane, len) in
            [&mut maps.semantic, &mut maps.center, &mut maps.offset, &mut maps.inter_offset].into_iter().zip(sizes)
        {
            self.bytes.resize(4 * len, 0);
            self.input.read_exact(&mut self.bytes).map_err(|_| self.ended_before(at))?;
            plane.clear();
            plane.extend(self.bytes.chunks_exact(4).map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]])));
        }
        self.frames += 1;
        Ok(Some(index))
    }

    fn word(&mut self) -> io::Result<u32> {
        let mut b = [0u8; 4];
        self.input.read_exact(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    /// An error saying the recording has no frame `frame` (its video was shorter).
    pub fn ended_before(&self, frame: usize) -> MapsFileError {
        MapsFileError::Truncated { path: self.path.clone(), frame }
    }

    /// An error saying the recording does not fit what replays it.
    pub fn mismatch(&self, what: String) -> MapsFileError {
        MapsFileError::Mismatch { path: self.path.clone(), what }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> MapsHeader {
        MapsHeader {
            head_h: 3,
            head_w: 4,
            stride: 4,
            num_classes: 2,
            input_h: 12,
            input_w: 16,
            video_w: 32,
            video_h: 20,
            refs: RefsPolicy { count: 2, first_frame: true, step: 1 },
        }
    }

    fn maps(seed: f32, refs: Vec<usize>) -> HeadMaps {
        let n = 12;
        let v = |len: usize, k: f32| (0..len).map(|i| seed + k * i as f32).collect::<Vec<f32>>();
        HeadMaps {
            h: 3,
            w: 4,
            stride: 4,
            num_classes: 2,
            semantic: v(3 * n, 0.5),
            center: v(n, 0.01),
            offset: v(2 * n, -1.5),
            inter_offset: v(2 * n * refs.len(), 2.25),
            refs,
        }
    }

    #[test]
    fn a_recording_reads_back_bit_for_bit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.maps");
        let frames = [maps(0.0, vec![]), maps(1.0, vec![0]), maps(-2.0, vec![1, 0])];
        let mut w = MapsWriter::create(&path, header()).unwrap();
        for (i, m) in frames.iter().enumerate() {
            w.write(i, m).unwrap();
        }
        assert!(!path.exists(), "the file appears only when finished");
        w.finish().unwrap();
        let mut r = MapsReader::open(&path).unwrap();
        assert_eq!(*r.header(), header());
        let mut got = HeadMaps::default();
        for (i, m) in frames.iter().enumerate() {
            assert_eq!(r.next_into(&mut got).unwrap(), Some(i));
            assert_eq!(&got, m);
        }
        assert_eq!(r.next_into(&mut got).unwrap(), None);
        assert_eq!(r.frames(), 3);
    }

    #[test]
    fn damaged_files_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("v.maps");
        let mut w = MapsWriter::create(&path, header()).unwrap();
        w.write(0, &maps(0.0, vec![])).unwrap();
        w.write(1, &maps(0.0, vec![0])).unwrap();
        w.finish().unwrap();
        let bytes = std::fs::read(&path).unwrap();
        // Cut inside the second frame: the first reads, the second is truncated.
        let cut = dir.path().join("cut.maps");
        std::fs::write(&cut, &bytes[..bytes.len() - 20]).unwrap();
        let mut r = MapsReader::open(&cut).unwrap();
        let mut m = HeadMaps::default();
        assert_eq!(r.next_into(&mut m).unwrap(), Some(0));
        assert!(matches!(r.next_into(&mut m), Err(MapsFileError::Truncated { frame: 1, .. })));
        // Not a recording at all, or an empty one.
        let other = dir.path().join("other.maps");
        std::fs::write(&other, b"{\"videos\": []}\n and more text than a header holds, in all").unwrap();
        assert!(matches!(MapsReader::open(&other), Err(MapsFileError::NotMaps { .. })));
        std::fs::write(&other, b"").unwrap();
        assert!(matches!(MapsReader::open(&other), Err(MapsFileError::NotMaps { .. })));
        // A writer dropped without finishing leaves nothing.
        let unfinished = dir.path().join("unfinished.maps");
        drop(MapsWriter::create(&unfinished, header()).unwrap());
        assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 3);
    }
}
