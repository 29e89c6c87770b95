//! Tesseract's API returns each page's hOCR as a bare `ocr_page` fragment; a
//! file people open needs the XHTML wrapper and capability metadata around it.

/// One hOCR document holding `pages` (fragments, in order).
pub fn document<'a>(pages: impl IntoIterator<Item = &'a str>) -> String {
    let mut out = String::from(concat!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n",
        "<!DOCTYPE html PUBLIC \"-//W3C//DTD XHTML 1.0 Transitional//EN\"\n",
        "    \"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd\">\n",
        "<html xmlns=\"http://www.w3.org/1999/xhtml\" xml:lang=\"en\" lang=\"en\">\n",
        " <head>\n  <title></title>\n",
        "  <meta http-equiv=\"Content-Type\" content=\"text/html;charset=utf-8\"/>\n",
        "  <meta name=\"ocr-system\" content=\"tesseract (via Scribe)\"/>\n",
        "  <meta name=\"ocr-capabilities\" content=\"ocr_page ocr_carea ocr_par ocr_line ocrx_word ocrp_wconf\"/>\n",
        " </head>\n <body>\n",
    ));
    for page in pages {
        out.push_str(page);
    }
    out.push_str(" </body>\n</html>\n");
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn wraps_fragments_in_order() {
        let doc = super::document([
            "<div class='ocr_page' id='page_1'></div>\n",
            "<div class='ocr_page' id='page_2'></div>\n",
        ]);
        assert!(doc.starts_with("<?xml"));
        assert!(doc.find("page_1") < doc.find("page_2"));
        assert!(doc.trim_end().ends_with("</html>"));
    }
}
