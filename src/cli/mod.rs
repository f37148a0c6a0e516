//! One file per subcommand: its arguments and how it drives the library.

pub mod eval;
pub mod export;
pub mod probe;
pub mod run;
pub mod synth;
pub mod view;
