//! Deleting a job: its rows and every stored object, for `DELETE
//! /api/v1/jobs/{id}`, the portal's delete button and the retention sweep.
//! A running job is cancelled first, so its workers read no further pages;
//! a worker caught storing a page as the job goes finds its upload gone and
//! removes what it wrote (see the worker's `upload_task`).

use std::time::Duration;

use diesel::{PgConnection, QueryResult};
use scribe_core::db::models::Job;
use scribe_core::db::{self, DbError, queries};
use scribe_core::job::Status;
use scribe_core::storage;
use scribe_core::task::JobEvent;
use uuid::Uuid;

use crate::error::ApiError;
use crate::publish;
use crate::state::AppState;

/// Most expired jobs deleted per sweep: bounds one sweep's work.
const EXPIRED_PER_SWEEP: i64 = 100;
/// Tries of each statement of a delete. A worker committing a page of a job
/// being cancelled or deleted locks its upload and then its job; the cancel and
/// the delete lock the job and then its uploads. PostgreSQL fails one of the
/// two, and for the delete that is no reason to answer 503.
const DELETE_TRIES: u32 = 4;

/// Cancels the job if it still runs, then deletes it.
pub async fn delete_job(state: &AppState, job: &Job) -> Result<(), ApiError> {
    let (job_id, owner) = (job.id, job.owner.clone());
    if !job.status.is_finished()
        && past_deadlocks(state, move |c| queries::cancel(c, job_id, &owner)).await?
    {
        publish::job_event(state, &JobEvent::job(job_id, Status::Cancelled)).await;
    }
    remove(state, job_id).await?;
    state.metrics.jobs_deleted.inc();
    tracing::info!(job.id = %job_id, "job deleted");
    Ok(())
}

/// Objects, then rows, then the objects again. A failure in the first two
/// steps leaves the job in place (cancelled), so the caller can try again;
/// the second pass catches a page a worker stored between the first and the
/// rows going.
async fn remove(state: &AppState, job_id: Uuid) -> Result<(), ApiError> {
    storage::delete_job(&state.store, job_id).await?;
    past_deadlocks(state, move |c| queries::delete_job(c, job_id)).await?;
    if let Err(e) = storage::delete_job(&state.store, job_id).await {
        tracing::warn!(error = %e, job.id = %job_id, "objects stored during the delete were not removed");
    }
    Ok(())
}

/// Runs `f` on a pooled connection, again (up to [`DELETE_TRIES`] in all) when
/// PostgreSQL failed it to break a deadlock, which leaves nothing of it behind.
async fn past_deadlocks<T, F>(state: &AppState, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut PgConnection) -> QueryResult<T> + Clone + Send + 'static,
    T: Send + 'static,
{
    let mut tries = 1;
    loop {
        match db::run(&state.db, f.clone()).await {
            Err(e) if e.is_deadlock() && tries < DELETE_TRIES => {
                tracing::info!(tries, "a delete deadlocked with a worker; trying again");
                tokio::time::sleep(Duration::from_millis(20 * u64::from(tries))).await;
                tries += 1;
            }
            outcome => return outcome,
        }
    }
}

/// With `storage.retention_days` set, deletes up to a batch of finished jobs
/// that finished longer ago than that; the sweeper calls it on every round.
pub async fn delete_expired(state: &AppState) {
    let Some(days) = state.settings.storage.retention_days else {
        return;
    };
    let before = chrono::Utc::now() - chrono::Duration::days(i64::from(days));
    let expired = match db::run(&state.db, move |c| {
        queries::expired_jobs(c, before, EXPIRED_PER_SWEEP)
    })
    .await
    {
        Ok(ids) => ids,
        Err(e) => {
            tracing::warn!(error = %e, "retention sweep could not read expired jobs");
            return;
        }
    };
    for job_id in expired {
        // Another replica's sweeper may take the same job: deleting twice is harmless.
        match remove(state, job_id).await {
            Ok(()) => {
                state.metrics.jobs_deleted.inc();
                tracing::info!(job.id = %job_id, days, "expired job deleted");
            }
            Err(e) => {
                tracing::warn!(error = %e, job.id = %job_id, "expired job not deleted; the next round retries");
            }
        }
    }
}
