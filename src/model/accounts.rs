//! Account and user rows: lookup, credentials, settings, counters and key pairs. Sign-up
//! and profile changes are `domain::accounts`.

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use sqlx::{FromRow, PgPool};

use crate::core::config::Config;
use crate::core::error::{Error, Result};

pub const MAX_DISPLAY_NAME: usize = 30;
pub const MAX_NOTE: usize = 500;
pub const MAX_FIELDS: usize = 4;
pub const MAX_FIELD_LENGTH: usize = 255;
pub const MAX_USERNAME: usize = 30;
pub const RESERVED_USERNAMES: &[&str] =
    &["admin", "support", "help", "root", "webmaster", "administrator", "mod", "moderator"];

/// An account row with its counters (from `account_stats`).
#[derive(Debug, Clone, FromRow)]
pub struct Account {
    pub id: i64,
    pub username: String,
    pub domain: Option<String>,
    pub display_name: String,
    pub note: String,
    pub locked: bool,
    pub discoverable: Option<bool>,
    pub indexable: bool,
    pub hide_collections: Option<bool>,
    pub actor_type: Option<String>,
    pub fields: Option<serde_json::Value>,
    pub uri: String,
    pub url: Option<String>,
    pub memorial: bool,
    pub suspended_at: Option<NaiveDateTime>,
    pub silenced_at: Option<NaiveDateTime>,
    /// Staff marked everything it posts sensitive.
    #[sqlx(default)]
    pub sensitized_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub avatar_file_name: Option<String>,
    pub avatar_remote_url: Option<String>,
    pub header_file_name: Option<String>,
    pub header_remote_url: String,
    pub followers_count: i64,
    pub following_count: i64,
    pub statuses_count: i64,
    pub last_status_at: Option<NaiveDateTime>,
    /// Set when the account moved to another (a `Move` it sent).
    pub moved_to_account_id: Option<i64>,
    /// How a local account's ActivityPub URIs are named: 0 after its username
    /// (`/users/<name>`), 1 after its id (`/ap/users/<id>`, Mastodon 4.5's default).
    #[sqlx(default)]
    pub id_scheme: Option<i32>,
    /// The highlighted role of a local account's user (a public badge): id, name and color.
    #[sqlx(default)]
    pub badge_id: Option<i64>,
    #[sqlx(default)]
    pub badge_name: Option<String>,
    #[sqlx(default)]
    pub badge_color: Option<String>,
}

impl Account {
    pub fn is_local(&self) -> bool {
        self.domain.is_none()
    }
    pub fn is_bot(&self) -> bool {
        matches!(self.actor_type.as_deref(), Some("Service" | "Application"))
    }
    pub fn is_group(&self) -> bool {
        self.actor_type.as_deref() == Some("Group")
    }
    /// `alice` for local accounts, `alice@example.com` for remote ones.
    pub fn acct(&self) -> String {
        match &self.domain {
            None => self.username.clone(),
            Some(d) => format!("{}@{d}", self.username),
        }
    }
    pub fn profile_url(&self, config: &Config) -> String {
        match &self.url {
            Some(u) if !u.is_empty() => u.clone(),
            _ => format!("{}/@{}", config.base_url(), self.username),
        }
    }
    /// The ActivityPub id: the stored URI of a remote account; for a local one, named after
    /// its id or its username as its `id_scheme` says.
    pub fn actor_uri(&self, config: &Config) -> String {
        match (self.uri.is_empty(), self.id_scheme) {
            (false, _) => self.uri.clone(),
            (true, Some(NUMERIC_ID_SCHEME)) => format!("{}/ap/users/{}", config.base_url(), self.id),
            (true, _) => format!("{}/users/{}", config.base_url(), self.username),
        }
    }
    /// Profile fields as stored: `[{"name","value","verified_at"}]`.
    pub fn field_list(&self) -> Vec<Field> {
        self.fields.as_ref().and_then(|f| serde_json::from_value(f.clone()).ok()).unwrap_or_default()
    }
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Field {
    pub name: String,
    pub value: String,
    #[serde(default)]
    pub verified_at: Option<String>,
}

/// `accounts.id_scheme` of actors named `/ap/users/<id>`.
pub const NUMERIC_ID_SCHEME: i32 = 1;

pub const ACCOUNT_SELECT: &str = "SELECT a.id, a.username, a.domain, a.display_name, a.note, a.locked, a.discoverable,
        a.indexable, a.hide_collections, a.actor_type, a.fields, COALESCE(a.uri, '') AS uri, a.url, a.memorial, a.suspended_at,
        a.silenced_at, a.sensitized_at, a.created_at, a.avatar_file_name, a.avatar_remote_url, a.header_file_name, a.header_remote_url,
        COALESCE(s.followers_count, 0) AS followers_count, COALESCE(s.following_count, 0) AS following_count,
        COALESCE(s.statuses_count, 0) AS statuses_count, s.last_status_at, a.moved_to_account_id, a.id_scheme,
        badge.id AS badge_id, badge.name AS badge_name, badge.color AS badge_color
   FROM accounts a LEFT JOIN account_stats s ON s.account_id = a.id
   LEFT JOIN users badge_user ON badge_user.account_id = a.id
   LEFT JOIN user_roles badge ON badge.id = badge_user.role_id AND badge.highlighted";

pub async fn find(db: &PgPool, id: i64) -> Result<Option<Account>> {
    Ok(sqlx::query_as::<_, Account>(AssertSqlSafe(format!("{ACCOUNT_SELECT} WHERE a.id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await?)
}

/// A visible account or 404: suspended accounts are not shown.
pub async fn get(db: &PgPool, id: i64) -> Result<Account> {
    find(db, id).await?.filter(|a| a.suspended_at.is_none()).ok_or(Error::NotFound)
}

pub async fn find_many(db: &PgPool, ids: &[i64]) -> Result<Vec<Account>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as::<_, Account>(AssertSqlSafe(format!("{ACCOUNT_SELECT} WHERE a.id = ANY($1)")))
        .bind(ids)
        .fetch_all(db)
        .await?)
}

/// The accounts these ones moved to, by id (for the `moved` of their JSON).
pub async fn moved_targets(db: &PgPool, accounts: &[Account]) -> Result<std::collections::HashMap<i64, Account>> {
    let ids: Vec<i64> = accounts.iter().filter_map(|a| a.moved_to_account_id).collect();
    Ok(find_many(db, &ids).await?.into_iter().map(|a| (a.id, a)).collect())
}

/// Accounts in the order of `ids` (missing ones skipped).
pub async fn find_ordered(db: &PgPool, ids: &[i64]) -> Result<Vec<Account>> {
    let mut found = find_many(db, ids).await?;
    found.sort_by_key(|a| ids.iter().position(|id| *id == a.id).unwrap_or(usize::MAX));
    Ok(found)
}

pub async fn find_local(db: &PgPool, username: &str) -> Result<Option<Account>> {
    Ok(sqlx::query_as::<_, Account>(AssertSqlSafe(format!(
        "{ACCOUNT_SELECT} WHERE lower(a.username) = lower($1) AND a.domain IS NULL"
    )))
    .bind(username)
    .fetch_optional(db)
    .await?)
}

/// Resolves `alice`, `@alice`, `alice@<local domain>` or `alice@remote` among known accounts.
pub async fn lookup_acct(db: &PgPool, config: &Config, acct: &str) -> Result<Option<Account>> {
    let acct = acct.trim().trim_start_matches('@');
    let (username, domain) = match acct.split_once('@') {
        Some((u, d)) => (u, Some(d)),
        None => (acct, None),
    };
    let local = domain
        .is_none_or(|d| d.eq_ignore_ascii_case(&config.local_domain) || d.eq_ignore_ascii_case(&config.web_domain));
    if local {
        return find_local(db, username).await;
    }
    Ok(sqlx::query_as::<_, Account>(AssertSqlSafe(format!(
        "{ACCOUNT_SELECT} WHERE lower(a.username) = lower($1) AND lower(a.domain) = lower($2)"
    )))
    .bind(username)
    .bind(domain)
    .fetch_optional(db)
    .await?)
}

pub async fn user_by_email(db: &PgPool, email: &str) -> Result<Option<User>> {
    Ok(sqlx::query_as::<_, User>(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1)"
    )))
    .bind(email)
    .fetch_optional(db)
    .await?)
}

/// The signed-in user's own record.
#[derive(Debug, Clone, FromRow)]
pub struct User {
    pub id: i64,
    pub account_id: i64,
    pub email: String,
    pub encrypted_password: String,
    pub settings: Option<String>,
    pub locale: Option<String>,
    pub chosen_languages: Option<Vec<String>>,
    pub disabled: bool,
    pub approved: bool,
    pub confirmed_at: Option<NaiveDateTime>,
    /// Two-factor sign-in: the TOTP secret (Active Record Encryption), the bcrypt hashes of
    /// the unused backup codes, and the last time step a code was taken at.
    pub otp_required_for_login: bool,
    pub otp_secret: Option<String>,
    pub otp_backup_codes: Option<Vec<String>>,
    pub consumed_timestep: Option<i32>,
}

/// Posting and reading preferences kept in `users.settings` (JSON text, Mastodon's keys).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UserSettings {
    #[serde(default)]
    pub default_privacy: Option<String>,
    #[serde(default)]
    pub default_sensitive: Option<bool>,
    #[serde(default)]
    pub default_language: Option<String>,
    #[serde(default)]
    pub expand_spoilers: Option<bool>,
    #[serde(default)]
    pub display_media: Option<String>,
    #[serde(flatten)]
    pub other: serde_json::Map<String, serde_json::Value>,
}

impl User {
    pub fn settings(&self) -> UserSettings {
        self.settings.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default()
    }
    pub fn default_privacy(&self) -> String {
        self.settings().default_privacy.unwrap_or_else(|| "public".into())
    }
}

/// The columns of `User`.
pub const USER_COLUMNS: &str = "id, account_id, email, encrypted_password, settings, locale, chosen_languages,
        disabled, approved, confirmed_at, otp_required_for_login, otp_secret, otp_backup_codes, consumed_timestep";

/// The accounts of users waiting for approval, oldest sign-up first (`limit` of them).
pub async fn pending_sign_ups(db: &PgPool, limit: Option<i64>) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar("SELECT account_id FROM users WHERE NOT approved ORDER BY created_at, id LIMIT $1")
        .bind(limit)
        .fetch_all(db)
        .await?)
}

pub async fn user_by_id(db: &PgPool, id: i64) -> Result<Option<User>> {
    Ok(sqlx::query_as::<_, User>(AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await?)
}

pub async fn user_by_account(db: &PgPool, account_id: i64) -> Result<Option<User>> {
    Ok(sqlx::query_as::<_, User>(AssertSqlSafe(format!("SELECT {USER_COLUMNS} FROM users WHERE account_id = $1")))
        .bind(account_id)
        .fetch_optional(db)
        .await?)
}

/// Finds a user by e-mail or username and checks the password (bcrypt, Devise-compatible).
pub async fn authenticate_user(db: &PgPool, login: &str, password: &str) -> Result<Option<User>> {
    let user = sqlx::query_as::<_, User>(AssertSqlSafe(format!(
        "SELECT {USER_COLUMNS} FROM users WHERE lower(email) = lower($1)
            OR account_id = (SELECT id FROM accounts WHERE lower(username) = lower($1) AND domain IS NULL)
          LIMIT 1"
    )))
    .bind(login.trim())
    .fetch_optional(db)
    .await?;
    let Some(user) = user else { return Ok(None) };
    let hash = user.encrypted_password.clone();
    let password = password.to_string();
    let ok = tokio::task::spawn_blocking(move || bcrypt::verify(password, &hash).unwrap_or(false))
        .await
        .map_err(Error::internal)?;
    Ok(ok.then_some(user))
}

/// A new RSA-2048 key pair as PEM (PKCS#1 private, SPKI public), as Mastodon stores it.
pub fn generate_keypair() -> Result<(String, String)> {
    use rsa::pkcs1::EncodeRsaPrivateKey;
    use rsa::pkcs8::{EncodePublicKey, LineEnding};
    let private = rsa::RsaPrivateKey::new(&mut rand_core::OsRng, 2048).map_err(Error::internal)?;
    let private_pem = private.to_pkcs1_pem(LineEnding::LF).map_err(Error::internal)?.to_string();
    let public_pem = private.to_public_key().to_public_key_pem(LineEnding::LF).map_err(Error::internal)?;
    Ok((private_pem, public_pem))
}

/// Replaces a local account's key pair; returns whether the account was there.
pub async fn set_keypair(conn: &mut sqlx::PgConnection, account_id: i64, private: &str, public: &str) -> Result<bool> {
    let done = sqlx::query(
        "UPDATE accounts SET private_key = $2, public_key = $3, updated_at = now() AT TIME ZONE 'UTC'
          WHERE id = $1 AND domain IS NULL",
    )
    .bind(account_id)
    .bind(private)
    .bind(public)
    .execute(conn)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Remote accounts that `tootctl accounts prune` removes: people (not bots or groups), neither
/// suspended nor silenced, that never touched anyone here — no statuses, mentions,
/// favourites, follows or follow requests either way, blocks either way, mutes or reports.
pub async fn prunable_remote(db: &PgPool) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT a.id FROM accounts a
          WHERE a.domain IS NOT NULL AND a.suspended_at IS NULL AND a.silenced_at IS NULL
            AND COALESCE(a.actor_type, 'Person') NOT IN ('Application', 'Service', 'Group')
            AND NOT EXISTS (SELECT 1 FROM statuses x WHERE x.account_id = a.id)
            AND NOT EXISTS (SELECT 1 FROM mentions x WHERE x.account_id = a.id)
            AND NOT EXISTS (SELECT 1 FROM favourites x WHERE x.account_id = a.id)
            AND NOT EXISTS (SELECT 1 FROM follows x WHERE x.account_id = a.id OR x.target_account_id = a.id)
            AND NOT EXISTS (SELECT 1 FROM follow_requests x WHERE x.account_id = a.id OR x.target_account_id = a.id)
            AND NOT EXISTS (SELECT 1 FROM blocks x WHERE x.account_id = a.id OR x.target_account_id = a.id)
            AND NOT EXISTS (SELECT 1 FROM mutes x WHERE x.target_account_id = a.id)
            AND NOT EXISTS (SELECT 1 FROM reports x WHERE x.target_account_id = a.id)
          ORDER BY a.id",
    )
    .fetch_all(db)
    .await?)
}

/// Remote ActivityPub accounts `tootctl accounts cull` checks, of `domains` (all when empty):
/// (id, domain, uri) of those neither updated nor webfingered in the last week.
pub async fn cull_candidates(db: &PgPool, domains: &[String]) -> Result<Vec<(i64, String, String)>> {
    Ok(sqlx::query_as(
        "SELECT id, domain, uri FROM accounts
          WHERE domain IS NOT NULL AND protocol = 1 AND uri IS NOT NULL AND uri <> ''
            AND (cardinality($1::text[]) = 0 OR lower(domain) = ANY($1))
            AND updated_at < (now() AT TIME ZONE 'UTC') - interval '7 days'
            AND (last_webfingered_at IS NULL OR last_webfingered_at < (now() AT TIME ZONE 'UTC') - interval '7 days')
          ORDER BY id",
    )
    .bind(domains.iter().map(|d| d.to_ascii_lowercase()).collect::<Vec<_>>())
    .fetch_all(db)
    .await?)
}

/// Marks an account as seen now (`updated_at`), so checks skip it for a while.
pub async fn touch(db: &PgPool, account_id: i64) -> Result<()> {
    sqlx::query("UPDATE accounts SET updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1")
        .bind(account_id)
        .execute(db)
        .await?;
    Ok(())
}

/// The ids of remote accounts, of one server or all, in order.
pub async fn remote_ids(db: &PgPool, domain: Option<&str>) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM accounts WHERE domain IS NOT NULL AND ($1::text IS NULL OR lower(domain) = lower($1)) ORDER BY id",
    )
    .bind(domain)
    .fetch_all(db)
    .await?)
}

/// The ids of local accounts that sign what they send (not suspended or deleted), in order.
pub async fn local_signing_ids(db: &PgPool) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT id FROM accounts WHERE domain IS NULL AND suspended_at IS NULL AND private_key IS NOT NULL ORDER BY id",
    )
    .fetch_all(db)
    .await?)
}

/// Adds `delta` to one counter in `account_stats`, creating the row if needed.
pub async fn bump_stat(conn: &mut sqlx::PgConnection, account_id: i64, counter: Counter, delta: i64) -> Result<()> {
    let column = counter.column();
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO account_stats (account_id, {column}, created_at, updated_at)
         VALUES ($1, GREATEST($2, 0), now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT (account_id) DO UPDATE
            SET {column} = GREATEST(account_stats.{column} + $2, 0), updated_at = EXCLUDED.updated_at"
    )))
    .bind(account_id)
    .bind(delta)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, Copy)]
pub enum Counter {
    Followers,
    Following,
    Statuses,
}

impl Counter {
    fn column(self) -> &'static str {
        match self {
            Counter::Followers => "followers_count",
            Counter::Following => "following_count",
            Counter::Statuses => "statuses_count",
        }
    }
}

/// Number of pending follow requests (shown in `source.follow_requests_count`).
pub async fn follow_requests_count(db: &PgPool, account_id: i64) -> Result<i64> {
    Ok(sqlx::query_scalar("SELECT count(*) FROM follow_requests WHERE target_account_id = $1")
        .bind(account_id)
        .fetch_one(db)
        .await?)
}

/// Recounts the follows, followers and (not direct) statuses of the local accounts after
/// `after_id`, `limit` of them (tootctl's `cache recount accounts`); the last id done.
pub async fn recount_stats(db: &PgPool, after_id: i64, limit: i64) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar(
        "WITH batch AS (SELECT id FROM accounts WHERE domain IS NULL AND id > $1 ORDER BY id LIMIT $2),
              counted AS (
                SELECT b.id,
                       (SELECT count(*) FROM follows WHERE account_id = b.id) AS following,
                       (SELECT count(*) FROM follows WHERE target_account_id = b.id) AS followers,
                       (SELECT count(*) FROM statuses
                         WHERE account_id = b.id AND visibility <> 3 AND deleted_at IS NULL) AS posted
                  FROM batch b),
              written AS (
                INSERT INTO account_stats (account_id, following_count, followers_count, statuses_count,
                                           created_at, updated_at)
                SELECT id, following, followers, posted, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
                  FROM counted
                ON CONFLICT (account_id) DO UPDATE
                   SET following_count = EXCLUDED.following_count, followers_count = EXCLUDED.followers_count,
                       statuses_count = EXCLUDED.statuses_count, updated_at = EXCLUDED.updated_at)
         SELECT max(id) FROM batch",
    )
    .bind(after_id)
    .bind(limit)
    .fetch_one(db)
    .await?)
}

/// The inboxes of the remote accounts that follow or are followed by an account (shared ones
/// where a server has one): where the news of its deletion goes.
pub async fn known_inboxes(db: &PgPool, account_id: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT COALESCE(NULLIF(a.shared_inbox_url, ''), a.inbox_url) FROM accounts a
          WHERE a.domain IS NOT NULL AND a.inbox_url <> ''
            AND (a.id IN (SELECT account_id FROM follows WHERE target_account_id = $1)
                 OR a.id IN (SELECT target_account_id FROM follows WHERE account_id = $1))",
    )
    .bind(account_id)
    .fetch_all(db)
    .await?)
}

#[cfg(test)]
mod tests {
    /// Devise stores `$2a$` hashes; OpenBSD's test vector ("U*U", cost 5) must verify.
    #[test]
    fn mastodon_style_bcrypt_hashes_verify() {
        let hash = "$2a$05$CCCCCCCCCCCCCCCCCCCCC.E5YPO9kmyuRGyh0XouQYb4YMJKvyOeW";
        assert!(bcrypt::verify("U*U", hash).unwrap_or(false));
        assert!(!bcrypt::verify("U*V", hash).unwrap_or(true));
    }
}
