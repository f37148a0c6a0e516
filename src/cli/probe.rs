//! `ifa probe`: describe a video file.

use std::path::PathBuf;

use anyhow::Context as _;

/// Arguments of `ifa probe`.
#[derive(clap::Args, Debug)]
pub struct ProbeArgs {
    /// The video: a file or a folder of JPEG/PNG frames.
    pub video: PathBuf,
    /// Frame rate of a frame folder (ignored for video files). YouTube-VIS frames are every
    /// fifth frame of 30 fps videos, so their real rate is 6 fps.
    #[arg(long, default_value_t = ifa::decode::DEFAULT_FOLDER_FPS, value_parser = super::parse_fps)]
    pub fps: f64,
    /// Print JSON instead of text.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: ProbeArgs) -> anyhow::Result<()> {
    ifa::decode::set_folder_fps(args.fps);
    let info = ifa::decode::probe(&args.video)?;
    if args.json {
        let text = serde_json::to_string_pretty(&info).context("serialising the probe result")?;
        println!("{text}");
        return Ok(());
    }
    let rate = if info.variable_frame_rate { "variable" } else { "constant" };
    println!("file:        {}", info.path.display());
    println!("container:   {} ({})", info.container, info.container_long);
    println!("video codec: {} ({})", info.video_codec, info.pixel_format);
    println!("coded size:  {}x{}", info.coded_width, info.coded_height);
    println!("rotation:    {} degrees clockwise", info.rotation);
    println!("shown size:  {}x{}", info.width, info.height);
    println!(
        "frame rate:  {:.3} fps average, {rate} (nominal {}/{})",
        info.avg_fps, info.frame_rate.0, info.frame_rate.1
    );
    println!("duration:    {:.3} s", info.duration);
    println!("frames:      {}", info.frame_count);
    match &info.audio {
        Some(a) => println!("audio:       {} {} Hz, {} channel(s)", a.codec, a.sample_rate, a.channels),
        None => println!("audio:       none"),
    }
    Ok(())
}
