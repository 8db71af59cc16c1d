//! Report rows (`reports`).

use chrono::NaiveDateTime;
use sqlx::{FromRow, PgPool};

use crate::core::error::{Error, Result};

/// Mastodon's comment limit for local reporters; reports from elsewhere keep 5,000.
pub const COMMENT_LIMIT: usize = 1_000;
pub const REMOTE_COMMENT_LIMIT: usize = 5_000;

/// `reports.category` and its API names.
pub const CATEGORIES: &[(&str, i32)] = &[("other", 0), ("spam", 1000), ("legal", 1500), ("violation", 2000)];

pub fn category_name(value: i32) -> &'static str {
    CATEGORIES.iter().find(|(_, v)| *v == value).map_or("other", |(name, _)| name)
}

#[derive(Debug, Clone, FromRow)]
pub struct Report {
    pub id: i64,
    pub account_id: i64,
    pub target_account_id: i64,
    pub status_ids: Vec<i64>,
    pub rule_ids: Option<Vec<i64>>,
    pub comment: String,
    pub category: i32,
    pub forwarded: Option<bool>,
    pub action_taken_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub uri: Option<String>,
}

pub const COLUMNS: &str = "id, account_id, target_account_id, status_ids, rule_ids, comment, category, forwarded,
    action_taken_at, created_at, uri";

pub async fn find(db: &PgPool, id: i64) -> Result<Report> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM reports WHERE id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(Error::NotFound)
}

/// Reports about an account, newest first (for the admin CLI and tests).
pub async fn about(db: &PgPool, target: i64) -> Result<Vec<Report>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM reports WHERE target_account_id = $1 ORDER BY id DESC"
    )))
    .bind(target)
    .fetch_all(db)
    .await?)
}
