//! From domain events to the jobs of their effects: the one table of what follows from what.
//! An event is dispatched in one transaction that writes its effects' jobs and removes the
//! event, so each effect is queued exactly once per event.

use crate::AppState;
use crate::core::error::Result;
use crate::core::queue::{self, NewJob};
use crate::domain::events::Event;
use crate::effects::search::meili::Kind;
use crate::effects::{federation, feeds, mail, media, search, streaming};

/// The effects of `event`. Search jobs are left out when Meilisearch is not configured.
pub fn effects_of(event: &Event, with_search: bool) -> Result<Vec<NewJob>> {
    use Event::*;
    let mut jobs: Vec<NewJob> = Vec::new();
    let mut index: Vec<search::Job> = Vec::new();
    match event.clone() {
        StatusCreated { status_id, local } => {
            jobs.push(NewJob::of(&feeds::Job::Distribute { status_id, update: false })?);
            if local {
                jobs.push(NewJob::of(&federation::Job::PublishStatus { status_id, update: false })?);
            } else {
                jobs.push(NewJob::of(&media::Job::FetchRemoteOf { status_id })?);
            }
            index.push(search::Job::IndexStatus { status_id });
        }
        StatusUpdated { status_id, edited } => {
            if edited {
                jobs.push(NewJob::of(&feeds::Job::Distribute { status_id, update: true })?);
                index.push(search::Job::IndexStatus { status_id });
            }
            jobs.push(NewJob::of(&federation::Job::PublishStatus { status_id, update: true })?);
        }
        StatusDeleted { status, tags, reblogs } => {
            jobs.push(NewJob::of(&feeds::Job::RemoveFromFeeds {
                status_id: status.id,
                account_id: status.account_id,
                reblog_of_id: status.reblog_of_id,
            })?);
            for (reblog_id, account_id) in &reblogs {
                jobs.push(NewJob::of(&feeds::Job::RemoveFromFeeds {
                    status_id: *reblog_id,
                    account_id: *account_id,
                    reblog_of_id: Some(status.id),
                })?);
            }
            // The document goes (or, for a reblog, the original's readers change).
            index.push(search::Job::Index { kind: Kind::Status, id: status.reblog_of_id.unwrap_or(status.id) });
            jobs.push(NewJob::of(&streaming::Job::StatusDeleted { status: status.clone(), tags })?);
            jobs.push(NewJob::of(&federation::Job::Retract { status })?);
        }
        Favourited { account_id, status_id } | Unfavourited { account_id, status_id } => {
            let liked = matches!(event, Favourited { .. });
            jobs.push(NewJob::of(&federation::Job::Like { account_id, status_id, liked })?);
            index.push(search::Job::Index { kind: Kind::Status, id: status_id });
        }
        BookmarkChanged { status_id } => index.push(search::Job::Index { kind: Kind::Status, id: status_id }),
        Pinned { account_id, status_id } | Unpinned { account_id, status_id } => {
            let pinned = matches!(event, Pinned { .. });
            jobs.push(NewJob::of(&federation::Job::Featured { account_id, status_id, pinned })?);
        }
        Voted { account_id, poll_id, choices } => {
            jobs.push(NewJob::of(&federation::Job::Vote { account_id, poll_id, choices })?)
        }
        FollowRequested { account_id, target_account_id } => {
            jobs.push(NewJob::of(&federation::Job::Follow { account_id, target_account_id })?)
        }
        Followed { account_id, target_account_id } => {
            jobs.push(NewJob::of(&feeds::Job::MergeIntoHome {
                from_account_id: target_account_id,
                into_account_id: account_id,
            })?);
            jobs.push(NewJob::of(&federation::Job::AcceptFollow { account_id, target_account_id })?);
        }
        FollowRequestRejected { account_id, target_account_id, follow_uri } => {
            jobs.push(NewJob::of(&federation::Job::RejectFollow { account_id, target_account_id, follow_uri })?)
        }
        NotificationsMerged { account_id } => {
            jobs.push(NewJob::of(&streaming::Job::NotificationsMerged { account_id })?)
        }
        FiltersChanged { account_id } => jobs.push(NewJob::of(&streaming::Job::FiltersChanged { account_id })?),
        ConversationChanged { account_id, account_conversation_id } => {
            jobs.push(NewJob::of(&streaming::Job::Conversation { account_id, account_conversation_id })?)
        }
        FollowerRemoved { account_id, target_account_id, follow_uri } => {
            jobs.push(NewJob::of(&feeds::Job::UnmergeFromHome {
                from_account_id: target_account_id,
                into_account_id: account_id,
            })?);
            jobs.push(NewJob::of(&federation::Job::RejectFollow { account_id, target_account_id, follow_uri })?);
        }
        Unfollowed { account_id, target_account_id, follow_uri } => {
            jobs.push(NewJob::of(&feeds::Job::UnmergeFromHome {
                from_account_id: target_account_id,
                into_account_id: account_id,
            })?);
            jobs.push(NewJob::of(&federation::Job::Unfollow { account_id, target_account_id, follow_uri })?);
        }
        Blocked { account_id, target_account_id } => {
            jobs.push(NewJob::of(&feeds::Job::ClearFromHome { account_id, target_account_id })?);
            jobs.push(NewJob::of(&feeds::Job::ClearFromHome {
                account_id: target_account_id,
                target_account_id: account_id,
            })?);
            jobs.push(NewJob::of(&federation::Job::Block { account_id, target_account_id, blocking: true })?);
        }
        Unblocked { account_id, target_account_id } => {
            jobs.push(NewJob::of(&federation::Job::Block { account_id, target_account_id, blocking: false })?)
        }
        Muted { account_id, target_account_id } => {
            jobs.push(NewJob::of(&feeds::Job::ClearFromHome { account_id, target_account_id })?)
        }
        Unmuted { account_id, target_account_id } => jobs.push(NewJob::of(&feeds::Job::MergeIntoHome {
            from_account_id: target_account_id,
            into_account_id: account_id,
        })?),
        Notified { account_id, notification_id } => {
            jobs.push(NewJob::of(&streaming::Job::Notification { account_id, notification_id })?);
            jobs.push(NewJob::of(&mail::Job::NotificationCreated { notification_id })?);
        }
        ProfileUpdated { account_id } => {
            jobs.push(NewJob::of(&federation::Job::UpdateActor { account_id })?);
            index.push(search::Job::Index { kind: Kind::Account, id: account_id });
        }
        ConfirmationRequested { user_id } => jobs.push(NewJob::of(&mail::Job::Confirmation { user_id })?),
        PasswordResetRequested { user_id, token } => {
            jobs.push(NewJob::of(&mail::Job::PasswordReset { user_id, token })?)
        }
        ListMembersChanged { list_id } => jobs.push(NewJob::of(&feeds::Job::RegenerateList { list_id })?),
        ListDeleted { list_id } => jobs.push(NewJob::of(&feeds::Job::DeleteList { list_id })?),
        TagUnfollowed { account_id, tag_id } => {
            jobs.push(NewJob::of(&feeds::Job::UnmergeTagFromHome { account_id, tag_id })?)
        }
        ReportFiled { report_id, forward } => {
            if forward {
                jobs.push(NewJob::of(&federation::Job::Flag { report_id })?);
            }
        }
        TokenRevoked { token_id } => jobs.push(NewJob::of(&streaming::Job::KillToken { token_id })?),
        UserDisabled { account_id } => jobs.push(NewJob::of(&streaming::Job::KillAccount { account_id })?),
        AccountPending { account_id } => jobs.push(NewJob::of(&mail::Job::PendingAccount { account_id })?),
        AccountWarned { warning_id } => jobs.push(NewJob::of(&mail::Job::Warning { warning_id })?),
        AccountDeleted { account_id, inboxes } => {
            jobs.push(NewJob::of(&federation::Job::DeleteActor { account_id, inboxes })?);
            index.push(search::Job::Index { kind: Kind::Account, id: account_id });
        }
        AccountSuspended { account_id, suspended } => {
            if suspended {
                jobs.push(NewJob::of(&streaming::Job::KillAccount { account_id })?);
            }
            // Followers' home feeds lose (or get back) its statuses.
            jobs.push(NewJob::of(&feeds::Job::FollowersOf { account_id, include: !suspended })?);
            // Its servers learn of the change through the actor (`suspended` in it).
            jobs.push(NewJob::of(&federation::Job::UpdateActor { account_id })?);
            index.push(search::Job::Index { kind: Kind::Account, id: account_id });
        }
    }
    if with_search {
        for job in index {
            jobs.push(NewJob::of(&job)?.unique());
        }
    }
    Ok(jobs)
}

/// Runs event job `event_job_id`: its effects' jobs are queued and the event removed, in
/// one transaction.
pub async fn dispatch(state: &AppState, event_job_id: i64, event: &Event) -> Result<()> {
    let jobs = effects_of(event, state.search.is_some())?;
    let mut tx = state.db.primary.begin().await?;
    for job in &jobs {
        queue::insert(&mut *tx, job).await?;
    }
    queue::complete(&mut *tx, event_job_id).await?;
    tx.commit().await?;
    Ok(())
}
