//! `ifa run`: segment and track a video headless; YouTube-VIS results and a per-frame CSV.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use ifa::assemble::idmap::extents;
use ifa::assemble::{FrameResult, StageTimes};
use ifa::decode::VideoReader;
use ifa::infer::pipeline::Pipeline;
use ifa::infer::runtime::{Device, SessionOptions, load_model};
use ifa::rle::RleJson;

/// The model `ifa run` uses when `--model` is not given, relative to the project root.
pub const DEFAULT_MODEL: &str = "models/ifa-shapes.onnx";

/// Arguments of `ifa run`.
#[derive(clap::Args, Debug)]
pub struct RunArgs {
    /// The video to segment.
    pub video: PathBuf,
    /// ONNX model following docs/model-contract.md (default: models/ifa-shapes.onnx in the project).
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Execution provider.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
    /// Write YouTube-VIS results (one entry per track) here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// `video_id` written into the results.
    #[arg(long, default_value_t = 1)]
    pub video_id: u64,
    /// Write one row per instance and frame here.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

/// Finds the default model: next to the executable's project, the source tree, or the cwd.
pub fn resolve_default_model() -> anyhow::Result<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().nth(3).map(Path::to_path_buf));
    }
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd);
    }
    let candidates: Vec<PathBuf> = roots.iter().map(|r| r.join(DEFAULT_MODEL)).collect();
    candidates.iter().find(|p| p.is_file()).cloned().with_context(|| {
        let list: Vec<String> = candidates.iter().map(|p| p.display().to_string()).collect();
        format!("default model not found (looked in {}); pass --model PATH", list.join(", "))
    })
}

/// One result entry in YouTube-VIS format.
#[derive(serde::Serialize)]
struct YtvisResult {
    video_id: u64,
    category_id: u32,
    score: f64,
    segmentations: Vec<Option<RleJson>>,
}

pub fn run(args: RunArgs) -> anyhow::Result<()> {
    let model_path = match &args.model {
        Some(p) => p.clone(),
        None => resolve_default_model()?,
    };
    let mut reader =
        VideoReader::open(&args.video).with_context(|| format!("cannot read video {}", args.video.display()))?;
    let total = reader.frame_count();
    if total == 0 {
        bail!("video {} has no frames", args.video.display());
    }
    let model = load_model(&model_path, &SessionOptions { device: args.device, threads: 0 })?;
    let mut pipe = Pipeline::new(model)?;
    eprintln!("model {} on {}", model_path.display(), pipe.provider());
    for w in pipe.warnings() {
        eprintln!("warning: {w}");
    }
    let (vw, vh) = (reader.info().width, reader.info().height);

    // Per track: the compressed RLE of each frame it appears in.
    let mut segs: BTreeMap<u32, BTreeMap<usize, RleJson>> = BTreeMap::new();
    let mut csv = String::from(
        "frame,time,track,class,score,center_x,center_y,flows,box_x0,box_y0,box_x1,box_y1,area,decision\n",
    );
    let mut ids = Vec::new();
    let mut sum = StageTimes::default();
    let mut frames = 0usize;
    let mut last_index = 0usize;
    let start = Instant::now();
    let mut last_draw = Instant::now() - Duration::from_secs(1);
    loop {
        let t0 = Instant::now();
        let Some(frame) = reader.next_frame().with_context(|| format!("decoding {}", args.video.display()))? else {
            break;
        };
        let decode = t0.elapsed();
        let mut res = pipe.process(&frame.image, frame.pts_seconds)?;
        res.times.decode = decode;
        if !pipe.render_ids(&mut res, &mut ids) {
            bail!("internal: id map of frame {} could not be rendered", frame.index);
        }
        let t_rle = Instant::now();
        let rles = ifa::rle::encode_label_map(vh, vw, &ids, 0u32)?;
        for (id, rle) in &rles {
            segs.entry(*id).or_default().insert(frame.index, RleJson::from(rle));
        }
        res.times.render += t_rle.elapsed();
        if args.csv.is_some() {
            write_csv_rows(&mut csv, frame.index, &res, &ids, vw, &pipe);
        }
        sum += res.times;
        frames += 1;
        last_index = last_index.max(frame.index);
        if last_draw.elapsed() >= Duration::from_millis(200) {
            let fps = frames as f64 / start.elapsed().as_secs_f64().max(1e-9);
            eprint!("\r[{}] {frames}/{total} frames, {fps:.1} fps   ", bar(frames, total, 30));
            last_draw = Instant::now();
        }
    }
    if frames == 0 {
        bail!("video {} has no decodable frames", args.video.display());
    }
    let wall = start.elapsed();
    eprintln!(
        "\r[{}] {frames}/{total} frames, {:.1} fps   ",
        bar(frames, frames, 30),
        frames as f64 / wall.as_secs_f64()
    );

    let length = total.max(last_index + 1);
    if let Some(path) = &args.json {
        let results: Vec<YtvisResult> = pipe
            .tracks()
            .map(|t| {
                let mut s = vec![None; length];
                if let Some(per) = segs.remove(&t.id) {
                    for (f, r) in per {
                        s[f] = Some(r);
                    }
                }
                YtvisResult { video_id: args.video_id, category_id: t.class_id(), score: t.score(), segmentations: s }
            })
            .collect();
        ifa::fsutil::write_atomic(path, |w| {
            serde_json::to_writer(&mut *w, &results).map_err(std::io::Error::other)?;
            w.write_all(b"\n")
        })
        .with_context(|| format!("writing {}", path.display()))?;
        eprintln!("wrote {} ({} tracks)", path.display(), results.len());
    }
    if let Some(path) = &args.csv {
        ifa::fsutil::write_atomic(path, |w| w.write_all(csv.as_bytes()))
            .with_context(|| format!("writing {}", path.display()))?;
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
    Ok(())
}

fn bar(done: usize, total: usize, width: usize) -> String {
    let filled = (done * width).checked_div(total).unwrap_or(width).min(width);
    format!("{}{}", "#".repeat(filled), ".".repeat(width - filled))
}

/// One CSV row per instance: positions in video pixels, flows in input pixels as
/// `ref_frame:dy:dx` joined by `;`, box and area from the video-resolution id map.
fn write_csv_rows(out: &mut String, frame: usize, res: &FrameResult, ids: &[u32], width: u32, pipe: &Pipeline) {
    let ext = extents(ids, width);
    let lb = pipe.engine().letterbox().copied();
    for inst in &res.instances {
        let d = &inst.detection;
        let (cy, cx) = lb.map_or((d.position[0], d.position[1]), |lb| lb.to_video(d.position[0], d.position[1]));
        let mut flows = String::new();
        for (k, v) in inst.votes.iter().enumerate() {
            if k > 0 {
                flows.push(';');
            }
            let _ = write!(flows, "{}:{:.2}:{:.2}", v.ref_frame, v.flow[0], v.flow[1]);
        }
        let class = pipe.contract().class_name(d.class_id).unwrap_or("?");
        let (bx, area) = match ext.iter().find(|e| e.id == inst.track_id) {
            Some(e) => (e.bbox.map(|v| v.to_string()), e.area),
            None => (std::array::from_fn(|_| String::new()), 0),
        };
        let _ = writeln!(
            out,
            "{frame},{:.4},{},{class},{:.5},{cx:.1},{cy:.1},{flows},{},{},{},{},{area},\"{}\"",
            res.pts_seconds,
            inst.track_id,
            d.score,
            bx[0],
            bx[1],
            bx[2],
            bx[3],
            inst.decision.describe()
        );
    }
}
