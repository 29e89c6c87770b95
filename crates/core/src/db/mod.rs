//! PostgreSQL: embedded migrations, a pool whose blocking calls run off the
//! async executor, and the queries that move jobs between states.

pub mod accept;
pub mod models;
pub mod notifications;
pub mod queries;
pub mod reuse;
pub mod search;

use std::time::Duration;

use deadpool_diesel::postgres::{HookError, Manager, Object, Pool};
use deadpool_diesel::{ManagerConfig, RecyclingMethod, Runtime, Timeouts};
use diesel::PgConnection;
use diesel::connection::SimpleConnection;
use diesel::result::{DatabaseErrorKind, Error as QueryError};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::settings::DatabaseSettings;

pub const MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations");

#[derive(Debug, thiserror::Error)]
pub enum DbError {
    #[error("database unavailable: {0}")]
    Pool(String),
    #[error("database query failed: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
}

impl DbError {
    /// PostgreSQL broke a deadlock by failing this statement (SQLSTATE 40P01,
    /// which diesel reports only by its message): nothing it did remains, and
    /// trying it again may well succeed.
    pub fn is_deadlock(&self) -> bool {
        matches!(
            self,
            Self::Query(diesel::result::Error::DatabaseError(_, info))
                if info.message().starts_with("deadlock detected")
        )
    }
}

pub type DbPool = Pool;

/// A connection used this recently is taken as alive without a round trip.
const TRUSTED_FOR: Duration = Duration::from_secs(1);

/// A pool whose connections wait at most `wait_timeout` and set a statement timeout.
///
/// Checking every connection with a `SELECT 1` on checkout costs a round trip
/// and a thread hop per query; only connections idle for longer than
/// [`TRUSTED_FOR`] are checked, and [`run`] drops a connection that fails at
/// the connection level, so a database restart costs at most the requests
/// already under way.
pub fn pool(settings: &DatabaseSettings) -> Result<DbPool, DbError> {
    let config = ManagerConfig {
        recycling_method: RecyclingMethod::CustomFunction(Box::new(|_| Ok(()))),
    };
    let manager = Manager::from_config(settings.url.clone(), Runtime::Tokio1, config);
    let timeout = Some(Duration::from_secs(settings.wait_timeout_secs));
    Pool::builder(manager)
        .max_size(settings.pool_size)
        .runtime(Runtime::Tokio1)
        .timeouts(Timeouts {
            wait: timeout,
            create: timeout,
            recycle: timeout,
        })
        .post_create(deadpool_diesel::postgres::Hook::async_fn({
            let ms = settings.statement_timeout_ms;
            move |conn, _| {
                Box::pin(async move {
                    let sql = format!("SET statement_timeout = {ms}");
                    let _ = conn.interact(move |c| c.batch_execute(&sql)).await;
                    Ok(())
                })
            }
        }))
        .pre_recycle(deadpool_diesel::postgres::Hook::async_fn(
            |conn, metrics| {
                let idle = metrics.last_used() > TRUSTED_FOR;
                Box::pin(async move {
                    if !idle {
                        return Ok(());
                    }
                    match conn.interact(|c| c.batch_execute("SELECT 1")).await {
                        Ok(Ok(())) => Ok(()),
                        _ => Err(HookError::message("the connection did not answer")),
                    }
                })
            },
        ))
        .build()
        .map_err(|e| DbError::Pool(e.to_string()))
}

/// Runs `f` with a pooled connection on a blocking thread.
pub async fn run<T, F>(pool: &DbPool, f: F) -> Result<T, DbError>
where
    F: FnOnce(&mut PgConnection) -> diesel::QueryResult<T> + Send + 'static,
    T: Send + 'static,
{
    let conn = pool.get().await.map_err(|e| DbError::Pool(e.to_string()))?;
    let result = conn
        .interact(f)
        .await
        .map_err(|e| DbError::Pool(e.to_string()))?;
    if let Err(e) = &result
        && connection_lost(e)
    {
        // Not back into the pool: the next caller gets a fresh connection.
        drop(Object::take(conn));
    }
    result.map_err(DbError::Query)
}

fn connection_lost(e: &QueryError) -> bool {
    matches!(
        e,
        QueryError::DatabaseError(
            DatabaseErrorKind::ClosedConnection | DatabaseErrorKind::UnableToSendCommand,
            _
        ) | QueryError::BrokenTransactionManager
    )
}

/// One round trip on a pooled connection: does the database answer?
pub async fn ping(pool: &DbPool) -> Result<(), DbError> {
    run(pool, |c| c.batch_execute("SELECT 1")).await
}

/// Key of the PostgreSQL advisory lock that serialises migrations ("scribe" in ASCII).
const MIGRATION_LOCK: i64 = 0x7363_7269_6265;

/// Applies pending migrations; a no-op when up to date. Two runs at once (two
/// release Jobs, a Job and a developer) take turns on an advisory lock, so the
/// second finds nothing left to do.
pub fn migrate(conn: &mut PgConnection) -> Result<usize, DbError> {
    use diesel::connection::SimpleConnection;
    let lock = |conn: &mut PgConnection, sql: &str| {
        conn.batch_execute(sql)
            .map_err(|e| DbError::Migration(e.to_string()))
    };
    lock(conn, &format!("SELECT pg_advisory_lock({MIGRATION_LOCK})"))?;
    let applied = conn
        .run_pending_migrations(MIGRATIONS)
        .map(|applied| applied.len())
        .map_err(|e| DbError::Migration(e.to_string()));
    lock(
        conn,
        &format!("SELECT pg_advisory_unlock({MIGRATION_LOCK})"),
    )?;
    applied
}

/// Whether the schema is at the version this binary was built with.
pub fn schema_is_current(conn: &mut PgConnection) -> Result<bool, DbError> {
    conn.has_pending_migration(MIGRATIONS)
        .map(|pending| !pending)
        .map_err(|e| DbError::Migration(e.to_string()))
}
