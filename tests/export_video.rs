//! `ifa export` end to end on generated clips and the tiny random-weight model
//! (tests/runtime_fixtures/tiny.onnx): the annotated video plays everywhere (H.264, yuv420p,
//! faststart, the source's frames, timing and audio), differs from the source exactly where
//! the masks are, and the data outputs agree with each other and with the id maps.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, Ordering};

use ifa::decode::{VideoReader, probe};
use ifa::export::meta::{SourceMeta, sidecar_path};
use ifa::export::{EncodeOptions, ExportError, ExportJob, export_video};
use ifa::infer::runtime::{Device, SessionOptions, load_model};
use ifa::outpath::OutputError;
use ifa::overlay::scene::{Layers, SceneOptions, blend_channel, track_color};
use ifa::runtime::Pipeline;

fn tiny() -> PathBuf {
    common::root().join("tests/runtime_fixtures/tiny.onnx")
}

fn pipeline() -> Pipeline {
    let m = load_model(&tiny(), &SessionOptions { device: Device::Cpu, threads: 1, ..Default::default() })
        .expect("load tiny.onnx");
    Pipeline::new(m).expect("tiny.onnx follows the contract")
}

fn ifa_export(args: &[&OsStr]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_ifa")).arg("export").args(args).output().expect("ifa binary")
}

/// ffprobe's view of a file, frames counted by decoding.
fn ffprobe(path: &Path) -> serde_json::Value {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-count_frames", "-show_streams", "-show_format", "-of", "json"])
        .arg(path)
        .output()
        .expect("ffprobe CLI");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn stream<'a>(probe: &'a serde_json::Value, kind: &str) -> Option<&'a serde_json::Value> {
    probe["streams"].as_array().unwrap().iter().find(|s| s["codec_type"] == kind)
}

fn num(v: &serde_json::Value) -> f64 {
    v.as_str().and_then(|s| s.parse().ok()).or_else(|| v.as_f64()).unwrap_or(f64::NAN)
}

/// Offsets of the top-level MP4 boxes named `moov` and `mdat`.
fn top_level_boxes(path: &Path) -> Vec<(String, u64)> {
    let bytes = std::fs::read(path).unwrap();
    let mut out = Vec::new();
    let mut at = 0usize;
    while at + 8 <= bytes.len() {
        let mut size = u64::from(u32::from_be_bytes(bytes[at..at + 4].try_into().unwrap()));
        let name = String::from_utf8_lossy(&bytes[at + 4..at + 8]).into_owned();
        if size == 1 {
            size = u64::from_be_bytes(bytes[at + 8..at + 16].try_into().unwrap());
        } else if size == 0 {
            size = (bytes.len() - at) as u64;
        }
        out.push((name, at as u64));
        at += size.max(8) as usize;
    }
    out
}

fn pngs(dir: &Path) -> Vec<Vec<u16>> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".png"))
        .collect();
    names.sort();
    for (i, n) in names.iter().enumerate() {
        assert_eq!(n, &format!("{i:06}.png"));
    }
    names.iter().map(|n| image::open(dir.join(n)).unwrap().into_luma16().into_raw()).collect()
}

/// Runs the pipeline again over `video` and returns each frame's id map.
fn id_maps(video: &Path) -> Vec<Vec<u32>> {
    let mut p = pipeline();
    let mut r = VideoReader::open(video).unwrap();
    let mut maps = Vec::new();
    while let Some(f) = r.next_frame().unwrap() {
        let mut res = p.process(&f.image, f.pts_seconds).unwrap();
        let mut ids = Vec::new();
        assert!(p.render_ids(&mut res, &f.image, &mut ids));
        maps.push(ids);
    }
    maps
}

#[test]
fn cli_export_keeps_format_timing_and_audio_and_writes_consistent_data() {
    let clips = common::clips();
    // AAC is copied; PCM (not allowed in MP4) is re-encoded to AAC.
    for name in ["with_audio.mp4", "pcm_audio.avi"] {
        let src = clips.path(name);
        let dir = tempfile::tempdir().unwrap();
        let (out, json, csv, masks) =
            (dir.path().join("out.mp4"), dir.path().join("r.json"), dir.path().join("r.csv"), dir.path().join("masks"));
        let o = ifa_export(&[
            src.as_os_str(),
            "-o".as_ref(),
            out.as_os_str(),
            "--model".as_ref(),
            tiny().as_os_str(),
            "--device".as_ref(),
            "cpu".as_ref(),
            "--layers".as_ref(),
            "masks,centers,flow,labels,trails".as_ref(),
            "--json".as_ref(),
            json.as_os_str(),
            "--csv".as_ref(),
            csv.as_os_str(),
            "--masks".as_ref(),
            masks.as_os_str(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(o.status.success(), "{name}: {err}");
        let si = probe(&src).unwrap();
        let n = si.frame_count;
        assert!(err.contains(&format!("{n}/{n} frames")), "progress on stderr: {err}");

        // Our own probe.
        let oi = probe(&out).unwrap();
        assert_eq!((oi.video_codec.as_str(), oi.pixel_format.as_str()), ("h264", "yuv420p"), "{name}");
        assert_eq!((oi.width, oi.height, oi.frame_count), (si.width, si.height, n), "{name}");
        assert_eq!(oi.frame_rate, si.frame_rate, "{name}");
        assert!((oi.duration - si.duration).abs() < 1.5 / si.avg_fps, "{name}: {} vs {}", oi.duration, si.duration);
        assert_eq!(oi.audio.as_ref().map(|a| a.codec.as_str()), Some("aac"), "{name}");
        assert_eq!(oi.audio.as_ref().map(|a| a.sample_rate), si.audio.as_ref().map(|a| a.sample_rate), "{name}");

        // The ffprobe CLI agrees, counting decoded frames.
        let (fs, fo) = (ffprobe(&src), ffprobe(&out));
        let (vs, vo) = (stream(&fs, "video").unwrap(), stream(&fo, "video").unwrap());
        assert_eq!(vo["codec_name"], "h264");
        assert_eq!(vo["pix_fmt"], "yuv420p");
        assert_eq!(num(&vo["nb_read_frames"]), num(&vs["nb_read_frames"]), "{name}");
        let (a_src, a_out) = (stream(&fs, "audio").unwrap(), stream(&fo, "audio").unwrap());
        assert_eq!(a_out["codec_name"], "aac");
        // AVI gives PCM streams no duration of their own: then the file's counts.
        let src_audio =
            Some(num(&a_src["duration"])).filter(|d| d.is_finite()).unwrap_or(num(&fs["format"]["duration"]));
        assert!((num(&a_out["duration"]) - src_audio).abs() < 0.1, "{name}: audio {a_out} vs {a_src}");
        let boxes = top_level_boxes(&out);
        let pos = |b: &str| boxes.iter().find(|(n, _)| n == b).map(|(_, p)| *p).unwrap();
        assert!(pos("moov") < pos("mdat"), "faststart: {boxes:?}");

        // YouTube-VIS results load with the evaluator; sidecars note the source's timing.
        let results = ifa::eval::load_results(&json).unwrap();
        assert!(!results.is_empty(), "{name}: the tiny model finds instances on testsrc2");
        for r in &results {
            assert_eq!(r.segmentations.len(), n);
        }
        for data in [&json, &csv] {
            let m = SourceMeta::read(&sidecar_path(data)).unwrap();
            assert_eq!(m.time_base, [si.time_base.0, si.time_base.1]);
            assert_eq!(m.frame_rate, [si.frame_rate.0, si.frame_rate.1]);
            assert_eq!(m.frame_pts.len(), n);
        }
        let mm = SourceMeta::read(&masks.join("meta.json")).unwrap();
        assert_eq!((mm.width, mm.height, mm.frame_count), (si.width, si.height, n));

        // The masks of the JSON are exactly the MOTS PNG regions, frame by frame.
        let frames = pngs(&masks);
        assert_eq!(frames.len(), n);
        for r in &results {
            for (f, seg) in r.segmentations.iter().enumerate() {
                let Some(rle) = seg else { continue };
                let mask = rle.to_mask();
                let mut values = mask.iter().zip(&frames[f]).filter(|(m, _)| **m != 0).map(|(_, v)| *v);
                let v = values.next().expect("non-empty mask");
                assert!(v > 1000 && values.all(|x| x == v), "{name} frame {f}: one MOTS value per mask");
                assert!((1..=3).contains(&(v / 1000)), "class id in the value");
                let area = frames[f].iter().filter(|&&x| x == v).count() as u64;
                assert_eq!(area, rle.area(), "{name} frame {f}");
            }
        }
        // CSV rows: the track's MOTS pixels have its area and class.
        let names = pipeline().contract().classes.clone();
        let text = std::fs::read_to_string(&csv).unwrap();
        let mut rows = 0;
        for line in text.lines().skip(1) {
            let c: Vec<&str> = line.split(',').collect();
            let (f, track, class, area): (usize, u16, &str, u64) =
                (c[0].parse().unwrap(), c[2].parse().unwrap(), c[3], c[12].parse().unwrap());
            let class_id = names.iter().position(|x| x == class).unwrap() as u16 + 1;
            let count = frames[f].iter().filter(|&&x| x == class_id * 1000 + track).count() as u64;
            assert_eq!(count, area, "{name}: {line}");
            rows += 1;
        }
        assert!(rows > 0);
        let leftovers: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 6, "only the outputs and their sidecars: {leftovers:?}");
    }
}

#[test]
fn overlay_differs_from_the_source_exactly_where_the_masks_are() {
    let clips = common::clips();
    let src = clips.path("h264_bframes.mp4"); // no audio, B-frames
    let dir = tempfile::tempdir().unwrap();
    let (out, masks) = (dir.path().join("out.mp4"), dir.path().join("ids"));
    let opacity = 0.6;
    let job = ExportJob {
        output: Some(out.clone()),
        masks: Some(masks.clone()),
        scene: SceneOptions {
            layers: Layers { masks: true, centers: false, flows: false, labels: false, trails: false },
            opacity,
            ..SceneOptions::default()
        },
        // High quality, so that compression noise stays well below the overlay's change.
        encode: EncodeOptions { crf: 12, ..EncodeOptions::default() },
        ..ExportJob::new(src.clone())
    };
    let mut pipe = pipeline();
    let mut calls = 0;
    let summary = export_video(&job, &mut pipe, &AtomicBool::new(false), &mut |p| {
        calls += 1;
        assert_eq!(p.frame, calls);
    })
    .unwrap();
    let si = probe(&src).unwrap();
    let oi = probe(&out).unwrap();
    assert_eq!((summary.frames, calls, oi.frame_count), (si.frame_count, si.frame_count, si.frame_count));
    assert!(oi.audio.is_none() && si.audio.is_none());
    assert_eq!((oi.video_codec.as_str(), oi.pixel_format.as_str()), ("h264", "yuv420p"));
    let fo = ffprobe(&out);
    assert!(stream(&fo, "audio").is_none());
    assert!((num(&fo["format"]["duration"]) - si.duration).abs() < 1.5 / si.avg_fps);

    // The MOTS PNGs decode to the pipeline's id maps.
    let ids = id_maps(&src);
    let frames = pngs(&masks);
    assert_eq!(frames.len(), ids.len());
    let mut masked_total = 0;
    for (f, (png, map)) in frames.iter().zip(&ids).enumerate() {
        assert!(png.iter().zip(map).all(|(&v, &id)| u32::from(v % 1000) == id), "frame {f}");
    }

    // Output = source with the palette blended in where the id map says, up to compression.
    let (w, h) = (si.width, si.height);
    let a = common::ffmpeg_frames(&src, w, h);
    let b = common::ffmpeg_frames(&out, w, h);
    assert_eq!(a.len(), b.len());
    let (mut inside, mut n_in, mut outside, mut n_out, mut vs_expected) = (0.0, 0usize, 0.0, 0usize, 0.0);
    for (f, map) in ids.iter().enumerate() {
        let mut expected = a[f].clone();
        for (p, &id) in map.iter().enumerate() {
            if let Some(c) = track_color(id) {
                for k in 0..3 {
                    expected[p * 3 + k] = blend_channel(a[f][p * 3 + k], c[k], opacity);
                }
            }
        }
        // Pixels next to a mask edge share chroma with it (4:2:0): judged by neither side.
        let near_edge = |p: usize| {
            let (x, y) = ((p % w as usize) as i64, (p / w as usize) as i64);
            (-2..=2).any(|dy| {
                (-2..=2).any(|dx| {
                    let (xx, yy) = (x + dx, y + dy);
                    xx >= 0 && yy >= 0 && xx < i64::from(w) && yy < i64::from(h) && {
                        let q = yy as usize * w as usize + xx as usize;
                        (map[q] != 0) != (map[p] != 0)
                    }
                })
            })
        };
        for (p, &id) in map.iter().enumerate() {
            if near_edge(p) {
                continue;
            }
            let diff = |x: &[u8]| (0..3).map(|k| f64::from(x[p * 3 + k].abs_diff(b[f][p * 3 + k]))).sum::<f64>() / 3.0;
            let d = diff(&a[f]);
            vs_expected += diff(&expected);
            if id != 0 {
                inside += d;
                n_in += 1;
            } else {
                outside += d;
                n_out += 1;
            }
        }
        masked_total += map.iter().filter(|&&id| id != 0).count();
    }
    assert!(masked_total > 1000, "the model must produce masks, or nothing is tested");
    let (inside, outside, vs_expected) =
        (inside / n_in.max(1) as f64, outside / n_out.max(1) as f64, vs_expected / (n_in + n_out).max(1) as f64);
    eprintln!("mean |out - src|: inside masks {inside:.2}, outside {outside:.2}; |out - expected| {vs_expected:.2}");
    assert!(inside > 25.0, "inside masks the colour shows: {inside}");
    assert!(outside < 3.0, "outside masks the video is untouched: {outside}");
    assert!(vs_expected < 3.0, "the blend follows the scene formula: {vs_expected}");
}

#[test]
fn cancelling_half_way_leaves_nothing() {
    let clips = common::clips();
    let src = clips.path("with_audio.mp4");
    let dir = tempfile::tempdir().unwrap();
    let job = ExportJob {
        output: Some(dir.path().join("out.mp4")),
        json: Some(dir.path().join("r.json")),
        csv: Some(dir.path().join("r.csv")),
        masks: Some(dir.path().join("masks")),
        ..ExportJob::new(src)
    };
    let cancel = std::sync::Arc::new(AtomicBool::new(false));
    let mut last = 0;
    let r = export_video(&job, &mut pipeline(), &cancel, &mut |p| {
        last = p.frame;
        if p.frame == p.total / 2 {
            cancel.store(true, Ordering::Relaxed);
        }
    });
    assert!(matches!(r, Err(ExportError::Cancelled)), "{r:?}");
    assert!(last > 0 && last < 50, "stopped half way, at {last}");
    let left: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert!(left.is_empty(), "nothing left behind: {left:?}");
}

#[test]
fn unwritable_targets_are_clear_errors_before_any_work() {
    let clips = common::clips();
    let src = clips.path("h264_bframes.mp4");
    // /proc takes no new files, even from root (who ignores permission bits).
    for (flag, target) in [("-o", "/proc/ifa-out.mp4"), ("--json", "/proc/ifa.json"), ("--masks", "/proc/ifa-masks")] {
        let o = ifa_export(&[
            src.as_os_str(),
            flag.as_ref(),
            target.as_ref(),
            "--model".as_ref(),
            tiny().as_os_str(),
            "--device".as_ref(),
            "cpu".as_ref(),
        ]);
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success());
        assert!(err.contains(target), "{flag}: {err}");
        assert!(err.contains("not writable") || err.contains("cannot create"), "{flag}: {err}");
        assert!(!err.contains("frames,"), "{flag}: failed before processing: {err}");
    }
    // Writing over the source is refused.
    let dir = tempfile::tempdir().unwrap();
    let copy = dir.path().join("v.mp4");
    std::fs::copy(&src, &copy).unwrap();
    let job = ExportJob { output: Some(copy.clone()), ..ExportJob::new(copy.clone()) };
    let r = export_video(&job, &mut pipeline(), &AtomicBool::new(false), &mut |_| {});
    assert!(matches!(r, Err(ExportError::Output(OutputError::SameAsInput { .. }))), "{r:?}");
    assert_eq!(std::fs::read(&copy).unwrap(), std::fs::read(&src).unwrap());
}

#[test]
fn variable_frame_rate_timestamps_are_kept() {
    let clips = common::clips();
    let src = clips.path("vfr.mkv");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.mp4");
    let job = ExportJob { output: Some(out.clone()), ..ExportJob::new(src.clone()) };
    export_video(&job, &mut pipeline(), &AtomicBool::new(false), &mut |_| {}).unwrap();
    let times = |p: &Path| -> Vec<f64> {
        let o = Command::new("ffprobe")
            .args(["-v", "error", "-select_streams", "v", "-show_entries", "frame=pts_time", "-of", "csv=p=0"])
            .arg(p)
            .output()
            .unwrap();
        String::from_utf8_lossy(&o.stdout).lines().filter_map(|l| l.trim().parse().ok()).collect()
    };
    let (a, b) = (times(&src), times(&out));
    assert_eq!(a.len(), b.len());
    assert!(a.len() > 20);
    for (x, y) in a.iter().zip(&b) {
        assert!((x - y).abs() < 0.002, "{a:?}\n{b:?}");
    }
}
