//! Writing a data set in YouTube-VIS layout: `JPEGImages/<video>/<00000>.jpg`,
//! `videos/<video>.mp4` and `instances.json`.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use image::codecs::jpeg::JpegEncoder;

use super::SynthConfig;
use super::error::SynthError;
use super::plan::plan_video;
use super::ytvis::{Annotation, Dataset, VideoEntry};
use crate::export::{EncodeOptions, VideoWriter};
use crate::rle::{Rle, encode_label_map};

/// What [`write_dataset`] wrote.
#[derive(Clone, Debug, PartialEq)]
pub struct DatasetSummary {
    pub videos: usize,
    pub frames: usize,
    pub annotations: usize,
    pub instances_json: PathBuf,
    /// Wall time of the whole run.
    pub seconds: f64,
}

/// The name of video `index`: its folder under `JPEGImages/` and its MP4's stem.
pub fn video_name(cfg: &SynthConfig, index: usize) -> String {
    format!("{}_s{}_{:05}", cfg.preset.name(), cfg.seed, index)
}

/// Renders and writes every video of `cfg` under `out`, then `out/instances.json` (atomically).
/// Videos are rendered one after the other, each frame's rows in parallel and the MP4 encoded on
/// two threads: x264 running in several videos at once gave different (valid) bitstreams from run
/// to run, while this order keeps every byte reproducible and still uses both cores.
/// `progress(done, total)` is called after each video.
pub fn write_dataset(
    cfg: &SynthConfig,
    out: &Path,
    progress: &(dyn Fn(usize, usize) + Sync),
) -> Result<DatasetSummary, SynthError> {
    cfg.validate()?;
    let start = Instant::now();
    std::fs::create_dir_all(out.join("JPEGImages")).map_err(|e| SynthError::io(out.join("JPEGImages"), e))?;
    if cfg.mp4 {
        std::fs::create_dir_all(out.join("videos")).map_err(|e| SynthError::io(out.join("videos"), e))?;
    }
    let done = AtomicUsize::new(0);
    let rendered: Vec<(VideoEntry, Vec<Annotation>)> = (0..cfg.videos)
        .map(|i| {
            let r = render_video_files(cfg, i, out)?;
            progress(done.fetch_add(1, Ordering::Relaxed) + 1, cfg.videos);
            Ok(r)
        })
        .collect::<Result<_, SynthError>>()?;

    let mut dataset = Dataset { videos: Vec::new(), categories: Dataset::categories(), annotations: Vec::new() };
    let mut frames = 0;
    for (video, anns) in rendered {
        frames += video.length;
        dataset.videos.push(video);
        for mut a in anns {
            a.id = dataset.annotations.len() as u64 + 1;
            dataset.annotations.push(a);
        }
    }
    let json_path = out.join("instances.json");
    let bytes = serde_json::to_vec(&dataset)?;
    crate::fsutil::write_atomic(&json_path, |w| w.write_all(&bytes)).map_err(|e| SynthError::io(&json_path, e))?;
    Ok(DatasetSummary {
        videos: dataset.videos.len(),
        frames,
        annotations: dataset.annotations.len(),
        instances_json: json_path,
        seconds: start.elapsed().as_secs_f64(),
    })
}

/// Renders video `index` of `cfg` into `out` (its JPEGs, and its MP4 when `cfg.mp4`). Returns its
/// `videos` entry (id = index + 1) and one annotation per instance that is visible at least
/// once, with `id` 0 (the caller numbers them).
pub fn render_video_files(
    cfg: &SynthConfig,
    index: usize,
    out: &Path,
) -> Result<(VideoEntry, Vec<Annotation>), SynthError> {
    cfg.validate()?;
    let scene = plan_video(cfg, index);
    let name = video_name(cfg, index);
    let (w, h) = (cfg.width, cfg.height);
    let len = scene.len();
    let dir = out.join("JPEGImages").join(&name);
    std::fs::create_dir_all(&dir).map_err(|e| SynthError::io(&dir, e))?;
    let mp4_path = out.join("videos").join(format!("{name}.mp4"));
    let mut writer = if cfg.mp4 {
        let opts =
            EncodeOptions { frame_rate: (cfg.fps as i32, 1), crf: cfg.crf, threads: 2, ..EncodeOptions::default() };
        let wr = VideoWriter::create(&mp4_path, w, h, &opts)
            .map_err(|source| SynthError::Video { path: mp4_path.clone(), source })?;
        Some(wr)
    } else {
        None
    };

    let n_tracks = scene.tracks().len();
    let mut segs: Vec<Vec<Option<Rle>>> = vec![vec![None; len]; n_tracks];
    let mut file_names = Vec::with_capacity(len);
    let mut jpeg = Vec::new();
    for t in 0..len {
        let frame = scene.render(t);
        let file = format!("{t:05}.jpg");
        let path = dir.join(&file);
        jpeg.clear();
        JpegEncoder::new_with_quality(&mut jpeg, cfg.jpeg_quality)
            .encode(&frame.image.data, w, h, image::ExtendedColorType::Rgb8)
            .map_err(|source| SynthError::Jpeg { path: path.clone(), source })?;
        std::fs::write(&path, &jpeg).map_err(|e| SynthError::io(&path, e))?;
        file_names.push(format!("{name}/{file}"));
        if let Some(wr) = writer.as_mut() {
            wr.write_frame(&frame.image, None)
                .map_err(|source| SynthError::Video { path: mp4_path.clone(), source })?;
        }
        for (label, rle) in encode_label_map(h, w, &frame.labels, 0u8)? {
            if let Some(track) = segs.get_mut(usize::from(label) - 1) {
                track[t] = Some(rle);
            }
        }
    }
    if let Some(wr) = writer {
        wr.finish().map_err(|source| SynthError::Video { path: mp4_path.clone(), source })?;
    }

    let video_id = index as u64 + 1;
    let annotations = scene
        .tracks()
        .iter()
        .zip(segs)
        .filter(|(_, s)| s.iter().any(Option::is_some))
        .map(|(track, segmentations)| Annotation {
            id: 0,
            video_id,
            category_id: track.class().id(),
            iscrowd: 0,
            width: w,
            height: h,
            length: len,
            areas: segmentations.iter().map(|s| s.as_ref().map(Rle::area)).collect(),
            bboxes: segmentations.iter().map(|s| s.as_ref().and_then(Rle::bbox).map(|b| b.map(f64::from))).collect(),
            segmentations,
        })
        .collect();
    Ok((VideoEntry { id: video_id, width: w, height: h, length: len, file_names }, annotations))
}
