//! Which servers deliveries still go to, as Mastodon decides it: every day with a failed
//! delivery to a server is remembered (`exhausted_deliveries:<host>` in Redis); after seven
//! such days the server is marked unavailable (`unavailable_domains`) and deliveries to it
//! are dropped, until a delivery succeeds or the server posts to one of our inboxes. In
//! front of that, a circuit breaker per host: after ten failures in a row, attempts fail
//! fast (and are retried later) for a minute instead of waiting on a dead server.

use redis::AsyncCommands;

use crate::AppState;
use crate::core::error::Result;

const FAILURE_DAYS: usize = 7;
const BREAKER_THRESHOLD: i64 = 10;
const BREAKER_COOL_OFF_SECONDS: i64 = 60;

fn failures_key(state: &AppState, host: &str) -> String {
    state.redis.key(format!("exhausted_deliveries:{host}"))
}

fn breaker_key(state: &AppState, host: &str) -> String {
    state.redis.key(format!("delivery_breaker:{host}"))
}

pub async fn is_unavailable(state: &AppState, host: &str) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM unavailable_domains WHERE domain = $1)")
        .bind(host)
        .fetch_one(&state.db.primary)
        .await?)
}

/// True while the host's breaker is open.
pub async fn breaker_open(state: &AppState, host: &str) -> Result<bool> {
    let mut redis = state.redis.conn().await?;
    let failures: Option<i64> = redis.get(breaker_key(state, host)).await?;
    Ok(failures.unwrap_or(0) >= BREAKER_THRESHOLD)
}

/// A failed delivery: counts toward the breaker and records today.
pub async fn track_failure(state: &AppState, host: &str) -> Result<()> {
    let mut redis = state.redis.conn().await?;
    let breaker = breaker_key(state, host);
    let failures: i64 = redis.incr(&breaker, 1).await?;
    if failures == 1 || failures == BREAKER_THRESHOLD {
        let _: () = redis.expire(&breaker, BREAKER_COOL_OFF_SECONDS).await?;
    }
    let days = failures_key(state, host);
    let _: () = redis.sadd(&days, chrono::Utc::now().format("%Y%m%d").to_string()).await?;
    let failed_days: usize = redis.scard(&days).await?;
    if failed_days >= FAILURE_DAYS {
        sqlx::query(
            "INSERT INTO unavailable_domains (domain, created_at, updated_at)
             VALUES ($1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') ON CONFLICT (domain) DO NOTHING",
        )
        .bind(host)
        .execute(&state.db.primary)
        .await?;
        tracing::warn!(host, "marked unavailable after {FAILURE_DAYS} days of failed deliveries");
    }
    Ok(())
}

/// A successful delivery, or a verified request from the host: it is reachable again.
pub async fn track_success(state: &AppState, host: &str) -> Result<()> {
    let mut redis = state.redis.conn().await?;
    let _: () = redis.del(&[failures_key(state, host), breaker_key(state, host)]).await?;
    sqlx::query("DELETE FROM unavailable_domains WHERE domain = $1").bind(host).execute(&state.db.primary).await?;
    Ok(())
}

/// A verified request from the host: clears its record when there is one (one Redis
/// lookup in the common case).
pub async fn heard_from(state: &AppState, host: &str) -> Result<()> {
    let mut redis = state.redis.conn().await?;
    let tracked: bool = redis.exists(failures_key(state, host)).await?;
    if tracked { track_success(state, host).await } else { Ok(()) }
}
