//! What every handler shares: settings, pools, storage, metrics, session keys.

use std::collections::HashMap;
use std::sync::Arc;

use scribe_core::db::DbPool;
use scribe_core::settings::Settings;
use scribe_core::storage::Store;

use crate::events::EventHub;
use crate::metrics::Metrics;
use crate::outbox::Outbox;
use crate::session::SessionKeys;

pub struct AppState {
    pub settings: Arc<Settings>,
    pub db: DbPool,
    pub store: Store,
    pub amqp: deadpool_lapin::Pool,
    pub api_keys: HashMap<String, String>,
    pub languages: Vec<String>,
    pub metrics: Arc<Metrics>,
    pub events: EventHub,
    pub sessions: SessionKeys,
    /// Hands committed jobs to this replica's publishing relay.
    pub outbox: Outbox,
}
