//! Scribe's worker: consumes OCR tasks and runs Tesseract on warm engines.
//! It is the only crate that links Tesseract; the web must never depend on it.

pub mod allocation;
pub mod ocr;
pub mod queue;

/// This binary, which tries each PDF parse in a child before the worker parses
/// it (`scribe_core::pdf::guard`): set on the settings the commands load.
pub fn trial_parser() -> Option<std::path::PathBuf> {
    std::env::current_exe()
        .map_err(|e| eprintln!("warning: PDFs will be parsed without a trial run ({e})"))
        .ok()
}

/// Tesseract's OpenMP threads fight our own one-engine-per-core threads (about
/// 2× slower on 2 cores), and OpenMP reads its limit once at start-up, so the
/// process re-executes itself with `OMP_THREAD_LIMIT=1` when it is not set.
pub fn single_threaded_tesseract() {
    if std::env::var_os("OMP_THREAD_LIMIT").is_some() {
        return;
    }
    let Ok(exe) = std::env::current_exe() else {
        return;
    };
    use std::os::unix::process::CommandExt;
    let err = std::process::Command::new(exe)
        .args(std::env::args_os().skip(1))
        .env("OMP_THREAD_LIMIT", "1")
        .exec();
    eprintln!("warning: could not re-execute with OMP_THREAD_LIMIT=1 ({err}); OCR may be slower");
}
