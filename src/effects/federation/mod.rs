//! Federation with other servers over ActivityPub, as effects of domain events and
//! services of the inbox: HTTP signatures, the SSRF-guarded client, remote accounts and
//! posts (fetched and read), and delivery.

pub mod activities;
pub mod actor_changes;
pub mod availability;
pub mod collections;
pub mod flags;
pub mod http;
pub mod instance_actor;
pub mod notes;
pub mod polls;
pub mod remote;
pub mod sanitize;
pub mod signatures;
pub mod threads;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::AppState;
use crate::core::error::Result;
use crate::core::queue;
use crate::model::accounts;
use crate::model::statuses::{self, Status};

/// Federation's jobs: the activities that follow from domain events, one signed delivery
/// per inbox (the `push` queue, Mastodon's ActivityPub::DeliveryWorker), and fetches of
/// what a remote post refers to (the `pull` queue).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type")]
pub enum Job {
    /// A new or edited local status: Create or Update (a local reblog: Announce).
    PublishStatus {
        status_id: i64,
        update: bool,
    },
    /// A deleted local status: Delete (a local reblog: Undo of its Announce).
    Retract {
        status: Box<Status>,
    },
    Like {
        account_id: i64,
        status_id: i64,
        liked: bool,
    },
    Featured {
        account_id: i64,
        status_id: i64,
        pinned: bool,
    },
    Vote {
        account_id: i64,
        poll_id: i64,
        choices: Vec<i32>,
    },
    Follow {
        account_id: i64,
        target_account_id: i64,
    },
    AcceptFollow {
        account_id: i64,
        target_account_id: i64,
    },
    RejectFollow {
        account_id: i64,
        target_account_id: i64,
        follow_uri: Option<String>,
    },
    Unfollow {
        account_id: i64,
        target_account_id: i64,
        follow_uri: Option<String>,
    },
    Block {
        account_id: i64,
        target_account_id: i64,
        blocking: bool,
    },
    UpdateActor {
        account_id: i64,
    },
    /// A local account's data was deleted: a `Delete` of its actor to `inboxes`.
    DeleteActor {
        account_id: i64,
        inboxes: Vec<String>,
    },
    /// A report forwarded to the reported account's server.
    Flag {
        report_id: i64,
    },
    /// One signed POST of `account_id`'s activity to a remote inbox.
    Deliver {
        account_id: i64,
        inbox: String,
        activity: Value,
    },
    /// Fetches the post a remote reply answers, unknown until then.
    FetchParent {
        status_id: i64,
        parent_uri: String,
    },
    /// Fetches the replies collection of a remote status, and the replies in it.
    FetchReplies {
        status_id: i64,
        collection: String,
    },
}

impl queue::Job for Job {
    const FAMILY: &'static str = "Federation";
    fn queue(&self) -> &'static str {
        match self {
            Job::FetchParent { .. } | Job::FetchReplies { .. } => "pull",
            _ => "push",
        }
    }
    fn max_attempts(&self) -> i32 {
        match self {
            // Mastodon's DeliveryWorker: 16 tries, about five days with this backoff.
            Job::Deliver { .. } => 16,
            Job::FetchParent { .. } | Job::FetchReplies { .. } => 3,
            _ => 5,
        }
    }
}

impl Job {
    /// `job_id` identifies this job's run (a delivery that succeeded is not repeated when
    /// its job runs again).
    pub async fn perform(self, state: &AppState, job_id: i64) -> Result<()> {
        let db = &state.db.primary;
        match self {
            Job::PublishStatus { status_id, update } => {
                let status = statuses::find_many(db, &[status_id]).await?.pop();
                match status {
                    Some(reblog) if reblog.reblog_of_id.is_some() => activities::announced(state, &reblog, true).await,
                    Some(_) => activities::distribute_status(state, status_id, update).await,
                    None => Ok(()),
                }
            }
            Job::Retract { status } => match (status.is_local(), status.reblog_of_id, &status.uri) {
                (true, None, Some(uri)) => {
                    let author = accounts::get(db, status.account_id).await?;
                    activities::status_deleted(state, &author, uri).await
                }
                (true, Some(_), _) => activities::announced(state, &status, false).await,
                _ => Ok(()),
            },
            Job::Like { account_id, status_id, liked } => {
                let Some(status) = statuses::find_many(db, &[status_id]).await?.pop() else { return Ok(()) };
                activities::liked(state, account_id, &status, liked).await
            }
            Job::Featured { account_id, status_id, pinned } => {
                actor_changes::pinned(state, account_id, status_id, pinned).await
            }
            Job::Vote { account_id, poll_id, choices } => {
                let voter = accounts::get(db, account_id).await?;
                let poll = crate::model::polls::find(db, poll_id).await?;
                polls::voted(state, &voter, &poll, &choices).await
            }
            Job::Follow { account_id, target_account_id } => {
                activities::follow_requested(state, account_id, target_account_id).await
            }
            Job::AcceptFollow { account_id, target_account_id } => {
                activities::follow_accepted(state, target_account_id, account_id).await
            }
            Job::RejectFollow { account_id, target_account_id, follow_uri } => {
                activities::follow_rejected(state, target_account_id, account_id, follow_uri).await
            }
            Job::Unfollow { account_id, target_account_id, follow_uri } => {
                activities::unfollowed(state, account_id, target_account_id, follow_uri).await
            }
            Job::Block { account_id, target_account_id, blocking } => {
                activities::blocked(state, account_id, target_account_id, blocking).await
            }
            Job::UpdateActor { account_id } => actor_changes::profile_updated(state, account_id).await,
            Job::Flag { report_id } => flags::forward(state, report_id).await,
            Job::DeleteActor { account_id, inboxes } => activities::actor_deleted(state, account_id, inboxes).await,
            Job::Deliver { account_id, inbox, activity } => {
                activities::deliver(state, job_id, account_id, &inbox, &activity).await
            }
            Job::FetchParent { status_id, parent_uri } => activities::fetch_parent(state, status_id, &parent_uri).await,
            Job::FetchReplies { status_id, collection } => threads::fetch_replies(state, status_id, &collection).await,
        }
    }
}
