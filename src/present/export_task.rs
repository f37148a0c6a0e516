//! The viewer's export: what to write (paths next to the video by default) and the
//! background thread that loads its own model session and runs [`crate::export::export_video`],
//! reporting progress and honouring Cancel. The UI thread only polls a channel.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crossbeam_channel::{Receiver, Sender, unbounded};

use super::dialog::{SaveRequest, beside};
use crate::export::{ExportError, ExportJob, ExportProgress, ExportSummary, export_video};
use crate::infer::runtime::{SessionOptions, load_model};
use crate::runtime::Pipeline;

/// One kind of export output.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OutputKind {
    Video,
    Json,
    Csv,
    Masks,
}

impl OutputKind {
    pub const ALL: [Self; 4] = [Self::Video, Self::Json, Self::Csv, Self::Masks];

    /// The checkbox text.
    pub fn label(self) -> &'static str {
        match self {
            Self::Video => "Annotated video (MP4)",
            Self::Json => "Results (YouTube-VIS JSON)",
            Self::Csv => "Per-frame CSV",
            Self::Masks => "Per-frame PNG id masks (folder)",
        }
    }

    /// The "choose a path" button text (unique per kind).
    pub fn browse_label(self) -> &'static str {
        match self {
            Self::Video => "Browse video…",
            Self::Json => "Browse JSON…",
            Self::Csv => "Browse CSV…",
            Self::Masks => "Browse masks…",
        }
    }

    /// The default path's suffix after the video's stem.
    fn suffix(self) -> &'static str {
        match self {
            Self::Video => ".annotated.mp4",
            Self::Json => ".results.json",
            Self::Csv => ".csv",
            Self::Masks => ".masks",
        }
    }

    fn filter(self) -> Option<(String, Vec<String>)> {
        let f = |name: &str, ext: &str| Some((name.to_owned(), vec![ext.to_owned()]));
        match self {
            Self::Video => f("MP4 video", "mp4"),
            Self::Json => f("JSON", "json"),
            Self::Csv => f("CSV", "csv"),
            Self::Masks => None,
        }
    }

    /// Written unless the user unticks it (the mask folder holds one PNG per frame, so it is
    /// opt-in).
    fn on_by_default(self) -> bool {
        self != Self::Masks
    }
}

/// One output: whether it is written, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct OutputChoice {
    pub kind: OutputKind,
    pub enabled: bool,
    pub path: PathBuf,
}

/// The outputs of one export, defaulting to `<stem>.annotated.mp4`, `<stem>.results.json`,
/// `<stem>.csv` and `<stem>.masks/` next to the video.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ExportOutputs {
    pub video: PathBuf,
    pub choices: Vec<OutputChoice>,
    /// Write the outputs for the decoded frames when the video cannot be decoded to its end
    /// (the CLI's `--allow-partial`); off, such an export fails and writes nothing.
    pub allow_partial: bool,
}

impl ExportOutputs {
    pub fn beside(video: &Path) -> Self {
        let choices = OutputKind::ALL
            .iter()
            .map(|&kind| OutputChoice { kind, enabled: kind.on_by_default(), path: beside(video, kind.suffix()) })
            .collect();
        Self { video: video.to_path_buf(), choices, allow_partial: false }
    }

    pub fn get(&self, kind: OutputKind) -> Option<&OutputChoice> {
        self.choices.iter().find(|c| c.kind == kind)
    }

    pub fn get_mut(&mut self, kind: OutputKind) -> Option<&mut OutputChoice> {
        self.choices.iter_mut().find(|c| c.kind == kind)
    }

    /// What the save dialog is asked when the user changes `kind`'s path.
    pub fn save_request(&self, kind: OutputKind) -> SaveRequest {
        let suggested = self.get(kind).map_or_else(|| beside(&self.video, kind.suffix()), |c| c.path.clone());
        SaveRequest { title: format!("Export: {}", kind.label()), suggested, filter: kind.filter() }
    }

    /// Sets `kind`'s path (and ticks it: choosing a path means wanting the output).
    pub fn set_path(&mut self, kind: OutputKind, path: PathBuf) {
        if let Some(c) = self.get_mut(kind) {
            c.path = path;
            c.enabled = true;
        }
    }

    pub fn any_enabled(&self) -> bool {
        self.choices.iter().any(|c| c.enabled)
    }

    /// The library job (the overlay settings are filled in by the caller).
    pub fn job(&self) -> ExportJob {
        let path = |k| self.get(k).filter(|c| c.enabled).map(|c| c.path.clone());
        ExportJob {
            output: path(OutputKind::Video),
            json: path(OutputKind::Json),
            csv: path(OutputKind::Csv),
            masks: path(OutputKind::Masks),
            allow_partial: self.allow_partial,
            ..ExportJob::new(self.video.clone())
        }
    }
}

/// The checkbox that accepts a partly decodable video (the CLI's `--allow-partial`).
pub const PARTIAL_LABEL: &str = "Write the decoded frames if the video breaks off";

/// How an export ended.
#[derive(Clone, Debug)]
pub enum ExportOutcome {
    Done(Box<ExportSummary>),
    Cancelled,
    Failed(String),
}

enum TaskMsg {
    /// The model is loaded; frames follow.
    Started,
    Progress(ExportProgress),
    Finished(ExportOutcome),
}

/// Progress news repaints the window at most this often (a repaint costs a rendered frame).
const REPAINT_INTERVAL: Duration = Duration::from_millis(200);

/// A running export. Dropping it cancels the export (its outputs are then not written).
pub struct ExportTask {
    cancel: Arc<AtomicBool>,
    rx: Receiver<TaskMsg>,
    /// The model is loaded and frames are being exported.
    pub started: bool,
    pub progress: Option<ExportProgress>,
    pub started_at: Instant,
}

impl ExportTask {
    /// Starts `job` on its own thread with its own session of the model at `model`.
    pub fn start(
        job: ExportJob,
        model: PathBuf,
        session: SessionOptions,
        repaint: Arc<dyn Fn() + Send + Sync>,
    ) -> Result<Self, String> {
        let cancel = Arc::new(AtomicBool::new(false));
        let (tx, rx) = unbounded();
        let c = cancel.clone();
        std::thread::Builder::new()
            .name("ifa-export".into())
            .spawn(move || {
                // Inference threads started from here inherit the lower priority.
                super::priority::lower_current_thread(super::priority::WORKER_NICE);
                let outcome = run(&job, &model, &session, &c, &tx, &*repaint);
                tx.send(TaskMsg::Finished(outcome)).ok();
                repaint();
            })
            .map_err(|e| format!("cannot start the export thread: {e}"))?;
        Ok(Self { cancel, rx, started: false, progress: None, started_at: Instant::now() })
    }

    /// Asks the export to stop; it ends with [`ExportOutcome::Cancelled`] soon after.
    pub fn cancel(&self) {
        self.cancel.store(true, Ordering::Relaxed);
    }

    pub fn cancelling(&self) -> bool {
        self.cancel.load(Ordering::Relaxed)
    }

    /// Takes in the thread's news; returns the outcome once the export has ended.
    pub fn poll(&mut self) -> Option<ExportOutcome> {
        for msg in self.rx.try_iter() {
            match msg {
                TaskMsg::Started => self.started = true,
                TaskMsg::Progress(p) => self.progress = Some(p),
                TaskMsg::Finished(o) => return Some(o),
            }
        }
        None
    }
}

impl Drop for ExportTask {
    fn drop(&mut self) {
        self.cancel();
    }
}

fn run(
    job: &ExportJob,
    model: &Path,
    session: &SessionOptions,
    cancel: &AtomicBool,
    tx: &Sender<TaskMsg>,
    repaint: &(dyn Fn() + Send + Sync),
) -> ExportOutcome {
    let pipe =
        load_model(model, session).map_err(|e| e.to_string()).and_then(|m| Pipeline::new(m).map_err(|e| e.to_string()));
    let mut pipe = match pipe {
        Ok(p) => p,
        Err(e) => return ExportOutcome::Failed(format!("cannot load the model {}: {e}", model.display())),
    };
    if cancel.load(Ordering::Relaxed) {
        return ExportOutcome::Cancelled;
    }
    tx.send(TaskMsg::Started).ok();
    repaint();
    let mut last_repaint = Instant::now();
    let result = export_video(job, &mut pipe, cancel, &mut |p| {
        tx.send(TaskMsg::Progress(p.clone())).ok();
        if last_repaint.elapsed() >= REPAINT_INTERVAL {
            repaint();
            last_repaint = Instant::now();
        }
    });
    match result {
        Ok(summary) => ExportOutcome::Done(Box::new(summary)),
        Err(ExportError::Cancelled) => ExportOutcome::Cancelled,
        Err(e @ ExportError::Partial { .. }) => {
            ExportOutcome::Failed(format!("{e} (tick \"{PARTIAL_LABEL}\" to write the outputs for the decoded frames)"))
        }
        Err(e) => ExportOutcome::Failed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_beside_the_video_and_job_follows_choices() {
        let mut o = ExportOutputs::beside(Path::new("/v/clip.mp4"));
        let p = |o: &ExportOutputs, k| o.get(k).map(|c| (c.enabled, c.path.clone()));
        assert_eq!(p(&o, OutputKind::Video), Some((true, "/v/clip.annotated.mp4".into())));
        assert_eq!(p(&o, OutputKind::Json), Some((true, "/v/clip.results.json".into())));
        assert_eq!(p(&o, OutputKind::Csv), Some((true, "/v/clip.csv".into())));
        assert_eq!(p(&o, OutputKind::Masks), Some((false, "/v/clip.masks".into())));
        let req = o.save_request(OutputKind::Video);
        assert_eq!(req.suggested, PathBuf::from("/v/clip.annotated.mp4"));
        assert_eq!(req.filter, Some(("MP4 video".to_owned(), vec!["mp4".to_owned()])));
        assert_eq!(o.save_request(OutputKind::Masks).filter, None);

        o.set_path(OutputKind::Masks, "/out/m".into());
        if let Some(c) = o.get_mut(OutputKind::Csv) {
            c.enabled = false;
        }
        let job = o.job();
        assert_eq!(job.video, PathBuf::from("/v/clip.mp4"));
        assert_eq!(job.output, Some("/v/clip.annotated.mp4".into()));
        assert_eq!(job.csv, None);
        assert_eq!(job.masks, Some("/out/m".into()));
        for c in &mut o.choices {
            c.enabled = false;
        }
        assert!(!o.any_enabled());
    }

    #[test]
    fn unloadable_model_fails_with_its_name() {
        let dir = std::env::temp_dir().join(format!("ifa-export-task-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        let job = ExportOutputs::beside(&dir.join("v.mp4")).job();
        let mut t = ExportTask::start(job, dir.join("missing.onnx"), SessionOptions::default(), Arc::new(|| {}))
            .expect("thread");
        let t0 = Instant::now();
        let outcome = loop {
            if let Some(o) = t.poll() {
                break o;
            }
            assert!(t0.elapsed() < Duration::from_secs(30), "no outcome");
            std::thread::sleep(Duration::from_millis(5));
        };
        match outcome {
            ExportOutcome::Failed(m) => assert!(m.contains("missing.onnx"), "{m}"),
            other => panic!("expected a failure, got {other:?}"),
        }
        assert!(std::fs::read_dir(&dir).expect("dir").next().is_none(), "nothing written");
        std::fs::remove_dir(&dir).ok();
    }
}
