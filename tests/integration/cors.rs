#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Browser clients (Elk, Phanpy, any web app on another origin) need CORS on the API and
//! the OAuth token endpoint, as Mastodon's rack-cors setup provides.

use crate::common;

use common::TestApp;
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::json;

const ORIGIN: &str = "https://elk.example";

fn header<'a>(headers: &'a HeaderMap, name: &str) -> &'a str {
    headers.get(name).and_then(|v| v.to_str().ok()).unwrap_or("")
}

async fn preflight(app: &TestApp, path: &str, method: &str) -> reqwest::Response {
    app.client
        .request(Method::OPTIONS, format!("{}{path}", app.base))
        .header("Origin", ORIGIN)
        .header("Access-Control-Request-Method", method)
        .header("Access-Control-Request-Headers", "authorization, content-type, idempotency-key")
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn preflight_requests_are_answered() {
    let app = TestApp::spawn().await;
    for (path, method) in [
        ("/api/v1/statuses", "POST"),
        ("/api/v1/statuses/123", "DELETE"),
        ("/api/v1/accounts/update_credentials", "PATCH"),
        ("/api/v1/timelines/home", "GET"),
        ("/api/v2/instance", "GET"),
        ("/oauth/token", "POST"),
        ("/oauth/revoke", "POST"),
    ] {
        let res = preflight(&app, path, method).await;
        assert!(res.status().is_success(), "{method} {path}: {}", res.status());
        let headers = res.headers();
        assert_eq!(header(headers, "access-control-allow-origin"), "*", "{path}");
        let methods = header(headers, "access-control-allow-methods");
        assert!(methods.contains(method), "{path}: {methods}");
        let allowed = header(headers, "access-control-allow-headers").to_ascii_lowercase();
        for asked in ["authorization", "content-type", "idempotency-key"] {
            assert!(allowed.contains(asked), "{path}: {allowed}");
        }
    }
}

#[tokio::test]
async fn responses_allow_any_origin_and_expose_link() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.post_status(&alice, json!({ "status": "hello" })).await;
    for (path, token) in [
        ("/api/v1/timelines/public", None),
        ("/api/v1/accounts/verify_credentials", Some(alice.token.as_str())),
        ("/api/v1/instance", None),
        ("/api/v1/nope", None),
        ("/.well-known/nodeinfo", None),
    ] {
        let mut req = app.client.get(format!("{}{path}", app.base)).header("Origin", ORIGIN);
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        let res = req.send().await.unwrap();
        let headers = res.headers();
        assert_eq!(header(headers, "access-control-allow-origin"), "*", "{path}");
        assert!(header(headers, "access-control-expose-headers").contains("Link"), "{path}");
    }
    // Errors made by the routing layer get them too.
    let res = app.client.delete(format!("{}/api/v1/instance", app.base)).header("Origin", ORIGIN).send().await.unwrap();
    assert_eq!(res.status().as_u16(), 404);
    assert_eq!(header(res.headers(), "access-control-allow-origin"), "*");
    assert_eq!(header(res.headers(), "cache-control"), "private, no-store");
}
