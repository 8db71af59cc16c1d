//! The worker: the job families and what runs each (`registry`), the loop that claims and
//! runs jobs with Mastodon's retry policy (`runner`), the periodic jobs (`scheduler`) and
//! per-queue metrics. The queue itself is `core::queue`.

pub mod metrics;
pub mod registry;
pub mod runner;
pub mod scheduler;

use std::time::Duration;

use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::core::error::Result;
use crate::core::queue;

pub use runner::run_workers;

/// Diagnostic: waits `hold_ms`, then records `probe:<key>` in Redis (queue latency checks
/// from `ferrodon ctl queues probe`).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
pub struct Probe {
    pub key: String,
    pub hold_ms: u64,
}

impl queue::Job for Probe {
    const FAMILY: &'static str = "Probe";
    fn max_attempts(&self) -> i32 {
        1
    }
}

impl Probe {
    pub async fn perform(self, state: &AppState) -> Result<()> {
        tokio::time::sleep(Duration::from_millis(self.hold_ms)).await;
        let mut conn = state.redis.conn().await?;
        let now = chrono::Utc::now().timestamp_millis();
        let _: () = conn.set_ex(state.redis.key(format!("probe:{}", self.key)), now, 3600).await?;
        Ok(())
    }
}

/// Runs jobs of `queues` until none is runnable, in this task. Returns how many ran
/// (the tests use it instead of a worker process).
pub async fn drain(state: &AppState, queues: &[String]) -> Result<usize> {
    let owner = format!("drain:{}", std::process::id());
    let mut ran = 0;
    while let Some(job) = queue::claim(&state.db.primary, queues, &owner, state.config.job_lease_seconds).await? {
        runner::run_claimed(state, job).await?;
        ran += 1;
    }
    Ok(ran)
}
