//! Duplicates: an owner's earlier finished job with the same files (by SHA-256,
//! in the same order), language and outputs, and a new job recorded as a copy
//! of it. Never across owners.

use diesel::dsl::now;
use diesel::prelude::*;
use diesel::sql_types::Uuid as SqlUuid;
use uuid::Uuid;

use super::models::{NewJob, NewUpload, Upload};
use crate::job::Status;
use crate::schema::{jobs, uploads};

/// Candidates looked at: the newest jobs whose first file matches.
const CANDIDATES: i64 = 20;

/// Records `job` for OCR, unless (with `reuse`) it duplicates an earlier job:
/// then nothing is written and that job is answered, to be copied with
/// [`insert_copy`]. One connection for both, as this is every upload's path.
pub fn insert_unless_duplicate(
    conn: &mut PgConnection,
    job: &NewJob,
    files: &[NewUpload],
    reuse: bool,
) -> QueryResult<Option<(Uuid, Vec<Upload>)>> {
    if reuse {
        let hashes: Vec<String> = files.iter().map(|f| f.sha256.clone()).collect();
        if let Some(found) = find(conn, &job.owner, &job.language, &job.formats, &hashes)? {
            return Ok(Some(found));
        }
    }
    super::queries::insert_job(conn, job, files)?;
    Ok(None)
}

/// The newest of `owner`'s complete jobs whose every file was read and whose
/// files are `sha256s`, in order, with this language and these outputs; with
/// its uploads.
pub fn find(
    conn: &mut PgConnection,
    owner: &str,
    language: &str,
    formats: &serde_json::Value,
    sha256s: &[String],
) -> QueryResult<Option<(Uuid, Vec<Upload>)>> {
    let Some(first) = sha256s.first() else {
        return Ok(None);
    };
    let candidates: Vec<Uuid> = uploads::table
        .inner_join(jobs::table)
        .filter(uploads::sha256.eq(first))
        .filter(uploads::position.eq(0))
        // Implied by the job's status; stated so `uploads_duplicate_lookup` serves it.
        .filter(uploads::status.eq(Status::Complete))
        .filter(jobs::owner.eq(owner))
        .filter(jobs::language.eq(language))
        .filter(jobs::formats.eq(formats))
        .filter(jobs::status.eq(Status::Complete))
        .order(jobs::finished_at.desc())
        .select(jobs::id)
        .limit(CANDIDATES)
        .load(conn)?;
    for job in candidates {
        let files = super::queries::uploads_of(conn, job)?;
        let same = files.len() == sha256s.len()
            && files
                .iter()
                .zip(sha256s)
                .all(|(u, sha)| u.status == Status::Complete && &u.sha256 == sha);
        if same {
            return Ok(Some((job, files)));
        }
    }
    Ok(None)
}

/// Records `job` as complete, a copy of `from`: its uploads (paired in order
/// with `from_files`) with their page counts, and every page's text (the
/// search trigger indexes them again), in one transaction.
pub fn insert_copy(
    conn: &mut PgConnection,
    job: &NewJob,
    files: &[NewUpload],
    from: Uuid,
    from_files: &[Upload],
) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::insert_into(jobs::table).values(job).execute(conn)?;
        diesel::update(jobs::table.find(job.id))
            .set((
                jobs::status.eq(Status::Complete),
                jobs::published.eq(true),
                jobs::reused_from.eq(Some(from)),
                jobs::finished_at.eq(now),
            ))
            .execute(conn)?;
        diesel::insert_into(uploads::table)
            .values(files)
            .execute(conn)?;
        for (new, old) in files.iter().zip(from_files) {
            diesel::update(uploads::table.find(new.id))
                .set((
                    uploads::status.eq(Status::Complete),
                    uploads::page_count.eq(old.page_count),
                    uploads::pages_done.eq(old.pages_done),
                    uploads::started_at.eq(now),
                    uploads::finished_at.eq(now),
                ))
                .execute(conn)?;
            diesel::sql_query(
                "INSERT INTO pages (upload_id, number, text, mean_confidence, duration_ms, \
                 rotation, word_count) \
                 SELECT $1, number, text, mean_confidence, duration_ms, rotation, word_count \
                 FROM pages WHERE upload_id = $2",
            )
            .bind::<SqlUuid, _>(new.id)
            .bind::<SqlUuid, _>(old.id)
            .execute(conn)?;
        }
        Ok(())
    })
}
