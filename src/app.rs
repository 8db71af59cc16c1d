//! The state every process shares: configuration, database pools, Redis.

use std::sync::Arc;

use crate::config::Config;
use crate::db::Db;
use crate::media::Storage;
use crate::redis_pool::Redis;

#[derive(Clone)]
pub struct AppState {
    pub config: Arc<Config>,
    pub db: Db,
    pub redis: Redis,
    pub storage: Storage,
    /// Outgoing federation requests (SSRF-guarded).
    pub http: crate::federation::http::Client,
    /// The Meilisearch backend of search, when `MEILI_URL` is set.
    pub search: Option<Arc<crate::search::meili::Meili>>,
}

impl AppState {
    pub async fn connect(config: Config) -> crate::Result<Self> {
        let db = Db::connect(&config).await?;
        let redis = Redis::connect(&config.redis_url, &config.redis_key_prefix)?;
        let storage = Storage::new(&config.media);
        let http = crate::federation::http::Client::new(config.allowed_private_addresses.clone())?;
        let search = match &config.meili {
            Some(meili) => Some(Arc::new(crate::search::meili::Meili::new(meili)?)),
            None => None,
        };
        Ok(AppState { config: Arc::new(config), db, redis, storage, http, search })
    }
}
