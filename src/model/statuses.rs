//! Status rows, their history, and — in one place — the rule for who may see what. Every
//! read path and every domain operation goes through `visible_sql` or `find_visible`, so a
//! private or direct status cannot leak through an endpoint that forgot a check.

use chrono::NaiveDateTime;
use sqlx::AssertSqlSafe;
use sqlx::{FromRow, PgPool};

use crate::core::error::{Error, Result};
use crate::core::text::{MentionToken, ResolvedMention};

pub const MAX_CHARACTERS: usize = 500;
pub const MAX_MEDIA_ATTACHMENTS: usize = 4;
pub const CHARACTERS_RESERVED_PER_URL: usize = 23;
pub const MAX_PINNED: i64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Visibility {
    Public = 0,
    Unlisted = 1,
    Private = 2,
    Direct = 3,
    Limited = 4,
}

impl Visibility {
    pub fn from_db(v: i32) -> Visibility {
        match v {
            0 => Visibility::Public,
            1 => Visibility::Unlisted,
            2 => Visibility::Private,
            3 => Visibility::Direct,
            _ => Visibility::Limited,
        }
    }
    pub fn parse(s: &str) -> Option<Visibility> {
        match s {
            "public" => Some(Visibility::Public),
            "unlisted" => Some(Visibility::Unlisted),
            "private" => Some(Visibility::Private),
            "direct" => Some(Visibility::Direct),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Visibility::Public => "public",
            Visibility::Unlisted => "unlisted",
            Visibility::Private => "private",
            Visibility::Direct => "direct",
            Visibility::Limited => "limited",
        }
    }
    pub fn db(self) -> i32 {
        self as i32
    }
}

#[derive(Debug, Clone, PartialEq, FromRow, serde::Serialize, serde::Deserialize)]
pub struct Status {
    pub id: i64,
    pub uri: Option<String>,
    pub url: Option<String>,
    pub text: String,
    pub spoiler_text: String,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
    pub edited_at: Option<NaiveDateTime>,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_account_id: Option<i64>,
    pub reblog_of_id: Option<i64>,
    pub sensitive: bool,
    pub visibility: i32,
    pub reply: bool,
    pub language: Option<String>,
    pub conversation_id: Option<i64>,
    pub local: Option<bool>,
    pub account_id: i64,
    pub application_id: Option<i64>,
    pub ordered_media_attachment_ids: Option<Vec<i64>>,
    pub poll_id: Option<i64>,
}

impl Status {
    pub fn visibility(&self) -> Visibility {
        Visibility::from_db(self.visibility)
    }
    pub fn is_local(&self) -> bool {
        self.local.unwrap_or(false) || self.uri.is_none()
    }
}

pub const STATUS_COLUMNS: &str = "s.id, s.uri, s.url, s.text, s.spoiler_text, s.created_at, s.updated_at, s.edited_at,
    s.in_reply_to_id, s.in_reply_to_account_id, s.reblog_of_id, s.sensitive, s.visibility, s.reply, s.language,
    s.conversation_id, s.local, s.account_id, s.application_id, s.ordered_media_attachment_ids, s.poll_id";

/// SQL that is true when the viewer bound at `$viewer` (NULL for anonymous) may see status
/// `alias`: not deleted, author not suspended, no block either way, and the visibility
/// rules (public/unlisted: anyone; private: author, followers, mentioned; direct: author
/// and mentioned). A reblog is visible only if its original is. The viewer's blocks are an
/// uncorrelated subquery, so PostgreSQL reads them once per query into a hash table
/// instead of probing per row.
pub fn visible_sql(alias: &str, viewer: &str) -> String {
    let own = own_visibility_sql(alias, viewer);
    let original = own_visibility_sql("orig", viewer);
    format!(
        "({own} AND ({alias}.reblog_of_id IS NULL OR EXISTS (
            SELECT 1 FROM statuses orig WHERE orig.id = {alias}.reblog_of_id AND {original})))"
    )
}

fn own_visibility_sql(s: &str, v: &str) -> String {
    format!(
        "({s}.deleted_at IS NULL
          AND NOT EXISTS (SELECT 1 FROM accounts sa WHERE sa.id = {s}.account_id AND sa.suspended_at IS NOT NULL)
          AND ({s}.visibility IN (0, 1)
               OR {s}.account_id = {v}
               OR ({s}.visibility = 2 AND EXISTS (SELECT 1 FROM follows vf
                        WHERE vf.account_id = {v} AND vf.target_account_id = {s}.account_id))
               OR EXISTS (SELECT 1 FROM mentions vm WHERE vm.status_id = {s}.id AND vm.account_id = {v}))
          AND ({v}::bigint IS NULL OR {s}.account_id NOT IN (
                 SELECT target_account_id FROM blocks WHERE account_id = {v}
                 UNION ALL SELECT account_id FROM blocks WHERE target_account_id = {v})))"
    )
}

/// A status the viewer may see, or 404 (whether it is missing or hidden).
pub async fn find_visible(db: &PgPool, id: i64, viewer: Option<i64>) -> Result<Status> {
    sqlx::query_as::<_, Status>(AssertSqlSafe(format!(
        "SELECT {STATUS_COLUMNS} FROM statuses s WHERE s.id = $1 AND {}",
        visible_sql("s", "$2")
    )))
    .bind(id)
    .bind(viewer)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound)
}

/// A status owned by `account_id` (for edit, delete, pin), or 404.
pub async fn find_own(db: &PgPool, id: i64, account_id: i64) -> Result<Status> {
    sqlx::query_as::<_, Status>(AssertSqlSafe(format!(
        "SELECT {STATUS_COLUMNS} FROM statuses s WHERE s.id = $1 AND s.account_id = $2 AND s.deleted_at IS NULL"
    )))
    .bind(id)
    .bind(account_id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound)
}

pub async fn find_many(db: &PgPool, ids: &[i64]) -> Result<Vec<Status>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as::<_, Status>(AssertSqlSafe(format!(
        "SELECT {STATUS_COLUMNS} FROM statuses s WHERE s.id = ANY($1)"
    )))
    .bind(ids)
    .fetch_all(db)
    .await?)
}

/// The ids of the status that `tootctl statuses remove` may delete, after `after_id`, at most
/// `limit`: remote statuses posted more than `days` ago that nothing local refers to (no
/// local reply, boost, pin, mention, favourite or bookmark, no recent boost, not a boost of a
/// local status) and, unless `clean_followed`, whose author nobody here follows.
pub async fn unreferenced_remote(
    db: &PgPool,
    days: i64,
    clean_followed: bool,
    after_id: i64,
    limit: i64,
) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "WITH bound AS (
            SELECT (extract(epoch FROM now() - make_interval(days => $1::int)) * 1000)::bigint << 16 AS max_id)
         SELECT s.id FROM statuses s, bound
          WHERE s.id > $3 AND s.id < bound.max_id AND s.deleted_at IS NULL AND NOT s.local AND s.uri IS NOT NULL
            AND NOT EXISTS (SELECT 1 FROM statuses r WHERE r.in_reply_to_id = s.id)
            AND NOT EXISTS (SELECT 1 FROM statuses o WHERE o.id = s.reblog_of_id AND (o.uri IS NULL OR o.local))
            AND NOT EXISTS (SELECT 1 FROM statuses b WHERE b.reblog_of_id = s.id
                              AND (b.uri IS NULL OR b.local OR b.id >= bound.max_id))
            AND NOT EXISTS (SELECT 1 FROM status_pins p WHERE p.status_id = s.id)
            AND NOT EXISTS (SELECT 1 FROM mentions m JOIN accounts a ON a.id = m.account_id
                             WHERE m.status_id = s.id AND a.domain IS NULL)
            AND NOT EXISTS (SELECT 1 FROM favourites f JOIN accounts a ON a.id = f.account_id
                             WHERE f.status_id = s.id AND a.domain IS NULL)
            AND NOT EXISTS (SELECT 1 FROM bookmarks k JOIN accounts a ON a.id = k.account_id
                             WHERE k.status_id = s.id AND a.domain IS NULL)
            AND ($2 OR NOT EXISTS (SELECT 1 FROM follows w WHERE w.target_account_id = s.account_id))
          ORDER BY s.id LIMIT $4",
    )
    .bind(days)
    .bind(clean_followed)
    .bind(after_id)
    .bind(limit)
    .fetch_all(db)
    .await?)
}

/// Deletes status rows outright, as Mastodon's `delete_all` does: what refers to them goes
/// by the schema's foreign keys, and no one is told.
pub async fn delete_rows(db: &PgPool, ids: &[i64]) -> Result<u64> {
    Ok(sqlx::query("DELETE FROM statuses WHERE id = ANY($1)").bind(ids).execute(db).await?.rows_affected())
}

/// Recounts the (not direct) replies, the reblogs and the favourites of the statuses after
/// `after_id`, `limit` of them (tootctl's `cache recount statuses`); the last id done.
pub async fn recount_stats(db: &PgPool, after_id: i64, limit: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "WITH batch AS (SELECT id FROM statuses WHERE id > $1 AND deleted_at IS NULL ORDER BY id LIMIT $2),
              counted AS (
                SELECT b.id,
                       (SELECT count(*) FROM statuses r
                         WHERE r.in_reply_to_id = b.id AND r.visibility <> 3 AND r.deleted_at IS NULL) AS replies,
                       (SELECT count(*) FROM statuses r WHERE r.reblog_of_id = b.id AND r.deleted_at IS NULL) AS reblogs,
                       (SELECT count(*) FROM favourites f WHERE f.status_id = b.id) AS favourites
                  FROM batch b),
              written AS (
                INSERT INTO status_stats (status_id, replies_count, reblogs_count, favourites_count,
                                          created_at, updated_at)
                SELECT id, replies, reblogs, favourites, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                  FROM counted
                ON CONFLICT (status_id) DO UPDATE
                   SET replies_count = EXCLUDED.replies_count, reblogs_count = EXCLUDED.reblogs_count,
                       favourites_count = EXCLUDED.favourites_count, updated_at = EXCLUDED.updated_at)
         SELECT max(id) FROM batch",
    )
    .bind(after_id)
    .bind(limit)
    .fetch_one(db)
    .await?)
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Edit {
    pub text: String,
    pub spoiler_text: String,
    pub sensitive: Option<bool>,
    pub created_at: chrono::NaiveDateTime,
    pub poll_options: Option<Vec<String>>,
}

/// Every version of a status, oldest first (just the current one if never edited).
pub async fn history(db: &sqlx::PgPool, status: &Status) -> Result<Vec<Edit>> {
    let edits: Vec<Edit> = sqlx::query_as(
        "SELECT text, spoiler_text, sensitive, created_at, poll_options FROM status_edits WHERE status_id = $1 ORDER BY id",
    )
    .bind(status.id)
    .fetch_all(db)
    .await?;
    if edits.is_empty() {
        return Ok(vec![Edit {
            text: status.text.clone(),
            spoiler_text: status.spoiler_text.clone(),
            sensitive: Some(status.sensitive),
            created_at: status.created_at,
            poll_options: None,
        }]);
    }
    Ok(edits)
}

/// The mention resolver used when rendering stored text: mentions of this status by name.
pub fn mention_resolver(
    mentions: &[(String, Option<String>, ResolvedMention)],
) -> impl Fn(&MentionToken) -> Option<ResolvedMention> + '_ {
    move |token: &MentionToken| {
        mentions
            .iter()
            .find(|(username, domain, _)| {
                username.eq_ignore_ascii_case(&token.username)
                    && match (&token.domain, domain) {
                        (None, _) => true,
                        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                        (Some(_), None) => true,
                    }
            })
            .map(|(_, _, r)| ResolvedMention { url: r.url.clone(), username: r.username.clone(), acct: r.acct.clone() })
    }
}
