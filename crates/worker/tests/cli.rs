//! `scribe-worker ocr` as a person runs it: outputs on disk, one line per bad
//! file, and the good files still done.

mod support;

use std::path::Path;
use std::process::Command;

use scribe_fixtures::{hostile, pdf, tiff_file};
use support::*;

fn scribe() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_scribe-worker"));
    c.env("SCRIBE_ENV", "test-none")
        .current_dir(env!("CARGO_MANIFEST_DIR"));
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
    let status = scribe()
        .arg("ocr")
        .arg(&scan)
        .arg(&photo)
        .arg("--out")
        .arg(&out)
        .arg("-q")
        .status()
        .expect("run");
    assert!(status.success());

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
    // Same stem, second input: its own directory.
    assert!(out.join("letter-2").join("results.json").is_file());
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
fn page_and_language_limits_are_refused_clearly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let tiff = dir.path().join("three.tif");
    let images: Vec<_> = (40..43).map(|s| page(s).image).collect();
    tiff_file::write_multipage(&images, &tiff).expect("tiff");
    let out = scribe()
        .env("SCRIBE__LIMITS__MAX_PAGES", "2")
        .arg("ocr")
        .arg(&tiff)
        .arg("--out")
        .arg(dir.path())
        .arg("-q")
        .output()
        .expect("run");
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("more than the limit of 2"),
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
