//! OAuth rows as Doorkeeper stores them: applications and access tokens (in plaintext),
//! with the lookup that authenticates API requests.

pub mod scopes;

use chrono::NaiveDateTime;
use sqlx::{AssertSqlSafe, FromRow, PgPool};

use crate::core::error::Result;
pub use scopes::Scopes;

#[derive(Debug, Clone, FromRow)]
pub struct Application {
    pub id: i64,
    pub name: String,
    pub uid: String,
    pub secret: String,
    pub redirect_uri: String,
    pub scopes: String,
    pub website: Option<String>,
}

impl Application {
    pub fn redirect_uris(&self) -> Vec<&str> {
        self.redirect_uri.split_whitespace().collect()
    }
    pub fn scopes(&self) -> Scopes {
        Scopes::from_stored(&self.scopes)
    }
}

pub async fn find_application(db: &PgPool, uid: &str) -> Result<Option<Application>> {
    Ok(sqlx::query_as::<_, Application>(
        "SELECT id, name, uid, secret, redirect_uri, scopes, website FROM oauth_applications WHERE uid = $1",
    )
    .bind(uid)
    .fetch_optional(db)
    .await?)
}

pub async fn application_by_id(db: &PgPool, id: i64) -> Result<Option<Application>> {
    Ok(sqlx::query_as::<_, Application>(
        "SELECT id, name, uid, secret, redirect_uri, scopes, website FROM oauth_applications WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?)
}

/// An authenticated request's token, with its user and account when it has one.
#[derive(Debug, Clone, FromRow)]
pub struct AccessToken {
    pub id: i64,
    pub token: String,
    pub scopes: Option<String>,
    pub created_at: NaiveDateTime,
    pub application_id: Option<i64>,
    pub resource_owner_id: Option<i64>,
    pub account_id: Option<i64>,
    pub user_disabled: Option<bool>,
    pub user_confirmed: Option<bool>,
    pub user_approved: Option<bool>,
    pub account_suspended: Option<bool>,
    /// Moved away or memorialized: the account still signs in but may no longer act.
    pub account_retired: Option<bool>,
    pub current_sign_in_at: Option<NaiveDateTime>,
}

impl AccessToken {
    pub fn scopes(&self) -> Scopes {
        Scopes::from_stored(self.scopes.as_deref().unwrap_or(""))
    }
}

const TOKEN_SELECT: &str = "SELECT t.id, t.token, t.scopes, t.created_at, t.application_id, t.resource_owner_id,
        u.account_id, u.disabled AS user_disabled, (u.confirmed_at IS NOT NULL) AS user_confirmed,
        u.approved AS user_approved, (a.suspended_at IS NOT NULL) AS account_suspended,
        (a.moved_to_account_id IS NOT NULL OR a.memorial) AS account_retired,
        u.current_sign_in_at
   FROM oauth_access_tokens t
   LEFT JOIN users u ON u.id = t.resource_owner_id
   LEFT JOIN accounts a ON a.id = u.account_id";

/// SQL true for a token (`t`) that is neither revoked nor expired: what every entry point
/// (the web process, the streaming server) accepts.
pub const LIVE_TOKEN: &str = "t.revoked_at IS NULL
    AND (t.expires_in IS NULL OR t.created_at + make_interval(secs => t.expires_in) > now() AT TIME ZONE 'UTC')";

/// The live token for a bearer string.
pub async fn authenticate(db: &PgPool, bearer: &str) -> Result<Option<AccessToken>> {
    let token =
        sqlx::query_as::<_, AccessToken>(AssertSqlSafe(format!("{TOKEN_SELECT} WHERE t.token = $1 AND {LIVE_TOKEN}")))
            .bind(bearer)
            .fetch_optional(db)
            .await?;
    Ok(token)
}
