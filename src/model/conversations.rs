//! Direct conversations as each local participant sees them (Mastodon's
//! `account_conversations`): one row per account, thread and set of other participants,
//! with the direct statuses in it and whether the account has read the latest.

use sqlx::{AssertSqlSafe, FromRow, PgConnection, PgPool};

use crate::core::error::{Error, Result};
use crate::core::pagination::Page;

#[derive(Debug, Clone, FromRow)]
pub struct AccountConversation {
    pub id: i64,
    pub account_id: i64,
    /// The other participants, sorted (empty: a note to oneself).
    pub participant_account_ids: Vec<i64>,
    pub last_status_id: Option<i64>,
    pub unread: bool,
}

const COLUMNS: &str = "id, account_id, participant_account_ids, last_status_id, unread";

/// Adds a direct status to `recipient`'s conversation with `participants` (everyone it
/// involves but the recipient), made if new; unread unless the recipient wrote it. The id.
pub async fn add_status(
    tx: &mut PgConnection,
    recipient: i64,
    conversation_id: i64,
    participants: &[i64],
    status_id: i64,
    unread: bool,
) -> Result<i64> {
    let mut participants: Vec<i64> = participants.iter().copied().filter(|id| *id != recipient).collect();
    participants.sort_unstable();
    participants.dedup();
    Ok(sqlx::query_scalar(
        "INSERT INTO account_conversations (account_id, conversation_id, participant_account_ids, status_ids,
                                            last_status_id, unread)
         VALUES ($1, $2, $3, ARRAY[$4::bigint], $4, $5)
         ON CONFLICT (account_id, conversation_id, participant_account_ids) DO UPDATE
            SET status_ids = (SELECT array_agg(DISTINCT s ORDER BY s)
                                FROM unnest(account_conversations.status_ids || $4::bigint) s),
                last_status_id = GREATEST(account_conversations.last_status_id, $4),
                unread = $5, lock_version = account_conversations.lock_version + 1
         RETURNING id",
    )
    .bind(recipient)
    .bind(conversation_id)
    .bind(&participants)
    .bind(status_id)
    .bind(unread)
    .fetch_one(tx)
    .await?)
}

/// Takes a deleted status out of every conversation holding it; conversations left empty
/// go. The ids of those that remain, with their accounts.
pub async fn remove_status(tx: &mut PgConnection, status_id: i64) -> Result<Vec<(i64, i64)>> {
    let changed: Vec<(i64, i64, bool)> = sqlx::query_as(
        "UPDATE account_conversations
            SET status_ids = array_remove(status_ids, $1),
                last_status_id = (SELECT max(s) FROM unnest(array_remove(status_ids, $1)) s),
                lock_version = lock_version + 1
          WHERE $1 = ANY(status_ids)
         RETURNING id, account_id, cardinality(status_ids) = 0",
    )
    .bind(status_id)
    .fetch_all(&mut *tx)
    .await?;
    let emptied: Vec<i64> = changed.iter().filter(|(_, _, empty)| *empty).map(|(id, _, _)| *id).collect();
    sqlx::query("DELETE FROM account_conversations WHERE id = ANY($1)").bind(&emptied).execute(&mut *tx).await?;
    Ok(changed.into_iter().filter(|(_, _, empty)| !empty).map(|(id, account, _)| (id, account)).collect())
}

/// A page of `account_id`'s conversations, latest status first (the cursor is that status).
pub async fn page(db: &PgPool, account_id: i64, page: &Page) -> Result<Vec<AccountConversation>> {
    let rows: Vec<AccountConversation> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM account_conversations
          WHERE account_id = $1 AND last_status_id IS NOT NULL {}",
        page.sql("last_status_id", 2)
    )))
    .bind(account_id)
    .bind(page.max_id)
    .bind(page.since_id)
    .bind(page.min_id)
    .fetch_all(db)
    .await?;
    Ok(page.in_order(rows, |c| c.last_status_id.unwrap_or(0)))
}

pub async fn find(db: &PgPool, account_id: i64, id: i64) -> Result<AccountConversation> {
    sqlx::query_as(AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM account_conversations WHERE account_id = $1 AND id = $2"
    )))
    .bind(account_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound)
}

pub async fn set_unread(tx: &mut PgConnection, account_id: i64, id: i64, unread: bool) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE account_conversations SET unread = $3, lock_version = lock_version + 1
          WHERE account_id = $1 AND id = $2",
    )
    .bind(account_id)
    .bind(id)
    .bind(unread)
    .execute(tx)
    .await?;
    if updated.rows_affected() == 0 { Err(Error::NotFound) } else { Ok(()) }
}

pub async fn remove(db: &PgPool, account_id: i64, id: i64) -> Result<()> {
    let removed = sqlx::query("DELETE FROM account_conversations WHERE account_id = $1 AND id = $2")
        .bind(account_id)
        .bind(id)
        .execute(db)
        .await?;
    if removed.rows_affected() == 0 { Err(Error::NotFound) } else { Ok(()) }
}
