//! Mastodon's id-based pagination (`max_id`, `since_id`, `min_id`, `limit`) as SQL.

#[derive(Debug, Clone, Copy)]
pub struct Page {
    pub max_id: Option<i64>,
    pub since_id: Option<i64>,
    pub min_id: Option<i64>,
    pub limit: i64,
}

impl Page {
    /// A page of at most `max` rows, `default` when no positive `limit` is asked for
    /// (statuses: 20 by default, at most 40; accounts: 40, at most 80).
    pub fn new(cursors: [Option<i64>; 3], limit: Option<i64>, default: i64, max: i64) -> Page {
        let [max_id, since_id, min_id] = cursors;
        let limit = match limit {
            Some(l) if l > 0 => l.min(max),
            _ => default,
        };
        Page { max_id, since_id, min_id, limit }
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
