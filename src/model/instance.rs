//! What the instance says about itself: counts, weekly activity and rules for
//! `/api/v1/instance`, `/api/v2/instance`, `/api/v1/instance/activity` and NodeInfo.

use chrono::{Datelike, Duration, NaiveDate};
use sqlx::PgPool;

use crate::core::error::Result;

/// The Mastodon version we present to clients (they gate features on it), and our own.
pub const MASTODON_COMPATIBLE_VERSION: &str = "4.5.0";
pub const SOFTWARE_VERSION: &str = env!("CARGO_PKG_VERSION");
/// `api_versions.mastodon` of Mastodon 4.5.
pub const MASTODON_API_VERSION: i64 = 6;

pub fn version_string() -> String {
    format!("{MASTODON_COMPATIBLE_VERSION} (compatible; ferrodon {SOFTWARE_VERSION})")
}

#[derive(Debug, Clone, Copy, sqlx::FromRow)]
pub struct Counts {
    pub user_count: i64,
    pub status_count: i64,
    pub domain_count: i64,
    pub active_month: i64,
    pub active_halfyear: i64,
}

pub async fn counts(db: &PgPool) -> Result<Counts> {
    Ok(sqlx::query_as::<_, Counts>(
        "SELECT (SELECT count(*) FROM users u JOIN accounts a ON a.id = u.account_id
                  WHERE NOT u.disabled AND a.suspended_at IS NULL) AS user_count,
                (SELECT COALESCE(sum(s.statuses_count), 0)::bigint FROM account_stats s
                   JOIN accounts a ON a.id = s.account_id WHERE a.domain IS NULL) AS status_count,
                (SELECT count(DISTINCT domain) FROM accounts WHERE domain IS NOT NULL) AS domain_count,
                (SELECT count(*) FROM users WHERE current_sign_in_at > (now() AT TIME ZONE 'UTC') - interval '30 days') AS active_month,
                (SELECT count(*) FROM users WHERE current_sign_in_at > (now() AT TIME ZONE 'UTC') - interval '180 days') AS active_halfyear",
    )
    .fetch_one(db)
    .await?)
}

#[derive(Debug, Clone)]
pub struct Week {
    pub start: NaiveDate,
    pub statuses: i64,
    pub logins: i64,
    pub registrations: i64,
}

/// The last 12 weeks (Monday-based, newest first), as `/api/v1/instance/activity`.
pub async fn activity(db: &PgPool) -> Result<Vec<Week>> {
    let today = crate::core::time::now().date();
    let this_monday = today - Duration::days(today.weekday().num_days_from_monday() as i64);
    let mut weeks = Vec::with_capacity(12);
    for i in 0..12 {
        let start = this_monday - Duration::weeks(i);
        let end = start + Duration::weeks(1);
        let (statuses, logins, registrations): (i64, i64, i64) = sqlx::query_as(
            "SELECT (SELECT count(*) FROM statuses s WHERE s.local AND s.created_at >= $1 AND s.created_at < $2),
                    (SELECT count(*) FROM users WHERE current_sign_in_at >= $1 AND current_sign_in_at < $2),
                    (SELECT count(*) FROM users WHERE created_at >= $1 AND created_at < $2)",
        )
        .bind(start.and_hms_opt(0, 0, 0))
        .bind(end.and_hms_opt(0, 0, 0))
        .fetch_one(db)
        .await?;
        weeks.push(Week { start, statuses, logins, registrations });
    }
    Ok(weeks)
}

/// A server rule (Mastodon's `rules`), shown on the instance and cited by reports.
#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Rule {
    pub id: i64,
    pub text: String,
    pub hint: String,
}

/// The rules in force, in their order.
pub async fn rules(db: &PgPool) -> Result<Vec<Rule>> {
    Ok(sqlx::query_as("SELECT id, text, hint FROM rules WHERE deleted_at IS NULL ORDER BY priority, id")
        .fetch_all(db)
        .await?)
}

/// Whether every id is that of a rule in force.
pub async fn rules_exist(db: &PgPool, ids: &[i64]) -> Result<bool> {
    let found: i64 = sqlx::query_scalar("SELECT count(*) FROM rules WHERE id = ANY($1) AND deleted_at IS NULL")
        .bind(ids)
        .fetch_one(db)
        .await?;
    let mut distinct = ids.to_vec();
    distinct.sort_unstable();
    distinct.dedup();
    Ok(found == distinct.len() as i64)
}
