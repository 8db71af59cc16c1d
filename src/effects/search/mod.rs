//! Search over PostgreSQL full-text search, with Mastodon's rules for what a searcher may
//! find (`/api/v2/search`, `/api/v1/accounts/search`):
//!
//! - accounts: prefix match on display name, username and domain (Mastodon's `search_index`),
//!   ranked like Mastodon's database search (text rank times a boost from followers and
//!   recent activity; accounts the searcher follows or is followed by first);
//! - hashtags: listable tags whose name starts with the query, shortest first;
//! - statuses (signed-in searchers only): Mastodon's two Elasticsearch indexes as SQL —
//!   public statuses of accounts that opted into indexing, and statuses the searcher wrote,
//!   was mentioned in, favourited, reblogged or bookmarked — with its query syntax
//!   (`"phrases"`, `-exclusions`, `from:`, `is:`, `has:`, `language:`, `before:`,
//!   `after:`, `during:`, `in:library|public`), then the usual visibility, block and mute
//!   checks.
//!
//! With `MEILI_URL` set, Meilisearch (`meili`) finds the candidates and the same SQL
//! decides among them, so the rules above hold for both backends.

use chrono::NaiveDate;
use sqlx::{AssertSqlSafe, PgPool};

pub mod meili;

use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::core::queue;
use crate::core::text;
use crate::model::accounts::{self, Account};
use crate::model::statuses;
use crate::model::tags::Tag;

/// Search indexing, when Meilisearch is the backend (queued once per burst of changes).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type")]
pub enum Job {
    /// Writes (or removes) one document.
    Index { kind: meili::Kind, id: i64 },
    /// A status and its hashtags (new tags become searchable); for a reblog, the original
    /// (a reblog changes who may find it).
    IndexStatus { status_id: i64 },
}

impl queue::Job for Job {
    const FAMILY: &'static str = "Search";
}

impl Job {
    pub async fn perform(self, state: &AppState) -> Result<()> {
        let Some(meili) = &state.search else { return Ok(()) };
        let db = &state.db.primary;
        match self {
            Job::Index { kind, id } => meili.reindex(db, kind, &[id]).await,
            Job::IndexStatus { status_id } => {
                let original: Option<i64> =
                    sqlx::query_scalar("SELECT COALESCE(reblog_of_id, id) FROM statuses WHERE id = $1")
                        .bind(status_id)
                        .fetch_optional(db)
                        .await?;
                let Some(status_id) = original else { return Ok(()) };
                meili.reindex(db, meili::Kind::Status, &[status_id]).await?;
                let tags: Vec<i64> = sqlx::query_scalar("SELECT tag_id FROM statuses_tags WHERE status_id = $1")
                    .bind(status_id)
                    .fetch_all(db)
                    .await?;
                meili.reindex(db, meili::Kind::Tag, &tags).await
            }
        }
    }
}

/// Queues the (re)indexing of a document when Meilisearch is the backend; nothing otherwise.
pub async fn index_later<'e>(
    state: &AppState,
    executor: impl sqlx::PgExecutor<'e>,
    kind: meili::Kind,
    id: i64,
) -> Result<()> {
    if state.search.is_none() {
        return Ok(());
    }
    queue::insert(executor, &queue::NewJob::of(&Job::Index { kind, id })?.unique()).await
}

/// Meilisearch's candidates, or `None` (PostgreSQL searches alone) when it fails: search
/// stays up while Meilisearch is down.
fn or_postgres(candidates: Result<Vec<i64>>) -> Option<Vec<i64>> {
    match candidates {
        Ok(ids) => Some(ids),
        Err(e) => {
            tracing::warn!(error = %e, "Meilisearch failed; searching with PostgreSQL");
            None
        }
    }
}

/// Limits and paging shared by every kind of result.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub limit: i64,
    pub offset: i64,
}

/// The part of an account query the text search sees: a full `user@domain` is searched by
/// its username when the domain is ours (Mastodon's `AccountSearchService`).
fn account_term(query: &str, local_domain: &str) -> String {
    match query.split_once('@') {
        Some((user, domain)) if domain.eq_ignore_ascii_case(local_domain) => user.to_string(),
        _ => query.to_string(),
    }
}

/// A prefix tsquery for `term`, without the characters Mastodon strips.
fn prefix_tsquery(term: &str) -> String {
    let cleaned: String = term.chars().filter(|c| !matches!(c, '\'' | '?' | '\\' | ':' | '‘' | '’')).collect();
    format!("'{}':*", cleaned.trim())
}

/// Mastodon's `search_index` document (a GIN index over exactly this expression).
const ACCOUNT_DOCUMENT: &str = "(setweight(to_tsvector('simple', a.display_name), 'A')
    || setweight(to_tsvector('simple', a.username), 'B')
    || setweight(to_tsvector('simple', COALESCE(a.domain, '')), 'C'))";

/// Accounts matching `query` (a leading `@` ignored). An exact `user@domain` comes first;
/// anonymous queries shorter than three characters find only that.
pub async fn accounts(
    state: &AppState,
    viewer: Option<i64>,
    query: &str,
    following: bool,
    window: Window,
) -> Result<Vec<Account>> {
    let query = query.trim().trim_start_matches('@');
    if query.is_empty() || window.limit < 1 {
        return Ok(Vec::new());
    }
    let (db, local_domain) = (&state.db.replica, state.config.local_domain.as_str());
    let mut found = Vec::new();
    if window.offset == 0
        && let Some((user, domain)) = query.split_once('@')
        && !user.is_empty()
        && !domain.is_empty()
    {
        let domain = (!domain.eq_ignore_ascii_case(local_domain)).then_some(domain);
        let exact: Option<i64> = sqlx::query_scalar(
            "SELECT a.id FROM accounts a
              WHERE lower(a.username) = lower($1) AND lower(COALESCE(a.domain, '')) = lower(COALESCE($2, ''))
                AND a.suspended_at IS NULL
                AND (NOT $3 OR a.id = $4 OR a.id IN (SELECT target_account_id FROM follows WHERE account_id = $4))",
        )
        .bind(user)
        .bind(domain)
        .bind(following)
        .bind(viewer)
        .fetch_optional(db)
        .await?;
        found.extend(exact);
    }
    if viewer.is_none() && query.chars().count() < 3 {
        return ordered_accounts(db, &found).await;
    }
    let limit = window.limit - found.len() as i64;
    let candidates = match &state.search {
        Some(meili) => or_postgres(meili.account_candidates(&account_term(query, local_domain)).await),
        None => None,
    };
    let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT a.id FROM accounts a LEFT JOIN account_stats s ON s.account_id = a.id,
                to_tsquery('simple', $1) AS q
          WHERE ($7::bigint[] IS NULL AND {ACCOUNT_DOCUMENT} @@ q OR a.id = ANY($7))
            AND a.suspended_at IS NULL AND a.moved_to_account_id IS NULL AND a.id > 0
            AND (a.domain IS NOT NULL OR $3 OR EXISTS (
                   SELECT 1 FROM users u WHERE u.account_id = a.id AND u.approved AND u.confirmed_at IS NOT NULL))
            AND (NOT $3 OR a.id = $2 OR a.id IN (SELECT target_account_id FROM follows WHERE account_id = $2))
            AND a.id <> ALL($6)
          ORDER BY
            (SELECT count(*) FROM follows f WHERE (f.account_id = $2 AND f.target_account_id = a.id)
                                                OR (f.account_id = a.id AND f.target_account_id = $2)) DESC,
            ts_rank_cd({ACCOUNT_DOCUMENT}, q, 32)
              * (COALESCE(s.followers_count, 0)::float8 / (COALESCE(s.following_count, 0) + 1)
                 + ln(COALESCE(s.followers_count, 0) + 2)
                 + CASE WHEN s.last_status_at IS NULL THEN 0
                        ELSE exp(-power(greatest(0, abs(extract(epoch FROM now() AT TIME ZONE 'UTC' - s.last_status_at) / 86400) - 30), 2)
                                 / (2 * (-900 / (2 * ln(0.3))))) END) / 3
              DESC,
            a.id
          LIMIT $4 OFFSET $5"
    )))
    .bind(prefix_tsquery(&account_term(query, local_domain)))
    .bind(viewer)
    .bind(following)
    .bind(limit)
    .bind(window.offset)
    .bind(&found)
    .bind(candidates)
    .fetch_all(db)
    .await?;
    found.extend(ids);
    ordered_accounts(db, &found).await
}

async fn ordered_accounts(db: &PgPool, ids: &[i64]) -> Result<Vec<Account>> {
    let mut rows = accounts::find_many(db, ids).await?;
    rows.sort_by_key(|a| ids.iter().position(|id| *id == a.id));
    Ok(rows)
}

/// Listable hashtags whose name starts with `query` (a leading `#` ignored), shortest first.
pub async fn hashtags(state: &AppState, query: &str, exclude_unreviewed: bool, window: Window) -> Result<Vec<Tag>> {
    let name = text::normalize_hashtag(query.trim().trim_start_matches('#'));
    if name.is_empty() || window.limit < 1 {
        return Ok(Vec::new());
    }
    let candidates = match &state.search {
        Some(meili) => or_postgres(meili.tag_candidates(&name).await),
        None => None,
    };
    let pattern = format!("{}%", name.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_"));
    Ok(sqlx::query_as(
        "SELECT id, name, display_name FROM tags
          WHERE ($6::bigint[] IS NULL AND lower(name) LIKE $1 OR id = ANY($6)) AND listable IS NOT FALSE
            AND (NOT $2 OR lower(name) = $3 OR reviewed_at IS NOT NULL)
          ORDER BY length(name), name LIMIT $4 OFFSET $5",
    )
    .bind(pattern)
    .bind(exclude_unreviewed)
    .bind(&name)
    .bind(window.limit)
    .bind(window.offset)
    .bind(candidates)
    .fetch_all(&state.db.replica)
    .await?)
}

/// What a status query asks for, parsed from Mastodon's search syntax.
#[derive(Debug, Default, PartialEq)]
pub struct StatusQuery {
    /// Keywords, `"phrases"` and `-exclusions`, for `websearch_to_tsquery`.
    pub words: String,
    pub from: Option<From>,
    pub is_reply: Option<bool>,
    pub is_sensitive: Option<bool>,
    /// `has:media|image|video|audio` (and `-has:`): media types a status must (not) carry.
    pub has_media: Vec<(bool, &'static [i32])>,
    /// `has:poll` (and `-has:poll`).
    pub has_poll: Option<bool>,
    /// `#tag` keywords: statuses carrying each of these hashtags (normalized names).
    pub tags: Vec<String>,
    /// Nothing can match: `has:link|embed` (ferrodon has no cards yet), or a query of
    /// account handles alone (`@alice@example.com`), which finds the account, not statuses.
    pub matches_nothing: bool,
    pub language: Option<String>,
    pub before: Option<NaiveDate>,
    pub after: Option<NaiveDate>,
    pub library_only: bool,
    pub public_only: bool,
}

#[derive(Debug, PartialEq)]
pub enum From {
    Me,
    Account(String),
}

/// Splits on whitespace outside double quotes (curly quotes already straightened).
fn tokens(query: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    let mut quoted = false;
    for c in query.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                current.push(c);
            }
            c if c.is_whitespace() && !quoted => {
                if !current.is_empty() {
                    out.push(std::mem::take(&mut current));
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

fn date(value: &str) -> Result<NaiveDate> {
    let value = value.trim_matches('"');
    NaiveDate::parse_from_str(value, "%Y-%m-%d")
        .or_else(|_| {
            value
                .parse::<i64>()
                .ok()
                .and_then(|secs| chrono::DateTime::from_timestamp(secs, 0))
                .map(|t| t.date_naive())
                .ok_or(())
        })
        .map_err(|_| Error::Unprocessable("Invalid date supplied".into()))
}

impl StatusQuery {
    pub fn parse(query: &str) -> Result<StatusQuery> {
        let straightened: String =
            query.chars().map(|c| if "“”„«»「」『』《》".contains(c) { '"' } else { c }).collect();
        let mut parsed = StatusQuery::default();
        let mut words = Vec::new();
        let mut handles = 0;
        for token in tokens(&straightened) {
            let (negated, body) = match token.strip_prefix('-') {
                Some(rest) => (true, rest),
                None => (false, token.trim_start_matches('+')),
            };
            // A handle may carry a port (`@alice@localhost:3000`): it is no `prefix:value`.
            let prefixed = body.split_once(':').filter(|(p, v)| !p.is_empty() && !v.is_empty() && !is_handle(body));
            let Some((prefix, value)) = prefixed else {
                match (negated, body.strip_prefix('#'), is_handle(body)) {
                    (false, Some(tag), _) if !tag.is_empty() => parsed.tags.push(text::normalize_hashtag(tag)),
                    (false, _, true) => {
                        handles += 1;
                        words.push(token.clone());
                    }
                    _ => words.push(token.clone()),
                }
                continue;
            };
            match (prefix.to_ascii_lowercase().as_str(), value.to_ascii_lowercase().as_str()) {
                ("from", "me") => parsed.from = Some(From::Me),
                ("from", _) => parsed.from = Some(From::Account(value.trim_start_matches('@').to_string())),
                ("is", "reply") => parsed.is_reply = Some(!negated),
                ("is", "sensitive") => parsed.is_sensitive = Some(!negated),
                ("has", "poll") => parsed.has_poll = Some(!negated),
                ("has", kind) => match media_types(kind) {
                    Some(types) => parsed.has_media.push((!negated, types)),
                    None if !negated => parsed.matches_nothing = true,
                    None => {}
                },
                ("language", lang) => parsed.language = Some(lang.to_string()),
                ("before", _) => parsed.before = Some(date(value)?),
                ("after", _) => parsed.after = Some(date(value)?),
                ("during", _) => {
                    let day = date(value)?;
                    parsed.after = day.pred_opt();
                    parsed.before = day.succ_opt();
                }
                ("in", "library") => parsed.library_only = true,
                ("in", "public") => parsed.public_only = true,
                _ => words.push(token.clone()),
            }
        }
        parsed.words = words.join(" ");
        let positive = words.iter().filter(|w| !w.starts_with('-')).count();
        let has_keyword = positive > handles || !parsed.tags.is_empty();
        if !has_keyword && handles > 0 {
            parsed.matches_nothing = true;
        } else if !has_keyword && !parsed.library_only {
            return Err(Error::bad_request("At least one keyword or phrase is required"));
        }
        Ok(parsed)
    }
}

/// `@user` or `@user@domain`: an account handle rather than a word.
fn is_handle(token: &str) -> bool {
    let Some(acct) = token.strip_prefix('@') else { return false };
    let (user, domain) = acct.split_once('@').unwrap_or((acct, "x"));
    !user.is_empty()
        && user.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !domain.is_empty()
        && domain.chars().all(|c| c.is_alphanumeric() || ".-:".contains(c))
}

/// Statuses matching `query` that `viewer` may find, newest first.
pub async fn statuses(
    state: &AppState,
    viewer: i64,
    query: &StatusQuery,
    account_id: Option<i64>,
    id_range: (Option<i64>, Option<i64>),
    window: Window,
) -> Result<Vec<i64>> {
    if query.matches_nothing || window.limit < 1 {
        return Ok(Vec::new());
    }
    let (db, local_domain) = (&state.db.replica, state.config.local_domain.as_str());
    // Built from constants only (the media type numbers), never from the query text.
    let media_filters: String = query
        .has_media
        .iter()
        .map(|(wanted, types)| {
            let list = types.iter().map(i32::to_string).collect::<Vec<_>>().join(",");
            let not = if *wanted { "" } else { "NOT " };
            format!(
                "AND {not}EXISTS (SELECT 1 FROM media_attachments ma WHERE ma.status_id = s.id AND ma.type IN ({list}))"
            )
        })
        .collect::<Vec<_>>()
        .join("\n            ");
    let from: Option<i64> = match &query.from {
        None => account_id,
        Some(From::Me) => Some(viewer),
        Some(From::Account(acct)) => {
            let (user, domain) = acct.split_once('@').unwrap_or((acct, ""));
            let domain = (!domain.is_empty() && !domain.eq_ignore_ascii_case(local_domain)).then_some(domain);
            let found: Option<i64> = sqlx::query_scalar(
                "SELECT id FROM accounts WHERE lower(username) = lower($1)
                    AND lower(COALESCE(domain, '')) = lower(COALESCE($2, ''))",
            )
            .bind(user)
            .bind(domain)
            .fetch_optional(db)
            .await?;
            // An unknown account matches nothing, as in Mastodon.
            Some(found.unwrap_or(-1))
        }
    };
    let search = StatusSearch { viewer, query, from, id_range, window, media_filters: &media_filters };
    // Hashtags alone are found through `statuses_tags`, with no words to look up.
    let Some(meili) = state.search.as_ref().filter(|_| !query.words.is_empty()) else {
        return status_rows(db, &search, None).await;
    };
    // Meilisearch finds candidates newest first, in rounds, until the SQL below has
    // a page of them or Meilisearch has nothing more.
    let filter = meili::StatusFilter {
        viewer,
        account_id: from,
        language: query.language.as_deref(),
        public_only: query.public_only,
        library_only: query.library_only,
    };
    let mut candidates = Vec::new();
    for round in 0..meili::MAX_CANDIDATE_ROUNDS {
        let found = match or_postgres(meili.status_candidates(&query.words, &filter, round).await) {
            Some(found) => found,
            None if round == 0 => return status_rows(db, &search, None).await,
            None => break,
        };
        let more = meili::Meili::more_after(found.len());
        candidates.extend(found);
        let ids = status_rows(db, &search, Some(&candidates)).await?;
        if ids.len() as i64 >= window.limit || !more {
            return Ok(ids);
        }
    }
    status_rows(db, &search, Some(&candidates)).await
}

/// A status query with everything resolved, for `status_rows`.
struct StatusSearch<'a> {
    viewer: i64,
    query: &'a StatusQuery,
    from: Option<i64>,
    id_range: (Option<i64>, Option<i64>),
    window: Window,
    media_filters: &'a str,
}

/// The statuses of a query, newest first: those matching its words in PostgreSQL, or
/// (with Meilisearch) those among `candidates`.
async fn status_rows(db: &PgPool, search: &StatusSearch<'_>, candidates: Option<&[i64]>) -> Result<Vec<i64>> {
    let StatusSearch { viewer, query, from, id_range, window, media_filters } = search;
    let (min_id, max_id) = *id_range;
    Ok(sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT s.id FROM statuses s
          WHERE ($16::bigint[] IS NULL AND ($2 = '' OR {STATUS_DOCUMENT} @@ websearch_to_tsquery('simple', $2))
                 OR s.id = ANY($16))
            AND (SELECT count(DISTINCT lower(t.name)) FROM statuses_tags x JOIN tags t ON t.id = x.tag_id
                  WHERE x.status_id = s.id AND lower(t.name) = ANY($17)) = cardinality($17::text[])
            AND s.deleted_at IS NULL AND s.reblog_of_id IS NULL
            AND ((NOT $3 AND s.visibility = 0 AND EXISTS (
                    SELECT 1 FROM accounts author WHERE author.id = s.account_id AND author.indexable))
                 OR (NOT $4 AND (s.account_id = $1
                     OR EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = s.id AND m.account_id = $1)
                     OR EXISTS (SELECT 1 FROM favourites f WHERE f.status_id = s.id AND f.account_id = $1)
                     OR EXISTS (SELECT 1 FROM bookmarks b WHERE b.status_id = s.id AND b.account_id = $1)
                     OR EXISTS (SELECT 1 FROM statuses r WHERE r.reblog_of_id = s.id AND r.account_id = $1
                                  AND r.deleted_at IS NULL))))
            AND ($5::bigint IS NULL OR s.account_id = $5)
            AND ($6::bool IS NULL OR s.reply = $6)
            AND ($7::bool IS NULL OR s.sensitive = $7)
            AND ($8::text IS NULL OR s.language = $8)
            AND ($9::date IS NULL OR s.created_at < $9)
            AND ($10::date IS NULL OR s.created_at >= $10 + 1)
            AND ($11::bigint IS NULL OR s.id > $11)
            AND ($12::bigint IS NULL OR s.id < $12)
            AND ($15::bool IS NULL OR (s.poll_id IS NOT NULL) = $15)
            AND s.account_id NOT IN (SELECT target_account_id FROM mutes WHERE account_id = $1)
            AND NOT EXISTS (SELECT 1 FROM account_domain_blocks d JOIN accounts a ON a.domain = d.domain
                             WHERE d.account_id = $1 AND a.id = s.account_id)
            {media_filters}
            AND {}
          ORDER BY s.id DESC LIMIT $13 OFFSET $14",
        statuses::visible_sql("s", "$1")
    )))
    .bind(viewer)
    .bind(&query.words)
    .bind(query.library_only)
    .bind(query.public_only)
    .bind(from)
    .bind(query.is_reply)
    .bind(query.is_sensitive)
    .bind(&query.language)
    .bind(query.before)
    .bind(query.after)
    .bind(min_id)
    .bind(max_id)
    .bind(window.limit)
    .bind(window.offset)
    .bind(query.has_poll)
    .bind(candidates)
    .bind(&query.tags)
    .fetch_all(db)
    .await?)
}

/// The `media_attachments.type` values a `has:` keyword stands for (gifv counts as video).
fn media_types(keyword: &str) -> Option<&'static [i32]> {
    match keyword {
        "media" => Some(&[0, 1, 2, 3, 4]),
        "image" => Some(&[0]),
        "video" => Some(&[1, 2]),
        "audio" => Some(&[4]),
        _ => None,
    }
}

/// The searchable text of a status (an expression index covers it).
const STATUS_DOCUMENT: &str = "to_tsvector('simple', s.spoiler_text || ' ' || s.text)";

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn parses_mastodon_search_syntax() {
        let q = StatusQuery::parse("cats “big dogs” -mice from:@alice is:reply language:EN before:2026-01-02").unwrap();
        assert_eq!(q.words, "cats \"big dogs\" -mice");
        assert_eq!(q.from, Some(From::Account("alice".into())));
        assert_eq!(q.is_reply, Some(true));
        assert_eq!(q.language.as_deref(), Some("en"));
        assert_eq!(q.before, NaiveDate::from_ymd_opt(2026, 1, 2));
        assert!(StatusQuery::parse("from:me -cats").is_err(), "needs a positive keyword");
        assert!(StatusQuery::parse("in:library").is_ok());
        assert!(StatusQuery::parse("cats after:yesterday").is_err());
        let during = StatusQuery::parse("cats during:2026-03-10").unwrap();
        assert_eq!(during.after, NaiveDate::from_ymd_opt(2026, 3, 9));
        assert_eq!(during.before, NaiveDate::from_ymd_opt(2026, 3, 11));
        assert_eq!(StatusQuery::parse("ratio:high cats").unwrap().words, "ratio:high cats");
        let tagged = StatusQuery::parse("#Cats").unwrap();
        assert_eq!((tagged.words.as_str(), tagged.tags.as_slice()), ("", &["cats".to_string()][..]));
        assert!(StatusQuery::parse("@alice@example.com").unwrap().matches_nothing);
        assert!(StatusQuery::parse("@alice").unwrap().matches_nothing);
        assert!(!StatusQuery::parse("@alice cats").unwrap().matches_nothing);
    }

    #[test]
    fn account_queries_become_prefix_queries() {
        assert_eq!(prefix_tsquery("al'ic?e"), "'alice':*");
        assert_eq!(account_term("alice@Example.com", "example.com"), "alice");
        assert_eq!(account_term("alice@other.org", "example.com"), "alice@other.org");
    }
}
