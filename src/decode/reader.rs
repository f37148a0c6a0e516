//! Sequential and random-access decoding to RGB, exact to the frame.

use std::path::{Path, PathBuf};

use ff::software::scaling;
use ffmpeg_next as ff;

use super::frames::FrameFolder;
use super::index::FrameIndex;
use super::probe::{AudioInfo, VideoInfo, rational, rotation_of};
use super::rotate::rotate_clockwise;
use super::{DecodeError, init_ffmpeg};
use crate::frame::RgbFrame;

/// One decoded frame.
#[derive(Clone, Debug)]
pub struct DecodedFrame {
    /// Frame number in display order, 0-based.
    pub index: usize,
    /// Presentation time in seconds from the stream's time base.
    pub pts_seconds: f64,
    pub image: RgbFrame,
}

/// Reads a video's frames in display order, or exactly frame N after [`VideoReader::seek`]:
/// a video file (through FFmpeg) or a folder of JPEG/PNG frames, behind one API.
#[derive(Debug)]
pub struct VideoReader {
    source: Source,
}

#[derive(Debug)]
enum Source {
    File(FileReader),
    Frames(FrameFolder),
}

/// What a second reader of an open video needs to start without indexing the file again (a
/// full demux of it): plain data that may go to another thread. From [`VideoReader::indexed`].
#[derive(Clone, Debug)]
pub struct IndexedVideo {
    source: IndexedSource,
}

#[derive(Clone, Debug)]
enum IndexedSource {
    File { path: PathBuf, index: FrameIndex },
    Frames(Box<FrameFolder>),
}

/// Forwards a call to whichever source the reader holds.
macro_rules! each {
    ($self:expr, $r:ident => $e:expr) => {
        match &$self.source {
            Source::File($r) => $e,
            Source::Frames($r) => $e,
        }
    };
    (mut $self:expr, $r:ident => $e:expr) => {
        match &mut $self.source {
            Source::File($r) => $e,
            Source::Frames($r) => $e,
        }
    };
}

/// The largest frame side ifa opens: 8K DCI width with room, within what H.264/HEVC levels allow.
pub const MAX_SIDE: u32 = 8192;
/// The largest frame area ifa opens (8192x4320 and a bit more). One RGB frame is then at most
/// about 110 MB, and the viewer and exporter hold a few of them at a time.
pub const MAX_PIXELS: u64 = 36_000_000;

impl VideoReader {
    /// Opens a video file (building its frame index), or a folder of frames at the process's
    /// frame-folder rate ([`super::folder_fps`]).
    pub fn open(path: &Path) -> Result<Self, DecodeError> {
        if path.is_dir() {
            return Self::open_folder(path, super::folder_fps());
        }
        Self { source: Source::File(FileReader::open(path)?) }.checked_size()
    }

    /// Opens a folder of JPEG/PNG frames, in name order, shown at `fps`.
    pub fn open_folder(folder: &Path, fps: f64) -> Result<Self, DecodeError> {
        Self { source: Source::Frames(FrameFolder::open(folder, fps)?) }.checked_size()
    }

    /// Reads the given frame files, in this order, as one video shown at `fps`; `name` stands
    /// for the video in errors and in [`VideoInfo::path`].
    pub fn from_frames(name: &Path, files: Vec<PathBuf>, fps: f64) -> Result<Self, DecodeError> {
        Self { source: Source::Frames(FrameFolder::from_files(name, files, fps)?) }.checked_size()
    }

    /// What another reader of this video needs to open without indexing it again.
    pub fn indexed(&self) -> IndexedVideo {
        let source = match &self.source {
            Source::File(r) => IndexedSource::File { path: r.path.clone(), index: r.index.clone() },
            Source::Frames(f) => IndexedSource::Frames(Box::new(f.rewound())),
        };
        IndexedVideo { source }
    }

    /// A second reader of a video another reader opened ([`VideoReader::indexed`]), at its
    /// first frame; the file is opened again but not indexed again.
    pub fn open_indexed(video: IndexedVideo) -> Result<Self, DecodeError> {
        let source = match video.source {
            IndexedSource::File { path, index } => Source::File(FileReader::with_index(&path, index)?),
            IndexedSource::Frames(f) => Source::Frames(*f),
        };
        Self { source }.checked_size()
    }

    /// Refuses frames too large to hold a few of in memory (see [`MAX_SIDE`]).
    fn checked_size(self) -> Result<Self, DecodeError> {
        let info = self.info();
        let (w, h) = (info.width, info.height);
        if w > MAX_SIDE || h > MAX_SIDE || u64::from(w) * u64::from(h) > MAX_PIXELS {
            return Err(DecodeError::TooLarge {
                path: info.path.clone(),
                width: w,
                height: h,
                max_side: MAX_SIDE,
                max_mpx: (MAX_PIXELS / 1_000_000) as u32,
            });
        }
        Ok(self)
    }

    pub fn info(&self) -> &VideoInfo {
        each!(self, r => r.info())
    }

    pub fn index(&self) -> &FrameIndex {
        each!(self, r => r.index())
    }

    pub fn frame_count(&self) -> usize {
        each!(self, r => r.frame_count())
    }

    /// The frames a complete file would have: the index's count, or, when the demuxer could
    /// not read every packet (a cut or damaged file), the count the container declares if it
    /// is larger (an MP4 lists every sample in its header).
    pub fn expected_frames(&self) -> usize {
        each!(self, r => r.expected_frames())
    }

    /// Presentation time of frame `n` in seconds.
    pub fn time_of(&self, n: usize) -> Option<f64> {
        each!(self, r => r.time_of(n))
    }

    /// Positions the reader so that the next [`VideoReader::next_frame`] returns frame `n`.
    pub fn seek(&mut self, n: usize) -> Result<(), DecodeError> {
        each!(mut self, r => r.seek(n))
    }

    /// Decodes and returns exactly frame `n`.
    pub fn read_frame(&mut self, n: usize) -> Result<DecodedFrame, DecodeError> {
        each!(mut self, r => r.read_frame(n))
    }

    /// The next frame in display order, or `None` at the end.
    pub fn next_frame(&mut self) -> Result<Option<DecodedFrame>, DecodeError> {
        each!(mut self, r => r.next_frame())
    }
}

/// Frames this close after the read position are reached by decoding forward, not seeking.
const FORWARD_DECODE_LIMIT: usize = 24;

/// A video file read through FFmpeg (the frame-folder case is [`super::frames::FrameFolder`]).
pub(super) struct FileReader {
    path: PathBuf,
    input: ff::format::context::Input,
    stream: usize,
    decoder: ff::decoder::Video,
    scaler: Option<(scaling::Context, ff::format::Pixel, u32, u32)>,
    info: VideoInfo,
    index: FrameIndex,
    time_base: f64,
    /// Decoded frames below this index are dropped (we are decoding forward to a seek target).
    skip_until: usize,
    /// Index the next decoded frame should have when it carries no usable timestamp.
    next_expected: usize,
    /// Set after a seek until the first frame arrives, to detect a seek that landed too late.
    after_seek: bool,
    eof_sent: bool,
    decoded: ff::frame::Video,
    rgb: ff::frame::Video,
}

impl std::fmt::Debug for FileReader {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FileReader").field("info", &self.info).finish_non_exhaustive()
    }
}

fn open_input(path: &Path) -> Result<(ff::format::context::Input, usize), DecodeError> {
    init_ffmpeg();
    if !path.exists() {
        return Err(DecodeError::NotFound { path: path.to_path_buf() });
    }
    // A FIFO would be drained by the index and then hang the second open; a device may never end.
    crate::fsutil::require_regular_file(path)
        .map_err(|e| DecodeError::NotAFile { path: path.to_path_buf(), reason: e.to_string() })?;
    let input = ff::format::input(path)
        .map_err(|e| DecodeError::Unreadable { path: path.to_path_buf(), message: e.to_string() })?;
    let stream = input
        .streams()
        .best(ff::media::Type::Video)
        .ok_or_else(|| DecodeError::NoVideo { path: path.to_path_buf() })?
        .index();
    Ok((input, stream))
}

fn open_decoder(
    input: &ff::format::context::Input,
    stream: usize,
    path: &Path,
) -> Result<ff::decoder::Video, DecodeError> {
    let st = input.stream(stream).ok_or_else(|| DecodeError::NoVideo { path: path.to_path_buf() })?;
    let params = st.parameters();
    let codec_name = ff::codec::decoder::find(params.id()).map(|c| c.name().to_owned());
    let mut ctx = ff::codec::context::Context::from_parameters(params)
        .map_err(|e| DecodeError::Unreadable { path: path.to_path_buf(), message: e.to_string() })?;
    ctx.set_threading(ff::codec::threading::Config {
        kind: ff::codec::threading::Type::Frame,
        count: 2,
        ..Default::default()
    });
    ctx.decoder().video().map_err(|_| DecodeError::UnsupportedCodec {
        path: path.to_path_buf(),
        codec: codec_name.unwrap_or_else(|| format!("{:?}", st.parameters().id())),
    })
}

impl FileReader {
    /// Opens a video and builds its frame index.
    pub fn open(path: &Path) -> Result<Self, DecodeError> {
        let (mut input, stream) = open_input(path)?;
        let index = FrameIndex::build(&mut input, stream, path)?;
        // Reopen rather than seek back: some demuxers cannot seek to the very start exactly.
        drop(input);
        Self::with_index(path, index)
    }

    /// Opens a video whose frame index is known (built by an earlier reader of the same file).
    fn with_index(path: &Path, index: FrameIndex) -> Result<Self, DecodeError> {
        if index.is_empty() {
            return Err(DecodeError::NoFrames { path: path.to_path_buf() });
        }
        let (input, stream) = open_input(path)?;
        let decoder = open_decoder(&input, stream, path)?;
        let info = describe(&input, stream, &decoder, &index, path);
        let tb = input.stream(stream).map(|s| f64::from(s.time_base())).unwrap_or(0.0);
        Ok(Self {
            path: path.to_path_buf(),
            input,
            stream,
            decoder,
            scaler: None,
            info,
            index,
            time_base: tb,
            skip_until: 0,
            next_expected: 0,
            after_seek: false,
            eof_sent: false,
            decoded: ff::frame::Video::empty(),
            rgb: ff::frame::Video::empty(),
        })
    }

    pub fn info(&self) -> &VideoInfo {
        &self.info
    }

    pub fn index(&self) -> &FrameIndex {
        &self.index
    }

    pub fn frame_count(&self) -> usize {
        self.index.len()
    }

    /// The frames a complete file would have: the index's count, or, when the demuxer could
    /// not read every packet (a cut or damaged file), the count the container declares if it
    /// is larger (an MP4 lists every sample in its header).
    pub fn expected_frames(&self) -> usize {
        let declared = self.input.stream(self.stream).map_or(0, |s| usize::try_from(s.frames()).unwrap_or(0));
        if self.index.unreadable() > 0 { self.index.len().max(declared) } else { self.index.len() }
    }

    /// Presentation time of frame `n` in seconds.
    pub fn time_of(&self, n: usize) -> Option<f64> {
        self.index.pts(n).map(|ts| ts as f64 * self.time_base)
    }

    /// Positions the reader so that the next [`FileReader::next_frame`] returns frame `n`.
    pub fn seek(&mut self, n: usize) -> Result<(), DecodeError> {
        let count = self.index.len();
        if n >= count {
            return Err(DecodeError::OutOfRange { path: self.path.clone(), frame: n, count });
        }
        // Stepping forward a little: decoding on is cheaper than seeking.
        let pos = self.skip_until.max(self.next_expected);
        if !self.eof_sent && n >= pos && n - pos <= FORWARD_DECODE_LIMIT && self.index.keyframe_before(n) <= pos {
            self.skip_until = n;
            return Ok(());
        }
        let key = self.index.keyframe_before(n);
        if key == 0 {
            self.restart()?;
        } else {
            let ts = self.index.pts(key).unwrap_or(0);
            let st = self.input.stream(self.stream).map(|s| s.time_base()).unwrap_or(ff::Rational(1, 1));
            // Round down into microseconds so the demuxer lands at or before the keyframe.
            let us = (i128::from(ts) * i128::from(st.numerator()) * 1_000_000)
                .div_euclid(i128::from(st.denominator().max(1))) as i64;
            if self.input.seek(us, ..us).is_err() {
                self.restart()?;
            } else {
                self.decoder.flush();
                self.eof_sent = false;
                self.next_expected = key;
            }
        }
        self.skip_until = n;
        self.after_seek = true;
        Ok(())
    }

    /// Decodes and returns exactly frame `n`.
    pub fn read_frame(&mut self, n: usize) -> Result<DecodedFrame, DecodeError> {
        self.seek(n)?;
        match self.next_frame()? {
            Some(f) if f.index == n => Ok(f),
            Some(f) => Err(DecodeError::Corrupt {
                path: self.path.clone(),
                frame: n,
                message: format!("decoder produced frame {} instead", f.index),
            }),
            None => Err(DecodeError::Corrupt {
                path: self.path.clone(),
                frame: n,
                message: "the stream ended before this frame".to_owned(),
            }),
        }
    }

    /// Back to the first frame by reopening (always exact).
    fn restart(&mut self) -> Result<(), DecodeError> {
        let (input, stream) = open_input(&self.path)?;
        self.decoder = open_decoder(&input, stream, &self.path)?;
        self.input = input;
        self.stream = stream;
        self.eof_sent = false;
        self.next_expected = 0;
        self.skip_until = 0;
        self.after_seek = false;
        Ok(())
    }

    /// The next frame in display order, or `None` at the end.
    pub fn next_frame(&mut self) -> Result<Option<DecodedFrame>, DecodeError> {
        loop {
            match self.decoder.receive_frame(&mut self.decoded) {
                Ok(()) => {
                    let idx = self.frame_number();
                    self.next_expected = idx + 1;
                    if self.after_seek {
                        self.after_seek = false;
                        if idx > self.skip_until {
                            // The seek landed past the target (a mislabelled keyframe): start over.
                            let target = self.skip_until;
                            self.restart()?;
                            self.skip_until = target;
                            continue;
                        }
                    }
                    if idx < self.skip_until {
                        continue;
                    }
                    let image = self.convert(idx)?;
                    let pts_seconds = self.time_of(idx).unwrap_or(0.0);
                    return Ok(Some(DecodedFrame { index: idx, pts_seconds, image }));
                }
                Err(ff::Error::Eof) => return Ok(None),
                Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => self.feed()?,
                Err(e) => {
                    return Err(DecodeError::Corrupt {
                        path: self.path.clone(),
                        frame: self.next_expected,
                        message: e.to_string(),
                    });
                }
            }
        }
    }

    /// Sends the next packet of our stream to the decoder, or end-of-stream.
    fn feed(&mut self) -> Result<(), DecodeError> {
        if self.eof_sent {
            // Nothing more will come; the decoder answers Eof next.
            return Ok(());
        }
        let mut packet = ff::Packet::empty();
        loop {
            match packet.read(&mut self.input) {
                Ok(()) if packet.stream() == self.stream => {
                    match self.decoder.send_packet(&packet) {
                        // A damaged packet (e.g. the cut end of a truncated file) is skipped.
                        Ok(()) | Err(ff::Error::InvalidData) => return Ok(()),
                        Err(ff::Error::Other { errno }) if errno == ff::util::error::EAGAIN => return Ok(()),
                        Err(e) => {
                            return Err(DecodeError::Corrupt {
                                path: self.path.clone(),
                                frame: self.next_expected,
                                message: e.to_string(),
                            });
                        }
                    }
                }
                Ok(()) | Err(ff::Error::InvalidData) => {}
                Err(_) => {
                    // End of file, or an unreadable tail: flush what the decoder holds.
                    self.decoder.send_eof().ok();
                    self.eof_sent = true;
                    return Ok(());
                }
            }
        }
    }

    /// The display-order number of the frame just decoded.
    fn frame_number(&self) -> usize {
        self.decoded
            .timestamp()
            .or(self.decoded.pts())
            .and_then(|ts| self.index.exact(ts))
            .unwrap_or(self.next_expected)
    }

    fn convert(&mut self, idx: usize) -> Result<RgbFrame, DecodeError> {
        let (fmt, w, h) = (self.decoded.format(), self.decoded.width(), self.decoded.height());
        let stale = !matches!(&self.scaler, Some((_, f, sw, sh)) if *f == fmt && *sw == w && *sh == h);
        if stale {
            let ctx = scaling::Context::get(fmt, w, h, ff::format::Pixel::RGB24, w, h, scaling::Flags::BILINEAR)
                .map_err(|e| DecodeError::Corrupt { path: self.path.clone(), frame: idx, message: e.to_string() })?;
            self.scaler = Some((ctx, fmt, w, h));
        }
        let Some((scaler, ..)) = self.scaler.as_mut() else { unreachable!("scaler was just created") };
        scaler.run(&self.decoded, &mut self.rgb).map_err(|e| DecodeError::Corrupt {
            path: self.path.clone(),
            frame: idx,
            message: e.to_string(),
        })?;
        // swscale pads rows; copy them out tightly packed.
        let stride = self.rgb.stride(0);
        let row = w as usize * 3;
        let src = self.rgb.data(0);
        let mut data = Vec::with_capacity(row * h as usize);
        for y in 0..h as usize {
            data.extend_from_slice(&src[y * stride..y * stride + row]);
        }
        Ok(rotate_clockwise(RgbFrame { width: w, height: h, data }, self.info.rotation))
    }
}

fn describe(
    input: &ff::format::context::Input,
    stream: usize,
    decoder: &ff::decoder::Video,
    index: &FrameIndex,
    path: &Path,
) -> VideoInfo {
    let st = input.stream(stream).expect("stream index came from this input");
    let tb = f64::from(st.time_base());
    let rotation = rotation_of(&st);
    let (cw, ch) = (decoder.width(), decoder.height());
    let (width, height) = if rotation % 180 == 90 { (ch, cw) } else { (cw, ch) };
    let n = index.len();
    let pts = index.all_pts();
    let first = pts.first().copied().unwrap_or(0);
    let last = pts.last().copied().unwrap_or(0);
    let span = (last - first) as f64 * tb;
    let avg_fps = if n >= 2 && span > 0.0 { (n - 1) as f64 / span } else { f64::from(st.avg_frame_rate()) };
    let nominal = if st.avg_frame_rate().numerator() > 0 { st.avg_frame_rate() } else { st.rate() };
    let container_dur = input.duration();
    let duration = if container_dur > 0 {
        container_dur as f64 / f64::from(ff::ffi::AV_TIME_BASE)
    } else if avg_fps > 0.0 {
        span + 1.0 / avg_fps
    } else {
        span
    };
    let audio = input.streams().best(ff::media::Type::Audio).map(|a| {
        let p = a.parameters();
        let codec = ff::codec::decoder::find(p.id()).map_or_else(|| format!("{:?}", p.id()), |c| c.name().to_owned());
        let (sample_rate, channels) = ff::codec::context::Context::from_parameters(p)
            .ok()
            .and_then(|c| c.decoder().audio().ok())
            .map_or((0, 0), |d| (d.rate(), d.channels()));
        AudioInfo { codec, sample_rate, channels }
    });
    let codec = ff::codec::decoder::find(st.parameters().id())
        .map_or_else(|| format!("{:?}", st.parameters().id()), |c| c.name().to_owned());
    VideoInfo {
        path: path.to_path_buf(),
        container: input.format().name().to_owned(),
        container_long: input.format().description().to_owned(),
        video_codec: codec,
        pixel_format: format!("{:?}", decoder.format()).to_lowercase(),
        coded_width: cw,
        coded_height: ch,
        rotation,
        width,
        height,
        time_base: rational(st.time_base()),
        frame_rate: rational(nominal),
        avg_fps,
        variable_frame_rate: index.is_variable_rate(),
        duration,
        frame_count: n,
        start_time: first as f64 * tb,
        audio,
    }
}
