#![allow(clippy::unwrap_used, clippy::expect_used)]
//! What the instance says about itself: `/api/v1/instance`, `/api/v2/instance`, peers,
//! activity, rules, custom emojis, preferences, NodeInfo and `/health`.

use crate::common;

use common::{TestApp, User};
use serde_json::{Value, json};

/// Two users and three public statuses.
async fn populated() -> (TestApp, User, User) {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    for text in ["one", "two"] {
        app.post_status(&alice, json!({ "status": text })).await;
    }
    app.post_status(&bob, json!({ "status": "three" })).await;
    (app, alice, bob)
}

fn domain(app: &TestApp) -> String {
    app.base.trim_start_matches("http://").to_string()
}

fn is_semver_like(version: &str) -> bool {
    let head = version.split([' ', '+', '-']).next().unwrap_or("");
    let parts: Vec<&str> = head.split('.').collect();
    parts.len() == 3 && parts.iter().all(|p| p.parse::<u32>().is_ok())
}

#[tokio::test]
async fn instance_v1() {
    let (app, alice, _) = populated().await;
    let v1 = app.get("/api/v1/instance", None).await.expect(200);
    assert_eq!(v1["uri"], domain(&app));
    assert!(v1["title"].is_string());
    assert!(v1["description"].is_string() && v1["short_description"].is_string() && v1["email"].is_string());
    let version = v1["version"].as_str().unwrap();
    assert!(version.starts_with("4.") && is_semver_like(version), "clients parse a Mastodon version: {version}");
    assert!(v1["urls"]["streaming_api"].as_str().unwrap().starts_with("ws"), "{}", v1["urls"]);
    assert_eq!(v1["stats"]["user_count"], 2);
    assert_eq!(v1["stats"]["status_count"], 3);
    assert_eq!(v1["stats"]["domain_count"], 0);
    assert_eq!(v1["registrations"], true);
    assert_eq!(v1["approval_required"], false);
    assert!(v1["languages"].is_array());
    assert_eq!(v1["configuration"]["statuses"]["max_characters"], 500);
    assert_eq!(v1["configuration"]["statuses"]["characters_reserved_per_url"], 23);
    assert!(v1["configuration"]["statuses"]["max_media_attachments"].is_u64());
    assert!(v1["configuration"]["polls"]["max_options"].is_u64());
    assert!(v1["configuration"]["media_attachments"]["supported_mime_types"].is_array());
    assert_eq!(v1["rules"], json!([]));
    // Signed in, or with a token that is not valid, the answer is the same.
    assert_eq!(app.get("/api/v1/instance", Some(&alice.token)).await.expect(200)["uri"], v1["uri"]);
    assert_eq!(app.get("/api/v1/instance", Some("not-a-token")).await.expect(200)["uri"], v1["uri"]);
}

#[tokio::test]
async fn instance_v2() {
    let (app, _, _) = populated().await;
    let v2 = app.get("/api/v2/instance", None).await.expect(200);
    let v1 = app.get("/api/v1/instance", None).await.expect(200);
    assert_eq!(v2["domain"], domain(&app));
    assert!(v2["title"].is_string());
    assert_eq!(v2["version"], v1["version"]);
    assert!(v2["source_url"].as_str().unwrap().starts_with("https://"));
    assert!(v2["usage"]["users"]["active_month"].as_i64().unwrap() >= 2, "{}", v2["usage"]);
    // Issue 18, defect 9: Mastodon's shapes, with a default picture that is really served.
    assert_eq!(v2["thumbnail"]["url"], v1["thumbnail"]);
    let (status, png) = app.fetch_bytes(v1["thumbnail"].as_str().unwrap()).await;
    assert_eq!((status, &png[1..4]), (200, &b"PNG"[..]));
    assert!(v2.as_object().unwrap().contains_key("wrapstodon"));
    let config = &v2["configuration"];
    assert_eq!(config["urls"]["streaming"], v1["urls"]["streaming_api"]);
    assert_eq!(config["statuses"]["max_characters"], 500);
    assert_eq!(config["statuses"]["characters_reserved_per_url"], 23);
    assert_eq!(config["accounts"]["max_pinned_statuses"], 5);
    assert_eq!(config["accounts"]["max_featured_tags"], 10);
    assert!(config["media_attachments"]["description_limit"].is_u64());
    assert_eq!(config["translation"]["enabled"], false);
    assert_eq!(v2["registrations"]["enabled"], true);
    assert_eq!(v2["registrations"]["approval_required"], false);
    assert!(v2["api_versions"]["mastodon"].as_i64().unwrap() >= 2, "{}", v2["api_versions"]);
    assert!(v2["contact"].is_object());
    assert_eq!(v2["rules"], json!([]));

    let closed = TestApp::spawn().await;
    let (ok, out) = crate::admin::ctl(&closed, &["settings", "registrations", "close"]);
    assert!(ok, "{out}");
    let v2 = closed.get("/api/v2/instance", None).await.expect(200);
    assert_eq!(v2["registrations"]["enabled"], false);
    assert_eq!(closed.get("/api/v1/instance", None).await.expect(200)["registrations"], false);
}

#[tokio::test]
async fn peers_activity_rules_and_emojis() {
    let (app, _, _) = populated().await;
    assert_eq!(app.get("/api/v1/instance/peers", None).await.expect(200), json!([]));
    sqlx::query(
        "INSERT INTO accounts (username, domain, uri, created_at, updated_at)
         VALUES ('someone', 'remote.example', 'https://remote.example/users/someone', now(), now())",
    )
    .execute(&app.state.db.primary)
    .await
    .unwrap();
    assert_eq!(app.get("/api/v1/instance/peers", None).await.expect(200), json!(["remote.example"]));
    assert_eq!(app.get("/api/v1/instance", None).await.expect(200)["stats"]["domain_count"], 1);

    let activity = app.get("/api/v1/instance/activity", None).await.expect(200);
    let weeks = activity.as_array().unwrap();
    assert_eq!(weeks.len(), 12);
    for week in weeks {
        for key in ["week", "statuses", "logins", "registrations"] {
            let value = week[key].as_str().unwrap_or_else(|| panic!("{key} is a string: {week}"));
            assert!(value.parse::<i64>().is_ok(), "{key}: {value}");
        }
    }
    let this_week = &weeks[0];
    assert_eq!(this_week["statuses"], "3");
    assert_eq!(this_week["registrations"], "2");
    assert_eq!(this_week["logins"], "2");
    let starts: Vec<i64> = weeks.iter().map(|w| w["week"].as_str().unwrap().parse().unwrap()).collect();
    assert!(starts.windows(2).all(|w| w[0] - w[1] == 7 * 24 * 3600), "consecutive weeks, newest first: {starts:?}");
    assert!(starts[0] <= chrono::Utc::now().timestamp());

    assert_eq!(app.get("/api/v1/instance/rules", None).await.expect(200), json!([]));
    assert_eq!(app.get("/api/v1/custom_emojis", None).await.expect(200), json!([]));
}

#[tokio::test]
async fn preferences_follow_the_profile_source() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let prefs = app.get("/api/v1/preferences", Some(&alice.token)).await.expect(200);
    assert_eq!(prefs["posting:default:visibility"], "public");
    assert_eq!(prefs["posting:default:sensitive"], false);
    assert_eq!(prefs["reading:expand:media"], "default");
    assert_eq!(prefs["reading:expand:spoilers"], false);
    assert_eq!(prefs["posting:default:language"], "en", "the language a post would get");

    app.patch(
        "/api/v1/accounts/update_credentials",
        Some(&alice.token),
        json!({ "source": { "privacy": "private", "sensitive": true, "language": "de" } }),
    )
    .await
    .expect(200);
    let prefs = app.get("/api/v1/preferences", Some(&alice.token)).await.expect(200);
    assert_eq!(prefs["posting:default:visibility"], "private");
    assert_eq!(prefs["posting:default:sensitive"], true);
    assert_eq!(prefs["posting:default:language"], "de");

    app.get("/api/v1/preferences", None).await.expect(401);
}

#[tokio::test]
async fn nodeinfo_names_ferrodon_and_stays_mastodon_compatible() {
    let (app, _, _) = populated().await;
    let index = app.get("/.well-known/nodeinfo", None).await.expect(200);
    assert_eq!(index["links"][0]["rel"], "http://nodeinfo.diaspora.software/ns/schema/2.0");
    assert_eq!(index["links"][0]["href"], format!("{}/nodeinfo/2.0", app.base));

    let res = app.get("/nodeinfo/2.0", None).await;
    let content_type = res.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let info: Value = res.expect(200);
    assert!(content_type.starts_with("application/json"), "{content_type}");
    assert_eq!(info["version"], "2.0");
    assert_eq!(info["software"]["name"], "ferrodon");
    let version = info["software"]["version"].as_str().unwrap();
    assert!(version.starts_with("4.") && is_semver_like(version), "{version}");
    assert_eq!(info["protocols"], json!(["activitypub"]));
    assert_eq!(info["usage"]["users"]["total"], 2);
    assert!(info["usage"]["users"]["activeMonth"].as_i64().unwrap() >= 2);
    assert_eq!(info["usage"]["localPosts"], 3);
    assert_eq!(info["openRegistrations"], true);
    assert!(info["metadata"].is_object());
}

#[tokio::test]
async fn health_is_plain_ok() {
    let app = TestApp::spawn().await;
    let res = app.get("/health", None).await;
    assert_eq!(res.status.as_u16(), 200);
    assert_eq!(res.text, "OK");
    let content_type = res.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("text/plain"), "{content_type}");
}

#[tokio::test]
async fn head_is_answered_as_get_without_a_body() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let app = TestApp::spawn().await;
    let address = app.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!("HEAD /api/v1/instance HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).await.unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.ends_with("\r\n\r\n"), "no body: {answer}");
    let missing = app
        .client
        .head(format!("{}/users/nobody", app.base))
        .header("Accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    assert_eq!(missing.status().as_u16(), 404);
}

/// The texts an admin writes and the list of limited servers, as Mastodon serves them.
#[tokio::test]
async fn about_texts_and_the_public_list_of_limited_servers() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let db = &app.state.db.primary;
    let store = |var: &'static str, value: Value| async move {
        ferrodon::model::settings::store(db, var, &value).await.unwrap();
    };

    let about = app.get("/api/v1/instance/extended_description", None).await.expect(200);
    assert_eq!(about, json!({ "updated_at": null, "content": "" }));
    store("site_extended_description", json!("# Welcome\n\nA <b>friendly</b> place.")).await;
    let about = app.get("/api/v1/instance/extended_description", None).await.expect(200);
    assert_eq!(about["content"], "<h1>Welcome</h1>\n<p>A <b>friendly</b> place.</p>\n");
    assert!(about["updated_at"].as_str().unwrap().ends_with('Z'), "{about}");

    let policy = app.get("/api/v1/instance/privacy_policy", None).await.expect(200);
    assert!(policy["content"].as_str().unwrap().contains(&app.state.config.local_domain), "{policy}");
    store("site_terms", json!("Nothing is kept on %{domain}. <script>x</script>")).await;
    let policy = app.get("/api/v1/instance/privacy_policy", None).await.expect(200);
    let expected =
        format!("<p>Nothing is kept on {}. &lt;script&gt;x&lt;/script&gt;</p>\n", app.state.config.local_domain);
    assert_eq!(policy["content"], expected.as_str());
    assert_eq!(app.get("/api/v1/instance/translation_languages", None).await.expect(200), json!({}));

    for (domain, severity, obfuscate) in [
        ("bad.example", 1, false),
        ("quiet.example", 0, false),
        ("secretive.example", 1, true),
        ("fine.example", 2, false),
    ] {
        sqlx::query(
            "INSERT INTO domain_blocks (domain, severity, obfuscate, public_comment, created_at, updated_at)
             VALUES ($1, $2, $3, 'spam', now(), now())",
        )
        .bind(domain)
        .bind(severity)
        .bind(obfuscate)
        .execute(db)
        .await
        .unwrap();
    }
    app.get("/api/v1/instance/domain_blocks", None).await.expect(404);
    store("show_domain_blocks", json!("users")).await;
    app.get("/api/v1/instance/domain_blocks", None).await.expect(404);
    let listed = app.get("/api/v1/instance/domain_blocks", Some(&alice.token)).await.expect(200);
    let domains: Vec<&str> = listed.as_array().unwrap().iter().map(|b| b["domain"].as_str().unwrap()).collect();
    assert_eq!(domains, ["quiet.example", "bad.example", "secre****.***mple"], "silenced first, no noop");
    assert_eq!(listed[0]["severity"], "silence");
    assert_eq!(listed[0]["comment"], Value::Null);
    assert_eq!(listed[2]["digest"].as_str().unwrap().len(), 64);
    store("show_domain_blocks", json!("all")).await;
    store("show_domain_blocks_rationale", json!("all")).await;
    let listed = app.get("/api/v1/instance/domain_blocks", None).await.expect(200);
    assert_eq!(listed[1]["comment"], "spam");
}

/// Terms of service as Mastodon's admin publishes them: the one in force, each by its day, and
/// 404 before there are any.
#[tokio::test]
async fn terms_of_service_in_force_and_by_day() {
    let app = TestApp::spawn().await;
    app.get("/api/v1/instance/terms_of_service", None).await.expect(404);
    let insert = |text: &'static str, date: &'static str| {
        sqlx::query(
            "INSERT INTO terms_of_services (text, changelog, effective_date, published_at, created_at, updated_at)
             VALUES ($1, 'changed', $2::date, now(), now(), now())",
        )
        .bind(text)
        .bind(date)
    };
    insert("Be kind on %{domain}. <b>x</b>", "2026-01-01").execute(&app.state.db.primary).await.unwrap();
    insert("Newer terms", "2099-01-01").execute(&app.state.db.primary).await.unwrap();

    let current = app.get("/api/v1/instance/terms_of_service", None).await.expect(200);
    assert_eq!(current["effective_date"], "2026-01-01");
    assert_eq!(current["effective"], true);
    assert_eq!(current["succeeded_by"], "2099-01-01");
    let content = current["content"].as_str().unwrap();
    assert!(content.contains(&app.state.config.local_domain) && content.contains("&lt;b&gt;"), "{content}");

    let upcoming = app.get("/api/v1/instance/terms_of_service/2099-01-01", None).await.expect(200);
    assert_eq!(upcoming["effective"], false);
    assert_eq!(upcoming["succeeded_by"], Value::Null);
    app.get("/api/v1/instance/terms_of_service/2050-05-05", None).await.expect(404);
    app.get("/api/v1/instance/terms_of_service/not-a-date", None).await.expect(404);
    let instance = app.get("/api/v2/instance", None).await.expect(200);
    assert!(instance["configuration"]["urls"]["terms_of_service"].as_str().unwrap().ends_with("/terms-of-service"));
}
