//! The worker loop: `concurrency` tasks claim jobs from the given queues (earlier queues
//! first), keep their lease alive while a job runs, and on shutdown stop claiming, let
//! running jobs finish for a grace period, then hand back whatever is still unfinished.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{Notify, watch};

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::core::queue::{self, CHANNEL, Claimed, QUEUES};
use crate::worker::{registry, scheduler};

/// How long running jobs may take to finish after SIGTERM before they are handed back.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

/// What becomes of a job after a run.
#[derive(Debug, PartialEq)]
enum Outcome {
    Done,
    /// Its subject no longer exists (Mastodon's workers treat RecordNotFound as done).
    Gone,
    RetryIn(i64),
    Dead,
}

/// The error policy: a missing subject ends the job; an error no retry can mend (an
/// unreadable job, a request our rules refuse) sends it to the dead set at once; the other
/// side's `Retry-After` is honoured; anything else (server errors, resets, timeouts, an
/// unreachable server) retries with Sidekiq's backoff until the attempts run out.
fn outcome(result: &Result<()>, attempts: i32, max_attempts: i32) -> Outcome {
    let left = attempts < max_attempts;
    match result {
        Ok(()) => Outcome::Done,
        Err(Error::NotFound) => Outcome::Gone,
        Err(Error::BadRequest(_) | Error::Forbidden(_) | Error::Unauthorized(_) | Error::Gone(_)) => Outcome::Dead,
        Err(Error::RetryLater { after_seconds, .. }) if left => Outcome::RetryIn(*after_seconds),
        Err(_) if left => Outcome::RetryIn(queue::backoff_seconds(attempts)),
        Err(_) => Outcome::Dead,
    }
}

/// Runs one claimed job to its end (success, retry or dead), extending its lease meanwhile.
pub async fn run_claimed(state: &AppState, job: Claimed) -> Result<()> {
    let db = &state.db.primary;
    let lease = state.config.job_lease_seconds;
    let mut beat = tokio::time::interval(Duration::from_secs((lease / 3).max(1) as u64));
    beat.tick().await;
    let run = registry::perform(state, &job);
    tokio::pin!(run);
    let result = loop {
        tokio::select! {
            result = &mut run => break result,
            _ = beat.tick() => queue::heartbeat(db, job.id, lease).await?,
        }
    };
    let name = job.name();
    match outcome(&result, job.attempts, job.max_attempts) {
        Outcome::Done => queue::complete(db, job.id).await,
        Outcome::Gone => {
            tracing::debug!(job = job.id, kind = name, "the job's subject is gone; done");
            queue::complete(db, job.id).await
        }
        Outcome::RetryIn(seconds) => {
            let error = result.err().map(|e| e.to_string()).unwrap_or_default();
            tracing::warn!(job = job.id, kind = name, attempt = job.attempts, retry_in = seconds, %error, "job failed");
            queue::fail(db, &job, &error, Some(seconds)).await
        }
        Outcome::Dead => {
            let error = result.err().map(|e| e.to_string()).unwrap_or_default();
            tracing::error!(job = job.id, kind = name, attempt = job.attempts, %error, "job failed; moved to the dead set");
            queue::fail(db, &job, &error, None).await
        }
    }
}

/// The worker process's main loop. Returns after `shutdown` turns true and running jobs
/// have finished (or been handed back).
pub async fn run_workers(
    state: AppState,
    queues: Vec<String>,
    concurrency: usize,
    mut shutdown: watch::Receiver<bool>,
) -> Result<()> {
    let owner = format!("{}:{}", hostname(), std::process::id());
    let wake = Arc::new(Notify::new());
    let lease = state.config.job_lease_seconds;
    let mut listener = PgListener::connect_with(&state.db.primary).await?;
    listener.listen(CHANNEL).await?;
    let listener_wake = wake.clone();
    let listen_task = tokio::spawn(async move {
        while listener.recv().await.is_ok() {
            listener_wake.notify_waiters();
        }
        tracing::error!("job listener connection closed");
    });
    let scheduler_task =
        queues.iter().any(|q| q == "scheduler").then(|| tokio::spawn(scheduler::run(state.clone(), shutdown.clone())));

    let mut tasks = Vec::new();
    for slot in 0..concurrency.max(1) {
        let (state, queues, wake, mut stop) = (state.clone(), queues.clone(), wake.clone(), shutdown.clone());
        let owner = format!("{owner}:{slot}");
        tasks.push(tokio::spawn(async move {
            while !*stop.borrow() {
                let notified = wake.notified();
                match queue::claim(&state.db.primary, &queues, &owner, lease).await {
                    Ok(Some(job)) => {
                        if let Err(e) = run_claimed(&state, job).await {
                            tracing::error!(error = %e, "could not record a job's outcome");
                        }
                        continue;
                    }
                    Ok(None) => {}
                    Err(e) => tracing::error!(error = %e, "claiming a job failed"),
                }
                tokio::select! {
                    _ = notified => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    _ = stop.changed() => {}
                }
            }
        }));
    }

    while !*shutdown.borrow() {
        if shutdown.changed().await.is_err() {
            break;
        }
    }
    tracing::info!("stopping: waiting for running jobs");
    let all = futures_util::future::join_all(tasks);
    if tokio::time::timeout(SHUTDOWN_GRACE, all).await.is_err() {
        let returned = queue::release(&state.db.primary, &owner).await?;
        tracing::warn!(returned, "handed unfinished jobs back to the queue");
    }
    listen_task.abort();
    if let Some(task) = scheduler_task {
        task.await.map_err(Error::internal)?;
    }
    Ok(())
}

fn hostname() -> String {
    std::fs::read_to_string("/etc/hostname").map(|h| h.trim().to_string()).unwrap_or_else(|_| "localhost".into())
}

/// The worker's command line, shared by `ferrodon-worker` and `ferrodon worker`.
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// Queue to serve (repeatable; earlier ones take priority). Default: all queues.
    #[arg(short = 'q', long = "queue")]
    pub queues: Vec<String>,
    /// Jobs run at the same time.
    #[arg(short = 'c', long = "concurrency", default_value_t = 5)]
    pub concurrency: usize,
    /// Serve per-queue metrics (Prometheus text) at http://ADDRESS/metrics.
    #[arg(long)]
    pub metrics_bind: Option<String>,
}

/// The whole worker process (`ferrodon-worker`, or `ferrodon worker`): validates the queue
/// names, connects, runs until SIGTERM or Ctrl-C.
pub async fn process_main(mut config: crate::core::config::Config, args: WorkerArgs) -> Result<()> {
    let WorkerArgs { queues, concurrency, metrics_bind } = args;
    // As Sidekiq's: unless DB_POOL says otherwise, a connection for every concurrent job.
    config.db_pool = config.db_pool.or(Some(concurrency as u32));
    use tokio::signal::unix::{SignalKind, signal};
    let queues: Vec<String> = if queues.is_empty() { QUEUES.iter().map(|q| q.to_string()).collect() } else { queues };
    if let Some(unknown) = queues.iter().find(|q| !QUEUES.contains(&q.as_str())) {
        return Err(Error::bad_request(format!("unknown queue {unknown:?}; known queues: {}", QUEUES.join(", "))));
    }
    let state = AppState::connect(config).await?;
    let (stop, stopped) = watch::channel(false);
    let mut terminate = signal(SignalKind::terminate()).map_err(Error::internal)?;
    tokio::spawn(async move {
        tokio::select! {
            _ = terminate.recv() => {}
            _ = tokio::signal::ctrl_c() => {}
        }
        let _ = stop.send(true);
    });
    if let Some(address) = metrics_bind {
        tokio::spawn(crate::worker::metrics::server(state.clone(), &address)?);
    }
    tracing::info!(queues = ?queues, concurrency, "worker started");
    run_workers(state, queues, concurrency, stopped).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_error_policy() {
        let failed = |e: Error| -> Result<()> { Err(e) };
        assert_eq!(outcome(&Ok(()), 1, 5), Outcome::Done);
        assert_eq!(outcome(&failed(Error::NotFound), 1, 5), Outcome::Gone);
        assert_eq!(outcome(&failed(Error::bad_request("unreadable")), 1, 5), Outcome::Dead);
        let wait = || Error::RetryLater { after_seconds: 90, reason: "429".into() };
        assert_eq!(outcome(&failed(wait()), 1, 5), Outcome::RetryIn(90));
        assert_eq!(outcome(&failed(wait()), 5, 5), Outcome::Dead);
        match outcome(&failed(Error::internal("503")), 2, 5) {
            // Sidekiq: 2⁴ + 15, and up to 9 × 3 of jitter.
            Outcome::RetryIn(s) => assert!((31..=58).contains(&s), "{s}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(outcome(&failed(Error::internal("503")), 5, 5), Outcome::Dead);
    }
}
