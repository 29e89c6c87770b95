//! Recognition quality on generated scans: clean, turned, skewed, noisy, and
//! in every container format, scored against the known text.

mod support;

use scribe_core::results::PageSource;
use scribe_core::settings::Settings;
use scribe_fixtures::{page_text, pdf, render, render_page, tiff_file};
use support::*;

#[test]
fn a_clean_scan_reads_within_two_percent_with_boxes_inside_the_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(1);
    let path = save_png(&page.image, dir.path(), "clean.png");
    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");

    let rate = cer(&result.text(), &page.text());
    assert!(rate <= 0.02, "CER {rate:.4}: {:?}", result.text());
    assert_eq!(result.page_count, 1);
    let p = &result.pages[0];
    assert_eq!((p.width, p.height), page.image.dimensions());
    assert!(p.words.len() >= 30, "{} words", p.words.len());
    for w in &p.words {
        assert!(
            w.bbox.x + w.bbox.width <= p.width && w.bbox.y + w.bbox.height <= p.height,
            "{w:?}"
        );
        assert!((0.0..=100.0).contains(&w.confidence));
    }
    assert!(p.mean_confidence.is_some_and(|c| c > 80.0));
    let hocr = sink.pages[0].1.as_deref().expect("hOCR");
    assert!(hocr.contains("ocrx_word") && hocr.contains("bbox"));
    let preview = image::load_from_memory(sink.pages[0].2.as_deref().expect("preview"))
        .expect("preview is an image");
    assert_eq!(preview.width(), Settings::default().ocr.preview_width);
}

#[test]
fn turned_pages_are_set_upright() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (turn, seed) in [(90u16, 2u64), (180, 3), (270, 4)] {
        let page = page(seed);
        let turned = scribe_core::preprocess::rotate_quarter(&page.image, turn);
        let path = save_png(&turned, dir.path(), &format!("turned-{turn}.png"));
        let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
        let p = &result.pages[0];
        assert_eq!(
            (p.rotation_applied + turn) % 360,
            0,
            "turned {turn}, applied {}",
            p.rotation_applied
        );
        let rate = cer(&result.text(), &page.text());
        assert!(rate <= 0.05, "turned {turn}: CER {rate:.4}");
    }
}

#[test]
fn skewed_and_noisy_scans_read_within_five_percent() {
    let dir = tempfile::tempdir().expect("tempdir");
    for (degrees, seed) in [(3.0f32, 5u64), (-5.0, 6), (7.0, 7)] {
        let page = page(seed);
        let skewed = render::skew(&page.image, degrees);
        let path = save_png(&skewed, dir.path(), &format!("skew-{seed}.png"));
        let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
        let p = &result.pages[0];
        assert!(
            (p.skew_corrected + degrees).abs() < 0.5,
            "skewed {degrees}, corrected {}",
            p.skew_corrected
        );
        let rate = cer(&result.text(), &page.text());
        assert!(rate <= 0.05, "skew {degrees}: CER {rate:.4}");
    }
    let page = page(8);
    let path = save_png(&render::noise(&page.image, 8), dir.path(), "noisy.png");
    let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let rate = cer(&result.text(), &page.text());
    assert!(rate <= 0.05, "noisy: CER {rate:.4}");
}

#[test]
fn every_image_format_is_read_from_its_bytes_not_its_name() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(9);
    // Deliberately misleading extensions: the type comes from magic bytes.
    for (format, name) in [
        (image::ImageFormat::Jpeg, "photo.png"),
        (image::ImageFormat::Bmp, "scan.jpg"),
        (image::ImageFormat::Gif, "scan.tif"),
        (image::ImageFormat::WebP, "scan.bmp"),
        (image::ImageFormat::Png, "scan.webp"),
    ] {
        let path = dir.path().join(name);
        image::DynamicImage::ImageLuma8(page.image.clone())
            .into_rgb8()
            .save_with_format(&path, format)
            .expect("encode fixture");
        let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
        let rate = cer(&result.text(), &page.text());
        assert!(rate <= 0.03, "{format:?}: CER {rate:.4}");
    }
}

#[test]
fn a_multipage_tiff_gives_every_page_in_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages: Vec<_> = (10..13).map(page).collect();
    let path = dir.path().join("three.tiff");
    tiff_file::write_multipage(
        &pages.iter().map(|p| p.image.clone()).collect::<Vec<_>>(),
        &path,
    )
    .expect("tiff");
    let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    assert_eq!(result.page_count, 3);
    for (got, want) in result.pages.iter().zip(&pages) {
        let rate = cer(&got.text, &want.text());
        assert!(rate <= 0.02, "page {}: CER {rate:.4}", got.number);
    }
}

#[test]
fn a_scanned_pdf_becomes_a_searchable_pdf_with_every_page() {
    let dir = tempfile::tempdir().expect("tempdir");
    let pages: Vec<_> = (13..15).map(page).collect();
    let path = dir.path().join("scan.pdf");
    pdf::write_scanned(
        &pages.iter().map(|p| p.image.clone()).collect::<Vec<_>>(),
        200,
        &path,
    )
    .expect("pdf");
    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    assert_eq!(result.page_count, 2);
    // The page images are 300-dpi pixels declared as 200 dpi: rendered at native resolution.
    assert_eq!(result.pages[0].dpi, Some(200));
    assert_eq!(result.pages[0].width, pages[0].image.width());

    let out = dir.path().join("searchable.pdf");
    std::fs::write(&out, sink.pdf.expect("searchable PDF")).expect("write");
    let info = std::process::Command::new("pdfinfo")
        .arg(&out)
        .output()
        .expect("pdfinfo");
    let info = String::from_utf8_lossy(&info.stdout);
    assert!(
        info.lines()
            .any(|l| l.split_whitespace().eq(["Pages:", "2"])),
        "{info}"
    );
    for (n, page) in pages.iter().enumerate() {
        let n = (n + 1).to_string();
        let text = std::process::Command::new("pdftotext")
            .args(["-layout", "-f", &n, "-l", &n])
            .arg(&out)
            .arg("-")
            .output()
            .expect("pdftotext");
        let text = String::from_utf8_lossy(&text.stdout);
        let rate = cer(&text, &page.text());
        assert!(rate <= 0.05, "page {n} text layer CER {rate:.4}: {text}");
    }
}

#[test]
fn skip_text_keeps_a_born_digital_pages_own_text() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = vec![
        "Quarterly report for the northern region".to_owned(),
        "Revenue grew by twelve percent over the previous year".to_owned(),
    ];
    let path = dir.path().join("digital.pdf");
    pdf::write_text(std::slice::from_ref(&lines), &path).expect("pdf");
    let mut settings = Settings::default();
    settings.ocr.skip_text = true;
    let (result, sink) = ocr_file(&path, "eng", settings).expect("ocr");
    let p = &result.pages[0];
    assert_eq!(p.source, PageSource::TextLayer);
    assert_eq!(cer(&p.text, &lines.join("\n")), 0.0, "{:?}", p.text);
    assert!(sink.pdf.is_some());

    // Forced OCR (skip_text off) reads the same page through the engine.
    let mut forced = Settings::default();
    forced.ocr.skip_text = false;
    let (result, _) = ocr_file(&path, "eng", forced).expect("ocr");
    assert_eq!(result.pages[0].source, PageSource::Ocr);
    assert!(cer(&result.pages[0].text, &lines.join("\n")) <= 0.05);
}

#[test]
fn a_born_digital_page_in_two_columns_keeps_its_reading_order() {
    let dir = tempfile::tempdir().expect("tempdir");
    let column = |words: &[&str]| -> Vec<String> {
        words
            .iter()
            .map(|w| format!("{w} is set in this column"))
            .collect()
    };
    let left = column(&["Alpha", "Bravo", "Charlie", "Delta"]);
    let right = column(&["Echo", "Foxtrot", "Golf", "Hotel"]);
    let path = dir.path().join("columns.pdf");
    pdf::write_two_columns(&left, &right, &path).expect("pdf");
    let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    assert_eq!(p.source, PageSource::TextLayer);
    let want = [left, right].concat().join("\n");
    assert_eq!(
        p.text.split_whitespace().collect::<Vec<_>>(),
        want.split_whitespace().collect::<Vec<_>>(),
        "{:?}",
        p.text
    );
}

#[test]
fn a_scan_whose_text_layer_is_only_a_stamp_is_read_and_one_that_holds_its_text_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scan = page(71);
    let stamped = dir.path().join("stamped.pdf");
    let stamp = pdf::OverScan::Stamp("ACME-000123 Confidential");
    pdf::write_scan_with_text(&scan.image, DPI, stamp, &stamped).expect("pdf");
    let (result, sink) = ocr_file(&stamped, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    assert_eq!(
        p.source,
        PageSource::Ocr,
        "the scan is read, not just its stamp"
    );
    // The stamp is on the page too, below the scan's text.
    let want = format!("{}\nACME-000123 Confidential", scan.text());
    let rate = cer(&p.text, &want);
    assert!(rate <= 0.03, "CER {rate:.4}: {:?}", p.text);
    // The stamp stays on the searchable page as its own text; the layer grafted
    // on holds the scan's words but not the stamp's again.
    let searchable = dir.path().join("stamped-searchable.pdf");
    std::fs::write(&searchable, sink.pdf.expect("searchable PDF")).expect("write");
    let text = std::process::Command::new("pdftotext")
        .args(["-raw"])
        .arg(&searchable)
        .arg("-")
        .output()
        .expect("pdftotext");
    let text = String::from_utf8_lossy(&text.stdout);
    assert_eq!(text.matches("ACME-000123").count(), 1, "{text}");
    assert_eq!(text.matches("Confidential").count(), 1, "{text}");
    // In the order drawn: the page's own text, then the layer over it.
    let drawn = format!("ACME-000123 Confidential\n{}", scan.text());
    let rate = cer(&text, &drawn);
    assert!(rate <= 0.05, "searchable PDF's text CER {rate:.4}: {text}");

    // A layer holding the page's words where they stand (as an earlier OCR,
    // here our own, leaves) is not read again.
    let scanned = dir.path().join("scanned.pdf");
    pdf::write_scanned(std::slice::from_ref(&scan.image), DPI, &scanned).expect("pdf");
    let (_, sink) = ocr_file(&scanned, "eng", Settings::default()).expect("ocr");
    let layered = dir.path().join("layered.pdf");
    std::fs::write(&layered, sink.pdf.expect("searchable PDF")).expect("write");
    let (result, _) = ocr_file(&layered, "eng", Settings::default()).expect("ocr");
    assert_eq!(result.pages[0].source, PageSource::TextLayer);
}

#[test]
fn a_memo_with_a_scan_pasted_in_is_read_whole_and_each_word_is_found_once() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The scan holds a short notice; the memo's own text has more letters.
    let scan = render_page(&page_text(75, 1), DPI, PAGE_INCHES, 12.0).expect("render");
    let memo: Vec<String> = [
        "MEMO to all staff from the office of the registrar, fourth of May.",
        "Please find below the notice that was posted in the main hall.",
        "It explains the new rules for essays and outstanding invoices.",
        "Questions about it should go to the front desk before June.",
    ]
    .map(str::to_owned)
    .to_vec();
    let path = dir.path().join("memo.pdf");
    pdf::write_scan_with_text(&scan.image, DPI, pdf::OverScan::Memo(&memo), &path).expect("pdf");
    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    // Judged by amounts alone (OCR half as much again as the memo's letters,
    // and 100 more) the memo's own text was kept and the notice lost.
    assert_eq!(p.source, PageSource::Ocr, "{:?}", p.text);
    let whole = format!("{}\n{}", memo.join("\n"), scan.text());
    let rate = cer(&p.text, &whole);
    assert!(rate <= 0.05, "CER {rate:.4}: {:?}", p.text);
    // The memo's lines are the page's own text; the layer adds the notice only.
    let text = run(
        "pdftotext",
        &[
            "-raw",
            &searchable(&sink, dir.path()).to_string_lossy(),
            "-",
        ],
    );
    assert_eq!(text.matches("registrar").count(), 1, "{text}");
    let rate = cer(&text, &whole);
    assert!(rate <= 0.05, "searchable PDF's text CER {rate:.4}: {text}");
}

/// `scan` as a scanned PDF at `path` with an earlier OCR's invisible layer
/// over it: the tesseract command's reading of `read`, the part of the scan
/// it saw, laid on the page as OCRmyPDF lays its layers.
fn scan_with_earlier_ocr(scan: &image::GrayImage, read: &image::GrayImage, path: &std::path::Path) {
    let dir = path.parent().expect("a folder");
    let scanned = dir.join("scanned.pdf");
    pdf::write_scanned(std::slice::from_ref(scan), DPI, &scanned).expect("pdf");
    let seen = gray_png_at(read, 11_811, &dir.join("seen.png"));
    let layer = dir.join("layer");
    run(
        "tesseract",
        &[
            &seen.to_string_lossy(),
            &layer.to_string_lossy(),
            "-l",
            "eng",
            "-c",
            "textonly_pdf=1",
            "pdf",
        ],
    );
    run(
        "qpdf",
        &[
            &scanned.to_string_lossy(),
            "--overlay",
            &layer.with_extension("pdf").to_string_lossy(),
            "--",
            &path.to_string_lossy(),
        ],
    );
}

/// `page` above row `cut`, blank below: what an earlier OCR saw of it.
fn top_of(page: &image::GrayImage, cut: u32) -> image::GrayImage {
    image::GrayImage::from_fn(page.width(), page.height(), |x, y| {
        if y < cut {
            *page.get_pixel(x, y)
        } else {
            image::Luma([255])
        }
    })
}

#[test]
fn a_scan_an_earlier_ocr_read_in_part_is_read_whole_and_one_it_read_whole_is_kept() {
    let dir = tempfile::tempdir().expect("tempdir");
    // A letter page full of small print: its top half alone holds over 2,000 letters.
    let scan = render_page(&page_text(77, 90), DPI, (8.5, 11.0), 10.0).expect("render");
    let whole = dir.path().join("whole.pdf");
    scan_with_earlier_ocr(&scan.image, &scan.image, &whole);
    let (result, _) = ocr_file(&whole, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    assert_eq!(
        p.source,
        PageSource::TextLayer,
        "a layer that covers its scan is kept"
    );
    let rate = cer(&p.text, &scan.text());
    assert!(rate <= 0.05, "CER {rate:.4}");

    // The earlier OCR saw only the top 60% of the sheet.
    let top = top_of(&scan.image, scan.image.height() * 3 / 5);
    let partial = dir.path().join("partial.pdf");
    scan_with_earlier_ocr(&scan.image, &top, &partial);
    let layer = run("pdftotext", &[&partial.to_string_lossy(), "-"]);
    let letters = layer.chars().filter(|c| c.is_alphanumeric()).count();
    assert!(letters > 2000, "{letters} letters in the layer");
    let (result, _) = ocr_file(&partial, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    // Judged by its length alone the layer was kept, and the rest of the page lost.
    assert_eq!(p.source, PageSource::Ocr);
    let rate = cer(&p.text, &scan.text());
    assert!(rate <= 0.05, "CER {rate:.4}: {:?}", p.text);
}

#[test]
fn a_scan_read_past_an_earlier_ocr_s_layer_has_only_the_new_reading_in_its_pdf() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scan = render_page(&page_text(85, 40), DPI, (8.5, 11.0), 11.0).expect("render");
    // The earlier OCR's layer is another page's top third: it stands on part
    // of this page's ink and says something else there.
    let other = render_page(&page_text(86, 40), DPI, (8.5, 11.0), 11.0).expect("render");
    let top = top_of(&other.image, other.image.height() / 3);
    let path = dir.path().join("mislaid.pdf");
    scan_with_earlier_ocr(&scan.image, &top, &path);

    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    assert_eq!(p.source, PageSource::Ocr);
    assert!(p.replaced_text_layer);
    let rate = cer(&p.text, &scan.text());
    assert!(rate <= 0.05, "CER {rate:.4}: {:?}", p.text);
    // Kept, the old words would stand in the PDF where the page has others.
    let out = searchable(&sink, dir.path());
    let text = run("pdftotext", &["-raw", &out.to_string_lossy(), "-"]);
    assert_each_word_once(&text, &scan.text());
    let precision = word_recall(&scan.text(), &text);
    assert!(precision > 0.9, "{precision}: {text}");
}

#[test]
fn an_earlier_ocr_that_read_its_scan_upside_down_gives_way_to_a_reading() {
    let dir = tempfile::tempdir().expect("tempdir");
    let scan = render_page(&page_text(83, 40), DPI, (8.5, 11.0), 11.0).expect("render");
    // The sheet went through the scanner upside down, and its OCR read it as it lay.
    let turned = image::imageops::rotate180(&scan.image);
    let path = dir.path().join("upside-down.pdf");
    scan_with_earlier_ocr(&turned, &turned, &path);
    let layer = run("pdftotext", &[&path.to_string_lossy(), "-"]);
    assert!(
        word_recall(&layer, &scan.text()) < 0.2,
        "the earlier OCR read the page: {layer}"
    );

    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    // It stands on every line, so by coverage alone it was kept.
    assert_eq!(p.source, PageSource::Ocr);
    assert!(p.replaced_text_layer);
    assert_eq!(p.rotation_applied, 180);
    let rate = cer(&p.text, &scan.text());
    assert!(rate <= 0.05, "CER {rate:.4}: {:?}", p.text);
    // The searchable PDF holds the new reading in the earlier one's place.
    let out = searchable(&sink, dir.path());
    let text = run("pdftotext", &["-raw", &out.to_string_lossy(), "-"]);
    assert_each_word_once(&text, &scan.text());

    // Its middle a photograph's blank: the layer is judged on what the page has.
    let (height, blank) = (scan.image.height(), 25..80);
    let sparse = image::GrayImage::from_fn(scan.image.width(), height, |x, y| {
        if blank.contains(&(y * 100 / height)) {
            image::Luma([255])
        } else {
            *turned.get_pixel(x, y)
        }
    });
    let path = dir.path().join("upside-down-sparse.pdf");
    scan_with_earlier_ocr(&sparse, &sparse, &path);
    let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    assert!(p.replaced_text_layer, "{:?}", p.text);
    assert!(p.text.split_whitespace().count() > 100, "{:?}", p.text);
    // Nearly every word read is one of the page's (the lines the blank cuts
    // in half aside); the earlier layer's are not.
    let precision = word_recall(&scan.text(), &p.text);
    assert!(precision > 0.8, "{precision}: {:?}", p.text);
}

#[test]
fn where_a_scan_has_text_of_its_own_the_reading_takes_its_spelling() {
    let dir = tempfile::tempdir().expect("tempdir");
    // The page's own text says 4712 where its ink says 4711: an exact Bates
    // number over a scan, say, where the engine would read a digit wrong.
    let sentences = |number: &str| {
        let mut s = page_text(79, 3);
        s.push(format!("Our reference is ACME-00{number}-B."));
        s
    };
    let scan = render_page(&sentences("4711"), DPI, PAGE_INCHES, 12.0).expect("render");
    let own = render_page(&sentences("4712"), DPI, PAGE_INCHES, 12.0).expect("render");
    // Only the rows where the two differ, and the line around them: the page's
    // own text is that one line.
    let rows: Vec<u32> = (0..scan.image.height())
        .filter(|&y| {
            (0..scan.image.width()).any(|x| scan.image.get_pixel(x, y) != own.image.get_pixel(x, y))
        })
        .collect();
    let (first, last) = (rows[0].saturating_sub(30), rows[rows.len() - 1] + 30);
    let line = image::GrayImage::from_fn(own.image.width(), own.image.height(), |x, y| {
        if (first..=last).contains(&y) {
            *own.image.get_pixel(x, y)
        } else {
            image::Luma([255])
        }
    });
    let path = dir.path().join("referenced.pdf");
    scan_with_earlier_ocr(&scan.image, &line, &path);
    let layer = run("pdftotext", &[&path.to_string_lossy(), "-"]);
    assert!(layer.contains("ACME-004712-B"), "{layer}");

    let (result, sink) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    assert_eq!(p.source, PageSource::Ocr, "the rest of the scan is read");
    assert!(p.text.contains("ACME-004712-B"), "{:?}", p.text);
    assert!(!p.text.contains("4711"), "{:?}", p.text);
    assert!(
        p.words.iter().any(|w| w.text == "ACME-004712-B."),
        "{:?}",
        p.words
    );
    let hocr = sink.pages[0].1.as_deref().expect("hOCR");
    assert!(hocr.contains(">ACME-004712-B.</span>"), "{hocr}");
    assert!(!hocr.contains("4711"), "{hocr}");
    let rate = cer(&p.text, &own.text());
    assert!(rate <= 0.03, "CER {rate:.4}: {:?}", p.text);
}

#[test]
fn a_page_photographed_in_uneven_light_is_read_evenly() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(73);
    let (w, h) = page.image.dimensions();
    // Lit from the top left; the far corner gets a third of the light.
    let lit = image::GrayImage::from_fn(w, h, |x, y| {
        let reach = (f64::from(x) / f64::from(w) + f64::from(y) / f64::from(h)) / 2.0;
        let light = 1.0 - 0.65 * reach;
        let ink = f64::from(page.image.get_pixel(x, y).0[0]);
        image::Luma([(ink * light).round() as u8])
    });
    let path = save_png(&lit, dir.path(), "photo.png");
    let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let p = &result.pages[0];
    assert!(
        p.preprocessing.steps.contains(&"flatten".to_owned()),
        "{:?}",
        p.preprocessing.steps
    );
    let rate = cer(&p.text, &page.text());
    assert!(rate <= 0.03, "CER {rate:.4}: {:?}", p.text);

    let mut unflattened = Settings::default();
    unflattened.preprocess.flatten = false;
    let (plain, _) = ocr_file(&path, "eng", unflattened).expect("ocr");
    // Measured: 0.079 without, against under 0.03 with.
    let plain_rate = cer(&plain.pages[0].text, &page.text());
    assert!(plain_rate > rate, "without flattening: CER {plain_rate:.4}");
}

#[test]
fn german_and_english_together() {
    let dir = tempfile::tempdir().expect("tempdir");
    let lines = vec![
        "Die Straße vor dem Rathaus wird im Frühjahr erneuert.".to_owned(),
        "Bitte überweisen Sie den Betrag innerhalb von zwei Wochen.".to_owned(),
    ];
    let page = scribe_fixtures::render_page(&lines, DPI, PAGE_INCHES, 12.0).expect("render");
    let path = save_png(&page.image, dir.path(), "deutsch.png");
    let (result, _) = ocr_file(&path, "deu+eng", Settings::default()).expect("ocr");
    assert_eq!(result.language, "deu+eng");
    let rate = cer(&result.text(), &page.text());
    assert!(rate <= 0.02, "CER {rate:.4}: {}", result.text());
}

#[test]
fn a_blank_page_is_empty_text_not_an_error() {
    let dir = tempfile::tempdir().expect("tempdir");
    let blank = image::GrayImage::from_pixel(1200, 900, image::Luma([255]));
    let path = save_png(&blank, dir.path(), "blank.png");
    let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("blank page is fine");
    assert_eq!(result.pages[0].text.trim(), "");
    assert!(result.pages[0].words.is_empty());
    assert_eq!(result.mean_confidence, None);
}

#[test]
fn a_transparent_background_reads_as_white_paper() {
    let dir = tempfile::tempdir().expect("tempdir");
    let page = page(15);
    // Black text whose background is fully transparent black, as screenshot tools export it.
    let rgba = image::RgbaImage::from_fn(page.image.width(), page.image.height(), |x, y| {
        let ink = 255 - page.image.get_pixel(x, y)[0];
        image::Rgba([0, 0, 0, ink])
    });
    let path = dir.path().join("transparent.png");
    rgba.save(&path).expect("write");
    let (result, _) = ocr_file(&path, "eng", Settings::default()).expect("ocr");
    let rate = cer(&result.text(), &page.text());
    assert!(rate <= 0.02, "CER {rate:.4}: {}", result.text());
}
