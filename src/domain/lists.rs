//! Lists (`/api/v1/lists`): named subsets of the accounts a user follows, each with its own
//! feed (`feeds` writes it alongside home feeds), a replies policy and an `exclusive` flag
//! that keeps members' posts out of the home feed.

use sqlx::{AssertSqlSafe, FromRow, PgPool};

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::pagination::Page;
use crate::core::time;
use crate::domain::events::{self, Event};
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

fn replies_policy(name: &str) -> Result<i32> {
    match name {
        "list" => Ok(0),
        "followed" => Ok(1),
        "none" => Ok(2),
        _ => Err(Error::validation("Replies policy is not included in the list")),
    }
}

const LIST_COLUMNS: &str = "id, account_id, title, replies_policy, exclusive";

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

fn checked_title(title: &str) -> Result<&str> {
    let title = title.trim();
    if title.is_empty() {
        return Err(Error::validation("Title can't be blank"));
    }
    Ok(title)
}

pub async fn create(
    db: &PgPool,
    owner: i64,
    title: &str,
    policy: Option<&str>,
    exclusive: Option<bool>,
) -> Result<List> {
    let title = checked_title(title)?;
    let policy = policy.map(replies_policy).transpose()?.unwrap_or(0);
    let mut tx = db.begin().await?;
    sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE").bind(owner).execute(&mut *tx).await?;
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM lists WHERE account_id = $1").bind(owner).fetch_one(&mut *tx).await?;
    if count >= MAX_LISTS {
        return Err(Error::validation(format!("You can't create more than {MAX_LISTS} lists")));
    }
    let list: List = sqlx::query_as(AssertSqlSafe(format!(
        "INSERT INTO lists (account_id, title, replies_policy, exclusive, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5) RETURNING {LIST_COLUMNS}"
    )))
    .bind(owner)
    .bind(title)
    .bind(policy)
    .bind(exclusive.unwrap_or(false))
    .bind(time::now())
    .fetch_one(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(list)
}

pub async fn update(
    db: &PgPool,
    owner: i64,
    id: i64,
    title: Option<&str>,
    policy: Option<&str>,
    exclusive: Option<bool>,
) -> Result<List> {
    get(db, owner, id).await?;
    let title = title.map(checked_title).transpose()?;
    let policy = policy.map(replies_policy).transpose()?;
    Ok(sqlx::query_as(AssertSqlSafe(format!(
        "UPDATE lists SET title = COALESCE($3, title), replies_policy = COALESCE($4, replies_policy),
                exclusive = COALESCE($5, exclusive), updated_at = $6
          WHERE id = $1 AND account_id = $2 RETURNING {LIST_COLUMNS}"
    )))
    .bind(id)
    .bind(owner)
    .bind(title)
    .bind(policy)
    .bind(exclusive)
    .bind(time::now())
    .fetch_one(db)
    .await?)
}

pub async fn delete(state: &Core, owner: i64, id: i64) -> Result<()> {
    get(&state.db.primary, owner, id).await?;
    let mut tx = state.db.primary.begin().await?;
    sqlx::query("DELETE FROM lists WHERE id = $1").bind(id).execute(&mut *tx).await?;
    events::emit(&mut *tx, Event::ListDeleted { list_id: id }).await?;
    tx.commit().await?;
    Ok(())
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

/// Adds accounts the owner follows (or asked to follow); anyone else is refused with 422
/// and nothing is added. The list's feed is then rebuilt with their statuses.
pub async fn add_members(state: &Core, owner: i64, id: i64, account_ids: &[i64]) -> Result<()> {
    let db = &state.db.primary;
    get(db, owner, id).await?;
    let mut tx = db.begin().await?;
    for account in account_ids {
        let inserted = sqlx::query(
            "INSERT INTO list_accounts (list_id, account_id, follow_id, follow_request_id)
             SELECT $1, $2, (SELECT id FROM follows WHERE account_id = $3 AND target_account_id = $2),
                    (SELECT id FROM follow_requests WHERE account_id = $3 AND target_account_id = $2)
              WHERE EXISTS (SELECT 1 FROM follows WHERE account_id = $3 AND target_account_id = $2)
                 OR EXISTS (SELECT 1 FROM follow_requests WHERE account_id = $3 AND target_account_id = $2)
             ON CONFLICT (account_id, list_id) DO NOTHING",
        )
        .bind(id)
        .bind(account)
        .bind(owner)
        .execute(&mut *tx)
        .await?;
        if inserted.rows_affected() == 0 {
            let already: bool = sqlx::query_scalar(
                "SELECT EXISTS (SELECT 1 FROM list_accounts WHERE list_id = $1 AND account_id = $2)",
            )
            .bind(id)
            .bind(account)
            .fetch_one(&mut *tx)
            .await?;
            if !already {
                return Err(if accounts::find(db, *account).await?.is_none() {
                    Error::NotFound
                } else {
                    Error::validation("Account has not been followed")
                });
            }
        }
    }
    events::emit(&mut *tx, Event::ListMembersChanged { list_id: id }).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn remove_members(state: &Core, owner: i64, id: i64, account_ids: &[i64]) -> Result<()> {
    let db = &state.db.primary;
    get(db, owner, id).await?;
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM list_accounts WHERE list_id = $1 AND account_id = ANY($2)")
        .bind(id)
        .bind(account_ids)
        .execute(&mut *tx)
        .await?;
    events::emit(&mut *tx, Event::ListMembersChanged { list_id: id }).await?;
    tx.commit().await?;
    Ok(())
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
