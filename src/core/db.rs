//! PostgreSQL pools: the primary for writes, and a read replica (or the primary again when
//! none is configured) for the read paths Mastodon sends to its replica.

use sqlx::AssertSqlSafe;
use std::str::FromStr;
use std::time::Duration;

use sqlx::postgres::{PgConnectOptions, PgPoolOptions};
use sqlx::{ConnectOptions, PgPool};

use crate::core::config::Config;

#[derive(Clone, Debug)]
pub struct Db {
    pub primary: PgPool,
    /// Read-only work that may lag behind the primary (home timeline hydration, fan-out reads).
    pub replica: PgPool,
}

pub fn connect_options(url: &str, prepared_statements: bool) -> Result<PgConnectOptions, sqlx::Error> {
    let mut options = PgConnectOptions::from_str(url)?.log_statements(tracing::log::LevelFilter::Trace);
    if prepared_statements {
        // Plan each cached statement once. PostgreSQL's default re-plans a statement on
        // every execution while it judges a custom plan cheaper, and planning the
        // visibility predicate (`statuses::visible_sql`) costs more than running it.
        options = options.options([("plan_cache_mode", "force_generic_plan")]);
    } else {
        // Behind PgBouncer in transaction mode: do not keep named statements around.
        options = options.statement_cache_capacity(0);
    }
    Ok(options)
}

/// A pooled connection idle longer than this is pinged before use. sqlx's default pings on
/// every checkout, a round trip per query that busy paths (a home timeline page runs three
/// queries) cannot afford; a connection in steady use has just shown it is alive.
const PING_WHEN_IDLE_FOR: Duration = Duration::from_secs(30);

fn pool_options(size: u32) -> PgPoolOptions {
    PgPoolOptions::new()
        .max_connections(size.max(1))
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire(false)
        .before_acquire(|conn, meta| {
            Box::pin(async move {
                if meta.idle_for > PING_WHEN_IDLE_FOR {
                    sqlx::Connection::ping(conn).await?;
                }
                Ok(true)
            })
        })
}

impl Db {
    /// Pools of `Config::pool_size` connections, checked by connecting once.
    pub async fn connect(config: &Config) -> Result<Self, sqlx::Error> {
        let db = Db::connect_lazy(config, config.pool_size())?;
        drop(db.primary.acquire().await?);
        drop(db.replica.acquire().await?);
        Ok(db)
    }

    /// Pools of `size` connections that connect on first use, from the task that uses them.
    pub fn connect_lazy(config: &Config, size: u32) -> Result<Self, sqlx::Error> {
        let pool = |url: &str| -> Result<PgPool, sqlx::Error> {
            Ok(pool_options(size).connect_lazy_with(connect_options(url, config.prepared_statements)?))
        };
        let primary = pool(&config.database_url)?;
        let replica = match &config.replica_database_url {
            Some(url) => pool(url)?,
            None => primary.clone(),
        };
        Ok(Db { primary, replica })
    }
}

/// Creates the database named in `url` if it does not exist (connecting to `postgres`).
pub async fn create_database_if_missing(url: &str) -> Result<bool, sqlx::Error> {
    let options = PgConnectOptions::from_str(url)?;
    let name = options.get_database().unwrap_or("postgres").to_string();
    let admin = options.clone().database("postgres");
    let mut conn = admin.connect().await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        sqlx::query(AssertSqlSafe(format!("CREATE DATABASE \"{}\"", name.replace('"', "\"\""))))
            .execute(&mut conn)
            .await?;
    }
    Ok(!exists)
}
