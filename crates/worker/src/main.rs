//! `scribe-worker`: the OCR half of Scribe. `scribe-worker ocr FILE…` runs the
//! whole pipeline locally.

use std::process::ExitCode;

use clap::{Parser, Subcommand};
use scribe_core::pdf::guard;

mod cli;

#[derive(Parser)]
#[command(name = "scribe-worker", version, about = "Scribe's OCR worker")]
struct Args {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// OCR files locally, without a broker or database.
    Ocr(cli::ocr::OcrArgs),
    /// Consume OCR tasks from RabbitMQ until SIGTERM/SIGINT.
    Run {
        /// Configuration directory.
        #[arg(long, default_value = "config")]
        config: std::path::PathBuf,
    },
}

/// Notes refused allocations, which the PDF trial parse must see (see `allocation`).
#[global_allocator]
static ALLOCATOR: scribe_worker::allocation::NotingRefusals =
    scribe_worker::allocation::NotingRefusals;

fn main() -> ExitCode {
    // A child started by `pdf::guard` to try a parse: nothing else to set up.
    let mut raw = std::env::args_os().skip(1);
    if raw.next().as_deref() == Some(std::ffi::OsStr::new(guard::PROBE_ARG)) {
        return match raw.next() {
            Some(path) => guard::probe_main(
                std::path::Path::new(&path),
                scribe_worker::allocation::refused,
            ),
            None => ExitCode::FAILURE,
        };
    }
    scribe_worker::single_threaded_tesseract();
    let args = Args::parse();
    scribe_core::telemetry::init();
    match args.command {
        Command::Ocr(a) => cli::ocr::run(a),
        Command::Run { config } => match cli::run::run(&config) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e:#}");
                ExitCode::FAILURE
            }
        },
    }
}
