//! Notification rows: their types, and the queries that list them plain (v1) or grouped (v2).
//! They are created by `domain::notifications::notify`.

use chrono::NaiveDateTime;
use sqlx::AssertSqlSafe;
use sqlx::{FromRow, PgPool};

use crate::core::error::{Error, Result};
use crate::core::pagination::Page;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NotificationType {
    Mention,
    Status,
    Reblog,
    Follow,
    FollowRequest,
    Favourite,
    Update,
    Poll,
    /// To staff who manage users: someone new can use the server.
    AdminSignUp,
    /// To staff who manage reports: an account got its first open report.
    AdminReport,
    /// To a user: staff acted on their account (a strike).
    ModerationWarning,
}

impl NotificationType {
    pub const ALL: [&'static str; 11] = [
        "mention",
        "status",
        "reblog",
        "follow",
        "follow_request",
        "favourite",
        "update",
        "poll",
        "admin.sign_up",
        "admin.report",
        "moderation_warning",
    ];

    pub fn parse(name: &str) -> Option<NotificationType> {
        Self::ALL.iter().position(|n| *n == name).map(|i| Self::VARIANTS[i])
    }
    const VARIANTS: [NotificationType; 11] = [
        NotificationType::Mention,
        NotificationType::Status,
        NotificationType::Reblog,
        NotificationType::Follow,
        NotificationType::FollowRequest,
        NotificationType::Favourite,
        NotificationType::Update,
        NotificationType::Poll,
        NotificationType::AdminSignUp,
        NotificationType::AdminReport,
        NotificationType::ModerationWarning,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            NotificationType::Mention => "mention",
            NotificationType::Status => "status",
            NotificationType::Reblog => "reblog",
            NotificationType::Follow => "follow",
            NotificationType::FollowRequest => "follow_request",
            NotificationType::Favourite => "favourite",
            NotificationType::Update => "update",
            NotificationType::Poll => "poll",
            NotificationType::AdminSignUp => "admin.sign_up",
            NotificationType::AdminReport => "admin.report",
            NotificationType::ModerationWarning => "moderation_warning",
        }
    }
    /// The polymorphic `activity_type` column: which table `activity_id` points into.
    pub fn activity_type(self) -> &'static str {
        match self {
            NotificationType::Mention => "Mention",
            NotificationType::Status | NotificationType::Reblog | NotificationType::Update => "Status",
            NotificationType::Follow => "Follow",
            NotificationType::FollowRequest => "FollowRequest",
            NotificationType::Favourite => "Favourite",
            NotificationType::Poll => "Poll",
            NotificationType::AdminSignUp => "Account",
            NotificationType::AdminReport => "Report",
            NotificationType::ModerationWarning => "AccountWarning",
        }
    }
    /// Types that `/api/v2/notifications` may fold together.
    pub fn groupable(name: &str) -> bool {
        matches!(name, "favourite" | "reblog" | "follow" | "admin.sign_up")
    }
}

/// The type of the notifications that carry a report.
pub const REPORT_TYPE: &str = "admin.report";
/// The type of the notifications that carry a strike.
pub const WARNING_TYPE: &str = "moderation_warning";

/// The status a notification is about, derived from its activity.
const STATUS_OF_ACTIVITY: &str = "CASE n.activity_type
    WHEN 'Mention' THEN (SELECT m.status_id FROM mentions m WHERE m.id = n.activity_id)
    WHEN 'Favourite' THEN (SELECT f.status_id FROM favourites f WHERE f.id = n.activity_id)
    WHEN 'Status' THEN (CASE WHEN n.type = 'reblog'
                             THEN (SELECT r.reblog_of_id FROM statuses r WHERE r.id = n.activity_id)
                             ELSE n.activity_id END)
    WHEN 'Poll' THEN (SELECT p.status_id FROM polls p WHERE p.id = n.activity_id)
  END";

#[derive(Debug, Clone, FromRow)]
pub struct Notification {
    pub id: i64,
    #[sqlx(rename = "type")]
    pub kind: String,
    pub created_at: NaiveDateTime,
    pub from_account_id: i64,
    pub status_id: Option<i64>,
    pub group_key: Option<String>,
    /// The row the notification is about, in the table its type names (a report for
    /// `admin.report`).
    pub activity_id: i64,
}

impl Notification {
    /// Mastodon's rendered group key: stored for groupable types, `ungrouped-<id>` otherwise.
    pub fn group_key(&self) -> String {
        self.group_key.clone().unwrap_or_else(|| format!("ungrouped-{}", self.id))
    }
    pub fn needs_status(&self) -> bool {
        matches!(self.kind.as_str(), "mention" | "status" | "reblog" | "favourite" | "update" | "poll")
    }
}

#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub types: Vec<String>,
    pub exclude_types: Vec<String>,
    pub from_account_id: Option<i64>,
}

const NOTIFICATION_SELECT: &str = "SELECT n.id, n.type, n.created_at, n.from_account_id, n.group_key, n.activity_id";

/// Notifications from suspended accounts (and so from suspended servers) are not shown.
const FROM_ACTIVE_ACCOUNT: &str =
    "NOT EXISTS (SELECT 1 FROM accounts fa WHERE fa.id = n.from_account_id AND fa.suspended_at IS NOT NULL)";

pub async fn list(db: &PgPool, account_id: i64, filter: &Filter, page: &Page) -> Result<Vec<Notification>> {
    let types: Vec<String> = if filter.types.is_empty() { Vec::new() } else { filter.types.clone() };
    let rows = sqlx::query_as::<_, Notification>(AssertSqlSafe(format!(
        "{NOTIFICATION_SELECT}, {STATUS_OF_ACTIVITY} AS status_id FROM notifications n
          WHERE n.account_id = $1 AND NOT n.filtered AND {FROM_ACTIVE_ACCOUNT}
            AND (cardinality($5::text[]) = 0 OR n.type = ANY($5))
            AND NOT (n.type = ANY($6))
            AND ($7::bigint IS NULL OR n.from_account_id = $7)
            {}",
        page.sql("n.id", 2)
    )))
    .bind(account_id)
    .bind(page.max_id)
    .bind(page.since_id)
    .bind(page.min_id)
    .bind(&types)
    .bind(&filter.exclude_types)
    .bind(filter.from_account_id)
    .fetch_all(db)
    .await?;
    Ok(page.in_order(rows, |n| n.id))
}

pub async fn get(db: &PgPool, account_id: i64, id: i64) -> Result<Notification> {
    sqlx::query_as::<_, Notification>(AssertSqlSafe(format!(
        "{NOTIFICATION_SELECT}, {STATUS_OF_ACTIVITY} AS status_id FROM notifications n WHERE n.account_id = $1 AND n.id = $2"
    )))
    .bind(account_id)
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound)
}

pub async fn dismiss(db: &PgPool, account_id: i64, id: i64) -> Result<()> {
    let removed = sqlx::query("DELETE FROM notifications WHERE account_id = $1 AND id = $2")
        .bind(account_id)
        .bind(id)
        .execute(db)
        .await?
        .rows_affected();
    if removed == 0 { Err(Error::NotFound) } else { Ok(()) }
}

/// Dismisses every notification in a group (`POST /api/v2/notifications/:group_key/dismiss`).
pub async fn dismiss_group(db: &PgPool, account_id: i64, group_key: &str) -> Result<()> {
    if let Some(id) = group_key.strip_prefix("ungrouped-").and_then(|s| s.parse::<i64>().ok()) {
        return dismiss(db, account_id, id).await;
    }
    sqlx::query("DELETE FROM notifications WHERE account_id = $1 AND group_key = $2")
        .bind(account_id)
        .bind(group_key)
        .execute(db)
        .await?;
    Ok(())
}

pub async fn clear(db: &PgPool, account_id: i64) -> Result<()> {
    sqlx::query("DELETE FROM notifications WHERE account_id = $1").bind(account_id).execute(db).await?;
    Ok(())
}

/// Notifications newer than the user's `notifications` read marker, capped at `limit`.
pub async fn unread_count(db: &PgPool, user_id: i64, account_id: i64, limit: i64) -> Result<i64> {
    Ok(sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM (SELECT 1 FROM notifications n
           WHERE n.account_id = $1 AND NOT n.filtered AND {FROM_ACTIVE_ACCOUNT}
             AND n.id > COALESCE((SELECT last_read_id FROM markers WHERE user_id = $2 AND timeline = 'notifications'), 0)
           LIMIT $3) unread"
    )))
    .bind(account_id)
    .bind(user_id)
    .bind(limit)
    .fetch_one(db)
    .await?)
}

/// Groups with a notification newer than the read marker, capped at `limit` (v2's
/// `unread_count`): notifications of `grouped` types count once per group key.
pub async fn unread_group_count(
    db: &PgPool,
    user_id: i64,
    account_id: i64,
    grouped: &[String],
    limit: i64,
) -> Result<i64> {
    Ok(sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT count(*) FROM (SELECT DISTINCT CASE WHEN n.type = ANY($4) AND n.group_key IS NOT NULL
                                                    THEN n.group_key ELSE 'ungrouped-' || n.id END
           FROM notifications n
           WHERE n.account_id = $1 AND NOT n.filtered AND {FROM_ACTIVE_ACCOUNT}
             AND n.id > COALESCE((SELECT last_read_id FROM markers WHERE user_id = $2 AND timeline = 'notifications'), 0)
           LIMIT $3) unread"
    )))
    .bind(account_id)
    .bind(user_id)
    .bind(limit)
    .bind(grouped)
    .fetch_one(db)
    .await?)
}

/// The notifications of one group, newest first (`ungrouped-<id>` is that one alone).
pub async fn in_group(db: &PgPool, account_id: i64, group_key: &str, page: &Page) -> Result<Vec<Notification>> {
    let single = group_key.strip_prefix("ungrouped-").and_then(|s| s.parse::<i64>().ok());
    let rows = sqlx::query_as::<_, Notification>(AssertSqlSafe(format!(
        "{NOTIFICATION_SELECT}, {STATUS_OF_ACTIVITY} AS status_id FROM notifications n
          WHERE n.account_id = $1 AND NOT n.filtered AND {FROM_ACTIVE_ACCOUNT}
            AND (n.id = $5 OR ($5::bigint IS NULL AND n.group_key = $6))
            {}",
        page.sql("n.id", 2)
    )))
    .bind(account_id)
    .bind(page.max_id)
    .bind(page.since_id)
    .bind(page.min_id)
    .bind(single)
    .bind(group_key)
    .fetch_all(db)
    .await?;
    Ok(page.in_order(rows, |n| n.id))
}

/// Removes the notifications caused by an activity that no longer exists.
pub async fn remove_for_activity(conn: &mut sqlx::PgConnection, activity_type: &str, ids: &[i64]) -> Result<()> {
    if ids.is_empty() {
        return Ok(());
    }
    sqlx::query("DELETE FROM notifications WHERE activity_type = $1 AND activity_id = ANY($2)")
        .bind(activity_type)
        .bind(ids)
        .execute(conn)
        .await?;
    Ok(())
}
