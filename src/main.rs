//! The `ifa` command line: the binary's edge, where library errors become `anyhow` reports.

mod cli;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ifa", version, about = "Video instance segmentation by instance flow assembly")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Open the viewer (the bundled demo video and model when no video is given).
    View(cli::view::ViewArgs),
    /// Segment and track a video headless; write YouTube-VIS results and a per-frame CSV.
    Run(cli::run::RunArgs),
    /// Segment and track every video of a YouTube-VIS-layout data set (or one shard of it) into
    /// one results.json and results.zip; resumable.
    Batch(cli::batch::BatchArgs),
    /// Join the outputs of `ifa batch --shard I/N` runs into one results.json and results.zip.
    Merge(cli::batch::MergeArgs),
    /// Write an annotated video (and results as data).
    Export(cli::export::ExportArgs),
    /// Render videos of the shapes world in YouTube-VIS layout.
    Synth(cli::synth::SynthArgs),
    /// Evaluate YouTube-VIS results against ground truth (video mask AP/AR).
    Eval(cli::eval::EvalArgs),
    /// Describe a video file: container, codecs, size, rotation, frame rate, frames, audio.
    Probe(cli::probe::ProbeArgs),
}

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::View(a) => cli::view::run(a),
        Command::Run(a) => cli::run::run(a),
        Command::Batch(a) => cli::batch::run(a),
        Command::Merge(a) => cli::batch::merge(a),
        Command::Export(a) => cli::export::run(a),
        Command::Synth(a) => cli::synth::run(a),
        Command::Eval(a) => cli::eval::run(a),
        Command::Probe(a) => cli::probe::run(a),
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("error: {err:#}");
            // Stopped by SIGINT/SIGTERM: the shell's convention, 128 + the signal's number.
            match err.downcast_ref::<cli::signals::Interrupted>().and_then(|i| u8::try_from(128 + i.signal).ok()) {
                Some(code) => std::process::ExitCode::from(code),
                None => std::process::ExitCode::FAILURE,
            }
        }
    }
}
