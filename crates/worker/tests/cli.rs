//! `scribe-worker ocr` as a person runs it: outputs on disk, one line per bad
//! file, and the good files still done.

mod support;

use std::path::Path;
use std::process::Command;

use scribe_core::pdf::guard;
use scribe_fixtures::{hostile, pdf, tiff_file};
use support::*;

fn scribe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scribe-worker"));
    c.env("SCRIBE_ENV", "test-none")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// `scribe-worker ocr FILES --out OUT -q`, to run.
fn ocr_quietly(files: &[&Path], out: &Path) -> Command {
    let mut c = scribe();
    c.arg("ocr").args(files).arg("--out").arg(out).arg("-q");
    c
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, bytes).expect("write fixture");
    p
}

#[test]
fn writes_every_output_for_each_input() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages: Vec<_> = (20..22).map(page).collect();
    let scan = dir.path().join("letter.pdf");
    pdf::write_scanned(
        &pages.iter().map(|p| p.image.clone()).collect::<Vec<_>>(),
        300,
        &scan,
    )
    .expect("pdf");
    let photo = save_png(&pages[0].image, dir.path(), "letter.png");
    let out = dir.path().join("out");
    let run = ocr_quietly(&[&scan, &photo], &out).output().expect("run");
    assert!(run.status.success());

    let doc = out.join("letter");
    for f in [
        "text.txt",
        "page-0001.txt",
        "page-0002.txt",
        "page-0001.hocr",
        "page-0001.png",
        "results.json",
        "searchable.pdf",
    ] {
        assert!(doc.join(f).is_file(), "missing {f}");
    }
    let text = std::fs::read_to_string(doc.join("text.txt")).expect("text");
    assert_eq!(
        text.matches('\u{c}').count(),
        1,
        "pages separated by one form feed"
    );
    let json: serde_json::Value =
        serde_json::from_slice(&std::fs::read(doc.join("results.json")).expect("json"))
            .expect("valid JSON");
    assert_eq!(json["schema_version"], 1);
    assert_eq!(json["detected_type"], "pdf");
    assert_eq!(json["page_count"], 2);
    assert!(
        json["pages"][1]["words"][0]["bbox"]["width"]
            .as_u64()
            .is_some_and(|w| w > 0)
    );
    // Same stem, second input: its own directory, said even with -q.
    assert!(out.join("letter-2").join("results.json").is_file());
    let stderr = String::from_utf8_lossy(&run.stderr);
    assert!(
        stderr.contains(&format!("{} → ", photo.display())) && stderr.contains("letter-2"),
        "{stderr}"
    );
    assert!(
        !stderr.contains(&format!("{} → ", scan.display())),
        "{stderr}"
    );
    let hocr = std::fs::read_to_string(doc.join("hocr.html")).expect("hOCR");
    assert_eq!(hocr.matches("id='page_1'").count(), 1, "one page 1");
    assert!(
        hocr.contains("id='page_2'") && hocr.contains("ppageno 1"),
        "the second page numbered as such"
    );
}

#[test]
fn bad_files_each_get_one_line_and_the_good_ones_still_finish() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let good = save_png(&page(30).image, d, "good.png");
    let jpeg = d.join("full.jpg");
    page(31)
        .image
        .save_with_format(&jpeg, image::ImageFormat::Jpeg)
        .expect("jpeg");
    let encrypted = d.join("locked.pdf");
    pdf::write_encrypted(&[vec!["secret minutes".to_owned()]], "hunter2", &encrypted)
        .expect("encrypted pdf");
    let empty_pdf = d.join("nopages.pdf");
    pdf::write_empty(&empty_pdf).expect("empty pdf");

    let cases = [
        (write(d, "empty.png", b""), "empty"),
        (
            write(d, "program.png", &hostile::elf_executable()),
            "not a supported document",
        ),
        (
            write(d, "cut.png", &hostile::truncated(&good, 0.5).expect("read")),
            "PNG",
        ),
        (
            write(d, "cut.jpg", &hostile::truncated(&jpeg, 0.3).expect("read")),
            "JPEG",
        ),
        (
            write(
                d,
                "broken.pdf",
                b"%PDF-1.7\n1 0 obj << /Type /Catalog >> garbage",
            ),
            "damaged",
        ),
        (encrypted, "password"),
        (empty_pdf, "no pages"),
        (
            write(d, "huge.png", &hostile::png_header_only(30000, 30000)),
            "30000×30000",
        ),
    ];
    let mut cmd = scribe();
    cmd.arg("ocr").arg(&good);
    for (path, _) in &cases {
        cmd.arg(path);
    }
    let out = cmd
        .arg("--out")
        .arg(d.join("out"))
        .arg("-q")
        .output()
        .expect("run");
    assert!(!out.status.success(), "bad inputs must fail the run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    for (path, expected) in &cases {
        let name = path.display().to_string();
        let line = stderr
            .lines()
            .find(|l| l.contains(&name))
            .unwrap_or_else(|| panic!("no line for {name}:\n{stderr}"));
        assert!(
            line.contains(expected),
            "{name}: expected `{expected}` in `{line}`"
        );
    }
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert!(
        d.join("out/good/results.json").is_file(),
        "the good file was still processed"
    );
}

#[test]
fn a_page_that_cannot_be_read_is_a_warning_and_status_3_with_the_rest_written() {
    let dir = tempfile::tempdir().expect("tempdir");
    let d = dir.path();
    let images: Vec<_> = (32..34).map(|seed| page(seed).image).collect();
    let tiff = d.join("scan.tif");
    tiff_file::write_multipage_deflated(&images, &tiff).expect("tiff");
    tiff_file::damage_page(&tiff, 1).expect("damage");
    let good = save_png(&page(34).image, d, "good.png");
    let out = ocr_quietly(&[&tiff, &good], &d.join("out"))
        .output()
        .expect("run");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    let warning = format!(
        "warning: {}: page 2 could not be read (corrupt_file): ",
        tiff.display()
    );
    assert!(stderr.lines().any(|l| l.starts_with(&warning)), "{stderr}");
    assert!(!stderr.contains("error:"), "{stderr}");
    let text = std::fs::read_to_string(d.join("out/scan/text.txt")).expect("text");
    assert_eq!(text.split('\u{c}').count(), 2, "{text:?}");
    assert!(d.join("out/scan/searchable.pdf").is_file());
    assert!(d.join("out/good/text.txt").is_file());
}

#[test]
fn a_file_with_no_text_says_so() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blank = dir.path().join("blank.png");
    image::GrayImage::from_pixel(850, 1100, image::Luma([255]))
        .save(&blank)
        .expect("png");
    let out = ocr_quietly(&[&blank], dir.path()).output().expect("run");
    assert!(out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("blank.png: no text was found"), "{stderr}");
    assert!(dir.path().join("blank/text.txt").is_file());
}

#[test]
fn a_page_too_large_to_read_says_its_size_and_the_limit_it_passes() {
    let dir = tempfile::tempdir().expect("tempdir");
    let poster = write(
        dir.path(),
        "poster.pdf",
        &hostile::oversized_page_pdf("WANTED", 200, 200),
    );
    let out = ocr_quietly(&[&poster], dir.path()).output().expect("run");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    // 200 in at 50 dpi is 10000 px a side: 100 MP, past the 25 MP OCR reads.
    assert!(
        stderr.contains("the page is 200×200 inches: even at 50 dpi that is more than the 25000000 pixels a page may have"),
        "{stderr}"
    );
    // Nothing read, nothing written: no empty page files left behind.
    assert!(!dir.path().join("poster").exists());
}

#[test]
fn page_and_language_limits_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tiff = dir.path().join("three.tif");
    let images: Vec<_> = (40..43).map(|s| page(s).image).collect();
    tiff_file::write_multipage(&images, &tiff).expect("tiff");
    let out = ocr_quietly(&[&tiff], dir.path())
        .env("SCRIBE__LIMITS__MAX_PAGES", "2")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr)
            .contains("the document has more than 2 pages, the most one may have"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );

    let out = scribe()
        .arg("ocr")
        .arg(&tiff)
        .arg("--lang")
        .arg("eng+xyz")
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("unknown OCR language `xyz`") && stderr.contains("eng"),
        "{stderr}"
    );
}

/// The binary under a 2 GiB address-space limit, as a worker pod might have.
fn limited() -> Command {
    limited_to(2 << 30)
}

/// `scribe-worker` with at most `bytes` of address space.
fn limited_to(bytes: u64) -> Command {
    let mut c = Command::new("prlimit");
    c.arg(format!("--as={bytes}"))
        .arg(env!("CARGO_BIN_EXE_scribe-worker"))
        .env("SCRIBE_ENV", "test-none")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
    c
}

/// `scribe-worker ocr` on one file, one thread, under [`limited`].
fn ocr_within_2_gib(file: &Path, out: &Path, formats: &str) -> std::process::Output {
    limited()
        .args(["ocr", "--threads", "1", "-q", "--format", formats, "--out"])
        .arg(out)
        .arg(file)
        .output()
        .expect("prlimit (util-linux)")
}

#[test]
fn a_1200_dpi_letter_scan_is_read_at_300_dpi_within_2_gib() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page =
        scribe_fixtures::render_page(&scribe_fixtures::page_text(31, 4), 1200, (8.5, 11.0), 12.0)
            .expect("render");
    let (w, h) = page.image.dimensions();
    // Bilevel, as such scans are: PBM in, G4 TIFF at 1200 dpi out (netpbm).
    let stride = (w as usize).div_ceil(8);
    let mut pbm = format!("P4\n{w} {h}\n").into_bytes();
    let mut bits = vec![0u8; stride * h as usize];
    for (x, y, p) in page.image.enumerate_pixels() {
        if p.0[0] < 128 {
            bits[y as usize * stride + x as usize / 8] |= 0x80 >> (x % 8);
        }
    }
    pbm.extend_from_slice(&bits);
    drop(page.image);
    let pbm_path = write(dir.path(), "big.pbm", &pbm);
    let out = Command::new("pnmtotiff")
        .args([
            "-g4",
            "-xresolution",
            "1200",
            "-yresolution",
            "1200",
            "-resolutionunit",
            "inch",
        ])
        .arg(&pbm_path)
        .output()
        .expect("pnmtotiff (netpbm, scripts/deps)");
    assert!(out.status.success());
    let tiff = write(dir.path(), "big.tif", &out.stdout);

    let run = ocr_within_2_gib(&tiff, &dir.path().join("out"), "txt,json,pdf");
    assert!(
        run.status.success(),
        "{:?}: {}",
        run.status,
        String::from_utf8_lossy(&run.stderr)
    );
    let json: serde_json::Value = serde_json::from_slice(
        &std::fs::read(dir.path().join("out/big/results.json")).expect("results.json"),
    )
    .expect("json");
    let p = &json["pages"][0];
    assert_eq!(p["dpi"], 1200);
    assert_eq!(
        (p["width"].as_u64(), p["height"].as_u64()),
        (Some(u64::from(w)), Some(u64::from(h)))
    );
    assert!(
        p["preprocessing"]["steps"]
            .as_array()
            .is_some_and(|s| s.iter().any(|v| v == "downsample")),
        "{p}"
    );
    // Boxes are in the 1200-dpi original's pixels.
    let widest = p["words"]
        .as_array()
        .expect("words")
        .iter()
        .filter_map(|w| Some(w["bbox"]["x"].as_u64()? + w["bbox"]["width"].as_u64()?))
        .max()
        .unwrap_or(0);
    assert!(
        widest > u64::from(w) / 2 && widest <= u64::from(w),
        "{widest}"
    );
    let text = std::fs::read_to_string(dir.path().join("out/big/text.txt")).expect("text");
    let truth = page.lines.join("\n");
    assert!(cer(&text, &truth) < 0.05, "{text}");
}

#[test]
fn a_gigapixel_image_in_a_tiny_pdf_never_aborts_the_process() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("bomb.pdf");
    pdf::write_gigapixel_page(35_000, &path).expect("pdf");
    assert!(std::fs::metadata(&path).expect("stat").len() < 1_000_000);
    let run = limited()
        .args(["ocr", "--threads", "1", "-q", "--out"])
        .arg(dir.path().join("out"))
        .arg(&path)
        .output()
        .expect("prlimit (util-linux)");
    let stderr = String::from_utf8_lossy(&run.stderr);
    // Read (a blank page) or refused with a sentence: either way an exit, not a signal.
    assert!(
        matches!(run.status.code(), Some(0 | 1)),
        "{:?}: {stderr}",
        run.status
    );
    assert!(!stderr.contains("memory allocation"), "{stderr}");
}

#[test]
fn an_object_stream_inflating_to_700_mb_is_never_inflated_by_the_worker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let inflated = 700 << 20;
    let bomb =
        hostile::object_stream_bomb_pdf("Nobody needs this object stream", inflated).expect("bomb");
    assert!(bomb.len() < inflated / 500, "{}", bomb.len());
    let path = write(dir.path(), "bomb.pdf", &bomb);
    run_within_500_mb(
        limited(),
        &path,
        "txt,pdf",
        dir.path(),
        "more than this file's budget",
    );
    let text = std::fs::read_to_string(dir.path().join("out/bomb/text.txt")).expect("text");
    assert!(text.contains("object stream"), "{text}");
    assert!(dir.path().join("out/bomb/searchable.pdf").exists());
}

#[test]
fn a_predictor_claiming_gigabyte_rows_is_never_allocated_by_the_worker() {
    let dir = tempfile::tempdir().expect("tempdir");
    let bomb = hostile::predictor_bomb_pdf("Rows as wide as the sky", 2_500_000_000).expect("pdf");
    assert!(bomb.len() < 4096, "{}", bomb.len());
    let path = write(dir.path(), "rows.pdf", &bomb);
    // Room for the worker to make the two rows, should it try: the harm shows as memory.
    run_within_500_mb(
        limited_to(8 << 30),
        &path,
        "txt",
        dir.path(),
        "more memory than the trial's limit",
    );
    let text = std::fs::read_to_string(dir.path().join("out/rows/text.txt")).expect("text");
    assert!(text.contains("sky"), "{text}");
}

/// Runs `scribe-worker ocr` on `input` through `command` (prlimit, which execs
/// the worker, so the pid is the worker's) into `dir/out`, to its end, and
/// checks that it succeeded, never held 500 MB and said `why` on stderr (kept in `dir`).
fn run_within_500_mb(mut command: Command, input: &Path, format: &str, dir: &Path, why: &str) {
    command
        .args(["ocr", "--threads", "1", "--format", format, "--out"])
        .arg(dir.join("out"))
        .arg(input);
    let log = dir.join("stderr");
    let mut child = command
        .stderr(std::fs::File::create(&log).expect("log"))
        .spawn()
        .expect("prlimit (util-linux)");
    let mut peak_kb = 0;
    let status = loop {
        peak_kb = peak_kb.max(guard::status_kb(&child.id().to_string(), "VmHWM:").unwrap_or(0));
        if let Some(status) = child.try_wait().expect("wait") {
            break status;
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    };
    let stderr = std::fs::read_to_string(&log).unwrap_or_default();
    assert_eq!(status.code(), Some(0), "{status:?}: {stderr}");
    assert!(peak_kb < 500 * 1024, "the worker held {peak_kb} kB");
    assert!(stderr.contains(why), "{stderr}");
}

#[test]
fn a_pdf_nested_deeper_than_any_document_is_read_without_parsing_its_objects() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = write(
        dir.path(),
        "nested.pdf",
        &hostile::deeply_nested_pdf("Nested brackets never stop this reader", 200_000),
    );
    let run = ocr_within_2_gib(&path, &dir.path().join("out"), "txt,pdf");
    let stderr = String::from_utf8_lossy(&run.stderr);
    // A stack overflow is a signal (SIGABRT), not an exit.
    assert_eq!(run.status.code(), Some(0), "{:?}: {stderr}", run.status);
    let text = std::fs::read_to_string(dir.path().join("out/nested/text.txt")).expect("text");
    assert!(text.contains("Nested brackets"), "{text}");
    assert!(dir.path().join("out/nested/searchable.pdf").exists());
}
