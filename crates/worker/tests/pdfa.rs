//! `outputs=pdfa`: the searchable PDF as PDF/A-2b, with the original pages
//! still as they were. Each file is checked by pdfv (veraPDF's PDF/A-2b rules,
//! as many as it runs), by qpdf for structure, and read back for the clauses
//! pdfv 0.1 does not run (metadata, output intent, identifier, fonts).

mod support;

use std::path::Path;
use std::process::Command;

use lopdf::{Document, Object};
use scribe_core::formats::Formats;
use scribe_core::settings::Settings;
use scribe_fixtures::pdf;
use support::*;

fn archival() -> Formats {
    "pdfa,txt,json".parse().expect("pdfa is a format")
}

/// pdfv from `SCRIBE_TEST_PDFV` or the PATH (scripts/test installs it).
fn pdfv() -> String {
    std::env::var("SCRIBE_TEST_PDFV").unwrap_or_else(|_| "pdfv".to_owned())
}

/// pdfv's verdict: the rules it ran, and those that failed.
fn validate(path: &Path) -> (u64, Vec<String>) {
    let out = Command::new(pdfv())
        .args(["validate", "--flavour", "pdfa-2b", "--format", "json"])
        .arg(path)
        .output()
        .unwrap_or_else(|e| {
            panic!("pdfv: {e} (scripts/test installs it: cargo install pdfv --version 0.1.1)")
        });
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "pdfv's report: {e}: {}",
            String::from_utf8_lossy(&out.stderr)
        )
    });
    let profile = &report["profileReports"][0];
    let failed = profile["failedAssertions"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|f| format!("{}: {}", f["ruleId"], f["message"]))
                .collect()
        })
        .unwrap_or_default();
    (profile["rulesExecuted"].as_u64().unwrap_or(0), failed)
}

/// Everything a PDF/A-2b reader relies on, by pdfv, qpdf and by reading the file.
fn assert_pdfa(path: &Path) {
    let (ran, failed) = validate(path);
    assert!(failed.is_empty(), "{}: {failed:#?}", path.display());
    assert!(ran >= 50, "pdfv ran only {ran} rules on {}", path.display());
    run("qpdf", &["--check", &path.to_string_lossy()]);

    let bytes = std::fs::read(path).expect("read");
    assert!(bytes.starts_with(b"%PDF-1."), "header");
    // `%PDF-1.n`, a line end, then a comment of at least four bytes over 127.
    assert_eq!(bytes[9], b'%', "a comment on the second line");
    assert!(
        bytes[10..14].iter().all(|&b| b > 127),
        "binary comment line"
    );
    let doc = Document::load_mem(&bytes).expect("lopdf reads it");
    assert!(doc.version.as_str() <= "1.7");
    assert!(!doc.trailer.has(b"Encrypt"));
    let id = doc
        .trailer
        .get(b"ID")
        .and_then(Object::as_array)
        .expect("ID");
    assert_eq!(id.len(), 2);
    let catalog = doc.catalog().expect("catalog");
    let metadata = deref(&doc, catalog.get(b"Metadata").expect("Metadata"));
    let metadata = metadata.as_stream().expect("a stream");
    assert!(
        !metadata.dict.has(b"Filter"),
        "XMP readable without decoding"
    );
    let xmp = String::from_utf8(metadata.content.clone()).expect("UTF-8 XMP");
    assert!(xmp.contains("<pdfaid:part>2</pdfaid:part>"), "{xmp}");
    assert!(
        xmp.contains("<pdfaid:conformance>B</pdfaid:conformance>"),
        "{xmp}"
    );
    let intents = deref(&doc, catalog.get(b"OutputIntents").expect("intents"));
    let intent = deref(&doc, &intents.as_array().expect("array")[0]);
    let intent = intent.as_dict().expect("dict");
    assert_eq!(
        intent.get(b"S").and_then(Object::as_name).expect("S"),
        b"GTS_PDFA1"
    );
    let profile = deref(&doc, intent.get(b"DestOutputProfile").expect("profile"));
    let profile = profile.as_stream().expect("ICC stream");
    assert_eq!(
        profile.dict.get(b"N").and_then(Object::as_i64).expect("N"),
        3
    );
    let icc = profile
        .decompressed_content()
        .unwrap_or_else(|_| profile.content.clone());
    assert_eq!(&icc[36..40], b"acsp", "an ICC profile");
    for object in doc.objects.values() {
        let dict = match object {
            Object::Dictionary(d) => d,
            Object::Stream(s) => &s.dict,
            _ => continue,
        };
        let name = |k: &[u8]| dict.get(k).and_then(Object::as_name).ok();
        if name(b"Type") == Some(b"Font".as_slice())
            && !matches!(name(b"Subtype"), Some(b"Type0" | b"Type3"))
        {
            let descriptor = deref(&doc, dict.get(b"FontDescriptor").expect("descriptor"));
            let descriptor = descriptor.as_dict().expect("dict");
            assert!(
                [b"FontFile".as_slice(), b"FontFile2", b"FontFile3"]
                    .iter()
                    .any(|k| descriptor.has(k)),
                "an embedded font program"
            );
        }
        assert_ne!(
            dict.get(b"Interpolate").and_then(Object::as_bool).ok(),
            Some(true)
        );
    }
}

fn deref<'a>(doc: &'a Document, object: &'a Object) -> &'a Object {
    doc.dereference(object).expect("dereference").1
}

/// The file claims no PDF/A part.
fn assert_plain(path: &Path) {
    let bytes = std::fs::read(path).expect("read");
    let doc = Document::load_mem(&bytes).expect("lopdf reads it");
    assert!(doc.catalog().expect("catalog").get(b"Metadata").is_err());
    assert!(!String::from_utf8_lossy(&bytes).contains("pdfaid"));
}

/// `path` read with `outputs=pdfa`: its text right and its searchable PDF a PDF/A file.
fn archived(path: &Path, truth: &str, dir: &Path) -> std::path::PathBuf {
    let (result, sink) = ocr_file_as(path, "eng", Settings::default(), archival())
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let rate = cer(&result.text(), truth);
    assert!(rate < 0.05, "{}: CER {rate}", path.display());
    let pdf = searchable(&sink, dir);
    assert_pdfa(&pdf);
    assert_eq!(said(&sink), "pdf/a-2b");
    pdf
}

/// What `results.json` says the searchable PDF is.
fn said(sink: &MemorySink) -> String {
    let json = sink.json.as_ref().expect("results.json");
    json["searchable_pdf"]
        .as_str()
        .unwrap_or("absent")
        .to_owned()
}

#[test]
fn image_pages_become_pdfa_with_their_pixels_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(41);
    let truth = page.text();

    let png = gray_png_at(&page.image, 11811, &dir.path().join("scan.png"));
    let pdf = archived(&png, &truth, dir.path());
    let text = run("pdftotext", &[&pdf.to_string_lossy(), "-"]);
    assert!(word_recall(&text, &truth) > 0.9, "{text}");

    let jpeg = dir.path().join("photo.jpg");
    blue_on_cream(&page.image).save(&jpeg).expect("jpeg");
    let imgs = images(&archived(&jpeg, &truth, dir.path()));
    let kept = (imgs[0].2.as_str(), imgs[0].4.as_str());
    assert_eq!(kept, ("rgb", "jpeg"), "passed through");

    let tiff = dir.path().join("fax.tif");
    g4_tiff(&page.image, "-miniswhite", &tiff);
    let imgs = images(&archived(&tiff, &truth, dir.path()));
    assert_eq!((imgs[0].3, imgs[0].4.as_str()), (1, "ccitt"), "1-bit kept");

    // JPEG 2000 is stored decoded: PDF/A constrains its colour boxes.
    let jp2 = dir.path().join("archive.jp2");
    let pgm = dir.path().join("archive.pgm");
    let (w, h) = page.image.dimensions();
    let mut bytes = format!("P5\n{w} {h}\n255\n").into_bytes();
    bytes.extend_from_slice(page.image.as_raw());
    std::fs::write(&pgm, bytes).expect("pgm");
    let (pgm, jp2_name) = (pgm.to_string_lossy(), jp2.to_string_lossy());
    run("opj_compress", &["-i", &pgm, "-o", &jp2_name, "-r", "20"]);
    let imgs = images(&archived(&jp2, &truth, dir.path()));
    assert_eq!(
        (imgs[0].2.as_str(), imgs[0].4.as_str()),
        ("gray", "image"),
        "{imgs:?}"
    );
}

#[test]
fn a_scanned_pdf_keeps_its_page_objects_and_becomes_pdfa() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(42);
    let path = dir.path().join("scan.pdf");
    pdf::write_scanned(std::slice::from_ref(&page.image), 300, &path).expect("pdf");
    let (_, sink) = ocr_file_as(&path, "eng", Settings::default(), archival()).expect("ocr");
    let out = dir.path().join("archived.pdf");
    std::fs::rename(searchable(&sink, dir.path()), &out).expect("rename");
    assert_pdfa(&out);
    assert_eq!(
        images(&out),
        images(&path),
        "the page's own image, unchanged"
    );
    let text = run("pdftotext", &[&out.to_string_lossy(), "-"]);
    assert!(word_recall(&text, &page.text()) > 0.9, "{text}");

    // Without `pdfa` the same file claims nothing.
    let (_, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    assert_plain(&searchable(&sink, dir.path()));

    // The PDF/A file read again and changed (its page OCR'd, a layer
    // grafted on), written plain: it keeps its metadata but no longer
    // claims to be PDF/A.
    let mut forced = Settings::default();
    forced.ocr.skip_text = false;
    let (_, sink) = ocr_file(&out, "eng", forced).expect("ocr");
    assert_eq!(said(&sink), "pdf");
    let plain = searchable(&sink, dir.path());
    let doc = Document::load(&plain).expect("lopdf reads it");
    let metadata = deref(
        &doc,
        doc.catalog()
            .expect("catalog")
            .get(b"Metadata")
            .expect("kept"),
    );
    let xmp =
        String::from_utf8_lossy(&metadata.as_stream().expect("a stream").content).into_owned();
    assert!(
        !xmp.contains("pdfaid:part") && !xmp.contains("pdfaid:conformance"),
        "{xmp}"
    );
    assert!(
        xmp.contains("<dc:title>"),
        "the rest of the metadata stays: {xmp}"
    );
}

#[test]
fn a_pdf_whose_fonts_are_not_embedded_stays_plain_with_its_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = vec![
        "Quarterly figures for the northern region".to_owned(),
        "Revenue rose by eleven percent".to_owned(),
    ];
    let path = dir.path().join("report.pdf");
    // Helvetica, referenced by name: PDF/A needs the font program in the file.
    pdf::write_text(std::slice::from_ref(&lines), &path).expect("pdf");
    let (_, sink) = ocr_file_as(&path, "eng", Settings::default(), archival()).expect("ocr");
    let out = searchable(&sink, dir.path());
    assert_plain(&out);
    assert_eq!(said(&sink), "pdf", "results.json does not claim PDF/A");
    let text = run("pdftotext", &[&out.to_string_lossy(), "-"]);
    for line in &lines {
        assert!(text.contains(line.as_str()), "{text}");
    }
}

#[test]
fn pdfv_refuses_a_file_whose_claim_is_wrong() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(43);
    let png = save_png(&page.image, dir.path(), "scan.png");
    let (_, sink) = ocr_file_as(&png, "eng", Settings::default(), archival()).expect("ocr");
    let good = searchable(&sink, dir.path());
    let mut bytes = std::fs::read(&good).expect("read");
    // One byte changed in place, so every offset stays true: only the claimed part differs.
    let claim = b"<pdfaid:part>2<";
    let at = bytes
        .windows(claim.len())
        .position(|w| w == claim)
        .expect("the claim");
    bytes[at + claim.len() - 2] = b'9';
    let bad = dir.path().join("bad.pdf");
    std::fs::write(&bad, &bytes).expect("write");
    let (_, failed) = validate(&bad);
    assert!(
        failed.iter().any(|f| f.contains("6-6-4")),
        "pdfv did not see the wrong part: {failed:?}"
    );
}

#[test]
fn a_cmyk_jpeg_stays_cmyk_in_a_plain_pdf_and_becomes_rgb_in_pdfa() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(44);
    let cream = blue_on_cream(&page.image);
    let (w, h) = cream.dimensions();
    // The same colours as ink: K is what no channel lifts, C/M/Y the rest.
    let cmyk: Vec<u8> = cream
        .pixels()
        .flat_map(|p| {
            let [r, g, b] = p.0.map(|c| f32::from(c) / 255.0);
            let k = 1.0 - r.max(g).max(b);
            let ink = |c: f32| ((1.0 - c - k) / (1.0 - k).max(1e-6) * 255.0).round() as u8;
            [ink(r), ink(g), ink(b), (k * 255.0).round() as u8]
        })
        .collect();
    let path = dir.path().join("print.jpg");
    jpeg_encoder::Encoder::new_file(&path, 92)
        .expect("create")
        .encode(
            &cmyk,
            u16::try_from(w).expect("width"),
            u16::try_from(h).expect("height"),
            jpeg_encoder::ColorType::Cmyk,
        )
        .expect("encode");

    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    assert!(
        cer(&result.text(), &page.text()) < 0.05,
        "{}",
        result.text()
    );
    let plain = searchable(&sink, dir.path());
    let imgs = images(&plain);
    assert_eq!(
        (imgs[0].2.as_str(), imgs[0].4.as_str()),
        ("cmyk", "jpeg"),
        "passed through"
    );
    let (plain_r, _, plain_b) = rendered_rgb(&plain);
    assert!(
        plain_r > plain_b + 15.0,
        "cream paper: {plain_r} vs {plain_b}"
    );

    let (_, sink) = ocr_file_as(&path, "eng", Settings::default(), archival()).expect("ocr");
    let archived = searchable(&sink, dir.path());
    assert_pdfa(&archived);
    let imgs = images(&archived);
    assert_eq!((imgs[0].0, imgs[0].1, imgs[0].2.as_str()), (w, h, "rgb"));
    let (r, g, b) = rendered_rgb(&archived);
    assert!(r > b + 15.0, "cream paper: {r} {g} {b}");
    assert!(
        (r - plain_r).abs() < 8.0,
        "the same colours as the original: {r} vs {plain_r}"
    );
}

/// Mean red, green and blue of the PDF's first page rendered at 50 dpi.
fn rendered_rgb(pdf: &Path) -> (f64, f64, f64) {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = dir.path().join("r");
    run(
        "pdftoppm",
        &[
            "-r",
            "50",
            "-singlefile",
            &pdf.to_string_lossy(),
            &root.to_string_lossy(),
        ],
    );
    let rgb = image::open(root.with_extension("ppm"))
        .expect("render")
        .into_rgb8();
    let n = f64::from(rgb.width() * rgb.height());
    let [r, g, b] = [0, 1, 2].map(|c| rgb.pixels().map(|p| f64::from(p.0[c])).sum::<f64>() / n);
    (r, g, b)
}

#[test]
fn a_pdf_that_would_overflow_the_parser_is_read_through_poppler_in_process() {
    // In this process, on a test thread's 2 MiB stack: without the child's trial
    // parse, lopdf would abort the whole test binary here.
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("nested.pdf");
    let text = "Brackets nested two hundred thousand deep";
    std::fs::write(
        &path,
        scribe_fixtures::hostile::deeply_nested_pdf(text, 200_000),
    )
    .expect("write");
    let (result, sink) = ocr_file_as(&path, "eng", Settings::default(), archival()).expect("ocr");
    assert!(
        result.text().contains("Brackets nested"),
        "{}",
        result.text()
    );
    let out = searchable(&sink, dir.path());
    assert_eq!(images(&out).len(), 1, "the page as poppler renders it");
}
