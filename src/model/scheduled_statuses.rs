//! Posts waiting for their time (Mastodon's `scheduled_statuses`): when, and the posting
//! parameters as Mastodon stores them (`text`, `media_ids`, `poll`, `visibility`, …), with
//! their media attachments pointing at them until then.

use chrono::NaiveDateTime;
use serde_json::Value;
use sqlx::{FromRow, PgConnection, PgPool};

use crate::core::error::{Error, Result};
use crate::core::pagination::Page;

#[derive(Debug, Clone, FromRow)]
pub struct ScheduledStatus {
    pub id: i64,
    pub account_id: i64,
    pub scheduled_at: Option<NaiveDateTime>,
    pub params: Option<Value>,
}

const SELECT: &str = "SELECT id, account_id, scheduled_at, params FROM scheduled_statuses";

pub async fn insert(
    tx: &mut PgConnection,
    account_id: i64,
    at: NaiveDateTime,
    params: &Value,
    media: &[i64],
) -> Result<i64> {
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO scheduled_statuses (account_id, scheduled_at, params) VALUES ($1, $2, $3) RETURNING id",
    )
    .bind(account_id)
    .bind(at)
    .bind(params)
    .fetch_one(&mut *tx)
    .await?;
    sqlx::query("UPDATE media_attachments SET scheduled_status_id = $1 WHERE id = ANY($2)")
        .bind(id)
        .bind(media)
        .execute(&mut *tx)
        .await?;
    Ok(id)
}

/// How many `account_id` has waiting in all, and on the day of `at`.
pub async fn counts(tx: &mut PgConnection, account_id: i64, at: NaiveDateTime) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT count(*), count(*) FILTER (WHERE scheduled_at::date = $2::date)
           FROM scheduled_statuses WHERE account_id = $1",
    )
    .bind(account_id)
    .bind(at)
    .fetch_one(tx)
    .await?)
}

pub async fn find(db: &PgPool, account_id: i64, id: i64) -> Result<ScheduledStatus> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE account_id = $1 AND id = $2")))
        .bind(account_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn page(db: &PgPool, account_id: i64, page: &Page) -> Result<Vec<ScheduledStatus>> {
    let rows: Vec<ScheduledStatus> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("{SELECT} WHERE account_id = $1 {}", page.sql("id", 2))))
            .bind(account_id)
            .bind(page.max_id)
            .bind(page.since_id)
            .bind(page.min_id)
            .fetch_all(db)
            .await?;
    Ok(page.in_order(rows, |s| s.id))
}

/// The ids of those whose time has come, oldest first.
pub async fn due(db: &PgPool, limit: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM scheduled_statuses WHERE scheduled_at <= now() AT TIME ZONE 'UTC' ORDER BY scheduled_at LIMIT $1",
    )
    .bind(limit)
    .fetch_all(db)
    .await?)
}

pub async fn reschedule(tx: &mut PgConnection, id: i64, at: NaiveDateTime) -> Result<()> {
    sqlx::query("UPDATE scheduled_statuses SET scheduled_at = $2 WHERE id = $1").bind(id).bind(at).execute(tx).await?;
    Ok(())
}

/// Deletes one (its media are detached by the schema); whether it was there.
pub async fn delete<'e>(db: impl sqlx::PgExecutor<'e>, account_id: i64, id: i64) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM scheduled_statuses WHERE account_id = $1 AND id = $2")
        .bind(account_id)
        .bind(id)
        .execute(db)
        .await?
        .rows_affected()
        > 0)
}

/// The attachments waiting with each of `ids`.
pub async fn media(db: &PgPool, ids: &[i64]) -> Result<Vec<(i64, crate::model::media::MediaAttachment)>> {
    #[derive(FromRow)]
    struct Row {
        scheduled_status_id: i64,
        #[sqlx(flatten)]
        media: crate::model::media::MediaAttachment,
    }
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT m.scheduled_status_id, {} FROM media_attachments m WHERE m.scheduled_status_id = ANY($1) ORDER BY m.id",
        crate::model::media::COLUMNS
    )))
    .bind(ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|r| (r.scheduled_status_id, r.media)).collect())
}
