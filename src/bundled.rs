//! Where the files that ship with ifa (models/, assets/, vendor/) are found at run time.

use std::path::{Path, PathBuf};

/// The default model, relative to the project folder.
pub const DEFAULT_MODEL: &str = "models/ifa-shapes.onnx";
/// The demo video the viewer opens when given none.
pub const DEMO_VIDEO: &str = "assets/demo.mp4";

/// Folders that may hold the project's files, in order: the project of the running binary
/// (`target/release/ifa` → three levels up), the source tree it was built from, the current
/// folder. Without duplicates.
pub fn roots() -> Vec<PathBuf> {
    let mut roots = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        roots.extend(exe.ancestors().nth(3).map(Path::to_path_buf));
    }
    roots.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")));
    if let Ok(cwd) = std::env::current_dir() {
        roots.push(cwd);
    }
    let mut out: Vec<PathBuf> = Vec::new();
    for r in roots {
        if !out.contains(&r) {
            out.push(r);
        }
    }
    out
}

/// The candidates for `rel` under every root, in search order.
pub fn candidates(rel: &str) -> Vec<PathBuf> {
    roots().into_iter().map(|r| r.join(rel)).collect()
}

/// The first existing `rel` under the roots; otherwise the list of places searched, for the
/// error message.
pub fn find(rel: &str) -> Result<PathBuf, String> {
    let c = candidates(rel);
    c.iter()
        .find(|p| p.exists())
        .cloned()
        .ok_or_else(|| c.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", "))
}
