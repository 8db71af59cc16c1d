//! A scratch instance for benchmarks: its own database (dropped and recreated, or kept for
//! `fanout --reuse-graph`) and Redis database, filled with generated accounts in bulk SQL.

use std::collections::HashMap;

use ferrodon::AppState;
use ferrodon::core::config::Config;

pub struct BenchInstance {
    pub state: AppState,
    pub vars: HashMap<String, String>,
}

pub fn database_url() -> String {
    std::env::var("BENCH_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/ferrodon_bench".into())
}

pub fn redis_url() -> String {
    std::env::var("BENCH_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/3".into())
}

/// The benchmark instance: a new, empty database unless `keep_database` (then the one an
/// earlier run left, if any), and an empty Redis database either way.
pub async fn instance(keep_database: bool) -> Result<BenchInstance, Box<dyn std::error::Error>> {
    let url = database_url();
    let admin_url = format!("{}/postgres", url.rsplit_once('/').map(|(base, _)| base).unwrap_or(&url));
    let name = url.rsplit('/').next().unwrap_or("ferrodon_bench").to_string();
    let admin = sqlx::PgPool::connect(&admin_url).await?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(&name)
        .fetch_one(&admin)
        .await?;
    if !(keep_database && exists) {
        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
            .execute(&admin)
            .await?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE \"{name}\""))).execute(&admin).await?;
    }
    admin.close().await;
    let vars: HashMap<String, String> = [
        ("RAILS_ENV", "test"),
        ("LOCAL_DOMAIN", "bench.test"),
        ("LOCAL_HTTPS", "false"),
        ("DATABASE_URL", url.as_str()),
        ("REDIS_URL", redis_url().as_str()),
        ("FERRODON_REDIS_PREFIX", "bench:"),
        ("DB_POOL", "20"),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    // ferrodon's own settings (FERRODON_FANOUT_CHUNK, …) can be tried from the environment.
    .chain(std::env::vars().filter(|(k, _)| k.starts_with("FERRODON_") && k != "FERRODON_REDIS_PREFIX"))
    .collect();
    let config = Config::from_map(&vars)?;
    // Right after dropping a large database PostgreSQL can be slow to accept connections.
    let mut attempt = 0;
    let state = loop {
        match AppState::connect(config.clone()).await {
            Ok(state) => break state,
            Err(e) if attempt < 5 => {
                attempt += 1;
                eprintln!("waiting for PostgreSQL ({e})");
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
            Err(e) => return Err(e.into()),
        }
    };
    ferrodon::core::schema::migrate(&state.db.primary).await?;
    let mut redis = state.redis.conn().await?;
    let _: () = redis::cmd("FLUSHDB").arg("ASYNC").query_async(&mut redis).await?;
    Ok(BenchInstance { state, vars })
}

/// A second connection to the instance, configured as the `ferrodon` web process would be
/// on this machine: its own pools, sized by ferrodon's default unless `DB_POOL` is set in
/// the environment. (The instance's own pools are sized for the benchmark's bulk work.)
pub async fn web_state(instance: &BenchInstance) -> Result<AppState, Box<dyn std::error::Error>> {
    let mut vars = instance.vars.clone();
    match std::env::var("DB_POOL") {
        Ok(pool) => vars.insert("DB_POOL".into(), pool),
        Err(_) => vars.remove("DB_POOL"),
    };
    Ok(AppState::connect(Config::from_map(&vars)?).await?)
}

/// One real account (with keys and password) that will post.
pub async fn poster(
    state: &AppState,
) -> Result<(ferrodon::model::accounts::Account, ferrodon::model::accounts::User), Box<dyn std::error::Error>> {
    let reg = ferrodon::domain::accounts::Registration {
        username: "poster",
        email: "poster@bench.test",
        password: "bench-password",
        agreement: true,
        locale: Some("en"),
        display_name: Some("Poster"),
        application_id: None,
        by: ferrodon::domain::accounts::MadeBy::Administrator { confirmed: true, approved: true },
    };
    let user = ferrodon::domain::accounts::register(&state.db.primary, &state.config, reg).await?;
    let account = ferrodon::model::accounts::get(&state.db.primary, user.account_id).await?;
    Ok((account, user))
}

/// `n` active local accounts following `target`, each with a read token `bench-<i>`.
/// Returns their account ids and tokens.
pub async fn followers(
    state: &AppState,
    target: i64,
    n: i64,
) -> Result<Vec<(i64, String)>, Box<dyn std::error::Error>> {
    let db = &state.db.primary;
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "WITH a AS (
            INSERT INTO accounts (username, created_at, updated_at, actor_type)
            SELECT 'follower' || g, now(), now(), 'Person' FROM generate_series(1, $1) g RETURNING id, username),
          u AS (
            INSERT INTO users (email, account_id, created_at, updated_at, confirmed_at, current_sign_in_at, settings)
            SELECT username || '@bench.test', id, now(), now(), now(), now() AT TIME ZONE 'UTC', '{}' FROM a
            RETURNING id, account_id),
          t AS (
            INSERT INTO oauth_access_tokens (token, scopes, resource_owner_id, created_at)
            SELECT 'bench-' || u.account_id, 'read write', u.id, now() FROM u RETURNING token, resource_owner_id)
         SELECT u.account_id, t.token FROM t JOIN u ON u.id = t.resource_owner_id ORDER BY u.account_id",
    )
    .bind(n)
    .fetch_all(db)
    .await?;
    sqlx::query(
        "INSERT INTO follows (account_id, target_account_id, created_at, updated_at)
         SELECT a.id, $1, now(), now() FROM accounts a WHERE a.username LIKE 'follower%'",
    )
    .bind(target)
    .execute(db)
    .await?;
    Ok(rows)
}

/// Lets this process (and the servers it starts) hold many sockets.
pub fn raise_open_files(wanted: u64) {
    // SAFETY: getrlimit/setrlimit only read and write the struct we pass.
    unsafe {
        let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) == 0 {
            let raised = libc::rlimit { rlim_cur: wanted.max(limit.rlim_cur), rlim_max: wanted.max(limit.rlim_max) };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) != 0 {
                limit.rlim_cur = limit.rlim_max;
                libc::setrlimit(libc::RLIMIT_NOFILE, &limit);
            }
        }
    }
}

/// Resident memory of a process in bytes (from /proc).
pub fn rss_bytes(pid: u32) -> u64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|v| v.parse::<u64>().ok())
        })
        .map(|kb| kb * 1024)
        .unwrap_or(0)
}
