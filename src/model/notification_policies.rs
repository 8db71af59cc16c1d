//! Who may notify whom (Mastodon's notification policies, requests and permissions): a
//! user's policy says, per kind of sender, to accept, filter or drop; filtered mentions
//! wait as requests until accepted (the sender is then permitted) or dismissed.

use sqlx::{FromRow, PgConnection, PgPool};

use crate::core::error::{Error, Result};
use crate::core::pagination::Page;

/// A policy's answer for one kind of sender, by its API name.
pub const OUTCOMES: [&str; 3] = ["accept", "filter", "drop"];

/// The policy columns with Mastodon's defaults (filter private mentions and limited accounts).
pub const POLICIES: [(&str, i32); 5] = [
    ("for_not_following", 0),
    ("for_not_followers", 0),
    ("for_new_accounts", 0),
    ("for_private_mentions", 1),
    ("for_limited_accounts", 1),
];

#[derive(Debug, Clone, FromRow)]
pub struct Policy {
    pub for_not_following: i32,
    pub for_not_followers: i32,
    pub for_new_accounts: i32,
    pub for_private_mentions: i32,
    pub for_limited_accounts: i32,
}

pub async fn policy(db: &PgPool, account_id: i64) -> Result<Policy> {
    Ok(sqlx::query_as(
        "SELECT COALESCE(p.for_not_following, 0) AS for_not_following, COALESCE(p.for_not_followers, 0) AS for_not_followers,
                COALESCE(p.for_new_accounts, 0) AS for_new_accounts, COALESCE(p.for_private_mentions, 1) AS for_private_mentions,
                COALESCE(p.for_limited_accounts, 1) AS for_limited_accounts
           FROM (SELECT 1) one LEFT JOIN notification_policies p ON p.account_id = $1",
    )
    .bind(account_id)
    .fetch_one(db)
    .await?)
}

/// Stores the policy's columns given (`column`, outcome index).
pub async fn set_policy(db: &PgPool, account_id: i64, changes: &[(&'static str, i32)]) -> Result<()> {
    sqlx::query(
        "INSERT INTO notification_policies (account_id, created_at, updated_at)
         VALUES ($1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') ON CONFLICT (account_id) DO NOTHING",
    )
    .bind(account_id)
    .execute(db)
    .await?;
    for (column, value) in changes {
        debug_assert!(POLICIES.iter().any(|(c, _)| c == column));
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE notification_policies SET {column} = $2, updated_at = now() AT TIME ZONE 'UTC' WHERE account_id = $1"
        )))
        .bind(account_id)
        .bind(value)
        .execute(db)
        .await?;
    }
    Ok(())
}

/// What `recipient`'s policy does with a notification from `sender`: 0 accept, 1 filter,
/// 2 drop (the strictest policy that applies; a permitted sender is always accepted).
/// `private_mention` is a direct mention that does not answer one of the recipient's.
pub async fn outcome(conn: &mut PgConnection, recipient: i64, sender: i64, private_mention: bool) -> Result<i32> {
    Ok(sqlx::query_scalar(
        "WITH p AS (SELECT COALESCE(np.for_not_following, 0) AS nf, COALESCE(np.for_not_followers, 0) AS nfr,
                           COALESCE(np.for_new_accounts, 0) AS na, COALESCE(np.for_private_mentions, 1) AS pm,
                           COALESCE(np.for_limited_accounts, 1) AS la
                      FROM (SELECT 1) one LEFT JOIN notification_policies np ON np.account_id = $1),
              c AS (SELECT EXISTS (SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2) AS following,
                           NOT EXISTS (SELECT 1 FROM follows WHERE account_id = $2 AND target_account_id = $1
                                         AND created_at <= now() AT TIME ZONE 'UTC' - interval '3 days') AS not_follower,
                           EXISTS (SELECT 1 FROM notification_permissions WHERE account_id = $1 AND from_account_id = $2)
                             AS permitted,
                           COALESCE((SELECT created_at > now() AT TIME ZONE 'UTC' - interval '30 days'
                                       FROM accounts WHERE id = $2), false) AS new_account,
                           COALESCE((SELECT silenced_at IS NOT NULL FROM accounts WHERE id = $2), false) AS limited)
         SELECT CASE WHEN c.permitted THEN 0 ELSE GREATEST(
                  CASE WHEN NOT c.following THEN p.nf ELSE 0 END,
                  CASE WHEN c.not_follower THEN p.nfr ELSE 0 END,
                  CASE WHEN c.new_account AND NOT c.following THEN p.na ELSE 0 END,
                  CASE WHEN $3 AND NOT c.following THEN p.pm ELSE 0 END,
                  CASE WHEN c.limited AND NOT c.following THEN p.la ELSE 0 END) END
           FROM p, c",
    )
    .bind(recipient)
    .bind(sender)
    .bind(private_mention)
    .fetch_one(conn)
    .await?)
}

/// Whether `status_id` (mentioning `recipient`, by `sender`) is a direct one that does not
/// answer a direct status of the recipient's mentioning the sender, up the thread.
pub async fn unsolicited_private_mention(
    conn: &mut PgConnection,
    status_id: i64,
    recipient: i64,
    sender: i64,
) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "WITH RECURSIVE up(id, parent, depth) AS (
            SELECT s.id, s.in_reply_to_id, 0 FROM statuses s WHERE s.id = (SELECT in_reply_to_id FROM statuses WHERE id = $1)
            UNION ALL
            SELECT s.id, s.in_reply_to_id, up.depth + 1 FROM statuses s JOIN up ON s.id = up.parent WHERE up.depth < 100)
         SELECT (SELECT visibility = 3 FROM statuses WHERE id = $1)
            AND NOT EXISTS (SELECT 1 FROM up JOIN statuses s ON s.id = up.id
                             JOIN mentions m ON m.status_id = s.id AND m.account_id = $3 AND NOT m.silent
                            WHERE s.account_id = $2 AND s.visibility = 3)",
    )
    .bind(status_id)
    .bind(recipient)
    .bind(sender)
    .fetch_one(conn)
    .await
    .map(|v: Option<bool>| v.unwrap_or(false))?)
}

/// A filtered mention from `sender` keeps (or opens) their request, with its latest status and
/// how many filtered notifications they sent.
pub async fn record_request(
    conn: &mut PgConnection,
    recipient: i64,
    sender: i64,
    status_id: Option<i64>,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO notification_requests (account_id, from_account_id, last_status_id, notifications_count,
                                            created_at, updated_at)
         VALUES ($1, $2, $3, (SELECT count(*) FROM notifications WHERE account_id = $1 AND from_account_id = $2 AND filtered),
                 now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT (account_id, from_account_id) DO UPDATE
            SET last_status_id = COALESCE(EXCLUDED.last_status_id, notification_requests.last_status_id),
                notifications_count = EXCLUDED.notifications_count, updated_at = EXCLUDED.updated_at",
    )
    .bind(recipient)
    .bind(sender)
    .bind(status_id)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, FromRow)]
pub struct Request {
    pub id: i64,
    pub from_account_id: i64,
    pub last_status_id: Option<i64>,
    pub notifications_count: i64,
    pub created_at: chrono::NaiveDateTime,
    pub updated_at: chrono::NaiveDateTime,
}

const REQUEST_SELECT: &str = "SELECT r.id, r.from_account_id, r.last_status_id, r.notifications_count, r.created_at,
        r.updated_at FROM notification_requests r JOIN accounts fa ON fa.id = r.from_account_id";

pub async fn requests(db: &PgPool, account_id: i64, page: &Page) -> Result<Vec<Request>> {
    let rows: Vec<Request> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "{REQUEST_SELECT} WHERE r.account_id = $1 AND fa.suspended_at IS NULL {}",
        page.sql("r.id", 2)
    )))
    .bind(account_id)
    .bind(page.max_id)
    .bind(page.since_id)
    .bind(page.min_id)
    .fetch_all(db)
    .await?;
    Ok(page.in_order(rows, |r| r.id))
}

pub async fn request(db: &PgPool, account_id: i64, id: i64) -> Result<Request> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("{REQUEST_SELECT} WHERE r.account_id = $1 AND r.id = $2")))
        .bind(account_id)
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(Error::NotFound)
}

/// Pending requests and the notifications they hold, counted up to 100 requests.
pub async fn summary(db: &PgPool, account_id: i64) -> Result<(i64, i64)> {
    Ok(sqlx::query_as(
        "SELECT count(*), COALESCE(sum(notifications_count), 0)::bigint FROM (
            SELECT r.notifications_count FROM notification_requests r JOIN accounts fa ON fa.id = r.from_account_id
             WHERE r.account_id = $1 AND fa.suspended_at IS NULL LIMIT 100) pending",
    )
    .bind(account_id)
    .fetch_one(db)
    .await?)
}

/// Accepts a request: the sender may notify from now on, and what they sent is shown.
pub async fn accept(tx: &mut PgConnection, account_id: i64, request: &Request) -> Result<()> {
    sqlx::query(
        "INSERT INTO notification_permissions (account_id, from_account_id, created_at, updated_at)
         SELECT $1, $2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
          WHERE NOT EXISTS (SELECT 1 FROM notification_permissions WHERE account_id = $1 AND from_account_id = $2)",
    )
    .bind(account_id)
    .bind(request.from_account_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "UPDATE notifications SET filtered = false WHERE account_id = $1 AND from_account_id = $2 AND filtered",
    )
    .bind(account_id)
    .bind(request.from_account_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM notification_requests WHERE id = $1").bind(request.id).execute(&mut *tx).await?;
    Ok(())
}

/// Dismisses a request with the filtered notifications it holds.
pub async fn dismiss(tx: &mut PgConnection, account_id: i64, request: &Request) -> Result<()> {
    sqlx::query("DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2 AND filtered")
        .bind(account_id)
        .bind(request.from_account_id)
        .execute(&mut *tx)
        .await?;
    sqlx::query("DELETE FROM notification_requests WHERE id = $1").bind(request.id).execute(&mut *tx).await?;
    Ok(())
}
