//! Receiving a multipart upload: each file is streamed to storage while it is
//! hashed, counted and sniffed, so a 1 GB upload never sits in memory. Any
//! refusal removes everything this request stored.

use actix_multipart::Multipart;
use futures_util::TryStreamExt;
use scribe_core::db::models::NewUpload;
use scribe_core::sniff::{self, DocumentKind};
use scribe_core::storage::{Store, Writer, keys};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use crate::error::ApiError;

/// Longest file name kept, in characters; the rest is display noise.
const MAX_NAME_CHARS: usize = 255;
/// Bytes read before deciding the type (PDF headers may start late).
const SNIFF_BYTES: usize = 1024;
/// Form fields other than files are small (a webhook URL is the longest).
const MAX_FIELD_BYTES: usize = 4096;

/// The parts of a job request.
pub struct Received {
    pub files: Vec<NewUpload>,
    pub language: Option<String>,
    pub outputs: Option<String>,
    /// Where to POST the job's status when it is over.
    pub webhook_url: Option<String>,
    /// Who to email when it is over.
    pub notify_email: Option<String>,
    /// Read PDF pages that have text of their own too.
    pub force_ocr: bool,
}

pub struct Limits {
    pub max_file_bytes: u64,
    pub max_request_bytes: u64,
    pub max_files: usize,
}

impl Limits {
    pub fn of(settings: &scribe_core::settings::Settings) -> Self {
        Self {
            max_file_bytes: settings.limits.max_file_bytes,
            max_request_bytes: settings.web.max_request_bytes,
            max_files: settings.web.max_files_per_job,
        }
    }
}

/// Accepts a browser form's CSRF token, which must be the form's first field
/// so that nothing is stored for a forged request.
pub type CsrfCheck<'a> = dyn Fn(&str) -> bool + 'a;

/// Reads the whole multipart body. On error the caller must call [`discard`].
/// Repeated `language` fields combine (`deu`, `eng` → `deu+eng`), as do
/// repeated `outputs` fields; empty ones are ignored.
pub async fn receive(
    store: &Writer,
    job_id: Uuid,
    form: &mut Multipart,
    limits: &Limits,
    csrf: Option<&CsrfCheck<'_>>,
) -> Result<Received, ApiError> {
    let mut received = Received {
        files: Vec::new(),
        language: None,
        outputs: None,
        webhook_url: None,
        notify_email: None,
        force_ocr: false,
    };
    let mut request_bytes = 0u64;
    let mut first = true;
    while let Some(mut field) = form.try_next().await.map_err(malformed)? {
        let name = field.name().unwrap_or_default().to_owned();
        if let Some(check) = csrf.filter(|_| std::mem::take(&mut first)) {
            let token = if name == "csrf" {
                text_field(&mut field).await?
            } else {
                String::new()
            };
            if !check(&token) {
                return Err(crate::auth::csrf_refused());
            }
            continue;
        }
        let file_name = field.content_disposition().and_then(|cd| {
            cd.get_filename().map(str::to_owned).or_else(|| {
                // RFC 5987's `filename*=UTF-8''…`, which some clients send alone.
                cd.get_filename_ext().map(|ext| match ext.charset {
                    // Latin-1's bytes are its code points.
                    actix_web::http::header::Charset::Iso_8859_1 => {
                        ext.value.iter().map(|&b| char::from(b)).collect()
                    }
                    _ => String::from_utf8_lossy(&ext.value).into_owned(),
                })
            })
        });
        match (name.as_str(), file_name) {
            // `curl -F file=<scan.pdf` sends the bytes without a file name.
            ("file" | "files" | "files[]", file_name) => {
                let file_name = file_name.unwrap_or_else(|| "upload".to_owned());
                if received.files.len() >= limits.max_files {
                    return Err(ApiError::bad(
                        "too_many_files",
                        format!(
                            "at most {} file{} per job",
                            limits.max_files,
                            if limits.max_files == 1 { "" } else { "s" }
                        ),
                    ));
                }
                let upload = store_file(
                    store,
                    job_id,
                    &mut field,
                    display_name(&file_name),
                    received.files.len(),
                    limits,
                    &mut request_bytes,
                )
                .await?;
                received.files.push(upload);
            }
            ("language" | "lang", _) => {
                join(&mut received.language, text_field(&mut field).await?, '+');
            }
            ("outputs" | "format", _) => {
                join(&mut received.outputs, text_field(&mut field).await?, ',');
            }
            ("webhook_url", _) => received.webhook_url = non_empty(text_field(&mut field).await?),
            ("notify_email", _) => {
                received.notify_email = non_empty(text_field(&mut field).await?);
            }
            ("force_ocr", _) => {
                received.force_ocr = flag("force_ocr", &text_field(&mut field).await?)?
            }
            _ => {
                // Unknown fields are drained and ignored.
                while field.try_next().await.map_err(malformed)?.is_some() {}
            }
        }
    }
    Ok(received)
}

/// A yes-or-no form field: `true`/`false`, `1`/`0`, `yes`/`no`, or `on`
/// (what a ticked checkbox sends); empty is no.
pub fn flag(name: &str, value: &str) -> Result<bool, ApiError> {
    match value.trim().to_ascii_lowercase().as_str() {
        "true" | "1" | "yes" | "on" => Ok(true),
        "false" | "0" | "no" | "off" | "" => Ok(false),
        _ => Err(ApiError::bad(
            "malformed_body",
            format!("`{name}` is true or false (or 1/0, yes/no, on/off)"),
        )),
    }
}

async fn store_file(
    store: &Writer,
    job_id: Uuid,
    field: &mut actix_multipart::Field,
    file_name: String,
    position: usize,
    limits: &Limits,
    request_bytes: &mut u64,
) -> Result<NewUpload, ApiError> {
    let upload_id = Uuid::new_v4();
    let key = keys::original(job_id, upload_id);
    let mut writer = store.create(&key).await?;
    let mut hasher = Sha256::new();
    let mut head: Vec<u8> = Vec::with_capacity(SNIFF_BYTES);
    let mut kind: Option<DocumentKind> = None;
    let mut size = 0u64;
    let outcome: Result<(), ApiError> = async {
        while let Some(chunk) = field.try_next().await.map_err(malformed)? {
            size += chunk.len() as u64;
            *request_bytes += chunk.len() as u64;
            if size > limits.max_file_bytes {
                return Err(ApiError::TooLarge {
                    code: "file_too_large",
                    message: format!(
                        "`{file_name}` is larger than the limit of {} bytes",
                        limits.max_file_bytes
                    ),
                });
            }
            if *request_bytes > limits.max_request_bytes {
                return Err(ApiError::TooLarge {
                    code: "request_too_large",
                    message: format!(
                        "the upload is larger than the limit of {} bytes",
                        limits.max_request_bytes
                    ),
                });
            }
            if kind.is_none() && head.len() < SNIFF_BYTES {
                head.extend_from_slice(&chunk[..chunk.len().min(SNIFF_BYTES - head.len())]);
                if head.len() >= SNIFF_BYTES {
                    kind = Some(sniff_or_refuse(&head, &file_name)?);
                }
            }
            hasher.update(&chunk);
            writer.write(&chunk).await?;
        }
        Ok(())
    }
    .await;
    if let Err(e) = outcome {
        writer.abort().await;
        return Err(e);
    }
    if size == 0 {
        writer.abort().await;
        return Err(ApiError::bad(
            "empty_file",
            format!("`{file_name}` is empty (0 bytes)"),
        ));
    }
    let kind = match kind {
        Some(k) => k,
        None => match sniff_or_refuse(&head, &file_name) {
            Ok(k) => k,
            Err(e) => {
                writer.abort().await;
                return Err(e);
            }
        },
    };
    writer.finish().await?;
    Ok(NewUpload {
        id: upload_id,
        job_id,
        position: position as i32,
        file_name,
        storage_key: key.to_string(),
        detected_type: kind.as_str().to_owned(),
        size_bytes: size as i64,
        sha256: hex::encode(hasher.finalize()),
    })
}

fn sniff_or_refuse(head: &[u8], file_name: &str) -> Result<DocumentKind, ApiError> {
    sniff::sniff(head).ok_or_else(|| {
        ApiError::UnsupportedType(format!(
            "`{file_name}` is {}, not a supported document; send {}",
            sniff::describe_unknown(head),
            DocumentKind::accepted()
        ))
    })
}

fn join(into: &mut Option<String>, value: String, separator: char) {
    let value = value.trim();
    if value.is_empty() {
        return;
    }
    match into {
        Some(existing) => {
            existing.push(separator);
            existing.push_str(value);
        }
        None => *into = Some(value.to_owned()),
    }
}

fn non_empty(value: String) -> Option<String> {
    let value = value.trim();
    (!value.is_empty()).then(|| value.to_owned())
}

/// Reads and drops the rest of a refused form (up to `limit` bytes), so the
/// browser that is still sending sees the error page rather than a reset connection.
pub async fn drain(form: &mut Multipart, limit: u64) {
    let mut read = 0u64;
    while let Ok(Some(mut field)) = form.try_next().await {
        while let Ok(Some(chunk)) = field.try_next().await {
            read += chunk.len() as u64;
            if read > limit {
                return;
            }
        }
    }
}

async fn text_field(field: &mut actix_multipart::Field) -> Result<String, ApiError> {
    let mut buf = Vec::new();
    while let Some(chunk) = field.try_next().await.map_err(malformed)? {
        buf.extend_from_slice(&chunk);
        if buf.len() > MAX_FIELD_BYTES {
            return Err(ApiError::bad("field_too_long", "a form field is too long"));
        }
    }
    String::from_utf8(buf)
        .map_err(|_| ApiError::bad("bad_field", "a form field is not valid UTF-8"))
}

/// The client's file name as display text: no path, no control or bidi
/// formatting characters (`invoice\u{202E}gnp.exe` would read as `invoiceexe.png`),
/// bounded with its extension kept.
pub fn display_name(raw: &str) -> String {
    let base = raw.rsplit(['/', '\\']).next().unwrap_or(raw);
    let cleaned: String = base
        .chars()
        .filter(|&c| !c.is_control() && !is_bidi_control(c))
        .collect();
    let trimmed = cleaned.trim();
    if trimmed.is_empty() || trimmed == "." || trimmed == ".." {
        return "upload".to_owned();
    }
    if trimmed.chars().count() <= MAX_NAME_CHARS {
        return trimmed.to_owned();
    }
    // A short extension is what tells the user (and the download's name) the type.
    let extension = trimmed
        .rsplit_once('.')
        .map(|(_, ext)| ext)
        .filter(|ext| !ext.is_empty() && ext.chars().count() <= 16)
        .map_or(String::new(), |ext| format!(".{ext}"));
    let keep = MAX_NAME_CHARS - extension.chars().count();
    let stem: String = trimmed.chars().take(keep).collect();
    format!("{}{extension}", stem.trim_end())
}

/// Marks and embeddings that reorder how the text around them is shown.
fn is_bidi_control(c: char) -> bool {
    matches!(c, '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}')
}

fn malformed(e: actix_multipart::MultipartError) -> ApiError {
    use actix_multipart::MultipartError as E;
    let why = match e {
        // httparse refuses control characters and over-long header lines.
        E::Parse(_) => "a part's headers could not be read: a file name holds control \
                        characters, or a header is too long; rename the file and send it again"
            .to_owned(),
        E::Payload(_) => "the body ended early or a part's headers were too long".to_owned(),
        E::Incomplete => "the body ended before its closing boundary".to_owned(),
        other => other.to_string(),
    };
    ApiError::bad(
        "malformed_multipart",
        format!("the multipart body could not be read: {why}"),
    )
}

/// Removes every object a refused request stored.
pub async fn discard(store: &Store, job_id: Uuid) {
    if let Err(e) = scribe_core::storage::delete_job(store, job_id).await {
        tracing::warn!(job = %job_id, error = %e, "refused upload's bytes stay for the orphan sweeper");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_display_text_only() {
        assert_eq!(display_name("../../etc/passwd"), "passwd");
        assert_eq!(display_name("C:\\scans\\a.pdf"), "a.pdf");
        assert_eq!(display_name("bad\0name.png"), "badname.png");
        assert_eq!(display_name(".."), "upload");
        assert_eq!(display_name(&"x".repeat(500)).chars().count(), 255);
        let long = display_name(&format!("{}.pdf", "ä".repeat(300)));
        assert_eq!(long.chars().count(), 255);
        assert!(long.ends_with("ää.pdf"), "{long}");
        assert_eq!(display_name("invoice\u{202E}gnp.exe"), "invoicegnp.exe");
        assert_eq!(display_name("\u{2067}scan\u{2069}.png"), "scan.png");
        assert_eq!(display_name("<b>hi</b>.png"), "b>.png");
    }
}
