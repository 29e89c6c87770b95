//! `GET /api/v1/jobs/{id}/events`: Server-Sent Events. The first event is a
//! snapshot of the job from the database (so a late client misses nothing),
//! then one `update` per status change or finished page, then the stream ends
//! once the job is finished. Polling `GET /api/v1/jobs/{id}` always works too.

use std::time::Duration;

use actix_web::{HttpResponse, get, web};
use bytes::Bytes;
use futures_util::stream;
use scribe_core::task::JobEvent;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use uuid::Uuid;

use super::jobs::{job_view, owned_job};
use crate::auth::Owner;
use crate::error::ApiError;
use crate::state::AppState;

const HEARTBEAT: Duration = Duration::from_secs(15);

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
    let finished = job.status != "pending" && job.status != "processing";
    let snapshot = job_view(&state, job).await?;
    let first = frame("snapshot", &snapshot);
    let updates = stream::unfold((rx, finished), move |(mut rx, done)| async move {
        if done {
            return None;
        }
        let (chunk, done) = next_frame(&mut rx, job_id).await;
        Some((Ok::<_, ApiError>(chunk), (rx, done)))
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
async fn next_frame(rx: &mut Receiver<JobEvent>, job_id: Uuid) -> (Bytes, bool) {
    loop {
        match tokio::time::timeout(HEARTBEAT, rx.recv()).await {
            Err(_) => return (Bytes::from_static(b": keep-alive\n\n"), false),
            Ok(Ok(event)) if event.job_id == job_id => {
                let done = event.job_status.is_some_and(|s| s.is_finished());
                let json = serde_json::to_value(&event).unwrap_or_default();
                return (frame("update", &json), done);
            }
            Ok(Ok(_)) => continue,
            // Fell behind: tell the client to fetch a fresh snapshot.
            Ok(Err(RecvError::Lagged(_))) => {
                return (frame("resync", &serde_json::json!({})), false);
            }
            Ok(Err(RecvError::Closed)) => return (Bytes::new(), true),
        }
    }
}

fn frame(event: &str, data: &serde_json::Value) -> Bytes {
    Bytes::from(format!("event: {event}\ndata: {data}\n\n"))
}
