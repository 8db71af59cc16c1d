//! The SQL timelines (public, hashtag, an account's statuses) and threads. Each query adds
//! `visible_sql`, so visibility is enforced here and not left to handlers. The home and
//! list timelines are Redis feeds (see `feeds`).

use sqlx::AssertSqlSafe;
use std::collections::HashMap;

use sqlx::PgPool;

use crate::core::error::Result;
use crate::core::pagination::Page;
use crate::model::statuses::{Status, visible_sql};

/// Excludes authors (and reblogged authors) the viewer mutes or blocks, as Mastodon's
/// public feeds do; `viewer` is a SQL expression that may be NULL.
fn not_muted_sql(alias: &str, viewer: &str) -> String {
    format!(
        "({viewer}::bigint IS NULL OR NOT EXISTS (
            SELECT 1 FROM mutes mm WHERE mm.account_id = {viewer} AND mm.target_account_id = {alias}.account_id
               AND (mm.expires_at IS NULL OR mm.expires_at > now() AT TIME ZONE 'UTC'))) AND {}",
        not_domain_blocked_sql(alias, viewer)
    )
}

/// The author is not from a domain the viewer hides.
fn not_domain_blocked_sql(alias: &str, viewer: &str) -> String {
    format!(
        "({viewer}::bigint IS NULL OR NOT EXISTS (
            SELECT 1 FROM account_domain_blocks db JOIN accounts da ON lower(da.domain) = db.domain
             WHERE db.account_id = {viewer} AND da.id = {alias}.account_id))"
    )
}

#[derive(Debug, Default, Clone)]
pub struct PublicOptions {
    pub local: bool,
    pub remote: bool,
    pub only_media: bool,
}

/// Silenced authors stay out of the public and hashtag timelines, as Mastodon's.
const NOT_SILENCED_SQL: &str =
    "NOT EXISTS (SELECT 1 FROM accounts sa WHERE sa.id = s.account_id AND sa.silenced_at IS NOT NULL)";

fn locality_sql(opts: &PublicOptions) -> &'static str {
    match (opts.local, opts.remote) {
        (true, false) => "AND (s.local OR s.uri IS NULL)",
        (false, true) => "AND NOT (s.local OR s.uri IS NULL)",
        _ => "",
    }
}

fn media_sql(only_media: bool) -> &'static str {
    if only_media { "AND cardinality(s.ordered_media_attachment_ids) > 0" } else { "" }
}

async fn ids_page(db: &PgPool, sql: String, viewer: Option<i64>, page: &Page, extra: Vec<String>) -> Result<Vec<i64>> {
    let mut query = sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql))
        .bind(viewer)
        .bind(page.max_id)
        .bind(page.since_id)
        .bind(page.min_id);
    for value in extra {
        query = query.bind(value);
    }
    let ids = query.fetch_all(db).await?;
    Ok(page.in_order(ids, |id| *id))
}

/// `GET /api/v1/timelines/public`: public, original, not replies to others.
pub async fn public(db: &PgPool, viewer: Option<i64>, opts: &PublicOptions, page: &Page) -> Result<Vec<i64>> {
    let sql = format!(
        "SELECT s.id FROM statuses s
          WHERE s.visibility = 0 AND s.reblog_of_id IS NULL AND s.deleted_at IS NULL
            AND (NOT s.reply OR s.in_reply_to_account_id = s.account_id) AND {NOT_SILENCED_SQL}
            {} {} AND {} AND {} {}",
        locality_sql(opts),
        media_sql(opts.only_media),
        visible_sql("s", "$1"),
        not_muted_sql("s", "$1"),
        page.sql("s.id", 2)
    );
    ids_page(db, sql, viewer, page, Vec::new()).await
}

#[derive(Debug, Default, Clone)]
pub struct TagOptions {
    pub any: Vec<String>,
    pub all: Vec<String>,
    pub none: Vec<String>,
    pub public: PublicOptions,
}

/// `GET /api/v1/timelines/tag/:hashtag` (names already normalized).
pub async fn tag(db: &PgPool, viewer: Option<i64>, name: &str, opts: &TagOptions, page: &Page) -> Result<Vec<i64>> {
    let mut any = vec![name.to_string()];
    any.extend(opts.any.iter().cloned());
    let sql = format!(
        "SELECT s.id FROM statuses s
          WHERE s.visibility = 0 AND s.reblog_of_id IS NULL AND s.deleted_at IS NULL
            AND EXISTS (SELECT 1 FROM statuses_tags st JOIN tags t ON t.id = st.tag_id
                         WHERE st.status_id = s.id AND lower(t.name) = ANY(string_to_array(lower($5), ' ')))
            AND NOT EXISTS (SELECT 1 FROM unnest(string_to_array(lower($6), ' ')) AS req(name)
                             WHERE NOT EXISTS (SELECT 1 FROM statuses_tags st JOIN tags t ON t.id = st.tag_id
                                                WHERE st.status_id = s.id AND lower(t.name) = req.name))
            AND NOT EXISTS (SELECT 1 FROM statuses_tags st JOIN tags t ON t.id = st.tag_id
                             WHERE st.status_id = s.id AND lower(t.name) = ANY(string_to_array(lower($7), ' ')))
            AND {NOT_SILENCED_SQL}
            {} {} AND {} AND {} {}",
        locality_sql(&opts.public),
        media_sql(opts.public.only_media),
        visible_sql("s", "$1"),
        not_muted_sql("s", "$1"),
        page.sql("s.id", 2)
    );
    ids_page(db, sql, viewer, page, vec![any.join(" "), opts.all.join(" "), opts.none.join(" ")]).await
}

#[derive(Debug, Default, Clone)]
pub struct AccountStatusOptions {
    pub only_media: bool,
    pub exclude_replies: bool,
    pub exclude_reblogs: bool,
    pub pinned: bool,
    pub tagged: Option<String>,
}

/// `GET /api/v1/accounts/:id/statuses`.
pub async fn account(
    db: &PgPool,
    viewer: Option<i64>,
    account_id: i64,
    opts: &AccountStatusOptions,
    page: &Page,
) -> Result<Vec<i64>> {
    let sql = format!(
        "SELECT s.id FROM statuses s
          WHERE s.account_id = $5::bigint AND s.deleted_at IS NULL
            {} {} {} {}
            AND ($6 = '' OR EXISTS (SELECT 1 FROM statuses_tags st JOIN tags t ON t.id = st.tag_id
                                     WHERE st.status_id = s.id AND lower(t.name) = lower($6)))
            AND {} AND {} {}",
        media_sql(opts.only_media),
        if opts.exclude_replies { "AND (NOT s.reply OR s.in_reply_to_account_id = s.account_id)" } else { "" },
        if opts.exclude_reblogs { "AND s.reblog_of_id IS NULL" } else { "" },
        if opts.pinned {
            "AND EXISTS (SELECT 1 FROM status_pins p WHERE p.status_id = s.id AND p.account_id = s.account_id)"
        } else {
            ""
        },
        visible_sql("s", "$1"),
        not_domain_blocked_sql("s", "$1"),
        page.sql("s.id", 2)
    );
    ids_page(db, sql, viewer, page, vec![account_id.to_string(), opts.tagged.clone().unwrap_or_default()]).await
}

/// Ancestors (oldest first) and descendants (depth-first, as Mastodon orders a thread)
/// of `status`, limited to what the viewer may see and not from muted accounts.
pub async fn context(db: &PgPool, viewer: Option<i64>, status: &Status) -> Result<(Vec<i64>, Vec<i64>)> {
    let ancestors: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "WITH RECURSIVE up(id, parent, depth) AS (
            SELECT s.id, s.in_reply_to_id, 0 FROM statuses s WHERE s.id = $2
            UNION ALL
            SELECT s.id, s.in_reply_to_id, up.depth + 1 FROM statuses s JOIN up ON s.id = up.parent WHERE up.depth < 40)
         SELECT s.id FROM up JOIN statuses s ON s.id = up.id
          WHERE up.depth > 0 AND {} AND {} ORDER BY up.depth DESC",
        visible_sql("s", "$1"),
        not_muted_sql("s", "$1")
    )))
    .bind(viewer)
    .bind(status.id)
    .fetch_all(db)
    .await?;
    let limit = if viewer.is_some() { 4096 } else { 60 };
    let rows: Vec<(i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "WITH RECURSIVE down(id, parent) AS (
            SELECT s.id, s.in_reply_to_id FROM statuses s WHERE s.in_reply_to_id = $2
            UNION
            SELECT s.id, s.in_reply_to_id FROM statuses s JOIN down ON s.in_reply_to_id = down.id)
         SELECT s.id, s.in_reply_to_id FROM down JOIN statuses s ON s.id = down.id
          WHERE {} AND {} ORDER BY s.id LIMIT {limit}",
        visible_sql("s", "$1"),
        not_muted_sql("s", "$1")
    )))
    .bind(viewer)
    .bind(status.id)
    .fetch_all(db)
    .await?;
    let mut children: HashMap<i64, Vec<i64>> = HashMap::new();
    for (id, parent) in &rows {
        children.entry(*parent).or_default().push(*id);
    }
    let mut descendants = Vec::with_capacity(rows.len());
    let mut stack: Vec<i64> = children.get(&status.id).map(|c| c.iter().rev().copied().collect()).unwrap_or_default();
    while let Some(id) = stack.pop() {
        descendants.push(id);
        if let Some(kids) = children.get(&id) {
            stack.extend(kids.iter().rev());
        }
    }
    Ok((ancestors, descendants))
}
