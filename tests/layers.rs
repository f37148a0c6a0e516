//! Dependencies run one way: a module of the library uses only modules of lower layers, never one
//! of its own layer and never a higher one. The layers are those listed in `src/lib.rs` (and
//! `ARCHITECTURE.md`); this test reads every `crate::…` path and every `super::` path that
//! reaches the crate root in `src/` (the binary, `main.rs` and `cli/`, sits above them all).

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// The library's top-level modules, lowest layer first.
const LAYERS: &[&[&str]] = &[
    &["frame", "fsutil", "bundled", "rle"],
    &["dataset", "decode", "model", "eval", "outpath"],
    &["infer", "assemble"],
    &["runtime", "overlay"],
    &["export"],
    &["synth", "present"],
];

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// The source without comments (line comments, doc comments and block comments), so that prose
/// naming a module is no dependency, and without the contents of string literals (raw ones
/// too), where a `//` must not start a comment and a path is only text.
fn strip_comments(src: &str) -> String {
    let c: Vec<char> = src.chars().collect();
    let mut out = String::with_capacity(src.len());
    let mut i = 0;
    while i < c.len() {
        let next = c.get(i + 1).copied();
        if c[i] == 'r'
            && (next == Some('#') || next == Some('"'))
            && !c[..i].last().is_some_and(|p| p.is_alphanumeric() || *p == '_')
        {
            // Raw string: r"…", r#"…"#, ...; it ends at a quote followed by as many hashes.
            let hashes = c[i + 1..].iter().take_while(|&&h| h == '#').count();
            if c.get(i + 1 + hashes) == Some(&'"') {
                let close: String = std::iter::once('"').chain(std::iter::repeat_n('#', hashes)).collect();
                let body_start = i + 2 + hashes;
                let rest: String = c[body_start..].iter().collect();
                let len = rest.find(&close).map_or(rest.chars().count(), |b| rest[..b].chars().count() + close.len());
                out.push_str("\"\"");
                i = body_start + len;
                continue;
            }
        }
        match (c[i], next) {
            ('"', _) => {
                // Ordinary string, with escapes.
                out.push_str("\"\"");
                i += 1;
                while i < c.len() {
                    if c[i] == '\\' {
                        i += 2;
                        continue;
                    }
                    i += 1;
                    if c[i - 1] == '"' {
                        break;
                    }
                }
            }
            ('/', Some('/')) => {
                while i < c.len() && c[i] != '\n' {
                    i += 1;
                }
            }
            ('/', Some('*')) => {
                // Block comments nest.
                let mut depth = 0;
                while i < c.len() {
                    if c[i] == '/' && c.get(i + 1) == Some(&'*') {
                        depth += 1;
                        i += 2;
                    } else if c[i] == '*' && c.get(i + 1) == Some(&'/') {
                        depth -= 1;
                        i += 2;
                        if depth == 0 {
                            break;
                        }
                    } else {
                        i += 1;
                    }
                }
            }
            (ch, _) => {
                out.push(ch);
                i += 1;
            }
        }
    }
    out
}

fn ident_at(s: &str) -> &str {
    let end = s.find(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).unwrap_or(s.len());
    &s[..end]
}

/// The first segments after `prefix` wherever it occurs: `prefix name` or, for a group,
/// `prefix{a::x, b::{y, z}}` gives `a` and `b`.
fn first_segments(code: &str, prefix: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for (at, _) in code.match_indices(prefix) {
        // Inside a longer path (`$crate::`, `my_crate::`, the second `super::` of a chain) it is
        // not what it names at the start of one.
        let before = &code[..at];
        if before.ends_with("::")
            || before.chars().next_back().is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        {
            continue;
        }
        let rest = code[at + prefix.len()..].trim_start();
        if let Some(group) = rest.strip_prefix('{') {
            // Top-level items of the group, up to its closing brace.
            let mut depth = 0usize;
            let mut item_start = true;
            for (i, c) in group.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 0 => break,
                    '}' => depth -= 1,
                    ',' if depth == 0 => item_start = true,
                    c if item_start && !c.is_whitespace() => {
                        item_start = false;
                        let name = ident_at(&group[i..]);
                        if !name.is_empty() {
                            out.insert(name.to_owned());
                        }
                    }
                    _ => {}
                }
            }
        } else {
            let name = ident_at(rest);
            if !name.is_empty() {
                out.insert(name.to_owned());
            }
        }
    }
    out
}

/// The top-level modules that a file of module `depth` levels below the crate root uses.
fn used_modules(code: &str, depth: usize) -> BTreeSet<String> {
    let mut used = first_segments(code, "crate::");
    if depth > 0 {
        // `super::` repeated `depth` times names the crate root.
        used.extend(first_segments(code, &"super::".repeat(depth)));
    }
    used.retain(|m| m != "self" && m != "super");
    used
}

/// (top-level module, depth below the crate root) of a library file; `None` for the crate root
/// and the binary.
fn module_of(rel: &Path) -> Option<(String, usize)> {
    let parts: Vec<String> = rel.iter().map(|p| p.to_string_lossy().into_owned()).collect();
    let file = parts.last()?;
    if parts.len() == 1 {
        let stem = file.strip_suffix(".rs")?;
        return (stem != "lib" && stem != "main").then(|| (stem.to_owned(), 1));
    }
    if parts[0] == "cli" {
        return None;
    }
    let depth = if file == "mod.rs" { parts.len() - 1 } else { parts.len() };
    Some((parts[0].clone(), depth))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).expect("read src").flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn no_module_uses_its_own_layer_or_a_higher_one() {
    let src = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let mut problems = Vec::new();
    let mut seen = BTreeSet::new();
    for path in &files {
        let rel = path.strip_prefix(&src).expect("under src");
        let Some((module, depth)) = module_of(rel) else { continue };
        seen.insert(module.clone());
        let Some(own) = layer_of(&module) else {
            problems
                .push(format!("{}: module `{module}` is in no layer; add it to LAYERS and src/lib.rs", rel.display()));
            continue;
        };
        let code = strip_comments(&std::fs::read_to_string(path).expect("read source"));
        for used in used_modules(&code, depth) {
            if used == module {
                continue;
            }
            match layer_of(&used) {
                Some(l) if l < own => {}
                Some(l) => problems.push(format!(
                    "{}: `{module}` (layer {}) uses `{used}` (layer {})",
                    rel.display(),
                    own + 1,
                    l + 1
                )),
                // Not a module of ours (e.g. a macro or a type at the crate root).
                None => {
                    problems.push(format!("{}: `{module}` uses `crate::{used}`, which is in no layer", rel.display()));
                }
            }
        }
    }
    assert!(problems.is_empty(), "imports against the layer order:\n{}", problems.join("\n"));
    let listed: BTreeSet<String> = LAYERS.iter().flat_map(|l| l.iter().map(|m| (*m).to_owned())).collect();
    assert_eq!(seen, listed, "LAYERS lists exactly the library's modules");
}

#[test]
fn lib_rs_declares_the_modules_in_layer_order() {
    let lib = std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("src/lib.rs")).expect("lib.rs");
    let declared: Vec<&str> =
        lib.lines().filter_map(|l| l.strip_prefix("pub mod ")).map(|l| l.trim_end_matches(';')).collect();
    let layers: Vec<usize> = declared.iter().map(|m| layer_of(m).unwrap_or(usize::MAX)).collect();
    assert!(layers.windows(2).all(|w| w[0] <= w[1]) && !layers.contains(&usize::MAX), "{declared:?}");
}

#[test]
fn the_scanner_reads_paths_groups_and_super_but_not_comments() {
    let code = strip_comments(
        "use crate::{present::x, frame::{RgbFrame, Other}};\n\
         use super::super::export::job; // crate::eval in a comment\n\
         /* crate::synth /* nested crate::rle */ */ let s = \"//\"; let v = crate::decode::probe(p);\n\
         let q = r#\"say \"// crate::eval\" here\"#; let w = crate::frame::RgbFrame::new(1, 1);\n\
         use $crate::rle; my_crate::infer;\n",
    );
    let names = |s: &[&str]| s.iter().map(|m| (*m).to_owned()).collect::<BTreeSet<_>>();
    assert_eq!(used_modules(&code, 1), names(&["decode", "frame", "present"]));
    assert_eq!(used_modules(&code, 2), names(&["decode", "export", "frame", "present"]));
    assert_eq!(module_of(Path::new("assemble/tracker.rs")), Some(("assemble".to_owned(), 2)));
    assert_eq!(module_of(Path::new("assemble/mod.rs")), Some(("assemble".to_owned(), 1)));
    assert_eq!(module_of(Path::new("frame.rs")), Some(("frame".to_owned(), 1)));
    assert_eq!(module_of(Path::new("cli/run.rs")), None);
    assert!(layer_of("export") > layer_of("runtime") && layer_of("infer") == layer_of("assemble"));
}

/// Small focused modules: no source file of the crate over 600 lines (tests included), so each
/// file stays readable in one sitting; split by concern rather than raising the limit.
#[test]
fn no_source_file_is_over_600_lines() {
    const LIMIT: usize = 600;
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    rust_files(&root.join("src"), &mut files);
    assert!(files.len() > 50, "found the sources");
    let long: Vec<String> = files
        .iter()
        .filter_map(|f| {
            let n = std::fs::read_to_string(f).unwrap().lines().count();
            (n > LIMIT).then(|| format!("{} ({n} lines)", f.strip_prefix(root).unwrap().display()))
        })
        .collect();
    assert!(long.is_empty(), "over {LIMIT} lines: {long:?}");
}
