//! The bottom layer: configuration, the PostgreSQL and Redis pools, ids and time, the error
//! type, pagination, the job table, and Mastodon's text rules. It uses nothing of ours.

pub mod config;
pub mod db;
pub mod error;
pub mod pagination;
pub mod queue;
pub mod redis;
pub mod schema;
pub mod secrets;
pub mod text;
pub mod time;

use std::sync::Arc;

/// What the domain works with: the configuration and the PostgreSQL pools. The connections
/// only effects use (Redis, media storage, the federation client, search) are added by
/// `effects::AppState`, which dereferences to this.
#[derive(Clone)]
pub struct Core {
    pub config: Arc<config::Config>,
    pub db: db::Db,
}
