//! One file per subcommand: its arguments and how it drives the library.

// Entry points take their parsed arguments by value, as clap hands them over.
#![allow(clippy::needless_pass_by_value)]

pub mod eval;
pub mod export;
pub mod probe;
pub mod run;
pub mod synth;
pub mod view;
