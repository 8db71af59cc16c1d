//! Creating, changing and deleting lists (`/api/v1/lists`) and their members. Each list has
//! its own feed (rebuilt by the feeds effect when members change), a replies policy and an
//! `exclusive` flag that keeps members' posts out of the home feed.

use sqlx::{AssertSqlSafe, PgPool};

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::time;
use crate::domain::events::{self, Event};
use crate::model::accounts;
use crate::model::lists::{LIST_COLUMNS, List, MAX_LISTS, get};

fn replies_policy(name: &str) -> Result<i32> {
    match name {
        "list" => Ok(0),
        "followed" => Ok(1),
        "none" => Ok(2),
        _ => Err(Error::validation("Replies policy is not included in the list")),
    }
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
