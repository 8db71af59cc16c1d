//! Loads everything needed to render a page of statuses for one viewer in a bounded number
//! of queries (not one per status; two for a typical page, three with reblogs): the
//! statuses with their counters, mentions, tags, applications and the viewer's own flags,
//! the originals they reblog, the authors, and media attachments and polls when there
//! are any.

use std::collections::{HashMap, HashSet};

use sqlx::{AssertSqlSafe, FromRow, PgPool};

use crate::core::error::Result;
use crate::model::accounts::{self, Account};
use crate::model::media::{self, MediaAttachment};
use crate::model::polls::{self, Poll, ViewerVotes};
use crate::model::statuses::{self, Status};

#[derive(Debug, Clone, Default, FromRow)]
pub struct Stats {
    pub status_id: i64,
    pub replies_count: i64,
    pub reblogs_count: i64,
    pub favourites_count: i64,
    pub quotes_count: i64,
}

#[derive(Debug, Clone, FromRow)]
pub struct MentionRow {
    pub status_id: i64,
    pub account_id: i64,
    pub username: String,
    pub domain: Option<String>,
    pub url: Option<String>,
}

#[derive(Debug, Clone, FromRow)]
pub struct AppRow {
    pub id: i64,
    pub name: String,
    pub website: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ViewerFlags {
    pub favourited: HashSet<i64>,
    pub reblogged: HashSet<i64>,
    pub bookmarked: HashSet<i64>,
    pub pinned: HashSet<i64>,
    /// Statuses of conversations the viewer muted.
    pub muted: HashSet<i64>,
}

#[derive(Debug, Default)]
pub struct StatusBundle {
    pub viewer: Option<i64>,
    pub statuses: HashMap<i64, Status>,
    pub accounts: HashMap<i64, Account>,
    pub stats: HashMap<i64, Stats>,
    pub mentions: HashMap<i64, Vec<MentionRow>>,
    pub tags: HashMap<i64, Vec<String>>,
    pub applications: HashMap<i64, AppRow>,
    pub media: HashMap<i64, Vec<MediaAttachment>>,
    /// Polls by poll id, with the viewer's votes.
    pub polls: HashMap<i64, (Poll, ViewerVotes)>,
    pub flags: ViewerFlags,
    /// The viewer's filters each status matches, once `apply_filters` ran for a context.
    pub filtered: HashMap<i64, Vec<crate::model::filters::FilterMatch>>,
}

impl StatusBundle {
    pub fn status(&self, id: i64) -> Option<&Status> {
        self.statuses.get(&id)
    }
    pub fn account(&self, id: i64) -> Option<&Account> {
        self.accounts.get(&id)
    }
}

#[derive(serde::Deserialize)]
struct MentionJson {
    account_id: i64,
    username: String,
    domain: Option<String>,
    url: Option<String>,
}

/// A status with its counters, mentions and tags, in one row.
#[derive(FromRow)]
struct Row {
    #[sqlx(flatten)]
    status: Status,
    replies_count: i64,
    reblogs_count: i64,
    favourites_count: i64,
    quotes_count: i64,
    mentions: sqlx::types::Json<Vec<MentionJson>>,
    tags: Vec<String>,
    application_name: Option<String>,
    application_website: Option<String>,
    favourited: bool,
    reblogged: bool,
    bookmarked: bool,
    pinned: bool,
    muted: bool,
}

/// Statuses with counters, mentions, tags, application and the viewer's flags, in one
/// query; only those `viewer` may see when `check`. Mentions and tags are read for the
/// whole page at once and joined (a subquery per status cost a third of the query).
async fn rows(db: &PgPool, ids: &[i64], viewer: Option<i64>, check: bool) -> Result<Vec<Row>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as::<_, Row>(AssertSqlSafe(format!(
        "SELECT {}, COALESCE(st.replies_count, 0) AS replies_count, COALESCE(st.reblogs_count, 0) AS reblogs_count,
                COALESCE(st.favourites_count, 0) AS favourites_count, COALESCE(st.quotes_count, 0) AS quotes_count,
                COALESCE(m.mentions, '[]'::json) AS mentions, COALESCE(t.tags, '{{}}') AS tags,
                app.name AS application_name, app.website AS application_website,
                s.id IN (SELECT status_id FROM favourites WHERE account_id = $2 AND status_id = ANY($1)) AS favourited,
                s.id IN (SELECT reblog_of_id FROM statuses WHERE account_id = $2 AND reblog_of_id = ANY($1)
                           AND deleted_at IS NULL) AS reblogged,
                s.id IN (SELECT status_id FROM bookmarks WHERE account_id = $2 AND status_id = ANY($1)) AS bookmarked,
                s.id IN (SELECT status_id FROM status_pins WHERE account_id = $2 AND status_id = ANY($1)) AS pinned,
                s.conversation_id IN (SELECT conversation_id FROM conversation_mutes WHERE account_id = $2) AS muted
           FROM statuses s LEFT JOIN status_stats st ON st.status_id = s.id
                LEFT JOIN oauth_applications app ON app.id = s.application_id
                LEFT JOIN (SELECT m.status_id,
                                  json_agg(json_build_object('account_id', m.account_id, 'username', a.username,
                                                             'domain', a.domain, 'url', a.url) ORDER BY m.id) AS mentions
                             FROM mentions m JOIN accounts a ON a.id = m.account_id
                            WHERE m.status_id = ANY($1) AND NOT m.silent GROUP BY m.status_id) m ON m.status_id = s.id
                LEFT JOIN (SELECT x.status_id, array_agg(t.name::text ORDER BY t.name) AS tags
                             FROM statuses_tags x JOIN tags t ON t.id = x.tag_id
                            WHERE x.status_id = ANY($1) GROUP BY x.status_id) t ON t.status_id = s.id
          WHERE s.id = ANY($1) AND (NOT $3 OR {})",
        statuses::STATUS_COLUMNS,
        statuses::visible_sql("s", "$2")
    )))
    .bind(ids)
    .bind(viewer)
    .bind(check)
    .fetch_all(db)
    .await?)
}

/// Loads the statuses among `ids` that `viewer` may see (anonymous: `None`), with
/// everything they reference. Statuses the viewer may not see are simply absent, so a
/// rendering path cannot show them even if its caller forgot to check.
pub async fn load(db: &PgPool, ids: &[i64], viewer: Option<i64>) -> Result<StatusBundle> {
    load_with(db, ids, viewer, true).await
}

/// `load` without the visibility check, for publishers that render once for receivers
/// the fan-out has already authorized (no viewer flags).
pub async fn load_authorized(db: &PgPool, ids: &[i64]) -> Result<StatusBundle> {
    load_with(db, ids, None, false).await
}

async fn load_with(db: &PgPool, ids: &[i64], viewer: Option<i64>, check: bool) -> Result<StatusBundle> {
    let mut bundle = StatusBundle { viewer, ..Default::default() };
    if ids.is_empty() {
        return Ok(bundle);
    }
    let mut rows = rows(db, ids, viewer, check).await?;
    // Originals of visible reblogs were checked with them (see `visible_sql`).
    let originals: Vec<i64> = rows
        .iter()
        .filter_map(|r| r.status.reblog_of_id)
        .filter(|id| !rows.iter().any(|r| r.status.id == *id))
        .collect();
    rows.extend(self::rows(db, &originals, viewer, false).await?);
    let account_ids: Vec<i64> = rows.iter().map(|r| r.status.account_id).collect::<HashSet<_>>().into_iter().collect();
    for a in accounts::find_many(db, &account_ids).await? {
        bundle.accounts.insert(a.id, a);
    }
    let with_media: Vec<(i64, Vec<i64>)> = rows
        .iter()
        .filter_map(|r| r.status.ordered_media_attachment_ids.clone().map(|ids| (r.status.id, ids)))
        .filter(|(_, ids)| !ids.is_empty())
        .collect();
    bundle.media = media::for_statuses(db, &with_media).await?;
    let poll_ids: Vec<i64> = rows.iter().filter_map(|r| r.status.poll_id).collect();
    bundle.polls = polls::load(db, &poll_ids, viewer).await?;
    for row in rows {
        let id = row.status.id;
        bundle.stats.insert(
            id,
            Stats {
                status_id: id,
                replies_count: row.replies_count,
                reblogs_count: row.reblogs_count,
                favourites_count: row.favourites_count,
                quotes_count: row.quotes_count,
            },
        );
        let mentions = row.mentions.0.into_iter().map(|m| MentionRow {
            status_id: id,
            account_id: m.account_id,
            username: m.username,
            domain: m.domain,
            url: m.url,
        });
        bundle.mentions.insert(id, mentions.collect());
        bundle.tags.insert(id, row.tags);
        if let (Some(app_id), Some(name)) = (row.status.application_id, row.application_name) {
            bundle.applications.insert(app_id, AppRow { id: app_id, name, website: row.application_website });
        }
        let flags = &mut bundle.flags;
        for (set, on) in [
            (&mut flags.favourited, row.favourited),
            (&mut flags.reblogged, row.reblogged),
            (&mut flags.bookmarked, row.bookmarked),
            (&mut flags.pinned, row.pinned),
            (&mut flags.muted, row.muted),
        ] {
            if on {
                set.insert(id);
            }
        }
        bundle.statuses.insert(id, row.status);
    }
    Ok(bundle)
}

/// The favourites, reblogs, bookmarks and pins of many viewers among `ids`, in one query
/// (a status rendered for each listening stream).
pub async fn viewer_flags_many(db: &PgPool, viewers: &[i64], ids: &[i64]) -> Result<HashMap<i64, ViewerFlags>> {
    let mut flags: HashMap<i64, ViewerFlags> = viewers.iter().map(|v| (*v, ViewerFlags::default())).collect();
    let rows: Vec<(i32, i64, i64)> = sqlx::query_as(
        "SELECT 0, account_id, status_id FROM favourites WHERE account_id = ANY($1) AND status_id = ANY($2)
         UNION ALL
         SELECT 1, account_id, reblog_of_id FROM statuses
          WHERE account_id = ANY($1) AND reblog_of_id = ANY($2) AND deleted_at IS NULL
         UNION ALL
         SELECT 2, account_id, status_id FROM bookmarks WHERE account_id = ANY($1) AND status_id = ANY($2)
         UNION ALL
         SELECT 3, account_id, status_id FROM status_pins WHERE account_id = ANY($1) AND status_id = ANY($2)
         UNION ALL
         SELECT 4, m.account_id, s.id FROM conversation_mutes m JOIN statuses s ON s.conversation_id = m.conversation_id
          WHERE m.account_id = ANY($1) AND s.id = ANY($2)",
    )
    .bind(viewers)
    .bind(ids)
    .fetch_all(db)
    .await?;
    for (kind, viewer, status) in rows {
        if let Some(f) = flags.get_mut(&viewer) {
            let set = match kind {
                0 => &mut f.favourited,
                1 => &mut f.reblogged,
                2 => &mut f.bookmarked,
                3 => &mut f.pinned,
                _ => &mut f.muted,
            };
            set.insert(status);
        }
    }
    Ok(flags)
}

/// Marks the statuses of `bundle` the viewer's filters in `context` match (Mastodon's
/// `filtered`): keywords are looked for in the spoiler, the text, the poll options and the
/// media descriptions of the status (or of the status it reblogs).
pub async fn apply_filters(db: &PgPool, bundle: &mut StatusBundle, context: &str) -> Result<()> {
    let Some(viewer) = bundle.viewer else { return Ok(()) };
    let filters = crate::model::filters::of_account(db, viewer, Some(context)).await?;
    if filters.is_empty() {
        return Ok(());
    }
    let mut texts = HashMap::new();
    let mut reblog_of = HashMap::new();
    for (id, status) in &bundle.statuses {
        let proper = status.reblog_of_id.and_then(|r| bundle.statuses.get(&r)).unwrap_or(status);
        if let Some(original) = status.reblog_of_id {
            reblog_of.insert(*id, original);
        }
        let body = if proper.is_local() { proper.text.clone() } else { crate::core::text::plain_text(&proper.text) };
        let mut parts = vec![proper.spoiler_text.clone(), body];
        if let Some((poll, _)) = proper.poll_id.and_then(|p| bundle.polls.get(&p)) {
            parts.push(poll.options.join("\n\n"));
        }
        let descriptions = bundle.media.get(&proper.id).into_iter().flatten().filter_map(|m| m.description.clone());
        parts.extend(descriptions);
        texts.insert(*id, parts.join("\n\n"));
    }
    bundle.filtered = crate::model::filters::matches(&filters, &texts, &reblog_of);
    Ok(())
}
