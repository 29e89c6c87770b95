//! What every handler shares: settings, pools, storage, metrics, session keys.

use std::collections::HashMap;
use std::sync::Arc;

use scribe_core::db::DbPool;
use scribe_core::settings::Settings;
use scribe_core::storage::{Store, Writer};

use crate::events::EventHub;
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::session::SessionKeys;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: DbPool,
    pub store: Store,
    /// Where uploads are written as they arrive (on local storage, past the page cache).
    pub originals: Writer,
    pub amqp: deadpool_lapin::Pool,
    pub api_keys: HashMap<String, String>,
    pub languages: Vec<String>,
    pub metrics: Arc<Metrics>,
    pub events: EventHub,
    pub sessions: SessionKeys,
    /// Hands committed jobs to this replica's publishing relay.
    pub outbox: Outbox,
}
