//! Rows of `domain_blocks`: the servers an instance blocks and how.

use chrono::NaiveDateTime;
use sqlx::{FromRow, PgPool};

use crate::core::error::{Error, Result};
use crate::core::pagination::Page;

#[derive(Debug, Clone, FromRow)]
pub struct DomainBlock {
    pub id: i64,
    pub domain: String,
    pub created_at: NaiveDateTime,
    /// Mastodon's enum: silence 0, suspend 1, noop 2.
    pub severity: Option<i32>,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: Option<String>,
    pub public_comment: Option<String>,
    pub obfuscate: bool,
}

pub const COLUMNS: &str =
    "id, domain, created_at, severity, reject_media, reject_reports, private_comment, public_comment, obfuscate";

pub async fn find(db: &PgPool, id: i64) -> Result<DomainBlock> {
    sqlx::query_as::<_, DomainBlock>(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM domain_blocks WHERE id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(Error::NotFound)
}

/// The block that applies to `domain`: its own, else that of the nearest parent domain
/// (Mastodon's `rule_for`).
pub async fn rule_for(db: impl sqlx::PgExecutor<'_>, domain: &str) -> Result<Option<DomainBlock>> {
    Ok(sqlx::query_as::<_, DomainBlock>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM domain_blocks WHERE domain = $1 OR $1 LIKE '%.' || domain
          ORDER BY char_length(domain) DESC LIMIT 1"
    )))
    .bind(domain)
    .fetch_optional(db)
    .await?)
}

/// A page of blocks, newest first.
pub async fn page(db: &PgPool, page: &Page) -> Result<Vec<DomainBlock>> {
    super::newest_first(db, &format!("SELECT {COLUMNS} FROM domain_blocks WHERE true"), page, |b: &DomainBlock| b.id)
        .await
}

/// Every block, by domain (the public list and the CLI).
pub async fn all(db: &PgPool) -> Result<Vec<DomainBlock>> {
    Ok(sqlx::query_as::<_, DomainBlock>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM domain_blocks ORDER BY domain"
    )))
    .fetch_all(db)
    .await?)
}

/// A server a limited-federation instance talks to (`domain_allows`).
#[derive(Debug, Clone, FromRow)]
pub struct DomainAllow {
    pub id: i64,
    pub domain: String,
    pub created_at: NaiveDateTime,
}

pub async fn allows_page(db: &PgPool, page: &Page) -> Result<Vec<DomainAllow>> {
    super::newest_first(db, "SELECT id, domain, created_at FROM domain_allows WHERE true", page, |a: &DomainAllow| a.id)
        .await
}

pub async fn find_allow(db: &PgPool, id: i64) -> Result<DomainAllow> {
    sqlx::query_as("SELECT id, domain, created_at FROM domain_allows WHERE id = $1")
        .bind(id)
        .fetch_optional(db)
        .await?
        .ok_or(Error::NotFound)
}

/// The allow of exactly this host (allows do not cover subdomains, as in Mastodon).
pub async fn find_allow_by_domain(db: &PgPool, domain: &str) -> Result<Option<DomainAllow>> {
    Ok(sqlx::query_as("SELECT id, domain, created_at FROM domain_allows WHERE domain = lower($1)")
        .bind(domain)
        .fetch_optional(db)
        .await?)
}
