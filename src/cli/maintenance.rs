//! `ferrodon ctl cache|domains purge|media lookup|statuses remove|version`, as tootctl's.

use clap::Subcommand;

use super::{progress, progress_count};
use crate::AppState;
use crate::core::error::{Error, Result};
use crate::model::{accounts, statuses};

#[derive(Subcommand)]
pub enum CacheCommand {
    /// Delete Mastodon's Rails cache (`cache:*` in Redis): do it at each switch between
    /// Mastodon and ferrodon, so that neither reads what the other cached.
    Clear,
    /// Recount the counters of local accounts (follows, followers, statuses) or of statuses
    /// (replies, reblogs, favourites) from the rows.
    Recount {
        #[arg(value_parser = ["accounts", "statuses"])]
        kind: String,
    },
}

#[derive(Subcommand)]
pub enum StatusesCommand {
    /// Delete remote statuses older than --days that nothing local refers to (no local reply,
    /// boost, pin, mention, favourite or bookmark; by default none of accounts someone here
    /// follows), then attachments never attached to a status.
    Remove {
        #[arg(long, default_value_t = 90)]
        days: i64,
        #[arg(long, short = 'b', default_value_t = 1000)]
        batch_size: i64,
        /// Also statuses of remote accounts that local accounts follow.
        #[arg(long)]
        clean_followed: bool,
        /// Only the clean-up of attachments.
        #[arg(long)]
        skip_status_remove: bool,
        /// Leave unattached attachments.
        #[arg(long)]
        skip_media_remove: bool,
        #[arg(long)]
        dry_run: bool,
    },
}

pub async fn statuses(state: &AppState, command: StatusesCommand) -> Result<()> {
    let StatusesCommand::Remove { days, batch_size, clean_followed, skip_status_remove, skip_media_remove, dry_run } =
        command;
    if batch_size < 1 {
        return Err(Error::bad_request("Cannot run with this batch_size setting, must be at least 1"));
    }
    if days < 1 {
        return Err(Error::bad_request("--days must be at least 1"));
    }
    let db = &state.db.primary;
    let marker = if dry_run { " (DRY RUN)" } else { "" };
    if !skip_status_remove {
        let (mut after, mut found, mut removed) = (0, 0, 0);
        loop {
            let ids = statuses::unreferenced_remote(db, days, clean_followed, after, batch_size).await?;
            let Some(&last) = ids.last() else { break };
            after = last;
            found += ids.len();
            if !dry_run {
                removed += statuses::delete_rows(db, &ids).await?;
            }
            progress_count("statuses found", found);
        }
        println!("\rOK, removed {removed} out of {found} statuses{marker}");
    }
    if !skip_media_remove {
        // As tootctl: attachments left unattached for a day less than the statuses' age.
        let older_than = days - 1;
        let mut removed = 0;
        loop {
            let batch = crate::effects::media::remove_unattached(state, older_than, batch_size, dry_run).await?;
            removed += batch;
            if dry_run || batch == 0 {
                break;
            }
            progress_count("media attachments removed", removed);
        }
        println!("\rOK, removed {removed} unattached media attachments{marker}");
    }
    Ok(())
}

/// Rows recounted per statement.
const RECOUNT_BATCH: i64 = 1000;

pub async fn cache(state: &AppState, command: CacheCommand) -> Result<()> {
    match command {
        CacheCommand::Clear => {
            // Rails keeps its cache under `cache:`, or `<namespace>_cache:` with REDIS_NAMESPACE.
            let pattern = match state.redis.prefix().strip_suffix(':') {
                Some(namespace) if !namespace.is_empty() => format!("{namespace}_cache:*"),
                _ => "cache:*".to_string(),
            };
            let deleted = state.redis.delete_matching(&pattern).await?;
            println!("OK, removed {deleted} cache keys");
        }
        CacheCommand::Recount { kind } => {
            let db = &state.db.primary;
            let table = if kind == "accounts" { "accounts WHERE domain IS NULL" } else { "statuses WHERE true" };
            let total: i64 =
                sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}"))).fetch_one(db).await?;
            let (mut after, mut done) = (0, 0);
            loop {
                let last = if kind == "accounts" {
                    accounts::recount_stats(db, after, RECOUNT_BATCH).await?
                } else {
                    statuses::recount_stats(db, after, RECOUNT_BATCH).await?
                };
                let Some(last) = last else { break };
                after = last;
                done = (done + RECOUNT_BATCH).min(total);
                progress(&kind, done as usize, total as usize);
            }
            println!("\nOK, recounted {kind}");
        }
    }
    Ok(())
}

/// `domains purge DOMAIN… [--include-subdomains]`, or every server off the allow list with
/// `--limited-federation-mode`: their accounts and everything of theirs go.
pub async fn purge_domains(
    state: &AppState,
    domains: &[String],
    include_subdomains: bool,
    limited_federation_mode: bool,
    dry_run: bool,
) -> Result<()> {
    if domains.is_empty() && !limited_federation_mode {
        return Err(Error::bad_request("give the domains to purge, or --limited-federation-mode"));
    }
    let lowered: Vec<String> = domains.iter().map(|d| d.trim().to_ascii_lowercase()).collect();
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM accounts a
          WHERE a.domain IS NOT NULL
            AND (lower(a.domain) = ANY($1)
                 OR ($2 AND EXISTS (SELECT 1 FROM unnest($1) AS d(name) WHERE lower(a.domain) LIKE '%.' || d.name))
                 OR ($3 AND NOT EXISTS (SELECT 1 FROM domain_allows al WHERE al.domain = lower(a.domain))))
          ORDER BY id",
    )
    .bind(&lowered)
    .bind(include_subdomains)
    .bind(limited_federation_mode)
    .fetch_all(&state.db.primary)
    .await?;
    for (i, id) in ids.iter().enumerate() {
        if !dry_run {
            crate::domain::moves::purge(state, *id).await?;
        }
        progress("accounts", i + 1, ids.len());
    }
    println!("\nOK, removed {} accounts{}", ids.len(), if dry_run { " (dry run)" } else { "" });
    Ok(())
}

/// The attachment id in a media URL (`…/media_attachments/files/117/540/…/original/x.png`).
fn attachment_id(url: &str) -> Option<i64> {
    let after = url.split_once("media_attachments/files/")?.1;
    let digits: String = after.split('/').take_while(|p| p.chars().all(|c| c.is_ascii_digit())).collect();
    digits.parse().ok()
}

/// Where a media file is attached: the status (if any), its URL, its author's name and domain.
type Attached = (Option<i64>, Option<String>, Option<String>, Option<String>);

/// `media lookup URL`: the status a media file belongs to.
pub async fn media_lookup(state: &AppState, url: &str) -> Result<()> {
    let id = attachment_id(url).ok_or_else(|| Error::bad_request("not a media attachment URL"))?;
    let found: Option<Attached> = sqlx::query_as(
        "SELECT s.id, s.url, a.username, a.domain FROM media_attachments m
           LEFT JOIN statuses s ON s.id = m.status_id LEFT JOIN accounts a ON a.id = s.account_id
          WHERE m.id = $1",
    )
    .bind(id)
    .fetch_optional(&state.db.primary)
    .await?;
    match found {
        None => Err(Error::bad_request(format!("no media attachment {id}"))),
        Some((None, ..)) => {
            println!("media attachment {id} is not attached to a status");
            Ok(())
        }
        Some((Some(status), url, username, domain)) => {
            let url = match (url, domain) {
                (Some(url), Some(_)) if !url.is_empty() => url,
                _ => format!("{}/@{}/{status}", state.config.base_url(), username.unwrap_or_default()),
            };
            println!("{url}");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attachment_ids_come_from_paperclip_paths() {
        let url = "https://x.example/system/media_attachments/files/117/540/606/443/519/000/original/a.png";
        assert_eq!(attachment_id(url), Some(117_540_606_443_519_000));
        assert_eq!(
            attachment_id("https://x.example/system/cache/media_attachments/files/000/000/012/small/b.jpg"),
            Some(12)
        );
        assert_eq!(attachment_id("https://x.example/avatars/original/missing.png"), None);
    }
}
