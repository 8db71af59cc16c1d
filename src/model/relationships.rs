//! Follows, follow requests, blocks and mutes between accounts as rows: the
//! `Relationship` view of them and the lists of accounts they make.

use chrono::NaiveDateTime;
use sqlx::{AssertSqlSafe, FromRow, PgPool};

use crate::core::error::{Error, Result};
use crate::core::pagination::Page;
use crate::model::accounts::{self, Account};

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
    pub endorsed: bool,
    pub note: String,
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
                         WHERE d.account_id = $1 AND d.domain = a.domain) AS domain_blocking,
                EXISTS (SELECT 1 FROM account_pins WHERE account_id = $1 AND target_account_id = t.id) AS endorsed,
                COALESCE((SELECT comment FROM account_notes WHERE account_id = $1 AND target_account_id = t.id), '')
                  AS note
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

/// Which list of accounts to page through, keyed by the id of the joining row.
#[derive(Debug, Clone, Copy)]
pub enum AccountList {
    Followers(i64),
    Following(i64),
    Blocks(i64),
    Mutes(i64),
    FollowRequests(i64),
    /// The accounts an account endorses on its profile.
    Endorsements(i64),
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
        AccountList::Endorsements(id) => ("account_pins", "account_id", "target_account_id", id, ""),
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

/// For each of `ids`: the accounts `viewer` follows that follow it, unless it hides its
/// collections (Mastodon's familiar followers). Followers who hide theirs are left out too.
pub async fn familiar_followers(db: &PgPool, viewer: i64, ids: &[i64]) -> Result<Vec<(i64, Vec<Account>)>> {
    let pairs: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT t.id, f.account_id
           FROM accounts t
           JOIN follows f ON f.target_account_id = t.id
           JOIN follows mine ON mine.account_id = $1 AND mine.target_account_id = f.account_id
           JOIN accounts follower ON follower.id = f.account_id
          WHERE t.id = ANY($2) AND NOT COALESCE(t.hide_collections, false)
            AND NOT COALESCE(follower.hide_collections, false) AND follower.suspended_at IS NULL
          ORDER BY f.id DESC",
    )
    .bind(viewer)
    .bind(ids)
    .fetch_all(db)
    .await?;
    let known: Vec<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE id = ANY($1) AND suspended_at IS NULL")
        .bind(ids)
        .fetch_all(db)
        .await?;
    let followers = accounts::find_many(db, &pairs.iter().map(|(_, f)| *f).collect::<Vec<_>>()).await?;
    Ok(ids
        .iter()
        .filter(|id| known.contains(id))
        .map(|id| {
            let of_id = pairs.iter().filter(|(t, _)| t == id);
            let list = of_id.filter_map(|(_, f)| followers.iter().find(|a| a.id == *f).cloned()).collect();
            (*id, list)
        })
        .collect())
}

/// `account_id`'s private note about `target`; a blank comment removes it.
pub async fn set_note(db: &PgPool, account_id: i64, target: i64, comment: &str) -> Result<()> {
    let sql = if comment.trim().is_empty() {
        "DELETE FROM account_notes WHERE account_id = $1 AND target_account_id = $2 AND $3::text IS NOT NULL"
    } else {
        "INSERT INTO account_notes (account_id, target_account_id, comment, created_at, updated_at)
         VALUES ($1, $2, $3, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT (account_id, target_account_id) DO UPDATE
            SET comment = EXCLUDED.comment, updated_at = EXCLUDED.updated_at
          WHERE account_notes.comment <> EXCLUDED.comment"
    };
    sqlx::query(sql).bind(account_id).bind(target).bind(comment).execute(db).await?;
    Ok(())
}

/// A page of the domains `account_id` hides, with the row id of each for pagination.
pub async fn blocked_domains(db: &PgPool, account_id: i64, page: &Page) -> Result<Vec<(i64, String)>> {
    let rows: Vec<(i64, String)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT id, domain FROM account_domain_blocks WHERE account_id = $1 {}",
        page.sql("id", 2)
    )))
    .bind(account_id)
    .bind(page.max_id)
    .bind(page.since_id)
    .bind(page.min_id)
    .fetch_all(db)
    .await?;
    Ok(page.in_order(rows, |(id, _)| *id))
}
