//! Background jobs: payloads, enqueueing (inside the caller's transaction when it has
//! one) and the worker loop. Jobs live in PostgreSQL (`ferrodon_jobs`), are claimed with
//! `FOR UPDATE SKIP LOCKED`, and workers are woken by `NOTIFY` instead of polling hard.
//! Queue names are Mastodon's (default, push, pull, ingress, mailers, scheduler).

use std::sync::Arc;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use sqlx::postgres::PgListener;
use tokio::sync::Notify;

use crate::error::{Error, Result};
use crate::{AppState, feeds};

pub const QUEUES: &[&str] = &["default", "push", "ingress", "mailers", "pull", "scheduler"];
const CHANNEL: &str = "ferrodon_jobs";
/// A claimed job is given back to the queue if its worker vanishes for this long.
const LEASE_SECONDS: i32 = 300;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type")]
pub enum Job {
    /// Fan-out of a new or edited status to home feeds (Mastodon's DistributionWorker).
    Distribute {
        status_id: i64,
        update: bool,
    },
    MergeIntoHome {
        from_account_id: i64,
        into_account_id: i64,
    },
    UnmergeFromHome {
        from_account_id: i64,
        into_account_id: i64,
    },
    ClearFromHome {
        account_id: i64,
        target_account_id: i64,
    },
    RemoveFromFeeds {
        status_id: i64,
        account_id: i64,
        reblog_of_id: Option<i64>,
    },
    RegenerateHome {
        account_id: i64,
    },
}

impl Job {
    pub fn queue(&self) -> &'static str {
        "default"
    }

    fn kind(&self) -> &'static str {
        match self {
            Job::Distribute { .. } => "Distribute",
            Job::MergeIntoHome { .. } => "MergeIntoHome",
            Job::UnmergeFromHome { .. } => "UnmergeFromHome",
            Job::ClearFromHome { .. } => "ClearFromHome",
            Job::RemoveFromFeeds { .. } => "RemoveFromFeeds",
            Job::RegenerateHome { .. } => "RegenerateHome",
        }
    }

    async fn perform(self, state: &AppState) -> Result<()> {
        match self {
            Job::Distribute { status_id, update } => feeds::distribute(state, status_id, update).await,
            Job::MergeIntoHome { from_account_id, into_account_id } => {
                feeds::merge_into_home(state, from_account_id, into_account_id).await
            }
            Job::UnmergeFromHome { from_account_id, into_account_id } => {
                feeds::unmerge_from_home(state, from_account_id, into_account_id).await
            }
            Job::ClearFromHome { account_id, target_account_id } => {
                feeds::clear_from_home(state, account_id, target_account_id).await
            }
            Job::RemoveFromFeeds { status_id, account_id, reblog_of_id } => {
                feeds::remove_status(state, status_id, account_id, reblog_of_id).await
            }
            Job::RegenerateHome { account_id } => feeds::populate_home(state, account_id).await,
        }
    }
}

/// Enqueues a job; pass a transaction to make the job part of it.
pub async fn enqueue<'e, E: sqlx::PgExecutor<'e>>(executor: E, job: Job) -> Result<()> {
    let payload = serde_json::to_value(&job).map_err(Error::internal)?;
    sqlx::query(
        "WITH job AS (INSERT INTO ferrodon_jobs (queue, kind, payload) VALUES ($1, $2, $3) RETURNING queue)
         SELECT pg_notify($4, queue) FROM job",
    )
    .bind(job.queue())
    .bind(job.kind())
    .bind(payload)
    .bind(CHANNEL)
    .execute(executor)
    .await?;
    Ok(())
}

#[derive(sqlx::FromRow)]
struct Claimed {
    id: i64,
    payload: serde_json::Value,
    attempts: i32,
    max_attempts: i32,
}

/// Claims the next runnable job from `queues`, earlier queues first.
async fn claim(state: &AppState, queues: &[String]) -> Result<Option<Claimed>> {
    Ok(sqlx::query_as::<_, Claimed>(
        "UPDATE ferrodon_jobs SET locked_until = now() + make_interval(secs => $2), attempts = attempts + 1
          WHERE id = (SELECT id FROM ferrodon_jobs
                       WHERE queue = ANY($1) AND run_at <= now() AND (locked_until IS NULL OR locked_until < now())
                       ORDER BY array_position($1, queue), priority DESC, run_at, id
                       LIMIT 1 FOR UPDATE SKIP LOCKED)
          RETURNING id, payload, attempts, max_attempts",
    )
    .bind(queues)
    .bind(LEASE_SECONDS)
    .fetch_optional(&state.db.primary)
    .await?)
}

/// Sidekiq's retry delay: attempts⁴ + 15 seconds (without jitter).
fn backoff(attempts: i32) -> i64 {
    (attempts as i64).pow(4) + 15
}

async fn finish(state: &AppState, job: &Claimed, outcome: Result<()>) -> Result<()> {
    let db = &state.db.primary;
    match outcome {
        Ok(()) => {
            sqlx::query("DELETE FROM ferrodon_jobs WHERE id = $1").bind(job.id).execute(db).await?;
        }
        Err(e) if job.attempts >= job.max_attempts => {
            tracing::error!(job = job.id, error = %e, "job failed for the last time");
            sqlx::query(
                "UPDATE ferrodon_jobs SET queue = queue || ':dead', locked_until = NULL, last_error = $2 WHERE id = $1",
            )
            .bind(job.id)
            .bind(e.to_string())
            .execute(db)
            .await?;
        }
        Err(e) => {
            tracing::warn!(job = job.id, attempt = job.attempts, error = %e, "job failed; will retry");
            sqlx::query(
                "UPDATE ferrodon_jobs SET locked_until = NULL, last_error = $2, run_at = now() + make_interval(secs => $3)
                  WHERE id = $1",
            )
            .bind(job.id)
            .bind(e.to_string())
            .bind(backoff(job.attempts) as f64)
            .execute(db)
            .await?;
        }
    }
    Ok(())
}

/// Runs jobs until none is runnable. Returns how many ran (used by tests and the CLI).
pub async fn drain(state: &AppState, queues: &[String]) -> Result<usize> {
    let mut ran = 0;
    while let Some(job) = claim(state, queues).await? {
        let outcome = match serde_json::from_value::<Job>(job.payload.clone()) {
            Ok(payload) => payload.perform(state).await,
            Err(e) => Err(Error::internal(format!("unreadable job payload: {e}"))),
        };
        finish(state, &job, outcome).await?;
        ran += 1;
    }
    Ok(ran)
}

/// The worker process: `concurrency` loops over `queues`, woken by NOTIFY and at least
/// once a second (for scheduled retries).
pub async fn run_workers(state: AppState, queues: Vec<String>, concurrency: usize) -> Result<()> {
    let wake = Arc::new(Notify::new());
    let mut listener = PgListener::connect_with(&state.db.primary).await?;
    listener.listen(CHANNEL).await?;
    let listener_wake = wake.clone();
    tokio::spawn(async move {
        while let Ok(_notification) = listener.recv().await {
            listener_wake.notify_waiters();
        }
        tracing::error!("job listener connection closed");
    });
    let mut handles = Vec::new();
    for _ in 0..concurrency.max(1) {
        let state = state.clone();
        let queues = queues.clone();
        let wake = wake.clone();
        handles.push(tokio::spawn(async move {
            loop {
                let notified = wake.notified();
                if let Err(e) = drain(&state, &queues).await {
                    tracing::error!(error = %e, "worker loop error");
                }
                let _ = tokio::time::timeout(Duration::from_secs(1), notified).await;
            }
        }));
    }
    // The loops run until the process stops; getting here means one of them panicked.
    let (ended, _, _) = futures_util::future::select_all(handles).await;
    ended.map_err(Error::internal)?;
    Err(Error::internal("a worker loop ended"))
}
