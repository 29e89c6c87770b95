//! `GET /api/v1/jobs/{id}/events`: Server-Sent Events. The first event is a
//! snapshot of the job from the database (so a late client misses nothing),
//! then one `update` per status change or finished page, then the stream ends
//! once the job is finished. When no event comes for a while the database is
//! asked, so a lost event never leaves a finished job's stream open. Polling
//! `GET /api/v1/jobs/{id}` always works too.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use bytes::Bytes;
use futures_util::stream;
use scribe_core::db::{self, DbPool, queries};
use scribe_core::task::JobEvent;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use uuid::Uuid;

use super::jobs::{job_view, owned_job};
use crate::auth::Owner;
use crate::error::ApiError;
use crate::state::AppState;

/// How long a stream waits for an event before asking the database: an event
/// lost on the way (a replica that bound its queue a moment too late, a broker
/// blip) must not leave a finished job's stream open. Each check doubles as a
/// keep-alive for proxies.
const CHECK_EVERY: Duration = Duration::from_secs(2);

/// One event of the stream as an SSE client parses it.
#[derive(utoipa::ToSchema)]
pub struct Frame {
    pub event: FrameKind,
    /// JSON text: a JobView for `snapshot`, a job event (status or page
    /// progress) for `update`, `{}` for `resync` and `deleted`.
    pub data: String,
}

#[derive(utoipa::ToSchema, Clone, Copy)]
#[schema(rename_all = "lowercase")]
pub enum FrameKind {
    /// The job as it is now; always first.
    Snapshot,
    /// A status change or a finished page; the last one carries the final status.
    Update,
    /// This client fell behind: fetch the job again.
    Resync,
    /// The job was deleted; the stream ends.
    Deleted,
}

impl FrameKind {
    fn as_str(self) -> &'static str {
        match self {
            Self::Snapshot => "snapshot",
            Self::Update => "update",
            Self::Resync => "resync",
            Self::Deleted => "deleted",
        }
    }
}

impl Frame {
    fn new(event: FrameKind, data: &serde_json::Value) -> Self {
        Self {
            event,
            data: data.to_string(),
        }
    }

    fn bytes(&self) -> Bytes {
        Bytes::from(format!(
            "event: {}\ndata: {}\n\n",
            self.event.as_str(),
            self.data
        ))
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/jobs/{id}/events",
    tag = "jobs",
    params(
        ("id" = uuid::Uuid, Path, description = "The job"),
    ),
    responses(
        (status = 200, description = "Server-Sent Events: a `snapshot` (a JobView), then `update`s until the job is finished", content_type = "text/event-stream", body = Frame),
        (status = 401, description = "Missing or invalid API key", body = crate::error::ErrorEnvelope),
        (status = 404, description = "No such job (or not this owner's), or no such part of it", body = crate::error::ErrorEnvelope),
        (status = 503, description = "The database, storage or broker is unavailable", body = crate::error::ErrorEnvelope),
    ),
    security(("bearer" = []))
)]
#[get("/api/v1/jobs/{id}/events")]
pub async fn events(
    state: web::Data<AppState>,
    owner: Owner,
    id: web::Path<String>,
) -> Result<HttpResponse, ApiError> {
    let job = owned_job(&state, &owner, &id).await?;
    // Subscribe before reading the snapshot so nothing falls between the two.
    let rx = state.events.subscribe();
    let job_id = job.id;
    let finished = job.status.is_finished();
    let snapshot = job_view(&state, job, false).await?;
    let first = Frame::new(
        FrameKind::Snapshot,
        &serde_json::to_value(&snapshot).map_err(ApiError::internal)?,
    )
    .bytes();
    let db = state.db.clone();
    let updates = stream::unfold((rx, finished), move |(mut rx, done)| {
        let db = db.clone();
        async move {
            if done {
                return None;
            }
            let (chunk, done) = next_frame(&mut rx, job_id, &db).await;
            Some((Ok::<_, ApiError>(chunk), (rx, done)))
        }
    });
    let body = futures_util::StreamExt::chain(
        stream::once(async move { Ok::<_, ApiError>(first) }),
        updates,
    );
    Ok(HttpResponse::Ok()
        .content_type("text/event-stream")
        .insert_header(("Cache-Control", "no-cache"))
        .insert_header(("X-Accel-Buffering", "no"))
        .streaming(body))
}

/// The next frame for this job: an update, a heartbeat, or a resync notice.
async fn next_frame(rx: &mut Receiver<JobEvent>, job_id: Uuid, db: &DbPool) -> (Bytes, bool) {
    loop {
        match tokio::time::timeout(CHECK_EVERY, rx.recv()).await {
            Err(_) => return final_state(db, job_id).await,
            Ok(Ok(event)) if event.job_id == job_id => {
                let done = event.job_status.is_some_and(|s| s.is_finished());
                let json = serde_json::to_value(&event).unwrap_or_default();
                return (Frame::new(FrameKind::Update, &json).bytes(), done);
            }
            Ok(Ok(_)) => continue,
            // Fell behind: tell the client to fetch a fresh snapshot.
            Ok(Err(RecvError::Lagged(_))) => {
                return (
                    Frame::new(FrameKind::Resync, &serde_json::json!({})).bytes(),
                    false,
                );
            }
            Ok(Err(RecvError::Closed)) => return (Bytes::new(), true),
        }
    }
}

/// The database's word when no event came: the job's final state as an
/// update that ends the stream, a `deleted` event that ends it when the job is
/// gone, or a keep-alive while it is still running.
async fn final_state(db: &DbPool, job_id: Uuid) -> (Bytes, bool) {
    match db::run(db, move |c| queries::job(c, job_id)).await {
        Ok(None) => (
            Frame::new(FrameKind::Deleted, &serde_json::json!({})).bytes(),
            true,
        ),
        Ok(Some(job)) if job.status.is_finished() => {
            let json = serde_json::to_value(JobEvent::job(job_id, job.status)).unwrap_or_default();
            (Frame::new(FrameKind::Update, &json).bytes(), true)
        }
        // Still running, or the database did not answer this time.
        _ => (Bytes::from_static(b": keep-alive\n\n"), false),
    }
}
