//! Periodic jobs. Every process serving the `scheduler` queue runs this loop, but a
//! schedule fires exactly once per period: its row is claimed and moved forward in the
//! same transaction that enqueues the job.

use std::time::Duration;

use tokio::sync::watch;

use crate::AppState;
use crate::core::error::Result;
use crate::core::queue::{self, NewJob};
use crate::domain::deferred;
use crate::effects::feeds;

const TICK: Duration = Duration::from_secs(5);

fn job_for(schedule: &str) -> Result<Option<NewJob>> {
    Ok(match schedule {
        "feeds_vacuum" => Some(NewJob::of(&feeds::Job::Vacuum)?),
        "idempotency_keys_vacuum" => Some(NewJob::of(&deferred::Job::VacuumIdempotencyKeys)?),
        "suspended_accounts_deletion" => Some(NewJob::of(&deferred::Job::DeleteDueAccounts)?),
        "scheduled_statuses" => Some(NewJob::of(&deferred::Job::PublishDueScheduledStatuses)?),
        _ => None,
    })
}

/// Enqueues the jobs whose time has come; returns their schedule names.
pub async fn tick(state: &AppState) -> Result<Vec<String>> {
    let mut fired = Vec::new();
    loop {
        let mut tx = state.db.primary.begin().await?;
        let due: Option<String> = sqlx::query_scalar(
            "UPDATE ferrodon_schedules SET last_run_at = now(), next_run_at = now() + make_interval(secs => every_seconds)
              WHERE name = (SELECT name FROM ferrodon_schedules WHERE next_run_at <= now()
                             ORDER BY next_run_at LIMIT 1 FOR UPDATE SKIP LOCKED)
              RETURNING name",
        )
        .fetch_optional(&mut *tx)
        .await?;
        let Some(name) = due else { break };
        match job_for(&name)? {
            Some(job) => queue::insert(&mut *tx, &job).await?,
            None => tracing::warn!(schedule = name, "unknown schedule"),
        }
        tx.commit().await?;
        fired.push(name);
    }
    Ok(fired)
}

pub async fn run(state: AppState, mut shutdown: watch::Receiver<bool>) {
    while !*shutdown.borrow() {
        if let Err(e) = tick(&state).await {
            tracing::error!(error = %e, "scheduler tick failed");
        }
        tokio::select! {
            _ = tokio::time::sleep(TICK) => {}
            _ = shutdown.changed() => {}
        }
    }
}
