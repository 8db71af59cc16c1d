//! Mastodon's id-based pagination (`max_id`, `since_id`, `min_id`, `limit`) as SQL.

use serde::Deserialize;

#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    #[serde(default, deserialize_with = "crate::api::params::opt_id")]
    pub max_id: Option<i64>,
    #[serde(default, deserialize_with = "crate::api::params::opt_id")]
    pub since_id: Option<i64>,
    #[serde(default, deserialize_with = "crate::api::params::opt_id")]
    pub min_id: Option<i64>,
    #[serde(default, deserialize_with = "crate::api::params::opt_i64")]
    pub limit: Option<i64>,
}

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
}

impl Page {
    /// Statuses: 20 by default, at most 40. Accounts: 40, at most 80.
    pub fn new(params: &PageParams, default: i64, max: i64) -> Page {
        let limit = match params.limit {
            Some(l) if l > 0 => l.min(max),
            _ => default,
        };
        Page { max_id: params.max_id, since_id: params.since_id, min_id: params.min_id, limit }
    }

    /// `AND … ORDER BY … LIMIT …` over `column`, binding max_id, since_id and min_id as
    /// `$first`, `$first+1` and `$first+2`. With `min_id` the rows come oldest first:
    /// pass them through `in_order`.
    pub fn sql(&self, column: &str, first: usize) -> String {
        let (a, b, c) = (first, first + 1, first + 2);
        let direction = if self.min_id.is_some() { "ASC" } else { "DESC" };
        format!(
            "AND (${a}::bigint IS NULL OR {column} < ${a}) AND (${b}::bigint IS NULL OR {column} > ${b})
             AND (${c}::bigint IS NULL OR {column} > ${c}) ORDER BY {column} {direction} LIMIT {}",
            self.limit
        )
    }

    /// Newest first, whichever direction the query ran in.
    pub fn in_order<T>(&self, mut rows: Vec<T>, key: impl Fn(&T) -> i64) -> Vec<T> {
        rows.sort_by_key(|r| std::cmp::Reverse(key(r)));
        rows
    }
}
