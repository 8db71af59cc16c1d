//! Strikes: Mastodon's `account_warnings`, what staff did to an account and why.

use chrono::NaiveDateTime;
use sqlx::{FromRow, PgPool};

use crate::core::error::Result;

#[derive(Debug, Clone, FromRow)]
pub struct Warning {
    pub id: i64,
    pub target_account_id: i64,
    pub action: i32,
    pub text: String,
    pub status_ids: Option<Vec<String>>,
    pub created_at: NaiveDateTime,
}

/// Mastodon's names of `account_warnings.action`.
pub fn action_name(action: i32) -> &'static str {
    match action {
        1000 => "disable",
        1250 => "mark_statuses_as_sensitive",
        1500 => "delete_statuses",
        2000 => "sensitive",
        3000 => "silence",
        4000 => "suspend",
        _ => "none",
    }
}

pub async fn find_many(db: &PgPool, ids: &[i64]) -> Result<Vec<Warning>> {
    Ok(sqlx::query_as(
        "SELECT id, target_account_id, action, text, status_ids, created_at FROM account_warnings WHERE id = ANY($1)",
    )
    .bind(ids)
    .fetch_all(db)
    .await?)
}
