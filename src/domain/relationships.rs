//! Follows, follow requests, blocks and mutes between accounts, and the `Relationship`
//! view of them. Each change keeps counters, notifications and home feeds consistent.

use chrono::NaiveDateTime;
use sqlx::AssertSqlSafe;
use sqlx::{FromRow, PgPool};

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::pagination::Page;
use crate::core::time;
use crate::domain::events::{self, Event};
use crate::domain::notifications::notify;
use crate::model::accounts::{self, Account, Counter};
use crate::model::notifications::{self, NotificationType};

#[derive(Debug, Clone, FromRow)]
pub struct Relationship {
    pub id: i64,
    pub following: bool,
    pub showing_reblogs: bool,
    pub notifying: bool,
    pub languages: Option<Vec<String>>,
    pub followed_by: bool,
    pub blocking: bool,
    pub blocked_by: bool,
    pub muting: bool,
    pub muting_notifications: bool,
    pub muting_expires_at: Option<NaiveDateTime>,
    pub requested: bool,
    pub requested_by: bool,
    pub domain_blocking: bool,
}

/// The viewer's relationships to each of `ids`, in that order (one query).
pub async fn relationships(db: &PgPool, viewer: i64, ids: &[i64]) -> Result<Vec<Relationship>> {
    Ok(sqlx::query_as::<_, Relationship>(
        "SELECT t.id,
                f.id IS NOT NULL AS following,
                COALESCE(f.show_reblogs, fr.show_reblogs, false) AS showing_reblogs,
                COALESCE(f.notify, fr.notify, false) AS notifying,
                COALESCE(f.languages, fr.languages) AS languages,
                EXISTS (SELECT 1 FROM follows WHERE account_id = t.id AND target_account_id = $1) AS followed_by,
                EXISTS (SELECT 1 FROM blocks WHERE account_id = $1 AND target_account_id = t.id) AS blocking,
                EXISTS (SELECT 1 FROM blocks WHERE account_id = t.id AND target_account_id = $1) AS blocked_by,
                m.id IS NOT NULL AS muting,
                COALESCE(m.hide_notifications, false) AS muting_notifications,
                m.expires_at AS muting_expires_at,
                fr.id IS NOT NULL AS requested,
                EXISTS (SELECT 1 FROM follow_requests WHERE account_id = t.id AND target_account_id = $1) AS requested_by,
                EXISTS (SELECT 1 FROM account_domain_blocks d JOIN accounts a ON a.id = t.id
                         WHERE d.account_id = $1 AND d.domain = a.domain) AS domain_blocking
           FROM unnest($2::bigint[]) WITH ORDINALITY AS t(id, ord)
           LEFT JOIN follows f ON f.account_id = $1 AND f.target_account_id = t.id
           LEFT JOIN follow_requests fr ON fr.account_id = $1 AND fr.target_account_id = t.id
           LEFT JOIN mutes m ON m.account_id = $1 AND m.target_account_id = t.id
                AND (m.expires_at IS NULL OR m.expires_at > now() AT TIME ZONE 'UTC')
          ORDER BY t.ord",
    )
    .bind(viewer)
    .bind(ids)
    .fetch_all(db)
    .await?)
}

pub async fn relationship(db: &PgPool, viewer: i64, target: i64) -> Result<Relationship> {
    relationships(db, viewer, &[target]).await?.into_iter().next().ok_or(Error::NotFound)
}

/// True if either account blocks the other.
pub async fn blocked_either_way(db: &PgPool, a: i64, b: i64) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM blocks WHERE (account_id = $1 AND target_account_id = $2)
                                            OR (account_id = $2 AND target_account_id = $1))",
    )
    .bind(a)
    .bind(b)
    .fetch_one(db)
    .await?)
}

#[derive(Debug, Default, Clone)]
pub struct FollowOptions {
    pub reblogs: Option<bool>,
    pub notify: Option<bool>,
    pub languages: Option<Vec<String>>,
    /// The id of the Follow activity, when a remote account follows from its server.
    pub uri: Option<String>,
}

fn not_allowed() -> Error {
    Error::Forbidden("This action is not allowed".into())
}

/// Follows `target` (or asks to, if it is locked or remote). Repeating a follow updates its
/// options.
pub async fn follow(state: &Core, source: i64, target_id: i64, opts: FollowOptions) -> Result<()> {
    let db = &state.db.primary;
    let target = accounts::get(db, target_id).await?;
    if target.id == source || blocked_either_way(db, source, target.id).await? {
        return Err(not_allowed());
    }
    let languages = opts.languages.clone().filter(|l| !l.is_empty());
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE follows SET show_reblogs = COALESCE($3, show_reblogs), notify = COALESCE($4, notify),
                languages = CASE WHEN $6 THEN $5 ELSE languages END, uri = COALESCE($7, uri),
                updated_at = now() AT TIME ZONE 'UTC'
          WHERE account_id = $1 AND target_account_id = $2",
    )
    .bind(source)
    .bind(target.id)
    .bind(opts.reblogs)
    .bind(opts.notify)
    .bind(&languages)
    .bind(opts.languages.is_some())
    .bind(&opts.uri)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() > 0 {
        // A remote server repeating its Follow is told again that it stands.
        if opts.uri.is_some() {
            events::emit(&mut *tx, Event::Followed { account_id: source, target_account_id: target.id }).await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    if target.locked || !target.is_local() {
        let request_id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO follow_requests (account_id, target_account_id, show_reblogs, notify, languages, uri,
                                          created_at, updated_at)
             VALUES ($1, $2, COALESCE($3, true), COALESCE($4, false), $5, $6, $7, $7)
             ON CONFLICT (account_id, target_account_id) DO UPDATE
                SET show_reblogs = COALESCE($3, follow_requests.show_reblogs),
                    notify = COALESCE($4, follow_requests.notify), uri = COALESCE($6, follow_requests.uri),
                    updated_at = $7
             RETURNING (CASE WHEN xmax = 0 THEN id END)",
        )
        .bind(source)
        .bind(target.id)
        .bind(opts.reblogs)
        .bind(opts.notify)
        .bind(&languages)
        .bind(&opts.uri)
        .bind(time::now())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(id) = request_id {
            notify(&mut tx, target.id, source, NotificationType::FollowRequest, id).await?;
            events::emit(&mut *tx, Event::FollowRequested { account_id: source, target_account_id: target.id }).await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    if let Some(follow_id) = create_follow(&mut tx, source, target.id, &opts).await? {
        notify(&mut tx, target.id, source, NotificationType::Follow, follow_id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Inserts the follow with its counters and event; `None` if it existed.
async fn create_follow(
    tx: &mut sqlx::PgConnection,
    source: i64,
    target: i64,
    opts: &FollowOptions,
) -> Result<Option<i64>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO follows (account_id, target_account_id, show_reblogs, notify, languages, uri, created_at, updated_at)
         VALUES ($1, $2, COALESCE($3, true), COALESCE($4, false), $5, $6, $7, $7)
         ON CONFLICT (account_id, target_account_id) DO NOTHING RETURNING id",
    )
    .bind(source)
    .bind(target)
    .bind(opts.reblogs)
    .bind(opts.notify)
    .bind(opts.languages.clone().filter(|l| !l.is_empty()))
    .bind(&opts.uri)
    .bind(time::now())
    .fetch_optional(&mut *tx)
    .await?;
    if id.is_some() {
        accounts::bump_stat(tx, source, Counter::Following, 1).await?;
        accounts::bump_stat(tx, target, Counter::Followers, 1).await?;
        events::emit(&mut *tx, Event::Followed { account_id: source, target_account_id: target }).await?;
    }
    Ok(id)
}

/// Removes a follow (and any pending request) from `source` to `target`.
pub async fn unfollow(state: &Core, source: i64, target: i64) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    // The id of the Follow (or request) being undone, for servers that match on it.
    let follow_uri: Option<Option<String>> = sqlx::query_scalar(
        "SELECT uri FROM follows WHERE account_id = $1 AND target_account_id = $2
         UNION ALL SELECT uri FROM follow_requests WHERE account_id = $1 AND target_account_id = $2",
    )
    .bind(source)
    .bind(target)
    .fetch_optional(&mut *tx)
    .await?;
    remove_follow(&mut tx, source, target).await?;
    sqlx::query("DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2")
        .bind(source)
        .bind(target)
        .execute(&mut *tx)
        .await?;
    if let Some(follow_uri) = follow_uri {
        events::emit(&mut *tx, Event::Unfollowed { account_id: source, target_account_id: target, follow_uri }).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Deletes the follow with its counters and its `follow` notification (Mastodon destroys
/// the notification with the follow).
async fn remove_follow(tx: &mut sqlx::PgConnection, source: i64, target: i64) -> Result<bool> {
    let removed: Option<i64> =
        sqlx::query_scalar("DELETE FROM follows WHERE account_id = $1 AND target_account_id = $2 RETURNING id")
            .bind(source)
            .bind(target)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(id) = removed {
        accounts::bump_stat(tx, source, Counter::Following, -1).await?;
        accounts::bump_stat(tx, target, Counter::Followers, -1).await?;
        notifications::remove_for_activity(tx, "Follow", &[id]).await?;
    }
    Ok(removed.is_some())
}

/// `show_reblogs`, `notify`, `languages` and the remote Follow's `uri` of a request.
type StoredFollowRequest = (Option<bool>, Option<bool>, Option<Vec<String>>, Option<String>);

/// Accepts a pending follow request from `requester` to `target`.
pub async fn authorize_follow_request(state: &Core, target: i64, requester: i64) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    let request: Option<StoredFollowRequest> = sqlx::query_as(
        "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2
         RETURNING show_reblogs, notify, languages, uri",
    )
    .bind(requester)
    .bind(target)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((reblogs, notify, languages, uri)) = request else { return Err(Error::NotFound) };
    // A remote requester's Follow id stays with the follow, for the Accept and a later Undo.
    let opts = FollowOptions { reblogs, notify, languages, uri };
    create_follow(&mut tx, requester, target, &opts).await?;
    remove_request_notification(&mut tx, target, requester).await?;
    tx.commit().await?;
    Ok(())
}

async fn remove_request_notification(tx: &mut sqlx::PgConnection, target: i64, requester: i64) -> Result<()> {
    sqlx::query("DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2 AND type = 'follow_request'")
        .bind(target)
        .bind(requester)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn reject_follow_request(state: &Core, target: i64, requester: i64) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    let removed: Option<Option<String>> = sqlx::query_scalar(
        "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2 RETURNING uri",
    )
    .bind(requester)
    .bind(target)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(follow_uri) = removed else { return Err(Error::NotFound) };
    remove_request_notification(&mut tx, target, requester).await?;
    let rejected = Event::FollowRequestRejected { account_id: requester, target_account_id: target, follow_uri };
    events::emit(&mut *tx, rejected).await?;
    tx.commit().await?;
    Ok(())
}

/// Blocks `target`: ends follows and requests both ways and clears the home feeds.
pub async fn block(state: &Core, source: i64, target_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let target = accounts::get(db, target_id).await?;
    if target.id == source {
        return Err(not_allowed());
    }
    let mut tx = db.begin().await?;
    remove_follow(&mut tx, source, target.id).await?;
    remove_follow(&mut tx, target.id, source).await?;
    sqlx::query(
        "DELETE FROM follow_requests WHERE (account_id = $1 AND target_account_id = $2)
                                        OR (account_id = $2 AND target_account_id = $1)",
    )
    .bind(source)
    .bind(target.id)
    .execute(&mut *tx)
    .await?;
    let added = sqlx::query(
        "INSERT INTO blocks (account_id, target_account_id, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (account_id, target_account_id) DO NOTHING",
    )
    .bind(source)
    .bind(target.id)
    .bind(time::now())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if added > 0 {
        events::emit(&mut *tx, Event::Blocked { account_id: source, target_account_id: target.id }).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn unblock(state: &Core, source: i64, target: i64) -> Result<()> {
    accounts::get(&state.db.primary, target).await?;
    let mut tx = state.db.primary.begin().await?;
    let removed = sqlx::query("DELETE FROM blocks WHERE account_id = $1 AND target_account_id = $2")
        .bind(source)
        .bind(target)
        .execute(&mut *tx)
        .await?;
    if removed.rows_affected() > 0 {
        events::emit(&mut *tx, Event::Unblocked { account_id: source, target_account_id: target }).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Mutes `target` (optionally hiding notifications, optionally for `duration` seconds).
pub async fn mute(state: &Core, source: i64, target_id: i64, notifications: bool, duration: Option<i64>) -> Result<()> {
    let db = &state.db.primary;
    let target = accounts::get(db, target_id).await?;
    if target.id == source {
        return Err(not_allowed());
    }
    let expires_at = duration.filter(|d| *d > 0).map(|d| time::now() + chrono::Duration::seconds(d));
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO mutes (account_id, target_account_id, hide_notifications, expires_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (account_id, target_account_id) DO UPDATE
            SET hide_notifications = $3, expires_at = $4, updated_at = $5",
    )
    .bind(source)
    .bind(target.id)
    .bind(notifications)
    .bind(expires_at)
    .bind(time::now())
    .execute(&mut *tx)
    .await?;
    events::emit(&mut *tx, Event::Muted { account_id: source, target_account_id: target.id }).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn unmute(state: &Core, source: i64, target: i64) -> Result<()> {
    let db = &state.db.primary;
    accounts::get(db, target).await?;
    let mut tx = db.begin().await?;
    let removed = sqlx::query("DELETE FROM mutes WHERE account_id = $1 AND target_account_id = $2")
        .bind(source)
        .bind(target)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let following: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2)")
            .bind(source)
            .bind(target)
            .fetch_one(&mut *tx)
            .await?;
    if removed > 0 && following {
        events::emit(&mut *tx, Event::Unmuted { account_id: source, target_account_id: target }).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Which list of accounts to page through, keyed by the id of the joining row.
#[derive(Debug, Clone, Copy)]
pub enum AccountList {
    Followers(i64),
    Following(i64),
    Blocks(i64),
    Mutes(i64),
    FollowRequests(i64),
}

/// A page of accounts with the cursor (row id) each was found under, newest first.
pub async fn list_accounts(db: &PgPool, list: AccountList, page: &Page) -> Result<Vec<(i64, Account)>> {
    let (table, owner_col, account_col, owner, extra) = match list {
        AccountList::Followers(id) => ("follows", "target_account_id", "account_id", id, ""),
        AccountList::Following(id) => ("follows", "account_id", "target_account_id", id, ""),
        AccountList::Blocks(id) => ("blocks", "account_id", "target_account_id", id, ""),
        AccountList::Mutes(id) => (
            "mutes",
            "account_id",
            "target_account_id",
            id,
            "AND (r.expires_at IS NULL OR r.expires_at > now() AT TIME ZONE 'UTC')",
        ),
        AccountList::FollowRequests(id) => ("follow_requests", "target_account_id", "account_id", id, ""),
    };
    let rows: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT r.id, r.{account_col} FROM {table} r JOIN accounts a ON a.id = r.{account_col}
          WHERE r.{owner_col} = $1 AND a.suspended_at IS NULL {extra} {}",
        page.sql("r.id", 2)
    )))
    .bind(owner)
    .bind(page.max_id)
    .bind(page.since_id)
    .bind(page.min_id)
    .fetch_all(db)
    .await?;
    let rows = page.in_order(rows, |(id, _)| *id);
    let accounts = accounts::find_many(db, &rows.iter().map(|(_, a)| *a).collect::<Vec<_>>()).await?;
    Ok(rows
        .into_iter()
        .filter_map(|(cursor, account_id)| accounts.iter().find(|a| a.id == account_id).map(|a| (cursor, a.clone())))
        .collect())
}
