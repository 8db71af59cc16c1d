#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Accounts end to end: registration, credentials, profiles, lookups, account timelines
//! and every relationship (follow, follow requests, block, mute).

use crate::common;

use common::{Body, Response, TestApp, User};
use reqwest::Method;
use serde_json::{Value, json};

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}")).to_string()
}

async fn app_token(app: &TestApp) -> String {
    app.app_token("read write follow push").await
}

async fn sign_up(app: &TestApp, token: &str, body: Value) -> Response {
    app.post("/api/v1/accounts", Some(token), body).await
}

fn valid_signup(username: &str) -> Value {
    json!({
        "username": username,
        "email": format!("{username}@example.test"),
        "password": "correct horse battery",
        "agreement": true,
        "locale": "en"
    })
}

/// The `details` error code for one attribute of a 422 registration error.
fn detail(body: &Value, attr: &str) -> Option<String> {
    body["details"][attr][0]["error"].as_str().map(str::to_string)
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap()
}

async fn relationship(app: &TestApp, viewer: &User, target: &User) -> Value {
    let rels = app.get(&format!("/api/v1/accounts/relationships?id[]={}", target.id), Some(&viewer.token)).await;
    let rels = rels.expect(200);
    assert_eq!(rels.as_array().unwrap().len(), 1, "{rels}");
    rels[0].clone()
}

async fn account(app: &TestApp, user: &User) -> Value {
    app.get(&format!("/api/v1/accounts/{}", user.id), None).await.expect(200)
}

async fn post(app: &TestApp, user: &User, body: Value) -> String {
    s(&app.post_status(user, body).await["id"])
}

async fn act(app: &TestApp, actor: &User, target: &User, action: &str, body: Value) -> Value {
    app.post(&format!("/api/v1/accounts/{}/{action}", target.id), Some(&actor.token), body).await.expect(200)
}

/// `(url, rel)` pairs of a `Link` header.
fn links(res: &Response) -> Vec<(String, String)> {
    let header = res.link().unwrap_or_default();
    header
        .split(", ")
        .filter(|p| !p.is_empty())
        .map(|part| {
            let (url, rel) = part.split_once("; ").unwrap();
            (url.trim_matches(['<', '>']).to_string(), rel.trim_start_matches("rel=").trim_matches('"').to_string())
        })
        .collect()
}

fn link(res: &Response, rel: &str) -> Option<String> {
    links(res).into_iter().find(|(_, r)| r == rel).map(|(u, _)| u)
}

/// The path and query of a Link URL, to request it again through the harness.
fn relative(app: &TestApp, url: &str) -> String {
    url.strip_prefix(&app.base).unwrap_or_else(|| panic!("{url} is not on {}", app.base)).to_string()
}

fn query_param(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url).unwrap().query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

#[tokio::test]
async fn registration_returns_a_working_user_token() {
    let app = TestApp::spawn().await;
    let token = app_token(&app).await;
    let res = sign_up(&app, &token, valid_signup("alice")).await.expect(200);
    assert_eq!(res["token_type"], "Bearer");
    assert_eq!(res["scope"], "read write follow push");
    assert!(res["created_at"].is_i64());
    // The token works once the address is confirmed (tests/mail.rs covers the mail itself).
    let unconfirmed = app.get("/api/v1/accounts/verify_credentials", res["access_token"].as_str()).await.expect(403);
    assert_eq!(unconfirmed["error"], "Your login is missing a confirmed e-mail address");
    app.confirm_email("alice@example.test").await;
    let me = app.get("/api/v1/accounts/verify_credentials", res["access_token"].as_str()).await.expect(200);
    assert_eq!(me["username"], "alice");
    assert_eq!(me["acct"], "alice");

    // Form bodies work as well.
    let form = app
        .post_form(
            "/api/v1/accounts",
            Some(&token),
            &[
                ("username", "bob"),
                ("email", "bob@example.test"),
                ("password", "correct horse battery"),
                ("agreement", "1"),
                ("locale", "en"),
            ],
        )
        .await
        .expect(200);
    assert!(form["access_token"].is_string());

    // Without a token there is nothing to sign up with.
    app.post("/api/v1/accounts", None, valid_signup("carol")).await.expect(401);
    assert_eq!(count(&app, "accounts").await, 2);
}

#[tokio::test]
async fn registration_validation_errors_carry_details() {
    let app = TestApp::spawn().await;
    let token = app_token(&app).await;

    let blank = sign_up(&app, &token, json!({})).await.expect(422);
    assert!(blank["error"].as_str().unwrap().starts_with("Validation failed:"), "{blank}");
    assert_eq!(detail(&blank, "username").as_deref(), Some("ERR_BLANK"), "{blank}");
    assert_eq!(detail(&blank, "email").as_deref(), Some("ERR_BLANK"), "{blank}");
    assert_eq!(detail(&blank, "password").as_deref(), Some("ERR_BLANK"), "{blank}");
    assert_eq!(detail(&blank, "agreement").as_deref(), Some("ERR_ACCEPTED"), "{blank}");
    assert!(blank["details"]["username"][0]["description"].is_string());
    // Keys in Mastodon's order (issue 18, defect 5): Devise's checks, the account, the agreement.
    let keys: Vec<&str> = blank["details"].as_object().unwrap().keys().map(String::as_str).collect();
    assert_eq!(keys, ["email", "password", "username", "agreement"]);
    assert_eq!(
        blank["error"],
        "Validation failed: Email can't be blank, Password can't be blank, Username can't be blank, Agreement must be accepted"
    );

    let mut bad = valid_signup("not valid!");
    bad["email"] = json!("not-an-email");
    bad["password"] = json!("short");
    bad["agreement"] = json!(false);
    let bad = sign_up(&app, &token, bad).await.expect(422);
    assert_eq!(detail(&bad, "username").as_deref(), Some("ERR_INVALID"), "{bad}");
    assert_eq!(detail(&bad, "email").as_deref(), Some("ERR_INVALID"), "{bad}");
    assert_eq!(detail(&bad, "password").as_deref(), Some("ERR_TOO_SHORT"), "{bad}");
    assert_eq!(detail(&bad, "agreement").as_deref(), Some("ERR_ACCEPTED"), "{bad}");

    let too_long = sign_up(&app, &token, valid_signup(&"a".repeat(31))).await.expect(422);
    assert_eq!(detail(&too_long, "username").as_deref(), Some("ERR_TOO_LONG"), "{too_long}");

    assert_eq!(count(&app, "accounts").await, 0, "a rejected sign-up writes nothing");
    assert_eq!(count(&app, "users").await, 0);

    sign_up(&app, &token, valid_signup("alice")).await.expect(200);
    // The same username in another case, and the same e-mail in another case.
    let taken = sign_up(&app, &token, json!({ "username": "ALICE", "email": "other@example.test", "password": "correct horse battery", "agreement": true })).await.expect(422);
    assert_eq!(detail(&taken, "username").as_deref(), Some("ERR_TAKEN"), "{taken}");
    let taken = sign_up(&app, &token, json!({ "username": "alice2", "email": "Alice@Example.test", "password": "correct horse battery", "agreement": true })).await.expect(422);
    assert_eq!(detail(&taken, "email").as_deref(), Some("ERR_TAKEN"), "{taken}");
    assert_eq!(count(&app, "accounts").await, 1);
}

#[tokio::test]
async fn registration_needs_open_registrations_and_an_app() {
    let closed = TestApp::spawn().await;
    let (ok, out) = crate::admin::ctl(&closed, &["settings", "registrations", "close"]);
    assert!(ok, "{out}");
    let token = app_token(&closed).await;
    let err = sign_up(&closed, &token, valid_signup("alice")).await.expect(403);
    assert_eq!(err["error"], "Forbidden");
    assert_eq!(count(&closed, "accounts").await, 0);

    let app = TestApp::spawn().await;
    let (id, secret) = app.app("read").await;
    let read_only = app
        .post_form(
            "/oauth/token",
            None,
            &[("grant_type", "client_credentials"), ("client_id", &id), ("client_secret", &secret), ("scope", "read")],
        )
        .await
        .expect(200);
    sign_up(&app, read_only["access_token"].as_str().unwrap(), valid_signup("alice")).await.expect(403);
}

#[tokio::test]
async fn verify_credentials_has_source_and_role() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["id"], alice.id.as_str());
    assert_eq!(me["username"], "alice");
    assert_eq!(me["acct"], "alice");
    assert_eq!(me["display_name"], "");
    assert_eq!(me["locked"], false);
    assert_eq!(me["bot"], false);
    assert_eq!(me["followers_count"], 0);
    assert_eq!(me["statuses_count"], 0);
    assert_eq!(me["url"], format!("{}/@alice", app.base));
    assert!(me["created_at"].as_str().unwrap().ends_with("T00:00:00.000Z"), "{}", me["created_at"]);
    assert_eq!(me["source"]["privacy"], "public");
    assert_eq!(me["source"]["sensitive"], false);
    assert_eq!(me["source"]["note"], "");
    assert_eq!(me["source"]["fields"], json!([]));
    assert_eq!(me["source"]["follow_requests_count"], 0);
    assert!(me["role"].is_object(), "{me}");
    assert!(me["role"]["permissions"].is_string(), "{me}");

    app.get("/api/v1/accounts/verify_credentials", None).await.expect(401);
}

#[tokio::test]
async fn update_credentials_changes_the_profile() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let updated = app
        .patch(
            "/api/v1/accounts/update_credentials",
            Some(&alice.token),
            json!({
                "display_name": "Alice A.",
                "note": "Rust & <things>\n\nSecond line",
                "locked": true,
                "bot": true,
                "discoverable": false,
                "fields_attributes": [
                    { "name": "Site", "value": "https://alice.org" },
                    { "name": "Pronouns", "value": "she/her" }
                ],
                "source": { "privacy": "private", "sensitive": true, "language": "de" }
            }),
        )
        .await
        .expect(200);
    assert_eq!(updated["display_name"], "Alice A.");
    assert_eq!(updated["locked"], true);
    assert_eq!(updated["bot"], true);
    assert_eq!(updated["discoverable"], false);
    assert_eq!(updated["note"], "<p>Rust &amp; &lt;things&gt;</p><p>Second line</p>");
    assert_eq!(updated["source"]["note"], "Rust & <things>\n\nSecond line");
    assert_eq!(updated["source"]["privacy"], "private");
    assert_eq!(updated["source"]["sensitive"], true);
    assert_eq!(updated["source"]["language"], "de");
    assert_eq!(updated["fields"].as_array().unwrap().len(), 2);
    assert_eq!(updated["fields"][0]["name"], "Site");
    assert!(updated["fields"][0]["value"].as_str().unwrap().contains(r#"href="https://alice.org""#), "{updated}");
    assert_eq!(updated["fields"][1]["value"], "she/her");
    assert_eq!(updated["source"]["fields"][0]["value"], "https://alice.org", "source keeps the raw value");

    // The public view shows the same profile.
    let public = account(&app, &alice).await;
    assert_eq!(public["display_name"], "Alice A.");
    assert_eq!(public["locked"], true);
    assert_eq!(public["bot"], true);
    assert!(public.get("source").is_none(), "only the owner sees source");

    // The default privacy applies to new posts.
    let status = app.post_status(&alice, json!({ "status": "defaults" })).await;
    assert_eq!(status["visibility"], "private");
    assert_eq!(status["language"], "de");

    // Leaving a value out keeps it; fields can be cleared.
    let again = app
        .patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({ "fields_attributes": [] }))
        .await
        .expect(200);
    assert_eq!(again["display_name"], "Alice A.");
    assert_eq!(again["fields"], json!([]));
}

#[tokio::test]
async fn update_credentials_accepts_rails_style_form_fields() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let form: Vec<(String, String)> = [
        ("display_name", "Form Alice"),
        ("locked", "true"),
        ("bot", "0"),
        ("fields_attributes[0][name]", "One"),
        ("fields_attributes[0][value]", "1"),
        ("fields_attributes[1][name]", "Two"),
        ("fields_attributes[1][value]", "2"),
        ("source[privacy]", "unlisted"),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect();
    let res = app
        .request(Method::PATCH, "/api/v1/accounts/update_credentials", Some(&alice.token), Some(Body::Form(form)))
        .await
        .expect(200);
    assert_eq!(res["display_name"], "Form Alice");
    assert_eq!(res["locked"], true);
    assert_eq!(res["bot"], false);
    assert_eq!(res["fields"][0]["name"], "One");
    assert_eq!(res["fields"][1]["name"], "Two");
    assert_eq!(res["fields"][1]["value"], "2");
    assert_eq!(res["source"]["privacy"], "unlisted");
    // JSON clients send the same hash keyed by index (issue 18, defect 5).
    let keyed =
        json!({ "fields_attributes": { "1": { "name": "B", "value": "b" }, "0": { "name": "A", "value": "a" } } });
    let res = app.patch("/api/v1/accounts/update_credentials", Some(&alice.token), keyed).await.expect(200);
    assert_eq!((res["fields"][0]["name"].as_str(), res["fields"][1]["name"].as_str()), (Some("A"), Some("B")));
}

#[tokio::test]
async fn update_credentials_rejects_invalid_values() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let path = "/api/v1/accounts/update_credentials";
    app.patch(path, Some(&alice.token), json!({ "display_name": "x".repeat(31) })).await.expect(422);
    app.patch(path, Some(&alice.token), json!({ "note": "x".repeat(501) })).await.expect(422);
    app.patch(path, Some(&alice.token), json!({ "source": { "privacy": "direct" } })).await.expect(422);
    let five: Vec<Value> = (0..5).map(|i| json!({ "name": format!("n{i}"), "value": "v" })).collect();
    app.patch(path, Some(&alice.token), json!({ "fields_attributes": five })).await.expect(422);
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["display_name"], "", "rejected updates change nothing");
    assert_eq!(me["source"]["privacy"], "public");
    assert_eq!(me["fields"], json!([]));
    app.patch(path, None, json!({ "display_name": "x" })).await.expect(401);
}

#[tokio::test]
async fn accounts_can_be_fetched_and_looked_up() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let shown = app.get(&format!("/api/v1/accounts/{}", alice.id), Some(&bob.token)).await.expect(200);
    assert_eq!(shown["id"], alice.id.as_str());
    assert_eq!(shown["username"], "alice");
    for key in ["avatar", "avatar_static", "header", "header_static", "note", "url", "emojis", "fields"] {
        assert!(!shown[key].is_null(), "{key} in {shown}");
    }
    app.get("/api/v1/accounts/999999999", None).await.expect(404);
    app.get("/api/v1/accounts/alice", None).await.expect(404);

    let domain = app.base.trim_start_matches("http://").to_string();
    for acct in ["alice", "@alice", "ALICE", &format!("alice@{domain}")] {
        let found = app.get(&format!("/api/v1/accounts/lookup?acct={}", urlencode(acct)), None).await.expect(200);
        assert_eq!(found["id"], alice.id.as_str(), "lookup {acct}");
    }
    app.get("/api/v1/accounts/lookup?acct=nobody", None).await.expect(404);
    app.get("/api/v1/accounts/lookup?acct=alice@elsewhere.example", None).await.expect(404);

    let many = app.get(&format!("/api/v1/accounts?id[]={}&id[]={}", bob.id, alice.id), None).await.expect(200);
    let ids: Vec<&str> = many.as_array().unwrap().iter().map(|a| a["id"].as_str().unwrap()).collect();
    assert_eq!(ids, vec![bob.id.as_str(), alice.id.as_str()]);
}

fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::test]
async fn account_statuses_filters() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let bob_post = post(&app, &bob, json!({ "status": "bob's post" })).await;

    let plain = post(&app, &alice, json!({ "status": "plain #Rust" })).await;
    let self_reply = post(&app, &alice, json!({ "status": "thread", "in_reply_to_id": plain })).await;
    let reply = post(&app, &alice, json!({ "status": "@bob answer", "in_reply_to_id": bob_post })).await;
    let reblog =
        app.post(&format!("/api/v1/statuses/{bob_post}/reblog"), Some(&alice.token), json!({})).await.expect(200);
    let reblog = s(&reblog["id"]);
    let tagged = post(&app, &alice, json!({ "status": "more #rust and #go" })).await;

    let list = |query: &'static str| {
        let app = &app;
        let alice = &alice;
        async move { app.get(&format!("/api/v1/accounts/{}/statuses{query}", alice.id), None).await.expect_ids() }
    };
    assert_eq!(list("").await, vec![tagged.clone(), reblog.clone(), reply.clone(), self_reply.clone(), plain.clone()]);
    assert_eq!(
        list("?exclude_replies=true").await,
        vec![tagged.clone(), reblog.clone(), self_reply.clone(), plain.clone()],
        "self-replies stay, replies to others go"
    );
    assert_eq!(
        list("?exclude_reblogs=true").await,
        vec![tagged.clone(), reply.clone(), self_reply.clone(), plain.clone()]
    );
    assert_eq!(list("?tagged=rust").await, vec![tagged.clone(), plain.clone()]);
    assert_eq!(list("?tagged=RUST").await, vec![tagged.clone(), plain.clone()]);
    assert_eq!(list("?tagged=go").await, vec![tagged.clone()]);
    assert_eq!(list("?only_media=true").await, Vec::<String>::new());
    assert_eq!(list("?pinned=true").await, Vec::<String>::new());

    app.post(&format!("/api/v1/statuses/{plain}/pin"), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(list("?pinned=true").await, vec![plain.clone()]);

    // The reblog wraps bob's post.
    let page = app.get(&format!("/api/v1/accounts/{}/statuses", alice.id), None).await.expect(200);
    let wrapped = page.as_array().unwrap().iter().find(|st| st["id"] == reblog.as_str()).unwrap();
    assert_eq!(wrapped["reblog"]["id"], bob_post.as_str());

    app.get("/api/v1/accounts/999999999/statuses", None).await.expect(404);
}

trait Ids {
    fn expect_ids(self) -> Vec<String>;
}

impl Ids for Response {
    #[track_caller]
    fn expect_ids(self) -> Vec<String> {
        assert_eq!(self.status.as_u16(), 200, "{}", self.text);
        self.ids()
    }
}

#[tokio::test]
async fn account_statuses_paginate_with_link_headers() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(post(&app, &alice, json!({ "status": format!("post {i}") })).await);
    }
    ids.reverse(); // newest first: ids[0] is the newest
    let base = format!("/api/v1/accounts/{}/statuses", alice.id);

    let first = app.get(&format!("{base}?limit=2"), None).await;
    assert_eq!(first.ids(), ids[0..2].to_vec());
    let next = link(&first, "next").expect("next link");
    let prev = link(&first, "prev").expect("prev link");
    assert!(next.starts_with(&format!("{}{base}?", app.base)), "{next}");
    assert_eq!(query_param(&next, "max_id").as_deref(), Some(ids[1].as_str()));
    assert_eq!(query_param(&next, "limit").as_deref(), Some("2"), "other parameters are kept");
    assert_eq!(query_param(&prev, "min_id").as_deref(), Some(ids[0].as_str()));

    let second = app.get(&relative(&app, &next), None).await;
    assert_eq!(second.ids(), ids[2..4].to_vec());
    let third = app.get(&relative(&app, &link(&second, "next").unwrap()), None).await;
    assert_eq!(third.ids(), ids[4..5].to_vec());
    assert_eq!(link(&third, "next"), None, "a short page is the last one");
    let back = app.get(&relative(&app, &link(&third, "prev").expect("prev link")), None).await;
    assert_eq!(back.ids(), ids[2..4].to_vec(), "prev goes back one page");
    let newer = app.get(&relative(&app, &link(&first, "prev").unwrap()), None).await;
    assert_eq!(newer.ids(), Vec::<String>::new(), "nothing is newer than the first page");

    // min_id: the page right after the cursor (newest first); since_id: the newest page.
    let oldest = &ids[4];
    assert_eq!(app.get(&format!("{base}?limit=2&min_id={oldest}"), None).await.ids(), ids[2..4].to_vec());
    assert_eq!(app.get(&format!("{base}?limit=2&since_id={oldest}"), None).await.ids(), ids[0..2].to_vec());
    assert_eq!(app.get(&format!("{base}?max_id={}", ids[1]), None).await.ids(), ids[2..5].to_vec());

    let empty = app.get(&format!("{base}?max_id={oldest}"), None).await;
    assert_eq!(empty.ids(), Vec::<String>::new());
    assert_eq!(empty.link(), None, "no links for an empty page");
}

#[tokio::test]
async fn followers_and_following_paginate() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let mut fans = Vec::new();
    for name in ["bob", "carol", "dave"] {
        let fan = app.register(name).await;
        app.follow(&fan, &alice).await;
        fans.push(fan);
    }
    let path = format!("/api/v1/accounts/{}/followers", alice.id);
    let first = app.get(&format!("{path}?limit=2"), None).await;
    assert_eq!(first.ids(), vec![fans[2].id.clone(), fans[1].id.clone()], "newest follow first");
    let next = link(&first, "next").expect("next link");
    assert!(link(&first, "prev").is_some());
    let rest = app.get(&relative(&app, &next), None).await;
    assert_eq!(rest.ids(), vec![fans[0].id.clone()]);

    let following = app.get(&format!("/api/v1/accounts/{}/following", fans[0].id), None).await;
    assert_eq!(following.ids(), vec![alice.id.clone()]);

    let me = account(&app, &alice).await;
    assert_eq!(me["followers_count"], 3);
    assert_eq!(account(&app, &fans[0]).await["following_count"], 1);

    // Hidden collections are empty to others but not to the owner.
    app.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({ "hide_collections": true }))
        .await
        .expect(200);
    assert_eq!(app.get(&path, Some(&fans[0].token)).await.ids(), Vec::<String>::new());
    assert_eq!(app.get(&path, Some(&alice.token)).await.ids().len(), 3);
}

#[tokio::test]
async fn follow_options_show_in_relationships() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    let rel =
        act(&app, &alice, &bob, "follow", json!({ "reblogs": false, "notify": true, "languages": ["en", "de"] })).await;
    assert_eq!(rel["id"], bob.id.as_str());
    assert_eq!(rel["following"], true);
    assert_eq!(rel["showing_reblogs"], false);
    assert_eq!(rel["notifying"], true);
    assert_eq!(rel["languages"], json!(["en", "de"]));
    assert_eq!(rel["requested"], false);

    let seen = relationship(&app, &alice, &bob).await;
    assert_eq!(seen, rel);
    let other_side = relationship(&app, &bob, &alice).await;
    assert_eq!(other_side["followed_by"], true);
    assert_eq!(other_side["following"], false);

    // Following again changes the options.
    let rel = act(&app, &alice, &bob, "follow", json!({ "reblogs": true, "notify": false })).await;
    assert_eq!(rel["showing_reblogs"], true);
    assert_eq!(rel["notifying"], false);
    assert_eq!(rel["languages"], json!(["en", "de"]), "languages left out stay");
    assert_eq!(account(&app, &bob).await["followers_count"], 1, "no second follow");

    // `notify` makes new posts notify the follower.
    act(&app, &alice, &bob, "follow", json!({ "notify": true })).await;
    let status = app.post_status(&bob, json!({ "status": "news" })).await;
    app.drain_jobs().await;
    let notes = app.get("/api/v1/notifications?types[]=status", Some(&alice.token)).await.expect(200);
    assert_eq!(notes.as_array().map(Vec::len), Some(1), "status notification for notify=true: {notes}");
    assert_eq!(notes[0]["status"]["id"], status["id"]);

    let follows = app.get("/api/v1/notifications?types[]=follow", Some(&bob.token)).await;
    assert_eq!(follows.ids().len(), 1, "one follow notification: {}", follows.text);
    let rel = act(&app, &alice, &bob, "unfollow", json!({})).await;
    assert_eq!(rel["following"], false);
    let follows = app.get("/api/v1/notifications?types[]=follow", Some(&bob.token)).await;
    assert_eq!(follows.ids(), Vec::<String>::new(), "unfollowing withdraws the follow notification");
    assert_eq!(account(&app, &bob).await["followers_count"], 0);
    assert_eq!(account(&app, &alice).await["following_count"], 0);

    // Form-encoded options, as older clients send them.
    let rel = app
        .post_form(&format!("/api/v1/accounts/{}/follow", bob.id), Some(&alice.token), &[("reblogs", "false")])
        .await
        .expect(200);
    assert_eq!(rel["showing_reblogs"], false);

    let err = app.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&alice.token), json!({})).await;
    assert!(err.status.is_client_error(), "following yourself: {}", err.text);
    app.post("/api/v1/accounts/999999999/follow", Some(&alice.token), json!({})).await.expect(404);
}

#[tokio::test]
async fn relationships_for_many_accounts() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    app.follow(&alice, &bob).await;
    let rels = app
        .get(&format!("/api/v1/accounts/relationships?id[]={}&id[]={}", carol.id, bob.id), Some(&alice.token))
        .await
        .expect(200);
    assert_eq!(rels[0]["id"], carol.id.as_str());
    assert_eq!(rels[0]["following"], false);
    assert_eq!(rels[1]["id"], bob.id.as_str());
    assert_eq!(rels[1]["following"], true);
    for key in ["blocking", "blocked_by", "muting", "muting_notifications", "requested", "domain_blocking", "endorsed"]
    {
        assert!(rels[0][key].is_boolean(), "{key} in {}", rels[0]);
    }
    let unknown = app.get("/api/v1/accounts/relationships?id[]=999999999", Some(&alice.token)).await.expect(200);
    assert_eq!(unknown, json!([]));
    app.get(&format!("/api/v1/accounts/relationships?id[]={}", bob.id), None).await.expect(401);
}

#[tokio::test]
async fn locked_accounts_get_follow_requests() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    app.patch("/api/v1/accounts/update_credentials", Some(&bob.token), json!({ "locked": true })).await.expect(200);

    let rel = act(&app, &alice, &bob, "follow", json!({ "reblogs": false })).await;
    assert_eq!(rel["following"], false);
    assert_eq!(rel["requested"], true);
    act(&app, &carol, &bob, "follow", json!({})).await;
    assert_eq!(relationship(&app, &bob, &alice).await["requested_by"], true);

    let requests = app.get("/api/v1/follow_requests", Some(&bob.token)).await;
    assert_eq!(requests.ids(), vec![carol.id.clone(), alice.id.clone()]);
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&bob.token)).await.expect(200);
    assert_eq!(me["source"]["follow_requests_count"], 2);
    let notes = app.get("/api/v1/notifications", Some(&bob.token)).await.expect(200);
    assert!(notes.as_array().unwrap().iter().all(|n| n["type"] == "follow_request"), "{notes}");
    assert_eq!(notes.as_array().unwrap().len(), 2);
    assert_eq!(account(&app, &bob).await["followers_count"], 0);

    let rel = app
        .post(&format!("/api/v1/follow_requests/{}/authorize", alice.id), Some(&bob.token), json!({}))
        .await
        .expect(200);
    assert_eq!(rel["id"], alice.id.as_str());
    assert_eq!(rel["followed_by"], true);
    let alice_side = relationship(&app, &alice, &bob).await;
    assert_eq!(alice_side["following"], true);
    assert_eq!(alice_side["requested"], false);
    assert_eq!(alice_side["showing_reblogs"], false, "the request's options carry over");

    let rel = app
        .post(&format!("/api/v1/follow_requests/{}/reject", carol.id), Some(&bob.token), json!({}))
        .await
        .expect(200);
    assert_eq!(rel["followed_by"], false);
    let carol_side = relationship(&app, &carol, &bob).await;
    assert_eq!(carol_side["following"], false);
    assert_eq!(carol_side["requested"], false);

    assert_eq!(app.get("/api/v1/follow_requests", Some(&bob.token)).await.ids(), Vec::<String>::new());
    assert_eq!(account(&app, &bob).await["followers_count"], 1);
    let notes = app.get("/api/v1/notifications", Some(&bob.token)).await.expect(200);
    assert_eq!(notes, json!([]), "handled requests leave no follow_request notifications");
    app.post(&format!("/api/v1/follow_requests/{}/authorize", carol.id), Some(&bob.token), json!({})).await.expect(404);
    app.post(&format!("/api/v1/follow_requests/{}/reject", carol.id), Some(&bob.token), json!({})).await.expect(404);
}

#[tokio::test]
async fn blocks_end_follows_both_ways() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&alice, &bob).await;
    app.follow(&bob, &alice).await;

    let rel = act(&app, &alice, &bob, "block", json!({})).await;
    assert_eq!(rel["blocking"], true);
    assert_eq!(rel["following"], false);
    assert_eq!(rel["followed_by"], false);
    let other = relationship(&app, &bob, &alice).await;
    assert_eq!(other["blocked_by"], true);
    assert_eq!(other["following"], false);
    assert_eq!(account(&app, &alice).await["followers_count"], 0);
    assert_eq!(account(&app, &alice).await["following_count"], 0);

    let blocks = app.get("/api/v1/blocks", Some(&alice.token)).await;
    assert_eq!(blocks.ids(), vec![bob.id.clone()]);

    // The blocked account cannot follow back.
    app.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&bob.token), json!({})).await.expect(403);
    app.post(&format!("/api/v1/accounts/{}/follow", bob.id), Some(&alice.token), json!({})).await.expect(403);
    assert_eq!(count(&app, "follows").await, 0);

    let rel = act(&app, &alice, &bob, "unblock", json!({})).await;
    assert_eq!(rel["blocking"], false);
    assert_eq!(app.get("/api/v1/blocks", Some(&alice.token)).await.ids(), Vec::<String>::new());
    assert_eq!(relationship(&app, &alice, &bob).await["following"], false, "unblocking does not restore follows");
    app.post("/api/v1/accounts/999999999/block", Some(&alice.token), json!({})).await.expect(404);
}

#[tokio::test]
async fn mutes_with_duration_and_notifications() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;

    let before = chrono::Utc::now();
    let rel = act(&app, &alice, &bob, "mute", json!({ "duration": 3600, "notifications": false })).await;
    assert_eq!(rel["muting"], true);
    assert_eq!(rel["muting_notifications"], false);
    let expires = chrono::DateTime::parse_from_rfc3339(rel["muting_expires_at"].as_str().unwrap()).unwrap();
    let delta = expires.signed_duration_since(before).num_seconds();
    assert!((3590..=3660).contains(&delta), "expires in about an hour: {delta}s");

    let rel = act(&app, &alice, &carol, "mute", json!({})).await;
    assert_eq!(rel["muting"], true);
    assert_eq!(rel["muting_notifications"], true, "notifications are muted by default");
    assert_eq!(rel["muting_expires_at"], Value::Null);

    let mutes = app.get("/api/v1/mutes", Some(&alice.token)).await;
    assert_eq!(mutes.ids(), vec![carol.id.clone(), bob.id.clone()]);

    // Muted with notifications: carol's mention does not notify; bob's (notifications=false) does.
    app.post_status(&carol, json!({ "status": "@alice hi from carol" })).await;
    app.post_status(&bob, json!({ "status": "@alice hi from bob" })).await;
    let notes = app.get("/api/v1/notifications", Some(&alice.token)).await.expect(200);
    let from: Vec<&str> = notes.as_array().unwrap().iter().map(|n| n["account"]["id"].as_str().unwrap()).collect();
    assert_eq!(from, vec![bob.id.as_str()]);

    let rel = act(&app, &alice, &carol, "unmute", json!({})).await;
    assert_eq!(rel["muting"], false);
    assert_eq!(app.get("/api/v1/mutes", Some(&alice.token)).await.ids(), vec![bob.id.clone()]);
    // Muting is not blocking: the muted account still sees everything.
    assert_eq!(relationship(&app, &bob, &alice).await["blocked_by"], false);
}

#[tokio::test]
async fn expired_mutes_no_longer_apply() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    act(&app, &alice, &bob, "mute", json!({ "duration": 60 })).await;
    sqlx::query("UPDATE mutes SET expires_at = now() AT TIME ZONE 'UTC' - interval '1 minute'")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    let rel = relationship(&app, &alice, &bob).await;
    assert_eq!(rel["muting"], false);
    assert_eq!(app.get("/api/v1/mutes", Some(&alice.token)).await.ids(), Vec::<String>::new());
}
