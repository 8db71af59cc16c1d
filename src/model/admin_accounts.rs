//! Accounts as staff see them (Mastodon's `AccountFilter` and `REST::Admin::Account` rows):
//! the account with its user's sign-in state, e-mail, role and addresses.

use chrono::NaiveDateTime;
use sqlx::{FromRow, PgPool};

use crate::core::error::Result;
use crate::core::pagination::Page;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Origin {
    Local,
    Remote,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Not suspended (pending and disabled users included, as in Mastodon).
    Active,
    Pending,
    Disabled,
    Silenced,
    Suspended,
    Sensitized,
}

/// Which accounts to list; every field narrows the list.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    pub origin: Option<Origin>,
    pub status: Option<Status>,
    pub by_domain: Option<String>,
    /// A case-insensitive prefix of the username.
    pub username: Option<String>,
    pub display_name: Option<String>,
    pub email: Option<String>,
    /// Users holding one of these roles.
    pub role_ids: Option<Vec<i64>>,
    /// Users who signed up from inside this network (`203.0.113.0/24`, or one address).
    pub ip: Option<String>,
}

/// The staff view of one account.
#[derive(Debug, Clone, FromRow)]
pub struct AdminAccount {
    pub id: i64,
    pub username: String,
    pub domain: Option<String>,
    pub created_at: NaiveDateTime,
    pub suspended: bool,
    pub silenced: bool,
    pub sensitized: bool,
    pub user_id: Option<i64>,
    pub email: Option<String>,
    pub confirmed: Option<bool>,
    pub disabled: Option<bool>,
    pub approved: Option<bool>,
    pub locale: Option<String>,
    pub sign_up_ip: Option<String>,
    pub user_created_at: Option<NaiveDateTime>,
    pub created_by_application_id: Option<i64>,
    pub invite_request: Option<String>,
}

const SELECT: &str = "SELECT a.id, a.username, a.domain, a.created_at, a.suspended_at IS NOT NULL AS suspended,
        a.silenced_at IS NOT NULL AS silenced, a.sensitized_at IS NOT NULL AS sensitized,
        u.id AS user_id, u.email, u.confirmed_at IS NOT NULL AS confirmed, u.disabled, u.approved, u.locale,
        host(u.sign_up_ip) AS sign_up_ip, u.created_at AS user_created_at, u.created_by_application_id,
        (SELECT r.text FROM user_invite_requests r WHERE r.user_id = u.id LIMIT 1) AS invite_request
   FROM accounts a LEFT JOIN users u ON u.account_id = a.id";

/// One page of the accounts `filter` lets through, newest first; the instance actor never.
pub async fn list(db: &PgPool, filter: &Filter, page: &Page) -> Result<Vec<AdminAccount>> {
    let status = match filter.status {
        None => "true",
        Some(Status::Active) => "a.suspended_at IS NULL",
        Some(Status::Pending) => "u.approved = false",
        Some(Status::Disabled) => "u.disabled AND a.suspended_at IS NULL",
        Some(Status::Silenced) => "a.silenced_at IS NOT NULL",
        Some(Status::Suspended) => "a.suspended_at IS NOT NULL",
        Some(Status::Sensitized) => "a.sensitized_at IS NOT NULL",
    };
    // A domain asked for names remote accounts whatever the origin says.
    let origin = match (filter.origin, &filter.by_domain) {
        (_, Some(_)) | (None, None) => "true",
        (Some(Origin::Local), None) => "a.domain IS NULL",
        (Some(Origin::Remote), None) => "a.domain IS NOT NULL",
    };
    let sql = format!(
        "{} WHERE a.id > 0 AND {origin} AND {status}
            AND ($1::text IS NULL OR a.domain = $1)
            AND ($2::text IS NULL OR lower(a.username) LIKE lower($2) || '%')
            AND ($3::text IS NULL OR a.display_name ILIKE $3 || '%')
            AND ($4::text IS NULL OR u.email ILIKE $4 || '%')
            AND ($5::bigint[] IS NULL OR u.role_id = ANY($5))
            AND ($6::inet IS NULL OR u.sign_up_ip <<= $6::inet) {}",
        SELECT,
        page.sql("a.id", 7)
    );
    let like = |value: &Option<String>| value.as_deref().map(escape_like);
    let rows = sqlx::query_as::<_, AdminAccount>(sqlx::AssertSqlSafe(sql))
        .bind(filter.by_domain.as_deref().map(str::trim))
        .bind(like(&filter.username).map(|u| u.trim_start_matches('@').to_string()))
        .bind(like(&filter.display_name))
        .bind(like(&filter.email))
        .bind(&filter.role_ids)
        .bind(&filter.ip)
        .bind(page.max_id)
        .bind(page.since_id)
        .bind(page.min_id)
        .fetch_all(db)
        .await?;
    Ok(page.in_order(rows, |r| r.id))
}

pub async fn find_many(db: &PgPool, ids: &[i64]) -> Result<Vec<AdminAccount>> {
    let sql = format!("{SELECT} WHERE a.id = ANY($1) AND a.id > 0");
    Ok(sqlx::query_as::<_, AdminAccount>(sqlx::AssertSqlSafe(sql)).bind(ids).fetch_all(db).await?)
}

pub async fn find(db: &PgPool, id: i64) -> Result<Option<AdminAccount>> {
    let sql = format!("{SELECT} WHERE a.id = $1 AND a.id > 0");
    Ok(sqlx::query_as::<_, AdminAccount>(sqlx::AssertSqlSafe(sql)).bind(id).fetch_optional(db).await?)
}

fn escape_like(value: &str) -> String {
    value.replace('\\', "\\\\").replace('%', "\\%").replace('_', "\\_")
}

/// The roles that may handle reports: Mastodon's "staff".
pub async fn staff_role_ids(db: &PgPool) -> Result<Vec<i64>> {
    let everyone = super::roles::everyone(db).await?;
    let roles: Vec<super::roles::Role> =
        sqlx::query_as("SELECT id, name, color, position, permissions, highlighted FROM user_roles")
            .fetch_all(db)
            .await?;
    Ok(roles
        .into_iter()
        .filter(|r| r.id != super::roles::EVERYONE_ID)
        .filter(|r| r.computed_permissions(&everyone) & super::roles::permission::MANAGE_REPORTS != 0)
        .map(|r| r.id)
        .collect())
}
