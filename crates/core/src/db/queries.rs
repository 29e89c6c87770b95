//! Every state change is an UPDATE guarded by the state it moves from, so a
//! late or duplicated message can never move a finished job backwards.

use chrono::{DateTime, Utc};
use diesel::dsl::{exists, not, now};
use diesel::prelude::*;
use uuid::Uuid;

use super::models::{Job, JobFiles, NewJob, NewUpload, Page, Upload};
use crate::job::Status;
use crate::schema::{jobs, pages, uploads};

const ACTIVE: [Status; 2] = Status::ACTIVE;

/// Records a job and all its uploads, atomically (one statement).
pub fn insert_job(conn: &mut PgConnection, job: &NewJob, files: &[NewUpload]) -> QueryResult<()> {
    super::accept::insert_unless_earlier(conn, job, files, false).map(drop)
}

/// Marks a batch of jobs published, in one statement.
pub fn mark_all_published(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<usize> {
    diesel::update(jobs::table.filter(jobs::id.eq_any(ids)))
        .set(jobs::published.eq(true))
        .execute(conn)
}

/// Jobs whose tasks were never confirmed by the broker, older than `before`.
pub fn unpublished(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
) -> QueryResult<Vec<(Uuid, Vec<Uuid>)>> {
    let ids: Vec<Uuid> = jobs::table
        .filter(jobs::published.eq(false))
        .filter(jobs::created_at.lt(before))
        .filter(jobs::status.eq_any(ACTIVE))
        .select(jobs::id)
        .limit(100)
        .load(conn)?;
    ids.into_iter()
        .map(|id| {
            let files = uploads::table
                .filter(uploads::job_id.eq(id))
                .filter(uploads::status.eq_any(ACTIVE))
                .order(uploads::position)
                .select(uploads::id)
                .load(conn)?;
            Ok((id, files))
        })
        .collect()
}

/// Which of `ids` have a job row (the orphan sweep keeps their stored bytes).
pub fn existing_jobs(conn: &mut PgConnection, ids: &[Uuid]) -> QueryResult<Vec<Uuid>> {
    jobs::table
        .filter(jobs::id.eq_any(ids))
        .select(jobs::id)
        .load(conn)
}

/// The job if `owner` owns it: someone else's job is indistinguishable from none.
pub fn job_for_owner(conn: &mut PgConnection, id: Uuid, owner: &str) -> QueryResult<Option<Job>> {
    jobs::table
        .find(id)
        .filter(jobs::owner.eq(owner))
        .select(Job::as_select())
        .first(conn)
        .optional()
}

pub fn job(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Job>> {
    jobs::table
        .find(id)
        .select(Job::as_select())
        .first(conn)
        .optional()
}

/// Which of an owner's jobs a list shows: all of them by default, or those in
/// some states, and/or with a file whose name contains some text (any case).
#[derive(Debug, Clone, Default)]
pub struct JobFilter {
    pub statuses: Option<Vec<Status>>,
    pub file_name: Option<String>,
}

impl JobFilter {
    fn query<'a>(&'a self, owner: &'a str) -> jobs::BoxedQuery<'a, diesel::pg::Pg> {
        let mut q = jobs::table.filter(jobs::owner.eq(owner)).into_boxed();
        if let Some(statuses) = &self.statuses {
            q = q.filter(jobs::status.eq_any(statuses.clone()));
        }
        if let Some(text) = self.file_name.as_deref().filter(|t| !t.is_empty()) {
            let pattern = format!("%{}%", like_literal(text));
            q = q.filter(exists(
                uploads::table
                    .filter(uploads::job_id.eq(jobs::id))
                    .filter(uploads::file_name.ilike(pattern)),
            ));
        }
        q
    }
}

/// `text` matched literally by LIKE: its `%`, `_` and `\` are escaped.
fn like_literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

pub fn jobs_of_owner(
    conn: &mut PgConnection,
    owner: &str,
    filter: &JobFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<Job>> {
    filter
        .query(owner)
        // The id breaks ties so pages never repeat or skip a job.
        .order((jobs::created_at.desc(), jobs::id.desc()))
        .limit(limit)
        .offset(offset)
        .select(Job::as_select())
        .load(conn)
}

pub fn count_jobs_of_owner(
    conn: &mut PgConnection,
    owner: &str,
    filter: &JobFilter,
) -> QueryResult<i64> {
    filter.query(owner).count().get_result(conn)
}

pub fn uploads_of(conn: &mut PgConnection, job_id: Uuid) -> QueryResult<Vec<Upload>> {
    uploads::table
        .filter(uploads::job_id.eq(job_id))
        .order(uploads::position)
        .select(Upload::as_select())
        .load(conn)
}

/// The files of several jobs, by job then position.
pub fn uploads_of_jobs(conn: &mut PgConnection, job_ids: &[Uuid]) -> QueryResult<Vec<Upload>> {
    uploads::table
        .filter(uploads::job_id.eq_any(job_ids))
        .order((uploads::job_id, uploads::position))
        .select(Upload::as_select())
        .load(conn)
}

/// A page of the owner's jobs with their files and pages (without text), in
/// three queries whatever the number of jobs.
pub fn jobs_with_files(
    conn: &mut PgConnection,
    owner: &str,
    filter: &JobFilter,
    limit: i64,
    offset: i64,
) -> QueryResult<Vec<JobFiles>> {
    let jobs = jobs_of_owner(conn, owner, filter, limit, offset)?;
    let ids: Vec<Uuid> = jobs.iter().map(|j| j.id).collect();
    let uploads = uploads_of_jobs(conn, &ids)?;
    let upload_ids: Vec<Uuid> = uploads.iter().map(|u| u.id).collect();
    let pages = pages_of_uploads(conn, &upload_ids, false)?;
    Ok(group(jobs, uploads, pages))
}

/// One job's files and pages (their text only if asked), in two queries.
pub fn files_of_job(conn: &mut PgConnection, job: Job, with_text: bool) -> QueryResult<JobFiles> {
    let uploads = uploads_of(conn, job.id)?;
    let ids: Vec<Uuid> = uploads.iter().map(|u| u.id).collect();
    let pages = pages_of_uploads(conn, &ids, with_text)?;
    Ok(JobFiles {
        job,
        uploads,
        pages,
    })
}

/// Hands each job its own uploads and pages, keeping every order.
fn group(jobs: Vec<Job>, uploads: Vec<Upload>, pages: Vec<Page>) -> Vec<JobFiles> {
    let mut pages_of: std::collections::HashMap<Uuid, Vec<Page>> = Default::default();
    for p in pages {
        pages_of.entry(p.upload_id).or_default().push(p);
    }
    let mut uploads_of: std::collections::HashMap<Uuid, Vec<Upload>> = Default::default();
    for u in uploads {
        uploads_of.entry(u.job_id).or_default().push(u);
    }
    jobs.into_iter()
        .map(|job| {
            let mut uploads = uploads_of.remove(&job.id).unwrap_or_default();
            uploads.sort_by_key(|u| u.position);
            let pages = uploads
                .iter()
                .flat_map(|u| pages_of.remove(&u.id).unwrap_or_default())
                .collect();
            JobFiles {
                job,
                uploads,
                pages,
            }
        })
        .collect()
}

pub fn upload(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<Upload>> {
    uploads::table
        .find(id)
        .select(Upload::as_select())
        .first(conn)
        .optional()
}

/// The pages of several uploads, by upload then page number; without
/// `with_text` each page's `text` is left empty (views that show only the
/// figures need not read a 1000-page document's text).
pub fn pages_of_uploads(
    conn: &mut PgConnection,
    upload_ids: &[Uuid],
    with_text: bool,
) -> QueryResult<Vec<Page>> {
    let query = pages::table
        .filter(pages::upload_id.eq_any(upload_ids))
        .order((pages::upload_id, pages::number));
    if with_text {
        return query.select(Page::as_select()).load(conn);
    }
    query
        .select((
            pages::upload_id,
            pages::number,
            "".into_sql::<diesel::sql_types::Text>(),
            pages::mean_confidence,
            pages::duration_ms,
            pages::rotation,
            pages::word_count,
            pages::error_code,
            pages::error,
        ))
        .load(conn)
}

pub fn done_pages(conn: &mut PgConnection, upload_id: Uuid) -> QueryResult<Vec<i32>> {
    pages::table
        .filter(pages::upload_id.eq(upload_id))
        .select(pages::number)
        .load(conn)
}

/// Cancels an active job and its unfinished uploads; false when it was already finished.
pub fn cancel(conn: &mut PgConnection, id: Uuid, owner: &str) -> QueryResult<bool> {
    conn.transaction(|conn| {
        let n = diesel::update(jobs::table.find(id))
            .filter(jobs::owner.eq(owner))
            .filter(jobs::status.eq_any(ACTIVE))
            .set((
                jobs::status.eq(Status::Cancelled),
                jobs::updated_at.eq(now),
                jobs::finished_at.eq(now),
            ))
            .execute(conn)?;
        if n > 0 {
            diesel::update(uploads::table.filter(uploads::job_id.eq(id)))
                .filter(uploads::status.eq_any(ACTIVE))
                .set((
                    uploads::status.eq(Status::Cancelled),
                    uploads::updated_at.eq(now),
                    uploads::finished_at.eq(now),
                ))
                .execute(conn)?;
        }
        Ok(n > 0)
    })
}

pub fn is_cancelled(conn: &mut PgConnection, job_id: Uuid) -> QueryResult<bool> {
    jobs::table
        .find(job_id)
        .select(jobs::status)
        .first::<Status>(conn)
        .optional()
        // A job that is gone (deleted) is as good as cancelled for its workers.
        .map(|s| s.is_none_or(|s| s == Status::Cancelled))
}

/// Claims an upload for processing. `None` means there is nothing to do: it
/// is finished, cancelled or unknown, and the task can be dropped.
/// Whether the upload's worker committed pages since it last claimed it: a
/// task that lost its worker after making progress is not poison.
pub fn progressed_since_claim(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    let counts: Option<(i32, i32)> = uploads::table
        .find(id)
        .select((uploads::pages_done, uploads::pages_at_claim))
        .first(conn)
        .optional()?;
    Ok(counts.is_some_and(|(done, at_claim)| done > at_claim))
}

pub fn claim_upload(conn: &mut PgConnection, id: Uuid) -> QueryResult<Option<(Upload, Job)>> {
    conn.transaction(|conn| {
        let upload: Option<Upload> = diesel::update(uploads::table.find(id))
            .filter(uploads::status.eq_any(ACTIVE))
            .set((
                uploads::status.eq(Status::Processing),
                uploads::attempts.eq(uploads::attempts + 1),
                uploads::pages_at_claim.eq(uploads::pages_done),
                uploads::started_at.eq(diesel::dsl::sql::<
                    diesel::sql_types::Nullable<diesel::sql_types::Timestamptz>,
                >("COALESCE(started_at, now())")),
                uploads::updated_at.eq(now),
            ))
            .returning(Upload::as_returning())
            .get_result(conn)
            .optional()?;
        let Some(upload) = upload else {
            return Ok(None);
        };
        diesel::update(jobs::table.find(upload.job_id))
            .filter(jobs::status.eq(Status::Pending))
            .set((
                jobs::status.eq(Status::Processing),
                jobs::updated_at.eq(now),
            ))
            .execute(conn)?;
        let job = jobs::table
            .find(upload.job_id)
            .select(Job::as_select())
            .first(conn)?;
        if job.status == Status::Cancelled {
            return Ok(None);
        }
        Ok(Some((upload, job)))
    })
}

pub fn set_page_count(conn: &mut PgConnection, upload_id: Uuid, count: i32) -> QueryResult<usize> {
    diesel::update(uploads::table.find(upload_id))
        .set(uploads::page_count.eq(count))
        .execute(conn)
}

/// Records one finished page; a page already recorded is left as it was.
/// Returns the upload's pages done afterwards, `None` when the upload is gone.
pub fn record_page(conn: &mut PgConnection, page: &Page) -> QueryResult<Option<i32>> {
    conn.transaction(|conn| {
        // Locking the upload orders this commit against a delete of its job:
        // either the page lands before the delete removes it, or it sees the
        // upload gone and stores nothing.
        let exists = uploads::table
            .find(page.upload_id)
            .select(uploads::id)
            .for_update()
            .first::<Uuid>(conn)
            .optional()?;
        if exists.is_none() {
            return Ok(None);
        }
        let inserted = diesel::insert_into(pages::table)
            .values(page)
            .on_conflict((pages::upload_id, pages::number))
            .do_nothing()
            .execute(conn)?;
        if inserted > 0 {
            diesel::update(uploads::table.find(page.upload_id))
                .set((
                    uploads::pages_done.eq(uploads::pages_done + 1),
                    uploads::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        uploads::table
            .find(page.upload_id)
            .select(uploads::pages_done)
            .first(conn)
            .map(Some)
    })
}

/// Moves a processing upload to Complete or Error, stamped with the `pipeline`
/// that read it; false if it was not processing.
pub fn finish_upload(
    conn: &mut PgConnection,
    id: Uuid,
    status: Status,
    error: Option<(&str, &str)>,
    pipeline: &str,
) -> QueryResult<bool> {
    let n = diesel::update(uploads::table.find(id))
        .filter(uploads::status.eq(Status::Processing))
        .set((
            uploads::status.eq(status),
            uploads::error_code.eq(error.map(|e| e.0)),
            uploads::error.eq(error.map(|e| e.1)),
            uploads::updated_at.eq(now),
            uploads::finished_at.eq(now),
            uploads::pipeline.eq(pipeline),
        ))
        .execute(conn)?;
    Ok(n > 0)
}

/// Once no upload is active, finishes the job: Complete if any file
/// succeeded, Error if all failed. Returns the new status, at most once.
/// Whether job `job_id` is still active and every one of its uploads has
/// finished: the moment to write its results, before [`finish_job_if_done`].
pub fn job_ready_to_finish(conn: &mut PgConnection, job_id: Uuid) -> QueryResult<bool> {
    let job_active = jobs::table.find(job_id).filter(jobs::status.eq_any(ACTIVE));
    let active_uploads = uploads::table
        .filter(uploads::job_id.eq(job_id))
        .filter(uploads::status.eq_any(ACTIVE));
    diesel::select(exists(job_active).and(not(exists(active_uploads)))).get_result(conn)
}

pub fn finish_job_if_done(conn: &mut PgConnection, job_id: Uuid) -> QueryResult<Option<Status>> {
    conn.transaction(|conn| {
        let active = uploads::table
            .filter(uploads::job_id.eq(job_id))
            .filter(uploads::status.eq_any(ACTIVE));
        let any_complete = uploads::table
            .filter(uploads::job_id.eq(job_id))
            .filter(uploads::status.eq(Status::Complete));
        let done: bool = diesel::select(not(exists(active))).get_result(conn)?;
        if !done {
            return Ok(None);
        }
        let ok: bool = diesel::select(exists(any_complete)).get_result(conn)?;
        let status = if ok { Status::Complete } else { Status::Error };
        let error = (!ok).then_some("no file in this job could be processed");
        let n = diesel::update(jobs::table.find(job_id))
            .filter(jobs::status.eq_any(ACTIVE))
            .set((
                jobs::status.eq(status),
                jobs::error.eq(error),
                jobs::updated_at.eq(now),
                jobs::finished_at.eq(now),
            ))
            .execute(conn)?;
        Ok((n > 0).then_some(status))
    })
}

/// Deletes the job and (by cascade) its uploads and pages; false when there was none.
pub fn delete_job(conn: &mut PgConnection, id: Uuid) -> QueryResult<bool> {
    diesel::delete(jobs::table.find(id))
        .execute(conn)
        .map(|n| n > 0)
}

/// Finished jobs that finished before `before`, oldest first, at most `limit`.
pub fn expired_jobs(
    conn: &mut PgConnection,
    before: DateTime<Utc>,
    limit: i64,
) -> QueryResult<Vec<Uuid>> {
    jobs::table
        .filter(jobs::status.ne_all(ACTIVE))
        .filter(jobs::finished_at.lt(before))
        .order(jobs::finished_at)
        .limit(limit)
        .select(jobs::id)
        .load(conn)
}
