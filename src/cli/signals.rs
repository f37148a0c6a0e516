//! SIGINT and SIGTERM during `ifa run` and `ifa export`: the first one sets a flag that the
//! frame loop checks, so the command stops at the next frame, its temporaries are removed and
//! it exits with 128 + the signal's number; a second one ends the process at once.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use anyhow::Context as _;
use signal_hook::consts::{SIGINT, SIGTERM};

/// The command was stopped by a signal; `main` turns this into exit code 128 + `signal`.
#[derive(Debug, thiserror::Error)]
#[error("interrupted by {name} {when}; nothing was written")]
pub struct Interrupted {
    pub signal: i32,
    pub name: &'static str,
    pub when: String,
}

/// The installed handlers' flags.
pub struct Interrupt {
    stop: Arc<AtomicBool>,
    which: Arc<AtomicUsize>,
}

impl Interrupt {
    /// Installs the handlers (once per process is enough; calling again adds nothing harmful).
    pub fn install() -> anyhow::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let which = Arc::new(AtomicUsize::new(0));
        for sig in [SIGINT, SIGTERM] {
            // Registered first, so it sees the flag as the previous signal left it.
            signal_hook::flag::register_conditional_shutdown(sig, 128 + sig, Arc::clone(&stop))
                .and_then(|_| signal_hook::flag::register_usize(sig, Arc::clone(&which), sig as usize))
                .and_then(|_| signal_hook::flag::register(sig, Arc::clone(&stop)))
                .context("installing the SIGINT/SIGTERM handlers")?;
        }
        Ok(Self { stop, which })
    }

    /// Set once a signal arrived: the flag the frame loop (or the export job) checks.
    pub fn flag(&self) -> &Arc<AtomicBool> {
        &self.stop
    }

    pub fn raised(&self) -> bool {
        self.stop.load(Ordering::Relaxed)
    }

    /// The error to return once [`Interrupt::raised`]; `when` says how far the work got.
    pub fn error(&self, when: String) -> Interrupted {
        let signal = i32::try_from(self.which.load(Ordering::Relaxed)).unwrap_or(SIGINT);
        let name = if signal == SIGTERM { "SIGTERM" } else { "SIGINT" };
        Interrupted { signal, name, when }
    }
}
