//! Loads everything needed to render a page of statuses for one viewer in a bounded number
//! of queries (not one per status): the statuses and the originals they reblog, authors,
//! counters, mentions, tags, applications and the viewer's own flags.

use std::collections::{HashMap, HashSet};

use sqlx::{FromRow, PgPool};

use crate::accounts::{self, Account};
use crate::error::Result;
use crate::statuses::{self, Status};

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

#[derive(Debug, Default)]
pub struct ViewerFlags {
    pub favourited: HashSet<i64>,
    pub reblogged: HashSet<i64>,
    pub bookmarked: HashSet<i64>,
    pub pinned: HashSet<i64>,
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
    pub flags: ViewerFlags,
}

impl StatusBundle {
    pub fn status(&self, id: i64) -> Option<&Status> {
        self.statuses.get(&id)
    }
    pub fn account(&self, id: i64) -> Option<&Account> {
        self.accounts.get(&id)
    }
}

/// Loads `ids` (already authorized by the caller) and everything they reference.
pub async fn load(db: &PgPool, ids: &[i64], viewer: Option<i64>) -> Result<StatusBundle> {
    let mut bundle = StatusBundle { viewer, ..Default::default() };
    if ids.is_empty() {
        return Ok(bundle);
    }
    let mut rows = statuses::find_many(db, ids).await?;
    let originals: Vec<i64> = rows.iter().filter_map(|s| s.reblog_of_id).filter(|id| !ids.contains(id)).collect();
    rows.extend(statuses::find_many(db, &originals).await?);
    let all_ids: Vec<i64> = rows.iter().map(|s| s.id).collect();
    let account_ids: Vec<i64> = rows.iter().map(|s| s.account_id).collect::<HashSet<_>>().into_iter().collect();
    let app_ids: Vec<i64> = rows.iter().filter_map(|s| s.application_id).collect();

    for a in accounts::find_many(db, &account_ids).await? {
        bundle.accounts.insert(a.id, a);
    }
    let stats: Vec<Stats> = sqlx::query_as(
        "SELECT status_id, replies_count, reblogs_count, favourites_count, quotes_count
           FROM status_stats WHERE status_id = ANY($1)",
    )
    .bind(&all_ids)
    .fetch_all(db)
    .await?;
    bundle.stats = stats.into_iter().map(|s| (s.status_id, s)).collect();
    let mentions: Vec<MentionRow> = sqlx::query_as(
        "SELECT m.status_id, m.account_id, a.username, a.domain, a.url
           FROM mentions m JOIN accounts a ON a.id = m.account_id
          WHERE m.status_id = ANY($1) AND NOT m.silent ORDER BY m.id",
    )
    .bind(&all_ids)
    .fetch_all(db)
    .await?;
    for m in mentions {
        bundle.mentions.entry(m.status_id).or_default().push(m);
    }
    let tags: Vec<(i64, String)> = sqlx::query_as(
        "SELECT st.status_id, t.name FROM statuses_tags st JOIN tags t ON t.id = st.tag_id
          WHERE st.status_id = ANY($1) ORDER BY t.name",
    )
    .bind(&all_ids)
    .fetch_all(db)
    .await?;
    for (status_id, name) in tags {
        bundle.tags.entry(status_id).or_default().push(name);
    }
    if !app_ids.is_empty() {
        let apps: Vec<AppRow> = sqlx::query_as("SELECT id, name, website FROM oauth_applications WHERE id = ANY($1)")
            .bind(&app_ids)
            .fetch_all(db)
            .await?;
        bundle.applications = apps.into_iter().map(|a| (a.id, a)).collect();
    }
    if let Some(viewer) = viewer {
        bundle.flags = viewer_flags(db, viewer, &all_ids).await?;
    }
    bundle.statuses = rows.into_iter().map(|s| (s.id, s)).collect();
    Ok(bundle)
}

/// The viewer's favourites, reblogs, bookmarks and pins among `ids`.
pub async fn viewer_flags(db: &PgPool, viewer: i64, ids: &[i64]) -> Result<ViewerFlags> {
    Ok(viewer_flags_many(db, &[viewer], ids).await?.remove(&viewer).unwrap_or_default())
}

/// `viewer_flags` for many viewers at once, in one query (fan-out to streams, and
/// every rendered page).
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
         SELECT 3, account_id, status_id FROM status_pins WHERE account_id = ANY($1) AND status_id = ANY($2)",
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
                _ => &mut f.pinned,
            };
            set.insert(status);
        }
    }
    Ok(flags)
}
