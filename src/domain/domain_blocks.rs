//! Servers the admin blocks (Mastodon's `domain_blocks`). A suspended server is cut off:
//! its activities are dropped, nothing is fetched from or delivered to it, and its known
//! accounts are suspended. A silenced server's accounts are limited (`silenced_at`), as
//! are accounts met from it later. With `reject_media`, its media files are not copied
//! (clients get the remote address). Subdomains are covered by their parent's block.

use crate::core::Core;
use crate::core::error::{Error, Result};

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

/// The severity of the block covering `domain` (or a parent domain), if any.
pub async fn severity(state: &Core, domain: &str) -> Result<Option<Severity>> {
    let host = domain.split(':').next().unwrap_or(domain).to_ascii_lowercase();
    let severity: Option<i32> = sqlx::query_scalar(
        "SELECT severity FROM domain_blocks
          WHERE domain = $1 OR domain = $2 OR $2 LIKE '%.' || domain
          ORDER BY severity DESC LIMIT 1",
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

pub async fn is_suspended(state: &Core, domain: &str) -> Result<bool> {
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

/// Blocks (or changes the block of) a domain and applies it to the accounts known from it.
pub async fn block(state: &Core, domain: &str, severity: Severity, reject_media: bool) -> Result<u64> {
    let domain = domain.trim().to_ascii_lowercase();
    if domain.is_empty() || domain.contains('/') {
        return Err(Error::validation("Domain is invalid"));
    }
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
    let column = match severity {
        Severity::Suspend => "suspended_at",
        Severity::Silence => "silenced_at",
        Severity::Noop => {
            tx.commit().await?;
            return Ok(0);
        }
    };
    let affected = sqlx::query(sqlx::AssertSqlSafe(format!(
        "UPDATE accounts SET {column} = COALESCE({column}, now() AT TIME ZONE 'UTC')
          WHERE lower(split_part(domain, ':', 1)) = $1 OR lower(split_part(domain, ':', 1)) LIKE '%.' || $1
             OR lower(domain) = $1"
    )))
    .bind(&domain)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(affected)
}

/// Lifts a block; accounts it suspended or silenced are restored.
pub async fn unblock(state: &Core, domain: &str) -> Result<bool> {
    let domain = domain.trim().to_ascii_lowercase();
    let mut tx = state.db.primary.begin().await?;
    let removed = sqlx::query("DELETE FROM domain_blocks WHERE domain = $1").bind(&domain).execute(&mut *tx).await?;
    if removed.rows_affected() > 0 {
        sqlx::query(
            "UPDATE accounts SET suspended_at = NULL, silenced_at = NULL
              WHERE lower(domain) = $1 OR lower(split_part(domain, ':', 1)) = $1
                 OR lower(split_part(domain, ':', 1)) LIKE '%.' || $1",
        )
        .bind(&domain)
        .execute(&mut *tx)
        .await?;
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
