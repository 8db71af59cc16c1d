//! Domain events: what a domain operation did, written in the operation's own transaction
//! (`emit`) as a row of the job table. Once the transaction commits, the worker hands each
//! event to `effects::dispatch`, which turns it, in one more transaction, into the jobs of
//! the effects that follow from it (federation, feeds, streaming, mail, search, media). So
//! an effect happens after the rows it is about are committed, once per event, and a failed
//! effect is retried on its own without repeating the others.
//!
//! Events name their subjects by id. A subject that is gone by the time an effect runs
//! (a status deleted meanwhile) ends that effect quietly; a deleted status travels as its
//! last row, since nothing is left to read.

use serde::{Deserialize, Serialize};

use crate::core::error::Result;
use crate::core::queue::{self, Job};
use crate::model::statuses::Status;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type")]
pub enum Event {
    /// A new status or reblog, local or remote.
    StatusCreated {
        status_id: i64,
        local: bool,
    },
    /// A status's text, media or poll changed (an edit), or only a local poll's tallies
    /// (`edited: false`).
    StatusUpdated {
        status_id: i64,
        edited: bool,
    },
    /// A status (and the reblogs of it, removed with it) was deleted.
    StatusDeleted {
        status: Box<Status>,
        tags: Vec<String>,
        reblogs: Vec<(i64, i64)>,
    },
    Favourited {
        account_id: i64,
        status_id: i64,
    },
    Unfavourited {
        account_id: i64,
        status_id: i64,
    },
    /// Bookmarking changes who may find a status in search.
    BookmarkChanged {
        status_id: i64,
    },
    Pinned {
        account_id: i64,
        status_id: i64,
    },
    Unpinned {
        account_id: i64,
        status_id: i64,
    },
    Voted {
        account_id: i64,
        poll_id: i64,
        choices: Vec<i32>,
    },
    FollowRequested {
        account_id: i64,
        target_account_id: i64,
    },
    /// A follow now exists (directly, or a request was accepted).
    Followed {
        account_id: i64,
        target_account_id: i64,
    },
    FollowRequestRejected {
        account_id: i64,
        target_account_id: i64,
        follow_uri: Option<String>,
    },
    /// `target_account_id` removed its follower `account_id` (a remote follower is sent a
    /// Reject of its Follow, `follow_uri`).
    FollowerRemoved {
        account_id: i64,
        target_account_id: i64,
        follow_uri: Option<String>,
    },
    /// Notifications held back from a sender were let through: apps reload the list.
    NotificationsMerged {
        account_id: i64,
    },
    /// A user changed their filters: their streams are told to reload them.
    FiltersChanged {
        account_id: i64,
    },
    /// A local account's direct conversation got a status, lost one, or was read.
    ConversationChanged {
        account_id: i64,
        account_conversation_id: i64,
    },
    /// A follow or a follow request ended; `follow_uri` is the id of the remote Follow.
    Unfollowed {
        account_id: i64,
        target_account_id: i64,
        follow_uri: Option<String>,
    },
    Blocked {
        account_id: i64,
        target_account_id: i64,
    },
    Unblocked {
        account_id: i64,
        target_account_id: i64,
    },
    Muted {
        account_id: i64,
        target_account_id: i64,
    },
    Unmuted {
        account_id: i64,
        target_account_id: i64,
    },
    Notified {
        account_id: i64,
        notification_id: i64,
    },
    /// A local profile changed (or a local account was created).
    ProfileUpdated {
        account_id: i64,
    },
    ConfirmationRequested {
        user_id: i64,
    },
    PasswordResetRequested {
        user_id: i64,
        token: String,
    },
    ListMembersChanged {
        list_id: i64,
    },
    ListDeleted {
        list_id: i64,
    },
    TagUnfollowed {
        account_id: i64,
        tag_id: i64,
    },
    ReportFiled {
        report_id: i64,
        forward: bool,
    },
    TokenRevoked {
        token_id: i64,
    },
    /// Staff disabled a local user: their streams end.
    UserDisabled {
        account_id: i64,
    },
    /// Staff suspended an account (or lifted its suspension).
    AccountSuspended {
        account_id: i64,
        suspended: bool,
    },
    /// A new user confirmed their address and awaits approval: staff are told by mail.
    AccountPending {
        account_id: i64,
    },
    /// Staff acted on a local account and the user is to be told by mail.
    AccountWarned {
        warning_id: i64,
    },
    /// A local account's data was deleted; `inboxes` are the servers that knew it.
    AccountDeleted {
        account_id: i64,
        inboxes: Vec<String>,
    },
}

impl Job for Event {
    const FAMILY: &'static str = "Event";
    /// Ahead of the default queue's other work: every effect waits for its event.
    fn priority(&self) -> i32 {
        10
    }
    fn max_attempts(&self) -> i32 {
        25
    }
}

/// Records `event` in the caller's transaction (or on its own when given a pool).
pub async fn emit<'e>(executor: impl sqlx::PgExecutor<'e>, event: Event) -> Result<()> {
    queue::enqueue(executor, &event).await
}

/// Records `event` to take effect `delay_seconds` from now, unless the same event is
/// already waiting (a burst of causes gives one event).
pub async fn emit_once_in<'e>(executor: impl sqlx::PgExecutor<'e>, event: Event, delay_seconds: i64) -> Result<()> {
    queue::enqueue_once_in(executor, &event, delay_seconds).await
}
