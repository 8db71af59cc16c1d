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

/// A tag with the flags staff review (`manage_taxonomies`).
#[derive(Debug, Clone, FromRow)]
pub struct ReviewedTag {
    #[sqlx(flatten)]
    pub tag: Tag,
    pub usable: Option<bool>,
    pub trendable: Option<bool>,
    pub listable: Option<bool>,
    pub reviewed_at: Option<chrono::NaiveDateTime>,
}

const REVIEWED_SELECT: &str = "SELECT id, name, display_name, usable, trendable, listable, reviewed_at FROM tags";

pub async fn reviewed_page(db: &PgPool, page: &Page) -> Result<Vec<ReviewedTag>> {
    super::newest_first(db, &format!("{REVIEWED_SELECT} WHERE true"), page, |t: &ReviewedTag| t.tag.id).await
}

pub async fn reviewed(db: &PgPool, id: i64) -> Result<ReviewedTag> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{REVIEWED_SELECT} WHERE id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(crate::core::error::Error::NotFound)
}

/// What staff change on a tag; `None` leaves a value alone.
#[derive(Debug, Default)]
pub struct TagReview {
    pub display_name: Option<String>,
    pub usable: Option<bool>,
    pub trendable: Option<bool>,
    pub listable: Option<bool>,
}

/// Stores a review (and that the tag was reviewed now).
pub async fn review(db: &PgPool, id: i64, review: &TagReview) -> Result<()> {
    sqlx::query(
        "UPDATE tags SET display_name = COALESCE($2, display_name), usable = COALESCE($3, usable),
                trendable = COALESCE($4, trendable), listable = COALESCE($5, listable),
                reviewed_at = now() AT TIME ZONE 'UTC', updated_at = now() AT TIME ZONE 'UTC'
          WHERE id = $1",
    )
    .bind(id)
    .bind(&review.display_name)
    .bind(review.usable)
    .bind(review.trendable)
    .bind(review.listable)
    .execute(db)
    .await?;
    Ok(())
}
