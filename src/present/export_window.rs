//! The Export window: choose outputs and paths, start, watch progress, cancel, see the result.

use std::sync::Arc;

use egui::Color32;

use super::app::{ModelStatus, ViewerApp};
use super::export_task::{ExportOutcome, ExportOutputs, ExportTask, OutputKind, PARTIAL_LABEL};
use crate::infer::runtime::SessionOptions;

/// The export's part of the viewer state.
#[derive(Default)]
pub struct ExportState {
    pub open: bool,
    /// The outputs; made for the open video when the window opens.
    pub outputs: Option<ExportOutputs>,
    pub task: Option<ExportTask>,
    pub outcome: Option<ExportOutcome>,
}

impl ExportState {
    pub fn running(&self) -> bool {
        self.task.is_some()
    }
}

impl ViewerApp {
    /// Opens the Export window with outputs next to the open video (kept if already made for it).
    pub fn open_export(&mut self) {
        self.export.open = true;
        if let Some(v) = &self.video
            && self.export.outputs.as_ref().is_none_or(|o| o.video != v.path)
        {
            self.export.outputs = Some(ExportOutputs::beside(&v.path));
        }
    }

    /// Why Start is not possible now, if it is not.
    pub fn export_blocker(&self) -> Option<String> {
        if self.export.running() {
            return Some("An export is running.".to_owned());
        }
        let Some(outputs) = &self.export.outputs else {
            return Some("Open a video first.".to_owned());
        };
        if self.model.file().is_none() {
            return Some("Export needs a model file, and the viewer was started without one.".to_owned());
        }
        match self.model.status() {
            ModelStatus::Failed(e) => return Some(format!("The model failed to load: {e}")),
            ModelStatus::Absent(r) => return Some(format!("No model ({r}).")),
            _ => {}
        }
        if !outputs.any_enabled() {
            return Some("Tick at least one output.".to_owned());
        }
        None
    }

    /// Starts the export on its own thread with the current overlay settings.
    pub fn start_export(&mut self) {
        if let Some(why) = self.export_blocker() {
            self.export.outcome = Some(ExportOutcome::Failed(why));
            return;
        }
        let (Some(outputs), Some((model, device))) = (&self.export.outputs, self.model.file()) else { return };
        let mut job = outputs.job();
        // Layers, opacity and filters as on screen; the selection is not part of the overlay.
        job.scene = self.scene.clone();
        job.scene.selected = None;
        let session = SessionOptions { device: *device, threads: self.inference_threads, ..Default::default() };
        let repaint = self.repaint.clone().unwrap_or_else(|| Arc::new(|| {}));
        self.export.outcome = None;
        match ExportTask::start(job, model.clone(), session, repaint) {
            Ok(t) => self.export.task = Some(t),
            Err(e) => self.export.outcome = Some(ExportOutcome::Failed(e)),
        }
    }

    pub fn cancel_export(&mut self) {
        if let Some(t) = &self.export.task {
            t.cancel();
        }
    }

    /// Asks the dialog for `kind`'s path; a cancelled dialog changes nothing.
    pub fn choose_export_path(&mut self, kind: OutputKind) {
        let Some(outputs) = &mut self.export.outputs else { return };
        if let Some(p) = self.dialog.save_file(&outputs.save_request(kind)) {
            outputs.set_path(kind, p);
        }
    }

    /// Takes in the export thread's news (called every frame).
    pub(super) fn poll_export(&mut self) {
        if let Some(t) = &mut self.export.task
            && let Some(outcome) = t.poll()
        {
            self.export.task = None;
            self.export.outcome = Some(outcome);
        }
    }
}

pub fn window(app: &mut ViewerApp, ctx: &egui::Context) {
    if !app.export.open {
        return;
    }
    let mut open = true;
    egui::Window::new("Export").open(&mut open).collapsible(false).default_width(520.0).show(ctx, |ui| {
        contents(app, ui);
    });
    // Closing the window does not stop a running export; reopening shows it again.
    app.export.open = open;
    if app.export.running() {
        ctx.request_repaint_after(std::time::Duration::from_millis(250));
    }
}

fn contents(app: &mut ViewerApp, ui: &mut egui::Ui) {
    let Some(outputs) = &app.export.outputs else {
        ui.label("Open a video first.");
        return;
    };
    ui.label(format!("Source: {}", outputs.video.display()));
    let s = &app.scene;
    let l = &s.layers;
    let layers: Vec<&str> = [
        (l.masks, "masks"),
        (l.centers, "centers"),
        (l.flows, "flow arrows"),
        (l.labels, "labels"),
        (l.trails, "trails"),
    ]
    .iter()
    .filter(|(on, _)| *on)
    .map(|(_, n)| *n)
    .collect();
    ui.label(format!(
        "Overlay as shown: {} · opacity {:.2} · min score {:.2}{}",
        if layers.is_empty() { "no layers".to_owned() } else { layers.join(", ") },
        s.opacity,
        s.min_score,
        if s.hidden_classes.is_empty() {
            String::new()
        } else {
            format!(" · {} classes hidden", s.hidden_classes.len())
        }
    ));
    ui.separator();

    let running = app.export.running();
    let mut browse = None;
    ui.add_enabled_ui(!running, |ui| {
        egui::Grid::new("ifa-export-outputs").num_columns(3).show(ui, |ui| {
            if let Some(outputs) = &mut app.export.outputs {
                for c in &mut outputs.choices {
                    ui.checkbox(&mut c.enabled, c.kind.label());
                    ui.monospace(c.path.display().to_string());
                    if ui.button(c.kind.browse_label()).clicked() {
                        browse = Some(c.kind);
                    }
                    ui.end_row();
                }
            }
        });
        if let Some(outputs) = &mut app.export.outputs {
            ui.checkbox(&mut outputs.allow_partial, PARTIAL_LABEL).on_hover_text(
                "Off: a video that cannot be decoded to its end fails the export and nothing is written.",
            );
        }
    });
    if let Some(kind) = browse {
        app.choose_export_path(kind);
    }
    ui.separator();

    if let Some(task) = &app.export.task {
        let (fraction, text) = match &task.progress {
            Some(p) => (p.fraction(), format!("frame {} / {} · {:.1} fps", p.frame, p.total, p.fps())),
            None if task.started => (0.0, "starting…".to_owned()),
            None => (0.0, "loading the model…".to_owned()),
        };
        ui.add(egui::ProgressBar::new(fraction).text(text));
        let cancelling = task.cancelling();
        if ui.add_enabled(!cancelling, egui::Button::new("Cancel export")).clicked() {
            app.cancel_export();
        }
        if cancelling {
            ui.label("Cancelling…");
        }
        return;
    }

    let blocker = app.export_blocker();
    if ui.add_enabled(blocker.is_none(), egui::Button::new("Start export")).clicked() {
        app.start_export();
    }
    if let Some(why) = blocker {
        ui.colored_label(Color32::from_rgb(255, 170, 0), why);
    }
    match &app.export.outcome {
        Some(ExportOutcome::Done(s)) => {
            ui.label(format!(
                "Export finished in {:.1} s: {} frames, {} tracks. Wrote:",
                s.elapsed.as_secs_f64(),
                s.frames,
                s.tracks
            ));
            for p in &s.written {
                ui.monospace(p.display().to_string());
            }
        }
        Some(ExportOutcome::Cancelled) => {
            ui.label("Export cancelled; nothing was written.");
        }
        Some(ExportOutcome::Failed(e)) => {
            ui.colored_label(Color32::from_rgb(255, 90, 90), format!("Export failed: {e}"));
            ui.label("Nothing was written.");
        }
        None => {}
    }
}
