//! `ferrodon ctl adopt check`: what taking over a Mastodon instance keeps and what it would
//! lose, read off its database, Redis and environment without writing anything.

use redis::AsyncCommands;
use sqlx::{AssertSqlSafe, PgPool};

use crate::core::config::Config;
use crate::core::error::{Error, Result};
use crate::core::redis::Redis;
use crate::core::schema::{self, Found};

/// What Mastodon keeps that ferrodon does not use yet: the rows stay in the database (nothing
/// is dropped) but have no effect while ferrodon runs. Table, what the rows are, rows that
/// count (SQL condition) and what that means for the instance.
const NOT_IN_EFFECT: &[(&str, &str, &str, &str)] = &[
    ("webauthn_credentials", "security keys (WebAuthn)", "true", "their owners sign in with a TOTP or backup code"),
    ("web_push_subscriptions", "Web Push subscriptions", "true", "phones get no push notifications"),
    ("custom_emojis", "custom emoji", "NOT disabled", "not listed and not shown in posts"),
    ("custom_filters", "filters", "expires_at IS NULL OR expires_at > now()", "not applied to timelines"),
    ("scheduled_statuses", "scheduled posts", "true", "not published at their time"),
    ("account_pins", "endorsed accounts", "true", "not shown on profiles"),
    ("featured_tags", "featured hashtags", "true", "not shown on profiles"),
    ("account_notes", "private notes on accounts", "true", "not shown"),
    ("account_conversations", "direct-message conversations", "true", "the conversations list starts empty"),
    ("announcements", "announcements", "published", "not shown"),
    ("account_statuses_cleanup_policies", "automatic post deletion", "enabled", "old posts are not deleted"),
    ("relays", "relays", "state = 2", "nothing is relayed"),
    ("preview_cards", "link previews", "true", "posts show no previews"),
    ("users", "staff roles", "role_id IS NOT NULL", "moderators and admins have no admin tools yet"),
    ("reports", "open reports", "action_taken_at IS NULL", "no moderation interface to handle them"),
    ("webhooks", "webhooks", "enabled", "not called"),
    ("keypairs", "key pairs in keypairs (Mastodon 4.6+)", "true", "not used for signing"),
];

/// The counts of rows that ferrodon serves as Mastodon did.
const KEPT: &[(&str, &str)] = &[
    ("local accounts", "SELECT count(*) FROM accounts WHERE domain IS NULL"),
    ("remote accounts", "SELECT count(*) FROM accounts WHERE domain IS NOT NULL"),
    ("users", "SELECT count(*) FROM users"),
    ("statuses", "SELECT count(*) FROM statuses WHERE deleted_at IS NULL"),
    ("follows", "SELECT count(*) FROM follows"),
    ("media attachments", "SELECT count(*) FROM media_attachments"),
    ("notifications", "SELECT count(*) FROM notifications"),
    ("live access tokens", "SELECT count(*) FROM oauth_access_tokens WHERE revoked_at IS NULL"),
    ("domain blocks", "SELECT count(*) FROM domain_blocks"),
];

/// The variables of `.env.production` that adoption depends on.
const ENVIRONMENT: &[(&str, &str)] = &[
    ("SECRET_KEY_BASE", "signs sessions; Mastodon needs it to run again"),
    ("ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY", "decrypts two-factor secrets"),
    ("ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT", "decrypts two-factor secrets"),
    ("ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY", "unused by ferrodon; Mastodon needs it to run again"),
];

/// Prints the report; an error (non-zero exit) when adoption would lose something.
pub async fn check(config: &Config, env: impl Fn(&str) -> bool) -> Result<()> {
    let pool =
        PgPool::connect_with(crate::core::db::connect_options(&config.database_url, config.prepared_statements)?)
            .await?;
    let mut losses = Vec::new();

    let found = schema::inspect(&pool).await?;
    match &found {
        Found::Ferrodon => println!("Database: not a Mastodon database (empty, or made by ferrodon)"),
        Found::Mastodon(mastodon) => {
            let release = mastodon.release.unwrap_or("unknown");
            println!("Database: Mastodon {release} (schema version {})", mastodon.version_text());
            if let Some(refusal) = &mastodon.refusal {
                println!("  db migrate refuses it: {refusal}");
                losses.push("the database cannot be adopted".to_string());
            }
        }
    }
    let pending = schema::pending_additions(&pool).await?;
    if pending.is_empty() {
        println!("db migrate would add: nothing (already adopted)");
    } else {
        println!("db migrate would add ferrodon's own tables and indexes: {}", pending.join(", "));
    }
    if !matches!(found, Found::Mastodon(_)) {
        pool.close().await;
        return Ok(());
    }

    println!("\nKept and served:");
    for (label, sql) in KEPT {
        let count: i64 = sqlx::query_scalar(AssertSqlSafe(*sql)).fetch_one(&pool).await?;
        println!("  {label:<28} {count}");
    }

    println!("\nEnvironment:");
    for (name, purpose) in ENVIRONMENT {
        let state = if env(name) { "set" } else { "missing" };
        println!("  {name:<46} {state:<8} ({purpose})");
    }
    let (two_factor, readable) = two_factor_secrets(&pool, config).await?;
    println!("  two-factor secrets readable with these keys: {readable} of {two_factor}");
    if readable < two_factor {
        losses.push(format!("{} two-factor users could not sign in", two_factor - readable));
    }
    if env("ES_ENABLED") {
        println!(
            "  ES_ENABLED is set: ferrodon does not read Elasticsearch; `ferrodon ctl search deploy` indexes anew"
        );
    }

    println!("\nKept in the database but not in effect under ferrodon yet:");
    let mut none = true;
    for (table, label, condition, effect) in NOT_IN_EFFECT {
        let count = count_where(&pool, table, condition).await?;
        if count > 0 {
            none = false;
            println!("  {label:<46} {count:>6}  {effect}");
            losses.push(format!("{count} {label}"));
        }
    }
    if none {
        println!("  nothing");
    }

    println!("\nSidekiq jobs Mastodon left in Redis:");
    let jobs = sidekiq_jobs(config).await?;
    if jobs.is_empty() {
        println!("  none");
    }
    for (place, count, classes) in &jobs {
        println!("  {place:<20} {count:>6}  {classes}");
        losses.push(format!("{count} jobs in {place}"));
    }
    pool.close().await;

    if losses.is_empty() {
        println!("\nNothing would be lost: run `ferrodon db migrate`, then start ferrodon's processes.");
        Ok(())
    } else {
        Err(Error::bad_request(format!("adoption would lose: {}", losses.join("; "))))
    }
}

/// Rows of `table` meeting `condition`; 0 when the table (or its column) does not exist in
/// this release.
async fn count_where(pool: &PgPool, table: &str, condition: &str) -> Result<i64> {
    let exists: bool = sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL")
        .bind(format!("public.{table}"))
        .fetch_one(pool)
        .await?;
    if !exists {
        return Ok(0);
    }
    let sql = format!("SELECT count(*) FROM {table} WHERE {condition}");
    match sqlx::query_scalar::<_, i64>(AssertSqlSafe(sql)).fetch_one(pool).await {
        Ok(count) => Ok(count),
        Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("42703") => Ok(0),
        Err(e) => Err(e.into()),
    }
}

/// Users with two-factor sign-in, and how many of their secrets the configured keys decrypt.
async fn two_factor_secrets(pool: &PgPool, config: &Config) -> Result<(usize, usize)> {
    let secrets: Vec<Option<String>> =
        sqlx::query_scalar("SELECT otp_secret FROM users WHERE otp_required_for_login").fetch_all(pool).await?;
    let readable = secrets
        .iter()
        .filter(|stored| match (&config.record_encryption, stored) {
            (Some(keys), Some(stored)) => keys.decrypt(stored).is_some(),
            _ => false,
        })
        .count();
    Ok((secrets.len(), readable))
}

/// Sidekiq's queues (`queue:<name>` lists named in the `queues` set) and its `schedule`,
/// `retry` and `dead` sets: where, how many, and the job classes with their counts.
async fn sidekiq_jobs(config: &Config) -> Result<Vec<(String, usize, String)>> {
    let redis = Redis::connect(&config.redis_url, &config.redis_key_prefix)?;
    let mut conn = redis.conn().await?;
    let mut queues: Vec<String> = conn.smembers(redis.key("queues")).await?;
    queues.sort();
    let mut places: Vec<(String, Vec<String>)> = Vec::new();
    for queue in queues {
        let place = format!("queue:{queue}");
        let jobs: Vec<String> = conn.lrange(redis.key(&place), 0, -1).await?;
        places.push((place, jobs));
    }
    for set in ["schedule", "retry", "dead"] {
        let jobs: Vec<String> = conn.zrange(redis.key(set), 0, -1).await?;
        places.push((set.to_string(), jobs));
    }
    Ok(places
        .into_iter()
        .filter(|(_, jobs)| !jobs.is_empty())
        .map(|(place, jobs)| {
            let count = jobs.len();
            (place, count, job_classes(&jobs))
        })
        .collect())
}

/// `ActivityPub::DeliveryWorker ×2, …`: the classes of Sidekiq job payloads, most frequent first.
fn job_classes(jobs: &[String]) -> String {
    let mut counts: std::collections::BTreeMap<String, usize> = std::collections::BTreeMap::new();
    for job in jobs {
        let class = serde_json::from_str::<serde_json::Value>(job)
            .ok()
            .and_then(|v| v["class"].as_str().map(str::to_string))
            .unwrap_or_else(|| "unreadable".into());
        *counts.entry(class).or_default() += 1;
    }
    let mut counts: Vec<(String, usize)> = counts.into_iter().collect();
    counts.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    counts.iter().map(|(class, n)| format!("{class} ×{n}")).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn job_classes_are_counted_most_frequent_first() {
        let jobs = [r#"{"class":"B"}"#, r#"{"class":"A"}"#, r#"{"class":"B"}"#, "not json"].map(String::from);
        assert_eq!(job_classes(&jobs), "B ×2, A ×1, unreadable ×1");
    }
}
