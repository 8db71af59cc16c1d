//! Hashtags as things to follow (`/api/v1/tags/:name`, `/follow`, `/unfollow`,
//! `/api/v1/followed_tags`). Public statuses with a followed tag reach the follower's home
//! feed through the same fan-out as follows.

use sqlx::{FromRow, PgPool};

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::pagination::Page;
use crate::core::text;
use crate::core::time;
use crate::domain::events::{self, Event};

#[derive(Debug, Clone, FromRow)]
pub struct Tag {
    pub id: i64,
    pub name: String,
    pub display_name: Option<String>,
}

/// The written form of a hashtag name, if it is one (`#name` parses as exactly that tag).
fn valid_name(name: &str) -> Option<String> {
    let found = text::extract_hashtags(&format!("#{name}"));
    match found.as_slice() {
        [only] if only == name => Some(name.to_string()),
        _ => None,
    }
}

pub async fn find(db: &PgPool, name: &str) -> Result<Option<Tag>> {
    Ok(sqlx::query_as("SELECT id, name, display_name FROM tags WHERE lower(name) = lower($1)")
        .bind(text::normalize_hashtag(name))
        .fetch_optional(db)
        .await?)
}

/// The tag called `name`, created if needed; 404 for something that is not a hashtag.
pub async fn find_or_create(db: &PgPool, name: &str) -> Result<Tag> {
    let written = valid_name(name).ok_or(Error::NotFound)?;
    Ok(sqlx::query_as(
        "WITH found AS (SELECT id, name, display_name FROM tags WHERE lower(name) = lower($1)),
              created AS (INSERT INTO tags (name, display_name, created_at, updated_at)
                          SELECT $1, $2, $3, $3 WHERE NOT EXISTS (SELECT 1 FROM found)
                          RETURNING id, name, display_name)
         SELECT * FROM found UNION ALL SELECT * FROM created",
    )
    .bind(text::normalize_hashtag(&written))
    .bind(&written)
    .bind(time::now())
    .fetch_one(db)
    .await?)
}

pub async fn is_following(db: &PgPool, account_id: i64, tag_id: i64) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM tag_follows WHERE account_id = $1 AND tag_id = $2)")
        .bind(account_id)
        .bind(tag_id)
        .fetch_one(db)
        .await?)
}

pub async fn follow(db: &PgPool, account_id: i64, tag: &Tag) -> Result<()> {
    sqlx::query(
        "INSERT INTO tag_follows (account_id, tag_id, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (account_id, tag_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(tag.id)
    .bind(time::now())
    .execute(db)
    .await?;
    Ok(())
}

/// Unfollows, and takes the tag's statuses out of the home feed unless they are there for
/// another reason (a followed author, another followed tag).
pub async fn unfollow(state: &Core, account_id: i64, tag: &Tag) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    let removed = sqlx::query("DELETE FROM tag_follows WHERE account_id = $1 AND tag_id = $2")
        .bind(account_id)
        .bind(tag.id)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    if removed > 0 {
        events::emit(&mut *tx, Event::TagUnfollowed { account_id, tag_id: tag.id }).await?;
    }
    tx.commit().await?;
    Ok(())
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
