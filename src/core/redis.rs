//! Redis access: one pool, and the key prefix every key and channel goes through.
//!
//! The pool hands out multiplexed connections without a round trip: deadpool-redis's
//! manager sends a PING on every checkout, which on a home timeline page doubled the Redis
//! round trips. Here a connection is pinged only after sitting idle, and one that failed
//! with a dropped-connection error is replaced instead of being handed out again.

use std::time::Duration;

use deadpool::managed::{self, Metrics, Object, RecycleError, RecycleResult};
use redis::aio::{ConnectionLike, MultiplexedConnection};
use redis::{Client, Cmd, Pipeline, RedisError, RedisFuture, Value};

use crate::core::error::{Error, Result};

/// Idle longer than this, a connection is pinged before it is handed out again.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Redis {
    pool: managed::Pool<Manager>,
    prefix: String,
}

impl Redis {
    pub fn connect(url: &str, prefix: &str) -> Result<Self> {
        let client = Client::open(url)?;
        let pool = managed::Pool::builder(Manager { client }).build().map_err(Error::internal)?;
        Ok(Redis { pool, prefix: prefix.to_string() })
    }

    pub async fn conn(&self) -> Result<Connection> {
        match self.pool.get().await {
            Ok(conn) => Ok(Connection(conn)),
            Err(managed::PoolError::Backend(e)) => Err(e.into()),
            Err(e) => Err(Error::internal(format!("redis pool: {e}"))),
        }
    }

    /// The full name of a key or channel (`feed:home:1` → `<prefix>feed:home:1`).
    pub fn key(&self, name: impl std::fmt::Display) -> String {
        format!("{}{name}", self.prefix)
    }

    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Deletes every key matching `pattern` (a full `SCAN MATCH` pattern, prefix included),
    /// a thousand at a time; returns how many went.
    pub async fn delete_matching(&self, pattern: &str) -> Result<u64> {
        let mut conn = self.conn().await?;
        let mut deleted = 0;
        let mut cursor: u64 = 0;
        loop {
            let (next, keys): (u64, Vec<String>) = redis::cmd("SCAN")
                .arg(cursor)
                .arg("MATCH")
                .arg(pattern)
                .arg("COUNT")
                .arg(1000)
                .query_async(&mut conn)
                .await?;
            if !keys.is_empty() {
                deleted += keys.len() as u64;
                let _: () = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await?;
            }
            if next == 0 {
                return Ok(deleted);
            }
            cursor = next;
        }
    }
}

struct Manager {
    client: Client,
}

/// A pooled connection, and whether it has seen its link to Redis drop.
struct Live {
    conn: MultiplexedConnection,
    dropped: bool,
}

impl managed::Manager for Manager {
    type Type = Live;
    type Error = RedisError;

    async fn create(&self) -> Result<Live, RedisError> {
        Ok(Live { conn: self.client.get_multiplexed_async_connection().await?, dropped: false })
    }

    async fn recycle(&self, live: &mut Live, metrics: &Metrics) -> RecycleResult<RedisError> {
        if live.dropped {
            return Err(RecycleError::message("connection to Redis dropped"));
        }
        if metrics.last_used() > PING_WHEN_IDLE_FOR {
            redis::cmd("PING").query_async::<()>(&mut live.conn).await?;
        }
        Ok(())
    }
}

/// A connection checked out of the pool; it goes back when dropped.
pub struct Connection(Object<Manager>);

impl Connection {
    fn note<T>(&mut self, result: &std::result::Result<T, RedisError>) {
        if let Err(e) = result
            && (e.is_connection_dropped() || e.is_unrecoverable_error())
        {
            self.0.dropped = true;
        }
    }
}

impl ConnectionLike for Connection {
    fn req_packed_command<'a>(&'a mut self, cmd: &'a Cmd) -> RedisFuture<'a, Value> {
        Box::pin(async move {
            let result = self.0.conn.req_packed_command(cmd).await;
            self.note(&result);
            result
        })
    }

    fn req_packed_commands<'a>(
        &'a mut self,
        pipeline: &'a Pipeline,
        offset: usize,
        count: usize,
    ) -> RedisFuture<'a, Vec<Value>> {
        Box::pin(async move {
            let result = self.0.conn.req_packed_commands(pipeline, offset, count).await;
            self.note(&result);
            result
        })
    }

    fn get_db(&self) -> i64 {
        self.0.conn.get_db()
    }
}
