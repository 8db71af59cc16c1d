//! Users' content filters (Mastodon's `custom_filters`): a title, the contexts it applies
//! in, what to do (warn, hide, blur), an expiry, and its rules: keywords and statuses. Also
//! which rules a status matches.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use sqlx::{FromRow, PgConnection, PgPool};

use crate::core::error::{Error, Result};

/// Where a filter applies, as Mastodon names the contexts.
pub const CONTEXTS: [&str; 5] = ["home", "notifications", "public", "thread", "account"];

/// `custom_filters.action`, by its API name.
pub const ACTIONS: [&str; 3] = ["warn", "hide", "blur"];

#[derive(Debug, Clone, FromRow)]
pub struct Filter {
    pub id: i64,
    pub account_id: i64,
    #[sqlx(rename = "phrase")]
    pub title: String,
    pub context: Vec<String>,
    pub expires_at: Option<NaiveDateTime>,
    pub action: i32,
}

impl Filter {
    pub fn action_name(&self) -> &'static str {
        ACTIONS.get(self.action as usize).copied().unwrap_or("warn")
    }
}

#[derive(Debug, Clone, FromRow)]
pub struct Keyword {
    pub id: i64,
    pub custom_filter_id: i64,
    pub keyword: String,
    pub whole_word: bool,
}

#[derive(Debug, Clone, FromRow)]
pub struct FilteredStatus {
    pub id: i64,
    pub custom_filter_id: i64,
    pub status_id: i64,
}

/// A filter with its rules.
#[derive(Debug, Clone)]
pub struct FilterWithRules {
    pub filter: Filter,
    pub keywords: Vec<Keyword>,
    pub statuses: Vec<FilteredStatus>,
}

const FILTER_COLUMNS: &str = "id, account_id, phrase, context::text[] AS context, expires_at, action";

/// `account_id`'s filters (only those in effect in `context`, when given), oldest first.
pub async fn of_account(db: &PgPool, account_id: i64, context: Option<&str>) -> Result<Vec<FilterWithRules>> {
    let filters: Vec<Filter> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FILTER_COLUMNS} FROM custom_filters
          WHERE account_id = $1
            AND ($2::text IS NULL OR ($2 = ANY(context::text[])
                 AND (expires_at IS NULL OR expires_at > now() AT TIME ZONE 'UTC')))
          ORDER BY id"
    )))
    .bind(account_id)
    .bind(context)
    .fetch_all(db)
    .await?;
    with_rules(db, filters).await
}

pub async fn find(db: &PgPool, account_id: i64, id: i64) -> Result<FilterWithRules> {
    let filter: Filter = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {FILTER_COLUMNS} FROM custom_filters WHERE account_id = $1 AND id = $2"
    )))
    .bind(account_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound)?;
    Ok(with_rules(db, vec![filter]).await?.remove(0))
}

async fn with_rules(db: &PgPool, filters: Vec<Filter>) -> Result<Vec<FilterWithRules>> {
    let ids: Vec<i64> = filters.iter().map(|f| f.id).collect();
    let keywords: Vec<Keyword> = sqlx::query_as(
        "SELECT id, custom_filter_id, keyword, whole_word FROM custom_filter_keywords
          WHERE custom_filter_id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    let statuses: Vec<FilteredStatus> = sqlx::query_as(
        "SELECT id, custom_filter_id, status_id FROM custom_filter_statuses WHERE custom_filter_id = ANY($1) ORDER BY id",
    )
    .bind(&ids)
    .fetch_all(db)
    .await?;
    Ok(filters
        .into_iter()
        .map(|filter| FilterWithRules {
            keywords: keywords.iter().filter(|k| k.custom_filter_id == filter.id).cloned().collect(),
            statuses: statuses.iter().filter(|s| s.custom_filter_id == filter.id).cloned().collect(),
            filter,
        })
        .collect())
}

/// What a filter's owner writes: `None` leaves a value as it is.
#[derive(Debug, Default, Clone)]
pub struct FilterFields {
    pub title: Option<String>,
    pub context: Option<Vec<String>>,
    pub action: Option<i32>,
    /// `Some(None)`: never expires.
    pub expires_at: Option<Option<NaiveDateTime>>,
}

pub async fn insert(tx: &mut PgConnection, account_id: i64, fields: &FilterFields) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO custom_filters (account_id, phrase, context, action, expires_at, created_at, updated_at)
         VALUES ($1, $2, $3::varchar[], $4, $5, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') RETURNING id",
    )
    .bind(account_id)
    .bind(fields.title.clone().unwrap_or_default())
    .bind(fields.context.clone().unwrap_or_default())
    .bind(fields.action.unwrap_or(0))
    .bind(fields.expires_at.flatten())
    .fetch_one(tx)
    .await?)
}

pub async fn update(tx: &mut PgConnection, id: i64, fields: &FilterFields) -> Result<()> {
    sqlx::query(
        "UPDATE custom_filters SET phrase = COALESCE($2, phrase), context = COALESCE($3::varchar[], context),
                action = COALESCE($4, action), expires_at = CASE WHEN $5 THEN $6 ELSE expires_at END,
                updated_at = now() AT TIME ZONE 'UTC'
          WHERE id = $1",
    )
    .bind(id)
    .bind(&fields.title)
    .bind(&fields.context)
    .bind(fields.action)
    .bind(fields.expires_at.is_some())
    .bind(fields.expires_at.flatten())
    .execute(tx)
    .await?;
    Ok(())
}

/// Deletes a filter of `account_id` with its rules; whether there was one.
pub async fn delete(tx: &mut PgConnection, account_id: i64, id: i64) -> Result<bool> {
    Ok(sqlx::query("DELETE FROM custom_filters WHERE account_id = $1 AND id = $2")
        .bind(account_id)
        .bind(id)
        .execute(tx)
        .await?
        .rows_affected()
        > 0)
}

pub async fn insert_keyword(tx: &mut PgConnection, filter_id: i64, keyword: &str, whole_word: bool) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "INSERT INTO custom_filter_keywords (custom_filter_id, keyword, whole_word, created_at, updated_at)
         VALUES ($1, $2, $3, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') RETURNING id",
    )
    .bind(filter_id)
    .bind(keyword)
    .bind(whole_word)
    .fetch_one(tx)
    .await?)
}

pub async fn update_keyword(
    tx: &mut PgConnection,
    id: i64,
    keyword: Option<&str>,
    whole_word: Option<bool>,
) -> Result<()> {
    sqlx::query(
        "UPDATE custom_filter_keywords SET keyword = COALESCE($2, keyword), whole_word = COALESCE($3, whole_word),
                updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1",
    )
    .bind(id)
    .bind(keyword)
    .bind(whole_word)
    .execute(tx)
    .await?;
    Ok(())
}

/// The filter a keyword belongs to, if it exists.
pub async fn keyword_filter_id(tx: &mut PgConnection, id: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT custom_filter_id FROM custom_filter_keywords WHERE id = $1")
        .bind(id)
        .fetch_optional(tx)
        .await?)
}

pub async fn delete_keyword(tx: &mut PgConnection, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM custom_filter_keywords WHERE id = $1").bind(id).execute(tx).await?;
    Ok(())
}

/// A keyword of one of `account_id`'s filters.
pub async fn find_keyword(db: &PgPool, account_id: i64, id: i64) -> Result<Keyword> {
    sqlx::query_as(
        "SELECT k.id, k.custom_filter_id, k.keyword, k.whole_word FROM custom_filter_keywords k
           JOIN custom_filters f ON f.id = k.custom_filter_id WHERE f.account_id = $1 AND k.id = $2",
    )
    .bind(account_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound)
}

/// Filters a status; the existing rule if it already is.
pub async fn insert_status(tx: &mut PgConnection, filter_id: i64, status_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(
        "WITH added AS (
            INSERT INTO custom_filter_statuses (custom_filter_id, status_id, created_at, updated_at)
            VALUES ($1, $2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
            ON CONFLICT (status_id, custom_filter_id) DO NOTHING RETURNING id)
         SELECT id FROM added UNION ALL
         SELECT id FROM custom_filter_statuses WHERE custom_filter_id = $1 AND status_id = $2",
    )
    .bind(filter_id)
    .bind(status_id)
    .fetch_one(tx)
    .await?)
}

pub async fn find_status(db: &PgPool, account_id: i64, id: i64) -> Result<FilteredStatus> {
    sqlx::query_as(
        "SELECT s.id, s.custom_filter_id, s.status_id FROM custom_filter_statuses s
           JOIN custom_filters f ON f.id = s.custom_filter_id WHERE f.account_id = $1 AND s.id = $2",
    )
    .bind(account_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound)
}

pub async fn delete_status(tx: &mut PgConnection, id: i64) -> Result<()> {
    sqlx::query("DELETE FROM custom_filter_statuses WHERE id = $1").bind(id).execute(tx).await?;
    Ok(())
}

/// A filter a status matched, with the keywords it matched (as written in the status) and
/// the filtered status ids it is (itself, or the status it reblogs).
#[derive(Debug, Clone)]
pub struct FilterMatch {
    pub filter: Filter,
    pub keyword_matches: Option<Vec<String>>,
    pub status_matches: Option<Vec<i64>>,
}

/// `keyword` as Mastodon's `CustomFilterKeyword#to_regex` makes it: case-insensitive; a
/// whole word is bounded by `\b` on a word-character side.
fn keyword_regex(keyword: &Keyword) -> Option<regex::Regex> {
    let escaped = regex::escape(&keyword.keyword);
    let is_word = |c: Option<char>| c.is_some_and(|c| c.is_alphanumeric() || c == '_');
    let pattern = if keyword.whole_word {
        let start = if is_word(keyword.keyword.chars().next()) { r"\b" } else { "" };
        let end = if is_word(keyword.keyword.chars().last()) { r"\b" } else { "" };
        format!("(?im){start}{escaped}{end}")
    } else {
        format!("(?i){escaped}")
    };
    regex::Regex::new(&pattern).ok()
}

/// The filters (in effect for the viewer in the context) each status matches, given the
/// text each is searched in (`texts`, by status id) and what each reblogs.
pub fn matches(
    filters: &[FilterWithRules],
    texts: &HashMap<i64, String>,
    reblog_of: &HashMap<i64, i64>,
) -> HashMap<i64, Vec<FilterMatch>> {
    // Each keyword's pattern is built once for the whole page of statuses.
    let patterns: Vec<Vec<regex::Regex>> =
        filters.iter().map(|rules| rules.keywords.iter().filter_map(keyword_regex).collect()).collect();
    let mut found: HashMap<i64, Vec<FilterMatch>> = HashMap::new();
    for (status_id, text) in texts {
        for (rules, patterns) in filters.iter().zip(&patterns) {
            let keyword_matches: Vec<String> =
                patterns.iter().filter_map(|p| p.find(text)).map(|m| m.as_str().to_string()).collect();
            let candidates = [Some(*status_id), reblog_of.get(status_id).copied()];
            let status_matches: Vec<i64> = candidates
                .into_iter()
                .flatten()
                .filter(|id| rules.statuses.iter().any(|s| s.status_id == *id))
                .collect();
            if keyword_matches.is_empty() && status_matches.is_empty() {
                continue;
            }
            found.entry(*status_id).or_default().push(FilterMatch {
                filter: rules.filter.clone(),
                keyword_matches: (!rules.keywords.is_empty() && !keyword_matches.is_empty()).then_some(keyword_matches),
                status_matches: (!status_matches.is_empty()).then_some(status_matches),
            });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keyword(word: &str, whole_word: bool) -> Keyword {
        Keyword { id: 1, custom_filter_id: 1, keyword: word.into(), whole_word }
    }

    fn keyword_match(keyword: &Keyword, text: &str) -> Option<String> {
        keyword_regex(keyword)?.find(text).map(|m| m.as_str().to_string())
    }

    #[test]
    fn keywords_match_as_mastodon_matches_them() {
        assert_eq!(keyword_match(&keyword("cat", true), "My Cat sleeps"), Some("Cat".into()));
        assert_eq!(keyword_match(&keyword("cat", true), "concatenate"), None);
        assert_eq!(keyword_match(&keyword("cat", false), "conCATenate"), Some("CAT".into()));
        assert_eq!(keyword_match(&keyword("#cat", true), "love#cat!"), Some("#cat".into()), "no \\b before #");
        assert_eq!(keyword_match(&keyword("a.b", true), "axb"), None, "escaped");
    }
}
