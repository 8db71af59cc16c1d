//! What sign-ups are checked against: Mastodon's `email_domain_blocks`, `ip_blocks` and
//! `canonical_email_blocks`.

use chrono::NaiveDateTime;
use sqlx::{FromRow, PgPool};

use crate::core::error::{Error, Result};
use crate::core::pagination::Page;

/// `ip_blocks.severity`: sign-ups from the range wait for approval.
pub const SIGN_UP_REQUIRES_APPROVAL: i32 = 5000;
/// Sign-ups from the range are refused.
pub const SIGN_UP_BLOCK: i32 = 5500;
/// Every request from the range is refused.
pub const NO_ACCESS: i32 = 9999;

#[derive(Debug, Clone, FromRow)]
pub struct EmailDomainBlock {
    pub id: i64,
    pub domain: String,
    pub created_at: NaiveDateTime,
    pub allow_with_approval: bool,
}

#[derive(Debug, Clone, FromRow)]
pub struct IpBlock {
    pub id: i64,
    /// `addr/prefix`, as Mastodon shows it.
    pub ip: String,
    pub severity: i32,
    pub comment: String,
    pub created_at: NaiveDateTime,
    pub expires_at: Option<NaiveDateTime>,
}

/// The domain and each of its parents (`mail.example.com`, `example.com`, `com`).
fn domain_and_parents(domain: &str) -> Vec<String> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    let labels: Vec<&str> = domain.split('.').collect();
    (0..labels.len()).map(|i| labels[i..].join(".")).collect()
}

/// The block covering an address's domain (or a parent domain), if any: whether it lets the
/// sign-up wait for approval instead of refusing it.
pub async fn email_domain_rule(db: &PgPool, domain: &str) -> Result<Option<bool>> {
    Ok(sqlx::query_scalar(
        "SELECT allow_with_approval FROM email_domain_blocks WHERE domain = ANY($1)
          ORDER BY char_length(domain) DESC LIMIT 1",
    )
    .bind(domain_and_parents(domain))
    .fetch_optional(db)
    .await?)
}

/// The ranges refused every request (`no_access` blocks), read again at most every ten
/// seconds: a change reaches every web process within that.
#[derive(Debug, Default)]
pub struct NoAccessRanges {
    cached: tokio::sync::RwLock<Option<(std::time::Instant, Vec<Network>)>>,
}

/// An address and its prefix length.
type Network = (std::net::IpAddr, u8);

const NO_ACCESS_REFRESH: std::time::Duration = std::time::Duration::from_secs(10);

impl NoAccessRanges {
    pub async fn contains(&self, db: &PgPool, ip: std::net::IpAddr) -> Result<bool> {
        if let Some((read_at, ranges)) = self.cached.read().await.as_ref()
            && read_at.elapsed() < NO_ACCESS_REFRESH
        {
            return Ok(in_any(ranges, ip));
        }
        let rows: Vec<(String, i32)> =
            sqlx::query_as("SELECT host(ip), masklen(ip) FROM ip_blocks WHERE severity = $1")
                .bind(NO_ACCESS)
                .fetch_all(db)
                .await?;
        let ranges: Vec<Network> =
            rows.iter().filter_map(|(host, bits)| Some((host.parse().ok()?, u8::try_from(*bits).ok()?))).collect();
        let blocked = in_any(&ranges, ip);
        *self.cached.write().await = Some((std::time::Instant::now(), ranges));
        Ok(blocked)
    }

    /// Reads the blocks again at the next request (this process changed them).
    pub async fn forget(&self) {
        *self.cached.write().await = None;
    }
}

fn in_any(ranges: &[Network], ip: std::net::IpAddr) -> bool {
    ranges.iter().any(|r| crate::core::config::in_network(ip, *r))
}

/// The strictest IP block containing `ip` (expired ones count until they are cleaned up,
/// as in Mastodon).
pub async fn ip_severity(db: &PgPool, ip: &str) -> Result<Option<i32>> {
    Ok(sqlx::query_scalar("SELECT max(severity) FROM ip_blocks WHERE $1::inet <<= ip").bind(ip).fetch_one(db).await?)
}

/// Mastodon's canonical e-mail hash: the address in lower case with every `.` of the local
/// part removed and anything from a `+` on dropped, SHA-256 in hex.
pub fn canonical_email_hash(email: &str) -> String {
    use sha2::Digest;
    let email = email.trim().to_lowercase();
    let (local, domain) = email.split_once('@').unwrap_or((&email, ""));
    let local = local.split('+').next().unwrap_or("").replace('.', "");
    hex::encode(sha2::Sha256::digest(format!("{local}@{domain}").as_bytes()))
}

pub async fn canonical_email_blocked(db: &PgPool, email: &str) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM canonical_email_blocks WHERE canonical_email_hash = $1)")
        .bind(canonical_email_hash(email))
        .fetch_one(db)
        .await?)
}

#[derive(Debug, Clone, FromRow)]
pub struct CanonicalEmailBlock {
    pub id: i64,
    pub canonical_email_hash: String,
}

pub async fn canonical_email_blocks(db: &PgPool, page: &Page) -> Result<Vec<CanonicalEmailBlock>> {
    super::newest_first(
        db,
        "SELECT id, canonical_email_hash FROM canonical_email_blocks WHERE true",
        page,
        |b: &CanonicalEmailBlock| b.id,
    )
    .await
}

pub async fn canonical_email_block(db: &PgPool, id: i64) -> Result<CanonicalEmailBlock> {
    sqlx::query_as::<_, CanonicalEmailBlock>(
        "SELECT id, canonical_email_hash FROM canonical_email_blocks WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound)
}

/// The blocks an address matches (`test`).
pub async fn canonical_email_blocks_matching(db: &PgPool, email: &str) -> Result<Vec<CanonicalEmailBlock>> {
    Ok(sqlx::query_as::<_, CanonicalEmailBlock>(
        "SELECT id, canonical_email_hash FROM canonical_email_blocks WHERE canonical_email_hash = $1",
    )
    .bind(canonical_email_hash(email))
    .fetch_all(db)
    .await?)
}

const EMAIL_COLUMNS: &str = "id, domain, created_at, allow_with_approval";
const IP_COLUMNS: &str = "id, host(ip) || '/' || masklen(ip) AS ip, severity, comment, created_at, expires_at";

pub async fn email_domain_blocks(db: &PgPool, page: &Page) -> Result<Vec<EmailDomainBlock>> {
    let select = format!("SELECT {EMAIL_COLUMNS} FROM email_domain_blocks WHERE true");
    super::newest_first(db, &select, page, |b: &EmailDomainBlock| b.id).await
}

pub async fn email_domain_block(db: &PgPool, id: i64) -> Result<EmailDomainBlock> {
    sqlx::query_as::<_, EmailDomainBlock>(sqlx::AssertSqlSafe(format!(
        "SELECT {EMAIL_COLUMNS} FROM email_domain_blocks WHERE id = $1"
    )))
    .bind(id)
    .fetch_optional(db)
    .await?
    .ok_or(Error::NotFound)
}

pub async fn email_domain_block_id(db: &PgPool, domain: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT id FROM email_domain_blocks WHERE domain = lower($1)")
        .bind(domain.trim())
        .fetch_optional(db)
        .await?)
}

pub async fn all_email_domain_blocks(db: &PgPool) -> Result<Vec<EmailDomainBlock>> {
    Ok(sqlx::query_as::<_, EmailDomainBlock>(sqlx::AssertSqlSafe(format!(
        "SELECT {EMAIL_COLUMNS} FROM email_domain_blocks ORDER BY domain"
    )))
    .fetch_all(db)
    .await?)
}

/// The block of exactly this range (an address alone is its /32 or /128).
pub async fn ip_block_id(db: &PgPool, ip: &str) -> Result<Option<i64>> {
    let Ok(_) = ip.split('/').next().unwrap_or("").parse::<std::net::IpAddr>() else { return Ok(None) };
    Ok(sqlx::query_scalar("SELECT id FROM ip_blocks WHERE ip = network($1::inet)").bind(ip).fetch_optional(db).await?)
}

pub async fn all_ip_blocks(db: &PgPool) -> Result<Vec<IpBlock>> {
    Ok(sqlx::query_as::<_, IpBlock>(sqlx::AssertSqlSafe(format!("SELECT {IP_COLUMNS} FROM ip_blocks ORDER BY id")))
        .fetch_all(db)
        .await?)
}

pub async fn ip_blocks(db: &PgPool, page: &Page) -> Result<Vec<IpBlock>> {
    super::newest_first(db, &format!("SELECT {IP_COLUMNS} FROM ip_blocks WHERE true"), page, |b: &IpBlock| b.id).await
}

pub async fn ip_block(db: &PgPool, id: i64) -> Result<IpBlock> {
    sqlx::query_as::<_, IpBlock>(sqlx::AssertSqlSafe(format!("SELECT {IP_COLUMNS} FROM ip_blocks WHERE id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(Error::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_hashes_are_mastodons() {
        assert_eq!(
            canonical_email_hash("Foo.Bar+tag@Example.COM"),
            "3bc3ca01dd1d501ca1c22e1c5d7d16feac90b8a3178fb17c710510d8a85e21bf"
        );
        assert_eq!(domain_and_parents("Mail.Example.com"), ["mail.example.com", "example.com", "com"]);
    }
}
