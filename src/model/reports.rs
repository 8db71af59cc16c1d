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
    pub updated_at: NaiveDateTime,
    pub uri: Option<String>,
    pub assigned_account_id: Option<i64>,
    pub action_taken_by_account_id: Option<i64>,
}

pub const COLUMNS: &str = "id, account_id, target_account_id, status_ids, rule_ids, comment, category, forwarded,
    action_taken_at, created_at, updated_at, uri, assigned_account_id, action_taken_by_account_id";

pub async fn find(db: &PgPool, id: i64) -> Result<Report> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM reports WHERE id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn find_many(db: &PgPool, ids: &[i64]) -> Result<Vec<Report>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM reports WHERE id = ANY($1)")))
        .bind(ids)
        .fetch_all(db)
        .await?)
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

/// Which reports staff list: unresolved by default, resolved ones only, or both.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Unresolved,
    Resolved,
    Any,
}

/// A page of reports, newest first, by resolution and the accounts involved.
pub async fn list(
    db: &PgPool,
    resolution: Resolution,
    account_id: Option<i64>,
    target_account_id: Option<i64>,
    page: &crate::core::pagination::Page,
) -> Result<Vec<Report>> {
    let resolved = match resolution {
        Resolution::Unresolved => "action_taken_at IS NULL",
        Resolution::Resolved => "action_taken_at IS NOT NULL",
        Resolution::Any => "true",
    };
    let rows = sqlx::query_as::<_, Report>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM reports WHERE {resolved}
            AND ($1::bigint IS NULL OR account_id = $1) AND ($2::bigint IS NULL OR target_account_id = $2) {}",
        page.sql("id", 3)
    )))
    .bind(account_id)
    .bind(target_account_id)
    .bind(page.max_id)
    .bind(page.since_id)
    .bind(page.min_id)
    .fetch_all(db)
    .await?;
    Ok(page.in_order(rows, |r| r.id))
}

pub async fn set_assignee(db: impl sqlx::PgExecutor<'_>, id: i64, assignee: Option<i64>) -> Result<()> {
    sqlx::query("UPDATE reports SET assigned_account_id = $2, updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1")
        .bind(id)
        .bind(assignee)
        .execute(db)
        .await?;
    Ok(())
}

/// Marks a report resolved by `by`, or (with `None`) open again.
pub async fn set_resolved(db: impl sqlx::PgExecutor<'_>, id: i64, by: Option<i64>) -> Result<()> {
    sqlx::query(
        "UPDATE reports SET action_taken_at = CASE WHEN $2::bigint IS NULL THEN NULL ELSE now() AT TIME ZONE 'UTC' END,
                action_taken_by_account_id = $2, updated_at = now() AT TIME ZONE 'UTC'
          WHERE id = $1",
    )
    .bind(id)
    .bind(by)
    .execute(db)
    .await?;
    Ok(())
}

pub async fn set_category(db: impl sqlx::PgExecutor<'_>, id: i64, category: i32, rule_ids: &[i64]) -> Result<()> {
    sqlx::query("UPDATE reports SET category = $2, rule_ids = $3, updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1")
        .bind(id)
        .bind(category)
        .bind(rule_ids)
        .execute(db)
        .await?;
    Ok(())
}
