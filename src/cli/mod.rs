//! One file per subcommand: its arguments and how it drives the library.

// Entry points take their parsed arguments by value, as clap hands them over.
#![allow(clippy::needless_pass_by_value)]

pub mod batch;
pub mod eval;
pub mod export;
pub mod probe;
pub mod run;
pub mod signals;
pub mod synth;
pub mod view;

use std::path::{Path, PathBuf};

use ifa::fsutil::StaleTemporary;

use ifa::infer::runtime::{Device, LoadedModel, SessionOptions, load_model};

/// The model to run and where: shared by `ifa run` and `ifa export`.
#[derive(clap::Args, Debug)]
pub struct ModelArgs {
    /// ONNX model following docs/model-contract.md: a path, or the name of a model in models/
    /// (e.g. ifa-shapes-fast); default: models/ifa-shapes.onnx shipped with ifa.
    #[arg(long)]
    pub model: Option<PathBuf>,
    /// Execution provider.
    #[arg(long, value_enum, default_value_t = Device::Auto)]
    pub device: Device,
}

impl ModelArgs {
    /// The given model, or the shipped one.
    pub fn path(&self) -> anyhow::Result<PathBuf> {
        match &self.model {
            Some(p) => ifa::bundled::resolve_model(p).map_err(|e| anyhow::anyhow!(e)),
            None => ifa::bundled::find(ifa::bundled::DEFAULT_MODEL).map_err(|searched| {
                anyhow::anyhow!("default model not found (looked in {searched}); pass --model PATH")
            }),
        }
    }

    /// Loads the model at `path` on the requested device.
    pub fn load(&self, path: &Path) -> anyhow::Result<LoadedModel> {
        // The runtime's errors already name the model file.
        Ok(load_model(path, &SessionOptions { device: self.device, ..Default::default() })?)
    }
}

/// Says what happened to temporaries that killed runs left beside the outputs.
pub fn report_stale(stale: &[StaleTemporary]) {
    for s in stale {
        if s.removed {
            eprintln!("removed {} (left by an interrupted run, process {})", s.path.display(), s.pid);
        } else {
            eprintln!(
                "warning: {} looks left by an interrupted run (process {}) but holds files that are not ifa's; remove it yourself",
                s.path.display(),
                s.pid
            );
        }
    }
}

/// Merges the keys of the JSON object `overrides` into the model's `ifa.post` metadata; the
/// contract check that follows validates the result (unknown keys, ranges).
pub fn override_post(metadata: &mut std::collections::BTreeMap<String, String>, overrides: &str) -> anyhow::Result<()> {
    let parse = |s: &str| -> Option<serde_json::Map<String, serde_json::Value>> {
        serde_json::from_str::<serde_json::Value>(s).ok()?.as_object().cloned()
    };
    let extra = parse(overrides).ok_or_else(|| {
        anyhow::anyhow!("--post {overrides:?}: expected a JSON object such as '{{\"max_hidden\": 0}}'")
    })?;
    let mut post = metadata.get("ifa.post").and_then(|s| parse(s)).unwrap_or_default();
    post.extend(extra);
    metadata.insert("ifa.post".to_owned(), serde_json::Value::Object(post).to_string());
    Ok(())
}

/// Results as data: shared by `ifa run` and `ifa export`.
#[derive(clap::Args, Debug)]
pub struct ResultsArgs {
    /// Write YouTube-VIS results (one entry per track) here.
    #[arg(long)]
    pub json: Option<PathBuf>,
    /// `video_id` written into the results.
    #[arg(long, default_value_t = 1)]
    pub video_id: u64,
    /// Write one row per instance and frame here.
    #[arg(long)]
    pub csv: Option<PathBuf>,
}

/// A frame rate for `--fps`: a finite number above zero.
pub fn parse_fps(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 && f <= 1000.0 => Ok(f),
        _ => Err(format!("{s:?} is not a frame rate (a number of frames per second, above 0 and at most 1000)")),
    }
}
