//! The repository explains itself: no tracked file points to a document outside it, neither an
//! absolute path of a development machine nor a `shared` or `notes` folder beside the checkout
//! (a user who clones the repository has neither). The facts such documents held live in
//! `docs/`.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Folders that are not the project's own text (build output, environments, vendored libraries).
const SKIPPED: [&str; 4] = ["target", ".venv", "vendor", ".git"];

/// What a reference to the outside starts with: an absolute path of a development machine, or
/// a folder beside the checkout. Built at run time so that this file does not name them
/// literally (it is tracked, and checked, too).
fn needles() -> Vec<String> {
    let absolute = ["work", "home", "root", "Users"].iter().map(|d| format!("/{d}/"));
    absolute.chain(["shared", "notes"].iter().map(|d| format!("{d}/"))).collect()
}

/// Whether `c` can be part of a path component (so a needle right after it is not a path start).
fn is_path_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '~')
}

/// The references to the outside in `text`: (1-based line, the line trimmed).
fn outside_references(text: &str) -> Vec<(usize, String)> {
    let needles = needles();
    let mut out = Vec::new();
    for (n, line) in text.lines().enumerate() {
        // A needle counts where a path starts: at the line's start or after a character that
        // cannot be part of a path component. So a folder named like a machine's top folder
        // inside the project is no absolute path, while a folder after `../` is one beside the
        // checkout.
        let hit = needles.iter().any(|needle| {
            line.match_indices(needle.as_str())
                .any(|(at, _)| line[..at].chars().next_back().is_none_or(|c| !is_path_char(c)))
        });
        if hit {
            out.push((n + 1, line.trim().to_owned()));
        }
    }
    out
}

/// The files git tracks or would track (new files not yet added count too); without git (an
/// unpacked archive), every file outside [`SKIPPED`].
fn project_files(root: &Path) -> Vec<PathBuf> {
    let git = Command::new("git")
        .args(["ls-files", "-z", "--cached", "--others", "--exclude-standard"])
        .current_dir(root)
        .output();
    if let Ok(o) = git
        && o.status.success()
    {
        return o
            .stdout
            .split(|&b| b == 0)
            .filter(|p| !p.is_empty())
            .map(|p| PathBuf::from(String::from_utf8_lossy(p).into_owned()))
            .filter(|p| !p.components().next().is_some_and(|c| SKIPPED.iter().any(|s| c.as_os_str() == *s)))
            .collect();
    }
    let mut out = Vec::new();
    let mut stack = vec![PathBuf::new()];
    while let Some(rel) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(root.join(&rel)) else { continue };
        for e in entries.flatten() {
            let name = e.file_name();
            let path = rel.join(&name);
            let Ok(ft) = e.file_type() else { continue };
            if ft.is_dir() {
                if !(rel.as_os_str().is_empty() && SKIPPED.iter().any(|s| name == *s)) {
                    stack.push(path);
                }
            } else if ft.is_file() {
                out.push(path);
            }
        }
    }
    out
}

#[test]
fn no_tracked_file_points_outside_the_repository() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let files = project_files(&root);
    assert!(
        files.iter().any(|p| p == Path::new("Cargo.toml")),
        "the file list holds the project ({} files)",
        files.len()
    );
    let mut found = Vec::new();
    for rel in &files {
        let Ok(bytes) = std::fs::read(root.join(rel)) else { continue };
        if bytes.contains(&0) {
            continue; // binary: pictures, videos, models
        }
        for (line, text) in outside_references(&String::from_utf8_lossy(&bytes)) {
            found.push(format!("{}:{line}: {text}", rel.display()));
        }
    }
    assert!(
        found.is_empty(),
        "these lines point to documents outside the repository; state the facts in docs/ and point there:\n{}",
        found.join("\n")
    );
}

#[test]
fn the_check_finds_what_it_must_and_only_that() {
    let abs = format!("see /{}/{}/method.md", "work", "shared");
    let home = format!("cd /{}/me/ifa", "home");
    let beside = format!("as in ../{}/synth-world.md", "shared");
    let note = format!("(see {}/training.md)", "notes");
    let quoted = format!("`{}/ytvis-eval.md`", "notes");
    for bad in [&abs, &home, &beside, &note, &quoted] {
        assert_eq!(outside_references(bad).len(), 1, "{bad}");
    }
    for good in [
        "the X server's socket /tmp/.X11-unix/X99",
        "src/overlay/scene.rs and docs/method.md",
        "a shared projection; sharednotes are fine",
        "std::sync::Arc is shared between threads",
        "target/release/ifa",
    ] {
        assert!(outside_references(good).is_empty(), "{good}");
    }
    let text = format!("line one\n{note}\nline three\n{abs}\n");
    let lines: Vec<usize> = outside_references(&text).iter().map(|(n, _)| *n).collect();
    assert_eq!(lines, vec![2, 4]);
}
