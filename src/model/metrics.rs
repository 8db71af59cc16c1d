//! The admin dashboard's numbers (Mastodon's `Admin::Metrics`): measures counted per day from
//! the rows, dimensions (the top values of something over a range) and sign-up retention.

use chrono::{NaiveDate, NaiveDateTime};
use sqlx::{AssertSqlSafe, PgPool};

use crate::core::error::Result;

/// What a measure counts: rows with a time `at` (and, for distinct counts, `who`; for sums,
/// `amount`), from a query that may use `$3` (a domain, or a tag id as text).
pub struct Source {
    pub events: &'static str,
    pub value: &'static str,
}

/// How the measures Mastodon knows are counted from the rows.
pub fn source(key: &str) -> Option<Source> {
    let of = |events, value| Some(Source { events, value });
    const COUNT: &str = "count(*)";
    match key {
        "new_users" => of("SELECT created_at AS at FROM users", COUNT),
        // What local accounts do: posts and reblogs, favourites and follows.
        "interactions" => of(
            "SELECT s.created_at AS at FROM statuses s WHERE s.local
             UNION ALL SELECT f.created_at FROM favourites f JOIN accounts a ON a.id = f.account_id WHERE a.domain IS NULL
             UNION ALL SELECT f.created_at FROM follows f JOIN accounts a ON a.id = f.account_id WHERE a.domain IS NULL",
            COUNT,
        ),
        "opened_reports" => of("SELECT created_at AS at FROM reports", COUNT),
        "resolved_reports" => of("SELECT action_taken_at AS at FROM reports WHERE action_taken_at IS NOT NULL", COUNT),
        "tag_uses" => of(TAGGED, COUNT),
        "tag_accounts" => of(TAGGED, "count(DISTINCT e.who)"),
        "tag_servers" => of(TAGGED, "count(DISTINCT e.server)"),
        "instance_accounts" => of("SELECT a.created_at AS at FROM accounts a WHERE", COUNT),
        "instance_statuses" => of(
            "SELECT s.created_at AS at FROM statuses s JOIN accounts a ON a.id = s.account_id WHERE",
            COUNT,
        ),
        "instance_follows" => of(
            "SELECT f.created_at AS at FROM follows f JOIN accounts a ON a.id = f.account_id
               JOIN accounts t ON t.id = f.target_account_id WHERE t.domain IS NULL AND",
            COUNT,
        ),
        "instance_followers" => of(
            "SELECT f.created_at AS at FROM follows f JOIN accounts a ON a.id = f.target_account_id
               JOIN accounts s ON s.id = f.account_id WHERE s.domain IS NULL AND",
            COUNT,
        ),
        "instance_reports" => of(
            "SELECT r.created_at AS at FROM reports r JOIN accounts a ON a.id = r.target_account_id WHERE",
            COUNT,
        ),
        "instance_media_attachments" => of(
            "SELECT m.created_at AS at, COALESCE(m.file_file_size, 0)::bigint AS amount
               FROM media_attachments m JOIN accounts a ON a.id = m.account_id WHERE",
            "COALESCE(sum(e.amount), 0)::bigint",
        ),
        _ => None,
    }
}

/// Statuses with the tag `$3`: when, by whom, from which server.
const TAGGED: &str = "SELECT s.created_at AS at, s.account_id AS who, COALESCE(a.domain, '') AS server
    FROM statuses_tags st JOIN statuses s ON s.id = st.status_id JOIN accounts a ON a.id = s.account_id
   WHERE st.tag_id = $3::bigint";

/// The condition on the domain (`$3`, and its subdomains with `$4`) that instance measures end
/// their query with.
const OF_DOMAIN: &str = " (lower(a.domain) = lower($3) OR ($4 AND lower(a.domain) LIKE '%.' || lower($3)))";

fn events_sql(key: &str, source: &Source) -> String {
    if key.starts_with("instance_") { format!("{}{OF_DOMAIN}", source.events) } else { source.events.to_string() }
}

/// A measure over `[start, end]` (whole days): the value of each day, of the range, and of
/// the range of the same length just before it.
pub struct Measured {
    pub days: Vec<(NaiveDate, i64)>,
    pub total: i64,
    pub previous_total: i64,
}

pub async fn measure(
    db: &PgPool,
    key: &str,
    source: &Source,
    (start, end): (NaiveDate, NaiveDate),
    param: &str,
    include_subdomains: bool,
) -> Result<Measured> {
    let events = events_sql(key, source);
    let value = source.value;
    let days: Vec<(NaiveDate, i64)> = sqlx::query_as(AssertSqlSafe(format!(
        "SELECT d::date, (SELECT {value} FROM ({events}) e WHERE e.at >= d AND e.at < d + interval '1 day')
           FROM generate_series($1::date::timestamp, $2::date::timestamp, interval '1 day') d ORDER BY d"
    )))
    .bind(start)
    .bind(end)
    .bind(param)
    .bind(include_subdomains)
    .fetch_all(db)
    .await?;
    let span = (end - start).num_days() + 1;
    let total_between = |from: NaiveDate, to: NaiveDate| {
        let sql = format!(
            "SELECT {value} FROM ({events}) e WHERE e.at >= $1::date::timestamp AND e.at < $2::date::timestamp + interval '1 day'"
        );
        async move {
            sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql))
                .bind(from)
                .bind(to)
                .bind(param)
                .bind(include_subdomains)
                .fetch_one(db)
                .await
        }
    };
    let total = total_between(start, end).await?;
    let before = start - chrono::Duration::days(span);
    let previous_total = total_between(before, start - chrono::Duration::days(1)).await?;
    Ok(Measured { days, total, previous_total })
}

/// All time, for the instance measures (Mastodon shows no previous total for them).
pub async fn all_time(db: &PgPool, key: &str, source: &Source, param: &str, include_subdomains: bool) -> Result<i64> {
    let events = events_sql(key, source);
    // $1 and $2 (the range) are unused here, but keep the parameters where the sources expect them.
    Ok(sqlx::query_scalar(AssertSqlSafe(format!("SELECT {} FROM ({events}) e", source.value)))
        .bind(None::<NaiveDate>)
        .bind(None::<NaiveDate>)
        .bind(param)
        .bind(include_subdomains)
        .fetch_one(db)
        .await?)
}

/// The top `limit` values of a dimension over `[start, end]`: (key, count).
pub async fn dimension(
    db: &PgPool,
    key: &str,
    (start, end): (NaiveDate, NaiveDate),
    param: &str,
    limit: i64,
) -> Result<Option<Vec<(String, i64)>>> {
    let sql = match key {
        "languages" => {
            "SELECT COALESCE(locale, 'en'), count(*) FROM users
              WHERE current_sign_in_at >= $1::date::timestamp AND current_sign_in_at < $2::date::timestamp + interval '1 day'
              GROUP BY 1"
        }
        "sources" => {
            "SELECT COALESCE(o.name, 'web'), count(*) FROM users u LEFT JOIN oauth_applications o ON o.id = u.created_by_application_id
              WHERE u.created_at >= $1::date::timestamp AND u.created_at < $2::date::timestamp + interval '1 day'
              GROUP BY 1"
        }
        "servers" => {
            "SELECT COALESCE(a.domain, $3), count(*) FROM statuses s JOIN accounts a ON a.id = s.account_id
              WHERE s.created_at >= $1::date::timestamp AND s.created_at < $2::date::timestamp + interval '1 day'
              GROUP BY 1"
        }
        "tag_servers" | "tag_languages" => {
            if key == "tag_servers" {
                "SELECT COALESCE(a.domain, ''), count(*) FROM statuses_tags st JOIN statuses s ON s.id = st.status_id
                   JOIN accounts a ON a.id = s.account_id
                  WHERE st.tag_id = $3::bigint AND s.created_at >= $1::date::timestamp
                    AND s.created_at < $2::date::timestamp + interval '1 day'
                  GROUP BY 1"
            } else {
                "SELECT COALESCE(s.language, 'und'), count(*) FROM statuses_tags st JOIN statuses s ON s.id = st.status_id
                  WHERE st.tag_id = $3::bigint AND s.created_at >= $1::date::timestamp
                    AND s.created_at < $2::date::timestamp + interval '1 day'
                  GROUP BY 1"
            }
        }
        "instance_accounts" => {
            "SELECT a.username, COALESCE(st.followers_count, 0) FROM accounts a
               LEFT JOIN account_stats st ON st.account_id = a.id WHERE lower(a.domain) = lower($3)"
        }
        "instance_languages" => {
            "SELECT COALESCE(s.language, 'und'), count(*) FROM statuses s JOIN accounts a ON a.id = s.account_id
              WHERE lower(a.domain) = lower($3) AND s.created_at >= $1::date::timestamp
                AND s.created_at < $2::date::timestamp + interval '1 day'
              GROUP BY 1"
        }
        _ => return Ok(None),
    };
    let rows = sqlx::query_as(AssertSqlSafe(format!("SELECT * FROM ({sql}) top ORDER BY 2 DESC, 1 LIMIT $4")))
        .bind(start)
        .bind(end)
        .bind(param)
        .bind(limit)
        .fetch_all(db)
        .await?;
    Ok(Some(rows))
}

/// Bytes used by the database and by stored media (attachments, avatars, headers).
pub async fn space_usage(db: &PgPool) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT pg_database_size(current_database()),
                (SELECT COALESCE(sum(file_file_size), 0) + COALESCE(sum(thumbnail_file_size), 0) FROM media_attachments)::bigint
                + (SELECT COALESCE(sum(avatar_file_size), 0) + COALESCE(sum(header_file_size), 0) FROM accounts)::bigint",
    )
    .fetch_one(db)
    .await?)
}

pub async fn postgresql_version(db: &PgPool) -> Result<String> {
    Ok(sqlx::query_scalar("SHOW server_version").fetch_one(db).await?)
}

/// One cohort of sign-ups: the users who signed up in a period, and for each period since,
/// how many of them were seen then or later.
pub struct Cohort {
    pub period: NaiveDateTime,
    pub size: i64,
    pub retained: Vec<(NaiveDateTime, i64)>,
}

/// Sign-up cohorts from `start` to `end` by `frequency` (`day` or `month`), as Mastodon's
/// retention: a user counts as retained in a period when last seen in it or after.
pub async fn retention(db: &PgPool, start: NaiveDate, end: NaiveDate, monthly: bool) -> Result<Vec<Cohort>> {
    let (frequency, step) = if monthly { ("month", "1 month") } else { ("day", "1 day") };
    let periods: Vec<NaiveDateTime> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT generate_series(date_trunc('{frequency}', $1::date::timestamp), date_trunc('{frequency}', $2::date::timestamp),
                                interval '{step}')"
    )))
    .bind(start)
    .bind(end)
    .fetch_all(db)
    .await?;
    let mut cohorts = Vec::new();
    for period in &periods {
        let rows: Vec<(NaiveDateTime, i64, i64)> = sqlx::query_as(AssertSqlSafe(format!(
            "WITH cohort AS (SELECT id, current_sign_in_at FROM users
                              WHERE created_at >= $1 AND created_at < $1 + interval '{step}')
             SELECT axis, (SELECT count(*) FROM cohort), (SELECT count(*) FROM cohort
                                                            WHERE date_trunc('{frequency}', current_sign_in_at) >= axis)
               FROM generate_series($1, date_trunc('{frequency}', $2::date::timestamp), interval '{step}') axis"
        )))
        .bind(period)
        .bind(end)
        .fetch_all(db)
        .await?;
        let size = rows.first().map_or(0, |r| r.1);
        cohorts.push(Cohort { period: *period, size, retained: rows.into_iter().map(|(at, _, n)| (at, n)).collect() });
    }
    Ok(cohorts)
}
