//! The job table: claiming with a lease, finishing, retrying, the dead set, and the
//! figures `ferrodon ctl queues` shows.

use chrono::{DateTime, Utc};
use sqlx::FromRow;

use crate::AppState;
use crate::core::error::Result;

/// A job a worker holds.
#[derive(Debug, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub max_attempts: i32,
}

/// Claims the next runnable job from `queues` (earlier queues first, then priority, then
/// age) and leases it to `owner`.
pub async fn claim(state: &AppState, queues: &[String], owner: &str) -> Result<Option<Claimed>> {
    Ok(sqlx::query_as::<_, Claimed>(
        "UPDATE ferrodon_jobs SET locked_until = now() + make_interval(secs => $2), locked_by = $3, attempts = attempts + 1
          WHERE id = (SELECT id FROM ferrodon_jobs
                       WHERE queue = ANY($1) AND dead_at IS NULL AND run_at <= now()
                         AND (locked_until IS NULL OR locked_until < now())
                       ORDER BY array_position($1, queue), priority DESC, run_at, id
                       LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING id, kind, payload, attempts, max_attempts",
    )
    .bind(queues)
    .bind(state.config.job_lease_seconds as f64)
    .bind(owner)
    .fetch_optional(&state.db.primary)
    .await?)
}

/// Extends the lease of a running job.
pub async fn heartbeat(state: &AppState, id: i64) -> Result<()> {
    sqlx::query("UPDATE ferrodon_jobs SET locked_until = now() + make_interval(secs => $2) WHERE id = $1")
        .bind(id)
        .bind(state.config.job_lease_seconds as f64)
        .execute(&state.db.primary)
        .await?;
    Ok(())
}

pub async fn complete(state: &AppState, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM ferrodon_jobs WHERE id = $1").bind(id).execute(&state.db.primary).await?;
    Ok(())
}

/// Records a failure: retried after `retry_in` seconds, or dead when out of attempts.
pub async fn fail(state: &AppState, job: &Claimed, error: &str, retry_in: Option<i64>) -> Result<()> {
    sqlx::query(
        "UPDATE ferrodon_jobs SET locked_until = NULL, locked_by = NULL, last_error = $2, failed_at = now(),
                run_at = CASE WHEN $3::bigint IS NULL THEN run_at ELSE now() + make_interval(secs => $3::bigint) END,
                dead_at = CASE WHEN $3::bigint IS NULL THEN now() END
          WHERE id = $1",
    )
    .bind(job.id)
    .bind(error)
    .bind(retry_in)
    .execute(&state.db.primary)
    .await?;
    Ok(())
}

/// Gives back jobs a stopping worker still holds, so another worker runs them at once.
pub async fn release(state: &AppState, owner_prefix: &str) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE ferrodon_jobs SET locked_until = NULL, locked_by = NULL, attempts = GREATEST(attempts - 1, 0)
          WHERE locked_by LIKE $1 || '%' AND dead_at IS NULL",
    )
    .bind(owner_prefix)
    .execute(&state.db.primary)
    .await?
    .rows_affected())
}

#[derive(Debug, FromRow)]
pub struct QueueStats {
    pub queue: String,
    pub ready: i64,
    pub scheduled: i64,
    pub running: i64,
    pub retrying: i64,
    pub dead: i64,
    /// How long the oldest runnable job has waited (the queue's latency), in seconds.
    pub latency_seconds: f64,
}

pub async fn stats(state: &AppState) -> Result<Vec<QueueStats>> {
    Ok(sqlx::query_as::<_, QueueStats>(
        "SELECT q.queue,
                count(j.id) FILTER (WHERE j.dead_at IS NULL AND j.run_at <= now()
                                      AND (j.locked_until IS NULL OR j.locked_until < now())) AS ready,
                count(j.id) FILTER (WHERE j.dead_at IS NULL AND j.run_at > now()) AS scheduled,
                count(j.id) FILTER (WHERE j.dead_at IS NULL AND j.locked_until >= now()) AS running,
                count(j.id) FILTER (WHERE j.dead_at IS NULL AND j.attempts > 0 AND j.locked_until IS NULL) AS retrying,
                count(j.id) FILTER (WHERE j.dead_at IS NOT NULL) AS dead,
                COALESCE(extract(epoch FROM now() - min(j.run_at) FILTER (
                    WHERE j.dead_at IS NULL AND j.run_at <= now()
                      AND (j.locked_until IS NULL OR j.locked_until < now()))), 0)::float8 AS latency_seconds
           FROM unnest($1::text[]) AS q(queue) LEFT JOIN ferrodon_jobs j ON j.queue = q.queue
          GROUP BY q.queue ORDER BY array_position($1, q.queue)",
    )
    .bind(crate::worker::QUEUES)
    .fetch_all(&state.db.primary)
    .await?)
}

#[derive(Debug, FromRow)]
pub struct DeadJob {
    pub id: i64,
    pub queue: String,
    pub kind: String,
    pub attempts: i32,
    pub last_error: Option<String>,
    pub dead_at: Option<DateTime<Utc>>,
}

pub async fn dead(state: &AppState, queue: Option<&str>, limit: i64) -> Result<Vec<DeadJob>> {
    Ok(sqlx::query_as::<_, DeadJob>(
        "SELECT id, queue, kind, attempts, last_error, dead_at FROM ferrodon_jobs
          WHERE dead_at IS NOT NULL AND ($1::text IS NULL OR queue = $1) ORDER BY dead_at DESC LIMIT $2",
    )
    .bind(queue)
    .bind(limit)
    .fetch_all(&state.db.primary)
    .await?)
}

/// Puts dead jobs back in their queues with fresh attempts.
pub async fn retry_dead(state: &AppState, queue: Option<&str>, id: Option<i64>) -> Result<u64> {
    let moved = sqlx::query(
        "UPDATE ferrodon_jobs SET dead_at = NULL, attempts = 0, run_at = now(), locked_until = NULL, locked_by = NULL
          WHERE dead_at IS NOT NULL AND ($1::text IS NULL OR queue = $1) AND ($2::bigint IS NULL OR id = $2)",
    )
    .bind(queue)
    .bind(id)
    .execute(&state.db.primary)
    .await?
    .rows_affected();
    if moved > 0 {
        sqlx::query("SELECT pg_notify($1, 'retry')").bind(crate::worker::CHANNEL).execute(&state.db.primary).await?;
    }
    Ok(moved)
}
