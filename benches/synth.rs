//! Shapes-world rendering speed at 640x360: the whole `write_dataset` path (render, JPEG,
//! RLE, MP4, JSON) per preset, and single-thread costs of each stage per frame.
//!
//! `cargo bench --bench synth` (env `SYNTH_BENCH_VIDEOS`, default 8 videos of 60 frames).
//! Target: a 100 x 60-frame training set in under 5 minutes on 2 cores, i.e. >= 20 frames/s.

use std::time::Instant;

use ifa::export::{EncodeOptions, VideoWriter};
use ifa::rle::encode_label_map;
use ifa::synth::{Preset, SynthConfig, plan_video, write_dataset};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let videos: usize = std::env::var("SYNTH_BENCH_VIDEOS").ok().and_then(|v| v.parse().ok()).unwrap_or(8);
    let frames = 60;
    let tmp = tempfile::tempdir()?;
    println!("shapes world at 640x360, {videos} videos x {frames} frames, {} threads", rayon::current_num_threads());
    println!("{:<10} {:>10} {:>10} {:>14}", "preset", "frames", "seconds", "frames/s (all)");
    for preset in Preset::ALL {
        let mut cfg = SynthConfig::new(preset, videos, 1);
        cfg.frames = Some(frames);
        let out = tmp.path().join(preset.name());
        let s = write_dataset(&cfg, &out, &|_, _| {})?;
        println!("{:<10} {:>10} {:>10.2} {:>14.1}", preset.name(), s.frames, s.seconds, s.frames as f64 / s.seconds);
        std::fs::remove_dir_all(&out)?;
    }

    // Stage costs, one thread, standard preset.
    let pool = rayon::ThreadPoolBuilder::new().num_threads(1).build()?;
    let mut cfg = SynthConfig::new(Preset::Standard, 1, 2);
    cfg.frames = Some(frames);
    let (mut plan_s, mut render_s, mut jpeg_s, mut rle_s, mut mp4_s) = (0.0, 0.0, 0.0, 0.0, 0.0);
    let mut n = 0usize;
    let stage_videos = videos.clamp(1, 4);
    for index in 0..stage_videos {
        let t0 = Instant::now();
        let scene = plan_video(&cfg, index);
        plan_s += t0.elapsed().as_secs_f64();
        let path = tmp.path().join(format!("stage{index}.mp4"));
        let opts = EncodeOptions { threads: 1, ..EncodeOptions::default() };
        let mut writer = VideoWriter::create(&path, 640, 360, &opts)?;
        for t in 0..scene.len() {
            let t0 = Instant::now();
            let frame = pool.install(|| scene.render(t));
            render_s += t0.elapsed().as_secs_f64();
            let t0 = Instant::now();
            let mut buf = Vec::new();
            image::codecs::jpeg::JpegEncoder::new_with_quality(&mut buf, 90).encode(
                &frame.image.data,
                640,
                360,
                image::ExtendedColorType::Rgb8,
            )?;
            jpeg_s += t0.elapsed().as_secs_f64();
            let t0 = Instant::now();
            let rles = encode_label_map(360, 640, &frame.labels, 0u8)?;
            std::hint::black_box(rles.values().map(|r| r.to_compressed_string().len()).sum::<usize>());
            rle_s += t0.elapsed().as_secs_f64();
            let t0 = Instant::now();
            writer.write_frame(&frame.image, None)?;
            mp4_s += t0.elapsed().as_secs_f64();
            n += 1;
        }
        let t0 = Instant::now();
        writer.finish()?;
        mp4_s += t0.elapsed().as_secs_f64();
    }
    let ms = |s: f64| s * 1000.0 / n as f64;
    println!("\nper frame, one thread (standard, {n} frames):");
    println!("{:<22} {:>8}", "stage", "ms");
    println!("{:<22} {:>8.2}", "plan (per frame)", ms(plan_s));
    println!("{:<22} {:>8.2}", "render + labels", ms(render_s));
    println!("{:<22} {:>8.2}", "JPEG q90", ms(jpeg_s));
    println!("{:<22} {:>8.2}", "RLE (all instances)", ms(rle_s));
    println!("{:<22} {:>8.2}", "MP4 (x264 veryfast)", ms(mp4_s));
    let total = ms(plan_s + render_s + jpeg_s + rle_s + mp4_s);
    println!("{:<22} {:>8.2}  ({:.1} frames/s per core)", "total", total, 1000.0 / total);
    Ok(())
}
