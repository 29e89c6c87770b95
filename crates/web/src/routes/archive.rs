//! `GET /api/v1/jobs/{id}/archive.zip`: every output of a finished job in one
//! ZIP. The archive is written while it is sent: each stored object is copied
//! through in chunks and nothing is held whole, so a job of any size costs the
//! replica the same few hundred kilobytes.

use std::collections::HashSet;

use actix_web::{HttpResponse, get, web};
use async_zip::tokio::write::ZipFileWriter;
use async_zip::{Compression, ZipDateTime, ZipDateTimeBuilder, ZipEntryBuilder};
use futures_util::{StreamExt, TryStreamExt};
use object_store::ObjectStoreExt;
use object_store::path::Path;
use scribe_core::job::Status;
use scribe_core::storage::{Store, keys};
use tokio::io::AsyncWriteExt;
use tokio_util::compat::FuturesAsyncWriteCompatExt;

use super::downloads::{Output, attachment, stem};
use super::jobs::{files_of, owned_job};
use crate::auth::Owner;
use crate::error::ApiError;
use crate::state::AppState;

/// Bytes between the ZIP writer and the response: the replica's whole buffer.
const PIPE_BYTES: usize = 256 * 1024;

/// One member of the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Member {
    name: String,
    key: Path,
    /// Text is deflated; PDFs and images are compressed already.
    deflate: bool,
}

#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/archive.zip",
    tag = "jobs",
    params(
        ("id" = uuid::Uuid, Path, description = "The job"),
    ),
    responses(
        (status = 200, description = "Every output of the job, zipped as it streams", content_type = "application/zip", body = String),
        (status = 401, description = "Missing or invalid API key", body = crate::error::ErrorEnvelope),
        (status = 404, description = "No such job (or not this owner's), or no such part of it", body = crate::error::ErrorEnvelope),
        (status = 409, description = "The job is not finished yet", body = crate::error::ErrorEnvelope),
        (status = 503, description = "The database, storage or broker is unavailable", body = crate::error::ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/jobs/{id}/archive.zip")]
pub async fn archive(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = owned_job(&state, &owner, &id).await?;
    match job.status {
        Status::Complete | Status::Error => {}
        Status::Cancelled => {
            return Err(ApiError::Conflict(
                "the job was cancelled, so it has no archive; download the text and JSON \
                 of the pages read from each file"
                    .to_owned(),
            ));
        }
        active => {
            return Err(ApiError::Conflict(format!(
                "the job is {active}; its archive is ready when it is finished"
            )));
        }
    }
    let rows = files_of(&state, job, false).await?;
    let job_id = rows.job.id;
    let formats = rows.job.formats();
    let files = rows
        .uploads
        .iter()
        .filter(|u| u.status == Status::Complete)
        .map(|u| {
            let outputs = Output::ALL
                .into_iter()
                .filter(|o| match o.kind {
                    "hocr" => formats.hocr,
                    "pdf" => formats.pdf,
                    _ => true,
                })
                .map(|o| (o, keys::upload_file(job_id, u.id, o.stored)))
                .collect();
            (u.file_name.as_str(), outputs)
        });
    let members = plan(keys::job_results(job_id), files);
    // Members are dated when the job finished; unset, ZIP readers show 1980-00-00.
    let dated = zip_date(rows.job.finished_at.unwrap_or_else(chrono::Utc::now));

    let (reader, writer) = tokio::io::duplex(PIPE_BYTES);
    let (done, written) = tokio::sync::oneshot::channel();
    let store = state.store.clone();
    tokio::spawn(async move {
        let result = write(&store, &members, dated, writer).await;
        if let Err(e) = &result {
            tracing::warn!(job = %job_id, error = %e, "archive cut short");
        }
        let _ = done.send(result);
    });
    // A member that cannot be read ends the response with an error rather
    // than with a short archive that looks whole.
    let failure = futures_util::stream::once(async move {
        match written.await {
            Ok(Ok(())) => None,
            _ => Some(Err(std::io::Error::other(
                "the archive could not be completed",
            ))),
        }
    })
    .filter_map(std::future::ready);
    let body = tokio_util::io::ReaderStream::new(reader).chain(failure);
    Ok(HttpResponse::Ok()
        .content_type("application/zip")
        .insert_header(attachment(&format!("scribe-{job_id}.zip")))
        .streaming(body))
}

/// The archive's members: the job's `results.json`, then each file's outputs
/// under its own name (`scan.txt`, `scan.ocr.pdf`, …). Two files with the same
/// name get `scan (2).txt` and so on, so no member hides another.
fn plan<'a>(
    job_results: Path,
    files: impl Iterator<Item = (&'a str, Vec<(Output, Path)>)>,
) -> Vec<Member> {
    let mut members = vec![Member {
        name: "results.json".to_owned(),
        key: job_results,
        deflate: true,
    }];
    let mut stems: HashSet<String> = HashSet::from(["results".to_owned()]);
    for (file_name, outputs) in files {
        let base = stem(file_name);
        let mut unique = base.to_owned();
        let mut n = 1;
        while !stems.insert(unique.to_lowercase()) {
            n += 1;
            unique = format!("{base} ({n})");
        }
        for (output, key) in outputs {
            members.push(Member {
                name: output.with_stem(&unique),
                key,
                deflate: output.kind != "pdf",
            });
        }
    }
    members
}

/// `at` as a ZIP timestamp (UTC; ZIP has no zone).
fn zip_date(at: chrono::DateTime<chrono::Utc>) -> ZipDateTime {
    use chrono::{Datelike, Timelike};
    ZipDateTimeBuilder::new()
        .year(at.year())
        .month(at.month())
        .day(at.day())
        .hour(at.hour())
        .minute(at.minute())
        .second(at.second())
        .build()
}

/// Writes the ZIP into `out`, streaming each member from storage.
async fn write(
    store: &Store,
    members: &[Member],
    dated: ZipDateTime,
    out: tokio::io::DuplexStream,
) -> Result<(), ApiError> {
    let mut zip = ZipFileWriter::with_tokio(out);
    for member in members {
        let compression = if member.deflate {
            Compression::Deflate
        } else {
            Compression::Stored
        };
        let entry = ZipEntryBuilder::new(member.name.clone().into(), compression)
            .unix_permissions(0o644)
            .last_modification_date(dated);
        let mut source = store.get(&member.key).await?.into_stream();
        let mut sink = zip
            .write_entry_stream(entry)
            .await
            .map_err(zip_error)?
            .compat_write();
        while let Some(chunk) = source.try_next().await? {
            sink.write_all(&chunk).await.map_err(ApiError::internal)?;
        }
        sink.into_inner().close().await.map_err(zip_error)?;
    }
    let mut out = zip.close().await.map_err(zip_error)?.into_inner();
    out.shutdown().await.map_err(ApiError::internal)?;
    Ok(())
}

fn zip_error(e: async_zip::error::ZipError) -> ApiError {
    ApiError::internal(e)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_file_gets_its_own_names() {
        let key = |s: &str| Path::from(s);
        let outputs = |id: &str| {
            vec![
                (
                    Output::named("text").expect("text"),
                    key(&format!("{id}/t")),
                ),
                (Output::named("pdf").expect("pdf"), key(&format!("{id}/p"))),
            ]
        };
        let files = [
            ("scan.pdf", outputs("a")),
            ("scan.png", outputs("b")),
            ("Results.tiff", outputs("c")),
        ];
        let members = plan(key("job"), files.into_iter());
        let names: Vec<&str> = members.iter().map(|m| m.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "results.json",
                "scan.txt",
                "scan.ocr.pdf",
                "scan (2).txt",
                "scan (2).ocr.pdf",
                "Results (2).txt",
                "Results (2).ocr.pdf",
            ]
        );
        assert_eq!(members[3].key, key("b/t"));
        assert!(members[1].deflate && !members[2].deflate);
    }
}
