//! Recording an accepted job: every upload's path, so it is one statement and
//! one round trip. The job row, its uploads' rows and (when duplicates are
//! reused) the look for an earlier identical job go to PostgreSQL together;
//! a single statement is atomic without BEGIN and COMMIT, and its bind
//! parameters are arrays, so it has the same text whatever the number of
//! files and is parsed and planned once per connection (diesel does not cache
//! a multi-row INSERT, whose text grows with its rows).

use diesel::pg::Pg;
use diesel::prelude::*;
use diesel::query_builder::{AstPass, Query, QueryFragment, QueryId};
use diesel::sql_types::{Array, Bool, Int4, Int8, Jsonb, Nullable, Text, Uuid as SqlUuid};
use uuid::Uuid;

use super::models::{NewJob, NewUpload};

/// Candidates looked at: the newest complete jobs whose first file matches.
const CANDIDATES: i64 = 20;

/// Inserts the job and its uploads unless `reuse` is set and an earlier job
/// qualifies, which is then returned instead (and nothing is written): the
/// newest of the owner's `CANDIDATES` newest complete jobs with this
/// language, these outputs and this `force_ocr` whose first file has the first hash, provided
/// its files are exactly these hashes in order and every one was read by the
/// pipeline that finished the newest file.
pub fn insert_unless_earlier(
    conn: &mut PgConnection,
    job: &NewJob,
    files: &[NewUpload],
    reuse: bool,
) -> QueryResult<Option<Uuid>> {
    RecordJob::new(job, files, reuse)
        .get_results::<Uuid>(conn)
        .map(|ids| ids.into_iter().next())
}

/// The statement's binds, columns of the uploads as arrays.
struct RecordJob<'a> {
    job: &'a NewJob,
    reuse: bool,
    ids: Vec<Uuid>,
    positions: Vec<i32>,
    names: Vec<&'a str>,
    keys: Vec<&'a str>,
    types: Vec<&'a str>,
    sizes: Vec<i64>,
    hashes: Vec<&'a str>,
}

impl<'a> RecordJob<'a> {
    fn new(job: &'a NewJob, files: &'a [NewUpload], reuse: bool) -> Self {
        Self {
            job,
            reuse,
            ids: files.iter().map(|f| f.id).collect(),
            positions: files.iter().map(|f| f.position).collect(),
            names: files.iter().map(|f| f.file_name.as_str()).collect(),
            keys: files.iter().map(|f| f.storage_key.as_str()).collect(),
            types: files.iter().map(|f| f.detected_type.as_str()).collect(),
            sizes: files.iter().map(|f| f.size_bytes).collect(),
            hashes: files.iter().map(|f| f.sha256.as_str()).collect(),
        }
    }
}

// Its text is the same for every job: cached by type, prepared once per connection.
impl QueryId for RecordJob<'_> {
    type QueryId = RecordJob<'static>;
    const HAS_STATIC_QUERY_ID: bool = true;
}

impl Query for RecordJob<'_> {
    type SqlType = SqlUuid;
}

impl RunQueryDsl<PgConnection> for RecordJob<'_> {}

impl QueryFragment<Pg> for RecordJob<'_> {
    fn walk_ast<'b>(&'b self, mut out: AstPass<'_, 'b, Pg>) -> QueryResult<()> {
        // `earlier` is the duplicate lookup: the candidates by the first
        // file's hash (served by `uploads_duplicate_lookup`), then the newest
        // whose files all match. Off (`reuse` false), it reads nothing.
        // `current` is how files are read now: by the pipeline that finished
        // the newest file (see the `pipeline` migration). A result read
        // otherwise, before an update of the worker or of Tesseract, is not
        // reused. An InitPlan: run only when a candidate is found.
        out.push_sql(
            "WITH current AS (SELECT n.pipeline FROM uploads n WHERE n.pipeline IS NOT NULL \
             AND n.finished_at IS NOT NULL ORDER BY n.finished_at DESC LIMIT 1), \
             earlier AS (SELECT c.id FROM (SELECT j.id, j.finished_at \
             FROM uploads u JOIN jobs j ON j.id = u.job_id WHERE ",
        );
        out.push_bind_param::<Bool, _>(&self.reuse)?;
        out.push_sql(" AND u.sha256 = (");
        out.push_bind_param::<Array<Text>, _>(&self.hashes)?;
        out.push_sql(
            ")[1] AND u.position = 0 AND u.status = 'complete' \
             AND u.pipeline = (SELECT pipeline FROM current) AND j.owner = ",
        );
        out.push_bind_param::<Text, _>(&self.job.owner)?;
        out.push_sql(" AND j.language = ");
        out.push_bind_param::<Text, _>(&self.job.language)?;
        out.push_sql(" AND j.formats = ");
        out.push_bind_param::<Jsonb, _>(&self.job.formats)?;
        out.push_sql(" AND j.force_ocr = ");
        out.push_bind_param::<Bool, _>(&self.job.force_ocr)?;
        out.push_sql(" AND j.status = 'complete' ORDER BY j.finished_at DESC LIMIT ");
        out.push_bind_param::<Int8, _>(&CANDIDATES)?;
        out.push_sql(
            ") c WHERE NOT EXISTS (SELECT 1 FROM uploads f WHERE f.job_id = c.id \
             AND (f.status <> 'complete' \
             OR f.pipeline IS DISTINCT FROM (SELECT pipeline FROM current))) \
             AND ARRAY(SELECT f.sha256 FROM uploads f WHERE f.job_id = c.id ORDER BY f.position) = ",
        );
        out.push_bind_param::<Array<Text>, _>(&self.hashes)?;
        out.push_sql(
            " ORDER BY c.finished_at DESC LIMIT 1), \
             job AS (INSERT INTO jobs (id, owner, language, formats, webhook_url, notify_email, \
             force_ocr) \
             SELECT ",
        );
        out.push_bind_param::<SqlUuid, _>(&self.job.id)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.job.owner)?;
        out.push_sql(", ");
        out.push_bind_param::<Text, _>(&self.job.language)?;
        out.push_sql(", ");
        out.push_bind_param::<Jsonb, _>(&self.job.formats)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.job.webhook_url)?;
        out.push_sql(", ");
        out.push_bind_param::<Nullable<Text>, _>(&self.job.notify_email)?;
        out.push_sql(", ");
        out.push_bind_param::<Bool, _>(&self.job.force_ocr)?;
        // The uploads' foreign key is checked at the statement's end, when
        // the job row is there.
        out.push_sql(
            " WHERE NOT EXISTS (SELECT 1 FROM earlier) RETURNING id), \
             files AS (INSERT INTO uploads (id, job_id, position, file_name, storage_key, \
             detected_type, size_bytes, sha256) \
             SELECT f.id, job.id, f.position, f.file_name, f.storage_key, f.detected_type, \
             f.size_bytes, f.sha256 FROM job, unnest(",
        );
        out.push_bind_param::<Array<SqlUuid>, _>(&self.ids)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int4>, _>(&self.positions)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.names)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.keys)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.types)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Int8>, _>(&self.sizes)?;
        out.push_sql(", ");
        out.push_bind_param::<Array<Text>, _>(&self.hashes)?;
        out.push_sql(
            ") AS f (id, position, file_name, storage_key, detected_type, size_bytes, sha256)) \
             SELECT id FROM earlier",
        );
        Ok(())
    }
}
