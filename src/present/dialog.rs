//! File dialogs behind a trait, so headless tests never reach a native dialog (rfd's
//! portal/zenity/GTK back-ends block or hang without a desktop session).

use std::path::{Path, PathBuf};

/// What a "save as" dialog asks for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SaveRequest {
    pub title: String,
    /// The proposed path: its folder is where the dialog starts, its name the proposed name.
    pub suggested: PathBuf,
    /// A filter such as `("MP4 video", ["mp4"])`; `None` for a folder name.
    pub filter: Option<(String, Vec<String>)>,
}

pub trait FileDialog: Send {
    /// Asks the user for a video; `None` when cancelled.
    fn pick_video(&mut self) -> Option<PathBuf>;
    /// Asks the user for an ONNX model, starting in `start` when given; `None` when cancelled.
    fn pick_model(&mut self, start: Option<&Path>) -> Option<PathBuf>;
    /// Asks where to write a file (or a folder to be created); `None` when cancelled.
    fn save_file(&mut self, request: &SaveRequest) -> Option<PathBuf>;
}

/// The native dialog (rfd).
#[derive(Debug, Default)]
pub struct NativeDialog;

impl FileDialog for NativeDialog {
    fn pick_video(&mut self) -> Option<PathBuf> {
        rfd::FileDialog::new()
            .set_title("Open video")
            .add_filter("Video", &["mp4", "mkv", "webm", "avi", "mov", "m4v", "mpg", "mpeg", "ts"])
            .add_filter("All files", &["*"])
            .pick_file()
    }

    fn pick_model(&mut self, start: Option<&Path>) -> Option<PathBuf> {
        let mut d = rfd::FileDialog::new().set_title("Open model");
        if let Some(dir) = start.filter(|d| d.is_dir()) {
            d = d.set_directory(dir);
        }
        d.add_filter("ONNX model", &["onnx"]).add_filter("All files", &["*"]).pick_file()
    }

    fn save_file(&mut self, request: &SaveRequest) -> Option<PathBuf> {
        let mut d = rfd::FileDialog::new().set_title(&request.title);
        if let Some(dir) = request.suggested.parent().filter(|d| d.is_dir()) {
            d = d.set_directory(dir);
        }
        if let Some(name) = request.suggested.file_name() {
            d = d.set_file_name(name.to_string_lossy());
        }
        if let Some((name, exts)) = &request.filter {
            d = d.add_filter(name, exts.as_slice());
        }
        d.save_file()
    }
}

/// Hands out prepared answers (tests, scripted runs); `None` (cancelled) when they run out.
#[derive(Debug, Default)]
pub struct ScriptedDialog {
    /// Answers to [`FileDialog::pick_video`], in order.
    pub answers: Vec<PathBuf>,
    /// Answers to [`FileDialog::pick_model`], in order.
    pub models: Vec<PathBuf>,
    /// Answers to [`FileDialog::save_file`], in order.
    pub saves: Vec<PathBuf>,
    /// Every save request seen, for tests to check what was proposed.
    pub save_requests: Vec<SaveRequest>,
}

impl FileDialog for ScriptedDialog {
    fn pick_video(&mut self) -> Option<PathBuf> {
        (!self.answers.is_empty()).then(|| self.answers.remove(0))
    }

    fn pick_model(&mut self, _start: Option<&Path>) -> Option<PathBuf> {
        (!self.models.is_empty()).then(|| self.models.remove(0))
    }

    fn save_file(&mut self, request: &SaveRequest) -> Option<PathBuf> {
        self.save_requests.push(request.clone());
        (!self.saves.is_empty()).then(|| self.saves.remove(0))
    }
}

/// `dir/<stem><suffix>` for a video `dir/<stem>.<ext>`: the default place of an export output.
pub fn beside(video: &Path, suffix: &str) -> PathBuf {
    let stem = video.file_stem().map_or_else(|| "video".into(), |s| s.to_string_lossy().into_owned());
    video.with_file_name(format!("{stem}{suffix}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_answers_in_order_then_cancel() {
        let mut d = ScriptedDialog { saves: vec!["/a.mp4".into()], ..ScriptedDialog::default() };
        let req = SaveRequest { title: "t".into(), suggested: "/v/x.mp4".into(), filter: None };
        assert_eq!(d.save_file(&req), Some(PathBuf::from("/a.mp4")));
        assert_eq!(d.save_file(&req), None);
        assert_eq!(d.save_requests.len(), 2);
        assert_eq!(d.pick_video(), None);
        assert_eq!(d.pick_model(None), None);
    }

    #[test]
    fn outputs_go_beside_the_video() {
        assert_eq!(beside(Path::new("/v/clip.mp4"), ".annotated.mp4"), PathBuf::from("/v/clip.annotated.mp4"));
        assert_eq!(beside(Path::new("/v/clip.x.mkv"), ".masks"), PathBuf::from("/v/clip.x.masks"));
        assert_eq!(beside(Path::new("clip"), ".csv"), PathBuf::from("clip.csv"));
    }
}
