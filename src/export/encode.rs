//! H.264 MP4 writing that plays everywhere: yuv420p, faststart, the source's frame rate and
//! time base, the source's audio carried over. Written to a temporary file beside the target
//! and renamed only by [`VideoWriter::finish`], so a failure never leaves a broken file.

use std::path::{Path, PathBuf};

use ff::software::scaling;
use ffmpeg_next as ff;

use super::audio::AudioCarrier;
use crate::decode::init_ffmpeg;
use crate::frame::RgbFrame;
use crate::fsutil::AtomicFile;

#[derive(Debug, thiserror::Error)]
pub enum EncodeError {
    #[error("cannot create {path}: {source}")]
    Create { path: PathBuf, source: std::io::Error },
    #[error("FFmpeg has no H.264 encoder (libx264)")]
    NoEncoder,
    #[error("writing {path}: {message}")]
    Ffmpeg { path: PathBuf, message: String },
    #[error("frame of {got_w}x{got_h} given to a {want_w}x{want_h} video")]
    FrameSize { got_w: u32, got_h: u32, want_w: u32, want_h: u32 },
    #[error("audio from {source_path}: {message}")]
    Audio { source_path: PathBuf, message: String },
    #[error("cannot move the finished video to {path}: {source}")]
    Commit { path: PathBuf, source: std::io::Error },
}

/// How to encode.
#[derive(Clone, Debug)]
pub struct EncodeOptions {
    /// Nominal frame rate (numerator, denominator).
    pub frame_rate: (i32, i32),
    /// Time base of the timestamps given to [`VideoWriter::write_frame`]; `None` = 1/frame rate.
    pub time_base: Option<(i32, i32)>,
    /// x264 constant rate factor (lower is better; 18 is visually lossless).
    pub crf: u8,
    /// x264 preset.
    pub preset: String,
    /// Encoder threads; 0 lets x264 choose.
    pub threads: usize,
    /// Carry the audio of this file over (copied when MP4 can hold it, otherwise AAC).
    pub audio_from: Option<PathBuf>,
}

impl Default for EncodeOptions {
    fn default() -> Self {
        Self {
            frame_rate: (25, 1),
            time_base: None,
            crf: 20,
            preset: "veryfast".to_owned(),
            threads: 0,
            audio_from: None,
        }
    }
}

/// An MP4 being written.
pub struct VideoWriter {
    file: AtomicFile,
    octx: ff::format::context::Output,
    encoder: ff::encoder::Video,
    stream: usize,
    enc_tb: ff::Rational,
    ost_tb: ff::Rational,
    ticks_per_frame: i64,
    width: u32,
    height: u32,
    scaler: scaling::Context,
    rgb: ff::frame::Video,
    yuv: ff::frame::Video,
    frames: u64,
    audio: Option<AudioCarrier>,
}

impl std::fmt::Debug for VideoWriter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoWriter")
            .field("dest", &self.file.dest())
            .field("frames", &self.frames)
            .finish_non_exhaustive()
    }
}

impl VideoWriter {
    /// Starts a `width`×`height` H.264 MP4 at `dest` (odd sizes are padded by one pixel on
    /// the right/bottom, since yuv420p needs even sizes).
    pub fn create(dest: &Path, width: u32, height: u32, opts: &EncodeOptions) -> Result<Self, EncodeError> {
        init_ffmpeg();
        let file = AtomicFile::new(dest).map_err(|source| EncodeError::Create { path: dest.to_path_buf(), source })?;
        let ffe = |e: ff::Error| EncodeError::Ffmpeg { path: dest.to_path_buf(), message: e.to_string() };
        let mut octx = ff::format::output_as(file.path(), "mp4").map_err(ffe)?;
        let codec = ff::encoder::find_by_name("libx264").ok_or(EncodeError::NoEncoder)?;
        let global_header = octx.format().flags().contains(ff::format::Flags::GLOBAL_HEADER);

        let (ew, eh) = (width + width % 2, height + height % 2);
        let fps = ff::Rational(opts.frame_rate.0.max(1), opts.frame_rate.1.max(1));
        let enc_tb = opts.time_base.map_or(fps.invert(), |(n, d)| ff::Rational(n, d));
        let mut ctx = ff::codec::context::Context::new_with_codec(codec).encoder().video().map_err(ffe)?;
        ctx.set_width(ew);
        ctx.set_height(eh);
        ctx.set_format(ff::format::Pixel::YUV420P);
        ctx.set_time_base(enc_tb);
        ctx.set_frame_rate(Some(fps));
        if global_header {
            ctx.set_flags(ff::codec::Flags::GLOBAL_HEADER);
        }
        let mut x264 = ff::Dictionary::new();
        x264.set("preset", &opts.preset);
        x264.set("crf", &opts.crf.to_string());
        if opts.threads > 0 {
            x264.set("threads", &opts.threads.to_string());
        }
        let encoder = ctx.open_with(x264).map_err(ffe)?;
        let stream = {
            let mut ost = octx.add_stream(codec).map_err(ffe)?;
            ost.set_parameters(&encoder);
            ost.set_time_base(enc_tb);
            ost.set_avg_frame_rate(fps);
            ost.index()
        };
        let mut audio = match &opts.audio_from {
            Some(src) => AudioCarrier::attach(src, &mut octx)
                .map_err(|message| EncodeError::Audio { source_path: src.clone(), message })?,
            None => None,
        };
        let mut header = ff::Dictionary::new();
        header.set("movflags", "+faststart");
        octx.write_header_with(header).map_err(ffe)?;
        // The muxer picks its own time base (e.g. 1/12800) in write_header.
        let ost_tb = octx.stream(stream).map_or(enc_tb, |s| s.time_base());
        if let Some(a) = audio.as_mut() {
            a.after_header(&octx);
        }
        // One nominal frame in encoder ticks: (1/fps) / enc_tb.
        let ticks_per_frame = (f64::from(fps.invert()) / f64::from(enc_tb)).round().max(1.0) as i64;
        let scaler = scaling::Context::get(
            ff::format::Pixel::RGB24,
            ew,
            eh,
            ff::format::Pixel::YUV420P,
            ew,
            eh,
            scaling::Flags::BICUBIC,
        )
        .map_err(ffe)?;
        // Row padding is never written by us: start it at zero rather than whatever the
        // allocator left there.
        let mut rgb = ff::frame::Video::new(ff::format::Pixel::RGB24, ew, eh);
        rgb.data_mut(0).fill(0);
        let mut yuv = ff::frame::Video::new(ff::format::Pixel::YUV420P, ew, eh);
        for plane in 0..3 {
            yuv.data_mut(plane).fill(0);
        }
        Ok(Self {
            file,
            octx,
            encoder,
            stream,
            enc_tb,
            ost_tb,
            ticks_per_frame,
            width,
            height,
            scaler,
            rgb,
            yuv,
            frames: 0,
            audio,
        })
    }

    fn ffe(&self, e: ff::Error) -> EncodeError {
        EncodeError::Ffmpeg { path: self.file.dest().to_path_buf(), message: e.to_string() }
    }

    /// Frames written so far.
    pub fn frames_written(&self) -> u64 {
        self.frames
    }

    /// Adds a frame. `pts` is in the writer's time base (`EncodeOptions::time_base`); `None`
    /// places it one nominal frame after the previous one.
    pub fn write_frame(&mut self, frame: &RgbFrame, pts: Option<i64>) -> Result<(), EncodeError> {
        if frame.width != self.width || frame.height != self.height {
            return Err(EncodeError::FrameSize {
                got_w: frame.width,
                got_h: frame.height,
                want_w: self.width,
                want_h: self.height,
            });
        }
        // Copy into FFmpeg's padded rows; an odd last column/row repeats its neighbour.
        let stride = self.rgb.stride(0);
        let (w, h) = (self.width as usize, self.height as usize);
        let (ew, eh) = (self.rgb.width() as usize, self.rgb.height() as usize);
        let dst = self.rgb.data_mut(0);
        for y in 0..eh {
            let sy = y.min(h - 1);
            let src = &frame.data[sy * w * 3..(sy + 1) * w * 3];
            let row = &mut dst[y * stride..y * stride + ew * 3];
            row[..w * 3].copy_from_slice(src);
            if ew > w {
                row.copy_within((w - 1) * 3..w * 3, w * 3);
            }
        }
        self.scaler.run(&self.rgb, &mut self.yuv).map_err(|e| self.ffe(e))?;
        let pts = pts.unwrap_or(self.frames as i64 * self.ticks_per_frame);
        self.yuv.set_pts(Some(pts));
        if let Some(audio) = self.audio.as_mut() {
            let t = pts as f64 * f64::from(self.enc_tb);
            audio
                .pump_until(t, &mut self.octx)
                .map_err(|message| EncodeError::Audio { source_path: audio.source().to_path_buf(), message })?;
        }
        self.encoder.send_frame(&self.yuv).map_err(|e| self.ffe(e))?;
        self.frames += 1;
        self.drain()
    }

    fn drain(&mut self) -> Result<(), EncodeError> {
        let mut packet = ff::Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            // FFmpeg 5.1's libx264 wrapper leaves durations at 0, and the MP4 edit list then
            // drops the last frame.
            if packet.duration() == 0 {
                packet.set_duration(self.ticks_per_frame);
            }
            packet.set_stream(self.stream);
            packet.rescale_ts(self.enc_tb, self.ost_tb);
            packet.write_interleaved(&mut self.octx).map_err(|e| self.ffe(e))?;
        }
        Ok(())
    }

    /// Flushes the encoder, writes the rest of the audio, finishes the file and moves it into
    /// place. Dropping a writer without calling this leaves nothing behind.
    pub fn finish(mut self) -> Result<PathBuf, EncodeError> {
        self.encoder.send_eof().map_err(|e| self.ffe(e))?;
        self.drain()?;
        if let Some(audio) = self.audio.as_mut() {
            audio
                .pump_until(f64::INFINITY, &mut self.octx)
                .map_err(|message| EncodeError::Audio { source_path: audio.source().to_path_buf(), message })?;
        }
        self.octx.write_trailer().map_err(|e| self.ffe(e))?;
        let dest = self.file.dest().to_path_buf();
        self.file.commit().map_err(|source| EncodeError::Commit { path: dest.clone(), source })?;
        Ok(dest)
    }
}
