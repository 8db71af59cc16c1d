#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Bad input and bad credentials: Mastodon's status codes with `{"error": ...}` bodies,
//! never a 500, and nothing written.

use crate::common;

use common::{Body, Response, TestApp, User};
use reqwest::Method;
use serde_json::json;

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap()
}

async fn raw(
    app: &TestApp,
    method: Method,
    path: &str,
    token: Option<&str>,
    content_type: &'static str,
    body: &[u8],
) -> Response {
    app.request(method, path, token, Some(Body::Raw(content_type.to_string(), body.to_vec()))).await
}

#[track_caller]
fn assert_json_error(res: &Response, status: u16) {
    assert_eq!(res.status.as_u16(), status, "{}", res.text);
    let content_type = res.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("application/json"), "JSON error body, got {content_type}: {}", res.text);
    assert!(res.body["error"].as_str().is_some_and(|e| !e.is_empty()), "{{\"error\": …}}: {}", res.text);
}

async fn app_only_token(app: &TestApp) -> String {
    app.app_token("read write follow").await
}

async fn status_of(app: &TestApp, user: &User, text: &str) -> String {
    app.post_status(user, json!({ "status": text })).await["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn malformed_bodies_are_400() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let json_type = "application/json";
    for body in [&b"{\"status\": "[..], b"{not json}", b"[1, 2, 3]", b"\"just a string\"", b"\xff\xfe{}"] {
        let res = raw(&app, Method::POST, "/api/v1/statuses", Some(&alice.token), json_type, body).await;
        assert_json_error(&res, 400);
        let res =
            raw(&app, Method::PATCH, "/api/v1/accounts/update_credentials", Some(&alice.token), json_type, body).await;
        assert_json_error(&res, 400);
        let res = raw(&app, Method::POST, "/api/v1/apps", None, json_type, body).await;
        assert_json_error(&res, 400);
    }
    // Wrong JSON types for a value.
    let res = app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": { "nested": true } })).await;
    assert_json_error(&res, 400);
    assert_eq!(count(&app, "statuses").await, 0);
    assert_eq!(count(&app, "oauth_applications").await, 1, "only the one register() made");
}

#[tokio::test]
async fn odd_input_never_causes_a_server_error() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let cases = [
        json!({ "status": "x", "visibility": 5 }),
        json!({ "status": "x", "in_reply_to_id": "abc" }),
        json!({ "status": "x", "in_reply_to_id": "99999999999999999999999999" }),
        json!({ "status": "x", "in_reply_to_id": -1 }),
        json!({ "status": "x", "media_ids": ["not-a-number"] }),
        json!({ "status": "x", "media_ids": ["12345"] }),
        json!({ "status": "x", "poll": { "options": "a", "expires_in": "soon" } }),
        json!({ "status": "x", "poll": { "options": [["a"], {"b": 1}], "expires_in": [] } }),
        json!({ "status": "x", "scheduled_at": "tomorrow" }),
        json!({ "status": "x", "sensitive": [] }),
        json!({ "status": "\u{0000}nul" }),
        json!({ "status": "x".repeat(100_000) }),
    ];
    for body in cases {
        let res = app.post("/api/v1/statuses", Some(&alice.token), body.clone()).await;
        assert!(res.status.is_client_error(), "{body}: {} {}", res.status, res.text);
        assert!(res.body["error"].is_string(), "{body}: {}", res.text);
    }
    assert_eq!(count(&app, "statuses").await, 0, "no rejected status was written");
    let res = app
        .post_form(
            "/api/v1/apps",
            None,
            &[("client_name", "nul\0name"), ("redirect_uris", "urn:ietf:wg:oauth:2.0:oob")],
        )
        .await;
    assert_json_error(&res, 400);
    let res = app
        .post_form("/oauth/token", None, &[("grant_type", "password"), ("username", "a\0b"), ("password", "x")])
        .await;
    assert!(res.status.is_client_error(), "{}", res.text);

    for path in [
        "/api/v1/timelines/public?limit=abc",
        "/api/v1/timelines/public?max_id=abc",
        "/api/v1/timelines/public?limit=-5",
        "/api/v1/timelines/tag/%F0%9F%A6%80",
        "/api/v1/accounts/lookup",
        "/api/v1/accounts/lookup?acct=",
        "/api/v1/accounts/relationships?id=notanid",
        "/api/v1/notifications?account_id=abc",
        "/api/v1/statuses?id[]=abc",
        "/api/v1/timelines/tag/a%00b",
        "/api/v1/accounts/lookup?acct=a%00b",
        "/api/v1/accounts/a%00b",
    ] {
        let res = app.get(path, Some(&alice.token)).await;
        assert!(res.status.as_u16() < 500, "{path}: {} {}", res.status, res.text);
        if !res.status.is_success() {
            assert!(res.body["error"].is_string(), "{path}: {}", res.text);
        }
    }
}

#[tokio::test]
async fn credentials_are_checked() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;

    for token in [None, Some("unknown-token"), Some("")] {
        let res = app.get("/api/v1/accounts/verify_credentials", token).await;
        assert_json_error(&res, 401);
        let res = app.post("/api/v1/statuses", token.filter(|t| !t.is_empty()), json!({ "status": "x" })).await;
        assert_json_error(&res, 401);
    }
    // A token that is present but invalid is refused even where anonymous access is fine.
    let res = app.get("/api/v1/timelines/public", Some("unknown-token")).await;
    assert_json_error(&res, 401);
    app.get("/api/v1/timelines/public", None).await.expect(200);

    // Other authorization schemes are not bearer tokens.
    let basic = app
        .client
        .get(format!("{}/api/v1/accounts/verify_credentials", app.base))
        .basic_auth("alice", Some("correct horse battery"))
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 401);
    // The token may also come as a query parameter, as Doorkeeper allows.
    let query = app.get(&format!("/api/v1/accounts/verify_credentials?access_token={}", alice.token), None).await;
    assert_eq!(query.expect(200)["username"], "alice");

    // Revoked tokens (a direct database revocation, as an admin action would do).
    sqlx::query("UPDATE oauth_access_tokens SET revoked_at = now() WHERE token = $1")
        .bind(&alice.token)
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    assert_json_error(&app.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await, 401);
    assert_json_error(&app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "x" })).await, 401);
    assert_eq!(count(&app, "statuses").await, 0);
}

#[tokio::test]
async fn disabled_users_are_forbidden() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    sqlx::query("UPDATE users SET disabled = true").execute(&app.state.db.primary).await.unwrap();
    let res = app.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await;
    assert_json_error(&res, 403);
    assert_eq!(res.body["error"], "Your login is currently disabled");
    let res = app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "x" })).await;
    assert_json_error(&res, 403);
    assert_eq!(count(&app, "statuses").await, 0);
}

#[tokio::test]
async fn app_tokens_are_not_users() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let token = app_only_token(&app).await;
    for (method, path) in [
        (Method::GET, "/api/v1/accounts/verify_credentials".to_string()),
        (Method::GET, "/api/v1/timelines/home".to_string()),
        (Method::GET, "/api/v1/notifications".to_string()),
        (Method::GET, "/api/v1/preferences".to_string()),
        (Method::POST, "/api/v1/statuses".to_string()),
        (Method::POST, format!("/api/v1/accounts/{}/follow", alice.id)),
    ] {
        let body = (method == Method::POST).then(|| Body::Json(json!({ "status": "from an app" })));
        let res = app.request(method.clone(), &path, Some(&token), body).await;
        assert_json_error(&res, 422);
        assert_eq!(res.body["error"], "This method requires an authenticated user", "{method} {path}");
    }
    // Public data is fine with an app token.
    app.get("/api/v1/timelines/public", Some(&token)).await.expect(200);
    app.get(&format!("/api/v1/accounts/{}", alice.id), Some(&token)).await.expect(200);
    assert_eq!(count(&app, "statuses").await, 0);
    assert_eq!(count(&app, "follows").await, 0);
}

#[tokio::test]
async fn unknown_and_malformed_ids_are_404() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let token = Some(alice.token.as_str());
    for id in ["999999999", "abc", "-1", "1.5", "99999999999999999999999"] {
        for (method, path) in [
            (Method::GET, format!("/api/v1/statuses/{id}")),
            (Method::GET, format!("/api/v1/statuses/{id}/context")),
            (Method::DELETE, format!("/api/v1/statuses/{id}")),
            (Method::POST, format!("/api/v1/statuses/{id}/favourite")),
            (Method::POST, format!("/api/v1/statuses/{id}/reblog")),
            (Method::GET, format!("/api/v1/accounts/{id}")),
            (Method::GET, format!("/api/v1/accounts/{id}/statuses")),
            (Method::GET, format!("/api/v1/accounts/{id}/followers")),
            (Method::POST, format!("/api/v1/accounts/{id}/follow")),
            (Method::POST, format!("/api/v1/accounts/{id}/block")),
            (Method::POST, format!("/api/v1/accounts/{id}/mute")),
            (Method::GET, format!("/api/v1/notifications/{id}")),
            (Method::POST, format!("/api/v1/notifications/{id}/dismiss")),
            (Method::POST, format!("/api/v1/follow_requests/{id}/authorize")),
        ] {
            let body = (method == Method::POST).then(|| Body::Json(json!({})));
            let res = app.request(method.clone(), &path, token, body).await;
            assert_json_error(&res, 404);
            assert_eq!(res.body["error"], "Record not found", "{method} {path}");
        }
    }
    for table in ["favourites", "follows", "blocks", "mutes", "statuses"] {
        assert_eq!(count(&app, table).await, 0, "{table}");
    }
}

#[tokio::test]
async fn trailing_slashes_are_accepted() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let id = status_of(&app, &alice, "hello").await;
    app.get("/api/v1/instance/", None).await.expect(200);
    app.get("/api/v2/instance/", None).await.expect(200);
    app.get("/api/v1/timelines/public/", None).await.expect(200);
    let me = app.get("/api/v1/accounts/verify_credentials/", Some(&alice.token)).await.expect(200);
    assert_eq!(me["username"], "alice");
    assert_eq!(app.get(&format!("/api/v1/statuses/{id}/"), None).await.expect(200)["id"], id.as_str());
    let posted = app.post("/api/v1/statuses/", Some(&alice.token), json!({ "status": "slash" })).await.expect(200);
    assert_eq!(posted["content"], "<p>slash</p>");
    app.post(&format!("/api/v1/statuses/{id}/favourite/"), Some(&alice.token), json!({})).await.expect(200);
}

#[tokio::test]
async fn unknown_routes_are_json_404() {
    let app = TestApp::spawn().await;
    for path in ["/api/v1/nope", "/api/v3/instance", "/api/v1/statuses/1/nothing", "/nothing/at/all"] {
        let res = app.get(path, None).await;
        assert_json_error(&res, 404);
    }
    let res = app.post("/api/v1/nope", None, json!({})).await;
    assert_json_error(&res, 404);
}

#[tokio::test]
async fn wrong_methods_on_known_paths_are_json_404() {
    // Mastodon's catch-all route answers any unrouted method with 404.
    let app = TestApp::spawn().await;
    for (method, path) in [
        (Method::DELETE, "/api/v1/instance"),
        (Method::PUT, "/api/v1/timelines/public"),
        (Method::GET, "/oauth/token"),
        (Method::GET, "/api/v1/statuses/1/favourite"),
    ] {
        let res = app.request(method.clone(), path, None, None).await;
        assert_json_error(&res, 404);
    }
}

#[tokio::test]
async fn rejected_writes_leave_no_trace() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let private = app.post_status(&bob, json!({ "status": "hidden", "visibility": "private" })).await;
    let private = private["id"].as_str().unwrap().to_string();
    let before_statuses = count(&app, "statuses").await;
    let before_tags = count(&app, "tags").await;
    let before_conversations = count(&app, "conversations").await;

    // Over-long text with a new hashtag and a mention: no status, tag, mention or notification.
    let long = format!("@bob #brandnew {}", "x".repeat(500));
    app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": long })).await.expect(422);
    app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "@bob #brandnew", "visibility": "bogus" }))
        .await
        .expect(422);
    app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "@bob #brandnew", "in_reply_to_id": private }))
        .await
        .expect(404);
    assert_eq!(count(&app, "statuses").await, before_statuses);
    assert_eq!(count(&app, "tags").await, before_tags);
    assert_eq!(count(&app, "conversations").await, before_conversations);
    assert_eq!(count(&app, "mentions").await, 0);
    assert_eq!(count(&app, "notifications").await, 0);
    let jobs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM ferrodon_jobs WHERE kind = 'Event' AND payload->>'type' = 'StatusCreated'",
    )
    .fetch_one(&app.state.db.primary)
    .await
    .unwrap();
    assert_eq!(jobs, 1, "only bob's post has its effects to come");

    // Interactions with a status alice cannot see.
    for action in ["favourite", "bookmark", "reblog", "pin"] {
        app.post(&format!("/api/v1/statuses/{private}/{action}"), Some(&alice.token), json!({})).await.expect(404);
    }
    for table in ["favourites", "bookmarks", "status_pins"] {
        assert_eq!(count(&app, table).await, 0, "{table}");
    }
    assert_eq!(count(&app, "statuses").await, before_statuses);

    // A failed profile update changes nothing, even the valid parts of it.
    app.patch(
        "/api/v1/accounts/update_credentials",
        Some(&alice.token),
        json!({ "display_name": "Valid", "note": "x".repeat(501) }),
    )
    .await
    .expect(422);
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["display_name"], "");
}
