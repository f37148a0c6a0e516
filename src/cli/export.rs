//! `ifa export`: an annotated H.264 MP4 that plays everywhere, and the results as data.

use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ifa::export::{EncodeOptions, ExportError, ExportJob, check_outputs, export_video};
use ifa::overlay::scene::{Layers, SceneOptions};
use ifa::runtime::Pipeline;

/// Arguments of `ifa export`.
#[derive(clap::Args, Debug)]
pub struct ExportArgs {
    /// The video to segment and annotate.
    pub video: PathBuf,
    /// Frame rate of a frame folder (ignored for video files). YouTube-VIS frames are every
    /// fifth frame of 30 fps videos, so their real rate is 6 fps.
    #[arg(long, default_value_t = ifa::decode::DEFAULT_FOLDER_FPS, value_parser = super::parse_fps)]
    pub fps: f64,
    /// The annotated video (H.264, yuv420p, MP4 with faststart; the source's timing, audio
    /// and size, an odd width or height rounded up to even by one black column or row, as
    /// yuv420p needs).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub runtime: super::ModelArgs,
    /// Overlay layers, comma-separated: masks, centers, flow, labels, trails (or "none").
    #[arg(long, default_value = "masks,centers,labels")]
    pub layers: String,
    /// Mask opacity, 0..=1.
    #[arg(long, default_value_t = 0.5)]
    pub opacity: f32,
    /// Hide instances scoring below this, 0..=1.
    #[arg(long, default_value_t = 0.0)]
    pub min_score: f32,
    /// How many past frames a trail reaches back.
    #[arg(long, default_value_t = 30)]
    pub trail_frames: usize,
    #[command(flatten)]
    pub results: super::ResultsArgs,
    /// Write per-frame 16-bit PNG id masks (class_id * 1000 + track_id) into this folder.
    #[arg(long)]
    pub masks: Option<PathBuf>,
    /// x264 constant rate factor, 0..=51 (lower is better).
    #[arg(long, default_value_t = EncodeOptions::default().crf, value_parser = clap::value_parser!(u8).range(0..=51))]
    pub crf: u8,
    /// x264 preset.
    #[arg(long, default_value_t = EncodeOptions::default().preset)]
    pub preset: String,
    /// Write the outputs even when the video cannot be decoded to its end (they then cover
    /// only the decoded frames); without it such a video is an error and nothing is written.
    #[arg(long)]
    pub allow_partial: bool,
}

/// Parses `--layers`.
fn parse_layers(s: &str) -> anyhow::Result<Layers> {
    let mut l = Layers { masks: false, centers: false, flows: false, labels: false, trails: false };
    if s.split(',').all(|n| n.trim().is_empty()) {
        bail!("--layers {s:?} names no layer (give masks, centers, flow, labels, trails, or none)");
    }
    for name in s.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        match name {
            "masks" | "mask" => l.masks = true,
            "centers" | "center" => l.centers = true,
            "flow" | "flows" | "arrows" => l.flows = true,
            "labels" | "label" => l.labels = true,
            "trails" | "trail" => l.trails = true,
            "none" => {}
            other => bail!("--layers: unknown layer {other:?} (layers: masks, centers, flow, labels, trails, none)"),
        }
    }
    Ok(l)
}

fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(width).min(width);
    format!("{}{}", "#".repeat(filled), ".".repeat(width - filled))
}

pub fn run(args: ExportArgs) -> anyhow::Result<()> {
    ifa::decode::set_folder_fps(args.fps);
    let layers = parse_layers(&args.layers)?;
    if !(0.0..=1.0).contains(&args.opacity) {
        bail!("--opacity must be between 0 and 1 (got {})", args.opacity);
    }
    if !(0.0..=1.0).contains(&args.min_score) {
        bail!("--min-score must be between 0 and 1 (got {})", args.min_score);
    }
    if args.output.is_none() && args.results.json.is_none() && args.results.csv.is_none() && args.masks.is_none() {
        bail!("nothing to write: give -o OUT.mp4 and/or --json, --csv, --masks");
    }
    let job = ExportJob {
        video: args.video.clone(),
        output: args.output.clone(),
        json: args.results.json.clone(),
        csv: args.results.csv.clone(),
        masks: args.masks.clone(),
        video_id: args.results.video_id,
        scene: SceneOptions {
            layers,
            opacity: args.opacity,
            min_score: args.min_score,
            trail_frames: args.trail_frames,
            ..SceneOptions::default()
        },
        encode: EncodeOptions { crf: args.crf, preset: args.preset.clone(), ..EncodeOptions::default() },
        allow_partial: args.allow_partial,
    };
    let interrupt = super::signals::Interrupt::install()?;
    let model_path = args.runtime.path()?;
    // Before any work (the job checks again, for the viewer's sake).
    super::report_stale(&check_outputs(&job, Some(&model_path))?.stale);
    let model = args.runtime.load(&model_path)?;
    let mut pipe = Pipeline::new(model)?;
    eprintln!("model {} on {}", model_path.display(), pipe.provider());
    for w in pipe.warnings() {
        eprintln!("warning: {w}");
    }

    let mut last_draw = Instant::now() - Duration::from_secs(1);
    let mut done = (0, 0);
    let result = export_video(&job, &mut pipe, interrupt.flag(), &mut |p| {
        done = (p.frame, p.total);
        if last_draw.elapsed() >= Duration::from_millis(200) || p.frame == p.total {
            eprint!("\r[{}] {}/{} frames, {:.1} fps   ", bar(p.frame, p.total, 30), p.frame, p.total, p.fps());
            last_draw = Instant::now();
        }
    });
    eprintln!();
    let summary = match result {
        Ok(s) => s,
        Err(ExportError::Cancelled) if interrupt.raised() => {
            return Err(interrupt.error(format!("after {} of {} frames", done.0, done.1)).into());
        }
        Err(e @ ExportError::Partial { .. }) => {
            bail!("{e} (pass --allow-partial to write the outputs for the decoded frames)")
        }
        Err(e) => return Err(e).with_context(|| format!("exporting {}", args.video.display())),
    };
    if !summary.coverage.is_complete() {
        eprintln!("warning: {}: {}; the outputs cover only the decoded frames", args.video.display(), summary.coverage);
    }
    for p in &summary.written {
        eprintln!("wrote {}", p.display());
    }
    let (sw, sh) = summary.source_size;
    if let Some((vw, vh)) = summary.video_size.filter(|&s| s != summary.source_size) {
        eprintln!(
            "note: the source is {sw}x{sh}; the annotated video is {vw}x{vh} (H.264 yuv420p needs even sizes: one black column or row was added)"
        );
    }
    let n = summary.frames as f64;
    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / n;
    let t = &summary.times;
    eprintln!(
        "{} tracks over {} frames in {:.2} s ({:.1} fps)",
        summary.tracks,
        summary.frames,
        summary.elapsed.as_secs_f64(),
        n / summary.elapsed.as_secs_f64().max(1e-9)
    );
    eprintln!(
        "per frame: decode {:.2} ms, inference {:.2} ms (pre {:.2}, post {:.2}, assembly {:.3}), id map {:.2} ms, overlay {:.2} ms, encode {:.2} ms, data {:.2} ms",
        ms(t.decode),
        ms(t.inference),
        ms(t.preprocess),
        ms(t.postprocess),
        ms(t.assembly),
        ms(t.render),
        ms(summary.annotate),
        ms(summary.encode),
        ms(summary.data)
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layers_parse() {
        let l = parse_layers("masks, flow,trails").expect("valid");
        assert!(l.masks && l.flows && l.trails && !l.centers && !l.labels);
        assert_eq!(
            parse_layers("none").expect("valid"),
            Layers { masks: false, centers: false, flows: false, labels: false, trails: false }
        );
        assert!(parse_layers("masks,bogus").is_err());
        assert!(parse_layers("").is_err());
        assert!(parse_layers(" , ").is_err());
    }
}
