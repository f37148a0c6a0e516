//! Decoding, exact seeking and encoding on clips of many codecs and containers.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{clips, mean_abs_diff};
use ifa::decode::{DecodeError, VideoReader, probe};
use ifa::export::{EncodeOptions, VideoWriter};
use rand::{Rng as _, SeedableRng as _};

/// Decodes every frame in order; checks that indices run 0, 1, 2, ...
fn decode_all(path: &std::path::Path) -> Vec<Vec<u8>> {
    let mut r = VideoReader::open(path).expect("open");
    let mut frames = Vec::new();
    while let Some(f) = r.next_frame().expect("decode") {
        assert_eq!(f.index, frames.len(), "{}: frames out of order", path.display());
        assert_eq!((f.image.width, f.image.height), (r.info().width, r.info().height));
        frames.push(f.image.data);
    }
    frames
}

/// Random seeks (and some steps) must give exactly the sequentially decoded pixels.
fn check_exact_seeks(path: &std::path::Path, seeks: usize) {
    let sequential = decode_all(path);
    let mut r = VideoReader::open(path).expect("open");
    assert_eq!(r.frame_count(), sequential.len(), "{}: index and decoding disagree", path.display());
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let n = sequential.len();
    let mut targets: Vec<usize> = (0..seeks).map(|_| rng.random_range(0..n)).collect();
    targets.extend([n - 1, 0, 1, 2, n / 2, n / 2 + 1, n / 2 - 1]);
    for t in targets {
        let f = r.read_frame(t).unwrap_or_else(|e| panic!("{}: seek to {t}: {e}", path.display()));
        assert_eq!(f.index, t);
        assert!(
            f.image.data == sequential[t],
            "{}: frame {t} after seek differs from sequential decoding",
            path.display()
        );
    }
}

#[test]
fn exact_frame_counts() {
    let c = clips();
    for (name, frames) in [
        ("h264_bframes.mp4", 75),
        ("vp9.webm", 50),
        ("mpeg4.avi", 50),
        ("vfr.mkv", 38),
        ("rotated.mp4", 75),
        ("odd.mp4", 25),
        ("with_audio.mp4", 50),
    ] {
        let info = probe(&c.path(name)).unwrap();
        assert_eq!(info.frame_count, frames, "{name}");
        assert_eq!(decode_all(&c.path(name)).len(), frames, "{name}: sequential decoding");
    }
}

#[test]
fn exact_seeks_across_codecs() {
    let c = clips();
    for name in ["h264_bframes.mp4", "vp9.webm", "mpeg4.avi", "vfr.mkv", "rotated.mp4", "odd.mp4"] {
        check_exact_seeks(&c.path(name), 25);
    }
}

/// A second reader made from the first one's index (the viewer's two decoders) reads the same
/// frames and seeks as exactly, on another thread, for files and for frame folders.
#[test]
fn a_reader_opened_from_another_ones_index_reads_the_same_frames() {
    let c = clips();
    let folder = c.dir.path().join("indexed_frames");
    std::fs::create_dir_all(&folder).unwrap();
    for k in 0..5u8 {
        image::RgbImage::from_fn(16, 8, |x, y| image::Rgb([k * 40, x as u8 * 9, y as u8 * 17]))
            .save(folder.join(format!("{k:03}.png")))
            .unwrap();
    }
    for path in [c.path("h264_bframes.mp4"), c.path("vfr.mkv"), folder] {
        let sequential = decode_all(&path);
        let mut first = VideoReader::open(&path).unwrap();
        first.read_frame(3).unwrap(); // a used reader still hands out a fresh start
        let indexed = first.indexed();
        let (count, width) = (sequential.len(), first.info().width);
        let name = path.display().to_string();
        // The second reader lives on another thread, as the viewer's processing decoder does.
        let read = std::thread::Builder::new()
            .name("second-reader".into())
            .spawn(move || {
                let mut second = VideoReader::open_indexed(indexed).unwrap();
                assert_eq!((second.frame_count(), second.info().width), (count, width), "{name}");
                let mut frames = Vec::new();
                while let Some(f) = second.next_frame().unwrap() {
                    assert_eq!(f.index, frames.len(), "{name}");
                    frames.push(f.image.data);
                }
                let seeks = [second.read_frame(count - 1).unwrap(), second.read_frame(1).unwrap()];
                (frames, seeks.map(|f| f.image.data))
            })
            .unwrap();
        let (frames, [last, second_frame]) = read.join().unwrap();
        assert!(frames == sequential, "{}: the same frames", path.display());
        assert!(last == sequential[count - 1] && second_frame == sequential[1], "{}: exact seeks", path.display());
    }
}

#[test]
fn probe_reports_streams() {
    let c = clips();
    let i = probe(&c.path("h264_bframes.mp4")).unwrap();
    assert_eq!(i.video_codec, "h264");
    assert_eq!((i.width, i.height, i.rotation), (320, 240, 0));
    assert!((i.avg_fps - 25.0).abs() < 1e-9 && !i.variable_frame_rate);
    assert!((i.duration - 3.0).abs() < 0.05, "duration {}", i.duration);
    assert!(i.audio.is_none());

    let v = probe(&c.path("vfr.mkv")).unwrap();
    assert!(v.variable_frame_rate, "select filter output must read as variable rate");

    let a = probe(&c.path("with_audio.mp4")).unwrap();
    let audio = a.audio.expect("audio stream");
    assert_eq!((audio.codec.as_str(), audio.sample_rate), ("aac", 48000));

    let o = probe(&c.path("odd.mp4")).unwrap();
    assert_eq!((o.width, o.height), (321, 241));
}

#[test]
fn rotation_is_applied_like_ffmpeg() {
    let c = clips();
    let path = c.path("rotated.mp4");
    let info = probe(&path).unwrap();
    assert_eq!((info.coded_width, info.coded_height), (320, 240));
    assert_eq!((info.width, info.height), (240, 320));
    let ours = decode_all(&path);
    let theirs = common::ffmpeg_frames(&path, info.width, info.height);
    assert_eq!(ours.len(), theirs.len());
    for i in [0, 10, 74] {
        let d = mean_abs_diff(&ours[i], &theirs[i]);
        assert!(d < 3.0, "frame {i}: mean difference {d} from ffmpeg's autorotated frame");
    }
}

#[test]
fn odd_size_matches_ffmpeg() {
    let c = clips();
    let path = c.path("odd.mp4");
    let ours = decode_all(&path);
    let theirs = common::ffmpeg_frames(&path, 321, 241);
    for i in [0, 24] {
        assert!(mean_abs_diff(&ours[i], &theirs[i]) < 3.0, "frame {i}");
    }
}

#[test]
fn broken_inputs_give_clear_errors() {
    let c = clips();
    let err = VideoReader::open(&c.path("audio_only.m4a")).unwrap_err();
    assert!(matches!(err, DecodeError::NoVideo { .. }), "{err}");
    assert!(err.to_string().contains("no video stream"));

    let err = VideoReader::open(&c.path("text.mp4")).unwrap_err();
    assert!(matches!(err, DecodeError::Unreadable { .. }), "{err}");
    assert!(err.to_string().contains("text.mp4"));

    let err = VideoReader::open(&c.path("missing.mp4")).unwrap_err();
    assert!(matches!(err, DecodeError::NotFound { .. }), "{err}");

    let err = VideoReader::open(&c.path("truncated_noindex.mp4")).unwrap_err();
    assert!(matches!(err, DecodeError::Unreadable { .. }), "{err}");

    // Cut after its index: what survives is readable, and counts are honest.
    let mut r = VideoReader::open(&c.path("truncated.mp4")).expect("the surviving part opens");
    let n = r.frame_count();
    assert!(n > 0 && n < 75, "truncated file reports {n} frames");
    let mut decoded = 0;
    while let Ok(Some(_)) = r.next_frame() {
        decoded += 1;
    }
    assert!(decoded <= n && decoded + 2 >= n, "decoded {decoded} of {n} indexed frames");
    let err = r.read_frame(n + 5).unwrap_err();
    assert!(matches!(err, DecodeError::OutOfRange { .. }), "{err}");
}

/// Re-encodes a clip through [`VideoWriter`] with its audio, decodes the result back.
fn round_trip(src_name: &str, out_name: &str, expect_audio: Option<&str>) {
    let c = clips();
    let src = c.path(src_name);
    let info = probe(&src).unwrap();
    let out = c.path(out_name);
    let opts = EncodeOptions {
        frame_rate: info.frame_rate,
        time_base: Some(info.time_base),
        crf: 16,
        audio_from: Some(src.clone()),
        ..Default::default()
    };
    let mut reader = VideoReader::open(&src).unwrap();
    let mut writer = VideoWriter::create(&out, info.width, info.height, &opts).unwrap();
    let mut originals = Vec::new();
    while let Some(f) = reader.next_frame().unwrap() {
        let pts = reader.index().pts(f.index);
        writer.write_frame(&f.image, pts).unwrap();
        originals.push(f.image.data);
    }
    writer.finish().unwrap();

    let back = probe(&out).unwrap();
    assert_eq!(back.video_codec, "h264");
    assert_eq!(back.pixel_format, "yuv420p");
    assert_eq!(back.frame_count, info.frame_count, "{out_name}: frame count");
    assert!((back.duration - info.duration).abs() < 0.1, "{out_name}: duration {} vs {}", back.duration, info.duration);
    assert_eq!((back.width, back.height), (info.width, info.height));
    assert_eq!(back.audio.as_ref().map(|a| a.codec.as_str()), expect_audio, "{out_name}: audio");
    let decoded = decode_all(&out);
    for i in [0, originals.len() / 2, originals.len() - 1] {
        let d = mean_abs_diff(&decoded[i], &originals[i]);
        assert!(d < 4.0, "{out_name} frame {i}: mean difference {d}");
    }
    // faststart: the index (moov) comes before the media data (mdat).
    let bytes = std::fs::read(&out).unwrap();
    let find = |tag: &[u8]| bytes.windows(4).position(|w| w == tag).unwrap();
    assert!(find(b"moov") < find(b"mdat"), "{out_name}: not faststart");
}

#[test]
fn encode_round_trip_copies_aac() {
    round_trip("with_audio.mp4", "rt_aac.mp4", Some("aac"));
}

#[test]
fn encode_round_trip_transcodes_pcm_to_aac() {
    round_trip("pcm_audio.avi", "rt_pcm.mp4", Some("aac"));
}

#[test]
fn encode_keeps_variable_timing() {
    round_trip("vfr.mkv", "rt_vfr.mp4", None);
}

#[test]
fn failed_or_dropped_encode_leaves_nothing() {
    let c = clips();
    let dir = tempfile::tempdir().unwrap();
    let dest = dir.path().join("out.mp4");
    let mut w = VideoWriter::create(&dest, 64, 48, &EncodeOptions::default()).unwrap();
    w.write_frame(&ifa::frame::RgbFrame::new(64, 48), None).unwrap();
    let err = w.write_frame(&ifa::frame::RgbFrame::new(32, 48), None).unwrap_err();
    assert!(err.to_string().contains("32x48"));
    drop(w);
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 0, "a dropped writer leaves no file");
    let _ = c;

    // A read-only folder: a clear error before any work.
    let ro = tempfile::tempdir().unwrap();
    let mut perms = std::fs::metadata(ro.path()).unwrap().permissions();
    perms.set_readonly(true);
    std::fs::set_permissions(ro.path(), perms).unwrap();
    // (root ignores permission bits, so /proc stands in as a folder nobody can write to.)
    let target =
        if std::fs::write(ro.path().join("probe"), b"").is_err() { ro.path().to_path_buf() } else { "/proc".into() };
    let err = VideoWriter::create(&target.join("x.mp4"), 64, 48, &EncodeOptions::default()).unwrap_err();
    assert!(err.to_string().contains("x.mp4"), "{err}");
}

#[test]
fn vtest_real_clip() {
    let path = common::root().join("assets/vtest.avi");
    let info = probe(&path).expect("assets/vtest.avi is installed by scripts/setup.sh");
    assert_eq!(info.frame_count, 795);
    assert_eq!((info.width, info.height), (768, 576));
    assert!((info.avg_fps - 10.0).abs() < 1e-6);
    check_exact_seeks(&path, 12);
}
