//! Deleting an account's data (Mastodon's DeleteAccountService): its statuses, relationships
//! and profile go, the row stays so that nobody takes the name again. Staff ask for it on a
//! suspended account, and a suspension does it by itself after 30 days.

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::queue;
use crate::domain::deferred::Job;
use crate::domain::events::{self, Event};
use crate::domain::staff::Staff;
use crate::domain::{posting, relationships};
use crate::model::roles::permission;
use crate::model::{accounts, statuses};

const BATCH: i64 = 100;

/// How long a suspension waits before the account's data is deleted (Mastodon's
/// `AccountDeletionRequest::DELAY_TO_DELETION`).
pub const DAYS_TO_DELETION: i32 = 30;

/// Removes an account's statuses, in batches, but those cited by its open reports when
/// `keep_reported` (staff still need them).
pub(crate) async fn remove_statuses(state: &Core, account_id: i64, keep_reported: bool) -> Result<()> {
    let db = &state.db.primary;
    loop {
        let batch: Vec<i64> = sqlx::query_scalar(
            "SELECT s.id FROM statuses s
              WHERE s.account_id = $1 AND s.deleted_at IS NULL
                AND NOT ($3 AND EXISTS (SELECT 1 FROM reports r WHERE r.target_account_id = $1
                                           AND r.action_taken_at IS NULL AND s.id = ANY(r.status_ids)))
              ORDER BY s.id LIMIT $2",
        )
        .bind(account_id)
        .bind(BATCH)
        .bind(keep_reported)
        .fetch_all(db)
        .await?;
        if batch.is_empty() {
            return Ok(());
        }
        for status in statuses::find_many(db, &batch).await? {
            posting::remove(state, &status).await?;
        }
    }
}

/// Ends every follow and follow request to and from the account.
pub(crate) async fn end_follows(state: &Core, account_id: i64) -> Result<()> {
    let followed: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT account_id, target_account_id FROM follows WHERE account_id = $1 OR target_account_id = $1
         UNION SELECT account_id, target_account_id FROM follow_requests WHERE account_id = $1 OR target_account_id = $1",
    )
    .bind(account_id)
    .fetch_all(&state.db.primary)
    .await?;
    for (source, target) in followed {
        relationships::unfollow(state, source, target).await?;
    }
    Ok(())
}

/// `DELETE /api/v1/admin/accounts/:id` (`delete_user_data`): deletes the data of an account
/// that is suspended and still within its 30 days; anything else is refused.
pub async fn delete_now(state: &Core, staff: &Staff, account_id: i64) -> Result<()> {
    if staff.permissions & permission::DELETE_USER_DATA == 0 {
        return Err(Error::Forbidden("This action is not allowed".into()));
    }
    let db = &state.db.primary;
    let account = accounts::find(db, account_id).await?.ok_or(Error::NotFound)?;
    let requested: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM account_deletion_requests WHERE account_id = $1)")
            .bind(account_id)
            .fetch_one(db)
            .await?;
    if account.suspended_at.is_none() || !requested {
        return Err(Error::Forbidden("This action is not allowed".into()));
    }
    queue::enqueue(db, &Job::DeleteAccount { account_id }).await
}

/// `ctl accounts delete`: the account is suspended (if it is not) and its data deleted now.
pub async fn delete_at_once(state: &Core, account_id: i64) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    let suspended: Option<i64> = sqlx::query_scalar(
        "UPDATE accounts SET suspended_at = now() AT TIME ZONE 'UTC', suspension_origin = 0
          WHERE id = $1 AND suspended_at IS NULL RETURNING id",
    )
    .bind(account_id)
    .fetch_optional(&mut *tx)
    .await?;
    if suspended.is_some() {
        events::emit(&mut *tx, Event::AccountSuspended { account_id, suspended: true }).await?;
    }
    tx.commit().await?;
    delete_account(state, account_id).await
}

/// Every minute: the oldest suspensions past their 30 days have their data deleted, ten at a
/// time (Mastodon's SuspendedUserCleanupScheduler).
pub async fn delete_due(state: &Core) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    let due: Vec<i64> = sqlx::query_scalar(
        "SELECT account_id FROM account_deletion_requests
          WHERE created_at < (now() AT TIME ZONE 'UTC') - make_interval(days => $1)
          ORDER BY created_at LIMIT 10",
    )
    .bind(DAYS_TO_DELETION)
    .fetch_all(&mut *tx)
    .await?;
    for account_id in due {
        queue::enqueue(&mut *tx, &Job::DeleteAccount { account_id }).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes a suspended account's data, once. The row stays, blanked and suspended for good:
/// the name is not taken again, and other servers get a `Delete` of a local actor.
pub async fn delete_account(state: &Core, account_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let Some(account) = accounts::find(db, account_id).await? else { return Ok(()) };
    if account.suspended_at.is_none() {
        // Let back in meanwhile: nothing to delete.
        return Ok(());
    }
    // Who should hear of the deletion, found before the follows go.
    let inboxes = if account.is_local() { accounts::known_inboxes(db, account_id).await? } else { Vec::new() };
    end_follows(state, account_id).await?;
    remove_statuses(state, account_id, true).await?;
    let mut tx = db.begin().await?;
    for sql in [
        "DELETE FROM favourites WHERE account_id = $1",
        "DELETE FROM bookmarks WHERE account_id = $1",
        "DELETE FROM blocks WHERE account_id = $1 OR target_account_id = $1",
        "DELETE FROM mutes WHERE account_id = $1 OR target_account_id = $1",
        "DELETE FROM notifications WHERE account_id = $1 OR from_account_id = $1",
        "DELETE FROM list_accounts WHERE account_id = $1",
        "DELETE FROM lists WHERE account_id = $1",
        "DELETE FROM tag_follows WHERE account_id = $1",
        "DELETE FROM account_domain_blocks WHERE account_id = $1",
        "DELETE FROM account_deletion_requests WHERE account_id = $1",
        "UPDATE account_stats SET statuses_count = 0, following_count = 0, followers_count = 0,
                updated_at = now() AT TIME ZONE 'UTC' WHERE account_id = $1",
        "UPDATE accounts SET display_name = '', note = '', fields = NULL, avatar_file_name = NULL,
                avatar_remote_url = NULL, header_file_name = NULL, header_remote_url = '', locked = false,
                discoverable = false, memorial = false, silenced_at = NULL, suspension_origin = 0,
                updated_at = now() AT TIME ZONE 'UTC'
          WHERE id = $1",
        "UPDATE users SET disabled = true, updated_at = now() AT TIME ZONE 'UTC' WHERE account_id = $1",
        "DELETE FROM invites WHERE uses = 0 AND user_id IN (SELECT id FROM users WHERE account_id = $1)",
    ] {
        sqlx::query(sql).bind(account_id).execute(&mut *tx).await?;
    }
    if account.is_local() {
        events::emit(&mut *tx, Event::AccountDeleted { account_id, inboxes }).await?;
    }
    tx.commit().await?;
    Ok(())
}
