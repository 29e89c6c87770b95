//! Telling people a job is over: the webhook and the email a job asked for.
//! The `jobs_notify` trigger queues them when the job becomes final, whatever
//! made it so; this dispatcher, one per web replica, claims due rows, sends
//! them and records every attempt, retrying on `notify.retry_delays_secs`.
//! Nothing here is on a request's path or can hold a job back.

pub mod email;
pub mod target;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use anyhow::Context;
use chrono::Utc;
use scribe_core::db::notifications::{self, Claimed, Outcome};
use scribe_core::db::{self, queries};
use scribe_core::settings::Settings;

use crate::state::AppState;
use crate::views::JobView;
use email::Mailer;
use webhook::Webhooks;

/// Notifications sent at once by one replica: bounds what a slow receiver holds up.
const BATCH: i64 = 16;

/// Why an attempt did not deliver.
#[derive(Debug)]
pub struct Failure {
    /// The HTTP status or SMTP reply code, when there was an answer.
    pub code: Option<i32>,
    pub error: String,
}

impl Failure {
    fn refused(e: target::TargetError) -> Self {
        Self {
            code: None,
            error: e.to_string(),
        }
    }
}

/// A webhook's body. Serialised straight from the view, as the API answers it
/// (through `serde_json::Value` an `f32` confidence would print differently).
#[derive(serde::Serialize)]
struct Finished<'a> {
    event: &'static str,
    job: &'a JobView,
}

/// The senders, built once from the settings.
pub struct Notifier {
    webhooks: Option<Webhooks>,
    mailer: Option<Mailer>,
}

impl Notifier {
    pub fn new(settings: &Settings) -> anyhow::Result<Self> {
        let (web, n) = (&settings.web, &settings.notify);
        let timeout = Duration::from_secs(n.timeout_secs);
        let webhooks = (!web.webhook_secret.is_empty())
            .then(|| Webhooks::new(&web.webhook_secret, web.webhook_allow_private, timeout))
            .transpose()
            .context("building the webhook client")?;
        let mailer = (!n.smtp_url.is_empty())
            .then(|| Mailer::new(&n.smtp_url, &n.from, &web.public_url, timeout))
            .transpose()?;
        Ok(Self { webhooks, mailer })
    }
}

/// Delivers due notifications every `notify.poll_interval_ms`, for good.
pub async fn dispatch(state: Arc<AppState>, notifier: Arc<Notifier>) {
    let every = Duration::from_millis(state.settings.notify.poll_interval_ms);
    // Past the lease another replica may take the row again: well above one delivery.
    let lease = i64::try_from(state.settings.notify.timeout_secs)
        .unwrap_or(i64::MAX / 4)
        .saturating_mul(3)
        .saturating_add(30);
    loop {
        tokio::time::sleep(every).await;
        let claimed = match db::run(&state.db, move |c| {
            notifications::claim_due(c, BATCH, lease)
        })
        .await
        {
            Ok(claimed) => claimed,
            Err(e) => {
                tracing::warn!(error = %e, "notifications not claimed; trying again later");
                continue;
            }
        };
        let sends = claimed.into_iter().map(|n| deliver(&state, &notifier, n));
        futures_util::future::join_all(sends).await;
    }
}

async fn deliver(state: &AppState, notifier: &Notifier, claimed: Claimed) {
    let job_id = claimed.job_id;
    let rows = db::run(&state.db, move |c| {
        queries::job(c, job_id)?
            .map(|job| queries::files_of_job(c, job, false))
            .transpose()
    })
    .await;
    let sent = match rows {
        // A deleted job takes its notifications with it; nothing to send.
        Ok(None) => return,
        Ok(Some(rows)) => send(notifier, &claimed, &JobView::of(&rows)).await,
        Err(e) => Err(Failure {
            code: None,
            error: format!("the job could not be read: {e}"),
        }),
    };
    let outcome = outcome(&state.settings.notify.retry_delays_secs, &claimed, sent);
    match &outcome.error {
        None => {
            tracing::info!(job.id = %job_id, kind = %claimed.kind, attempt = claimed.attempts, "notification delivered")
        }
        Some(error) => {
            tracing::warn!(job.id = %job_id, kind = %claimed.kind, attempt = claimed.attempts, error = %error, retry = outcome.retry_at.is_some(), "notification not delivered")
        }
    }
    if let Err(e) = db::run(&state.db, move |c| {
        notifications::record(c, &claimed, &outcome)
    })
    .await
    {
        // The lease runs out and the row is tried again: a repeat, never a loss.
        tracing::warn!(error = %e, job.id = %job_id, "notification outcome not recorded");
    }
}

async fn send(notifier: &Notifier, claimed: &Claimed, job: &JobView) -> Result<i32, Failure> {
    let disabled = |what: &str| Failure {
        code: None,
        error: format!("{what} are not configured on this replica"),
    };
    match claimed.kind.as_str() {
        "webhook" => {
            let hooks = notifier
                .webhooks
                .as_ref()
                .ok_or_else(|| disabled("webhooks"))?;
            let finished = Finished {
                event: "job.finished",
                job,
            };
            let body = serde_json::to_vec(&finished).map_err(|e| Failure {
                code: None,
                error: e.to_string(),
            })?;
            hooks.send(&claimed.target, claimed.id, body).await
        }
        "email" => {
            let mailer = notifier.mailer.as_ref().ok_or_else(|| disabled("emails"))?;
            mailer.send(&claimed.target, job).await
        }
        other => Err(Failure {
            code: None,
            error: format!("unknown notification kind `{other}`"),
        }),
    }
}

/// What to record: a delivery, a retry after the next wait of the schedule,
/// or, once the schedule is used up, the end.
fn outcome(delays: &[u64], claimed: &Claimed, sent: Result<i32, Failure>) -> Outcome {
    match sent {
        Ok(code) => Outcome {
            delivered: true,
            status_code: Some(code),
            error: None,
            retry_at: None,
        },
        Err(failure) => {
            let wait = usize::try_from(claimed.attempts - 1)
                .ok()
                .and_then(|i| delays.get(i));
            Outcome {
                delivered: false,
                status_code: failure.code,
                error: Some(failure.error),
                retry_at: wait.map(|&secs| {
                    Utc::now()
                        + chrono::Duration::seconds(i64::try_from(secs).unwrap_or(i64::MAX / 1000))
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn failures_follow_the_schedule_then_stop() {
        let claimed = |attempts| Claimed {
            id: 1,
            job_id: uuid::Uuid::nil(),
            kind: "webhook".to_owned(),
            target: String::new(),
            attempts,
        };
        let failed = || {
            Err(Failure {
                code: Some(500),
                error: "no".to_owned(),
            })
        };
        let delays = [30, 60];
        let first = outcome(&delays, &claimed(1), failed());
        let wait = first.retry_at.expect("retried") - Utc::now();
        assert!((29..=30).contains(&wait.num_seconds()), "{wait}");
        let second = outcome(&delays, &claimed(2), failed());
        assert!(second.retry_at.expect("retried") - Utc::now() > chrono::Duration::seconds(59));
        let last = outcome(&delays, &claimed(3), failed());
        assert!(last.retry_at.is_none() && !last.delivered);
        assert_eq!(last.status_code, Some(500));
        assert!(outcome(&delays, &claimed(1), Ok(204)).delivered);
    }
}
