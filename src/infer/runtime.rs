//! ONNX Runtime: finding the library, the one process-wide environment, and the single place
//! that picks execution providers. A GPU provider never falls back to CPU silently.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use ort::environment::Environment;
use ort::ep::ExecutionProvider as _;
use ort::session::Session;
use ort::session::builder::{GraphOptimizationLevel, SessionBuilder};

/// The ONNX Runtime version whose shared library `scripts/setup.sh` installs.
pub const ORT_VERSION: &str = "1.32.0";

/// What the user asked for (`--device`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum Device {
    /// The best available: TensorRT, then CUDA, then CPU, with a warning when a GPU one fails.
    #[default]
    Auto,
    Cpu,
    Cuda,
    #[value(name = "tensorrt")]
    TensorRt,
}

/// The execution provider that actually runs the model.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Provider {
    Cpu,
    Cuda,
    TensorRt,
}

impl std::fmt::Display for Provider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Cpu => "CPU",
            Self::Cuda => "CUDA",
            Self::TensorRt => "TensorRT",
        })
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error(
        "ONNX Runtime library not found (looked in {searched}). Run scripts/setup.sh, or set ORT_DYLIB_PATH to a libonnxruntime.so {ORT_VERSION}"
    )]
    LibraryNotFound { searched: String },
    #[error("cannot load ONNX Runtime from {path}: {message}")]
    LibraryLoad { path: PathBuf, message: String },
    #[error("model file {path} cannot be read: {source}")]
    ModelUnreadable { path: PathBuf, source: std::io::Error },
    #[error("ONNX Runtime cannot load the model {path}: {message}")]
    ModelLoad { path: PathBuf, message: String },
    #[error("execution provider {provider} is not available for {path}: {message}")]
    ProviderUnavailable { provider: Provider, path: PathBuf, message: String },
    #[error("ONNX Runtime: {0}")]
    Ort(String),
}

fn ort_err(e: impl std::fmt::Display) -> RuntimeError {
    RuntimeError::Ort(e.to_string())
}

/// Where the shared library may be, in the order they are tried.
///
/// An explicit `ORT_DYLIB_PATH` wins so that a GPU build of ONNX Runtime (from the
/// `onnxruntime-gpu` wheel) can be chosen without touching the project folder; otherwise the
/// project-local copy that `scripts/setup.sh` installs.
pub fn library_candidates() -> Vec<PathBuf> {
    let mut out = Vec::new();
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        out.push(PathBuf::from(p));
    }
    for p in crate::bundled::candidates(&format!("vendor/onnxruntime/libonnxruntime.so.{ORT_VERSION}")) {
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out
}

static ENVIRONMENT: OnceLock<Result<Environment, String>> = OnceLock::new();

/// The process-wide ONNX Runtime environment (ONNX Runtime allows one per process).
pub fn environment() -> Result<&'static Environment, RuntimeError> {
    let env = ENVIRONMENT.get_or_init(|| {
        let candidates = library_candidates();
        let Some(lib) = candidates.iter().find(|p| p.is_file()) else {
            let searched = candidates.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ");
            return Err(RuntimeError::LibraryNotFound { searched }.to_string());
        };
        let builder = ort::init_from(lib)
            .map_err(|e| RuntimeError::LibraryLoad { path: lib.clone(), message: e.to_string() }.to_string())?;
        builder
            .with_name("ifa")
            .build()
            .map_err(|e| RuntimeError::LibraryLoad { path: lib.clone(), message: e.to_string() }.to_string())
    });
    env.as_ref().map_err(|msg| RuntimeError::Ort(msg.clone()))
}

/// A loaded model: its session, the provider that runs it, and its metadata.
pub struct LoadedModel {
    pub session: Session,
    pub provider: Provider,
    pub path: PathBuf,
    /// Custom ONNX metadata (`metadata_props`).
    pub metadata: BTreeMap<String, String>,
    /// Things the user must be told, e.g. "CUDA unavailable, running on CPU".
    pub warnings: Vec<String>,
}

impl std::fmt::Debug for LoadedModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LoadedModel")
            .field("path", &self.path)
            .field("provider", &self.provider)
            .field("metadata", &self.metadata)
            .finish_non_exhaustive()
    }
}

/// Options for [`load_model`].
#[derive(Clone, Debug)]
pub struct SessionOptions {
    pub device: Device,
    /// Intra-op threads for the CPU provider; 0 lets ONNX Runtime decide.
    pub threads: usize,
    /// Whether ONNX Runtime's idle intra-op workers spin-wait for the next task (its default).
    /// Spinning shaves the wake-up off each parallel section but burns the cores that decoding
    /// and assembly run on beside inference.
    pub spinning: bool,
}

impl Default for SessionOptions {
    fn default() -> Self {
        Self { device: Device::Auto, threads: 0, spinning: SPIN_DEFAULT }
    }
}

/// [`SessionOptions::spinning`] by default.
pub const SPIN_DEFAULT: bool = true;

/// Tries to register one GPU provider on `builder`; the error text says why it failed.
fn register_gpu(builder: &mut SessionBuilder, provider: Provider) -> Result<(), String> {
    let result = match provider {
        Provider::Cuda => {
            if !ort::ep::CUDA::is_available().unwrap_or(false) {
                return Err("this ONNX Runtime build has no CUDA support (install the onnxruntime-gpu wheel's library and set ORT_DYLIB_PATH)".to_owned());
            }
            ort::ep::CUDA::default().register(builder)
        }
        Provider::TensorRt => {
            if !ort::ep::TensorRT::is_available().unwrap_or(false) {
                return Err("this ONNX Runtime build has no TensorRT support".to_owned());
            }
            ort::ep::TensorRT::default().register(builder)
        }
        Provider::Cpu => Ok(()),
    };
    result.map_err(|e| e.to_string())
}

/// Loads an ONNX model on the requested device and reports what actually runs it.
pub fn load_model(path: &Path, options: &SessionOptions) -> Result<LoadedModel, RuntimeError> {
    // Read first: a clear "cannot read" beats ONNX Runtime's protobuf message.
    let bytes = crate::fsutil::read_limited(path, crate::fsutil::MODEL_LIMIT, "model files")
        .map_err(|source| RuntimeError::ModelUnreadable { path: path.to_path_buf(), source })?;
    let env = environment()?;

    let wanted: &[Provider] = match options.device {
        Device::Cpu => &[Provider::Cpu],
        Device::Cuda => &[Provider::Cuda],
        Device::TensorRt => &[Provider::TensorRt],
        Device::Auto => &[Provider::TensorRt, Provider::Cuda, Provider::Cpu],
    };

    let mut warnings = Vec::new();
    for &provider in wanted {
        let mut builder = Session::builder(env)
            .map_err(ort_err)?
            .with_optimization_level(GraphOptimizationLevel::Level3)
            .map_err(ort_err)?;
        if options.threads > 0 {
            builder = builder.with_intra_threads(options.threads).map_err(ort_err)?;
        }
        builder = builder.with_intra_op_spinning(options.spinning).map_err(ort_err)?;
        if provider != Provider::Cpu
            && let Err(message) = register_gpu(&mut builder, provider)
        {
            if options.device == Device::Auto {
                // Every GPU provider that could not be used is reported, never skipped silently.
                warnings.push(format!("{provider} unavailable: {message}"));
                continue;
            }
            return Err(RuntimeError::ProviderUnavailable { provider, path: path.to_path_buf(), message });
        }
        let session = match builder.commit_from_memory(&bytes) {
            Ok(s) => s,
            Err(e) if provider != Provider::Cpu && options.device == Device::Auto => {
                warnings.push(format!("{provider} failed to start the model: {e}"));
                continue;
            }
            Err(e) => {
                return Err(RuntimeError::ModelLoad { path: path.to_path_buf(), message: e.to_string() });
            }
        };
        if provider == Provider::Cpu && options.device == Device::Auto && !warnings.is_empty() {
            warnings.push("falling back to the CPU execution provider".to_owned());
        }
        let metadata = read_metadata(&session)?;
        return Ok(LoadedModel { session, provider, path: path.to_path_buf(), metadata, warnings });
    }
    // Unreachable in practice: Auto always ends with CPU.
    Err(RuntimeError::Ort("no execution provider could run the model".to_owned()))
}

fn read_metadata(session: &Session) -> Result<BTreeMap<String, String>, RuntimeError> {
    let meta = session.metadata().map_err(ort_err)?;
    let mut out = BTreeMap::new();
    for key in meta.custom_keys().map_err(ort_err)? {
        if let Some(v) = meta.custom(&key) {
            out.insert(key, v);
        }
    }
    Ok(out)
}
