//! The "open file" dialog behind a trait, so headless tests never reach a native dialog
//! (rfd's portal/zenity/GTK back-ends block or hang without a desktop session).

use std::path::PathBuf;

pub trait FileDialog: Send {
    /// Asks the user for a video; `None` when cancelled.
    fn pick_video(&mut self) -> Option<PathBuf>;
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
}

/// Hands out prepared answers (tests, scripted runs).
#[derive(Debug, Default)]
pub struct ScriptedDialog {
    pub answers: Vec<PathBuf>,
}

impl FileDialog for ScriptedDialog {
    fn pick_video(&mut self) -> Option<PathBuf> {
        (!self.answers.is_empty()).then(|| self.answers.remove(0))
    }
}
