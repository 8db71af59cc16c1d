//! The `ferrodon` command: the web process, database setup, and tootctl-like admin
//! commands under `ferrodon ctl`.

pub mod account_commands;
pub mod adopt;
pub mod block_commands;
pub mod maintenance;
pub mod media;

use std::io::Write;

use clap::{Parser, Subcommand};

use crate::AppState;
use crate::core::config::Config;
use crate::core::db;
use crate::core::error::{Error, Result};
use crate::effects::feeds;
use crate::model::accounts;
use crate::model::settings::RegistrationsMode;

pub const DEMO_PASSWORD: &str = "ferrodon-demo-password";
const DEMO_ACCOUNTS: &[&str] = &["alice", "bob", "charlie"];

#[derive(Parser)]
#[command(name = "ferrodon", version, about = "A Mastodon-compatible server")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand)]
pub enum Command {
    /// Serve the REST API, OAuth and web pages (BIND:PORT, default 127.0.0.1:3000).
    Web,
    /// Run background jobs (the same as `ferrodon-worker`).
    Worker(crate::worker::runner::WorkerArgs),
    /// Database setup and migrations.
    #[command(subcommand)]
    Db(DbCommand),
    /// Administration commands (like Mastodon's tootctl).
    #[command(subcommand)]
    Ctl(CtlCommand),
}

#[derive(Subcommand)]
pub enum DbCommand {
    /// Create the database if it is missing, then migrate it.
    Setup,
    /// Apply pending migrations.
    Migrate,
    /// Create the demo accounts alice, bob and charlie (idempotent).
    Seed,
}

#[derive(Subcommand)]
pub enum CtlCommand {
    #[command(subcommand)]
    Accounts(AccountsCommand),
    /// Taking over a Mastodon instance.
    #[command(subcommand)]
    Adopt(AdoptCommand),
    #[command(subcommand)]
    Feeds(FeedsCommand),
    #[command(subcommand)]
    Media(MediaCommand),
    #[command(subcommand)]
    Domains(DomainsCommand),
    /// E-mail domains sign-ups may not use.
    #[command(subcommand, name = "email_domain_blocks")]
    EmailDomainBlocks(block_commands::EmailDomainBlocksCommand),
    /// Address ranges sign-ups (or all requests) may not come from.
    #[command(subcommand, name = "ip_blocks")]
    IpBlocks(block_commands::IpBlocksCommand),
    /// E-mail addresses (under any dots and +tags) sign-ups may not use.
    #[command(subcommand, name = "canonical_email_blocks")]
    CanonicalEmailBlocks(block_commands::CanonicalEmailBlocksCommand),
    /// Mastodon's Rails cache, and the counters kept with accounts and statuses.
    #[command(subcommand)]
    Cache(maintenance::CacheCommand),
    #[command(subcommand)]
    Statuses(maintenance::StatusesCommand),
    /// The Mastodon version ferrodon answers as, and its own.
    Version,
    #[command(subcommand)]
    Search(SearchCommand),
    /// Site settings.
    #[command(subcommand)]
    Settings(SettingsCommand),
    /// Queue depth, latency and failures; the dead set.
    Queues {
        #[command(subcommand)]
        command: Option<QueuesCommand>,
    },
}

#[derive(Subcommand)]
pub enum SettingsCommand {
    /// Who may sign up.
    #[command(subcommand)]
    Registrations(RegistrationsCommand),
}

#[derive(Subcommand)]
pub enum RegistrationsCommand {
    /// Anyone may sign up.
    Open,
    /// Anyone may sign up; staff let each sign-up in.
    Approved {
        /// Sign-ups must say why they want to join.
        #[arg(long, alias = "require-invite-text")]
        require_reason: bool,
    },
    /// Only people with an invite may sign up.
    Close,
}

#[derive(Subcommand)]
pub enum QueuesCommand {
    /// List jobs that ran out of attempts.
    Dead {
        #[arg(long)]
        queue: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
    },
    /// Put dead jobs back in their queue (all, one queue, or one job).
    Retry {
        #[arg(long)]
        queue: Option<String>,
        #[arg(long)]
        id: Option<i64>,
    },
    /// Delete dead jobs (all, one queue's, or one job).
    Drop {
        #[arg(long)]
        queue: Option<String>,
        #[arg(long)]
        id: Option<i64>,
    },
    /// Enqueue a no-op job on `default` and report how long until a worker ran it.
    Probe,
}

#[derive(Subcommand)]
pub enum AdoptCommand {
    /// Read-only: the Mastodon release found, what db migrate would add, what is kept, what
    /// would not be in effect, keys and pending Sidekiq jobs; exits non-zero when something
    /// would be lost.
    Check,
    /// Move the Sidekiq jobs Mastodon left in Redis that ferrodon runs too (deliveries,
    /// fan-out, feed regeneration and merges) into ferrodon's queues; the rest stay listed.
    Jobs,
}

#[derive(Subcommand)]
pub enum AccountsCommand {
    /// Create a local account (--confirmed, --approve as tootctl's); prints the generated password.
    Create(account_commands::CreateAccount),
    /// Change a local user: role, e-mail, confirmation, approval, access, two-factor, password.
    Modify(account_commands::ModifyAccount),
    /// Let pending sign-ups in: one, the N oldest, or all.
    Approve(account_commands::ApproveAccounts),
    /// Delete a local account's data now (by username or e-mail); the name stays taken.
    Delete(account_commands::DeleteAccount),
    /// Make every local account follow a local account.
    Follow {
        username: String,
        #[arg(long)]
        dry_run: bool,
    },
    /// Make every local account stop following an account (USER or USER@DOMAIN).
    Unfollow {
        acct: String,
        #[arg(long)]
        dry_run: bool,
    },
    /// End a local account's follows (--follows), its followers' follows (--followers), or both.
    ResetRelationships(account_commands::ResetRelationships),
    /// Remove remote accounts their servers say are gone (404 or 410), of DOMAIN… or all.
    Cull {
        domains: Vec<String>,
        /// Accounts checked at the same time.
        #[arg(short = 'c', long, default_value_t = 5)]
        concurrency: usize,
        #[arg(long)]
        dry_run: bool,
    },
    /// Fetch remote accounts' avatars and headers again: USER@DOMAIN…, --domain or --all.
    Refresh {
        accts: Vec<String>,
        #[arg(long)]
        domain: Option<String>,
        #[arg(long)]
        all: bool,
        /// Accounts fetched at the same time.
        #[arg(short = 'c', long, default_value_t = 5)]
        concurrency: usize,
        #[arg(long)]
        dry_run: bool,
    },
    /// Remove remote accounts that never interacted with anyone here.
    Prune {
        #[arg(long)]
        dry_run: bool,
    },
    /// New signing keys for a local account (or --all), announced to the servers that know it.
    Rotate {
        username: Option<String>,
        #[arg(long)]
        all: bool,
        #[arg(long)]
        dry_run: bool,
    },
}

#[derive(Subcommand)]
pub enum FeedsCommand {
    /// Rebuild home feeds from the database, for one user or all active ones.
    Build {
        username: Option<String>,
        #[arg(long)]
        all: bool,
        /// Feeds built at the same time.
        #[arg(short = 'c', long, default_value_t = 5)]
        concurrency: usize,
    },
    /// Delete every feed from Redis.
    Clear,
    /// Delete the feeds of users who have not been active within USER_ACTIVE_DAYS.
    Vacuum,
}

/// Blocks of other servers (Mastodon's admin domain blocks).
#[derive(Subcommand)]
pub enum DomainsCommand {
    /// Block a server: `silence` limits its accounts, `suspend` cuts it off.
    Block {
        domain: String,
        #[arg(long, default_value = "suspend")]
        severity: String,
        #[arg(long)]
        reject_media: bool,
    },
    Unblock {
        domain: String,
    },
    List,
    /// Remove every account of these servers, and what they posted, without a trace.
    Purge {
        domains: Vec<String>,
        #[arg(long)]
        include_subdomains: bool,
        /// Every server that is not on the allow list.
        #[arg(long)]
        limited_federation_mode: bool,
        #[arg(long)]
        dry_run: bool,
    },
}

/// The Meilisearch backend of search (`MEILI_URL`).
#[derive(Subcommand)]
pub enum SearchCommand {
    /// Create the indexes and (re)write every status, account and tag document.
    Deploy,
}

#[derive(Subcommand)]
pub enum MediaCommand {
    /// Delete the local copies of remote media older than --days (they are fetched again on demand).
    Remove {
        #[arg(long, default_value_t = 7)]
        days: i64,
        /// Also remote accounts' avatars and headers, for accounts nobody here follows.
        #[arg(long)]
        prune_profiles: bool,
        #[arg(long)]
        dry_run: bool,
    },
    /// Disk space used by attachments, avatars and headers.
    Usage,
    /// Delete stored files that no attachment or account refers to.
    RemoveOrphans {
        #[arg(long)]
        dry_run: bool,
    },
    /// The status a media file (given by its URL) belongs to.
    Lookup { url: String },
}

pub async fn run(cli: Cli, config: Config) -> Result<()> {
    match cli.command {
        Command::Web => {
            let state = AppState::connect(config).await?;
            let address = format!("{}:{}", state.config.bind, state.config.port);
            let listener =
                std::net::TcpListener::bind(&address).map_err(|e| Error::internal(format!("{address}: {e}")))?;
            tracing::info!("web listening on http://{address}");
            crate::api::server(state, listener).map_err(Error::internal)?.await.map_err(Error::internal)
        }
        Command::Worker(args) => crate::worker::runner::process_main(config, args).await,
        Command::Db(DbCommand::Setup) => {
            if db::create_database_if_missing(&config.database_url).await? {
                println!("created database");
            }
            migrate(&config).await
        }
        Command::Db(DbCommand::Migrate) => migrate(&config).await,
        Command::Db(DbCommand::Seed) => {
            let state = AppState::connect(config).await?;
            seed(&state).await
        }
        Command::Ctl(CtlCommand::Accounts(AccountsCommand::Create(args))) => {
            let state = AppState::connect(config).await?;
            account_commands::create(&state, args).await
        }
        Command::Ctl(CtlCommand::Accounts(AccountsCommand::Modify(args))) => {
            let state = AppState::connect(config).await?;
            account_commands::modify(&state, args).await
        }
        Command::Ctl(CtlCommand::Accounts(AccountsCommand::Approve(args))) => {
            let state = AppState::connect(config).await?;
            account_commands::approve(&state, args).await
        }
        Command::Ctl(CtlCommand::Accounts(AccountsCommand::Delete(args))) => {
            let state = AppState::connect(config).await?;
            account_commands::delete(&state, args).await
        }
        Command::Ctl(CtlCommand::Accounts(AccountsCommand::Follow { username, dry_run })) => {
            let state = AppState::connect(config).await?;
            account_commands::follow_by_everyone(&state, &username, dry_run).await
        }
        Command::Ctl(CtlCommand::Accounts(AccountsCommand::Unfollow { acct, dry_run })) => {
            let state = AppState::connect(config).await?;
            account_commands::unfollow_by_everyone(&state, &acct, dry_run).await
        }
        Command::Ctl(CtlCommand::Accounts(AccountsCommand::Refresh { accts, domain, all, concurrency, dry_run })) => {
            let state = AppState::connect(config).await?;
            let which = account_commands::Remote { accts, domain, all };
            account_commands::refresh(&state, which, concurrency, dry_run).await
        }
        Command::Ctl(CtlCommand::Accounts(AccountsCommand::Cull { domains, concurrency, dry_run })) => {
            let state = AppState::connect(config).await?;
            account_commands::cull(&state, &domains, concurrency, dry_run).await
        }
        Command::Ctl(CtlCommand::Accounts(AccountsCommand::Prune { dry_run })) => {
            let state = AppState::connect(config).await?;
            account_commands::prune(&state, dry_run).await
        }
        Command::Ctl(CtlCommand::Accounts(AccountsCommand::Rotate { username, all, dry_run })) => {
            let state = AppState::connect(config).await?;
            account_commands::rotate(&state, username.as_deref(), all, dry_run).await
        }
        Command::Ctl(CtlCommand::Accounts(AccountsCommand::ResetRelationships(args))) => {
            let state = AppState::connect(config).await?;
            account_commands::reset_relationships(&state, args).await
        }
        Command::Ctl(CtlCommand::EmailDomainBlocks(command)) => {
            let state = AppState::connect(config).await?;
            block_commands::email_domain_blocks(&state, command).await
        }
        Command::Ctl(CtlCommand::IpBlocks(command)) => {
            let state = AppState::connect(config).await?;
            block_commands::ip_blocks(&state, command).await
        }
        Command::Ctl(CtlCommand::CanonicalEmailBlocks(command)) => {
            let state = AppState::connect(config).await?;
            block_commands::canonical_email_blocks(&state, command).await
        }
        Command::Ctl(CtlCommand::Cache(command)) => {
            let state = AppState::connect(config).await?;
            maintenance::cache(&state, command).await
        }
        Command::Ctl(CtlCommand::Statuses(command)) => {
            let state = AppState::connect(config).await?;
            maintenance::statuses(&state, command).await
        }
        Command::Ctl(CtlCommand::Version) => {
            println!("{}", crate::model::instance::version_string());
            Ok(())
        }
        Command::Ctl(CtlCommand::Adopt(AdoptCommand::Check)) => {
            adopt::check(&config, |name| std::env::var_os(name).is_some_and(|v| !v.is_empty())).await
        }
        Command::Ctl(CtlCommand::Adopt(AdoptCommand::Jobs)) => {
            let (moved, stayed) = adopt::import_jobs(&config).await?;
            println!("{moved} Sidekiq jobs moved into ferrodon's queues, {stayed} left in Redis");
            Ok(())
        }
        Command::Ctl(CtlCommand::Feeds(FeedsCommand::Build { username, all, concurrency })) => {
            let state = AppState::connect(config).await?;
            build_feeds(&state, username, all, concurrency).await
        }
        Command::Ctl(CtlCommand::Feeds(FeedsCommand::Vacuum)) => {
            let state = AppState::connect(config).await?;
            let removed = feeds::vacuum(&state).await?;
            println!("OK, removed {removed} inactive feeds");
            Ok(())
        }
        Command::Ctl(CtlCommand::Domains(command)) => {
            let state = AppState::connect(config).await?;
            domains_command(&state, command).await
        }
        Command::Ctl(CtlCommand::Search(SearchCommand::Deploy)) => {
            let state = AppState::connect(config).await?;
            let meili = state.search.clone().ok_or_else(|| crate::Error::bad_request("MEILI_URL is not set"))?;
            let totals = meili
                .deploy(&state.db.replica, |kind, written| {
                    print!("\r{kind:?}: {written} documents");
                    let _ = std::io::Write::flush(&mut std::io::stdout());
                })
                .await?;
            println!();
            for (kind, written) in totals {
                println!("OK, {kind:?}: {written} documents indexed");
            }
            Ok(())
        }
        Command::Ctl(CtlCommand::Media(command)) => {
            let state = AppState::connect(config).await?;
            media_command(&state, command).await
        }
        Command::Ctl(CtlCommand::Settings(SettingsCommand::Registrations(command))) => {
            let state = AppState::connect(config).await?;
            let (mode, require_reason) = match command {
                RegistrationsCommand::Open => (RegistrationsMode::Open, None),
                RegistrationsCommand::Approved { require_reason } => {
                    (RegistrationsMode::Approved, require_reason.then_some(true))
                }
                RegistrationsCommand::Close => (RegistrationsMode::Closed, None),
            };
            let console = crate::domain::staff::Staff::console();
            crate::domain::staff::change_registrations(&state.db.primary, &console, mode, require_reason).await?;
            println!("OK");
            Ok(())
        }
        Command::Ctl(CtlCommand::Queues { command }) => {
            let state = AppState::connect(config).await?;
            queues(&state, command).await
        }
        Command::Ctl(CtlCommand::Feeds(FeedsCommand::Clear)) => {
            let state = AppState::connect(config).await?;
            let deleted = feeds::clear_all(&state).await?;
            println!("OK, removed {deleted} feed keys");
            Ok(())
        }
    }
}

async fn domains_command(state: &AppState, command: DomainsCommand) -> Result<()> {
    use crate::domain::domain_blocks::{self, Severity};
    match command {
        DomainsCommand::Block { domain, severity, reject_media } => {
            let level = Severity::parse(&severity).ok_or_else(|| {
                Error::bad_request(format!("severity must be silence, suspend or noop, not {severity:?}"))
            })?;
            let accounts = domain_blocks::block(state, &domain, level, reject_media).await?;
            println!("OK, {domain} blocked ({severity}); {accounts} known accounts affected");
        }
        DomainsCommand::Unblock { domain } => {
            let removed = domain_blocks::unblock(state, &domain).await?;
            println!(
                "{}",
                if removed { format!("OK, {domain} unblocked") } else { format!("{domain} was not blocked") }
            );
        }
        DomainsCommand::Purge { domains, include_subdomains, limited_federation_mode, dry_run } => {
            maintenance::purge_domains(state, &domains, include_subdomains, limited_federation_mode, dry_run).await?;
        }
        DomainsCommand::List => {
            for (domain, severity, reject_media) in domain_blocks::list(state).await? {
                let name = ["silence", "suspend", "noop"].get(severity as usize).copied().unwrap_or("silence");
                println!("{domain}\t{name}{}", if reject_media { "\treject_media" } else { "" });
            }
        }
    }
    Ok(())
}

async fn media_command(state: &AppState, command: MediaCommand) -> Result<()> {
    use crate::cli::media;
    match command {
        MediaCommand::Remove { days, prune_profiles, dry_run } => {
            let (count, bytes) = media::remove_cached(state, days, prune_profiles, dry_run).await?;
            println!("{}", media::summary("Removed", count, "media attachments", bytes, dry_run));
        }
        MediaCommand::Usage => media::print_usage(&media::usage(state).await?),
        MediaCommand::RemoveOrphans { dry_run } => {
            let (removed, bytes, checked) = media::remove_orphans(state, dry_run).await?;
            println!("Checked {checked} files");
            println!("{}", media::summary("Removed", removed, "orphans", bytes, dry_run));
        }
        MediaCommand::Lookup { url } => maintenance::media_lookup(state, &url).await?,
    }
    Ok(())
}

/// Rewrites the progress line of long work: `label: done/total`.
pub(crate) fn progress(label: &str, done: usize, total: usize) {
    print!("\r{label}: {done}/{total}");
    let _ = std::io::stdout().flush();
}

/// Rewrites the progress line of long work whose end is not known: `label: done`.
pub(crate) fn progress_count(label: &str, done: usize) {
    print!("\r{label}: {done}");
    let _ = std::io::stdout().flush();
}

async fn migrate(config: &Config) -> Result<()> {
    use crate::core::schema::{self, Found};
    let pool =
        sqlx::PgPool::connect_with(db::connect_options(&config.database_url, config.prepared_statements)?).await?;
    let migrated = schema::migrate(&pool).await?;
    if let Found::Mastodon(found) = &migrated.found {
        let release = found.release.unwrap_or("unknown");
        println!(
            "Mastodon {release} database (schema version {}): its tables are kept as they are",
            found.version_text()
        );
    }
    for name in &migrated.applied {
        println!("applied {name}");
    }
    println!("database is up to date");
    Ok(())
}

fn registration<'a>(username: &'a str, email: &'a str, password: &'a str) -> crate::domain::accounts::Registration<'a> {
    crate::domain::accounts::Registration {
        username,
        email,
        password,
        agreement: true,
        locale: Some("en"),
        display_name: None,
        application_id: None,
        by: crate::domain::accounts::MadeBy::Administrator { confirmed: true, approved: true },
    }
}

async fn seed(state: &AppState) -> Result<()> {
    let db = &state.db.primary;
    // A demo instance takes sign-ups, unless its admin has already decided.
    let decided: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM settings WHERE var = 'registrations_mode')")
        .fetch_one(db)
        .await?;
    if !decided {
        let console = crate::domain::staff::Staff::console();
        crate::domain::staff::change_registrations(db, &console, RegistrationsMode::Open, None).await?;
        println!("registrations: open");
    }
    for name in DEMO_ACCOUNTS {
        if accounts::find_local(&state.db.primary, name).await?.is_some() {
            println!("{name}: exists");
            continue;
        }
        let email = format!("{name}@localhost");
        let user = crate::domain::accounts::register(
            &state.db.primary,
            &state.config,
            registration(name, &email, DEMO_PASSWORD),
        )
        .await?;
        crate::effects::search::index_later(
            state,
            &state.db.primary,
            crate::effects::search::meili::Kind::Account,
            user.account_id,
        )
        .await?;
        println!("{name}: created ({email} / {DEMO_PASSWORD})");
    }
    Ok(())
}

/// Rebuilds home feeds (tootctl's `feeds build`), `concurrency` at a time, with a
/// progress line.
async fn build_feeds(state: &AppState, username: Option<String>, all: bool, concurrency: usize) -> Result<()> {
    let ids: Vec<i64> = match (username, all) {
        (Some(name), false) => {
            let account = accounts::find_local(&state.db.primary, &name).await?.ok_or(Error::NotFound)?;
            vec![account.id]
        }
        (None, true) => {
            sqlx::query_scalar(
                "SELECT account_id FROM users WHERE NOT disabled
                AND current_sign_in_at >= (now() AT TIME ZONE 'UTC') - make_interval(days => $1::int) ORDER BY id",
            )
            .bind(state.config.user_active_days as i32)
            .fetch_all(&state.db.primary)
            .await?
        }
        _ => return Err(Error::bad_request("give a username or --all")),
    };
    use futures_util::StreamExt;
    let total = ids.len();
    let started = std::time::Instant::now();
    let mut done = 0;
    let mut converted = 0;
    // A feed an adopted Mastodon instance left as a sorted set is converted as it is;
    // any other is rebuilt from the database.
    let build = |id| async move {
        if feeds::store::convert_from_sorted_set(state, id).await? {
            return Ok(true);
        }
        feeds::populate_home(state, id).await.map(|_| false)
    };
    let mut builds = futures_util::stream::iter(ids).map(build).buffer_unordered(concurrency.max(1));
    while let Some(result) = builds.next().await {
        converted += usize::from(result?);
        done += 1;
        let rate = done as f64 / started.elapsed().as_secs_f64().max(0.001);
        print!("\rfeeds build: {done}/{total} ({rate:.0}/s)");
        let _ = std::io::stdout().flush();
    }
    println!("\nOK ({converted} converted from Mastodon's sorted sets, {} rebuilt)", done - converted);
    Ok(())
}

async fn queues(state: &AppState, command: Option<QueuesCommand>) -> Result<()> {
    use crate::core::queue;
    match command {
        None => {
            println!(
                "{:<10} {:>8} {:>10} {:>8} {:>9} {:>6} {:>10}",
                "queue", "ready", "scheduled", "running", "retrying", "dead", "latency"
            );
            for q in queue::stats(&state.db.primary).await? {
                println!(
                    "{:<10} {:>8} {:>10} {:>8} {:>9} {:>6} {:>9.1}s",
                    q.queue, q.ready, q.scheduled, q.running, q.retrying, q.dead, q.latency_seconds
                );
            }
        }
        Some(QueuesCommand::Dead { queue: name, limit }) => {
            for job in queue::dead(&state.db.primary, name.as_deref(), limit).await? {
                let when = job.dead_at.map(|t| t.to_rfc3339()).unwrap_or_default();
                println!(
                    "{} {} {} attempts={} dead_at={when}\n    {}",
                    job.id,
                    job.queue,
                    job.kind,
                    job.attempts,
                    job.last_error.unwrap_or_default()
                );
            }
        }
        Some(QueuesCommand::Retry { queue: name, id }) => {
            let moved = queue::retry_dead(&state.db.primary, name.as_deref(), id).await?;
            println!("OK, {moved} jobs back in their queues");
        }
        Some(QueuesCommand::Drop { queue: name, id }) => {
            let dropped = queue::drop_dead(&state.db.primary, name.as_deref(), id).await?;
            println!("OK, {dropped} dead jobs deleted");
        }
        Some(QueuesCommand::Probe) => {
            let key = crate::domain::oauth::random_token();
            let started = std::time::Instant::now();
            queue::enqueue(&state.db.primary, &crate::worker::Probe { key: key.clone(), hold_ms: 0 }).await?;
            let mut conn = state.redis.conn().await?;
            loop {
                let done: bool =
                    redis::cmd("EXISTS").arg(state.redis.key(format!("probe:{key}"))).query_async(&mut conn).await?;
                if done {
                    println!("OK, a worker ran the probe after {:.1} ms", started.elapsed().as_secs_f64() * 1000.0);
                    return Ok(());
                }
                if started.elapsed() > std::time::Duration::from_secs(60) {
                    return Err(Error::internal(
                        "no worker ran the probe within 60 s (is a worker serving `default`?)",
                    ));
                }
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
        }
    }
    Ok(())
}
