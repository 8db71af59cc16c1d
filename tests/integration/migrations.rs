#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Migrations run forward from an empty database, undo cleanly, and migrating down and
//! up again gives exactly the same schema.

use crate::common;

use common::TestDatabase;
use ferrodon::core::db::MIGRATOR;
use sqlx::PgPool;

/// table, column, position, type, nullable, default, maximum length.
type Column = (String, String, i32, String, String, Option<String>, Option<i32>);

/// Everything that makes up the schema, one line per object, in a stable order.
async fn dump_schema(pool: &PgPool) -> Vec<String> {
    let mut lines = Vec::new();
    let columns: Vec<Column> = sqlx::query_as(
        "SELECT table_name::text, column_name::text, ordinal_position::int, data_type::text, is_nullable::text,
                column_default::text, character_maximum_length::int
           FROM information_schema.columns
          WHERE table_schema = 'public' AND table_name <> '_sqlx_migrations'
          ORDER BY table_name, ordinal_position",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    lines.extend(columns.into_iter().map(|c| format!("column {c:?}")));
    let indexes: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT tablename::text, indexname::text, indexdef FROM pg_indexes
          WHERE schemaname = 'public' AND tablename <> '_sqlx_migrations' ORDER BY tablename, indexname",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    lines.extend(indexes.into_iter().map(|i| format!("index {i:?}")));
    let constraints: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT conrelid::regclass::text, conname::text, pg_get_constraintdef(oid) FROM pg_constraint
          WHERE connamespace = 'public'::regnamespace AND conrelid::regclass::text <> '_sqlx_migrations'
          ORDER BY 1, 2",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    lines.extend(constraints.into_iter().map(|c| format!("constraint {c:?}")));
    lines.extend(objects(pool).await.into_iter().map(|o| format!("object {o}")));
    lines
}

/// Tables, sequences, views, functions and types in the public schema, except sqlx's own.
async fn objects(pool: &PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "SELECT kind || ' ' || name FROM (
            SELECT CASE c.relkind WHEN 'r' THEN 'table' WHEN 'S' THEN 'sequence' WHEN 'v' THEN 'view'
                                  WHEN 'm' THEN 'materialized view' WHEN 'p' THEN 'table' ELSE NULL END AS kind,
                   c.relname::text AS name
              FROM pg_class c WHERE c.relnamespace = 'public'::regnamespace
               AND c.relkind IN ('r', 'S', 'v', 'm', 'p') AND c.relname NOT LIKE '_sqlx_migrations%'
            UNION ALL
            SELECT 'function', p.proname || '(' || pg_get_function_identity_arguments(p.oid) || ')'
              FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace
            UNION ALL
            SELECT 'type', t.typname::text FROM pg_type t
             WHERE t.typnamespace = 'public'::regnamespace AND t.typtype IN ('e', 'd')
         ) o ORDER BY 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

async fn applied(pool: &PgPool) -> i64 {
    sqlx::query_scalar("SELECT count(*) FROM _sqlx_migrations").fetch_one(pool).await.unwrap()
}

#[tokio::test]
async fn down_then_up_gives_the_same_schema() {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    let migrations = MIGRATOR.iter().filter(|m| !m.migration_type.is_down_migration()).count() as i64;
    assert!(migrations >= 1);
    assert_eq!(applied(&pool).await, migrations);

    let first = dump_schema(&pool).await;
    for table in ["accounts", "users", "statuses", "follows", "notifications", "oauth_access_tokens"] {
        assert!(first.iter().any(|l| l == &format!("object table {table}")), "{table} exists");
    }

    // Running again is a no-op.
    MIGRATOR.run(&pool).await.unwrap();
    assert_eq!(dump_schema(&pool).await, first);

    MIGRATOR.undo(&pool, 0).await.unwrap();
    assert_eq!(applied(&pool).await, 0);
    assert_eq!(objects(&pool).await, Vec::<String>::new(), "down leaves nothing behind");

    MIGRATOR.run(&pool).await.unwrap();
    assert_eq!(applied(&pool).await, migrations);
    let second = dump_schema(&pool).await;
    let missing: Vec<&String> = first.iter().filter(|l| !second.contains(l)).collect();
    let extra: Vec<&String> = second.iter().filter(|l| !first.contains(l)).collect();
    assert!(missing.is_empty() && extra.is_empty(), "missing after re-run: {missing:#?}\nextra: {extra:#?}");
    assert_eq!(first, second);
    pool.close().await;
}

#[tokio::test]
async fn each_migration_undoes_on_its_own() {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    let versions: Vec<i64> =
        MIGRATOR.iter().filter(|m| !m.migration_type.is_down_migration()).map(|m| m.version).collect();
    let full = dump_schema(&pool).await;
    // Step down one migration at a time, then back up in one go.
    for (i, _) in versions.iter().enumerate().rev() {
        let target = if i == 0 { 0 } else { versions[i - 1] };
        MIGRATOR.undo(&pool, target).await.unwrap_or_else(|e| panic!("undo to {target}: {e}"));
        assert_eq!(applied(&pool).await, i as i64);
    }
    assert_eq!(objects(&pool).await, Vec::<String>::new());
    MIGRATOR.run(&pool).await.unwrap();
    assert_eq!(dump_schema(&pool).await, full);
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
    // The default of statuses.id uses it.
    let default: Option<String> = sqlx::query_scalar(
        "SELECT column_default::text FROM information_schema.columns WHERE table_name = 'statuses' AND column_name = 'id'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert!(default.unwrap_or_default().contains("timestamp_id"));
    pool.close().await;
}
