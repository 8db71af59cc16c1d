//! Mastodon's per-account limits on what people do through the API (`RateLimiter`): 300 posts
//! and edits in 3 hours, 400 follows (and follow requests, and hashtag follows) a day, 400
//! reports a day. Counted from the rows the account made in that time; past a limit the
//! answer is 429. Deliveries from other servers and the CLI are not limited.

use sqlx::PgPool;

use crate::core::error::{Error, Result};

#[derive(Debug, Clone, Copy)]
pub enum Family {
    Statuses,
    Follows,
    Reports,
}

impl Family {
    /// The limit, its period in hours, and what counts against it (`$1` the account, `$2`
    /// the start of the period).
    fn rule(self) -> (i64, i32, &'static str) {
        match self {
            Family::Statuses => (
                300,
                3,
                "SELECT (SELECT count(*) FROM statuses WHERE account_id = $1 AND reblog_of_id IS NULL AND created_at > $2)
                      + (SELECT count(*) FROM status_edits WHERE account_id = $1 AND created_at > $2)",
            ),
            Family::Follows => (
                400,
                24,
                "SELECT (SELECT count(*) FROM follows WHERE account_id = $1 AND created_at > $2)
                      + (SELECT count(*) FROM follow_requests WHERE account_id = $1 AND created_at > $2)
                      + (SELECT count(*) FROM tag_follows WHERE account_id = $1 AND created_at > $2)",
            ),
            Family::Reports => (400, 24, "SELECT count(*) FROM reports WHERE account_id = $1 AND created_at > $2"),
        }
    }
}

/// 429 when the account has reached the limit of `family`.
pub async fn check(db: &PgPool, account_id: i64, family: Family) -> Result<()> {
    let (limit, hours, counted) = family.rule();
    let since = crate::core::time::now() - chrono::Duration::hours(hours.into());
    let done: i64 = sqlx::query_scalar(counted).bind(account_id).bind(since).fetch_one(db).await?;
    if done >= limit { Err(Error::TooManyRequests) } else { Ok(()) }
}
