//! Effects of domain events: federation delivery, feed fan-out, live streaming events,
//! mail, search indexing and media processing.

pub mod activity;
mod dispatch;
pub mod federation;
pub mod feeds;
pub mod mail;
pub mod media;
pub mod search;
pub mod streaming;

use std::sync::Arc;

use crate::core::Core;
use crate::core::config::Config;
use crate::core::db::Db;
use crate::core::redis::Redis;
use crate::effects::media::Storage;

pub use dispatch::dispatch;

/// The state every process shares: the core (configuration, PostgreSQL) and the
/// connections of the effects. Domain operations take the `Core` it dereferences to.
#[derive(Clone)]
pub struct AppState {
    pub core: Core,
    pub redis: Redis,
    pub storage: Storage,
    /// Outgoing federation requests (SSRF-guarded).
    pub http: crate::effects::federation::http::Client,
    /// The Meilisearch backend of search, when `MEILI_URL` is set.
    pub search: Option<Arc<crate::effects::search::meili::Meili>>,
    /// The address ranges every request is refused from, cached.
    pub no_access: Arc<crate::model::sign_up_blocks::NoAccessRanges>,
}

impl std::ops::Deref for AppState {
    type Target = Core;
    fn deref(&self) -> &Core {
        &self.core
    }
}

impl AppState {
    /// A copy for one of `workers` web worker threads, with its own database and Redis pools
    /// (a share of `Config::pool_size` each). A worker thread runs its own event loop, and a
    /// connection is served by the loop that opened it: shared pools made each query's answer
    /// wait for whichever thread had opened the connection, and connections died with that
    /// thread's loop when the server stopped.
    pub fn for_worker(&self, workers: usize) -> crate::Result<AppState> {
        let share = self.config.pool_size().div_ceil(workers.max(1) as u32);
        Ok(AppState {
            core: Core { config: self.config.clone(), db: Db::connect_lazy(&self.config, share)? },
            redis: Redis::connect(&self.config.redis_url, &self.config.redis_key_prefix)?,
            ..self.clone()
        })
    }

    pub async fn connect(config: Config) -> crate::Result<Self> {
        let db = Db::connect(&config).await?;
        let redis = Redis::connect(&config.redis_url, &config.redis_key_prefix)?;
        let storage = Storage::new(&config.media);
        let http = crate::effects::federation::http::Client::new(config.allowed_private_addresses.clone())?;
        let search = match &config.meili {
            Some(meili) => Some(Arc::new(crate::effects::search::meili::Meili::new(meili)?)),
            None => None,
        };
        let no_access = Arc::default();
        Ok(AppState { core: Core { config: Arc::new(config), db }, redis, storage, http, search, no_access })
    }
}
