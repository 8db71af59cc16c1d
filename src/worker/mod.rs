//! Background jobs: what they are (`Job`), how they are enqueued (inside the caller's
//! transaction when it has one), and the retry policy of each kind. The queue itself is
//! in `queue` (PostgreSQL, `FOR UPDATE SKIP LOCKED`, leases), the worker loop in `worker`
//! and the periodic jobs in `scheduler`. Queue names are Mastodon's.
//!
//! Why a table in PostgreSQL rather than apalis: we need per-job priority, delayed
//! retries, transactional enqueue, a dead set and leases that survive SIGKILL; apalis-redis
//! ignores priority and hard-codes retries, and apalis-postgres would bring the same table
//! with more moving parts (its own migrations, sqlx macro pitfalls). The queue is a few
//! hundred lines behind `enqueue`/`queue`, so the backend can still change.

pub mod metrics;

pub mod runner;
pub mod scheduler;

use std::time::Duration;

use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use crate::core::error::{Error, Result};
use crate::{AppState, effects::feeds};

pub use runner::run_workers;

pub const QUEUES: &[&str] = &["default", "push", "ingress", "mailers", "pull", "scheduler"];
pub(crate) const CHANNEL: &str = "ferrodon_jobs";

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type")]
pub enum Job {
    /// Fan-out of a new or edited status to home feeds (Mastodon's DistributionWorker).
    Distribute {
        status_id: i64,
        update: bool,
    },
    /// The rest of a large fan-out, after follow row `after_follow_id` (lower priority).
    DistributeMore {
        status_id: i64,
        update: bool,
        after_follow_id: i64,
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
    /// After a hashtag unfollow: its statuses leave the home feed unless there for another reason.
    UnmergeTagFromHome {
        account_id: i64,
        tag_id: i64,
    },
    /// Rebuilds a list's feed after its members changed.
    RegenerateList {
        list_id: i64,
    },
    /// An activity another server posted to an inbox, signature already verified.
    Ingress {
        account_id: i64,
        activity: serde_json::Value,
    },
    /// One signed POST of `account_id`'s activity to a remote inbox.
    Deliver {
        account_id: i64,
        inbox: String,
        activity: serde_json::Value,
    },
    /// A new (or, with `update`, edited) local status, to the inboxes of remote followers
    /// and mentioned accounts.
    DistributeStatus {
        status_id: i64,
        #[serde(default)]
        update: bool,
    },
    /// Fetches the post a remote reply answers, unknown until then (the `pull` queue).
    FetchParent {
        status_id: i64,
        parent_uri: String,
    },
    /// Fetches the replies collection of a remote status, and the replies in it (`pull`).
    FetchReplies {
        status_id: i64,
        collection: String,
    },
    /// Downloads the file of a remote media attachment into our storage (`pull`).
    FetchRemoteMedia {
        media_id: i64,
    },
    /// Copies a remote account's avatar and header into our storage (`pull`).
    FetchProfileImages {
        account_id: i64,
    },
    /// The end of a local poll: notifications, and the final tallies to other servers.
    PollEnded {
        poll_id: i64,
    },
    /// A remote account moved to another: its local followers follow the new one
    /// (Mastodon's MoveWorker).
    MoveFollowers {
        origin_id: i64,
        target_id: i64,
    },
    /// A remote account was deleted on its server: its statuses and relations go.
    PurgeAccount {
        account_id: i64,
    },
    /// Writes (or removes) search documents in Meilisearch, when it is the backend.
    SearchIndex {
        kind: crate::effects::search::meili::Kind,
        id: i64,
    },
    /// One e-mail (the `mailers` queue).
    Mail(crate::effects::mail::MailJob),
    /// Metadata and a preview frame of an uploaded video or audio file.
    ProcessMedia {
        media_id: i64,
    },
    /// Daily: drop the feeds of users who have not been active (Mastodon's FeedsVacuum).
    VacuumFeeds,
    /// Diagnostic: waits `hold_ms`, then records `probe:<key>` in Redis (queue latency
    /// checks from `ferrodon ctl queues probe`).
    Probe {
        key: String,
        hold_ms: u64,
    },
}

impl Job {
    pub fn queue(&self) -> &'static str {
        match self {
            Job::VacuumFeeds => "scheduler",
            Job::Mail(_) => "mailers",
            Job::Ingress { .. } => "ingress",
            Job::FetchParent { .. }
            | Job::FetchReplies { .. }
            | Job::FetchRemoteMedia { .. }
            | Job::FetchProfileImages { .. } => "pull",
            Job::Deliver { .. } | Job::DistributeStatus { .. } => "push",
            _ => "default",
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Job::Distribute { .. } => "Distribute",
            Job::DistributeMore { .. } => "DistributeMore",
            Job::MergeIntoHome { .. } => "MergeIntoHome",
            Job::UnmergeFromHome { .. } => "UnmergeFromHome",
            Job::ClearFromHome { .. } => "ClearFromHome",
            Job::RemoveFromFeeds { .. } => "RemoveFromFeeds",
            Job::RegenerateHome { .. } => "RegenerateHome",
            Job::RegenerateList { .. } => "RegenerateList",
            Job::UnmergeTagFromHome { .. } => "UnmergeTagFromHome",
            Job::ProcessMedia { .. } => "ProcessMedia",
            Job::Mail(_) => "Mail",
            Job::Ingress { .. } => "Ingress",
            Job::FetchParent { .. } => "FetchParent",
            Job::FetchReplies { .. } => "FetchReplies",
            Job::FetchRemoteMedia { .. } => "FetchRemoteMedia",
            Job::FetchProfileImages { .. } => "FetchProfileImages",
            Job::PollEnded { .. } => "PollEnded",
            Job::SearchIndex { .. } => "SearchIndex",
            Job::MoveFollowers { .. } => "MoveFollowers",
            Job::PurgeAccount { .. } => "PurgeAccount",
            Job::Deliver { .. } => "Deliver",
            Job::DistributeStatus { .. } => "DistributeStatus",
            Job::VacuumFeeds => "VacuumFeeds",
            Job::Probe { .. } => "Probe",
        }
    }

    /// Higher runs first within a queue: the continuation of a huge fan-out yields to
    /// everything else.
    pub fn priority(&self) -> i32 {
        match self {
            Job::DistributeMore { .. } => -10,
            _ => 0,
        }
    }

    /// Feed work is cheap to redo and a cache anyway: a few tries. (Deliveries to other
    /// servers will get Mastodon's 16.)
    pub fn max_attempts(&self) -> i32 {
        match self {
            Job::VacuumFeeds | Job::Probe { .. } => 1,
            // Mastodon's PostProcessMediaWorker: one retry.
            Job::ProcessMedia { .. } => 2,
            // A mail server may be down for a while: about four days of retries.
            Job::Mail(_) => 12,
            // Mastodon's DeliveryWorker: 16 tries, about five days with this backoff.
            Job::Deliver { .. } => 16,
            Job::Ingress { .. } => 8,
            Job::FetchParent { .. }
            | Job::FetchReplies { .. }
            | Job::FetchRemoteMedia { .. }
            | Job::FetchProfileImages { .. } => 3,
            _ => 5,
        }
    }

    /// Seconds before retry `attempt` (1-based): Sidekiq's `attempt⁴ + 15`.
    pub fn backoff_seconds(&self, attempt: i32) -> i64 {
        (attempt as i64).pow(4) + 15
    }

    async fn perform(self, state: &AppState) -> Result<()> {
        match self {
            Job::Distribute { status_id, update } => feeds::distribute(state, status_id, update, 0).await,
            Job::DistributeMore { status_id, update, after_follow_id } => {
                feeds::distribute(state, status_id, update, after_follow_id).await
            }
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
            Job::RegenerateHome { account_id } => feeds::regenerate_now(state, account_id).await,
            Job::RegenerateList { list_id } => feeds::populate_list(state, list_id).await,
            Job::UnmergeTagFromHome { account_id, tag_id } => {
                feeds::unmerge_tag_from_home(state, account_id, tag_id).await
            }
            Job::ProcessMedia { media_id } => crate::effects::media::process_queued(state, media_id).await,
            Job::Mail(mail) => crate::effects::mail::deliver(state, &mail).await,
            Job::Ingress { account_id, activity } => {
                crate::effects::federation::activities::process(state, account_id, &activity).await
            }
            Job::Deliver { account_id, inbox, activity } => {
                crate::effects::federation::activities::deliver(state, account_id, &inbox, &activity).await
            }
            Job::FetchParent { status_id, parent_uri } => {
                crate::effects::federation::activities::fetch_parent(state, status_id, &parent_uri).await
            }
            Job::FetchReplies { status_id, collection } => {
                crate::effects::federation::threads::fetch_replies(state, status_id, &collection).await
            }
            Job::FetchRemoteMedia { media_id } => crate::effects::media::remote::fetch(state, media_id).await,
            Job::FetchProfileImages { account_id } => {
                crate::effects::media::remote::fetch_profile_images(state, account_id).await
            }
            Job::PollEnded { poll_id } => crate::domain::polls::ended(state, poll_id).await,
            Job::SearchIndex { kind, id } => match &state.search {
                Some(meili) => meili.reindex(&state.db.primary, kind, &[id]).await,
                None => Ok(()),
            },
            Job::MoveFollowers { origin_id, target_id } => {
                crate::effects::federation::actor_changes::move_followers(state, origin_id, target_id).await
            }
            Job::PurgeAccount { account_id } => {
                crate::effects::federation::actor_changes::purge_account(state, account_id).await
            }
            Job::DistributeStatus { status_id, update } => {
                crate::effects::federation::activities::distribute_status(state, status_id, update).await
            }
            Job::VacuumFeeds => feeds::vacuum(state).await.map(|_| ()),
            Job::Probe { key, hold_ms } => {
                tokio::time::sleep(Duration::from_millis(hold_ms)).await;
                let mut conn = state.redis.conn().await?;
                let now = chrono::Utc::now().timestamp_millis();
                let _: () = conn.set_ex(state.redis.key(format!("probe:{key}")), now, 3600).await?;
                Ok(())
            }
        }
    }
}

/// Enqueues a job; pass a transaction to make the job part of it.
pub async fn enqueue<'e, E: sqlx::PgExecutor<'e>>(executor: E, job: Job) -> Result<()> {
    enqueue_in(executor, job, 0).await
}

/// Enqueues a job that may run `delay_seconds` from now.
pub async fn enqueue_in<'e, E: sqlx::PgExecutor<'e>>(executor: E, job: Job, delay_seconds: i64) -> Result<()> {
    insert(executor, job, delay_seconds, false).await
}

/// `enqueue_in`, unless the same job is already waiting to run (Sidekiq's unique jobs):
/// a burst of triggers then gives one run.
pub async fn enqueue_once_in<'e, E: sqlx::PgExecutor<'e>>(executor: E, job: Job, delay_seconds: i64) -> Result<()> {
    insert(executor, job, delay_seconds, true).await
}

async fn insert<'e, E: sqlx::PgExecutor<'e>>(executor: E, job: Job, delay_seconds: i64, unique: bool) -> Result<()> {
    let payload = serde_json::to_value(&job).map_err(Error::internal)?;
    sqlx::query(
        "WITH job AS (INSERT INTO ferrodon_jobs (queue, kind, payload, max_attempts, priority, run_at)
                      SELECT $1, $2, $3, $4, $6, now() + make_interval(secs => $7)
                       WHERE NOT $8 OR NOT EXISTS (SELECT 1 FROM ferrodon_jobs
                                                    WHERE queue = $1 AND kind = $2 AND payload = $3 AND attempts = 0
                                                      AND locked_by IS NULL AND dead_at IS NULL)
                      RETURNING queue)
         SELECT pg_notify($5, queue) FROM job",
    )
    .bind(job.queue())
    .bind(job.kind())
    .bind(payload)
    .bind(job.max_attempts())
    .bind(CHANNEL)
    .bind(job.priority())
    .bind(delay_seconds as f64)
    .bind(unique)
    .execute(executor)
    .await?;
    Ok(())
}

/// Runs jobs of `queues` until none is runnable, in this task. Returns how many ran
/// (the tests use it instead of a worker process).
pub async fn drain(state: &AppState, queues: &[String]) -> Result<usize> {
    let owner = format!("drain:{}", std::process::id());
    let mut ran = 0;
    while let Some(job) = crate::core::queue::claim(state, queues, &owner).await? {
        runner::run_claimed(state, job).await?;
        ran += 1;
    }
    Ok(ran)
}
