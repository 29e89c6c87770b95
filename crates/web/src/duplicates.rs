//! Duplicates (`web.reuse_duplicates`): a job whose files, language and
//! outputs match one of the same owner's earlier complete jobs is answered from
//! that job's results at once, with no OCR and no worker. The results are
//! copied in storage (server-side on S3, a link on a local disk), so the new
//! job stands alone: deleting the earlier one later takes nothing from it.

use futures_util::TryStreamExt;
use object_store::{ObjectStoreExt, PutPayload};
use scribe_core::db::models::{NewJob, NewUpload, Upload};
use scribe_core::db::{self, reuse};
use scribe_core::job::Status;
use scribe_core::results::{DocumentResult, FileResults, JobResults};
use scribe_core::storage::{self, keys};
use uuid::Uuid;

use crate::error::ApiError;
use crate::state::AppState;

/// Records `job` as a copy of the earlier identical job `from` (found by
/// [`reuse::insert_unless_duplicate`]); `false` when that job's results were
/// deleted while being copied or are not whole, and the caller queues this
/// one for OCR as usual.
pub async fn copy(
    state: &AppState,
    job: NewJob,
    files: Vec<NewUpload>,
    (from, from_files): (Uuid, Vec<Upload>),
) -> Result<bool, ApiError> {
    // Results before rows: a replica dying in between leaves only unreferenced
    // objects, which the orphan sweeper removes; never a final job without results.
    match copy_results(state, from, &job, &files, &from_files).await {
        Ok(()) => {}
        Err(CopyError::Stale(why)) => {
            tracing::info!(%from, why, "the earlier job cannot be reused; reading again");
            remove_results(state, job.id).await;
            return Ok(false);
        }
        Err(CopyError::Storage(e)) => return Err(e.into()),
        Err(CopyError::Internal(e)) => return Err(ApiError::internal(e)),
    }
    db::run(&state.db, move |c| {
        reuse::insert_copy(c, &job, &files, from, &from_files)
    })
    .await?;
    state.metrics.jobs_reused.inc();
    Ok(true)
}

enum CopyError {
    /// The earlier job's results are gone (deleted meanwhile) or not whole:
    /// nothing is reused, the new job is read like any other.
    Stale(String),
    Storage(object_store::Error),
    Internal(serde_json::Error),
}

impl From<object_store::Error> for CopyError {
    fn from(e: object_store::Error) -> Self {
        match e {
            object_store::Error::NotFound { path, .. } => Self::Stale(format!("{path} is gone")),
            e => Self::Storage(e),
        }
    }
}

/// Copies every stored output of each earlier file under the new ids, names
/// each file's `results.json` after the new upload, and writes the job's.
async fn copy_results(
    state: &AppState,
    from: Uuid,
    job: &NewJob,
    files: &[NewUpload],
    from_files: &[Upload],
) -> Result<(), CopyError> {
    let mut summary = Vec::with_capacity(files.len());
    for (new, old) in files.iter().zip(from_files) {
        // The earlier file's results first: only whole ones are worth copying.
        let theirs = keys::upload_file(from, old.id, "results.json");
        let bytes = state.store.get(&theirs).await?.bytes().await?;
        let mut result: DocumentResult = serde_json::from_slice(&bytes)
            .map_err(|e| CopyError::Stale(format!("{theirs} does not parse ({e})")))?;
        if result.pages.len() != result.page_count {
            return Err(CopyError::Stale(format!(
                "{theirs} holds {} of {} pages",
                result.pages.len(),
                result.page_count
            )));
        }
        let stored: Vec<_> = state
            .store
            .list(Some(&keys::upload_results(from, old.id)))
            .try_collect()
            .await?;
        for object in &stored {
            let Some(name) = object.location.filename() else {
                continue;
            };
            if name == "results.json" {
                continue;
            }
            let to = keys::upload_file(job.id, new.id, name);
            state.store.copy(&object.location, &to).await?;
        }
        result.file_name = new.file_name.clone();
        let result = serde_json::to_value(&result).map_err(CopyError::Internal)?;
        let bytes = serde_json::to_vec_pretty(&result).map_err(CopyError::Internal)?;
        let own = keys::upload_file(job.id, new.id, "results.json");
        state.store.put(&own, PutPayload::from(bytes)).await?;
        summary.push((new, result));
    }
    let results = JobResults {
        job_id: job.id,
        files: summary
            .into_iter()
            .map(|(new, result)| FileResults {
                upload_id: new.id,
                file_name: &new.file_name,
                status: Status::Complete,
                error: None,
                result: Some(result),
            })
            .collect(),
    };
    let bytes = serde_json::to_vec_pretty(&results).map_err(CopyError::Internal)?;
    state
        .store
        .put(&keys::job_results(job.id), PutPayload::from(bytes))
        .await?;
    Ok(())
}

/// What a copy that could not finish left under the new job's results.
async fn remove_results(state: &AppState, job: Uuid) {
    let [_, results] = keys::job_prefix(job);
    if let Err(e) = storage::delete_under(&state.store, &results).await {
        tracing::warn!(%job, error = %e, "a half-made copy stays for the orphan sweeper");
    }
}
