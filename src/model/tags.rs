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

/// Whether a viewer follows a tag, and features it on their profile.
#[derive(Debug, Clone, Copy, Default, FromRow)]
pub struct TagFlags {
    pub following: bool,
    pub featuring: bool,
}

pub async fn flags(db: &PgPool, account_id: i64, tag_id: i64) -> Result<TagFlags> {
    Ok(flags_of(db, account_id, &[tag_id]).await?.remove(&tag_id).unwrap_or_default())
}

/// `flags` for many tags in one query, by tag id.
pub async fn flags_of(
    db: &PgPool,
    account_id: i64,
    tag_ids: &[i64],
) -> Result<std::collections::HashMap<i64, TagFlags>> {
    let rows: Vec<(i64, bool, bool)> = sqlx::query_as(
        "SELECT t.id,
                EXISTS (SELECT 1 FROM tag_follows WHERE account_id = $1 AND tag_id = t.id),
                EXISTS (SELECT 1 FROM featured_tags WHERE account_id = $1 AND tag_id = t.id)
           FROM unnest($2::bigint[]) AS t(id)",
    )
    .bind(account_id)
    .bind(tag_ids)
    .fetch_all(db)
    .await?;
    Ok(rows.into_iter().map(|(id, following, featuring)| (id, TagFlags { following, featuring })).collect())
}

/// A hashtag an account features on its profile, with its use in the account's public and
/// unlisted statuses (counted when read, so it is right after edits and deletions).
#[derive(Debug, Clone, FromRow)]
pub struct FeaturedTag {
    pub id: i64,
    pub name: String,
    pub statuses_count: i64,
    pub last_status_at: Option<chrono::NaiveDateTime>,
}

/// Featured tags of `account_id` (or just `only`), in the order they were featured.
pub async fn featured(db: &PgPool, account_id: i64, only: Option<i64>) -> Result<Vec<FeaturedTag>> {
    Ok(sqlx::query_as(
        "SELECT f.id, COALESCE(t.display_name, t.name) AS name, count(s.id) AS statuses_count,
                max(s.created_at) AS last_status_at
           FROM featured_tags f JOIN tags t ON t.id = f.tag_id
           LEFT JOIN statuses_tags x ON x.tag_id = f.tag_id
           LEFT JOIN statuses s ON s.id = x.status_id AND s.account_id = f.account_id
                AND s.visibility IN (0, 1) AND s.deleted_at IS NULL AND s.reblog_of_id IS NULL
          WHERE f.account_id = $1 AND ($2::bigint IS NULL OR f.id = $2)
          GROUP BY f.id, t.display_name, t.name ORDER BY f.id",
    )
    .bind(account_id)
    .bind(only)
    .fetch_all(db)
    .await?)
}

/// Features `tag_id` for `account_id` unless it already is; the featured tag's id.
pub async fn feature(db: &mut sqlx::PgConnection, account_id: i64, tag: &Tag) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "WITH added AS (
            INSERT INTO featured_tags (account_id, tag_id, name, statuses_count, created_at, updated_at)
            VALUES ($1, $2, $3, 0, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
            ON CONFLICT (account_id, tag_id) DO NOTHING RETURNING id)
         SELECT id FROM added UNION ALL SELECT id FROM featured_tags WHERE account_id = $1 AND tag_id = $2",
    )
    .bind(account_id)
    .bind(tag.id)
    .bind(tag.display_name.as_deref().unwrap_or(&tag.name))
    .fetch_one(db)
    .await?)
}

pub async fn featured_count(db: &mut sqlx::PgConnection, account_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM featured_tags WHERE account_id = $1")
        .bind(account_id)
        .fetch_one(db)
        .await?)
}

/// Stops featuring; the tag it was, if it was featured.
pub async fn unfeature(
    db: &PgPool,
    account_id: i64,
    featured_tag_id: Option<i64>,
    tag_id: Option<i64>,
) -> Result<Option<Tag>> {
    Ok(sqlx::query_as(
        "WITH removed AS (DELETE FROM featured_tags WHERE account_id = $1 AND (id = $2 OR tag_id = $3) RETURNING tag_id)
         SELECT t.id, t.name, t.display_name FROM tags t JOIN removed r ON r.tag_id = t.id",
    )
    .bind(account_id)
    .bind(featured_tag_id)
    .bind(tag_id)
    .fetch_optional(db)
    .await?)
}

/// Tags `account_id` used lately and does not feature yet, most used first (Mastodon's
/// featured tag suggestions).
pub async fn feature_suggestions(db: &PgPool, account_id: i64, limit: i64) -> Result<Vec<Tag>> {
    Ok(sqlx::query_as(
        "SELECT t.id, t.name, t.display_name FROM tags t
           JOIN (SELECT x.tag_id, count(*) AS uses FROM statuses_tags x
                   JOIN (SELECT id FROM statuses WHERE account_id = $1 AND deleted_at IS NULL
                          ORDER BY id DESC LIMIT 1000) s ON s.id = x.status_id
                  GROUP BY x.tag_id) used ON used.tag_id = t.id
          WHERE NOT EXISTS (SELECT 1 FROM featured_tags f WHERE f.account_id = $1 AND f.tag_id = t.id)
          ORDER BY used.uses DESC, t.name LIMIT $2",
    )
    .bind(account_id)
    .bind(limit)
    .fetch_all(db)
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
