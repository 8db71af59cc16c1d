//! The job table (`ferrodon_jobs`): enqueueing inside the caller's transaction, claiming with
//! a lease, finishing, retrying with Sidekiq's backoff, the dead set, and the figures
//! `ferrodon ctl queues` shows. The queue knows no job types: a layer that enqueues work
//! defines its jobs (`Job`), and the worker registers what runs each family.
//!
//! Why a table in PostgreSQL rather than apalis: we need per-job priority, delayed
//! retries, transactional enqueue, a dead set and leases that survive SIGKILL; apalis-redis
//! ignores priority and hard-codes retries, and apalis-postgres would bring the same table
//! with more moving parts (its own migrations, sqlx macro pitfalls). The queue is a few
//! hundred lines behind `enqueue` and `claim`, so the backend can still change.

use chrono::{DateTime, Utc};
use rand::Rng;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sqlx::{FromRow, PgExecutor, PgPool};

use crate::core::error::{Error, Result};

/// Mastodon's queues, in the order a worker serving all of them takes them.
pub const QUEUES: &[&str] = &["default", "push", "ingress", "mailers", "pull", "scheduler"];
/// The `NOTIFY` channel that wakes idle workers when a job is enqueued.
pub const CHANNEL: &str = "ferrodon_jobs";

/// Work for later. A family of jobs is one enum (serde-tagged by `type`): the `kind` column
/// holds the family, which the worker maps to the code that runs it.
pub trait Job: Serialize + DeserializeOwned {
    const FAMILY: &'static str;
    fn queue(&self) -> &'static str {
        "default"
    }
    /// Higher runs first within a queue.
    fn priority(&self) -> i32 {
        0
    }
    fn max_attempts(&self) -> i32 {
        5
    }
}

/// A job ready to be written: what `enqueue` stores for any `Job`.
#[derive(Debug, Clone)]
pub struct NewJob {
    pub kind: &'static str,
    pub queue: &'static str,
    pub payload: serde_json::Value,
    pub priority: i32,
    pub max_attempts: i32,
    pub delay_seconds: i64,
    /// Skipped when the same job is already waiting to run (Sidekiq's unique jobs): a
    /// burst of triggers then gives one run.
    pub unique: bool,
}

impl NewJob {
    pub fn of<J: Job>(job: &J) -> Result<NewJob> {
        Ok(NewJob {
            kind: J::FAMILY,
            queue: job.queue(),
            payload: serde_json::to_value(job).map_err(Error::internal)?,
            priority: job.priority(),
            max_attempts: job.max_attempts(),
            delay_seconds: 0,
            unique: false,
        })
    }
    pub fn delayed(mut self, seconds: i64) -> NewJob {
        self.delay_seconds = seconds;
        self
    }
    pub fn unique(mut self) -> NewJob {
        self.unique = true;
        self
    }
}

/// Enqueues a job; pass a transaction to make the job part of it.
pub async fn enqueue<'e, J: Job>(executor: impl PgExecutor<'e>, job: &J) -> Result<()> {
    insert(executor, &NewJob::of(job)?).await
}

/// Enqueues a job that may run `delay_seconds` from now.
pub async fn enqueue_in<'e, J: Job>(executor: impl PgExecutor<'e>, job: &J, delay_seconds: i64) -> Result<()> {
    insert(executor, &NewJob::of(job)?.delayed(delay_seconds)).await
}

/// `enqueue_in`, unless the same job is already waiting to run.
pub async fn enqueue_once_in<'e, J: Job>(executor: impl PgExecutor<'e>, job: &J, delay_seconds: i64) -> Result<()> {
    insert(executor, &NewJob::of(job)?.delayed(delay_seconds).unique()).await
}

pub async fn insert<'e>(executor: impl PgExecutor<'e>, job: &NewJob) -> Result<()> {
    sqlx::query(
        "WITH job AS (INSERT INTO ferrodon_jobs (queue, kind, payload, max_attempts, priority, run_at)
                      SELECT $1, $2, $3, $4, $6, now() + make_interval(secs => $7)
                       WHERE NOT $8 OR NOT EXISTS (SELECT 1 FROM ferrodon_jobs
                                                    WHERE queue = $1 AND kind = $2 AND payload = $3 AND attempts = 0
                                                      AND locked_by IS NULL AND dead_at IS NULL)
                      RETURNING queue)
         SELECT pg_notify($5, queue) FROM job",
    )
    .bind(job.queue)
    .bind(job.kind)
    .bind(&job.payload)
    .bind(job.max_attempts)
    .bind(CHANNEL)
    .bind(job.priority)
    .bind(job.delay_seconds as f64)
    .bind(job.unique)
    .execute(executor)
    .await?;
    Ok(())
}

/// Seconds before retry `attempt` (1-based): Sidekiq's `attempt⁴ + 15` plus its jitter of
/// up to ten seconds per attempt, so that jobs that failed together do not retry together.
pub fn backoff_seconds(attempt: i32) -> i64 {
    let attempt = attempt.max(1) as i64;
    attempt.pow(4) + 15 + rand::rng().random_range(0..10) * (attempt + 1)
}

/// A job a worker holds.
#[derive(Debug, Clone, FromRow)]
pub struct Claimed {
    pub id: i64,
    pub kind: String,
    pub payload: serde_json::Value,
    pub attempts: i32,
    pub max_attempts: i32,
}

impl Claimed {
    /// The job's family and, within it, its type (`Feeds/Distribute`).
    pub fn name(&self) -> String {
        match self.payload["type"].as_str() {
            Some(kind) => format!("{}/{kind}", self.kind),
            None => self.kind.clone(),
        }
    }
}

/// Claims the next runnable job from `queues` (earlier queues first, then priority, then
/// age) and leases it to `owner` for `lease_seconds`.
pub async fn claim(db: &PgPool, queues: &[String], owner: &str, lease_seconds: i64) -> Result<Option<Claimed>> {
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
    .bind(lease_seconds as f64)
    .bind(owner)
    .fetch_optional(db)
    .await?)
}

/// Extends the lease of a running job.
pub async fn heartbeat(db: &PgPool, id: i64, lease_seconds: i64) -> Result<()> {
    sqlx::query("UPDATE ferrodon_jobs SET locked_until = now() + make_interval(secs => $2) WHERE id = $1")
        .bind(id)
        .bind(lease_seconds as f64)
        .execute(db)
        .await?;
    Ok(())
}

/// Removes a finished job; pass a transaction to finish it together with other writes.
pub async fn complete<'e>(executor: impl PgExecutor<'e>, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM ferrodon_jobs WHERE id = $1").bind(id).execute(executor).await?;
    Ok(())
}

/// Records a failure: retried after `retry_in` seconds, or dead when `None`.
pub async fn fail(db: &PgPool, job: &Claimed, error: &str, retry_in: Option<i64>) -> Result<()> {
    sqlx::query(
        "UPDATE ferrodon_jobs SET locked_until = NULL, locked_by = NULL, last_error = $2, failed_at = now(),
                run_at = CASE WHEN $3::bigint IS NULL THEN run_at ELSE now() + make_interval(secs => $3::bigint) END,
                dead_at = CASE WHEN $3::bigint IS NULL THEN now() END
          WHERE id = $1",
    )
    .bind(job.id)
    .bind(error)
    .bind(retry_in)
    .execute(db)
    .await?;
    Ok(())
}

/// Gives back jobs a stopping worker still holds, so another worker runs them at once.
pub async fn release(db: &PgPool, owner_prefix: &str) -> Result<u64> {
    Ok(sqlx::query(
        "UPDATE ferrodon_jobs SET locked_until = NULL, locked_by = NULL, attempts = GREATEST(attempts - 1, 0)
          WHERE locked_by LIKE $1 || '%' AND dead_at IS NULL",
    )
    .bind(owner_prefix)
    .execute(db)
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

pub async fn stats(db: &PgPool) -> Result<Vec<QueueStats>> {
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
    .bind(QUEUES)
    .fetch_all(db)
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

/// Dead jobs, newest first: those of `queue` (or all), and only job `id` when given.
pub async fn dead(db: &PgPool, queue: Option<&str>, limit: i64) -> Result<Vec<DeadJob>> {
    Ok(sqlx::query_as::<_, DeadJob>(
        "SELECT id, queue, CASE WHEN payload ? 'type' THEN kind || '/' || (payload->>'type') ELSE kind END AS kind,
                attempts, last_error, dead_at FROM ferrodon_jobs
          WHERE dead_at IS NOT NULL AND ($1::text IS NULL OR queue = $1) ORDER BY dead_at DESC LIMIT $2",
    )
    .bind(queue)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Puts dead jobs back in their queues with fresh attempts.
pub async fn retry_dead(db: &PgPool, queue: Option<&str>, id: Option<i64>) -> Result<u64> {
    let moved = sqlx::query(
        "UPDATE ferrodon_jobs SET dead_at = NULL, attempts = 0, run_at = now(), locked_until = NULL, locked_by = NULL
          WHERE dead_at IS NOT NULL AND ($1::text IS NULL OR queue = $1) AND ($2::bigint IS NULL OR id = $2)",
    )
    .bind(queue)
    .bind(id)
    .execute(db)
    .await?
    .rows_affected();
    if moved > 0 {
        sqlx::query("SELECT pg_notify($1, 'retry')").bind(CHANNEL).execute(db).await?;
    }
    Ok(moved)
}

/// Deletes dead jobs (all, one queue's, or one job).
pub async fn drop_dead(db: &PgPool, queue: Option<&str>, id: Option<i64>) -> Result<u64> {
    Ok(sqlx::query(
        "DELETE FROM ferrodon_jobs
          WHERE dead_at IS NOT NULL AND ($1::text IS NULL OR queue = $1) AND ($2::bigint IS NULL OR id = $2)",
    )
    .bind(queue)
    .bind(id)
    .execute(db)
    .await?
    .rows_affected())
}
