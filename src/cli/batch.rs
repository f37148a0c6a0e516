//! `ifa batch`: segment and track every video of a YouTube-VIS-layout data set (or one shard of
//! it) into one `results.json` and `results.zip`; `ifa merge`: the shards' outputs into one.
//!
//! The output folder is also the work folder: each video's results land in `videos/<id>.json`
//! as soon as the video is done, so a run that was stopped resumes where it was, and the merged
//! file is the per-video files joined in id order.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use crossbeam_channel::RecvTimeoutError;
use ifa::assemble::AssociationParams;
use ifa::dataset::{Manifest, ShardSpec, Split, SplitVideo, check_shards, merge_results, video_results_path};
use ifa::decode::VideoReader;
use ifa::export::Coverage;
use ifa::export::results::ResultsCollector;
use ifa::infer::runtime::{SessionOptions, load_model};
use ifa::outpath::{Input, Output, Role};
use ifa::runtime::{FrameContext, Pipeline, PipelineOptions, StreamFrame, StreamOptions};

/// Arguments of `ifa batch`.
#[derive(clap::Args, Debug)]
pub struct BatchArgs {
    /// Data set root in YouTube-VIS layout: JPEGImages/<video>/<frame>.jpg and a split JSON.
    pub root: PathBuf,
    /// Output and work folder: results.json, results.zip, videos/<id>.json (per video, kept
    /// for resuming), shard-I-of-N.json with --shard.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// The split's JSON (default: ROOT/instances.json, valid.json or meta.json): its `videos`
    /// give the ids and frame lists; with `annotations` it is also the ground truth for --eval.
    #[arg(long, value_name = "PATH")]
    pub split: Option<PathBuf>,
    /// The folder the split's file_names are relative to (default: ROOT/JPEGImages).
    #[arg(long, value_name = "DIR")]
    pub frames: Option<PathBuf>,
    #[command(flatten)]
    pub runtime: super::ModelArgs,
    /// Frame rate of the frame folders. YouTube-VIS frames are every fifth frame of 30 fps
    /// videos, so their real rate is 6 fps.
    #[arg(long, default_value_t = ifa::decode::DEFAULT_FOLDER_FPS, value_parser = super::parse_fps)]
    pub fps: f64,
    /// Run only shard I of N: the videos at positions p (ascending id) with p % N == I-1. Each
    /// shard writes shard-I-of-N.json; `ifa merge` joins the shards.
    #[arg(long, default_value = "1/1", value_name = "I/N")]
    pub shard: ShardSpec,
    /// Videos run at once; the inference threads are divided between them.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u16).range(1..=64))]
    pub jobs: u16,
    /// Score results.json against the split's annotations when done.
    #[arg(long)]
    pub eval: bool,
    /// How detections get identities (as in `ifa run`).
    #[arg(long, default_value = "flow", value_name = "flow|flow-mask[:T]|center|iou[:T]")]
    pub association: AssociationParams,
}

/// Arguments of `ifa merge`.
#[derive(clap::Args, Debug)]
pub struct MergeArgs {
    /// Output folders of `ifa batch --shard` runs (one folder may hold several shards).
    #[arg(required = true)]
    pub shards: Vec<PathBuf>,
    /// Where results.json and results.zip go.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}

/// What a run must agree on with the results already in its work folder.
#[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
struct Settings {
    model: String,
    model_bytes: u64,
    fps: f64,
    association: String,
    split: String,
}

impl Settings {
    fn of(args: &BatchArgs, model: &Path, split: &Path) -> anyhow::Result<Self> {
        let meta = std::fs::metadata(model).with_context(|| format!("cannot read model {}", model.display()))?;
        Ok(Self {
            model: model.canonicalize().unwrap_or_else(|_| model.to_path_buf()).display().to_string(),
            model_bytes: meta.len(),
            fps: args.fps,
            association: args.association.to_string(),
            split: split.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
        })
    }

    /// Refuses a work folder holding results made otherwise; records the settings in a new one.
    fn claim(&self, out: &Path) -> anyhow::Result<()> {
        let path = out.join("batch.json");
        if path.exists() {
            let bytes = ifa::fsutil::read_limited(&path, 1 << 20, "batch settings")
                .with_context(|| format!("cannot read {}", path.display()))?;
            let old: Self = serde_json::from_slice(&bytes)
                .with_context(|| format!("{} is not ifa's batch settings", path.display()))?;
            if &old != self {
                bail!(
                    "{} holds results of another run ({old:?}; this one: {self:?}); give --out a new folder or remove it",
                    out.display()
                );
            }
            return Ok(());
        }
        ifa::fsutil::write_atomic(&path, |w| {
            serde_json::to_writer_pretty(&mut *w, self).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        })
        .with_context(|| format!("cannot write {}", path.display()))
    }
}

/// What the workers tell the main thread.
enum Event {
    Done,
    Failed {
        id: u64,
        message: String,
    },
    /// The model could not be loaded: nothing can run.
    Fatal(String),
}

/// Counters the progress line reads.
struct Progress {
    frames: AtomicUsize,
}

pub fn run(args: BatchArgs) -> anyhow::Result<()> {
    ifa::decode::set_folder_fps(args.fps);
    let interrupt = super::signals::Interrupt::install()?;
    let split_path = match &args.split {
        Some(p) => p.clone(),
        None => Split::find(&args.root).with_context(|| {
            format!("no split JSON in {} (instances.json, valid.json, meta.json); pass --split", args.root.display())
        })?,
    };
    let split = Split::load(&split_path)?;
    if args.eval && !split.has_annotations {
        bail!("--eval: {} has no annotations to score against", split_path.display());
    }
    let frames = args.frames.clone().unwrap_or_else(|| args.root.join("JPEGImages"));
    let model_path = args.runtime.path()?;
    check_paths(&args, &split_path, &model_path)?;
    Settings::of(&args, &model_path, &split_path)?.claim(&args.out)?;

    let mine = args.shard.select(&split.videos);
    let (done, todo): (Vec<&SplitVideo>, Vec<&SplitVideo>) =
        mine.iter().partition(|v| video_results_path(&args.out, v.id).is_file());
    let shard = if args.shard == ShardSpec::WHOLE { String::new() } else { format!(" (shard {})", args.shard) };
    eprintln!(
        "{} videos of {}{shard}: {} already done in {}, {} to run",
        mine.len(),
        split_path.display(),
        done.len(),
        args.out.display(),
        todo.len()
    );
    let failures = run_videos(&args, &todo, &frames, &model_path, &interrupt)?;
    if interrupt.raised() {
        let now_done = mine.iter().filter(|v| video_results_path(&args.out, v.id).is_file()).count();
        return Err(interrupt
            .error(format!(
                "with {now_done} of {} videos done (kept in {}; run the same command again to resume)",
                mine.len(),
                args.out.display()
            ))
            .into());
    }
    for (id, message) in &failures {
        eprintln!("video {id} failed: {message}");
    }

    if args.shard == ShardSpec::WHOLE {
        let written: Vec<&SplitVideo> =
            split.videos.iter().filter(|v| video_results_path(&args.out, v.id).is_file()).collect();
        let json = args.out.join("results.json");
        write_merged(&written.iter().map(|v| video_results_path(&args.out, v.id)).collect::<Vec<_>>(), &args.out)?;
        if args.eval {
            let ev = ifa::eval::evaluate_files(&split_path, &json).context("evaluation failed")?;
            print!("{}", super::eval::report(&ev));
        }
    } else {
        let ids = |vs: &[&SplitVideo]| vs.iter().map(|v| v.id).collect::<Vec<u64>>();
        let written: Vec<&SplitVideo> =
            mine.iter().copied().filter(|v| video_results_path(&args.out, v.id).is_file()).collect();
        let manifest = Manifest {
            shard: [args.shard.index, args.shard.count],
            split: split_path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default(),
            videos_in_split: split.videos.len(),
            videos: ids(&written),
            failed: failures.iter().map(|(id, _)| *id).collect(),
        };
        let path = args.out.join(args.shard.manifest_name());
        manifest.write(&path)?;
        eprintln!("wrote {} ({} videos); join the shards with `ifa merge`", path.display(), written.len());
    }
    if !failures.is_empty() {
        bail!(
            "{} of {} videos failed (listed above); the others were written; run the same command again to retry only the failed ones",
            failures.len(),
            mine.len()
        );
    }
    Ok(())
}

/// Before any work: the work folder takes files, and no output is the split or the model.
fn check_paths(args: &BatchArgs, split: &Path, model: &Path) -> anyhow::Result<()> {
    let inputs = [Input::new("split JSON", split), Input::new("model", model)];
    let out = Output { label: "--out", path: &args.out, role: Role::Into };
    ifa::outpath::check(&inputs, &[out])?;
    let videos = args.out.join("videos");
    std::fs::create_dir_all(&videos).with_context(|| format!("cannot create {}", videos.display()))?;
    let (json, zip, manifest) =
        (args.out.join("results.json"), args.out.join("results.zip"), args.out.join(args.shard.manifest_name()));
    let outputs = if args.shard == ShardSpec::WHOLE {
        vec![Output::file("results", &json), Output::file("results zip", &zip)]
    } else {
        vec![Output::file("shard manifest", &manifest)]
    };
    let mut all = outputs;
    all.push(Output { label: "per-video results folder", path: &videos, role: Role::Into });
    let checked = ifa::outpath::check(&inputs, &all)?;
    super::report_stale(&checked.stale);
    Ok(())
}

/// Writes `out/results.json` and `out/results.zip` from per-video result files.
fn write_merged(parts: &[PathBuf], out: &Path) -> anyhow::Result<()> {
    let json = out.join("results.json");
    let zip = out.join("results.zip");
    let tracks = merge_results(&json, parts)?;
    ifa::dataset::write_results_zip(&json, &zip)?;
    eprintln!("wrote {} ({} videos with tracks) and {}", json.display(), tracks, zip.display());
    Ok(())
}

/// Runs `todo` on `args.jobs` workers, each with its own model session; returns the failures.
fn run_videos(
    args: &BatchArgs,
    todo: &[&SplitVideo],
    frames: &Path,
    model_path: &Path,
    interrupt: &super::signals::Interrupt,
) -> anyhow::Result<Vec<(u64, String)>> {
    if todo.is_empty() {
        return Ok(Vec::new());
    }
    let jobs = usize::from(args.jobs).min(todo.len());
    // One job keeps ONNX Runtime's own choice (as `ifa run` does); more share the cores.
    let threads = if jobs == 1 {
        0
    } else {
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get).div_ceil(jobs).max(1)
    };
    let total_frames: usize = todo.iter().map(|v| v.file_names.len()).sum();
    let (work_tx, work_rx) = crossbeam_channel::unbounded::<&SplitVideo>();
    for v in todo {
        work_tx.send(v).ok();
    }
    drop(work_tx);
    let (ev_tx, ev_rx) = crossbeam_channel::unbounded::<Event>();
    let progress = Progress { frames: AtomicUsize::new(0) };
    let stop = AtomicBool::new(false);
    let mut failures = Vec::new();
    let mut fatal = None;
    std::thread::scope(|s| -> anyhow::Result<()> {
        for j in 0..jobs {
            let (rx, tx, progress, stop) = (work_rx.clone(), ev_tx.clone(), &progress, &stop);
            let flag = interrupt.flag();
            std::thread::Builder::new()
                .name(format!("ifa-batch-{j}"))
                .spawn_scoped(s, move || worker(args, model_path, frames, threads, &rx, &tx, progress, stop, flag))
                .context("starting a worker thread")?;
        }
        drop(ev_tx);
        let start = Instant::now();
        let (mut videos, mut last_draw) = (0usize, Instant::now() - Duration::from_secs(1));
        loop {
            match ev_rx.recv_timeout(Duration::from_millis(200)) {
                Ok(Event::Done) => videos += 1,
                Ok(Event::Failed { id, message }) => {
                    videos += 1;
                    failures.push((id, message));
                }
                Ok(Event::Fatal(m)) => {
                    stop.store(true, Ordering::Relaxed);
                    fatal.get_or_insert(m);
                }
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => break,
            }
            if last_draw.elapsed() >= Duration::from_millis(200) {
                draw(videos, todo.len(), failures.len(), progress.frames.load(Ordering::Relaxed), total_frames, start);
                last_draw = Instant::now();
            }
        }
        draw(videos, todo.len(), failures.len(), progress.frames.load(Ordering::Relaxed), total_frames, start);
        eprintln!();
        Ok(())
    })?;
    if let Some(m) = fatal {
        bail!(m);
    }
    failures.sort_by_key(|(id, _)| *id);
    Ok(failures)
}

/// One progress line over the whole set, with the rate and the time left at that rate.
fn draw(videos: usize, total: usize, failed: usize, frames: usize, total_frames: usize, start: Instant) {
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let fps = frames as f64 / secs;
    let eta = if frames > 0 { (total_frames.saturating_sub(frames)) as f64 / fps } else { f64::NAN };
    let eta = if eta.is_finite() { format!("{}:{:02}", eta as u64 / 60, eta as u64 % 60) } else { "?".to_owned() };
    let failed = if failed > 0 { format!(" ({failed} failed)") } else { String::new() };
    let filled = (frames * 30).checked_div(total_frames).unwrap_or(30).min(30);
    eprint!(
        "\r[{}{}] {videos}/{total} videos{failed}, {frames}/{total_frames} frames, {fps:.1} fps, ETA {eta}   ",
        "#".repeat(filled),
        ".".repeat(30 - filled)
    );
}

#[allow(clippy::too_many_arguments)] // a thread body: everything it shares, by reference
fn worker(
    args: &BatchArgs,
    model_path: &Path,
    frames: &Path,
    threads: usize,
    rx: &crossbeam_channel::Receiver<&SplitVideo>,
    tx: &crossbeam_channel::Sender<Event>,
    progress: &Progress,
    stop: &AtomicBool,
    interrupt: &AtomicBool,
) {
    let pipe = load_model(model_path, &SessionOptions { device: args.runtime.device, threads, ..Default::default() })
        .map_err(anyhow::Error::from)
        .and_then(|m| Ok(Pipeline::with_options(m, &PipelineOptions { association: args.association, refs: None })?));
    let mut pipe = match pipe {
        Ok(p) => p,
        Err(e) => {
            tx.send(Event::Fatal(format!("{e:#}"))).ok();
            return;
        }
    };
    let halted = || stop.load(Ordering::Relaxed) || interrupt.load(Ordering::Relaxed);
    while let Ok(video) = rx.recv() {
        if halted() {
            return;
        }
        pipe.reset();
        let out = video_results_path(&args.out, video.id);
        match run_video(&mut pipe, video, frames, &out, progress, &halted, args.fps) {
            Ok(true) => tx.send(Event::Done).ok(),
            // Stopped: the video is left for the next run.
            Ok(false) => return,
            Err(e) => {
                tx.send(Event::Failed { id: video.id, message: format!("{} ({}): {e:#}", video.name(), video.id) }).ok()
            }
        };
    }
}

/// One video into its results file; `Ok(false)` when stopped before the end (nothing written).
/// The loop is `ifa run`'s, so the file equals `ifa run <folder> --video-id ID --json`.
fn run_video(
    pipe: &mut Pipeline,
    video: &SplitVideo,
    frames: &Path,
    out: &Path,
    progress: &Progress,
    halted: &dyn Fn() -> bool,
    fps: f64,
) -> anyhow::Result<bool> {
    let name = frames.join(video.name());
    let mut reader = VideoReader::from_frames(&name, video.frame_paths(frames), fps)?;
    let total = reader.frame_count();
    let (vw, vh) = (reader.info().width, reader.info().height);
    let mut results = ResultsCollector::new(video.id, vw, vh, false)
        .with_min_track_frames(pipe.assembler().params.min_track_frames)
        .with_class_hypotheses(pipe.assembler().params.class_hypotheses);
    let mut coverage = Coverage::for_reader(&reader);
    let mut last_index = 0usize;
    let mut stopped = false;
    let mut next = || -> anyhow::Result<Option<ifa::decode::DecodedFrame>> {
        if halted() {
            stopped = true;
            return Ok(None);
        }
        Ok(coverage.read_next(&mut reader)?)
    };
    let mut sink = |out: StreamFrame, ctx: FrameContext<'_>| -> anyhow::Result<()> {
        results.add_frame(out.frame.index, &out.result, &out.ids, ctx)?;
        last_index = last_index.max(out.frame.index);
        progress.frames.fetch_add(1, Ordering::Relaxed);
        Ok(())
    };
    pipe.run_stream(&mut next, StreamOptions { ids: true, maps: false }, &mut sink)?;
    if stopped {
        return Ok(false);
    }
    if !coverage.is_complete() {
        bail!("{coverage}");
    }
    results.write_json(out, pipe.tracks(), total.max(last_index + 1))?;
    Ok(true)
}

/// `ifa merge`: checks that the folders hold shards 1..N of one split, each once and complete,
/// then writes results.json and results.zip as a single run would.
pub fn merge(args: MergeArgs) -> anyhow::Result<()> {
    let mut folders: Vec<PathBuf> = Vec::new();
    for f in &args.shards {
        let real = f.canonicalize().with_context(|| format!("cannot open shard folder {}", f.display()))?;
        if !folders.contains(&real) {
            folders.push(real);
        }
    }
    let mut manifests: Vec<(PathBuf, Manifest)> = Vec::new();
    for f in &folders {
        let mut found: Vec<PathBuf> = std::fs::read_dir(f)
            .with_context(|| format!("cannot read {}", f.display()))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| {
                let n = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                n.starts_with("shard-") && n.contains("-of-") && n.ends_with(".json")
            })
            .collect();
        if found.is_empty() {
            bail!("{} holds no shard manifest (shard-I-of-N.json from `ifa batch --shard`)", f.display());
        }
        found.sort();
        for p in found {
            let m = Manifest::load(&p)?;
            manifests.push((p, m));
        }
    }
    let ids = check_shards(&manifests)?;
    // Each video's file from the folder of the shard that lists it.
    let mut parts: Vec<(u64, PathBuf)> = Vec::with_capacity(ids.len());
    for (path, m) in &manifests {
        let folder = path.parent().unwrap_or(Path::new("."));
        for id in &m.videos {
            let p = video_results_path(folder, *id);
            if !p.is_file() {
                bail!("{} lists video {id} but {} is missing", path.display(), p.display());
            }
            parts.push((*id, p));
        }
    }
    parts.sort_by_key(|(id, _)| *id);
    let inputs: Vec<Input<'_>> = manifests.iter().map(|(p, _)| Input::new("shard manifest", p)).collect();
    ifa::outpath::check(&inputs, &[Output { label: "--out", path: &args.out, role: Role::Into }])?;
    std::fs::create_dir_all(&args.out).with_context(|| format!("cannot create {}", args.out.display()))?;
    let (json, zip) = (args.out.join("results.json"), args.out.join("results.zip"));
    let part_inputs: Vec<Input<'_>> = parts.iter().map(|(_, p)| Input::new("per-video results", p)).collect();
    let checked =
        ifa::outpath::check(&part_inputs, &[Output::file("results", &json), Output::file("results zip", &zip)])?;
    super::report_stale(&checked.stale);
    eprintln!("{} shards, {} videos", manifests.len(), ids.len());
    write_merged(&parts.into_iter().map(|(_, p)| p).collect::<Vec<_>>(), &args.out)
}
