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

/// The model a user named: an existing path as given; otherwise a bare name (no folder) that is
/// the file name or stem of a bundled model, e.g. `ifa-shapes-fast`. The error lists the bundled
/// models.
pub fn resolve_model(given: &Path) -> Result<PathBuf, String> {
    if given.exists() {
        return Ok(given.to_path_buf());
    }
    let models = models();
    let bare = given.components().count() == 1;
    if bare
        && let Some(m) =
            models.iter().find(|m| m.file_name() == Some(given.as_os_str()) || m.file_stem() == Some(given.as_os_str()))
    {
        return Ok(m.clone());
    }
    let names: Vec<String> =
        models.iter().filter_map(|m| m.file_stem().map(|s| s.to_string_lossy().into_owned())).collect();
    Err(if names.is_empty() {
        format!("model {} not found", given.display())
    } else {
        format!("model {} not found (bundled models: {})", given.display(), names.join(", "))
    })
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

    #[test]
    fn a_bare_name_finds_a_bundled_model_and_a_path_stays_a_path() {
        let stem = Path::new(DEFAULT_MODEL).file_stem().unwrap();
        let by_stem = resolve_model(Path::new(stem)).unwrap();
        assert!(by_stem.ends_with(DEFAULT_MODEL), "{}", by_stem.display());
        let by_name = resolve_model(Path::new(Path::new(DEFAULT_MODEL).file_name().unwrap())).unwrap();
        assert_eq!(by_name, by_stem);
        // A missing path with folders is never looked up among the bundled models.
        let err = resolve_model(Path::new("no/such/ifa-shapes.onnx")).unwrap_err();
        assert!(
            err.contains("no/such/ifa-shapes.onnx") && err.contains("bundled models: ") && err.contains("ifa-shapes"),
            "{err}"
        );
        let err = resolve_model(Path::new("no-such-model")).unwrap_err();
        assert!(err.starts_with("model no-such-model not found"), "{err}");
    }
}
