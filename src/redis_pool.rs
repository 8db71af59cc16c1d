//! Redis access: one pool, and the key prefix every key and channel goes through.

use deadpool_redis::{Config as PoolConfig, Connection, Pool, Runtime};

use crate::error::Result;

#[derive(Clone)]
pub struct Redis {
    pool: Pool,
    prefix: String,
}

impl Redis {
    pub fn connect(url: &str, prefix: &str) -> Result<Self> {
        let pool =
            PoolConfig::from_url(url).create_pool(Some(Runtime::Tokio1)).map_err(crate::error::Error::internal)?;
        Ok(Redis { pool, prefix: prefix.to_string() })
    }

    pub async fn conn(&self) -> Result<Connection> {
        Ok(self.pool.get().await?)
    }

    /// The full name of a key or channel (`feed:home:1` → `<prefix>feed:home:1`).
    pub fn key(&self, name: impl std::fmt::Display) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }
}
