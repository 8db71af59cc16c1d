//! Read markers (`/api/v1/markers`): the last status read in `home` and the last
//! notification read in `notifications`, per user.

use chrono::NaiveDateTime;
use sqlx::PgPool;

use crate::core::error::{Error, Result};
use crate::core::time;

pub const TIMELINES: &[&str] = &["home", "notifications"];

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Marker {
    pub timeline: String,
    pub last_read_id: i64,
    pub lock_version: i32,
    pub updated_at: NaiveDateTime,
}

pub async fn get(db: &PgPool, user_id: i64, timelines: &[String]) -> Result<Vec<Marker>> {
    Ok(sqlx::query_as(
        "SELECT timeline, last_read_id, lock_version, updated_at FROM markers WHERE user_id = $1 AND timeline = ANY($2)",
    )
    .bind(user_id)
    .bind(timelines)
    .fetch_all(db)
    .await?)
}

/// Sets the markers given (timeline → last read id) in one transaction.
pub async fn save(db: &PgPool, user_id: i64, positions: &[(String, i64)]) -> Result<Vec<Marker>> {
    if let Some((timeline, _)) = positions.iter().find(|(t, _)| !TIMELINES.contains(&t.as_str())) {
        return Err(Error::validation(format!("Timeline {timeline} is not included in the list")));
    }
    let mut tx = db.begin().await?;
    for (timeline, last_read_id) in positions {
        sqlx::query(
            "INSERT INTO markers (user_id, timeline, last_read_id, created_at, updated_at) VALUES ($1, $2, $3, $4, $4)
             ON CONFLICT (user_id, timeline) DO UPDATE
                SET last_read_id = $3, lock_version = markers.lock_version + 1, updated_at = $4",
        )
        .bind(user_id)
        .bind(timeline)
        .bind(last_read_id)
        .bind(time::now())
        .execute(&mut *tx)
        .await?;
    }
    tx.commit().await?;
    let timelines: Vec<String> = positions.iter().map(|(t, _)| t.clone()).collect();
    get(db, user_id, &timelines).await
}
