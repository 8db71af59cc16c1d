//! List rows (`lists`, `list_accounts`): named subsets of the accounts a user follows.

use sqlx::{AssertSqlSafe, FromRow, PgPool};

use crate::core::error::{Error, Result};
use crate::core::pagination::Page;
use crate::model::accounts::{self, Account};

pub const MAX_LISTS: i64 = 50;

#[derive(Debug, Clone, FromRow)]
pub struct List {
    pub id: i64,
    pub account_id: i64,
    pub title: String,
    pub replies_policy: i32,
    pub exclusive: bool,
}

/// Mastodon's `replies_policy` enum: `{list: 0, followed: 1, none: 2}`.
pub fn replies_policy_name(policy: i32) -> &'static str {
    match policy {
        1 => "followed",
        2 => "none",
        _ => "list",
    }
}

pub const LIST_COLUMNS: &str = "id, account_id, title, replies_policy, exclusive";

pub async fn all(db: &PgPool, owner: i64) -> Result<Vec<List>> {
    Ok(sqlx::query_as(AssertSqlSafe(format!("SELECT {LIST_COLUMNS} FROM lists WHERE account_id = $1 ORDER BY id")))
        .bind(owner)
        .fetch_all(db)
        .await?)
}

/// One of the owner's lists, or 404 (others' lists do not exist for them).
pub async fn get(db: &PgPool, owner: i64, id: i64) -> Result<List> {
    sqlx::query_as(AssertSqlSafe(format!("SELECT {LIST_COLUMNS} FROM lists WHERE id = $1 AND account_id = $2")))
        .bind(id)
        .bind(owner)
        .fetch_optional(db)
        .await?
        .ok_or(Error::NotFound)
}

/// Members of a list, keyed by the membership row for pagination.
pub async fn members(db: &PgPool, owner: i64, id: i64, page: &Page) -> Result<Vec<(i64, Account)>> {
    get(db, owner, id).await?;
    let rows: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT la.id, la.account_id FROM list_accounts la WHERE la.list_id = $1 {}",
        page.sql("la.id", 2)
    )))
    .bind(id)
    .bind(page.max_id)
    .bind(page.since_id)
    .bind(page.min_id)
    .fetch_all(db)
    .await?;
    let rows = page.in_order(rows, |(cursor, _)| *cursor);
    let found = accounts::find_many(db, &rows.iter().map(|(_, a)| *a).collect::<Vec<_>>()).await?;
    Ok(rows.into_iter().filter_map(|(c, a)| found.iter().find(|x| x.id == a).map(|x| (c, x.clone()))).collect())
}

/// The owner's lists that contain `account_id`.
pub async fn containing(db: &PgPool, owner: i64, account_id: i64) -> Result<Vec<List>> {
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {LIST_COLUMNS} FROM lists WHERE account_id = $1
            AND id IN (SELECT list_id FROM list_accounts WHERE account_id = $2) ORDER BY id"
    )))
    .bind(owner)
    .bind(account_id)
    .fetch_all(db)
    .await?)
}
