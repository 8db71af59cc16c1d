//! Hashtags as things to follow (`/api/v1/tags/:name`, `/follow`, `/unfollow`,
//! `/api/v1/followed_tags`). Public statuses with a followed tag reach the follower's home
//! feed through the same fan-out as follows.

use sqlx::PgPool;

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::text;
use crate::core::time;
use crate::domain::events::{self, Event};
use crate::model::tags::Tag;

/// The written form of a hashtag name, if it is one (`#name` parses as exactly that tag).
fn valid_name(name: &str) -> Option<String> {
    let found = text::extract_hashtags(&format!("#{name}"));
    match found.as_slice() {
        [only] if only == name => Some(name.to_string()),
        _ => None,
    }
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

/// How many hashtags an account may feature (Mastodon's `FeaturedTag::LIMIT`).
pub const MAX_FEATURED: i64 = 10;

/// Features the hashtag `name` on `account_id`'s profile (created if new); the tag and the
/// featured tag's id. Featuring it again changes nothing.
pub async fn feature(db: &PgPool, account_id: i64, name: &str) -> Result<(Tag, i64)> {
    let name = name.trim_start_matches('#');
    let tag = match find_or_create(db, name).await {
        Err(Error::NotFound) => return Err(Error::validation("Name is invalid")),
        other => other?,
    };
    let mut tx = db.begin().await?;
    // One feature at a time per account, so two requests cannot pass the limit together.
    sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE").bind(account_id).execute(&mut *tx).await?;
    let already = crate::model::tags::flags(db, account_id, tag.id).await?.featuring;
    if !already && crate::model::tags::featured_count(&mut tx, account_id).await? >= MAX_FEATURED {
        return Err(Error::validation("You have already featured the maximum number of hashtags"));
    }
    let id = crate::model::tags::feature(&mut tx, account_id, &tag).await?;
    tx.commit().await?;
    Ok((tag, id))
}
