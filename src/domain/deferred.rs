//! Domain operations that run later, from the queue: written as a job in the transaction
//! that makes them due.

use serde::{Deserialize, Serialize};

use crate::core::Core;
use crate::core::error::Result;
use crate::core::queue;
use crate::domain::moves;

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type")]
pub enum Job {
    /// The end of a local poll: notifications, and the final tallies to other servers.
    EndPoll { poll_id: i64 },
    /// A remote account moved to another: its local followers follow the new one.
    MoveFollowers { origin_id: i64, target_id: i64 },
    /// A remote account was deleted on its server: its statuses and relations go.
    PurgeAccount { account_id: i64 },
    /// A suspended account's data goes (see `deletion`).
    DeleteAccount { account_id: i64 },
    /// Every minute: suspensions past their 30 days are carried out.
    DeleteDueAccounts,
    /// A user can now use the server (confirmed and approved): what follows, once.
    Welcome { user_id: i64 },
    /// Hourly: forgets `Idempotency-Key`s older than an hour.
    VacuumIdempotencyKeys,
    /// A scheduled post's time has come (it is posted once, whichever job runs first).
    PublishScheduledStatus { id: i64 },
    /// Every minute: scheduled posts that are due and have no job (adopted from Mastodon).
    PublishDueScheduledStatuses,
}

impl queue::Job for Job {
    const FAMILY: &'static str = "Domain";
    fn queue(&self) -> &'static str {
        match self {
            Job::VacuumIdempotencyKeys | Job::DeleteDueAccounts | Job::PublishDueScheduledStatuses => "scheduler",
            _ => "default",
        }
    }
}

impl Job {
    pub async fn perform(self, core: &Core) -> Result<()> {
        match self {
            Job::EndPoll { poll_id } => crate::domain::polls::end(core, poll_id).await,
            Job::MoveFollowers { origin_id, target_id } => moves::move_followers(core, origin_id, target_id).await,
            Job::PurgeAccount { account_id } => moves::purge(core, account_id).await,
            Job::DeleteAccount { account_id } => crate::domain::deletion::delete_account(core, account_id).await,
            Job::DeleteDueAccounts => crate::domain::deletion::delete_due(core).await,
            Job::Welcome { user_id } => crate::domain::accounts::welcome(core, user_id).await,
            Job::PublishScheduledStatus { id } => crate::domain::scheduled::publish(core, id).await,
            Job::PublishDueScheduledStatuses => crate::domain::scheduled::publish_due(core).await,
            Job::VacuumIdempotencyKeys => {
                sqlx::query("DELETE FROM ferrodon_idempotency_keys WHERE created_at < now() - interval '1 hour'")
                    .execute(&core.db.primary)
                    .await?;
                Ok(())
            }
        }
    }
}
