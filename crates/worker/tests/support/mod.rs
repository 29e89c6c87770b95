//! Shared helpers: generated pages, a pool, and a sink that keeps everything in memory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

use image::GrayImage;
use scribe_core::document::Document;
use scribe_core::formats::Formats;
use scribe_core::languages;
use scribe_core::results::DocumentResult;
use scribe_core::settings::Settings;
use scribe_fixtures::{page_text, render, render_page};
use scribe_worker::ocr::assemble::Assembled;
use scribe_worker::ocr::page::PageArtifacts;
use scribe_worker::ocr::run::RunRequest;
use scribe_worker::ocr::{OcrPool, ResultSink, RunError, SinkError, run_document};

/// A half-letter page at 300 dpi: big enough to be a real scan, small enough to be quick.
pub const PAGE_INCHES: (f32, f32) = (6.0, 4.5);
pub const DPI: u32 = 300;

pub fn page(seed: u64) -> render::Page {
    render_page(&page_text(seed, 6), DPI, PAGE_INCHES, 12.0).expect("render fixture page")
}

pub fn pool() -> &'static OcrPool {
    static POOL: OnceLock<OcrPool> = OnceLock::new();
    POOL.get_or_init(|| {
        let dir = languages::tessdata_dir(None).expect("tessdata installed (scripts/deps)");
        OcrPool::start(2, dir)
    })
}

#[derive(Default)]
pub struct MemorySink {
    pub pages: Vec<(usize, Option<String>, Option<Vec<u8>>)>,
    pub pdf: Option<Vec<u8>>,
}

impl ResultSink for MemorySink {
    fn page(&mut self, page: &PageArtifacts) -> Result<(), SinkError> {
        self.pages.push((
            page.result.number,
            page.hocr.clone(),
            page.preview_png.clone(),
        ));
        Ok(())
    }

    fn finish(&mut self, assembled: &Assembled) -> Result<(), SinkError> {
        if let Some((_, path)) = assembled.files.iter().find(|(n, _)| *n == "searchable.pdf") {
            self.pdf = Some(std::fs::read(path).map_err(|e| SinkError::Failed(e.to_string()))?);
        }
        Ok(())
    }
}

pub fn ocr_file(
    path: &Path,
    lang: &str,
    settings: Settings,
) -> Result<(DocumentResult, MemorySink), String> {
    let settings = Arc::new(settings);
    let document = Document::open(path, &settings).map_err(|e| e.to_string())?;
    let mut sink = MemorySink::default();
    let request = RunRequest {
        file_name: "fixture",
        lang,
        formats: Formats::default(),
        pages: None,
        assemble: true,
        stopping: Arc::default(),
    };
    let result = run_document(
        pool(),
        document,
        settings,
        request,
        &mut sink,
        &mut |_, _| {},
    )
    .map_err(|e: RunError| e.to_string())?;
    Ok((result, sink))
}

pub fn save_png(image: &GrayImage, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    image.save(&path).expect("write fixture");
    path
}

pub fn cer(recognised: &str, truth: &str) -> f64 {
    scribe_core::error_rate::character_error_rate(recognised, truth)
}
