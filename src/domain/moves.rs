//! Remote accounts that move to another account (Mastodon's MoveWorker) or are deleted on
//! their server: deferred domain operations, run from the queue.

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::queue;
use crate::domain::deferred::Job;
use crate::domain::deletion;
use crate::domain::relationships::{self, FollowOptions};
use crate::model::accounts;

/// Marks remote account `origin_id` as moved to `target_id` (whose `alsoKnownAs` the caller
/// checked); its local followers follow the new account later.
pub async fn mark_moved(state: &Core, origin_id: i64, target_id: i64) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    sqlx::query("UPDATE accounts SET moved_to_account_id = $2, updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1")
        .bind(origin_id)
        .bind(target_id)
        .execute(&mut *tx)
        .await?;
    queue::enqueue(&mut *tx, &Job::MoveFollowers { origin_id, target_id }).await?;
    tx.commit().await?;
    Ok(())
}

/// Each local follower of the old account follows the new one
/// (asking, if it is locked) and stops following the old one; local blocks and mutes of
/// the old account carry over, and lists that held it hold the new one.
pub async fn move_followers(state: &Core, origin_id: i64, target_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let followers: Vec<(i64, bool, bool)> = sqlx::query_as(
        "SELECT f.account_id, f.show_reblogs, f.notify FROM follows f JOIN users u ON u.account_id = f.account_id
          WHERE f.target_account_id = $1",
    )
    .bind(origin_id)
    .fetch_all(db)
    .await?;
    // Lists first: their entries for the old account go with its follows.
    sqlx::query(
        "INSERT INTO list_accounts (list_id, account_id)
         SELECT la.list_id, $2 FROM list_accounts la WHERE la.account_id = $1
         ON CONFLICT DO NOTHING",
    )
    .bind(origin_id)
    .bind(target_id)
    .execute(db)
    .await?;
    for (follower, show_reblogs, notify) in followers {
        let options = FollowOptions { reblogs: Some(show_reblogs), notify: Some(notify), ..Default::default() };
        match relationships::follow(state, follower, target_id, options).await {
            // Blocked either way: the old follow still ends.
            Err(Error::Forbidden(_)) => {}
            other => other?,
        }
        relationships::unfollow(state, follower, origin_id).await?;
    }
    for table in ["blocks", "mutes"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} (account_id, target_account_id, created_at, updated_at)
             SELECT b.account_id, $2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
               FROM {table} b JOIN users u ON u.account_id = b.account_id
              WHERE b.target_account_id = $1
             ON CONFLICT DO NOTHING"
        )))
        .bind(origin_id)
        .bind(target_id)
        .execute(db)
        .await?;
    }
    // The copied list entries point at the new follows.
    sqlx::query(
        "UPDATE list_accounts la SET follow_id = f.id
           FROM lists l, follows f
          WHERE la.account_id = $1 AND la.follow_id IS NULL AND l.id = la.list_id
            AND f.account_id = l.account_id AND f.target_account_id = $1",
    )
    .bind(target_id)
    .execute(db)
    .await?;
    Ok(())
}

/// A remote account deleted on its server: its content goes later, from the queue.
pub async fn mark_deleted(state: &Core, account_id: i64) -> Result<()> {
    queue::enqueue(&state.db.primary, &Job::PurgeAccount { account_id }).await
}

/// Removes a deleted remote account's statuses (from feeds and
/// counters too), ends the follows to and from it, and then the account itself.
pub async fn purge(state: &Core, account_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let Some(account) = accounts::find_many(db, &[account_id]).await?.pop() else { return Ok(()) };
    if account.is_local() {
        return Ok(());
    }
    sqlx::query("UPDATE accounts SET suspended_at = COALESCE(suspended_at, now() AT TIME ZONE 'UTC') WHERE id = $1")
        .bind(account_id)
        .execute(db)
        .await?;
    deletion::remove_statuses(state, account_id, false).await?;
    deletion::end_follows(state, account_id).await?;
    sqlx::query("DELETE FROM accounts WHERE id = $1").bind(account_id).execute(db).await?;
    Ok(())
}
