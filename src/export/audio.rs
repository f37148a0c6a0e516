//! Carrying a source's audio into an MP4: packets are copied when MP4 can hold the codec,
//! otherwise decoded and re-encoded to AAC. Audio is interleaved with the video as it is
//! written, so nothing is buffered for the whole file.

use std::path::{Path, PathBuf};

use ff::software::resampling;
use ffmpeg_next as ff;

/// Audio codecs the MP4 muxer takes as they are.
const MP4_AUDIO: &[ff::codec::Id] = &[
    ff::codec::Id::AAC,
    ff::codec::Id::MP3,
    ff::codec::Id::AC3,
    ff::codec::Id::EAC3,
    ff::codec::Id::ALAC,
    ff::codec::Id::OPUS,
];

pub(super) struct AudioCarrier {
    source: PathBuf,
    input: ff::format::context::Input,
    in_stream: usize,
    in_tb: ff::Rational,
    out_stream: usize,
    out_tb: ff::Rational,
    transcoder: Option<Transcoder>,
    pending: Option<ff::Packet>,
    done: bool,
}

struct Transcoder {
    decoder: ff::decoder::Audio,
    resampler: Option<resampling::Context>,
    encoder: ff::encoder::Audio,
    layout: ff::ChannelLayout,
    channels: usize,
    rate: i32,
    /// Resampled planar samples waiting to fill an encoder frame.
    fifo: Vec<Vec<f32>>,
    frame_size: usize,
    next_pts: i64,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl AudioCarrier {
    /// Adds an audio stream to `octx` for the best audio stream of `source`; `None` if it has none.
    pub(super) fn attach(source: &Path, octx: &mut ff::format::context::Output) -> Result<Option<Self>, String> {
        let input = ff::format::input(source).map_err(err)?;
        let Some(ist) = input.streams().best(ff::media::Type::Audio) else {
            return Ok(None);
        };
        let in_stream = ist.index();
        let in_tb = ist.time_base();
        let params = ist.parameters();
        let global_header = octx.format().flags().contains(ff::format::Flags::GLOBAL_HEADER);
        let (out_stream, transcoder) = if MP4_AUDIO.contains(&params.id()) {
            let mut ost = octx.add_stream(ff::encoder::find(ff::codec::Id::None)).map_err(err)?;
            ost.set_parameters(params);
            // The source container's codec tag (e.g. AVI's) may not be valid in MP4: let the
            // muxer choose its own.
            #[allow(unsafe_code)]
            // SAFETY: the stream's codec parameters are owned by `octx` and valid here.
            unsafe {
                (*ost.parameters().as_mut_ptr()).codec_tag = 0;
            }
            (ost.index(), None)
        } else {
            let dctx = ff::codec::context::Context::from_parameters(params).map_err(err)?;
            let decoder = dctx.decoder().audio().map_err(err)?;
            let codec = ff::encoder::find(ff::codec::Id::AAC).ok_or("FFmpeg has no AAC encoder")?;
            let channels = usize::from(decoder.channels().max(1));
            let layout = ff::ChannelLayout::default(channels as i32);
            let rate = decoder.rate() as i32;
            let mut ectx = ff::codec::context::Context::new_with_codec(codec).encoder().audio().map_err(err)?;
            ectx.set_rate(rate);
            ectx.set_channel_layout(layout);
            ectx.set_format(ff::format::Sample::F32(ff::format::sample::Type::Planar));
            ectx.set_bit_rate(160_000);
            ectx.set_time_base(ff::Rational(1, rate));
            if global_header {
                ectx.set_flags(ff::codec::Flags::GLOBAL_HEADER);
            }
            let encoder = ectx.open_as(codec).map_err(err)?;
            let mut ost = octx.add_stream(codec).map_err(err)?;
            ost.set_parameters(&encoder);
            ost.set_time_base(ff::Rational(1, rate));
            let frame_size = (encoder.frame_size() as usize).max(1);
            let t = Transcoder {
                decoder,
                resampler: None,
                encoder,
                layout,
                channels,
                rate,
                fifo: vec![Vec::new(); channels],
                frame_size,
                next_pts: 0,
            };
            (ost.index(), Some(t))
        };
        Ok(Some(Self {
            source: source.to_path_buf(),
            input,
            in_stream,
            in_tb,
            out_stream,
            out_tb: ff::Rational(1, 1),
            transcoder,
            pending: None,
            done: false,
        }))
    }

    pub(super) fn source(&self) -> &Path {
        &self.source
    }

    /// Reads the stream time base the muxer settled on.
    pub(super) fn after_header(&mut self, octx: &ff::format::context::Output) {
        if let Some(s) = octx.stream(self.out_stream) {
            self.out_tb = s.time_base();
        }
    }

    /// Writes the source's audio up to time `t` (seconds); `INFINITY` writes the rest.
    pub(super) fn pump_until(&mut self, t: f64, octx: &mut ff::format::context::Output) -> Result<(), String> {
        while !self.done {
            let packet = match self.pending.take() {
                Some(p) => p,
                None => {
                    let mut p = ff::Packet::empty();
                    match p.read(&mut self.input) {
                        Ok(()) if p.stream() == self.in_stream => p,
                        Ok(()) | Err(ff::Error::InvalidData) => continue,
                        Err(_) => {
                            self.done = true;
                            self.finish_transcode(octx)?;
                            break;
                        }
                    }
                }
            };
            let at = packet.pts().or(packet.dts()).map_or(0.0, |ts| ts as f64 * f64::from(self.in_tb));
            if at > t {
                self.pending = Some(packet);
                break;
            }
            self.write(packet, octx)?;
        }
        Ok(())
    }

    fn write(&mut self, mut packet: ff::Packet, octx: &mut ff::format::context::Output) -> Result<(), String> {
        let Some(tr) = self.transcoder.as_mut() else {
            packet.set_stream(self.out_stream);
            packet.set_position(-1);
            packet.rescale_ts(self.in_tb, self.out_tb);
            return packet.write_interleaved(octx).map_err(err);
        };
        // A damaged audio packet is dropped; the rest of the audio still plays.
        if tr.decoder.send_packet(&packet).is_err() {
            return Ok(());
        }
        let mut decoded = ff::frame::Audio::empty();
        while tr.decoder.receive_frame(&mut decoded).is_ok() {
            tr.push(&mut decoded)?;
            tr.encode_full_frames(self.out_stream, self.out_tb, octx, false)?;
        }
        Ok(())
    }

    fn finish_transcode(&mut self, octx: &mut ff::format::context::Output) -> Result<(), String> {
        let Some(tr) = self.transcoder.as_mut() else {
            return Ok(());
        };
        tr.decoder.send_eof().ok();
        let mut decoded = ff::frame::Audio::empty();
        while tr.decoder.receive_frame(&mut decoded).is_ok() {
            tr.push(&mut decoded)?;
        }
        tr.encode_full_frames(self.out_stream, self.out_tb, octx, true)?;
        tr.encoder.send_eof().map_err(err)?;
        tr.drain(self.out_stream, self.out_tb, octx)
    }
}

impl Transcoder {
    /// Resamples a decoded frame to planar f32 and appends it to the FIFO.
    fn push(&mut self, frame: &mut ff::frame::Audio) -> Result<(), String> {
        // WAV/AVI PCM often leaves the layout unset; the resampler insists on one.
        if frame.channel_layout().bits() == 0 {
            frame.set_channel_layout(ff::ChannelLayout::default(i32::from(frame.channels())));
        }
        if self.resampler.is_none() {
            let ctx = resampling::Context::get(
                frame.format(),
                frame.channel_layout(),
                frame.rate(),
                ff::format::Sample::F32(ff::format::sample::Type::Planar),
                self.layout,
                self.rate as u32,
            )
            .map_err(err)?;
            self.resampler = Some(ctx);
        }
        let Some(rs) = self.resampler.as_mut() else {
            return Ok(());
        };
        let mut out = ff::frame::Audio::empty();
        rs.run(frame, &mut out).map_err(err)?;
        let n = out.samples();
        for (ch, buf) in self.fifo.iter_mut().enumerate().take(self.channels) {
            buf.extend_from_slice(&out.plane::<f32>(ch)[..n]);
        }
        Ok(())
    }

    fn encode_full_frames(
        &mut self,
        out_stream: usize,
        out_tb: ff::Rational,
        octx: &mut ff::format::context::Output,
        last: bool,
    ) -> Result<(), String> {
        loop {
            let have = self.fifo[0].len();
            let n = if have >= self.frame_size {
                self.frame_size
            } else if last && have > 0 {
                have
            } else {
                return Ok(());
            };
            let mut frame =
                ff::frame::Audio::new(ff::format::Sample::F32(ff::format::sample::Type::Planar), n, self.layout);
            frame.set_rate(self.rate as u32);
            for ch in 0..self.channels {
                frame.plane_mut::<f32>(ch)[..n].copy_from_slice(&self.fifo[ch][..n]);
                self.fifo[ch].drain(..n);
            }
            frame.set_pts(Some(self.next_pts));
            self.next_pts += n as i64;
            self.encoder.send_frame(&frame).map_err(err)?;
            self.drain(out_stream, out_tb, octx)?;
        }
    }

    fn drain(
        &mut self,
        out_stream: usize,
        out_tb: ff::Rational,
        octx: &mut ff::format::context::Output,
    ) -> Result<(), String> {
        let mut packet = ff::Packet::empty();
        while self.encoder.receive_packet(&mut packet).is_ok() {
            packet.set_stream(out_stream);
            packet.rescale_ts(ff::Rational(1, self.rate), out_tb);
            packet.write_interleaved(octx).map_err(err)?;
        }
        Ok(())
    }
}
