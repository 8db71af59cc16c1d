//! Taking over a Mastodon instance: `ferrodon ctl adopt check` reports what would be kept and
//! lost, reading its database, Redis and environment without writing anything;
//! `ferrodon ctl adopt jobs` moves the Sidekiq jobs Mastodon left into ferrodon's queues.

use redis::AsyncCommands;
use sqlx::{AssertSqlSafe, PgPool};

use serde_json::{Value, json};

use crate::core::config::Config;
use crate::core::error::{Error, Result};
use crate::core::queue::{self, NewJob};
use crate::core::redis::Redis;
use crate::core::schema::{self, Found};
use crate::effects::{federation, feeds};

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
    if !jobs.is_empty() {
        println!(
            "  (`ferrodon ctl adopt jobs` moves deliveries, fan-out, feed regeneration and merges into ferrodon's queues)"
        );
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

/// What a Sidekiq job of Mastodon's becomes in ferrodon, for the kinds ferrodon runs too:
/// deliveries, federation and feed fan-out of statuses, feed regeneration and merges.
fn converted(payload: &Value) -> Option<NewJob> {
    let args = payload["args"].as_array()?;
    let id = |i: usize| args.get(i).and_then(|v| v.as_i64().or_else(|| v.as_str()?.parse().ok()));
    let updated = |i: usize| args.get(i).is_some_and(|o| o["update"] == json!(true));
    let job = match payload["class"].as_str()? {
        "ActivityPub::DeliveryWorker" => NewJob::of(&federation::Job::Deliver {
            activity: serde_json::from_str(args.first()?.as_str()?).ok()?,
            account_id: id(1)?,
            inbox: args.get(2)?.as_str()?.to_string(),
        }),
        "ActivityPub::DistributionWorker" => {
            NewJob::of(&federation::Job::PublishStatus { status_id: id(0)?, update: false })
        }
        "ActivityPub::StatusUpdateDistributionWorker" => {
            NewJob::of(&federation::Job::PublishStatus { status_id: id(0)?, update: true })
        }
        "DistributionWorker" => NewJob::of(&feeds::Job::Distribute { status_id: id(0)?, update: updated(1) }),
        "RegenerationWorker" => NewJob::of(&feeds::Job::RegenerateHome { account_id: id(0)? }),
        "MergeWorker" => NewJob::of(&feeds::Job::MergeIntoHome { from_account_id: id(0)?, into_account_id: id(1)? }),
        "UnmergeWorker" => {
            NewJob::of(&feeds::Job::UnmergeFromHome { from_account_id: id(0)?, into_account_id: id(1)? })
        }
        _ => return None,
    };
    job.ok()
}

/// Moves every Sidekiq job ferrodon knows from Redis into its own queues (each job inserted
/// before it is taken out of Redis), keeping scheduled ones for their time; lists the rest,
/// which stay where they are. Returns how many moved and how many stayed.
pub async fn import_jobs(config: &Config) -> Result<(usize, usize)> {
    let pool =
        PgPool::connect_with(crate::core::db::connect_options(&config.database_url, config.prepared_statements)?)
            .await?;
    let redis = Redis::connect(&config.redis_url, &config.redis_key_prefix)?;
    let mut conn = redis.conn().await?;
    let now = crate::core::time::now().and_utc().timestamp();
    let (mut moved, mut stayed) = (0, Vec::new());
    let queues: Vec<String> = conn.smembers(redis.key("queues")).await?;
    let mut places: Vec<(String, bool)> = queues.into_iter().map(|q| (format!("queue:{q}"), false)).collect();
    places.extend(["schedule", "retry"].map(|set| (set.to_string(), true)));
    for (place, scored) in places {
        let key = redis.key(&place);
        let entries: Vec<(String, f64)> = if scored {
            conn.zrange_withscores(&key, 0, -1).await?
        } else {
            let jobs: Vec<String> = conn.lrange(&key, 0, -1).await?;
            jobs.into_iter().map(|job| (job, 0.0)).collect()
        };
        for (raw, at) in entries {
            let payload: Value = serde_json::from_str(&raw).unwrap_or(Value::Null);
            let Some(job) = converted(&payload) else {
                stayed.push(raw);
                continue;
            };
            // A retry waits as Sidekiq would have had it wait; anything else runs now.
            let delay = if scored { (at as i64 - now).max(0) } else { 0 };
            queue::insert(&pool, &job.delayed(delay)).await?;
            let _: i64 = if scored { conn.zrem(&key, &raw).await? } else { conn.lrem(&key, 1, &raw).await? };
            moved += 1;
        }
    }
    pool.close().await;
    if !stayed.is_empty() {
        println!("left in Redis (not a kind ferrodon runs): {}", job_classes(&stayed));
    }
    Ok((moved, stayed.len()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn job_classes_are_counted_most_frequent_first() {
        let jobs = [r#"{"class":"B"}"#, r#"{"class":"A"}"#, r#"{"class":"B"}"#, "not json"].map(String::from);
        assert_eq!(job_classes(&jobs), "B ×2, A ×1, unreadable ×1");
    }

    #[test]
    fn sidekiq_jobs_become_ferrodon_jobs_of_the_same_kind() {
        let delivery = json!({"class": "ActivityPub::DeliveryWorker", "args": ["{\"type\":\"Like\"}", 7, "https://a.example/inbox"]});
        let job = converted(&delivery).unwrap();
        assert_eq!((job.queue, job.kind), ("push", "Federation"));
        assert_eq!(job.payload["inbox"], "https://a.example/inbox");
        assert_eq!(job.payload["activity"]["type"], "Like");
        let fanout = json!({"class": "DistributionWorker", "args": [110, {"update": true}]});
        assert_eq!(
            converted(&fanout).unwrap().payload,
            json!({"type": "Distribute", "status_id": 110, "update": true})
        );
        assert!(converted(&json!({"class": "LocalNotificationWorker", "args": [1, 2, "Mention"]})).is_none());
        assert!(converted(&json!({"class": "ActivityPub::DeliveryWorker", "args": ["not json", 7, "x"]})).is_none());
    }
}
