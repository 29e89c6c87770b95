//! The notification queue: rows the `jobs_notify` trigger adds when a job
//! becomes final, claimed by any web replica's dispatcher with a lease, so a
//! replica that dies mid-delivery only delays its rows, and every attempt's
//! outcome is kept.

use chrono::{DateTime, Utc};
use diesel::dsl::now;
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Integer, Text, Uuid as SqlUuid};
use uuid::Uuid;

use crate::schema::{notification_attempts, notifications};

/// A notification taken for one delivery attempt.
#[derive(Debug, Clone, QueryableByName)]
pub struct Claimed {
    #[diesel(sql_type = BigInt)]
    pub id: i64,
    #[diesel(sql_type = SqlUuid)]
    pub job_id: Uuid,
    #[diesel(sql_type = Text)]
    pub kind: String,
    #[diesel(sql_type = Text)]
    pub target: String,
    /// Counting this one.
    #[diesel(sql_type = Integer)]
    pub attempts: i32,
}

/// How one attempt went.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub delivered: bool,
    /// The HTTP status or SMTP reply code, when there was an answer.
    pub status_code: Option<i32>,
    pub error: Option<String>,
    /// When to try again; `None` after a delivery or the last attempt.
    pub retry_at: Option<DateTime<Utc>>,
}

/// Takes up to `limit` due notifications and pushes them `lease_secs` into
/// the future: other replicas skip them meanwhile (`SKIP LOCKED` for the
/// instant of the claim, the lease after it), and a replica that dies before
/// recording an outcome only delays its rows by the lease.
pub fn claim_due(
    conn: &mut PgConnection,
    limit: i64,
    lease_secs: i64,
) -> QueryResult<Vec<Claimed>> {
    diesel::sql_query(
        "UPDATE notifications SET attempts = attempts + 1, \
             next_attempt_at = now() + make_interval(secs => $2) \
         WHERE id IN (SELECT id FROM notifications \
             WHERE delivered_at IS NULL AND abandoned_at IS NULL AND next_attempt_at <= now() \
             ORDER BY next_attempt_at LIMIT $1 FOR UPDATE SKIP LOCKED) \
         RETURNING id, job_id, kind, target, attempts",
    )
    .bind::<BigInt, _>(limit)
    .bind::<diesel::sql_types::Double, _>(lease_secs as f64)
    .load(conn)
}

/// Logs the attempt and delivers, reschedules or abandons the notification.
pub fn record(conn: &mut PgConnection, claimed: &Claimed, outcome: &Outcome) -> QueryResult<()> {
    conn.transaction(|conn| {
        diesel::insert_into(notification_attempts::table)
            .values((
                notification_attempts::notification_id.eq(claimed.id),
                notification_attempts::attempt.eq(claimed.attempts),
                notification_attempts::status_code.eq(outcome.status_code),
                notification_attempts::error.eq(&outcome.error),
            ))
            .on_conflict_do_nothing()
            .execute(conn)?;
        let row = notifications::table.find(claimed.id);
        if outcome.delivered {
            diesel::update(row)
                .set((
                    notifications::delivered_at.eq(now),
                    notifications::last_error.eq(None::<String>),
                ))
                .execute(conn)?;
        } else if let Some(at) = outcome.retry_at {
            diesel::update(row)
                .set((
                    notifications::next_attempt_at.eq(at),
                    notifications::last_error.eq(&outcome.error),
                ))
                .execute(conn)?;
        } else {
            diesel::update(row)
                .set((
                    notifications::abandoned_at.eq(now),
                    notifications::last_error.eq(&outcome.error),
                ))
                .execute(conn)?;
        }
        Ok(())
    })
}
