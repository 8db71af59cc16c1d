//! Favourites, bookmarks and pins, and the lists built from them.

use sqlx::AssertSqlSafe;
use sqlx::PgPool;

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::pagination::Page;
use crate::core::time;
use crate::domain::events::{self, Event};
use crate::domain::notifications::notify;
use crate::domain::posting::bump_status_stat;
use crate::model::accounts::{self, Account};
use crate::model::notifications::{self, NotificationType};
use crate::model::statuses::{self, MAX_PINNED, Visibility, visible_sql};

/// Favourites a status the account can see (a reblog's original), once. A favourite by
/// a remote account (from its server) goes the same way.
pub async fn favourite(state: &Core, account_id: i64, status_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let status = statuses::find_visible(db, status_id, Some(account_id)).await?;
    let status = match status.reblog_of_id {
        Some(original) => statuses::find_visible(db, original, Some(account_id)).await?,
        None => status,
    };
    let mut tx = db.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO favourites (account_id, status_id, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (account_id, status_id) DO NOTHING RETURNING id",
    )
    .bind(account_id)
    .bind(status.id)
    .bind(time::now())
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = id {
        bump_status_stat(&mut tx, status.id, "favourites_count", 1).await?;
        notify(&mut tx, status.account_id, account_id, NotificationType::Favourite, id).await?;
        events::emit(&mut *tx, Event::Favourited { account_id, status_id: status.id }).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn unfavourite(state: &Core, account_id: i64, status_id: i64) -> Result<()> {
    let db = &state.db.primary;
    statuses::find_visible(db, status_id, Some(account_id)).await?;
    let mut tx = db.begin().await?;
    let removed: Option<i64> =
        sqlx::query_scalar("DELETE FROM favourites WHERE account_id = $1 AND status_id = $2 RETURNING id")
            .bind(account_id)
            .bind(status_id)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(id) = removed {
        bump_status_stat(&mut tx, status_id, "favourites_count", -1).await?;
        notifications::remove_for_activity(&mut tx, "Favourite", &[id]).await?;
        events::emit(&mut *tx, Event::Unfavourited { account_id, status_id }).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn bookmark(state: &Core, account_id: i64, status_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let status = statuses::find_visible(db, status_id, Some(account_id)).await?;
    let target = status.reblog_of_id.unwrap_or(status.id);
    let mut tx = db.begin().await?;
    let added = sqlx::query(
        "INSERT INTO bookmarks (account_id, status_id, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (account_id, status_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(target)
    .bind(time::now())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if added > 0 {
        events::emit(&mut *tx, Event::BookmarkChanged { status_id: target }).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn unbookmark(state: &Core, account_id: i64, status_id: i64) -> Result<()> {
    let db = &state.db.primary;
    statuses::find_visible(db, status_id, Some(account_id)).await?;
    let mut tx = db.begin().await?;
    let removed = sqlx::query("DELETE FROM bookmarks WHERE account_id = $1 AND status_id = $2")
        .bind(account_id)
        .bind(status_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed > 0 {
        events::emit(&mut *tx, Event::BookmarkChanged { status_id }).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Pins one of the account's own statuses: for a local account a public, unlisted or
/// private one, at most five (a remote account's pins are what its server says).
pub async fn pin(state: &Core, account_id: i64, status_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let status = statuses::find_visible(db, status_id, Some(account_id)).await?;
    if status.account_id != account_id {
        return Err(Error::validation("You can only pin your own posts"));
    }
    let local = accounts::get(db, account_id).await?.is_local();
    if local && (status.reblog_of_id.is_some() || status.visibility() > Visibility::Private) {
        return Err(Error::validation("You can only pin public, unlisted, and followers-only posts"));
    }
    let mut tx = db.begin().await?;
    sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE").bind(account_id).execute(&mut *tx).await?;
    let count: i64 = sqlx::query_scalar("SELECT count(*) FROM status_pins WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(&mut *tx)
        .await?;
    let already: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM status_pins WHERE account_id = $1 AND status_id = $2)")
            .bind(account_id)
            .bind(status_id)
            .fetch_one(&mut *tx)
            .await?;
    if already {
        return Ok(());
    }
    if local && count >= MAX_PINNED {
        return Err(Error::validation("You have already pinned the maximum number of posts"));
    }
    sqlx::query("INSERT INTO status_pins (account_id, status_id, created_at, updated_at) VALUES ($1, $2, $3, $3)")
        .bind(account_id)
        .bind(status_id)
        .bind(time::now())
        .execute(&mut *tx)
        .await?;
    events::emit(&mut *tx, Event::Pinned { account_id, status_id }).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn unpin(state: &Core, account_id: i64, status_id: i64) -> Result<()> {
    let db = &state.db.primary;
    statuses::find_visible(db, status_id, Some(account_id)).await?;
    let mut tx = db.begin().await?;
    let removed = sqlx::query("DELETE FROM status_pins WHERE account_id = $1 AND status_id = $2")
        .bind(account_id)
        .bind(status_id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed > 0 {
        events::emit(&mut *tx, Event::Unpinned { account_id, status_id }).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Who favourited or reblogged a status the viewer can see, newest first, keyed by the
/// favourite or reblog row id for pagination.
pub async fn interacted_by(
    db: &PgPool,
    status_id: i64,
    viewer: Option<i64>,
    reblogs: bool,
    page: &Page,
) -> Result<Vec<(i64, Account)>> {
    let status = statuses::find_visible(db, status_id, viewer).await?;
    let sql = if reblogs {
        format!(
            "SELECT s.id, s.account_id FROM statuses s WHERE s.reblog_of_id = $1 AND s.deleted_at IS NULL {}",
            page.sql("s.id", 2)
        )
    } else {
        format!("SELECT f.id, f.account_id FROM favourites f WHERE f.status_id = $1 {}", page.sql("f.id", 2))
    };
    let rows: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(sql))
        .bind(status.id)
        .bind(page.max_id)
        .bind(page.since_id)
        .bind(page.min_id)
        .fetch_all(db)
        .await?;
    let rows = page.in_order(rows, |(id, _)| *id);
    let found = accounts::find_many(db, &rows.iter().map(|(_, a)| *a).collect::<Vec<_>>()).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(cursor, id)| {
            found.iter().find(|a| a.id == id && a.suspended_at.is_none()).map(|a| (cursor, a.clone()))
        })
        .collect())
}

/// The viewer's favourites or bookmarks: (row id for pagination, status id), newest first.
pub async fn saved_statuses(db: &PgPool, account_id: i64, bookmarks: bool, page: &Page) -> Result<Vec<(i64, i64)>> {
    let table = if bookmarks { "bookmarks" } else { "favourites" };
    let rows: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT r.id, r.status_id FROM {table} r JOIN statuses s ON s.id = r.status_id
          WHERE r.account_id = $1 AND {} {}",
        visible_sql("s", "$1"),
        page.sql("r.id", 2)
    )))
    .bind(account_id)
    .bind(page.max_id)
    .bind(page.since_id)
    .bind(page.min_id)
    .fetch_all(db)
    .await?;
    Ok(page.in_order(rows, |(id, _)| *id))
}

/// Mutes (or unmutes) the conversation of a status the viewer can see: no more
/// notifications from it (Mastodon's `mute_conversation!`).
pub async fn mute_conversation(state: &Core, account_id: i64, status_id: i64, mute: bool) -> Result<()> {
    let db = &state.db.primary;
    let status = statuses::find_visible(db, status_id, Some(account_id)).await?;
    let conversation = status.conversation_id.ok_or_else(|| Error::validation("Conversation can't be blank"))?;
    let sql = if mute {
        "INSERT INTO conversation_mutes (account_id, conversation_id) VALUES ($1, $2)
         ON CONFLICT (account_id, conversation_id) DO NOTHING"
    } else {
        "DELETE FROM conversation_mutes WHERE account_id = $1 AND conversation_id = $2"
    };
    sqlx::query(sql).bind(account_id).bind(conversation).execute(db).await?;
    Ok(())
}
