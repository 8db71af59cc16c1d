//! Taking over a Mastodon instance: ferrodon migrates and serves the database, Redis and
//! media that `script/mastodon-fixture` builds the way Mastodon 4.5 writes them, and every
//! sign-in, token, feed, file and key that worked on Mastodon keeps working.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::common::{Response, TestApp, TestDatabase, unique_name};

const PRIMARY_KEY: &str = "fixture-primary-key-0123456789abcdef";
const DERIVATION_SALT: &str = "fixture-derivation-salt-0123456789";
/// heidi's and ivan's TOTP secrets, as the fixture encrypted them.
const HEIDI_SECRET: &str = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXPJBSW";
const IVAN_SECRET: &str = "KRSXG5CTMVRXEZLUKN2XAZLSKNSWG4TFOQFA";
const SECRET_KEY_BASE: &str = "fixture-secret-key-base-0123456789abcdef0123456789abcdef";
/// alice's `_session_id` cookie for the fixture's session_activations row, as Mastodon 4.3+
/// signs it (made with Python's hmac and hashlib; valid until 2027-12-01).
const ALICE_SESSION_COOKIE: &str = "eyJfcmFpbHMiOnsibWVzc2FnZSI6IkltWnBlSFIxY21WaGJHbGpaWE5sYzNOcGIyNHdNREF3TURBd01EQXdNREF3SWc9PSIsImV4cCI6IjIwMjctMTItMDFUMTA6MDA6MDAuMDAwWiIsInB1ciI6ImNvb2tpZS5fc2Vzc2lvbl9pZCJ9fQ%3D%3D--854f8467262ae943536a4ad6ecfcc5a906d0e64d";
const ALICE: &str = "110000000000000001";
const BOB: &str = "110000000000000002";
const ZED: &str = "110000000000000101";
/// The fixture's status ids, as `status(n)`: one minute apart.
const FIRST_STATUS: i64 = 117540598579200000;
const MINUTE: i64 = 3932160000;

fn status(n: i64) -> String {
    (FIRST_STATUS + n * MINUTE).to_string()
}

fn token(name: &str) -> String {
    format!("{name:0<43}")
}

/// The 4.5 fixture migrated by `db migrate` and served, with Mastodon's environment for it.
async fn adopted(extra: &[(&str, &str)]) -> TestApp {
    adopted_release("4.5", extra).await
}

pub(crate) async fn adopted_release(release: &str, extra: &[(&str, &str)]) -> TestApp {
    let prefix = format!("{}:", unique_name("fixture"));
    let media = std::env::temp_dir().join(unique_name("ferrodon_fixture_media"));
    let db = TestDatabase::mastodon_fixture(release, &prefix, &media);
    let pool = sqlx::PgPool::connect(&db.url).await.expect("connect");
    ferrodon::core::schema::migrate(&pool).await.expect("db migrate");
    pool.close().await;
    let mut vars = vec![
        ("LOCAL_DOMAIN", "fixture.example"),
        ("LOCAL_HTTPS", "true"),
        ("FERRODON_REDIS_PREFIX", prefix.as_str()),
        ("ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY", PRIMARY_KEY),
        ("ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT", DERIVATION_SALT),
        ("ACTIVE_RECORD_ENCRYPTION_DETERMINISTIC_KEY", "fixture-deterministic-key"),
        ("SECRET_KEY_BASE", SECRET_KEY_BASE),
    ];
    let media = media.to_string_lossy().into_owned();
    vars.push(("PAPERCLIP_ROOT_PATH", media.as_str()));
    vars.extend_from_slice(extra);
    TestApp::spawn_on(db, "127.0.0.1", &vars).await
}

async fn password_grant(app: &TestApp, email: &str, password: &str) -> Response {
    app.post_form(
        "/oauth/token",
        None,
        &[
            ("grant_type", "password"),
            ("client_id", "fixture-tusky-uid"),
            ("client_secret", "fixture-tusky-secret"),
            ("username", email),
            ("password", password),
            ("scope", "read write"),
        ],
    )
    .await
}

#[tokio::test]
async fn every_password_signs_in_and_each_account_state_gets_mastodons_answer() {
    let app = adopted(&[]).await;
    // Each user with the token Mastodon had issued to them and the answer Mastodon gives.
    let users = [
        ("alice", "fxAliceFullToken_", None),
        ("bob", "fxBobFullToken___", None),
        ("carol", "fxCarolToken_____", Some("Your login is missing a confirmed e-mail address")),
        ("dave", "fxDaveToken______", Some("Your login is currently pending approval")),
        ("erin", "fxErinToken______", Some("Your login is currently disabled")),
        ("frank", "fxFrankToken_____", Some("Your login is currently disabled")),
        ("grace", "fxGraceToken_____", Some("Your login is currently disabled")),
    ];
    for (name, issued, refusal) in users {
        let email = format!("{name}@fixture.example");
        let granted = password_grant(&app, &email, &format!("{name}-password-1")).await.ok();
        let new_token = granted["access_token"].as_str().expect("access_token").to_string();
        // The token made by ferrodon and the one Mastodon had issued answer alike.
        for bearer in [new_token, token(issued)] {
            let me = app.get("/api/v1/accounts/verify_credentials", Some(&bearer)).await;
            match refusal {
                None => assert_eq!(me.ok()["username"], name),
                Some(message) => assert_eq!(me.expect(403)["error"], message, "{name}"),
            }
        }
        let wrong = password_grant(&app, &email, "not-the-password").await;
        assert_eq!(wrong.expect(400)["error"], "invalid_grant", "{name}");
    }
    // Two-factor accounts cannot use the password grant, as on Mastodon.
    for name in ["heidi", "ivan"] {
        let refused = password_grant(&app, &format!("{name}@fixture.example"), &format!("{name}-password-1")).await;
        assert_eq!(refused.expect(400)["error"], "invalid_grant", "{name}");
    }
}

#[tokio::test]
async fn issued_tokens_keep_their_scopes_and_revoked_or_expired_ones_are_refused() {
    let app = adopted(&[]).await;
    let full = token("fxAliceFullToken_");
    let read = token("fxAliceReadToken_");
    assert_eq!(app.get("/api/v1/accounts/verify_credentials", Some(&full)).await.ok()["id"], ALICE);
    let posted =
        app.post("/api/v1/statuses", Some(&full), serde_json::json!({"status": "Posted after adoption"})).await;
    assert_eq!(posted.ok()["account"]["id"], ALICE);

    assert_eq!(app.get("/api/v1/accounts/verify_credentials", Some(&read)).await.ok()["id"], ALICE);
    let outside = app.post("/api/v1/statuses", Some(&read), serde_json::json!({"status": "no"})).await;
    assert_eq!(outside.expect(403)["error"], "This action is outside the authorized scopes");

    for dead in ["fxAliceRevokedTk_", "fxAliceExpiredTk_"] {
        let refused = app.get("/api/v1/accounts/verify_credentials", Some(&token(dead))).await;
        assert_eq!(refused.expect(401)["error"], "The access token is invalid", "{dead}");
    }
    let expiring = app.get("/api/v1/accounts/verify_credentials", Some(&token("fxAliceExpiring__"))).await;
    assert_eq!(expiring.ok()["id"], ALICE);

    // An authorization code Mastodon issued a minute ago is redeemed once; a used one is not.
    let redeem = |code: &'static str| {
        let app = &app;
        async move {
            app.post_form(
                "/oauth/token",
                None,
                &[
                    ("grant_type", "authorization_code"),
                    ("client_id", "fixture-tusky-uid"),
                    ("client_secret", "fixture-tusky-secret"),
                    ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
                    ("code", code),
                ],
            )
            .await
        }
    };
    let granted = redeem("fxAliceGrantCode_000000000000000000000000").await.ok();
    assert_eq!(granted["scope"], "read write");
    let bearer = granted["access_token"].as_str().unwrap().to_string();
    assert_eq!(app.get("/api/v1/accounts/verify_credentials", Some(&bearer)).await.ok()["id"], ALICE);
    assert_eq!(redeem("fxAliceGrantCode_000000000000000000000000").await.expect(400)["error"], "invalid_grant");
    assert_eq!(redeem("fxAliceUsedGrant_000000000000000000000000").await.expect(400)["error"], "invalid_grant");
}

/// The consent form filled in and sent, with a two-factor code when given.
async fn sign_in_on_the_authorize_page(app: &TestApp, name: &str, code: Option<&str>) -> Response {
    let query = "response_type=code&client_id=fixture-tusky-uid&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=read";
    let page = app.get(&format!("/oauth/authorize?{query}"), None).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    let email = format!("{name}@fixture.example");
    let password = format!("{name}-password-1");
    let mut pairs = vec![
        ("response_type", "code"),
        ("client_id", "fixture-tusky-uid"),
        ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob"),
        ("scope", "read"),
        ("username", email.as_str()),
        ("password", password.as_str()),
        ("decision", "approve"),
    ];
    if let Some(code) = code {
        pairs.push(("otp_attempt", code));
    }
    app.post_form("/oauth/authorize", None, &pairs).await
}

fn issued_code(res: &Response) -> bool {
    res.status.as_u16() == 200 && res.text.contains("id=\"authorization-code\"")
}

#[tokio::test]
async fn two_factor_codes_come_from_the_secret_mastodon_encrypted_and_work_once() {
    let app = adopted(&[]).await;
    // The password alone is not enough: the page asks for the code.
    let asked = sign_in_on_the_authorize_page(&app, "heidi", None).await;
    assert_eq!(asked.status.as_u16(), 401, "{}", asked.text);
    assert!(asked.text.contains("name=\"otp_attempt\""), "{}", asked.text);

    let now = ferrodon::core::time::now().and_utc().timestamp();
    for (name, secret) in [("heidi", HEIDI_SECRET), ("ivan", IVAN_SECRET)] {
        let code = ferrodon::core::secrets::totp_code(secret, now / 30).expect("code");
        let wrong = sign_in_on_the_authorize_page(&app, name, Some("000000")).await;
        assert_eq!(wrong.status.as_u16(), 401, "{name}: {}", wrong.text);
        let signed = sign_in_on_the_authorize_page(&app, name, Some(&code)).await;
        assert!(issued_code(&signed), "{name}: {}", signed.text);
        // The same code again is a replay: its time step is taken.
        let replay = sign_in_on_the_authorize_page(&app, name, Some(&code)).await;
        assert_eq!(replay.status.as_u16(), 401, "{name}: {}", replay.text);
    }
    let consumed: Option<i32> = sqlx::query_scalar("SELECT consumed_timestep FROM users WHERE id = 8")
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    assert!(consumed.is_some_and(|step| i64::from(step) >= now / 30 - 1), "{consumed:?}");

    // A backup code (stored as Devise's bcrypt) works once; the other stays.
    let backup = sign_in_on_the_authorize_page(&app, "ivan", Some("a1b2c3d4e5")).await;
    assert!(issued_code(&backup), "{}", backup.text);
    let again = sign_in_on_the_authorize_page(&app, "ivan", Some("a1b2c3d4e5")).await;
    assert_eq!(again.status.as_u16(), 401, "{}", again.text);
    let left: Vec<String> = sqlx::query_scalar("SELECT unnest(otp_backup_codes) FROM users WHERE id = 9")
        .fetch_all(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(left.len(), 1);
    assert!(bcrypt::verify("f6a7b8c9d0", &left[0]).unwrap());
}

/// The ids of a timeline page, newest first.
async fn timeline(app: &TestApp, path: &str, bearer: &str) -> Vec<String> {
    app.get(path, Some(bearer))
        .await
        .ok()
        .as_array()
        .expect("array")
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_string())
        .collect()
}

/// What Mastodon's `HomeFeed#get` would list: the fixture's feed, newest first.
fn mastodon_home_of_alice() -> Vec<String> {
    [13, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1].into_iter().map(status).collect()
}

#[tokio::test]
async fn home_and_list_feeds_are_read_as_mastodon_left_them() {
    let app = adopted(&[("FERRODON_FEED_ENCODING", "mastodon")]).await;
    let bearer = token("fxAliceFullToken_");
    assert_eq!(timeline(&app, "/api/v1/timelines/home?limit=40", &bearer).await, mastodon_home_of_alice());
    assert_eq!(
        timeline(&app, "/api/v1/timelines/list/1", &bearer).await,
        [status(13), status(11), status(6), status(1)]
    );
    let home = app.get("/api/v1/timelines/home?limit=1", Some(&bearer)).await.ok();
    assert_eq!(home[0]["reblog"]["id"], status(12), "the newest entry is bob's reblog of heidi");
}

#[tokio::test]
async fn feeds_build_converts_mastodons_sorted_sets_with_a_progress_line() {
    let app = adopted(&[]).await;
    let bearer = token("fxAliceFullToken_");
    let out = app.ferrodon_command().args(["ctl", "feeds", "build", "--all"]).output().expect("run feeds build");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("feeds build: "), "{stdout}");
    assert!(stdout.contains("converted from Mastodon's sorted sets"), "{stdout}");
    assert_eq!(timeline(&app, "/api/v1/timelines/home?limit=40", &bearer).await, mastodon_home_of_alice());
    assert_eq!(
        timeline(&app, "/api/v1/timelines/list/1", &bearer).await,
        [status(13), status(11), status(6), status(1)]
    );
    let mut redis = app.state.redis.conn().await.unwrap();
    let left: bool = redis::cmd("EXISTS")
        .arg(app.state.redis.key(format!("feed:home:{ALICE}")))
        .query_async(&mut redis)
        .await
        .unwrap();
    assert!(!left, "the sorted set is gone once converted");
}

#[tokio::test]
async fn media_keys_remote_accounts_and_blocks_are_kept() {
    let app = adopted(&[]).await;
    let bearer = token("fxAliceFullToken_");
    // The picture is served from its Paperclip path, in both styles.
    let picture = app.get(&format!("/api/v1/statuses/{}", status(2)), Some(&bearer)).await.ok();
    let attachment = &picture["media_attachments"][0];
    assert_eq!(attachment["description"], "The sea, very small");
    for field in ["url", "preview_url"] {
        let url = attachment[field].as_str().expect(field);
        let path = url.split_once("fixture.example").expect("local media URL").1;
        assert!(path.starts_with("/system/media_attachments/files/117/540/606/443/519/000/"), "{path}");
        let (status, bytes) = app.fetch_bytes(&format!("{}{path}", app.base)).await;
        assert_eq!(status, 200, "{path}");
        assert!(bytes.starts_with(b"\x89PNG"), "{path}");
    }
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&bearer)).await.ok();
    let avatar = me["avatar"].as_str().unwrap().split_once("fixture.example").unwrap().1.to_string();
    assert_eq!(avatar, "/system/accounts/avatars/110/000/000/000/000/001/original/0f1e2d3c4b5a6978.png");
    assert_eq!(app.fetch_bytes(&format!("{}{avatar}", app.base)).await.0, 200);
    assert_eq!(me["note"], "<p>I am alice</p>");
    assert_eq!(me["source"]["privacy"], "unlisted", "users.settings is read");
    // The site settings Mastodon stored, as YAML, are the instance's.
    let instance = app.get("/api/v2/instance", None).await.ok();
    assert_eq!(instance["title"], "Fixture Mastodon");
    assert_eq!(instance["description"], "A Mastodon made for adoption tests");
    assert_eq!(instance["contact"]["email"], "admin@fixture.example");
    assert_eq!(instance["registrations"]["approval_required"], true);

    // The actor publishes the key pair Mastodon made, so cached keys still verify.
    let stored: String = sqlx::query_scalar("SELECT public_key FROM accounts WHERE id = $1")
        .bind(ALICE.parse::<i64>().unwrap())
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    let actor = activity_json(&app, "/users/alice").await;
    assert_eq!(actor["publicKey"]["publicKeyPem"], stored);
    assert_eq!(actor["id"], "https://fixture.example/users/alice");

    // Accounts made by Mastodon 4.5 are named after their id (`/ap/users/<id>`); both forms are
    // served, under the id Mastodon gave them.
    const HEIDI: &str = "110000000000000008";
    let heidi_actor = format!("https://fixture.example/ap/users/{HEIDI}");
    for path in [format!("/ap/users/{HEIDI}"), "/users/heidi".to_string()] {
        let actor = activity_json(&app, &path).await;
        assert_eq!(actor["id"], heidi_actor, "{path}");
        assert_eq!(actor["inbox"], format!("{heidi_actor}/inbox"));
        assert_eq!(actor["publicKey"]["id"], format!("{heidi_actor}#main-key"));
    }
    let note = activity_json(&app, &format!("/ap/users/{HEIDI}/statuses/{}", status(12))).await;
    assert_eq!(note["id"], format!("{heidi_actor}/statuses/{}", status(12)));
    assert_eq!(note["attributedTo"], heidi_actor);
    let webfinger = app.get("/.well-known/webfinger?resource=acct:heidi@fixture.example", None).await.ok();
    assert!(webfinger["links"].as_array().unwrap().iter().any(|l| l["href"] == heidi_actor), "{webfinger}");

    let zed = app.get(&format!("/api/v1/accounts/{ZED}"), Some(&bearer)).await.ok();
    assert_eq!(zed["acct"], "zed@remote.example");
    let relationship =
        app.get(&format!("/api/v1/accounts/relationships?id[]={ZED}&id[]={BOB}"), Some(&bearer)).await.ok();
    assert_eq!(relationship[0]["following"], true);
    assert_eq!(relationship[0]["followed_by"], true);
    assert_eq!(relationship[1]["following"], true);
    let muted = app.get("/api/v1/mutes", Some(&bearer)).await.ok();
    assert_eq!(muted[0]["username"], "grace");
    let frank = app.get("/api/v1/accounts/relationships?id[]=110000000000000006", Some(&bearer)).await.ok();
    assert_eq!(frank[0]["blocking"], true, "a block on a suspended account is kept (and not listed)");
    // Files of old 17-digit ids (whose partition lost two digits) are not taken for orphans.
    let root = app.state.config.media.root_path.clone();
    let stray = root.join("media_attachments/files/999/999/999/original/stray.png");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"left by a failed upload").unwrap();
    let out = app
        .ferrodon_command()
        .env("PAPERCLIP_ROOT_PATH", &root)
        .args(["ctl", "media", "remove-orphans"])
        .output()
        .expect("run remove-orphans");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(!stray.exists());
    for kept in
        ["987/654/321/098/765/original/0a0b0c0d0e0f1011.png", "117/540/606/443/519/000/small/a1b2c3d4e5f60718.png"]
    {
        assert!(root.join("media_attachments/files").join(kept).exists(), "{kept} was removed");
    }
    let old = app.get(&format!("/api/v1/statuses/{}", status(1)), Some(&bearer)).await.ok();
    let url = old["media_attachments"][0]["url"].as_str().expect("url of the 2017 attachment");
    assert!(url.ends_with("/media_attachments/files/987/654/321/098/765/original/0a0b0c0d0e0f1011.png"), "{url}");

    let out = app.ferrodon_command().args(["ctl", "domains", "list"]).output().expect("run domains list");
    let listed = String::from_utf8_lossy(&out.stdout);
    assert!(listed.contains("evil.example"), "the instance's domain blocks are kept: {listed}");
}

async fn activity_json(app: &TestApp, path: &str) -> Value {
    let res = app
        .client
        .get(format!("{}{path}", app.base))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200, "{path}");
    res.json().await.unwrap()
}

/// `ferrodon ctl adopt check` on the fixture as Mastodon left it, with `env` as its environment.
fn adopt_check(db: &TestDatabase, prefix: &str, env: &[(&str, &str)]) -> (bool, String) {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_ferrodon"))
        .env_clear()
        .env("RAILS_ENV", "test")
        .env("LOCAL_DOMAIN", "fixture.example")
        .env("DATABASE_URL", &db.url)
        .env("REDIS_URL", crate::common::redis_url())
        .env("FERRODON_REDIS_PREFIX", prefix)
        .envs(env.iter().copied())
        .args(["ctl", "adopt", "check"])
        .output()
        .expect("run adopt check");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[tokio::test]
async fn adopt_check_reports_what_would_be_kept_and_lost_without_writing() {
    let prefix = format!("{}:", unique_name("fixture"));
    let media = std::env::temp_dir().join(unique_name("ferrodon_fixture_media"));
    let db = TestDatabase::mastodon_fixture("4.5", &prefix, &media);
    let keys = [
        ("SECRET_KEY_BASE", "fixture-secret"),
        ("ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY", PRIMARY_KEY),
        ("ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT", DERIVATION_SALT),
    ];
    let (clean, report) = adopt_check(&db, &prefix, &keys);
    println!("{report}");
    assert!(!clean, "the fixture has features ferrodon does not serve yet: {report}");
    for line in [
        "Database: Mastodon 4.5 (schema version 2025_10_23_210145)",
        "db migrate would add ferrodon's own tables and indexes: 20261201000101_ferrodon, 20261207000102_ferrodon_default_roles",
        "local accounts               9",
        "two-factor secrets readable with these keys: 2 of 2",
        "security keys (WebAuthn)",
        "queue:push                1  ActivityPub::DeliveryWorker ×1",
        "retry                     1  ActivityPub::DeliveryWorker ×1",
    ] {
        assert!(report.contains(line), "missing {line:?} in:\n{report}");
    }
    // Without the encryption keys the two-factor users would be locked out.
    let (_, without_keys) = adopt_check(&db, &prefix, &keys[..1]);
    assert!(without_keys.contains("two-factor secrets readable with these keys: 0 of 2"), "{without_keys}");
    assert!(without_keys.contains("2 two-factor users could not sign in"), "{without_keys}");

    // Read-only: nothing of ferrodon's was created.
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let made: bool =
        sqlx::query_scalar("SELECT to_regclass('public.ferrodon_jobs') IS NOT NULL").fetch_one(&pool).await.unwrap();
    assert!(!made);
    ferrodon::core::schema::migrate(&pool).await.unwrap();
    pool.close().await;
    let (_, after) = adopt_check(&db, &prefix, &keys);
    assert!(after.contains("db migrate would add: nothing (already adopted)"), "{after}");
}

const AUTHORIZE_QUERY: &str =
    "response_type=code&client_id=fixture-tusky-uid&redirect_uri=urn:ietf:wg:oauth:2.0:oob&scope=read";

async fn authorize_page_with_cookie(app: &TestApp, cookie: &str) -> String {
    let res = app
        .client
        .get(format!("{}/oauth/authorize?{AUTHORIZE_QUERY}", app.base))
        .header("cookie", format!("_session_id={cookie}"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.text().await.unwrap()
}

/// The value of a hidden input of a form.
fn hidden(html: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html.find(&marker)? + marker.len();
    Some(html[start..].split('"').next()?.to_string())
}

/// Whether Mastodon would accept a `_session_id` cookie: checked by Python's hmac and hashlib
/// as Rails checks it (PBKDF2-SHA256 of SECRET_KEY_BASE, salt "signed cookie", 1000
/// iterations, 64 bytes; HMAC-SHA1 over the base64 text), giving the session id.
fn session_id_as_mastodon_reads_it(cookie: &str) -> Option<String> {
    let script = r#"
import base64, hashlib, hmac, json, sys, urllib.parse
data, digest = urllib.parse.unquote(sys.argv[2]).rsplit("--", 1)
key = hashlib.pbkdf2_hmac("sha256", sys.argv[1].encode(), b"signed cookie", 1000, 64)
assert hmac.compare_digest(hmac.new(key, data.encode(), hashlib.sha1).hexdigest(), digest)
rails = json.loads(base64.b64decode(data))["_rails"]
assert rails["pur"] == "cookie._session_id"
print(json.loads(base64.b64decode(rails["message"])))
"#;
    let out = std::process::Command::new("python3").args(["-c", script, SECRET_KEY_BASE, cookie]).output().ok()?;
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).trim().to_string())
}

#[tokio::test]
async fn web_sign_ins_carry_over_both_ways() {
    let app = adopted(&[]).await;
    // A browser signed in to Mastodon is signed in here: the consent form asks no password.
    let page = authorize_page_with_cookie(&app, ALICE_SESSION_COOKIE).await;
    assert!(page.contains("Signed in as alice@fixture.example"), "{page}");
    assert!(!page.contains("name=\"password\""), "{page}");
    let token = hidden(&page, "authenticity_token").expect("form token");
    let approve = |token: Option<String>| {
        let app = &app;
        async move {
            let mut pairs = vec![
                ("response_type", "code".to_string()),
                ("client_id", "fixture-tusky-uid".into()),
                ("redirect_uri", "urn:ietf:wg:oauth:2.0:oob".into()),
                ("scope", "read".into()),
                ("decision", "approve".into()),
            ];
            if let Some(token) = token {
                pairs.push(("authenticity_token", token));
            }
            app.client
                .post(format!("{}/oauth/authorize", app.base))
                .header("cookie", format!("_session_id={ALICE_SESSION_COOKIE}"))
                .form(&pairs)
                .send()
                .await
                .unwrap()
        }
    };
    let approved = approve(Some(token)).await;
    assert_eq!(approved.status().as_u16(), 200);
    assert!(approved.text().await.unwrap().contains("id=\"authorization-code\""));
    // The form token is what proves the request came from that form.
    assert_eq!(approve(None).await.status().as_u16(), 401);
    assert_eq!(approve(Some("00".repeat(20))).await.status().as_u16(), 401);

    // A cookie not signed with this SECRET_KEY_BASE, or for a session that ended, signs nobody in.
    let forged = ALICE_SESSION_COOKIE.replace("--854f", "--954f");
    assert!(authorize_page_with_cookie(&app, &forged).await.contains("name=\"password\""));
    sqlx::query("DELETE FROM session_activations WHERE user_id = 1").execute(&app.state.db.primary).await.unwrap();
    assert!(authorize_page_with_cookie(&app, ALICE_SESSION_COOKIE).await.contains("name=\"password\""));

    // A sign-in on ferrodon is recorded as Mastodon records it, with a cookie Mastodon accepts.
    let signed = sign_in_on_the_authorize_page(&app, "bob", None).await;
    assert!(issued_code(&signed), "{}", signed.text);
    let set_cookie = signed.headers.get("set-cookie").and_then(|v| v.to_str().ok()).expect("Set-Cookie").to_string();
    assert!(set_cookie.contains("HttpOnly") && set_cookie.contains("SameSite=Lax"), "{set_cookie}");
    let cookie =
        set_cookie.strip_prefix("_session_id=").and_then(|c| c.split(';').next()).expect("_session_id").to_string();
    let session_id = session_id_as_mastodon_reads_it(&cookie).expect("Mastodon accepts the cookie");
    let (user_id, user_agent): (i64, String) =
        sqlx::query_as("SELECT user_id, user_agent FROM session_activations WHERE session_id = $1")
            .bind(&session_id)
            .fetch_one(&app.state.db.primary)
            .await
            .unwrap();
    assert_eq!(user_id, 2);
    assert!(user_agent.is_empty() || !user_agent.contains('\n'));
    assert!(authorize_page_with_cookie(&app, &cookie).await.contains("Signed in as bob@fixture.example"));
}

#[tokio::test]
async fn sidekiq_jobs_of_kinds_ferrodon_runs_move_into_its_queues() {
    let app = adopted(&[]).await;
    let out = app.ferrodon_command().args(["ctl", "adopt", "jobs"]).output().expect("run adopt jobs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("2 Sidekiq jobs moved into ferrodon's queues, 3 left in Redis"), "{stdout}");
    assert!(stdout.contains("LocalNotificationWorker ×1"), "{stdout}");
    // The queued delivery runs now; the one Sidekiq was retrying waits for its time (2030).
    let jobs: Vec<(String, Value, bool)> = sqlx::query_as(
        "SELECT queue, payload, run_at > now() + interval '1 year' FROM ferrodon_jobs WHERE kind = 'Federation' ORDER BY id",
    )
    .fetch_all(&app.state.db.primary)
    .await
    .unwrap();
    assert_eq!(jobs.len(), 2, "{jobs:?}");
    assert_eq!(jobs[0].0, "push");
    assert_eq!(jobs[0].1["type"], "Deliver");
    assert_eq!(jobs[0].1["account_id"], ALICE.parse::<i64>().unwrap());
    assert_eq!(jobs[0].1["inbox"], "https://remote.example/inbox");
    assert_eq!(jobs[0].1["activity"]["type"], "Create");
    assert!(!jobs[0].2 && jobs[1].2, "{jobs:?}");
    let mut redis = app.state.redis.conn().await.unwrap();
    let left: i64 = redis::cmd("LLEN").arg(app.state.redis.key("queue:push")).query_async(&mut redis).await.unwrap();
    assert_eq!(left, 0);
    // Running it again moves nothing more.
    let again = app.ferrodon_command().args(["ctl", "adopt", "jobs"]).output().unwrap();
    assert!(String::from_utf8_lossy(&again.stdout).contains("0 Sidekiq jobs moved"));
}

/// One row as JSON, from a query returning one column `row_to_json(...)`.
async fn row(app: &TestApp, sql: &str, id: i64) -> Value {
    sqlx::query_scalar::<_, Value>(sqlx::AssertSqlSafe(sql.to_string()))
        .bind(id)
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[tokio::test]
async fn rows_ferrodon_writes_are_in_mastodons_formats() {
    let app = adopted(&[]).await;
    let alice = token("fxAliceFullToken_");
    let bob = token("fxBobFullToken___");
    let alice_id: i64 = ALICE.parse().unwrap();

    // A post with a mention, a hashtag and a poll, then edited.
    let posted = app
        .post(
            "/api/v1/statuses",
            Some(&alice),
            serde_json::json!({"status": "Hello @bob, #Adopted or not?", "poll": {"options": ["Yes", "No"], "expires_in": 3600}, "language": "en"}),
        )
        .await
        .ok();
    let id: i64 = posted["id"].as_str().unwrap().parse().unwrap();
    app.put(&format!("/api/v1/statuses/{id}"), Some(&alice), serde_json::json!({"status": "Hello @bob, #Adopted or not? (edited)", "poll": {"options": ["Yes", "No", "Maybe"], "expires_in": 3600}}))
        .await
        .ok();
    app.drain_jobs().await;
    let status = row(&app, "SELECT row_to_json(s) FROM statuses s WHERE id = $1", id).await;
    assert_eq!(status["text"], "Hello @bob, #Adopted or not? (edited)", "the source as typed, not HTML");
    assert_eq!(status["uri"], format!("https://fixture.example/users/alice/statuses/{id}"));
    assert_eq!(status["url"], Value::Null, "Mastodon derives the URL of local statuses");
    assert_eq!(status["language"], "en");
    assert_eq!(status["visibility"], 1, "unlisted: her default_privacy in users.settings");
    assert_eq!(status["local"], true);
    assert_eq!(status["application_id"], 2);
    assert!(status["conversation_id"].is_i64(), "{status}");
    assert!(status["edited_at"].is_string(), "{status}");
    let poll = row(&app, "SELECT row_to_json(p) FROM polls p WHERE status_id = $1", id).await;
    assert_eq!(poll["options"], serde_json::json!(["Yes", "No", "Maybe"]));
    assert_eq!(poll["cached_tallies"], serde_json::json!([0, 0, 0]));
    assert_eq!(status["poll_id"], poll["id"]);
    let edits = row(&app, "SELECT json_agg(e.text ORDER BY e.id) FROM status_edits e WHERE status_id = $1", id).await;
    assert_eq!(edits, serde_json::json!(["Hello @bob, #Adopted or not?", "Hello @bob, #Adopted or not? (edited)"]));
    let mention = row(&app, "SELECT row_to_json(m) FROM mentions m WHERE status_id = $1", id).await;
    assert_eq!(mention["account_id"], BOB.parse::<i64>().unwrap());
    let tag = row(
        &app,
        "SELECT row_to_json(t) FROM tags t JOIN statuses_tags st ON st.tag_id = t.id WHERE st.status_id = $1",
        id,
    )
    .await;
    assert_eq!(tag["name"], "adopted", "normalized, as Mastodon's HashtagNormalizer makes it");
    assert_eq!(tag["display_name"], "Adopted", "as first typed");
    let stats = row(&app, "SELECT row_to_json(s) FROM account_stats s WHERE account_id = $1", alice_id).await;
    assert_eq!(stats["statuses_count"], 8, "7 from Mastodon and this one");
    let notification =
        row(&app, "SELECT row_to_json(n) FROM notifications n WHERE activity_type = 'Mention' AND activity_id = (SELECT id FROM mentions WHERE status_id = $1)", id).await;
    assert_eq!(notification["type"], "mention");
    assert_eq!(notification["account_id"], BOB.parse::<i64>().unwrap());

    // bob votes, favourites and follows heidi; the counters move as Mastodon's do.
    let poll_id = poll["id"].as_i64().unwrap();
    app.post(&format!("/api/v1/polls/{poll_id}/votes"), Some(&bob), serde_json::json!({"choices": [2]})).await.ok();
    app.post(&format!("/api/v1/statuses/{id}/favourite"), Some(&bob), serde_json::json!({})).await.ok();
    app.post("/api/v1/accounts/110000000000000008/follow", Some(&bob), serde_json::json!({})).await.ok();
    app.drain_jobs().await;
    let poll = row(&app, "SELECT row_to_json(p) FROM polls p WHERE id = $1", poll_id).await;
    assert_eq!(poll["cached_tallies"], serde_json::json!([0, 0, 1]));
    assert_eq!(poll["votes_count"], 1);
    let vote = row(&app, "SELECT row_to_json(v) FROM poll_votes v WHERE poll_id = $1", poll_id).await;
    assert_eq!(vote["choice"], 2);
    let stats = row(&app, "SELECT row_to_json(s) FROM status_stats s WHERE status_id = $1", id).await;
    assert_eq!(stats["favourites_count"], 1);
    let favourite = row(&app, "SELECT row_to_json(n) FROM notifications n WHERE type = 'favourite' AND account_id = $1 ORDER BY id DESC LIMIT 1", alice_id).await;
    assert_eq!(favourite["activity_type"], "Favourite");
    let follow = row(
        &app,
        "SELECT row_to_json(f) FROM follows f WHERE account_id = 110000000000000002 AND target_account_id = $1",
        110000000000000008,
    )
    .await;
    let follow_uri = follow["uri"].as_str().unwrap_or_default();
    assert!(follow_uri.starts_with("https://fixture.example/"), "{follow}");
    let heidi = row(&app, "SELECT row_to_json(s) FROM account_stats s WHERE account_id = $1", 110000000000000008).await;
    assert_eq!(heidi["followers_count"], 1);
    let bob_stats =
        row(&app, "SELECT row_to_json(s) FROM account_stats s WHERE account_id = $1", 110000000000000002).await;
    assert_eq!(bob_stats["following_count"], 2);

    // Settings go where Mastodon keeps them: users.settings, as JSON text.
    app.patch(
        "/api/v1/accounts/update_credentials",
        Some(&alice),
        serde_json::json!({"source": {"privacy": "private"}}),
    )
    .await
    .ok();
    let settings: String =
        sqlx::query_scalar("SELECT settings FROM users WHERE id = 1").fetch_one(&app.state.db.primary).await.unwrap();
    let settings: Value = serde_json::from_str(&settings).unwrap();
    assert_eq!(settings["default_privacy"], "private");
    assert_eq!(settings["web.auto_play"], false, "the settings Mastodon stored are kept");

    // An upload is named and laid out as Paperclip does.
    let png = crate::common::png(4, 4);
    let media = app
        .multipart(reqwest::Method::POST, "/api/v2/media", Some(&alice), &[], &[("file", "sea.png", "image/png", &png)])
        .await;
    let media_id: i64 = media.ok()["id"].as_str().unwrap().parse().unwrap();
    app.drain_jobs().await;
    let attachment = row(&app, "SELECT row_to_json(m) FROM media_attachments m WHERE id = $1", media_id).await;
    let name = attachment["file_file_name"].as_str().unwrap();
    assert!(regex::Regex::new("^[0-9a-f]{16}\\.png$").unwrap().is_match(name), "{attachment}");
    assert_eq!(attachment["remote_url"], "");
    assert_eq!(attachment["type"], 0);
    assert!(attachment["file_meta"]["original"]["width"].is_number(), "{attachment}");
    assert!(attachment["file_meta"]["small"]["width"].is_number(), "{attachment}");
    let path =
        app.state.config.media.root_path.join(format!(
            "media_attachments/files/{}/original/{name}",
            ferrodon::model::media::id_partition(media_id)
        ));
    assert!(path.exists(), "{}", path.display());

    // The way back: the data, without ferrodon's own tables, loads into a database made from
    // Mastodon 4.5's schema, and every foreign key of that schema holds.
    let mastodon = TestDatabase::from_mastodon_dump("mastodon-4.5.0-rc.1.sql").await;
    let dump = std::process::Command::new("pg_dump")
        .args([app.db.url.as_str(), "--data-only", "--disable-triggers", "--exclude-table=ferrodon_*"])
        // The schema dump holds these two already.
        .args(["--exclude-table=schema_migrations", "--exclude-table=ar_internal_metadata"])
        .output()
        .expect("run pg_dump");
    assert!(dump.status.success(), "{}", String::from_utf8_lossy(&dump.stderr));
    let mut load = std::process::Command::new("psql")
        .args([mastodon.url.as_str(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-o", "/dev/null"])
        .stdin(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("run psql");
    std::io::Write::write_all(load.stdin.as_mut().unwrap(), &dump.stdout).unwrap();
    drop(load.stdin.take());
    let loaded = load.wait_with_output().unwrap();
    assert!(loaded.status.success(), "loading into the 4.5 schema: {}", String::from_utf8_lossy(&loaded.stderr));
    let pool = sqlx::PgPool::connect(&mastodon.url).await.unwrap();
    let foreign_keys: Vec<(String, String, String, String, String)> = sqlx::query_as(
        "SELECT c.conname, child.relname, a.attname, parent.relname, pa.attname
           FROM pg_constraint c
           JOIN pg_class child ON child.oid = c.conrelid
           JOIN pg_class parent ON parent.oid = c.confrelid
           JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
           JOIN pg_attribute pa ON pa.attrelid = c.confrelid AND pa.attnum = c.confkey[1]
          WHERE c.contype = 'f' AND cardinality(c.conkey) = 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert!(foreign_keys.len() > 100, "{}", foreign_keys.len());
    for (name, child, column, parent, key) in foreign_keys {
        let orphans: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM \"{child}\" c WHERE c.\"{column}\" IS NOT NULL
               AND NOT EXISTS (SELECT 1 FROM \"{parent}\" p WHERE p.\"{key}\" = c.\"{column}\")"
        )))
        .fetch_one(&pool)
        .await
        .unwrap();
        assert_eq!(orphans, 0, "{name}: {child}.{column} → {parent}.{key}");
    }
    pool.close().await;
}

/// Takes one HTTP request from `listener`, answers 202; returns its head lines and body.
pub(crate) async fn receive_delivery(listener: tokio::net::TcpListener) -> (Vec<String>, Vec<u8>) {
    use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
    let (socket, _) = listener.accept().await.unwrap();
    let mut reader = BufReader::new(socket);
    let mut head = Vec::new();
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).await.unwrap();
        if line.trim().is_empty() {
            break;
        }
        head.push(line.trim_end().to_string());
    }
    let length: usize = head
        .iter()
        .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length: ").map(|v| v.trim().parse().unwrap()))
        .unwrap_or(0);
    let mut body = vec![0; length];
    reader.read_exact(&mut body).await.unwrap();
    reader
        .get_mut()
        .write_all(b"HTTP/1.1 202 Accepted\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    (head, body)
}

#[tokio::test]
async fn deliveries_are_signed_with_the_key_pair_mastodon_made() {
    let app = adopted(&[("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8")]).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.4:0").await.unwrap();
    let inbox = format!("http://{}/inbox", listener.local_addr().unwrap());
    sqlx::query("UPDATE accounts SET inbox_url = $1, shared_inbox_url = $1 WHERE id = $2")
        .bind(&inbox)
        .bind(ZED.parse::<i64>().unwrap())
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    let received = tokio::spawn(receive_delivery(listener));
    let alice = token("fxAliceFullToken_");
    app.post("/api/v1/statuses", Some(&alice), serde_json::json!({"status": "Still here", "visibility": "public"}))
        .await
        .ok();
    app.drain_jobs().await;
    let (head, _) =
        tokio::time::timeout(std::time::Duration::from_secs(30), received).await.expect("a delivery").unwrap();
    let header = |name: &str| {
        head.iter()
            .find_map(|l| l.split_once(": ").filter(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.to_string()))
    };
    let signature = header("signature").expect("a Signature header");
    let field = |key: &str| {
        signature
            .split(',')
            .find_map(|part| part.trim().strip_prefix(&format!("{key}=\""))?.strip_suffix('"').map(str::to_string))
    };
    assert_eq!(field("keyId").as_deref(), Some("https://fixture.example/users/alice#main-key"));
    assert_eq!(field("algorithm").as_deref(), Some("rsa-sha256"));
    // The signing string, rebuilt here, checked by OpenSSL with the public key Mastodon stored
    // (the one remote servers cached).
    let signing_string = field("headers")
        .unwrap()
        .split(' ')
        .map(|name| match name {
            "(request-target)" => "(request-target): post /inbox".to_string(),
            name => format!("{name}: {}", header(name).unwrap_or_else(|| panic!("{name} header"))),
        })
        .collect::<Vec<_>>()
        .join("\n");
    let public_key: String = sqlx::query_scalar("SELECT public_key FROM accounts WHERE id = $1")
        .bind(ALICE.parse::<i64>().unwrap())
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    use base64::Engine;
    let dir = std::env::temp_dir().join(unique_name("ferrodon_signature"));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("key.pem"), public_key).unwrap();
    std::fs::write(dir.join("signed.txt"), signing_string).unwrap();
    std::fs::write(
        dir.join("signature.bin"),
        base64::engine::general_purpose::STANDARD.decode(field("signature").unwrap()).unwrap(),
    )
    .unwrap();
    let verified = std::process::Command::new("openssl")
        .current_dir(&dir)
        .args(["dgst", "-sha256", "-verify", "key.pem", "-signature", "signature.bin", "signed.txt"])
        .output()
        .expect("run openssl");
    assert!(verified.status.success(), "{}", String::from_utf8_lossy(&verified.stdout));
    let _ = std::fs::remove_dir_all(&dir);
}

#[tokio::test]
async fn a_mastodon_4_8_instance_with_null_local_uris_is_adopted_too() {
    let app = adopted_release("4.8", &[("FERRODON_FEED_ENCODING", "mastodon")]).await;
    let uris: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE domain IS NULL AND uri IS NULL")
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(uris, 9, "local accounts have no stored URI from 4.7 on");
    let alice = token("fxAliceFullToken_");
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&alice)).await.ok();
    assert_eq!(me["uri"], "https://fixture.example/users/alice");
    assert_eq!(password_grant(&app, "bob@fixture.example", "bob-password-1").await.status.as_u16(), 200);
    assert_eq!(timeline(&app, "/api/v1/timelines/home?limit=40", &alice).await, mastodon_home_of_alice());
    let heidi = activity_json(&app, "/ap/users/110000000000000008").await;
    assert_eq!(heidi["id"], "https://fixture.example/ap/users/110000000000000008");
    let posted = app.post("/api/v1/statuses", Some(&alice), serde_json::json!({"status": "On 4.8"})).await.ok();
    assert_eq!(
        posted["uri"],
        format!("https://fixture.example/users/alice/statuses/{}", posted["id"].as_str().unwrap())
    );
    let zed = app.get(&format!("/api/v1/accounts/{ZED}"), Some(&alice)).await.ok();
    assert_eq!(zed["acct"], "zed@remote.example");
}
