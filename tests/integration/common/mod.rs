//! Test harness: each test gets its own PostgreSQL database (a copy of a migrated template), its
//! own Redis key prefix, and a real web server on a loopback port; requests go over HTTP
//! with reqwest. Every JSON response is recorded (when FERRODON_API_RECORD_DIR is set)
//! so `tests/client/openapi_check.py` can validate it against Mastodon's OpenAPI.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::io::Write;
use std::net::TcpListener;
use std::sync::atomic::{AtomicU64, Ordering};

use ferrodon::AppState;
use ferrodon::core::config::Config;
use reqwest::header::HeaderMap;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};

static COUNTER: AtomicU64 = AtomicU64::new(0);

pub fn database_url() -> String {
    std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

pub fn redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

pub fn unique_name(prefix: &str) -> String {
    let n = COUNTER.fetch_add(1, Ordering::SeqCst);
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(0);
    format!("{prefix}_{}_{n}_{nanos}", std::process::id())
}

fn url_with_database(base: &str, name: &str) -> String {
    let mut url = url::Url::parse(base).expect("TEST_DATABASE_URL");
    url.set_path(&format!("/{name}"));
    url.to_string()
}

/// The migrated database each test database is copied from: made once per run of the suite
/// (named after the process), so that nothing in it is older than the run, such as the
/// schedules' next run. Templates of runs that are over are dropped.
static TEMPLATE: tokio::sync::OnceCell<String> = tokio::sync::OnceCell::const_new();

async fn template() -> &'static str {
    TEMPLATE
        .get_or_init(|| async {
            let name = format!("ferrodon_template_{}", std::process::id());
            let admin = sqlx::PgPool::connect(&database_url()).await.expect("connect to TEST_DATABASE_URL");
            let templates: Vec<String> = sqlx::query_scalar(
                "SELECT datname::text FROM pg_database WHERE datname LIKE 'ferrodon\\_template\\_%'",
            )
            .fetch_all(&admin)
            .await
            .expect("list the templates");
            for old in templates {
                let pid = old.trim_start_matches("ferrodon_template_");
                if old == name || !std::path::Path::new(&format!("/proc/{pid}")).exists() {
                    let _ = execute(&admin, &format!("DROP DATABASE IF EXISTS \"{old}\" WITH (FORCE)")).await;
                }
            }
            execute(&admin, &format!("CREATE DATABASE \"{name}\"")).await.expect("create the template");
            let pool = sqlx::PgPool::connect(&url_with_database(&database_url(), &name)).await.expect("connect");
            ferrodon::core::schema::migrate(&pool).await.expect("migrate the template");
            // The suite signs people up: its instance takes sign-ups (Mastodon's default is closed).
            execute(&pool, "INSERT INTO settings (var, value) VALUES ('registrations_mode', '--- open\n')")
                .await
                .expect("open registrations");
            pool.close().await;
            admin.close().await;
            name
        })
        .await
}

async fn execute(pool: &sqlx::PgPool, sql: &str) -> Result<(), sqlx::Error> {
    sqlx::query(sqlx::AssertSqlSafe(sql.to_string())).execute(pool).await.map(|_| ())
}

/// Retries `run` while PostgreSQL says the database is still in use (a backend that has
/// not finished disconnecting), for up to five seconds.
async fn with_retries<F, Fut>(run: F) -> Result<(), sqlx::Error>
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<(), sqlx::Error>>,
{
    let mut tries = 0;
    loop {
        match run().await {
            Err(sqlx::Error::Database(e)) if e.code().as_deref() == Some("55006") && tries < 50 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
}

/// A fresh database, a copy of the migrated template; dropped when the guard goes away.
pub struct TestDatabase {
    pub name: String,
    pub url: String,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let template = template().await;
        let name = unique_name("ferrodon_test");
        let admin = sqlx::PgPool::connect(&database_url()).await.expect("connect to TEST_DATABASE_URL");
        let create = format!("CREATE DATABASE \"{name}\" TEMPLATE \"{template}\"");
        with_retries(|| execute(&admin, &create)).await.expect("create database");
        admin.close().await;
        let url = url_with_database(&database_url(), &name);
        TestDatabase { name, url }
    }
}

impl TestDatabase {
    /// An empty database loaded from a Mastodon `pg_dump` in `tests/fixtures/mastodon-schema`
    /// (`mastodon-4.5.0-rc.1.sql`, …), not migrated by ferrodon.
    pub async fn from_mastodon_dump(file: &str) -> TestDatabase {
        let name = unique_name("ferrodon_mastodon");
        let admin = sqlx::PgPool::connect(&database_url()).await.expect("connect to TEST_DATABASE_URL");
        execute(&admin, &format!("CREATE DATABASE \"{name}\"")).await.expect("create database");
        admin.close().await;
        let url = url_with_database(&database_url(), &name);
        let path = format!("{}/tests/fixtures/mastodon-schema/{file}", env!("CARGO_MANIFEST_DIR"));
        let out = std::process::Command::new("psql")
            .args([url.as_str(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", path.as_str()])
            .output()
            .expect("run psql");
        assert!(out.status.success(), "psql -f {file}: {}", String::from_utf8_lossy(&out.stderr));
        TestDatabase { name, url }
    }

    /// A database as Mastodon `release` (4.5 or 4.8) leaves it, built by
    /// `script/mastodon-fixture` (LOCAL_DOMAIN fixture.example), with its feeds and Sidekiq
    /// jobs in Redis under `redis_prefix` and its media files in `media_dir`; not migrated by
    /// ferrodon.
    pub fn mastodon_fixture(release: &str, redis_prefix: &str, media_dir: &std::path::Path) -> TestDatabase {
        let name = unique_name("ferrodon_fixture");
        let url = url_with_database(&database_url(), &name);
        let script = format!("{}/script/mastodon-fixture", env!("CARGO_MANIFEST_DIR"));
        let out = std::process::Command::new(script)
            .args([
                "--release",
                release,
                url.as_str(),
                redis_url().as_str(),
                redis_prefix,
                &media_dir.to_string_lossy(),
            ])
            .output()
            .expect("run script/mastodon-fixture");
        assert!(out.status.success(), "script/mastodon-fixture: {}", String::from_utf8_lossy(&out.stderr));
        TestDatabase { name, url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let name = self.name.clone();
        // A separate runtime: Drop may run inside or outside one.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else { return };
            rt.block_on(async move {
                if let Ok(admin) = sqlx::PgPool::connect(&database_url()).await {
                    let _ =
                        sqlx::query(sqlx::AssertSqlSafe(format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)")))
                            .execute(&admin)
                            .await;
                }
            });
        })
        .join();
    }
}

pub struct Response {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Response {
    pub fn link(&self) -> Option<String> {
        self.headers.get("link").and_then(|v| v.to_str().ok()).map(str::to_string)
    }
    #[track_caller]
    pub fn ok(self) -> Value {
        assert!(self.status.is_success(), "expected success, got {}: {}", self.status, self.text);
        self.body
    }
    #[track_caller]
    pub fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "unexpected status; body: {}", self.text);
        if !self.status.is_success() && self.body.is_object() {
            assert!(self.body["error"].is_string(), "error responses carry {{\"error\": …}}: {}", self.text);
        }
        self.body
    }
    pub fn ids(&self) -> Vec<String> {
        self.body
            .as_array()
            .map(|a| a.iter().map(|v| v["id"].as_str().unwrap_or_default().to_string()).collect())
            .unwrap_or_default()
    }
}

/// With `RUST_LOG` set, the servers' logs go to the test's output (shown for failing tests).
fn log_when_asked() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    if std::env::var_os("RUST_LOG").is_some() {
        ONCE.call_once(|| {
            let _ = tracing_subscriber::fmt()
                .with_env_filter(tracing_subscriber::EnvFilter::from_default_env())
                .with_test_writer()
                .try_init();
        });
    }
}

/// Runs the web server on its own thread; returns its handle.
fn serve(state: AppState, listener: TcpListener) -> actix_web::dev::ServerHandle {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            let server = ferrodon::api::server(state, listener).expect("server");
            let _ = tx.send(server.handle());
            let _ = server.await;
        });
    });
    rx.recv().expect("server handle")
}

/// A running instance: its database, Redis prefix, state (for draining jobs) and URL.
pub struct TestApp {
    pub base: String,
    pub state: AppState,
    pub client: reqwest::Client,
    server: actix_web::dev::ServerHandle,
    pub db: TestDatabase,
}

#[derive(Clone, Debug)]
pub struct User {
    pub token: String,
    pub id: String,
    pub username: String,
}

impl TestApp {
    pub async fn spawn() -> TestApp {
        Self::spawn_with(&[]).await
    }

    pub async fn spawn_with(extra: &[(&str, &str)]) -> TestApp {
        Self::spawn_at("127.0.0.1", extra).await
    }

    /// An instance listening on loopback address `ip` (any of 127.0.0.0/8), which is also
    /// its domain (with the port).
    pub async fn spawn_at(ip: &str, extra: &[(&str, &str)]) -> TestApp {
        Self::spawn_on(TestDatabase::create().await, ip, extra).await
    }

    /// An instance on a database made beforehand (already migrated).
    pub async fn spawn_on(db: TestDatabase, ip: &str, extra: &[(&str, &str)]) -> TestApp {
        log_when_asked();
        let listener = TcpListener::bind((ip, 0)).expect("bind");
        let port = listener.local_addr().expect("addr").port();
        let mut vars: HashMap<String, String> = [
            ("RAILS_ENV", "test".to_string()),
            ("LOCAL_DOMAIN", format!("{ip}:{port}")),
            ("LOCAL_HTTPS", "false".into()),
            ("DATABASE_URL", db.url.clone()),
            ("REDIS_URL", redis_url()),
            ("FERRODON_REDIS_PREFIX", format!("{}:", unique_name("test"))),
            ("DB_POOL", "5".into()),
            // Tests make requests faster than Mastodon's throttles allow; admin::rate_limits turns them on.
            ("FERRODON_RATE_LIMITS", "false".into()),
            (
                "FERRODON_MAIL_DIR",
                std::env::temp_dir().join(unique_name("ferrodon_mail")).to_string_lossy().into_owned(),
            ),
            (
                "PAPERCLIP_ROOT_PATH",
                std::env::temp_dir().join(unique_name("ferrodon_media")).to_string_lossy().into_owned(),
            ),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        for (k, v) in extra {
            vars.insert(k.to_string(), v.to_string());
        }
        let config = Config::from_map(&vars).expect("config");
        let state = AppState::connect(config).await.expect("state");
        let server = serve(state.clone(), listener);
        // Idle connections are dropped before the server's keep-alive (PERSISTENT_TIMEOUT, 20 s)
        // ends them: a request sent on a connection the server is just closing fails.
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .pool_idle_timeout(std::time::Duration::from_secs(10))
            .build()
            .expect("client");
        TestApp { base: format!("http://{ip}:{port}"), state, client, server, db }
    }

    /// Stops the web server (as if the instance went down); `start_server` brings it back on
    /// the same port.
    pub async fn stop_server(&self) {
        self.server.stop(true).await;
    }

    /// The same state serves again: each worker thread of the new server opens its own
    /// connections (`AppState::for_worker`), none of the stopped server's.
    pub async fn start_server(&mut self) {
        let address = self.base.trim_start_matches("http://");
        let listener = TcpListener::bind(address).expect("rebind");
        self.server = serve(self.state.clone(), listener);
    }

    /// The `ferrodon` binary under test, set up for this app's database, Redis prefix,
    /// domain, media directory and reachable private networks, with nothing else from the
    /// environment.
    pub fn ferrodon_command(&self) -> std::process::Command {
        let config = &self.state.config;
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_ferrodon"));
        cmd.env_clear()
            .env("RAILS_ENV", "test")
            .env("LOCAL_DOMAIN", &config.local_domain)
            .env("DATABASE_URL", &config.database_url)
            .env("REDIS_URL", &config.redis_url)
            .env("FERRODON_REDIS_PREFIX", &config.redis_key_prefix)
            .env("PAPERCLIP_ROOT_PATH", &config.media.root_path);
        let networks: Vec<String> =
            config.allowed_private_addresses.iter().map(|(ip, bits)| format!("{ip}/{bits}")).collect();
        if !networks.is_empty() {
            cmd.env("ALLOWED_PRIVATE_ADDRESSES", networks.join(","));
        }
        cmd
    }

    /// Runs every queued job to completion (fan-out, merges, feed removals).
    pub async fn drain_jobs(&self) -> usize {
        let queues: Vec<String> = ferrodon::core::queue::QUEUES.iter().map(|q| q.to_string()).collect();
        ferrodon::worker::drain(&self.state, &queues).await.expect("jobs run")
    }

    pub async fn request(&self, method: Method, path: &str, token: Option<&str>, body: Option<Body>) -> Response {
        let mut req = self.client.request(method.clone(), format!("{}{path}", self.base));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        match body {
            Some(Body::Json(v)) => req = req.json(&v),
            Some(Body::Form(pairs)) => req = req.form(&pairs),
            Some(Body::Raw(content_type, bytes)) => req = req.header("content-type", content_type).body(bytes),
            None => {}
        }
        let res = req.send().await.expect("request");
        let status = res.status();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body: Value = serde_json::from_str(&text).unwrap_or(Value::Null);
        record(&method, path, status, &headers, &body);
        Response { status, headers, body, text }
    }

    /// A multipart request: text fields and files (`name`, file name, content type, bytes).
    pub async fn multipart(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        fields: &[(&str, &str)],
        files: &[(&str, &str, &str, &[u8])],
    ) -> Response {
        let boundary = "ferrodon-test-boundary-7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (name, value) in fields {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n")
                    .as_bytes(),
            );
        }
        for (name, file_name, content_type, bytes) in files {
            body.extend_from_slice(
                format!(
                    "--{boundary}\r\nContent-Disposition: form-data; name=\"{name}\"; filename=\"{file_name}\"\r\nContent-Type: {content_type}\r\n\r\n"
                )
                .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let content_type = format!("multipart/form-data; boundary={boundary}");
        self.request(method, path, token, Some(Body::Raw(content_type, body))).await
    }

    /// Raw bytes of a URL this app handed out (media files).
    pub async fn fetch_bytes(&self, url: &str) -> (u16, Vec<u8>) {
        let res = self.client.get(url).send().await.expect("fetch");
        let status = res.status().as_u16();
        (status, res.bytes().await.map(|b| b.to_vec()).unwrap_or_default())
    }

    pub async fn get(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::GET, path, token, None).await
    }
    pub async fn post(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::POST, path, token, Some(Body::Json(body))).await
    }
    pub async fn post_form(&self, path: &str, token: Option<&str>, pairs: &[(&str, &str)]) -> Response {
        let pairs = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        self.request(Method::POST, path, token, Some(Body::Form(pairs))).await
    }
    pub async fn put(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::PUT, path, token, Some(Body::Json(body))).await
    }
    pub async fn patch(&self, path: &str, token: Option<&str>, body: Value) -> Response {
        self.request(Method::PATCH, path, token, Some(Body::Json(body))).await
    }
    pub async fn delete(&self, path: &str, token: Option<&str>) -> Response {
        self.request(Method::DELETE, path, token, None).await
    }

    /// Registers an app with all user scopes and returns (client_id, client_secret).
    pub async fn app(&self, scopes: &str) -> (String, String) {
        let app = self
            .post(
                "/api/v1/apps",
                None,
                json!({ "client_name": "test", "redirect_uris": "urn:ietf:wg:oauth:2.0:oob", "scopes": scopes }),
            )
            .await
            .ok();
        (app["client_id"].as_str().unwrap().to_string(), app["client_secret"].as_str().unwrap().to_string())
    }

    /// An app-only token (client credentials grant) for a new app with `scopes`.
    pub async fn app_token(&self, scopes: &str) -> String {
        let (id, secret) = self.app(scopes).await;
        let token = self
            .post_form(
                "/oauth/token",
                None,
                &[
                    ("grant_type", "client_credentials"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                    ("scope", scopes),
                ],
            )
            .await
            .expect(200);
        token["access_token"].as_str().unwrap().to_string()
    }

    /// A user token from the password grant, for a new app with `scopes`; also returns
    /// the app's (client_id, client_secret).
    pub async fn password_token(&self, username: &str, scopes: &str) -> (String, (String, String)) {
        let (id, secret) = self.app(scopes).await;
        let token = self
            .post_form(
                "/oauth/token",
                None,
                &[
                    ("grant_type", "password"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                    ("username", username),
                    ("password", "correct horse battery"),
                    ("scope", scopes),
                ],
            )
            .await
            .ok();
        (token["access_token"].as_str().unwrap().to_string(), (id, secret))
    }

    /// Signs up through the API (app token, then `POST /api/v1/accounts`).
    pub async fn register(&self, username: &str) -> User {
        let app_token = self.app_token("read write follow push").await;
        let token = self
            .post(
                "/api/v1/accounts",
                Some(&app_token),
                json!({ "username": username, "email": format!("{username}@example.test"), "password": "correct horse battery", "agreement": true, "locale": "en" }),
            )
            .await
            .ok();
        let token = token["access_token"].as_str().unwrap().to_string();
        self.confirm_email(&format!("{username}@example.test")).await;
        let me = self.get("/api/v1/accounts/verify_credentials", Some(&token)).await.ok();
        User { token, id: me["id"].as_str().unwrap().to_string(), username: username.to_string() }
    }

    /// Posts a status as `user` (JSON body) and returns the rendered status.
    /// Follows the confirmation link a sign-up was mailed (its token read from the database).
    pub async fn confirm_email(&self, email: &str) {
        let token: Option<String> = sqlx::query_scalar("SELECT confirmation_token FROM users WHERE email = $1")
            .bind(email)
            .fetch_one(&self.state.db.primary)
            .await
            .expect("user");
        let token = token.expect("a confirmation token");
        let res = self.client.get(format!("{}/auth/confirmation?confirmation_token={token}", self.base)).send().await;
        assert_eq!(res.expect("confirm").status().as_u16(), 200);
    }

    /// Ends a poll now: its deadline moved into the past and the end-of-poll job run.
    pub async fn end_poll(&self, poll_id: i64) {
        sqlx::query("UPDATE polls SET expires_at = now() AT TIME ZONE 'UTC' - interval '1 second' WHERE id = $1")
            .bind(poll_id)
            .execute(&self.state.db.primary)
            .await
            .unwrap();
        ferrodon::domain::polls::end(&self.state, poll_id).await.unwrap();
    }

    pub async fn post_status(&self, user: &User, body: Value) -> Value {
        self.post("/api/v1/statuses", Some(&user.token), body).await.ok()
    }

    /// Local accounts with the ids in `ids` (named `fan<id>`, active users) that follow
    /// `target`, written straight into the database: audiences too large for the API.
    pub async fn add_local_followers(&self, target: i64, ids: std::ops::RangeInclusive<i64>) {
        let db = &self.state.db.primary;
        sqlx::query(
            "WITH a AS (INSERT INTO accounts (id, username, created_at, updated_at, actor_type)
                        SELECT g, 'fan' || g, now(), now(), 'Person' FROM generate_series($1::bigint, $2::bigint) g
                        RETURNING id)
             INSERT INTO users (email, account_id, created_at, updated_at, confirmed_at, current_sign_in_at, settings)
             SELECT 'fan' || id || '@example.test', id, now(), now(), now(), now() AT TIME ZONE 'UTC', '{}' FROM a",
        )
        .bind(ids.start())
        .bind(ids.end())
        .execute(db)
        .await
        .unwrap();
        sqlx::query(
            "INSERT INTO follows (account_id, target_account_id, created_at, updated_at)
             SELECT g, $3, now(), now() FROM generate_series($1::bigint, $2::bigint) g",
        )
        .bind(ids.start())
        .bind(ids.end())
        .bind(target)
        .execute(db)
        .await
        .unwrap();
    }

    pub async fn follow(&self, follower: &User, target: &User) -> Value {
        let rel =
            self.post(&format!("/api/v1/accounts/{}/follow", target.id), Some(&follower.token), json!({})).await.ok();
        self.drain_jobs().await;
        rel
    }
}

impl Drop for TestApp {
    fn drop(&mut self) {
        let handle = self.server.clone();
        let redis_url = self.state.config.redis_url.clone();
        let pattern = format!("{}*", self.state.config.redis_key_prefix);
        let _ = std::thread::spawn(move || {
            if let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() {
                rt.block_on(async move {
                    handle.stop(false).await;
                    // This test's Redis keys go with it.
                    let Ok(client) = redis::Client::open(redis_url) else { return };
                    let Ok(mut conn) = client.get_multiplexed_async_connection().await else { return };
                    let mut cursor: u64 = 0;
                    loop {
                        let Ok((next, keys)) = redis::cmd("SCAN")
                            .arg(cursor)
                            .arg("MATCH")
                            .arg(&pattern)
                            .arg("COUNT")
                            .arg(1000)
                            .query_async::<(u64, Vec<String>)>(&mut conn)
                            .await
                        else {
                            return;
                        };
                        if !keys.is_empty() {
                            let _: Result<(), _> = redis::cmd("DEL").arg(&keys).query_async(&mut conn).await;
                        }
                        if next == 0 {
                            break;
                        }
                        cursor = next;
                    }
                });
            }
        })
        .join();
    }
}

pub enum Body {
    Json(Value),
    Form(Vec<(String, String)>),
    Raw(String, Vec<u8>),
}

/// Appends the exchange to `$FERRODON_API_RECORD_DIR/<test binary>.jsonl`.
fn record(method: &Method, path: &str, status: StatusCode, headers: &HeaderMap, body: &Value) {
    let Ok(dir) = std::env::var("FERRODON_API_RECORD_DIR") else { return };
    let is_json =
        headers.get("content-type").and_then(|v| v.to_str().ok()).is_some_and(|c| c.starts_with("application/json"));
    if !is_json {
        return;
    }
    let _ = std::fs::create_dir_all(&dir);
    let exe = std::env::current_exe()
        .ok()
        .and_then(|p| p.file_stem().map(|s| s.to_string_lossy().to_string()))
        .unwrap_or_default();
    let path_only = path.split('?').next().unwrap_or(path);
    let line = json!({ "method": method.as_str(), "path": path_only, "status": status.as_u16(), "body": body });
    // One write per line: tests run in parallel threads and `writeln!` may split a line into
    // several writes, which then interleave with other threads' lines.
    let line = format!("{line}\n");
    if let Ok(mut f) = std::fs::OpenOptions::new().create(true).append(true).open(format!("{dir}/{exe}.jsonl")) {
        let _ = f.write_all(line.as_bytes());
    }
}

/// Reads one HTTP/1.1 message (its head and a body of `Content-Length` bytes) from `stream`;
/// `None` if the other side closed the connection first.
pub async fn read_http_message(stream: &mut tokio::net::TcpStream) -> Option<String> {
    use tokio::io::AsyncReadExt;
    let mut bytes = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        let n = stream.read(&mut chunk).await.ok()?;
        if n == 0 {
            return None;
        }
        bytes.extend_from_slice(&chunk[..n]);
        let text = String::from_utf8_lossy(&bytes).to_string();
        if let Some(end) = text.find("\r\n\r\n") {
            let length = text[..end]
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().to_string()))
                .and_then(|v| v.parse::<usize>().ok())
                .unwrap_or(0);
            if bytes.len() >= end + 4 + length {
                return Some(text);
            }
        }
    }
}

/// A small PNG (a `width`×`height` gradient), to upload.
pub fn png(width: u32, height: u32) -> Vec<u8> {
    let picture = image::RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    image::DynamicImage::ImageRgb8(picture).write_to(&mut out, image::ImageFormat::Png).expect("png");
    out.into_inner()
}
