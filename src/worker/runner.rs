//! The worker loop: `concurrency` tasks claim jobs from the given queues (earlier queues
//! first), keep their lease alive while a job runs, and on shutdown stop claiming, let
//! running jobs finish for a grace period, then hand back whatever is still unfinished.

use std::sync::Arc;
use std::time::Duration;

use sqlx::postgres::PgListener;
use tokio::sync::{Notify, watch};

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::core::queue::{self, Claimed};
use crate::worker::{CHANNEL, Job, scheduler};

/// How long running jobs may take to finish after SIGTERM before they are handed back.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(25);

/// Runs one claimed job to its end (success, retry or dead), extending its lease meanwhile.
pub async fn run_claimed(state: &AppState, job: Claimed) -> Result<()> {
    let outcome = match serde_json::from_value::<Job>(job.payload.clone()) {
        Ok(payload) => {
            let backoff = payload.backoff_seconds(job.attempts);
            let heartbeat_every = Duration::from_secs((state.config.job_lease_seconds / 3).max(1) as u64);
            let mut beat = tokio::time::interval(heartbeat_every);
            beat.tick().await;
            let run = payload.perform(state);
            tokio::pin!(run);
            let result = loop {
                tokio::select! {
                    result = &mut run => break result,
                    _ = beat.tick() => queue::heartbeat(state, job.id).await?,
                }
            };
            result.map_err(|e| (e.to_string(), Some(backoff)))
        }
        Err(e) => Err((format!("unreadable job payload: {e}"), None)),
    };
    match outcome {
        Ok(()) => queue::complete(state, job.id).await,
        Err((error, backoff)) => {
            let retry_in = backoff.filter(|_| job.attempts < job.max_attempts);
            match retry_in {
                Some(seconds) => {
                    tracing::warn!(job = job.id, kind = job.kind, attempt = job.attempts, retry_in = seconds, %error, "job failed")
                }
                None => {
                    tracing::error!(job = job.id, kind = job.kind, attempt = job.attempts, %error, "job failed; moved to the dead set")
                }
            }
            queue::fail(state, &job, &error, retry_in).await
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
                match queue::claim(&state, &queues, &owner).await {
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
        let returned = queue::release(&state, &owner).await?;
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
    let queues: Vec<String> =
        if queues.is_empty() { crate::worker::QUEUES.iter().map(|q| q.to_string()).collect() } else { queues };
    if let Some(unknown) = queues.iter().find(|q| !crate::worker::QUEUES.contains(&q.as_str())) {
        return Err(Error::bad_request(format!(
            "unknown queue {unknown:?}; known queues: {}",
            crate::worker::QUEUES.join(", ")
        )));
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
