//! `scribe-worker ocr FILE…`: the whole pipeline on local files, with a
//! progress bar per file and one line per failure.

use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::Args;
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use scribe_core::document::Document;
use scribe_core::formats::Formats;
use scribe_core::languages;
use scribe_core::settings::Settings;
use scribe_worker::ocr::run::RunRequest;
use scribe_worker::ocr::{OcrPool, run_document};

use super::output_dir::OutputDir;

/// The exit status when every file was written but some pages in them
/// could not be read (1 is a file that failed, 2 a usage error).
const PAGES_UNREAD: u8 = 3;

#[derive(Args)]
pub struct OcrArgs {
    /// Images (PNG, JPEG, TIFF, BMP, GIF, WebP, PNM, JPEG 2000) or PDFs.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Tesseract language(s), e.g. `eng` or `deu+eng`.
    #[arg(long)]
    lang: Option<String>,
    /// Output directory; each input gets `DIR/<name>/`.
    #[arg(long, default_value = "out")]
    out: PathBuf,
    /// Outputs to write: any of txt,hocr,json,pdf,preview (or all); pdfa makes
    /// the searchable PDF a PDF/A-2b file.
    #[arg(long, default_value = "all")]
    format: Formats,
    /// Resolution for PDF pages without a scanned image.
    #[arg(long)]
    dpi: Option<u32>,
    /// OCR threads (default: one per core).
    #[arg(long)]
    threads: Option<usize>,
    /// OCR PDF pages that already have a text layer too (by default their own text is kept).
    #[arg(long)]
    force_ocr: bool,
    /// Configuration directory (default.toml and $SCRIBE_ENV.toml).
    #[arg(long, default_value = "config")]
    config: PathBuf,
    /// No progress bars.
    #[arg(long, short)]
    quiet: bool,
}

pub fn run(args: OcrArgs) -> ExitCode {
    let settings = match settings(&args) {
        Ok(s) => Arc::new(s),
        Err(message) => {
            eprintln!("error: {message}");
            return ExitCode::from(2);
        }
    };
    let tessdata = languages::tessdata_dir(settings.ocr.tessdata_dir.as_deref());
    let installed = languages::installed(tessdata.as_deref());
    let requested = args
        .lang
        .as_deref()
        .unwrap_or(&settings.ocr.default_language);
    let lang = match languages::validate(requested, &installed) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(2);
        }
    };
    let Some(tessdata) = tessdata else {
        eprintln!("error: no Tesseract language data found");
        return ExitCode::from(2);
    };
    let pool = OcrPool::start(settings.ocr.thread_count(), tessdata);
    let bars = MultiProgress::new();
    if args.quiet {
        bars.set_draw_target(indicatif::ProgressDrawTarget::hidden());
    }
    let style = ProgressStyle::with_template(
        "{prefix:30!} [{bar:30}] {pos}/{len} pages {elapsed:>4} {msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("=> ");
    let mut taken = Vec::new();
    let mut failures = Vec::new();
    // What a user should know of a file that was read (outputs not under its
    // own name, no text found), said where every user sees it (the bars are
    // hidden with -q or when stderr is not a terminal).
    let mut notes = Vec::new();
    // Pages that could not be read, in files whose other pages were.
    let mut unread = Vec::new();
    for file in &args.files {
        let name = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let bar = bars.add(
            ProgressBar::new(0)
                .with_style(style.clone())
                .with_prefix(name.clone()),
        );
        let outcome = Document::open(file, &settings)
            .map_err(|e| e.to_string())
            .and_then(|document| {
                let mut sink = OutputDir::create(&args.out, file, args.format, &mut taken)
                    .map_err(|e| e.to_string())?;
                let request = RunRequest {
                    file_name: &name,
                    lang: &lang,
                    formats: args.format,
                    pages: None,
                    assemble: true,
                    stopping: Arc::default(),
                };
                let mut progress = |done: usize, total: usize| {
                    bar.set_length(total as u64);
                    bar.set_position(done as u64);
                };
                run_document(
                    &pool,
                    document,
                    Arc::clone(&settings),
                    request,
                    &mut sink,
                    &mut progress,
                )
                .map_err(|e| {
                    sink.remove_if_empty();
                    e.to_string()
                })
                .map(|result| (sink.dir, result))
            });
        match outcome {
            Ok((dir, result)) => {
                for page in &result.pages {
                    if let Some(failure) = &page.error {
                        unread.push(format!(
                            "{}: page {} could not be read ({}): {}",
                            file.display(),
                            page.number,
                            failure.code,
                            failure.message
                        ));
                    }
                }
                bar.finish_with_message(format!("→ {}", dir.display()));
                // An empty text.txt alone looks like a fault of ours.
                if result.pages.iter().all(|p| p.words.is_empty()) {
                    notes.push(format!(
                        "{}: no text was found (check the language, or try a sharper scan)",
                        file.display()
                    ));
                }
                if dir.file_name() != file.file_stem() {
                    notes.push(format!(
                        "{} → {} (an earlier input has that name)",
                        file.display(),
                        dir.display()
                    ));
                }
            }
            Err(reason) => {
                bar.abandon_with_message("failed");
                failures.push(format!("{}: {reason}", file.display()));
            }
        }
    }
    drop(bars);
    for line in &notes {
        eprintln!("note: {line}");
    }
    for line in &unread {
        eprintln!("warning: {line}");
    }
    for line in &failures {
        eprintln!("error: {line}");
    }
    if !failures.is_empty() {
        ExitCode::FAILURE
    } else if !unread.is_empty() {
        // Everything that could be read was, and written: not a failure,
        // but a script must be able to tell that something is missing.
        ExitCode::from(PAGES_UNREAD)
    } else {
        ExitCode::SUCCESS
    }
}

fn settings(args: &OcrArgs) -> Result<Settings, String> {
    let mut s = Settings::load(&args.config).map_err(|e| e.to_string())?;
    if let Some(dpi) = args.dpi {
        s.ocr.dpi = dpi;
    }
    if let Some(threads) = args.threads {
        s.ocr.threads = threads;
    }
    if args.force_ocr {
        s.ocr.skip_text = false;
    }
    s.limits.pdf_trial_parser = scribe_worker::trial_parser();
    s.validate().map_err(|e| e.to_string())?;
    Ok(s)
}
