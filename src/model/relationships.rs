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
