//! Duplicates: an owner's earlier finished job with the same files (by SHA-256,
//! in the same order), language and outputs, read by the pipeline that reads
//! files now, and a new job recorded as a copy of it. Never across owners.

use diesel::dsl::now;
use diesel::prelude::*;
use diesel::sql_types::Uuid as SqlUuid;
use uuid::Uuid;

use super::accept;
use super::models::{NewJob, NewUpload, Upload};
use crate::job::Status;
use crate::schema::{jobs, uploads};

/// Records `job` for OCR, unless (with `reuse`) it duplicates an earlier job:
/// then nothing is written and that job is answered with its uploads, to be
/// copied with [`insert_copy`]. The look and the insert are one statement
/// ([`accept`]), as this is every upload's path; the earlier job's uploads
/// are read only when there is one.
pub fn insert_unless_duplicate(
    conn: &mut PgConnection,
    job: &NewJob,
    files: &[NewUpload],
    reuse: bool,
) -> QueryResult<Option<(Uuid, Vec<Upload>)>> {
    let Some(earlier) = accept::insert_unless_earlier(conn, job, files, reuse)? else {
        return Ok(None);
    };
    let theirs = super::queries::uploads_of(conn, earlier)?;
    if same_files(&theirs, files) {
        return Ok(Some((earlier, theirs)));
    }
    // Deleted (or cancelled and changed) between the two statements: this job
    // is read like any other.
    accept::insert_unless_earlier(conn, job, files, false)?;
    Ok(None)
}

/// Whether an earlier job's files were all read and are `files`' bytes, in order.
fn same_files(theirs: &[Upload], files: &[NewUpload]) -> bool {
    theirs.len() == files.len()
        && theirs
            .iter()
            .zip(files)
            .all(|(u, f)| u.status == Status::Complete && u.sha256 == f.sha256)
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
                    // Read as its source was: a copy is as current as that.
                    uploads::pipeline.eq(&old.pipeline),
                ))
                .execute(conn)?;
            diesel::sql_query(
                "INSERT INTO pages (upload_id, number, text, mean_confidence, duration_ms, \
                 rotation, word_count, error_code, error) \
                 SELECT $1, number, text, mean_confidence, duration_ms, rotation, word_count, \
                 error_code, error FROM pages WHERE upload_id = $2",
            )
            .bind::<SqlUuid, _>(new.id)
            .bind::<SqlUuid, _>(old.id)
            .execute(conn)?;
        }
        Ok(())
    })
}
