//! The output-path policy every command follows before it does any work: no output may be
//! one of the command's inputs (by any name: `..`, symbolic or hard links), no two outputs may
//! land on one path, nothing that exists and is not a regular file is replaced (a device, a
//! FIFO, a folder where a file belongs, or a link to one of those), a folder is replaced only
//! when ifa made it, and every output folder must exist and take new files. Temporaries that
//! killed ifa processes left beside an output are removed on the way.
//!
//! ```no_run
//! # fn main() -> Result<(), ifa::outpath::OutputError> {
//! use std::path::Path;
//! use ifa::outpath::{Input, Output, check};
//! let checked = check(
//!     &[Input::new("video", Path::new("clip.mp4"))],
//!     &[Output::file("JSON results", Path::new("clip.json"))],
//! )?;
//! for s in &checked.stale {
//!     eprintln!("removed {}", s.path.display());
//! }
//! # Ok(()) }
//! ```

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::fsutil::{StaleTemporary, kind_of, parent_folder, probe_writable, remove_stale_temporaries};

/// Decides whether an existing folder is ifa's own (and may be replaced): `Err` names what
/// makes it someone else's.
pub type OwnFolder = fn(&Path) -> Result<(), String>;

/// What an output path must be.
#[derive(Clone, Copy, Debug)]
pub enum Role {
    /// A file, replaced atomically.
    File,
    /// A folder replaced as a whole: new, empty, or one that `is_own` recognises.
    Folder { is_own: OwnFolder },
    /// A folder written into (created with its parents when missing).
    Into,
}

/// One output of a command.
#[derive(Clone, Copy, Debug)]
pub struct Output<'a> {
    /// What it is, in the user's words ("JSON results", "--json").
    pub label: &'a str,
    pub path: &'a Path,
    pub role: Role,
}

impl<'a> Output<'a> {
    pub fn file(label: &'a str, path: &'a Path) -> Self {
        Self { label, path, role: Role::File }
    }
}

/// One input of a command.
#[derive(Clone, Copy, Debug)]
pub struct Input<'a> {
    pub label: &'a str,
    pub path: &'a Path,
}

impl<'a> Input<'a> {
    pub fn new(label: &'a str, path: &'a Path) -> Self {
        Self { label, path }
    }
}

/// Why an output path is refused.
#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("refusing to write the {label} {}: it is the same file as the {input_label} {}", path.display(), input.display())]
    SameAsInput { label: String, path: PathBuf, input_label: String, input: PathBuf },
    #[error("refusing to replace the {label} {}: the folder holds the {input_label} {}", path.display(), input.display())]
    HoldsInput { label: String, path: PathBuf, input_label: String, input: PathBuf },
    #[error(
        "the {label} {} and the {other_label} {} are the same path ({}); give each output its own path",
        path.display(), other.display(), resolved.display()
    )]
    SamePath { label: String, path: PathBuf, other_label: String, other: PathBuf, resolved: PathBuf },
    #[error(
        "the {label} {} lies inside the {folder_label} {}, which is replaced as a whole; give it another path",
        path.display(), folder.display()
    )]
    InsideFolder { label: String, path: PathBuf, folder_label: String, folder: PathBuf },
    #[error("refusing to write the {label} {}: it {what}, not a regular file", path.display())]
    NotRegular { label: String, path: PathBuf, what: String },
    #[error("refusing to write the {label} {}: it is a {kind}, not a folder", path.display())]
    NotAFolder { label: String, path: PathBuf, kind: &'static str },
    #[error(
        "refusing to replace the {label} {}: the folder was not made by ifa (it holds {entry}); choose a new or empty folder",
        path.display()
    )]
    ForeignFolder { label: String, path: PathBuf, entry: String },
    #[error("the {label} {} names no file", path.display())]
    NoName { label: String, path: PathBuf },
    #[error("cannot write the {label} {}: the folder {} does not exist", path.display(), folder.display())]
    MissingFolder { label: String, path: PathBuf, folder: PathBuf },
    #[error("cannot write the {label} {}: the folder {} is not writable ({source})", path.display(), folder.display())]
    Unwritable { label: String, path: PathBuf, folder: PathBuf, source: std::io::Error },
    #[error("cannot check the {label} {}: {source}", path.display())]
    Io { label: String, path: PathBuf, source: std::io::Error },
}

/// What a successful check found on the way.
#[derive(Debug, Default)]
pub struct Checked {
    /// Temporaries of killed ifa processes found beside the outputs (removed, or only named
    /// when they hold files that are not ifa's).
    pub stale: Vec<StaleTemporary>,
}

/// An existing file's identity: device and inode, the same for every name of it.
type FileId = (u64, u64);

fn file_id(m: &std::fs::Metadata) -> FileId {
    (m.dev(), m.ino())
}

/// An output after looking at the file system.
struct Resolved {
    /// The absolute path with every link and `..` resolved (for a new path: its folder's).
    real: PathBuf,
    /// Set when the output exists.
    id: Option<FileId>,
    exists_as_folder: bool,
}

fn resolve(out: &Output<'_>) -> Result<Resolved, OutputError> {
    let label = || out.label.to_owned();
    let path = || out.path.to_path_buf();
    let io = |source| OutputError::Io { label: label(), path: path(), source };
    let link = std::fs::symlink_metadata(out.path);
    let meta = std::fs::metadata(out.path);
    let is_link = link.as_ref().is_ok_and(|m| m.file_type().is_symlink());
    match meta {
        Ok(m) => {
            let ft = m.file_type();
            match out.role {
                Role::File if !ft.is_file() => {
                    let what = if is_link {
                        format!("is a symbolic link to a {}", kind_of(ft))
                    } else {
                        format!("exists and is a {}", kind_of(ft))
                    };
                    return Err(OutputError::NotRegular { label: label(), path: path(), what });
                }
                Role::Folder { .. } | Role::Into if !ft.is_dir() => {
                    return Err(OutputError::NotAFolder { label: label(), path: path(), kind: kind_of(ft) });
                }
                Role::Folder { is_own } => {
                    let first = std::fs::read_dir(out.path).map_err(io)?.next();
                    if first.is_some()
                        && let Err(entry) = is_own(out.path)
                    {
                        return Err(OutputError::ForeignFolder { label: label(), path: path(), entry });
                    }
                }
                _ => {}
            }
            let real = out.path.canonicalize().map_err(io)?;
            Ok(Resolved { real, id: Some(file_id(&m)), exists_as_folder: ft.is_dir() })
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            if is_link {
                let what = "is a symbolic link to a file that does not exist".to_owned();
                return Err(OutputError::NotRegular { label: label(), path: path(), what });
            }
            let name = out.path.file_name().ok_or_else(|| OutputError::NoName { label: label(), path: path() })?;
            let folder = parent_folder(out.path);
            if matches!(out.role, Role::Into) {
                // Created with its parents; where it lands is all that matters here.
                let real = std::path::absolute(out.path).map_err(io)?;
                return Ok(Resolved { real, id: None, exists_as_folder: false });
            }
            match std::fs::metadata(&folder) {
                Ok(m) if m.is_dir() => {}
                _ => return Err(OutputError::MissingFolder { label: label(), path: path(), folder }),
            }
            let real = folder.canonicalize().map_err(io)?.join(name);
            Ok(Resolved { real, id: None, exists_as_folder: false })
        }
        Err(source) => Err(io(source)),
    }
}

/// Checks `outputs` against `inputs` and each other (see the module docs), then checks that
/// each output's folder takes new files and removes stale temporaries beside each output.
/// Inputs that do not exist are skipped: reading them reports that.
pub fn check(inputs: &[Input<'_>], outputs: &[Output<'_>]) -> Result<Checked, OutputError> {
    let resolved: Vec<Resolved> = outputs.iter().map(resolve).collect::<Result<_, _>>()?;
    let ins: Vec<(&Input<'_>, FileId, PathBuf)> = inputs
        .iter()
        .filter_map(|i| {
            let m = std::fs::metadata(i.path).ok()?;
            Some((i, file_id(&m), i.path.canonicalize().ok()?))
        })
        .collect();

    for (out, r) in outputs.iter().zip(&resolved) {
        for (input, id, real) in &ins {
            if r.id == Some(*id) {
                return Err(OutputError::SameAsInput {
                    label: out.label.to_owned(),
                    path: out.path.to_path_buf(),
                    input_label: input.label.to_owned(),
                    input: input.path.to_path_buf(),
                });
            }
            if r.exists_as_folder && matches!(out.role, Role::Folder { .. }) && real.starts_with(&r.real) {
                return Err(OutputError::HoldsInput {
                    label: out.label.to_owned(),
                    path: out.path.to_path_buf(),
                    input_label: input.label.to_owned(),
                    input: input.path.to_path_buf(),
                });
            }
        }
    }
    for (i, (a, ra)) in outputs.iter().zip(&resolved).enumerate() {
        for (b, rb) in outputs.iter().zip(&resolved).skip(i + 1) {
            if ra.real == rb.real || (ra.id.is_some() && ra.id == rb.id) {
                return Err(OutputError::SamePath {
                    label: a.label.to_owned(),
                    path: a.path.to_path_buf(),
                    other_label: b.label.to_owned(),
                    other: b.path.to_path_buf(),
                    resolved: ra.real.clone(),
                });
            }
            for ((f, rf), (o, ro)) in [((a, ra), (b, rb)), ((b, rb), (a, ra))] {
                if matches!(f.role, Role::Folder { .. } | Role::Into) && ro.real.starts_with(&rf.real) {
                    return Err(OutputError::InsideFolder {
                        label: o.label.to_owned(),
                        path: o.path.to_path_buf(),
                        folder_label: f.label.to_owned(),
                        folder: f.path.to_path_buf(),
                    });
                }
            }
        }
    }

    let mut checked = Checked::default();
    for (out, r) in outputs.iter().zip(&resolved) {
        if matches!(out.role, Role::Into) {
            continue;
        }
        probe_writable(&r.real).map_err(|source| OutputError::Unwritable {
            label: out.label.to_owned(),
            path: out.path.to_path_buf(),
            folder: parent_folder(out.path),
            source,
        })?;
        let stale = remove_stale_temporaries(&r.real).map_err(|source| OutputError::Io {
            label: out.label.to_owned(),
            path: out.path.to_path_buf(),
            source,
        })?;
        checked.stale.extend(stale);
    }
    Ok(checked)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn never_own(_: &Path) -> Result<(), String> {
        Err("something".to_owned())
    }

    #[test]
    fn inputs_by_any_name_and_colliding_outputs_are_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let video = d.join("v.mp4");
        std::fs::write(&video, b"video").expect("write");
        std::fs::create_dir(d.join("sub")).expect("mkdir");
        std::fs::hard_link(&video, d.join("hard")).expect("link");
        std::os::unix::fs::symlink(&video, d.join("soft")).expect("link");
        let inputs = [Input::new("video", &video)];
        for name in ["v.mp4", "sub/../v.mp4", "hard", "soft"] {
            let p = d.join(name);
            let e = check(&inputs, &[Output::file("JSON", &p)]).expect_err(name);
            assert!(matches!(e, OutputError::SameAsInput { .. }), "{name}: {e}");
        }
        let (a, b) = (d.join("a.json"), d.join("sub/../a.json"));
        let e = check(&inputs, &[Output::file("JSON", &a), Output::file("CSV", &b)]).expect_err("same path");
        assert!(e.to_string().contains("same path"), "{e}");
        let masks = d.join("m");
        let inside = d.join("m/x.json");
        std::fs::create_dir(&masks).expect("mkdir");
        let own = Output { label: "masks", path: &masks, role: Role::Folder { is_own: |_| Ok(()) } };
        let e = check(&[], &[own, Output::file("JSON", &inside)]).expect_err("inside");
        assert!(matches!(e, OutputError::InsideFolder { .. }), "{e}");
        check(&inputs, &[Output::file("JSON", &a), Output::file("CSV", &d.join("a.csv"))]).expect("distinct");
    }

    #[test]
    fn folders_and_non_files() {
        let dir = tempfile::tempdir().expect("tempdir");
        let d = dir.path();
        let user = d.join("user");
        std::fs::create_dir(&user).expect("mkdir");
        let folder = |p| Output { label: "masks", path: p, role: Role::Folder { is_own: never_own } };
        check(&[], &[folder(&user)]).expect("an empty folder may be replaced");
        std::fs::write(user.join("x"), b"x").expect("write");
        assert!(matches!(check(&[], &[folder(&user)]), Err(OutputError::ForeignFolder { .. })));
        assert!(matches!(check(&[], &[Output::file("JSON", &user)]), Err(OutputError::NotRegular { .. })));
        let file = user.join("x");
        assert!(matches!(check(&[], &[folder(&file)]), Err(OutputError::NotAFolder { .. })));
        let e = check(&[], &[Output::file("CSV", Path::new("/dev/null"))]).expect_err("device");
        assert!(e.to_string().contains("character device"), "{e}");
        let e = check(&[], &[Output::file("CSV", &d.join("missing/x.csv"))]).expect_err("missing folder");
        assert!(matches!(e, OutputError::MissingFolder { .. }), "{e}");
        let into = Output { label: "--out", path: &file, role: Role::Into };
        assert!(matches!(check(&[], &[into]), Err(OutputError::NotAFolder { .. })));
        let new = d.join("new/deeper");
        check(&[], &[Output { label: "--out", path: &new, role: Role::Into }]).expect("created later");
    }
}
