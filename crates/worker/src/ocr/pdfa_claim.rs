//! A PDF/A file we change without making it PDF/A again (a plain searchable
//! PDF of an archived scan, or one `pdfa::conform` turned down) no longer is
//! one: its XMP metadata must stop saying so, or validators and archives take
//! it at its word. The rest of the metadata (title, author, dates) stays.

use lopdf::{Document, Object, Stream, dictionary};

use super::pdf_stream;

/// XMP packets are a few kilobytes; past this the stream is not one to edit.
const MAX_XMP_BYTES: u64 = 4 << 20;
/// The namespace prefix of PDF/A identification (ISO 19005: `pdfaid:part`,
/// `pdfaid:conformance`, `pdfaid:amd`, `pdfaid:rev`).
const PREFIX: &str = "pdfaid:";

/// Removes the PDF/A identification from `doc`'s catalog metadata; returns
/// whether it had one. Metadata that cannot be read to edit (an unknown
/// filter, or more than an XMP packet) goes whole, as a claim cannot be ruled out.
pub fn withdraw(doc: &mut Document) -> bool {
    let Some(id) = doc
        .catalog()
        .ok()
        .and_then(|c| c.get(b"Metadata").ok())
        .and_then(|m| m.as_reference().ok())
    else {
        return false;
    };
    let xmp = match doc.get_object(id).and_then(Object::as_stream) {
        Ok(stream) => packet(stream),
        // Not a stream: nothing a reader takes for XMP.
        Err(_) => return false,
    };
    let edited = match xmp {
        Some(xmp) if !xmp.contains(PREFIX) => return false,
        Some(xmp) => Some(without_identification(&xmp)),
        None => None,
    };
    match edited {
        Some(xmp) => {
            let stream = Stream::new(
                dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
                xmp.into_bytes(),
            )
            .with_compression(false);
            doc.objects.insert(id, Object::Stream(stream));
        }
        None => {
            if let Ok(catalog) = doc.catalog_mut() {
                catalog.remove(b"Metadata");
            }
        }
    }
    true
}

/// The stream's XMP text, when it can be read (see `pdf_stream`) and is no
/// larger than a packet.
fn packet(stream: &Stream) -> Option<String> {
    pdf_stream::decoded_within(stream, MAX_XMP_BYTES)
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// `xmp` without its `pdfaid:` properties, written as elements
/// (`<pdfaid:part>2</pdfaid:part>`) or as attributes (`pdfaid:part="2"`).
/// The namespace's declaration (`xmlns:pdfaid=…`) stays: it claims nothing.
/// Only that prefix is known, the one every PDF/A writer uses.
fn without_identification(xmp: &str) -> String {
    let mut out = String::with_capacity(xmp.len());
    let mut rest = xmp;
    while let Some(at) = rest.find(PREFIX) {
        let (before, from) = rest.split_at(at);
        let name_len = from[PREFIX.len()..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '-'))
            .unwrap_or(from.len() - PREFIX.len());
        let name = &from[..PREFIX.len() + name_len];
        let after = &from[name.len()..];
        if let Some(opened) = before.strip_suffix('<') {
            // An element: up to and including its closing tag.
            let close = format!("</{name}>");
            if let Some(end) = after.find(&close) {
                out.push_str(opened);
                rest = &after[end + close.len()..];
                continue;
            }
        } else if before.ends_with(|c: char| c.is_whitespace())
            && let Some(value) = after.strip_prefix('=')
            && let Some(quote) = value.chars().next().filter(|q| *q == '"' || *q == '\'')
            && let Some(end) = value[1..].find(quote)
        {
            // An attribute: the space before it, its name and its value.
            out.push_str(before.trim_end());
            rest = &value[end + 2..];
            continue;
        }
        // Neither an element closed after it nor an attribute (a mention in
        // text, an empty element): kept, as we cannot tell what it claims.
        out.push_str(before);
        out.push_str(name);
        rest = after;
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identification_goes_as_elements_and_as_attributes_the_rest_stays() {
        let xmp = "<rdf:Description rdf:about=\"\" xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\">\n\
                   <pdfaid:part>2</pdfaid:part>\n<pdfaid:conformance>B</pdfaid:conformance>\n\
                   <dc:title>Minutes</dc:title></rdf:Description>\n\
                   <rdf:Description pdfaid:part='1' pdfaid:conformance=\"A\" xmp:CreatorTool=\"x\"/>";
        let out = without_identification(xmp);
        assert!(!out.contains("pdfaid:part"), "{out}");
        assert!(!out.contains("pdfaid:conformance"), "{out}");
        assert!(out.contains("<dc:title>Minutes</dc:title>"), "{out}");
        assert!(
            out.contains("xmlns:pdfaid=\"http://www.aiim.org/pdfa/ns/id/\""),
            "{out}"
        );
        assert!(
            out.contains("<rdf:Description xmp:CreatorTool=\"x\"/>"),
            "{out}"
        );
    }

    #[test]
    fn a_document_without_a_claim_is_left_alone_and_one_with_it_loses_it() {
        let mut doc = Document::with_version("1.7");
        let xmp = doc.add_object(Stream::new(
            dictionary! { "Type" => "Metadata", "Subtype" => "XML" },
            b"<x><pdfaid:part>2</pdfaid:part><dc:title>T</dc:title></x>".to_vec(),
        ));
        let catalog = doc.add_object(dictionary! { "Type" => "Catalog", "Metadata" => xmp });
        doc.trailer.set("Root", catalog);
        assert!(withdraw(&mut doc));
        let kept = doc
            .get_object(xmp)
            .and_then(Object::as_stream)
            .expect("metadata kept");
        assert_eq!(kept.content, b"<x><dc:title>T</dc:title></x>");
        assert!(!withdraw(&mut doc), "nothing left to withdraw");

        // Metadata behind a filter we do not edit goes whole.
        let mut odd = Stream::new(dictionary! { "Filter" => "LZWDecode" }, b"??".to_vec());
        odd.dict.set("Type", "Metadata");
        doc.objects.insert(xmp, Object::Stream(odd));
        assert!(withdraw(&mut doc));
        assert!(doc.catalog().expect("catalog").get(b"Metadata").is_err());
    }
}
