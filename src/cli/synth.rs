//! `ifa synth`: render videos of the shapes world in YouTube-VIS layout.

use std::io::Write as _;
use std::path::PathBuf;

use anyhow::Context as _;
use ifa::synth::{Preset, Styles, SynthConfig, write_dataset};

/// Arguments of `ifa synth`.
#[derive(clap::Args, Debug)]
pub struct SynthArgs {
    /// Output folder: JPEGImages/<video>/, videos/<video>.mp4 and instances.json go here.
    #[arg(long)]
    pub out: PathBuf,
    /// Difficulty: easy, standard or hard.
    #[arg(long, default_value = "standard", value_parser = parse_preset)]
    pub preset: Preset,
    /// Number of videos.
    #[arg(long, default_value_t = 1)]
    pub videos: usize,
    /// Random seed; the same seed and settings give the same bytes.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Frames per video (default: 3 to 8 seconds, drawn per video).
    #[arg(long)]
    pub frames: Option<usize>,
    /// Frame size WIDTHxHEIGHT (even numbers).
    #[arg(long, default_value = "640x360", value_parser = parse_size)]
    pub size: (u32, u32),
    /// Frames per second.
    #[arg(long, default_value_t = 25, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub fps: u32,
    /// x264 constant rate factor of the MP4s (0-51, lower is better).
    #[arg(long, default_value_t = 20, value_parser = clap::value_parser!(u8).range(0..=51))]
    pub crf: u8,
    /// JPEG quality of the frame files (1-100).
    #[arg(long, default_value_t = 90, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub jpeg_quality: u8,
    /// Appearance families: all; train (no checkerboard or radial fills, no tiled backgrounds,
    /// six of the eight photographs); heldout (only those), to measure generalisation to styles
    /// that training never saw.
    #[arg(long, default_value = "all", value_parser = parse_styles)]
    pub styles: Styles,
    /// Do not write videos/<video>.mp4.
    #[arg(long)]
    pub no_mp4: bool,
    /// No progress lines.
    #[arg(long, short)]
    pub quiet: bool,
}

fn parse_preset(s: &str) -> Result<Preset, String> {
    s.parse::<Preset>().map_err(|e| e.to_string())
}

fn parse_styles(s: &str) -> Result<Styles, String> {
    s.parse::<Styles>().map_err(|e| e.to_string())
}

fn parse_size(s: &str) -> Result<(u32, u32), String> {
    let (w, h) = s.split_once(['x', 'X']).ok_or_else(|| format!("expected WIDTHxHEIGHT, got {s:?}"))?;
    let w = w.trim().parse::<u32>().map_err(|e| format!("width {w:?}: {e}"))?;
    let h = h.trim().parse::<u32>().map_err(|e| format!("height {h:?}: {e}"))?;
    Ok((w, h))
}

pub fn run(args: SynthArgs) -> anyhow::Result<()> {
    ifa::outpath::check(
        &[],
        &[ifa::outpath::Output { label: "output folder", path: &args.out, role: ifa::outpath::Role::Into }],
    )?;
    let mut cfg = SynthConfig::new(args.preset, args.videos, args.seed);
    (cfg.width, cfg.height) = args.size;
    cfg.styles = args.styles;
    cfg.fps = args.fps;
    cfg.frames = args.frames;
    cfg.crf = args.crf;
    cfg.jpeg_quality = args.jpeg_quality;
    cfg.mp4 = !args.no_mp4;
    let quiet = args.quiet;
    let progress = move |done: usize, total: usize| {
        if !quiet {
            eprint!("\rrendered {done}/{total} videos");
            std::io::stderr().flush().ok();
        }
    };
    let summary = write_dataset(&cfg, &args.out, &progress)
        .with_context(|| format!("rendering the shapes world into {}", args.out.display()))?;
    if !quiet {
        eprintln!();
    }
    println!(
        "{} videos, {} frames, {} instance tracks in {:.1} s ({:.1} frames/s); ground truth: {}",
        summary.videos,
        summary.frames,
        summary.annotations,
        summary.seconds,
        summary.frames as f64 / summary.seconds.max(1e-9),
        summary.instances_json.display()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn size_and_preset_parse() {
        assert_eq!(parse_size("640x360"), Ok((640, 360)));
        assert_eq!(parse_size("64X48"), Ok((64, 48)));
        assert!(parse_size("640").is_err());
        assert!(parse_size("ax3").is_err());
        assert_eq!(parse_preset("hard"), Ok(Preset::Hard));
        assert!(parse_preset("x").is_err());
    }
}
