//! The database schema: ferrodon's migrations, and how `ferrodon db migrate` takes over a
//! database that Mastodon made.
//!
//! Migrations come in two sets, recorded in one table (`ferrodon_schema_migrations`):
//! - `migrations/mastodon`: the tables ferrodon shares with Mastodon, as Mastodon 4.5 makes
//!   them. They run on a database Mastodon did not make; on a Mastodon database the tables
//!   are there already, so these are only recorded as applied.
//! - `migrations/ferrodon`: ferrodon's own tables and indexes, additions a Mastodon
//!   database carries unnoticed. They run everywhere.
//!
//! A Mastodon database is known by Rails' `schema_migrations` table. Its release is read
//! from the migration versions recorded there; releases outside `SUPPORTED` are refused
//! before anything is written.

#![allow(clippy::inconsistent_digit_grouping)] // versions read as Rails writes them: 2025_10_23_210145

use sqlx::PgPool;
use sqlx::migrate::Migrator;

use crate::core::error::{Error, Result};

const MIGRATIONS_TABLE: &str = "ferrodon_schema_migrations";

/// Mastodon releases ferrodon runs on, oldest first, each with the newest migration
/// version its `db/schema.rb` records.
pub const SUPPORTED: &[(&str, i64)] = &[
    ("4.5", 2025_10_23_210145),
    ("4.6", 2026_06_11_150940),
    ("4.7", 2026_08_05_130216),
    ("4.8.0-alpha.1", 2026_08_12_154114),
];

/// The migration that adds `accounts.id_scheme`, the first of 4.5 that ferrodon's queries
/// need (`status_stats.quotes_count` and `accounts.following_url` came with it).
const OLDEST_SUPPORTED_MARKER: i64 = 2025_09_24_170259;

/// What a Mastodon database's `schema_migrations` says about it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MastodonSchema {
    /// The release whose schema this is (one of `SUPPORTED`), or `None` when unsupported.
    pub release: Option<&'static str>,
    /// The newest migration version recorded, as Rails writes it (`20251023210145`).
    pub version: i64,
    /// Why it is refused, when it is.
    pub refusal: Option<String>,
}

impl MastodonSchema {
    /// `2025_10_23_210145`, the way Mastodon's schema.rb writes a version.
    pub fn version_text(&self) -> String {
        let v = self.version.to_string();
        if v.len() != 14 {
            return v;
        }
        format!("{}_{}_{}_{}", &v[..4], &v[4..6], &v[6..8], &v[8..])
    }
}

/// What is in the database `db migrate` is pointed at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Found {
    /// Nothing of Mastodon's (an empty database, or one ferrodon made).
    Ferrodon,
    Mastodon(MastodonSchema),
}

pub fn supported_range() -> String {
    let first = SUPPORTED.first().map(|s| s.0).unwrap_or_default();
    let last = SUPPORTED.last().map(|s| s.0).unwrap_or_default();
    format!("Mastodon {first} to {last}")
}

fn migrator(mut migrator: Migrator) -> Migrator {
    migrator.dangerous_set_table_name(MIGRATIONS_TABLE);
    // The two sets share the table; each ignores the other's rows.
    migrator.set_ignore_missing(true);
    migrator
}

fn mastodon_tables() -> Migrator {
    migrator(sqlx::migrate!("./migrations/mastodon"))
}

fn ferrodon_additions() -> Migrator {
    migrator(sqlx::migrate!("./migrations/ferrodon"))
}

/// Names the migrations of ferrodon's own set that this database has not had yet.
pub async fn pending_additions(pool: &PgPool) -> Result<Vec<String>> {
    let applied: Vec<i64> = if table_exists(pool, MIGRATIONS_TABLE).await? {
        sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT version FROM {MIGRATIONS_TABLE} WHERE success")))
            .fetch_all(pool)
            .await?
    } else {
        Vec::new()
    };
    Ok(ferrodon_additions()
        .iter()
        .filter(|m| !m.migration_type.is_down_migration() && !applied.contains(&m.version))
        .map(|m| format!("{}_{}", m.version, m.description.replace(' ', "_")))
        .collect())
}

async fn table_exists(pool: &PgPool, name: &str) -> Result<bool> {
    Ok(sqlx::query_scalar("SELECT to_regclass($1) IS NOT NULL").bind(format!("public.{name}")).fetch_one(pool).await?)
}

/// Reads what kind of database this is, writing nothing.
pub async fn inspect(pool: &PgPool) -> Result<Found> {
    if !table_exists(pool, "schema_migrations").await? {
        return Ok(Found::Ferrodon);
    }
    let versions: Vec<i64> = sqlx::query_scalar(
        "SELECT version::bigint FROM schema_migrations WHERE version ~ '^[0-9]{14}$' ORDER BY version::bigint",
    )
    .fetch_all(pool)
    .await?;
    let version = versions.last().copied().unwrap_or(0);
    let newest_known = SUPPORTED.last().map(|s| s.1).unwrap_or(0);
    let (release, refusal) = if !versions.contains(&OLDEST_SUPPORTED_MARKER) {
        (None, Some(format!("this is a Mastodon older than 4.5; ferrodon supports {}", supported_range())))
    } else if version > newest_known {
        (None, Some(format!("this Mastodon is newer than ferrodon knows; ferrodon supports {}", supported_range())))
    } else {
        (SUPPORTED.iter().find(|(_, v)| version <= *v).map(|s| s.0), None)
    };
    Ok(Found::Mastodon(MastodonSchema { release, version, refusal }))
}

/// What `migrate` did.
#[derive(Debug)]
pub struct Migrated {
    pub found: Found,
    /// The migrations of ferrodon's own set that ran now.
    pub applied: Vec<String>,
}

/// Brings the database up to date: creates the schema on a new database, or adds
/// ferrodon's tables and indexes to a Mastodon one (recording what it found and did).
pub async fn migrate(pool: &PgPool) -> Result<Migrated> {
    if table_exists(pool, "_sqlx_migrations").await? {
        return Err(Error::bad_request(
            "this database was made by a ferrodon development build older than 2026-12-07, whose schema \
             differs from Mastodon's; drop it (dropdb) and run ferrodon db setup to make it again",
        ));
    }
    let found = inspect(pool).await?;
    let pending = pending_additions(pool).await?;
    match &found {
        Found::Ferrodon => mastodon_tables().run(pool).await.map_err(Error::internal)?,
        Found::Mastodon(schema) => {
            if let Some(refusal) = &schema.refusal {
                return Err(Error::bad_request(format!(
                    "{refusal} (schema version {} found); nothing was changed",
                    schema.version_text()
                )));
            }
            // Mastodon's tables are there: record them without running anything.
            mastodon_tables().skip(pool, None).await.map_err(Error::internal)?;
        }
    }
    ferrodon_additions().run(pool).await.map_err(Error::internal)?;
    if let Found::Mastodon(schema) = &found
        && !pending.is_empty()
    {
        sqlx::query("INSERT INTO ferrodon_adoptions (mastodon_version, schema_version, changes) VALUES ($1, $2, $3)")
            .bind(schema.release.unwrap_or("unknown"))
            .bind(schema.version_text())
            .bind(&pending)
            .execute(pool)
            .await?;
    }
    Ok(Migrated { found, applied: pending })
}
