#![allow(clippy::unwrap_used, clippy::expect_used)]
//! OAuth end to end: app registration, every grant we accept, the server-rendered
//! authorization page, PKCE, revocation, scope enforcement and the metadata document.

use crate::common;

use base64::Engine;
use common::{Response, TestApp, User};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";
const PASSWORD: &str = "correct horse battery";

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}")).to_string()
}

/// A registered app: (client_id, client_secret).
async fn register_app(app: &TestApp, redirect_uris: &str, scopes: &str) -> (String, String) {
    let body = app
        .post(
            "/api/v1/apps",
            None,
            json!({ "client_name": "Test client", "redirect_uris": redirect_uris, "scopes": scopes }),
        )
        .await
        .expect(200);
    (s(&body["client_id"]), s(&body["client_secret"]))
}

async fn password_grant(app: &TestApp, client: &(String, String), username: &str, scope: &str) -> Response {
    app.post_form(
        "/oauth/token",
        None,
        &[
            ("grant_type", "password"),
            ("client_id", &client.0),
            ("client_secret", &client.1),
            ("username", username),
            ("password", PASSWORD),
            ("scope", scope),
        ],
    )
    .await
}

/// A user token limited to `scope`, through the password grant. The app registers exactly
/// that scope: as in Doorkeeper, `write` does not let an app ask for `write:statuses`.
async fn token_with_scope(app: &TestApp, user: &User, scope: &str) -> String {
    let client = register_app(app, OOB, scope).await;
    let body = password_grant(app, &client, &user.username, scope).await.expect(200);
    assert_eq!(body["scope"], scope);
    s(&body["access_token"])
}

#[track_caller]
fn assert_oauth_error(res: Response, status: u16, error: &str) {
    assert_eq!(res.status.as_u16(), status, "body: {}", res.text);
    assert_eq!(res.body["error"], error, "body: {}", res.text);
    assert!(res.body["error_description"].is_string(), "OAuth errors carry a description: {}", res.text);
}

fn html_unescape(s: &str) -> String {
    s.replace("&quot;", "\"").replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
}

/// `(name, value)` of every `<input type="hidden">` in a page.
fn hidden_inputs(html: &str) -> Vec<(String, String)> {
    let re = regex::Regex::new(r#"<input type="hidden" name="([^"]*)" value="([^"]*)">"#).unwrap();
    re.captures_iter(html).map(|c| (c[1].to_string(), html_unescape(&c[2]))).collect()
}

fn pkce_pair() -> (String, String) {
    let verifier = format!("verifier-{}-0123456789abcdefghijklmnopqrstuvwxyz", std::process::id());
    let challenge = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

fn authorize_query(client_id: &str, redirect_uri: &str, scope: &str, extra: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query.append_pair("response_type", "code");
    query.append_pair("client_id", client_id);
    query.append_pair("redirect_uri", redirect_uri);
    query.append_pair("scope", scope);
    for (k, v) in extra {
        query.append_pair(k, v);
    }
    format!("/oauth/authorize?{}", query.finish())
}

/// Loads the consent page, checks its form, and submits it with `login`/`password`.
async fn sign_in_and_approve(app: &TestApp, authorize_path: &str, login: &str, password: &str) -> Response {
    let page = app.get(authorize_path, None).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.text);
    let content_type = page.headers.get("content-type").and_then(|v| v.to_str().ok()).unwrap_or("");
    assert!(content_type.starts_with("text/html"), "{content_type}");
    assert!(page.text.contains(r#"<form method="post" action="/oauth/authorize">"#), "{}", page.text);
    assert!(page.text.contains(r#"name="username""#), "{}", page.text);
    assert!(page.text.contains(r#"name="password""#), "{}", page.text);
    let mut fields = hidden_inputs(&page.text);
    assert!(fields.iter().any(|(k, _)| k == "client_id"), "hidden client_id: {}", page.text);
    fields.push(("username".into(), login.into()));
    fields.push(("password".into(), password.into()));
    fields.push(("decision".into(), "approve".into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    app.post_form("/oauth/authorize", None, &pairs).await
}

fn code_from_oob_page(html: &str) -> String {
    let re = regex::Regex::new(r#"<code id="authorization-code">([^<]+)</code>"#).unwrap();
    html_unescape(&re.captures(html).unwrap_or_else(|| panic!("no authorization code in page: {html}"))[1])
}

/// The query pairs of a 302 response's `Location`.
fn redirect_params(res: &Response) -> (url::Url, Vec<(String, String)>) {
    assert_eq!(res.status.as_u16(), 302, "{}", res.text);
    let location = res.headers.get("location").and_then(|v| v.to_str().ok()).expect("Location header");
    let url = url::Url::parse(location).expect("absolute Location");
    let pairs = url.query_pairs().map(|(k, v)| (k.into_owned(), v.into_owned())).collect();
    (url, pairs)
}

fn param<'a>(pairs: &'a [(String, String)], key: &str) -> Option<&'a str> {
    pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
}

async fn redeem(
    app: &TestApp,
    client: &(String, String),
    code: &str,
    redirect_uri: &str,
    verifier: Option<&str>,
) -> Response {
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("client_id", client.0.as_str()),
        ("client_secret", client.1.as_str()),
        ("code", code),
        ("redirect_uri", redirect_uri),
    ];
    if let Some(v) = verifier {
        form.push(("code_verifier", v));
    }
    app.post_form("/oauth/token", None, &form).await
}

async fn me(app: &TestApp, token: &str) -> Value {
    app.get("/api/v1/accounts/verify_credentials", Some(token)).await.expect(200)
}

#[tokio::test]
async fn apps_are_created_from_json_and_form_bodies() {
    let app = TestApp::spawn().await;

    let json_app = app
        .post(
            "/api/v1/apps",
            None,
            json!({
                "client_name": "JSON client",
                "redirect_uris": "https://client.example/callback",
                "scopes": "read write:statuses follow",
                "website": "https://client.example"
            }),
        )
        .await
        .expect(200);
    assert!(json_app["id"].is_string());
    assert_eq!(json_app["name"], "JSON client");
    assert_eq!(json_app["website"], "https://client.example");
    assert_eq!(json_app["redirect_uri"], "https://client.example/callback");
    assert_eq!(json_app["redirect_uris"], json!(["https://client.example/callback"]));
    assert_eq!(json_app["scopes"], json!(["read", "write:statuses", "follow"]));
    assert!(json_app["client_id"].as_str().is_some_and(|c| !c.is_empty()));
    assert!(json_app["client_secret"].as_str().is_some_and(|c| !c.is_empty()));
    assert_ne!(json_app["client_id"], json_app["client_secret"]);

    let form_app = app
        .post_form(
            "/api/v1/apps",
            None,
            &[("client_name", "Form client"), ("redirect_uris", OOB), ("scopes", "read write")],
        )
        .await
        .expect(200);
    assert_eq!(form_app["name"], "Form client");
    assert_eq!(form_app["redirect_uri"], OOB);
    assert_eq!(form_app["scopes"], json!(["read", "write"]));
    assert_eq!(form_app["website"], Value::Null);

    // Several redirect URIs, as a JSON array and as `redirect_uris[]` form keys.
    let multi = app
        .post("/api/v1/apps", None, json!({ "client_name": "Multi", "redirect_uris": ["https://a.example/cb", OOB] }))
        .await
        .expect(200);
    assert_eq!(multi["redirect_uris"], json!(["https://a.example/cb", OOB]));
    let multi_form = app
        .post_form(
            "/api/v1/apps",
            None,
            &[("client_name", "Multi form"), ("redirect_uris[]", "https://b.example/cb"), ("redirect_uris[]", OOB)],
        )
        .await
        .expect(200);
    assert_eq!(multi_form["redirect_uris"], json!(["https://b.example/cb", OOB]));

    // Without `scopes` an app gets `read`, as in Mastodon.
    let default_scopes = app.post("/api/v1/apps", None, json!({ "client_name": "D", "redirect_uris": OOB })).await;
    assert_eq!(default_scopes.expect(200)["scopes"], json!(["read"]));
}

#[tokio::test]
async fn app_validation_errors_are_422_and_write_nothing() {
    let app = TestApp::spawn().await;
    let cases = [
        json!({ "client_name": "", "redirect_uris": OOB }),
        json!({ "client_name": "   ", "redirect_uris": OOB }),
        json!({ "redirect_uris": OOB }),
        json!({ "client_name": "x".repeat(61), "redirect_uris": OOB }),
        json!({ "client_name": "No redirect" }),
        json!({ "client_name": "Bad redirect", "redirect_uris": "not a uri" }),
        json!({ "client_name": "Relative redirect", "redirect_uris": "/callback" }),
        json!({ "client_name": "Fragment redirect", "redirect_uris": "https://client.example/cb#frag" }),
        json!({ "client_name": "Bad scope", "redirect_uris": OOB, "scopes": "read bogus" }),
    ];
    for body in cases {
        let res = app.post("/api/v1/apps", None, body.clone()).await;
        let error = res.expect(422);
        assert!(error["error"].as_str().unwrap().starts_with("Validation failed"), "{body}: {error}");
    }
    let count: i64 =
        sqlx::query_scalar("SELECT count(*) FROM oauth_applications").fetch_one(&app.state.db.primary).await.unwrap();
    assert_eq!(count, 0);
}

#[tokio::test]
async fn app_verify_credentials_shows_the_app_without_secrets() {
    let app = TestApp::spawn().await;
    let client = register_app(&app, OOB, "read write").await;
    let token = app
        .post_form(
            "/oauth/token",
            None,
            &[("grant_type", "client_credentials"), ("client_id", &client.0), ("client_secret", &client.1)],
        )
        .await
        .expect(200);
    let verified = app.get("/api/v1/apps/verify_credentials", token["access_token"].as_str()).await.expect(200);
    assert_eq!(verified["name"], "Test client");
    assert!(verified.get("client_secret").is_none(), "{verified}");
    assert!(verified.get("client_id").is_none(), "{verified}");

    // A user token works too and names the app that issued it.
    let alice = app.register("alice").await;
    let verified = app.get("/api/v1/apps/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(verified["name"], "test");

    app.get("/api/v1/apps/verify_credentials", None).await.expect(401);
    app.get("/api/v1/apps/verify_credentials", Some("not-a-token")).await.expect(401);
}

#[tokio::test]
async fn client_credentials_grant_issues_an_app_token() {
    let app = TestApp::spawn().await;
    let client = register_app(&app, OOB, "read write").await;
    let token = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client.0),
                ("client_secret", &client.1),
                ("scope", "read"),
            ],
        )
        .await
        .expect(200);
    assert_eq!(token["token_type"], "Bearer");
    assert_eq!(token["scope"], "read");
    assert!(token["created_at"].is_i64(), "{token}");
    let access = s(&token["access_token"]);

    // App-only tokens can read public data but are not a user.
    app.get("/api/v1/timelines/public", Some(&access)).await.expect(200);
    let err = app.get("/api/v1/accounts/verify_credentials", Some(&access)).await.expect(422);
    assert_eq!(err["error"], "This method requires an authenticated user");

    // JSON bodies and HTTP Basic client authentication work as well.
    let json_token = app
        .post(
            "/oauth/token",
            None,
            json!({ "grant_type": "client_credentials", "client_id": client.0, "client_secret": client.1 }),
        )
        .await
        .expect(200);
    assert_eq!(json_token["scope"], "read", "no scope asked: read");
    let basic = app
        .client
        .post(format!("{}/oauth/token", app.base))
        .basic_auth(&client.0, Some(&client.1))
        .form(&[("grant_type", "client_credentials"), ("scope", "write")])
        .send()
        .await
        .unwrap();
    assert_eq!(basic.status().as_u16(), 200);

    // Asking for more than the app was registered with is refused.
    let res = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &client.0),
                ("client_secret", &client.1),
                ("scope", "read follow"),
            ],
        )
        .await;
    assert_oauth_error(res, 400, "invalid_scope");
}

#[tokio::test]
async fn password_grant_accepts_email_or_username() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let client = register_app(&app, OOB, "read write follow").await;

    for login in ["alice@example.test", "ALICE@example.test", "alice"] {
        let token = password_grant(&app, &client, login, "read write").await.expect(200);
        assert_eq!(token["token_type"], "Bearer");
        assert_eq!(token["scope"], "read write");
        let me = me(&app, token["access_token"].as_str().unwrap()).await;
        assert_eq!(me["id"], alice.id.as_str(), "login {login}");
    }

    let wrong = app
        .post_form(
            "/oauth/token",
            None,
            &[
                ("grant_type", "password"),
                ("client_id", &client.0),
                ("client_secret", &client.1),
                ("username", "alice"),
                ("password", "not the password"),
                ("scope", "read"),
            ],
        )
        .await;
    assert_oauth_error(wrong, 400, "invalid_grant");
    let unknown = password_grant(&app, &client, "nobody@example.test", "read").await;
    assert_oauth_error(unknown, 400, "invalid_grant");
}

#[tokio::test]
async fn wrong_client_credentials_are_401_invalid_client() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let client = register_app(&app, OOB, "read").await;
    let wrong_secret = (client.0.clone(), "wrong".to_string());
    assert_oauth_error(password_grant(&app, &wrong_secret, "alice", "read").await, 401, "invalid_client");
    let unknown = ("unknown".to_string(), client.1.clone());
    assert_oauth_error(password_grant(&app, &unknown, "alice", "read").await, 401, "invalid_client");
    let res = app
        .post_form(
            "/oauth/token",
            None,
            &[("grant_type", "client_credentials"), ("client_id", &client.0), ("client_secret", "wrong")],
        )
        .await;
    assert_oauth_error(res, 401, "invalid_client");
    let missing = app.post_form("/oauth/token", None, &[("grant_type", "client_credentials")]).await;
    assert_oauth_error(missing, 401, "invalid_client");

    let unsupported = app
        .post_form(
            "/oauth/token",
            None,
            &[("grant_type", "implicit"), ("client_id", &client.0), ("client_secret", &client.1)],
        )
        .await;
    assert_oauth_error(unsupported, 400, "unsupported_grant_type");
    let count: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM oauth_access_tokens WHERE application_id IS NOT NULL AND scopes = 'read'",
    )
    .fetch_one(&app.state.db.primary)
    .await
    .unwrap();
    assert_eq!(count, 0, "no token issued to a client that failed authentication");
}

#[tokio::test]
async fn authorization_code_flow_out_of_band() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let client = register_app(&app, OOB, "read write follow").await;

    let path = authorize_query(&client.0, OOB, "read write", &[]);
    let res = sign_in_and_approve(&app, &path, "alice@example.test", PASSWORD).await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    let code = code_from_oob_page(&res.text);

    let token = redeem(&app, &client, &code, OOB, None).await.expect(200);
    assert_eq!(token["scope"], "read write");
    assert_eq!(me(&app, token["access_token"].as_str().unwrap()).await["id"], alice.id.as_str());

    // A code works once.
    assert_oauth_error(redeem(&app, &client, &code, OOB, None).await, 400, "invalid_grant");
    // Unknown codes and codes of another client are refused.
    assert_oauth_error(redeem(&app, &client, "made-up", OOB, None).await, 400, "invalid_grant");
}

#[tokio::test]
async fn authorization_code_flow_redirects_with_code_and_state() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let redirect = "https://client.example/callback";
    let client = register_app(&app, redirect, "read write").await;

    let path = authorize_query(&client.0, redirect, "read", &[("state", "opaque state&value")]);
    let res = sign_in_and_approve(&app, &path, "alice", PASSWORD).await;
    let (url, params) = redirect_params(&res);
    assert_eq!(format!("{}://{}{}", url.scheme(), url.host_str().unwrap(), url.path()), redirect);
    assert_eq!(param(&params, "state"), Some("opaque state&value"));
    let code = param(&params, "code").expect("code in redirect").to_string();

    // The redirect URI must match the one the code was issued for.
    let other = redeem(&app, &client, &code, "https://client.example/other", None).await;
    assert_oauth_error(other, 400, "invalid_grant");
    let token = redeem(&app, &client, &code, redirect, None).await.expect(200);
    assert_eq!(token["scope"], "read");
    assert_eq!(me(&app, token["access_token"].as_str().unwrap()).await["id"], alice.id.as_str());
}

#[tokio::test]
async fn authorization_page_rejects_bad_requests_and_bad_passwords() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let redirect = "https://client.example/callback";
    let client = register_app(&app, redirect, "read").await;

    // Unknown client, unregistered redirect URI, scope beyond the app's: an error page.
    for path in [
        authorize_query("unknown-client", redirect, "read", &[]),
        authorize_query(&client.0, "https://evil.example/cb", "read", &[]),
        authorize_query(&client.0, redirect, "read write", &[]),
    ] {
        let page = app.get(&path, None).await;
        assert_eq!(page.status.as_u16(), 400, "{path}: {}", page.text);
        assert!(!page.text.contains("<form"), "no sign-in form for a bad request: {}", page.text);
    }

    // A wrong password shows the form again and issues no code.
    let path = authorize_query(&client.0, redirect, "read", &[]);
    let res = sign_in_and_approve(&app, &path, "alice", "wrong password").await;
    assert_eq!(res.status.as_u16(), 401, "{}", res.text);
    assert!(res.text.contains(r#"name="password""#), "{}", res.text);
    assert!(res.headers.get("location").is_none());

    // Denying redirects with error=access_denied.
    let page = app.get(&path, None).await;
    let mut fields = hidden_inputs(&page.text);
    fields.push(("decision".into(), "deny".into()));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let denied = app.post_form("/oauth/authorize", None, &pairs).await;
    let (_, params) = redirect_params(&denied);
    assert_eq!(param(&params, "error"), Some("access_denied"));
    assert_eq!(param(&params, "code"), None);

    let grants: i64 =
        sqlx::query_scalar("SELECT count(*) FROM oauth_access_grants").fetch_one(&app.state.db.primary).await.unwrap();
    assert_eq!(grants, 0);
}

#[tokio::test]
async fn pkce_s256_is_verified() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let client = register_app(&app, OOB, "read write").await;
    let (verifier, challenge) = pkce_pair();
    let path =
        authorize_query(&client.0, OOB, "read", &[("code_challenge", &challenge), ("code_challenge_method", "S256")]);
    let issue_code = || async {
        let res = sign_in_and_approve(&app, &path, "alice", PASSWORD).await;
        assert_eq!(res.status.as_u16(), 200, "{}", res.text);
        code_from_oob_page(&res.text)
    };

    // The consent form carries the challenge through.
    let page = app.get(&path, None).await;
    let hidden = hidden_inputs(&page.text);
    assert!(hidden.contains(&("code_challenge".to_string(), challenge.clone())), "{hidden:?}");

    let missing = issue_code().await;
    assert_oauth_error(redeem(&app, &client, &missing, OOB, None).await, 400, "invalid_grant");

    let wrong = issue_code().await;
    assert_oauth_error(redeem(&app, &client, &wrong, OOB, Some("not-the-verifier")).await, 400, "invalid_grant");

    let right = issue_code().await;
    let token = redeem(&app, &client, &right, OOB, Some(&verifier)).await.expect(200);
    assert_eq!(me(&app, token["access_token"].as_str().unwrap()).await["id"], alice.id.as_str());
    assert_oauth_error(redeem(&app, &client, &right, OOB, Some(&verifier)).await, 400, "invalid_grant");

    // Only S256 is offered.
    let plain =
        authorize_query(&client.0, OOB, "read", &[("code_challenge", "abc"), ("code_challenge_method", "plain")]);
    assert_eq!(app.get(&plain, None).await.status.as_u16(), 400);
}

#[tokio::test]
async fn revoked_tokens_stop_working() {
    let app = TestApp::spawn().await;
    app.register("alice").await;
    let client = register_app(&app, OOB, "read write").await;
    let token = s(&password_grant(&app, &client, "alice", "read").await.expect(200)["access_token"]);
    me(&app, &token).await;

    // Another app may not revoke it.
    let other = register_app(&app, OOB, "read").await;
    let res = app
        .post_form("/oauth/revoke", None, &[("client_id", &other.0), ("client_secret", &other.1), ("token", &token)])
        .await;
    assert_eq!(res.status.as_u16(), 403, "{}", res.text);
    me(&app, &token).await;

    let revoked = app
        .post_form("/oauth/revoke", None, &[("client_id", &client.0), ("client_secret", &client.1), ("token", &token)])
        .await
        .expect(200);
    assert_eq!(revoked, json!({}));
    let err = app.get("/api/v1/accounts/verify_credentials", Some(&token)).await.expect(401);
    assert!(err["error"].is_string());
    app.get("/api/v1/timelines/public", Some(&token)).await.expect(401);

    // Revoking again, or an unknown token, is not an error (RFC 7009).
    app.post_form("/oauth/revoke", None, &[("client_id", &client.0), ("client_secret", &client.1), ("token", &token)])
        .await
        .expect(200);
    app.post_form("/oauth/revoke", None, &[("client_id", &client.0), ("client_secret", &client.1), ("token", "nope")])
        .await
        .expect(200);
    let bad_client = app
        .post_form("/oauth/revoke", None, &[("client_id", &client.0), ("client_secret", "wrong"), ("token", &token)])
        .await;
    assert_oauth_error(bad_client, 401, "invalid_client");
}

#[tokio::test]
async fn read_only_tokens_cannot_write() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let read = token_with_scope(&app, &alice, "read").await;

    app.get("/api/v1/timelines/home", Some(&read)).await.expect(200);
    me(&app, &read).await;
    let err = app.post("/api/v1/statuses", Some(&read), json!({ "status": "hello" })).await.expect(403);
    assert_eq!(err["error"], "This action is outside the authorized scopes");
    app.post(&format!("/api/v1/accounts/{}/follow", bob.id), Some(&read), json!({})).await.expect(403);
    app.patch("/api/v1/accounts/update_credentials", Some(&read), json!({ "display_name": "x" })).await.expect(403);

    let statuses: i64 =
        sqlx::query_scalar("SELECT count(*) FROM statuses").fetch_one(&app.state.db.primary).await.unwrap();
    assert_eq!(statuses, 0);
}

#[tokio::test]
async fn fine_grained_scopes_are_enforced() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let write_statuses = token_with_scope(&app, &alice, "write:statuses").await;
    let status = app.post("/api/v1/statuses", Some(&write_statuses), json!({ "status": "hi" })).await.expect(200);
    app.get("/api/v1/timelines/home", Some(&write_statuses)).await.expect(403);
    app.get("/api/v1/notifications", Some(&write_statuses)).await.expect(403);
    app.post(&format!("/api/v1/statuses/{}/favourite", s(&status["id"])), Some(&write_statuses), json!({}))
        .await
        .expect(403);

    let read_notifications = token_with_scope(&app, &alice, "read:notifications").await;
    app.get("/api/v1/notifications", Some(&read_notifications)).await.expect(200);
    app.get("/api/v1/timelines/home", Some(&read_notifications)).await.expect(403);
    app.post("/api/v1/notifications/clear", Some(&read_notifications), json!({})).await.expect(403);

    let accounts = token_with_scope(&app, &alice, "read:accounts").await;
    me(&app, &accounts).await;
    app.get("/api/v1/accounts/relationships?id[]=1", Some(&accounts)).await.expect(403);

    // `profile` is enough for verify_credentials and nothing else.
    let profile = token_with_scope(&app, &alice, "profile").await;
    assert_eq!(me(&app, &profile).await["id"], alice.id.as_str());
    app.get("/api/v1/timelines/home", Some(&profile)).await.expect(403);

    // The legacy `follow` scope covers follows, blocks and mutes, not posting.
    let follow = token_with_scope(&app, &alice, "follow").await;
    let rel = app.post(&format!("/api/v1/accounts/{}/follow", bob.id), Some(&follow), json!({})).await.expect(200);
    assert_eq!(rel["following"], true);
    app.post(&format!("/api/v1/accounts/{}/mute", bob.id), Some(&follow), json!({})).await.expect(200);
    let rel = app.post(&format!("/api/v1/accounts/{}/block", bob.id), Some(&follow), json!({})).await.expect(200);
    assert_eq!(rel["blocking"], true);
    let blocks = app.get("/api/v1/blocks", Some(&follow)).await.expect(200);
    assert_eq!(blocks[0]["id"], bob.id.as_str());
    app.post("/api/v1/statuses", Some(&follow), json!({ "status": "no" })).await.expect(403);
}

#[tokio::test]
async fn server_metadata_lists_exactly_the_enabled_grants() {
    let app = TestApp::spawn().await;
    let meta = app.get("/.well-known/oauth-authorization-server", None).await.expect(200);
    assert_eq!(meta["issuer"], format!("{}/", app.base));
    assert_eq!(meta["authorization_endpoint"], format!("{}/oauth/authorize", app.base));
    assert_eq!(meta["token_endpoint"], format!("{}/oauth/token", app.base));
    assert_eq!(meta["revocation_endpoint"], format!("{}/oauth/revoke", app.base));
    assert_eq!(meta["app_registration_endpoint"], format!("{}/api/v1/apps", app.base));
    assert_eq!(meta["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(meta["response_types_supported"], json!(["code"]));
    let scopes: Vec<&str> = meta["scopes_supported"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    for scope in ["read", "write", "follow", "push", "profile", "read:statuses", "write:statuses"] {
        assert!(scopes.contains(&scope), "{scope} in {scopes:?}");
    }
    let mut grants: Vec<&str> =
        meta["grant_types_supported"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    grants.sort_unstable();
    assert_eq!(grants, vec!["authorization_code", "client_credentials", "password"]);

    let closed = TestApp::spawn_with(&[("FERRODON_PASSWORD_GRANT", "false")]).await;
    let meta = closed.get("/.well-known/oauth-authorization-server", None).await.expect(200);
    let mut grants: Vec<&str> =
        meta["grant_types_supported"].as_array().unwrap().iter().map(|v| v.as_str().unwrap()).collect();
    grants.sort_unstable();
    assert_eq!(grants, vec!["authorization_code", "client_credentials"]);
    closed.register("alice").await;
    let client = register_app(&closed, OOB, "read").await;
    assert_oauth_error(password_grant(&closed, &client, "alice", "read").await, 400, "unsupported_grant_type");
}
