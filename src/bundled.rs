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

/// The ONNX models in the first `models/` folder found under the roots, sorted by name.
pub fn models() -> Vec<PathBuf> {
    let Ok(dir) = find("models") else { return Vec::new() };
    let mut out: Vec<PathBuf> =
        std::fs::read_dir(dir).map(|rd| rd.filter_map(|e| e.ok().map(|e| e.path())).collect()).unwrap_or_default();
    out.retain(|p| p.is_file() && p.extension().is_some_and(|e| e.eq_ignore_ascii_case("onnx")));
    out.sort();
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_model_is_among_the_bundled_ones() {
        let models = models();
        assert!(models.iter().any(|p| p.ends_with(DEFAULT_MODEL)), "{models:?}");
        assert!(models.iter().all(|p| p.extension().is_some_and(|e| e == "onnx")));
        assert!(models.windows(2).all(|w| w[0] <= w[1]), "sorted");
    }
}
