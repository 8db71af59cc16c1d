//! Servers the admin blocks (Mastodon's `domain_blocks`). A suspended server is cut off:
//! its activities are dropped, nothing is fetched from or delivered to it, and its known
//! accounts are suspended. A silenced server's accounts are limited (`silenced_at`), as
//! are accounts met from it later. With `reject_media`, its media files are not copied
//! (clients get the remote address). Subdomains are covered by their parent's block.

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::model::domain_blocks::DomainBlock;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    Silence = 0,
    Suspend = 1,
    Noop = 2,
}

impl Severity {
    pub fn parse(value: &str) -> Option<Severity> {
        match value {
            "silence" => Some(Severity::Silence),
            "suspend" => Some(Severity::Suspend),
            "noop" => Some(Severity::Noop),
            _ => None,
        }
    }
}

/// The severity of the block covering `domain`: its own, else the nearest parent domain's
/// (Mastodon's `rule_for`).
pub async fn severity(state: &Core, domain: &str) -> Result<Option<Severity>> {
    let host = domain.split(':').next().unwrap_or(domain).to_ascii_lowercase();
    let severity: Option<i32> = sqlx::query_scalar(
        "SELECT severity FROM domain_blocks
          WHERE domain = $1 OR domain = $2 OR $2 LIKE '%.' || domain
          ORDER BY char_length(domain) DESC LIMIT 1",
    )
    .bind(domain.to_ascii_lowercase())
    .bind(&host)
    .fetch_optional(&state.db.primary)
    .await?
    .flatten();
    Ok(severity.map(|s| match s {
        1 => Severity::Suspend,
        2 => Severity::Noop,
        _ => Severity::Silence,
    }))
}

/// Whether `domain` is cut off: suspended by a block or, in limited-federation mode, not on
/// the allow list (Mastodon's `domain_not_allowed?`).
pub async fn is_suspended(state: &Core, domain: &str) -> Result<bool> {
    if state.config.limited_federation {
        return Ok(crate::model::domain_blocks::find_allow_by_domain(&state.db.primary, domain).await?.is_none());
    }
    Ok(severity(state, domain).await? == Some(Severity::Suspend))
}

/// Whether media from `domain` stay where they are (a block with `reject_media`, or a
/// suspension).
pub async fn rejects_media(state: &Core, domain: &str) -> Result<bool> {
    rejects(state, domain, "reject_media").await
}

/// Whether reports (`Flag`s) from `domain` are ignored (`reject_reports`, or a suspension).
pub async fn rejects_reports(state: &Core, domain: &str) -> Result<bool> {
    rejects(state, domain, "reject_reports").await
}

/// A block of `domain` (or a parent domain) with `flag` set, or a suspension.
async fn rejects(state: &Core, domain: &str, flag: &'static str) -> Result<bool> {
    debug_assert!(matches!(flag, "reject_media" | "reject_reports"));
    let host = domain.split(':').next().unwrap_or(domain).to_ascii_lowercase();
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT EXISTS (SELECT 1 FROM domain_blocks
                         WHERE (domain = $1 OR domain = $2 OR $2 LIKE '%.' || domain)
                           AND ({flag} OR severity = 1))"
    )))
    .bind(domain.to_ascii_lowercase())
    .bind(&host)
    .fetch_one(&state.db.primary)
    .await?)
}

/// Refuses to deal with a suspended server.
pub async fn ensure_not_suspended(state: &Core, domain: &str) -> Result<()> {
    if is_suspended(state, domain).await? {
        return Err(Error::Forbidden(format!("{domain} is blocked by this server")));
    }
    Ok(())
}

/// What an admin sets on a block of a domain.
#[derive(Debug, Clone)]
pub struct Settings {
    pub severity: Severity,
    pub reject_media: bool,
    pub reject_reports: bool,
    pub private_comment: Option<String>,
    pub public_comment: Option<String>,
    pub obfuscate: bool,
}

impl Settings {
    /// Whether these settings limit more than `other`'s (Mastodon's `stricter_than?`).
    fn stricter_than(&self, other: &DomainBlock) -> bool {
        let other_severity = other.severity.unwrap_or(0);
        if self.severity == Severity::Suspend {
            return true;
        }
        if other_severity == Severity::Suspend as i32 {
            return false;
        }
        if other_severity == Severity::Silence as i32 && self.severity == Severity::Noop {
            return false;
        }
        (self.reject_media || !other.reject_media) && (self.reject_reports || !other.reject_reports)
    }
}

/// A domain as blocks store it: lower case, without a scheme, path or port.
pub fn normalize(domain: &str) -> Result<String> {
    let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
    if domain.is_empty() || domain.contains(['/', ' ', '@']) {
        return Err(Error::validation("Domain is invalid"));
    }
    Ok(domain)
}

/// Limits the accounts known from `domain` and its subdomains as `severity` says.
async fn apply_to_accounts(tx: &mut sqlx::PgConnection, domain: &str, severity: Severity) -> Result<u64> {
    let column = match severity {
        Severity::Suspend => "suspended_at",
        Severity::Silence => "silenced_at",
        Severity::Noop => return Ok(0),
    };
    Ok(sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE accounts SET {column} = COALESCE({column}, now() AT TIME ZONE 'UTC')
          WHERE lower(split_part(domain, ':', 1)) = $1 OR lower(split_part(domain, ':', 1)) LIKE '%.' || $1
             OR lower(domain) = $1"
    )))
    .bind(domain)
    .execute(&mut *tx)
    .await?
    .rows_affected())
}

/// Lifts what a block of `domain` imposed on the accounts known from it.
async fn lift_from_accounts(tx: &mut sqlx::PgConnection, domain: &str) -> Result<()> {
    sqlx::query(
        "UPDATE accounts SET suspended_at = NULL, silenced_at = NULL
          WHERE lower(domain) = $1 OR lower(split_part(domain, ':', 1)) = $1
             OR lower(split_part(domain, ':', 1)) LIKE '%.' || $1",
    )
    .bind(domain)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// The outcome of a new block: its id, or the block of the same domain or of a parent domain
/// that already limits as much.
pub enum Created {
    Id(i64),
    AlreadyStricter(Box<DomainBlock>),
}

/// A new block, unless one already covers the domain as strictly.
pub async fn create(tx: &mut sqlx::PgConnection, domain: &str, settings: &Settings) -> Result<Created> {
    let domain = normalize(domain)?;
    if let Some(existing) = crate::model::domain_blocks::rule_for(&mut *tx, &domain).await?
        && (existing.domain == domain || !settings.stricter_than(&existing))
    {
        return Ok(Created::AlreadyStricter(Box::new(existing)));
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO domain_blocks (domain, severity, reject_media, reject_reports, private_comment, public_comment,
                                    obfuscate, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') RETURNING id",
    )
    .bind(&domain)
    .bind(settings.severity as i32)
    .bind(settings.reject_media)
    .bind(settings.reject_reports)
    .bind(&settings.private_comment)
    .bind(&settings.public_comment)
    .bind(settings.obfuscate)
    .fetch_one(&mut *tx)
    .await?;
    apply_to_accounts(tx, &domain, settings.severity).await?;
    Ok(Created::Id(id))
}

/// Changes a block; the accounts it covers are limited anew.
pub async fn update(tx: &mut sqlx::PgConnection, block: &DomainBlock, settings: &Settings) -> Result<()> {
    sqlx::query(
        "UPDATE domain_blocks SET severity = $2, reject_media = $3, reject_reports = $4, private_comment = $5,
                public_comment = $6, obfuscate = $7, updated_at = now() AT TIME ZONE 'UTC'
          WHERE id = $1",
    )
    .bind(block.id)
    .bind(settings.severity as i32)
    .bind(settings.reject_media)
    .bind(settings.reject_reports)
    .bind(&settings.private_comment)
    .bind(&settings.public_comment)
    .bind(settings.obfuscate)
    .execute(&mut *tx)
    .await?;
    lift_from_accounts(tx, &block.domain).await?;
    apply_to_accounts(tx, &block.domain, settings.severity).await?;
    Ok(())
}

/// Removes a block; the accounts it limited are restored.
pub async fn delete(tx: &mut sqlx::PgConnection, block: &DomainBlock) -> Result<()> {
    sqlx::query("DELETE FROM domain_blocks WHERE id = $1").bind(block.id).execute(&mut *tx).await?;
    lift_from_accounts(tx, &block.domain).await
}

/// Blocks (or changes the block of) a domain from the command line and applies it to the
/// accounts known from it; how many accounts it limited.
pub async fn block(state: &Core, domain: &str, severity: Severity, reject_media: bool) -> Result<u64> {
    let domain = normalize(domain)?;
    let mut tx = state.db.primary.begin().await?;
    sqlx::query(
        "INSERT INTO domain_blocks (domain, severity, reject_media, created_at, updated_at)
         VALUES ($1, $2, $3, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT (domain) DO UPDATE SET severity = EXCLUDED.severity, reject_media = EXCLUDED.reject_media,
                                            updated_at = EXCLUDED.updated_at",
    )
    .bind(&domain)
    .bind(severity as i32)
    .bind(reject_media)
    .execute(&mut *tx)
    .await?;
    let affected = apply_to_accounts(&mut tx, &domain, severity).await?;
    tx.commit().await?;
    Ok(affected)
}

/// Lifts a block from the command line; accounts it suspended or silenced are restored.
pub async fn unblock(state: &Core, domain: &str) -> Result<bool> {
    let domain = domain.trim().to_ascii_lowercase();
    let mut tx = state.db.primary.begin().await?;
    let removed = sqlx::query("DELETE FROM domain_blocks WHERE domain = $1").bind(&domain).execute(&mut *tx).await?;
    if removed.rows_affected() > 0 {
        lift_from_accounts(&mut tx, &domain).await?;
    }
    tx.commit().await?;
    Ok(removed.rows_affected() > 0)
}

/// `(domain, severity, reject_media)` of every block.
pub async fn list(state: &Core) -> Result<Vec<(String, i32, bool)>> {
    Ok(sqlx::query_as("SELECT domain, COALESCE(severity, 0), reject_media FROM domain_blocks ORDER BY domain")
        .fetch_all(&state.db.primary)
        .await?)
}
