//! Hashtag rows (`tags`) and who follows which (`tag_follows`).

use sqlx::{FromRow, PgPool};

use crate::core::error::Result;
use crate::core::pagination::Page;
use crate::core::text;

#[derive(Debug, Clone, FromRow)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    pub display_name: Option<String>,
}

pub async fn find(db: &PgPool, name: &str) -> Result<Option<Tag>> {
    Ok(sqlx::query_as("SELECT id, name, display_name FROM tags WHERE lower(name) = lower($1)")
        .bind(text::normalize_hashtag(name))
        .fetch_optional(db)
        .await?)
}

pub async fn is_following(db: &PgPool, account_id: i64, tag_id: i64) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tag_follows WHERE account_id = $1 AND tag_id = $2)")
        .bind(account_id)
        .bind(tag_id)
        .fetch_one(db)
        .await?)
}

/// The tags an account follows, keyed by the follow row for pagination.
pub async fn followed(db: &PgPool, account_id: i64, page: &Page) -> Result<Vec<(i64, Tag)>> {
    #[derive(FromRow)]
    struct Row {
        cursor: i64,
        #[sqlx(flatten)]
        tag: Tag,
    }
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT tf.id AS cursor, t.id, t.name, t.display_name FROM tag_follows tf JOIN tags t ON t.id = tf.tag_id
          WHERE tf.account_id = $1 {}",
        page.sql("tf.id", 2)
    )))
    .bind(account_id)
    .bind(page.max_id)
    .bind(page.since_id)
    .bind(page.min_id)
    .fetch_all(db)
    .await?;
    Ok(page.in_order(rows, |r| r.cursor).into_iter().map(|r| (r.cursor, r.tag)).collect())
}
