#![allow(clippy::unwrap_used, clippy::expect_used)]
//! The schema: ferrodon's migrated schema equals Mastodon 4.5's for every table they share,
//! `db migrate` takes over databases Mastodon 4.5 and 4.8 made without touching Mastodon's
//! tables, and refuses releases it does not support.

use std::collections::{BTreeMap, BTreeSet};

use crate::common;

use common::TestDatabase;
use ferrodon::core::schema::{self, Found};
use sqlx::PgPool;

/// Differences from Mastodon 4.5 that ferrodon keeps on purpose, one line each with its
/// reason. Objects named `ferrodon_…` are ferrodon's own and need no line here.
const ALLOWED_DIFFERENCES: &[(&str, &str)] = &[];

/// Every table's columns, indexes and constraints, one line per object, keyed by table.
async fn tables(pool: &PgPool) -> BTreeMap<String, BTreeSet<String>> {
    let rows: Vec<(String, String)> = sqlx::query_as(
        "SELECT c.relname::text, 'column ' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
                || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE '' END
                || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
           FROM pg_attribute a
           JOIN pg_class c ON c.oid = a.attrelid AND c.relkind = 'r' AND c.relnamespace = 'public'::regnamespace
           LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
          WHERE a.attnum > 0 AND NOT a.attisdropped
         UNION ALL
         SELECT tablename::text, 'index ' || indexname || ': ' || replace(indexdef, 'public.', '')
           FROM pg_indexes WHERE schemaname = 'public'
         UNION ALL
         SELECT conrelid::regclass::text, 'constraint ' || conname || ': ' || pg_get_constraintdef(oid)
           FROM pg_constraint WHERE connamespace = 'public'::regnamespace",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    let mut tables: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (table, line) in rows {
        tables.entry(table.trim_start_matches("public.").to_string()).or_default().insert(line.replace("public.", ""));
    }
    tables
}

fn is_ferrodons(table: &str, line: &str) -> bool {
    table.starts_with("ferrodon_") || line.split_whitespace().nth(1).is_some_and(|name| name.starts_with("ferrodon_"))
}

/// The differences between ferrodon's schema and Mastodon's for the tables both have, as
/// `table: only in ferrodon|only in Mastodon: line`.
fn differences(
    ours: &BTreeMap<String, BTreeSet<String>>,
    mastodon: &BTreeMap<String, BTreeSet<String>>,
) -> Vec<String> {
    let mut found = Vec::new();
    for (table, lines) in ours {
        let Some(theirs) = mastodon.get(table) else { continue };
        for line in lines.difference(theirs).filter(|line| !is_ferrodons(table, line)) {
            found.push(format!("{table}: only in ferrodon: {line}"));
        }
        for line in theirs.difference(lines) {
            found.push(format!("{table}: only in Mastodon: {line}"));
        }
    }
    found.retain(|d| !ALLOWED_DIFFERENCES.iter().any(|(allowed, _)| allowed == d));
    found
}

#[tokio::test]
async fn the_schema_matches_mastodon_4_5() {
    let ours = TestDatabase::create().await;
    let mastodon = TestDatabase::from_mastodon_dump("mastodon-4.5.0-rc.1.sql").await;
    let ours_pool = PgPool::connect(&ours.url).await.unwrap();
    let mastodon_pool = PgPool::connect(&mastodon.url).await.unwrap();
    let ours_tables = tables(&ours_pool).await;
    let mastodon_tables = tables(&mastodon_pool).await;

    let shared: Vec<&String> = ours_tables.keys().filter(|t| mastodon_tables.contains_key(*t)).collect();
    assert!(shared.len() >= 35, "the shared tables: {shared:?}");
    // A table of ferrodon's own is named so.
    let strays: Vec<&String> =
        ours_tables.keys().filter(|t| !mastodon_tables.contains_key(*t) && !t.starts_with("ferrodon_")).collect();
    assert!(strays.is_empty(), "tables neither Mastodon's nor named ferrodon_…: {strays:?}");

    let found = differences(&ours_tables, &mastodon_tables);
    assert!(found.is_empty(), "ferrodon's schema differs from Mastodon 4.5's:\n{}", found.join("\n"));

    // The comparison sees a difference when there is one.
    let mut changed = ours_tables.clone();
    changed.get_mut("statuses").unwrap().retain(|l| !l.contains("fk_rails_256483a9ab"));
    assert_eq!(differences(&changed, &mastodon_tables).len(), 1);
    ours_pool.close().await;
    mastodon_pool.close().await;
}

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(pool).await.unwrap()
}

/// Mastodon's part of the schema: every table but ferrodon's, and no ferrodon_ object.
fn mastodons(tables: &BTreeMap<String, BTreeSet<String>>) -> BTreeMap<String, BTreeSet<String>> {
    tables
        .iter()
        .filter(|(t, _)| !t.starts_with("ferrodon_"))
        .map(|(t, lines)| (t.clone(), lines.iter().filter(|l| !is_ferrodons(t, l)).cloned().collect()))
        .collect()
}

#[tokio::test]
async fn migrate_takes_over_mastodon_4_5_and_4_8_adding_only_its_own() {
    for (dump, release) in [("mastodon-4.5.0-rc.1.sql", "4.5"), ("mastodon-4.8.0-alpha.1.sql", "4.8.0-alpha.1")] {
        let db = TestDatabase::from_mastodon_dump(dump).await;
        let pool = PgPool::connect(&db.url).await.unwrap();
        let before = tables(&pool).await;
        let versions = count(&pool, "SELECT count(*) FROM schema_migrations").await;

        let migrated = schema::migrate(&pool).await.unwrap();
        let Found::Mastodon(found) = &migrated.found else { panic!("{dump}: not recognised as Mastodon's") };
        assert_eq!(found.release, Some(release), "{dump}");
        let ours = [
            "20261201000101_ferrodon",
            "20261207000102_ferrodon_default_roles",
            "20261207000103_ferrodon_deletion_schedule",
            "20261207000104_ferrodon_remote_protocol",
            "20261207000105_ferrodon_scheduled_statuses_schedule",
        ];
        assert_eq!(migrated.applied, ours, "{dump}");

        let after = tables(&pool).await;
        assert_eq!(mastodons(&after), before, "{dump}: Mastodon's tables are exactly as they were");
        assert!(after.contains_key("ferrodon_jobs") && after["follows"].iter().any(|l| l.contains("ferrodon_")));
        assert_eq!(count(&pool, "SELECT count(*) FROM schema_migrations").await, versions);
        let recorded: (String, String, Vec<String>) =
            sqlx::query_as("SELECT mastodon_version, schema_version, changes FROM ferrodon_adoptions")
                .fetch_one(&pool)
                .await
                .unwrap();
        assert_eq!(recorded.0, release);
        assert_eq!(recorded.2, migrated.applied);

        // Again: nothing to do, nothing recorded.
        let again = schema::migrate(&pool).await.unwrap();
        assert!(again.applied.is_empty());
        assert_eq!(tables(&pool).await, after);
        assert_eq!(count(&pool, "SELECT count(*) FROM ferrodon_adoptions").await, 1);
        pool.close().await;
    }
}

fn ferrodon_db_migrate(url: &str) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferrodon"))
        .args(["db", "migrate"])
        .env("DATABASE_URL", url)
        .env("RAILS_ENV", "development")
        .env("LOCAL_DOMAIN", "localhost")
        .output()
        .expect("run ferrodon db migrate");
    let text = format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    (out.status.success(), text)
}

#[tokio::test]
async fn releases_it_does_not_support_are_refused_with_nothing_changed() {
    let db = TestDatabase::from_mastodon_dump("mastodon-4.5.0-rc.1.sql").await;
    let pool = PgPool::connect(&db.url).await.unwrap();

    // A 4.4 database: no 4.5 migration recorded.
    sqlx::query("DELETE FROM schema_migrations WHERE version >= '20250924170259'").execute(&pool).await.unwrap();
    let before = tables(&pool).await;
    let (ok, text) = ferrodon_db_migrate(&db.url);
    assert!(!ok, "{text}");
    assert!(text.contains("older than 4.5") && text.contains("Mastodon 4.5 to 4.8.0-alpha.1"), "{text}");
    assert!(text.contains("nothing was changed"), "{text}");
    assert_eq!(tables(&pool).await, before);

    // A release newer than ferrodon knows.
    sqlx::query("INSERT INTO schema_migrations (version) VALUES ('20250924170259'), ('20270101000000')")
        .execute(&pool)
        .await
        .unwrap();
    let (ok, text) = ferrodon_db_migrate(&db.url);
    assert!(!ok && text.contains("newer than ferrodon knows") && text.contains("2027_01_01_000000"), "{text}");
    assert_eq!(tables(&pool).await, before);

    // The check names the version without writing anything.
    sqlx::query("DELETE FROM schema_migrations WHERE version = '20270101000000'").execute(&pool).await.unwrap();
    let (ok, text) = ferrodon_db_migrate(&db.url);
    assert!(ok && text.contains("Mastodon 4.5 database (schema version 2025_09_24_170259)"), "{text}");
    pool.close().await;
}

#[tokio::test]
async fn a_new_database_migrates_once() {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    let first = tables(&pool).await;
    assert_eq!(schema::inspect(&pool).await.unwrap(), Found::Ferrodon);
    let again = schema::migrate(&pool).await.unwrap();
    assert!(again.applied.is_empty());
    assert_eq!(tables(&pool).await, first);
    assert_eq!(count(&pool, "SELECT count(*) FROM ferrodon_adoptions").await, 0);
    pool.close().await;
}

#[tokio::test]
async fn timestamp_ids_follow_mastodon() {
    // Mastodon's ids: milliseconds since the epoch in the high bits, 16 bits of sequence.
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    let before = chrono::Utc::now().timestamp_millis();
    let a: i64 = sqlx::query_scalar("SELECT timestamp_id('statuses')").fetch_one(&pool).await.unwrap();
    let b: i64 = sqlx::query_scalar("SELECT timestamp_id('statuses')").fetch_one(&pool).await.unwrap();
    let after = chrono::Utc::now().timestamp_millis();
    assert!(b > a, "ids increase: {a} then {b}");
    let millis = a >> 16;
    assert!(millis >= before - 1000 && millis <= after + 1000, "{millis} within [{before}, {after}]");
    let default: Option<String> = sqlx::query_scalar(
        "SELECT column_default::text FROM information_schema.columns WHERE table_name = 'statuses' AND column_name = 'id'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(default.unwrap_or_default().contains("timestamp_id"));
    pool.close().await;
}
