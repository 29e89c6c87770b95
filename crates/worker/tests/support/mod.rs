//! Shared helpers: generated pages, a pool, and a sink that keeps everything in memory.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, OnceLock};

use image::{GrayImage, Rgb, RgbImage};
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
    /// The document's `results.json`, as written.
    pub json: Option<serde_json::Value>,
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
        if let Some((_, path)) = assembled.files.iter().find(|(n, _)| *n == "results.json") {
            let bytes = std::fs::read(path).map_err(|e| SinkError::Failed(e.to_string()))?;
            self.json = serde_json::from_slice(&bytes).ok();
        }
        Ok(())
    }
}

pub fn ocr_file(
    path: &Path,
    lang: &str,
    settings: Settings,
) -> Result<(DocumentResult, MemorySink), String> {
    ocr_file_as(path, lang, settings, Formats::default())
}

/// `ocr_file` writing the outputs `formats` asks for.
pub fn ocr_file_as(
    path: &Path,
    lang: &str,
    settings: Settings,
    formats: Formats,
) -> Result<(DocumentResult, MemorySink), String> {
    let mut settings = settings;
    // As the binary does: every PDF is parsed in a child process first (`pdf::guard`).
    settings.limits.pdf_trial_parser = Some(PathBuf::from(env!("CARGO_BIN_EXE_scribe-worker")));
    let settings = Arc::new(settings);
    let document = Document::open(path, &settings).map_err(|e| e.to_string())?;
    let mut sink = MemorySink::default();
    let request = RunRequest {
        file_name: "fixture",
        lang,
        formats,
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

/// Runs a tool the tests rely on and returns its standard output.
pub fn run(program: &str, args: &[&str]) -> String {
    let out = Command::new(program)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{program}: {e} (scripts/deps installs it)"));
    assert!(
        out.status.success(),
        "{program} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `pdfimages -list` rows: (width, height, color, bpc, enc).
pub fn images(pdf: &Path) -> Vec<(u32, u32, String, u32, String)> {
    run("pdfimages", &["-list", &pdf.to_string_lossy()])
        .lines()
        .skip(2)
        .filter_map(|l| {
            let c: Vec<&str> = l.split_whitespace().collect();
            Some((
                c.get(3)?.parse().ok()?,
                c.get(4)?.parse().ok()?,
                (*c.get(5)?).to_owned(),
                c.get(7)?.parse().ok()?,
                (*c.get(8)?).to_owned(),
            ))
        })
        .collect()
}

/// Share of the truth's words found in `text`: the PDF's text is extracted by
/// pdftotext, whose own reading order is not what is under test here.
pub fn word_recall(text: &str, truth: &str) -> f64 {
    let mut found: Vec<&str> = text.split_whitespace().collect();
    let words: Vec<&str> = truth.split_whitespace().collect();
    let hits = words
        .iter()
        .filter(|w| match found.iter().position(|f| f == *w) {
            Some(i) => {
                found.swap_remove(i);
                true
            }
            None => false,
        })
        .count();
    hits as f64 / words.len().max(1) as f64
}

/// The `name` attribute (`xMin`, `yMin`, …, in points) of a `<word>` line of
/// `pdftotext -bbox`.
pub fn word_attribute(line: &str, name: &str) -> Option<f64> {
    line.split(&format!("{name}=\""))
        .nth(1)?
        .split('"')
        .next()?
        .parse()
        .ok()
}

/// Asserts that the searchable PDF's `text` holds the truth's words, each
/// once: an earlier layer left beside the new one doubles them.
pub fn assert_each_word_once(text: &str, truth: &str) {
    let (found, words) = (
        text.split_whitespace().count(),
        truth.split_whitespace().count(),
    );
    assert!(
        found * 10 <= words * 12,
        "{found} words for {words}: {text}"
    );
    assert!(word_recall(text, truth) > 0.9, "{text}");
}

pub fn searchable(sink: &MemorySink, dir: &Path) -> PathBuf {
    let path = dir.join("searchable.pdf");
    std::fs::write(&path, sink.pdf.as_ref().expect("a searchable PDF")).expect("write");
    path
}

/// `image` as a gray PNG that states `per_metre` pixels per metre (pHYs).
pub fn gray_png_at(image: &GrayImage, per_metre: u32, path: &Path) -> PathBuf {
    let file = std::fs::File::create(path).expect("create");
    let mut enc = png::Encoder::new(std::io::BufWriter::new(file), image.width(), image.height());
    enc.set_color(png::ColorType::Grayscale);
    enc.set_pixel_dims(Some(png::PixelDimensions {
        xppu: per_metre,
        yppu: per_metre,
        unit: png::Unit::Meter,
    }));
    let mut writer = enc.write_header().expect("header");
    writer.write_image_data(image.as_raw()).expect("data");
    path.to_owned()
}

/// Packs a gray page into PBM (P4), 1 = black.
pub fn pbm(image: &GrayImage) -> Vec<u8> {
    let (w, h) = image.dimensions();
    let mut out = format!("P4\n{w} {h}\n").into_bytes();
    let stride = (w as usize).div_ceil(8);
    let mut bits = vec![0u8; stride * h as usize];
    for (x, y, p) in image.enumerate_pixels() {
        if p.0[0] < 128 {
            bits[y as usize * stride + x as usize / 8] |= 0x80 >> (x % 8);
        }
    }
    out.extend_from_slice(&bits);
    out
}

/// The page in blue ink on cream paper.
pub fn blue_on_cream(gray: &image::GrayImage) -> RgbImage {
    RgbImage::from_fn(gray.width(), gray.height(), |x, y| {
        if gray.get_pixel(x, y).0[0] < 128 {
            Rgb([20, 40, 160])
        } else {
            Rgb([250, 240, 215])
        }
    })
}

/// `image` as a 300-dpi CCITT G4 TIFF (netpbm's pnmtotiff), `-minisblack` or `-miniswhite`.
pub fn g4_tiff(image: &GrayImage, photometric: &str, path: &Path) {
    pnmtotiff(
        image,
        &[
            "-g4",
            photometric,
            "-xresolution",
            "300",
            "-yresolution",
            "300",
        ],
        path,
    );
}

/// `image`, two-tone, as a TIFF written by netpbm's `pnmtotiff` with `options`.
pub fn pnmtotiff(image: &GrayImage, options: &[&str], path: &Path) {
    let pbm_path = path.with_extension("pbm");
    std::fs::write(&pbm_path, pbm(image)).expect("pbm");
    let out = Command::new("pnmtotiff")
        .args(options)
        .arg(&pbm_path)
        .output()
        .expect("pnmtotiff (netpbm, scripts/deps)");
    assert!(out.status.success());
    std::fs::write(path, out.stdout).expect("tiff");
}
