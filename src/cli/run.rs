//! `ifa run`: segment and track a video headless; YouTube-VIS results and a per-frame CSV.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ifa::assemble::{AssociationParams, StageTimes};
use ifa::decode::VideoReader;
use ifa::export::Coverage;
use ifa::export::results::ResultsCollector;
use ifa::model::maps_file::{MapsReader, MapsWriter};
use ifa::outpath::{Input, Output};
use ifa::runtime::{FrameContext, Pipeline, PipelineOptions, RunSummary, StreamFrame, StreamOptions};

/// Arguments of `ifa run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The video to segment: a video file or a folder of JPEG/PNG frames.
    pub video: PathBuf,
    /// Frame rate of a frame folder (ignored for video files). YouTube-VIS frames are every
    /// fifth frame of 30 fps videos, so their real rate is 6 fps.
    #[arg(long, default_value_t = ifa::decode::DEFAULT_FOLDER_FPS, value_parser = super::parse_fps)]
    pub fps: f64,
    #[command(flatten)]
    pub runtime: super::ModelArgs,
    #[command(flatten)]
    pub results: super::ResultsArgs,
    /// How detections get identities: flow (the method), flow-mask[:T] (the mask moved by its
    /// flow, IoU >= T with the reference's masks, default 0.1; then flow), or the ablation
    /// baselines center (nearest unwarped center) and iou[:T] (mask IoU at the head's stride >= T).
    #[arg(long, default_value = "flow", value_name = "flow|flow-mask[:T]|center|iou[:T]")]
    pub association: AssociationParams,
    /// Use at most N references (1 to the model's ifa.refs.count; 1 = the most recent frame only).
    #[arg(long, value_name = "N")]
    pub refs: Option<usize>,
    /// Override some of the model's post-processing parameters (`ifa.post`, docs/model-contract.md),
    /// e.g. '{"max_hidden": 0}' to switch the keep-alive off.
    #[arg(long, value_name = "JSON")]
    pub post: Option<String>,
    /// Write a JSON summary here: frames, tracks, mean ms per stage, fps, references used.
    #[arg(long, value_name = "PATH")]
    pub summary_json: Option<PathBuf>,
    /// Record every frame's raw head maps to this file (about 1 MB per frame at 352x640), so
    /// that `--replay-maps` can rerun the post-processing and assembly without the network.
    #[arg(long, value_name = "PATH", conflicts_with = "replay_maps")]
    pub save_maps: Option<PathBuf>,
    /// Take the head maps from a `--save-maps` recording of this video instead of running the
    /// network: the same results as the recorded run, unless `--post` or `--association` change
    /// the post-processing. The model must be the recorded one's (its `ifa.post` may differ).
    #[arg(long, value_name = "PATH")]
    pub replay_maps: Option<PathBuf>,
    /// Write results even when the video cannot be decoded to its end (they then cover only
    /// the decoded frames); without it such a video is an error and nothing is written.
    #[arg(long)]
    pub allow_partial: bool,
}

/// Before any work: no output may be an input, a device or another output's path, and every
/// output folder must take files.
fn check_paths(args: &RunArgs, model_path: &Path) -> anyhow::Result<()> {
    let outputs: Vec<Output<'_>> = [
        ("JSON results", &args.results.json),
        ("CSV", &args.results.csv),
        ("run summary", &args.summary_json),
        ("head maps", &args.save_maps),
    ]
    .into_iter()
    .filter_map(|(label, p)| p.as_deref().map(|p| Output::file(label, p)))
    .collect();
    let mut inputs = vec![Input::new("video", &args.video), Input::new("model", model_path)];
    if let Some(p) = &args.replay_maps {
        inputs.push(Input::new("head maps", p));
    }
    let checked = ifa::outpath::check(&inputs, &outputs)?;
    super::report_stale(&checked.stale);
    Ok(())
}

/// Loads the model (with `--post` overrides) into a pipeline and says how it will run.
fn open_pipeline(args: &RunArgs, model_path: &Path) -> anyhow::Result<Pipeline> {
    let mut model = args.runtime.load(model_path)?;
    if let Some(p) = &args.post {
        super::override_post(&mut model.metadata, p)?;
    }
    let opts = PipelineOptions { association: args.association, refs: args.refs };
    let pipe = Pipeline::with_options(model, &opts)?;
    match pipe.contract().tta_label() {
        Some(t) => eprintln!("model {} on {} ({t})", model_path.display(), pipe.provider()),
        None => eprintln!("model {} on {}", model_path.display(), pipe.provider()),
    }
    let (r, m) = (pipe.contract().refs, pipe.model_refs());
    eprintln!(
        "association {}; references: up to {} (first frame {}, step {}; the model's: {})",
        pipe.association(),
        r.count,
        if r.first_frame { "kept" } else { "not kept" },
        r.step,
        m.count
    );
    for w in pipe.warnings() {
        eprintln!("warning: {w}");
    }
    Ok(pipe)
}

/// Starts recording the head maps, or replaying a recording in place of the network.
fn attach_maps(args: &RunArgs, pipe: &mut Pipeline, video_w: u32, video_h: u32) -> anyhow::Result<()> {
    let engine = pipe.engine_mut();
    if let Some(path) = &args.save_maps {
        engine.record_maps(MapsWriter::create(path, engine.maps_header(video_w, video_h))?);
    }
    if let Some(path) = &args.replay_maps {
        engine.replay_maps(MapsReader::open(path)?)?;
        eprintln!("head maps replayed from {}: the network does not run", path.display());
    }
    Ok(())
}

/// A video not decoded to its end fails the run unless `--allow-partial` accepts it.
fn check_coverage(args: &RunArgs, coverage: &Coverage) -> anyhow::Result<()> {
    if coverage.is_complete() {
        return Ok(());
    }
    eprintln!();
    if !args.allow_partial {
        bail!(
            "{}: {coverage}; nothing was written (pass --allow-partial to write results for the decoded frames)",
            args.video.display()
        );
    }
    eprintln!("warning: {}: {coverage}; the results cover only the decoded frames", args.video.display());
    Ok(())
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    ifa::decode::set_folder_fps(args.fps);
    let interrupt = super::signals::Interrupt::install()?;
    let model_path = args.runtime.path()?;
    check_paths(&args, &model_path)?;
    let mut reader =
        VideoReader::open(&args.video).with_context(|| format!("cannot read video {}", args.video.display()))?;
    let total = reader.frame_count();
    if total == 0 {
        bail!("video {} has no frames", args.video.display());
    }
    let mut pipe = open_pipeline(&args, &model_path)?;
    let (vw, vh) = (reader.info().width, reader.info().height);
    attach_maps(&args, &mut pipe, vw, vh)?;

    let mut results = ResultsCollector::new(args.results.video_id, vw, vh, args.results.csv.is_some())
        .with_min_track_frames(pipe.assembler().params.min_track_frames)
        .with_class_hypotheses(pipe.assembler().params.class_hypotheses);
    let mut sum = StageTimes::default();
    let mut frames = 0usize;
    let mut last_index = 0usize;
    let mut coverage = Coverage::for_reader(&reader);
    let start = Instant::now();
    let mut last_draw = Instant::now() - Duration::from_secs(1);
    let video = args.video.display().to_string();
    // Decoding here, inference and assembly on their own threads (runtime::stream).
    let mut next = || -> anyhow::Result<Option<ifa::decode::DecodedFrame>> {
        if interrupt.raised() {
            return Err(interrupt.error(format!("after {} of {total} frames decoded", coverage.decoded)).into());
        }
        // `None` also when decoding broke down: the coverage check below says where.
        coverage.read_next(&mut reader).with_context(|| format!("decoding {video}"))
    };
    let mut sink = |out: StreamFrame, ctx: FrameContext<'_>| -> anyhow::Result<()> {
        let StreamFrame { frame, mut result, ids, .. } = out;
        let t_rle = Instant::now();
        results.add_frame(frame.index, &result, &ids, ctx)?;
        result.times.render += t_rle.elapsed();
        sum += result.times;
        frames += 1;
        last_index = last_index.max(frame.index);
        if last_draw.elapsed() >= Duration::from_millis(200) {
            let fps = frames as f64 / start.elapsed().as_secs_f64().max(1e-9);
            eprint!("\r[{}] {frames}/{total} frames, {fps:.1} fps   ", bar(frames, total, 30));
            last_draw = Instant::now();
        }
        Ok(())
    };
    let stream = pipe.run_stream(&mut next, StreamOptions { ids: true, maps: false }, &mut sink);
    if stream.is_err() {
        eprintln!();
    }
    stream?;
    if frames == 0 {
        bail!("video {} has no decodable frames: {coverage}", args.video.display());
    }
    check_coverage(&args, &coverage)?;
    pipe.engine_mut().finish_maps()?;
    let wall = start.elapsed();
    eprintln!(
        "\r[{}] {frames}/{total} frames, {:.1} fps   ",
        bar(frames, frames, 30),
        frames as f64 / wall.as_secs_f64()
    );

    if interrupt.raised() {
        return Err(interrupt.error(format!("after {frames} of {total} frames")).into());
    }
    let length = total.max(last_index + 1);
    if let Some(path) = &args.results.json {
        let n = results.write_json(path, pipe.tracks(), length)?;
        eprintln!("wrote {} ({n} tracks)", path.display());
    }
    if let Some(path) = &args.results.csv {
        results.write_csv(path)?;
        eprintln!("wrote {}", path.display());
    }

    let ms = |d: Duration| d.as_secs_f64() * 1000.0 / frames as f64;
    eprintln!(
        "{} tracks over {frames} frames in {:.2} s ({:.1} fps)",
        pipe.tracks().count(),
        wall.as_secs_f64(),
        frames as f64 / wall.as_secs_f64()
    );
    eprintln!(
        "per frame: decode {:.2} ms, pre-process {:.2} ms, inference {:.2} ms, post-process {:.2} ms, assembly {:.3} ms, id map + RLE {:.2} ms",
        ms(sum.decode),
        ms(sum.preprocess),
        ms(sum.inference),
        ms(sum.postprocess),
        ms(sum.assembly),
        ms(sum.render)
    );
    if let Some(path) = &args.summary_json {
        let summary = RunSummary::new(frames, pipe.tracks().count(), &sum, wall).with_pipeline(&pipe);
        summary.write(path).with_context(|| format!("cannot write {}", path.display()))?;
        eprintln!("wrote {}", path.display());
    }
    Ok(())
}

fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(width).min(width);
    format!("{}{}", "#".repeat(filled), ".".repeat(width - filled))
}
