#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Statuses end to end: posting (text rendering, limits, idempotency), reading, deleting,
//! editing, threads, and every interaction (favourite, reblog, bookmark, pin).

use crate::common;

use common::{Response, TestApp, User};
use serde_json::{Value, json};

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}")).to_string()
}

async fn post(app: &TestApp, user: &User, body: Value) -> String {
    s(&app.post_status(user, body).await["id"])
}

async fn show(app: &TestApp, id: &str, viewer: &User) -> Value {
    app.get(&format!("/api/v1/statuses/{id}"), Some(&viewer.token)).await.expect(200)
}

async fn act(app: &TestApp, user: &User, id: &str, action: &str) -> Response {
    app.post(&format!("/api/v1/statuses/{id}/{action}"), Some(&user.token), json!({})).await
}

async fn count(app: &TestApp, table: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(format!("SELECT count(*) FROM {table}")))
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap()
}

async fn post_with_idempotency_key(app: &TestApp, user: &User, key: &str, body: Value) -> Value {
    let res = app
        .client
        .post(format!("{}/api/v1/statuses", app.base))
        .bearer_auth(&user.token)
        .header("Idempotency-Key", key)
        .json(&body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 200);
    res.json().await.unwrap()
}

async fn home_ids(app: &TestApp, user: &User) -> Vec<String> {
    app.get("/api/v1/timelines/home", Some(&user.token)).await.ids()
}

fn account_ids(res: Response) -> Vec<String> {
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    res.ids()
}

#[tokio::test]
async fn mentions_and_hashtags_are_linkified() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let status = app
        .post_status(
            &alice,
            json!({ "status": "Hello @bob and @nobody, see #Rust & <b>bold</b> https://example.com/page" }),
        )
        .await;
    let base = &app.base;
    let content = s(&status["content"]);
    assert_eq!(
        content,
        format!(
            "<p>Hello <span class=\"h-card\" translate=\"no\"><a href=\"{base}/@bob\" class=\"u-url mention\">@<span>bob</span></a></span> \
             and @nobody, see <a href=\"{base}/tags/Rust\" class=\"mention hashtag\" rel=\"tag\">#<span>Rust</span></a> \
             &amp; &lt;b&gt;bold&lt;/b&gt; <a href=\"https://example.com/page\" target=\"_blank\" rel=\"nofollow noopener\" \
             translate=\"no\"><span class=\"invisible\">https://</span><span class=\"\">example.com/page</span>\
             <span class=\"invisible\"></span></a></p>"
        )
    );
    assert_eq!(
        status["mentions"],
        json!([{ "id": bob.id, "username": "bob", "acct": "bob", "url": format!("{base}/@bob") }])
    );
    assert_eq!(status["tags"], json!([{ "name": "rust", "url": format!("{base}/tags/rust") }]));
    assert_eq!(status["account"]["id"], alice.id.as_str());
    assert_eq!(status["visibility"], "public");
    assert_eq!(status["sensitive"], false);
    assert_eq!(status["spoiler_text"], "");
    assert_eq!(status["reblog"], Value::Null);
    assert_eq!(status["in_reply_to_id"], Value::Null);
    assert_eq!(status["favourited"], false);
    assert_eq!(status["reblogged"], false);
    assert_eq!(status["bookmarked"], false);
    assert_eq!(status["pinned"], false);
    assert_eq!(status["application"]["name"], "test", "the author sees the app they posted with");
    assert_eq!(status["url"], format!("{base}/@alice/{}", s(&status["id"])));

    // Paragraphs and line breaks.
    let multi = app.post_status(&alice, json!({ "status": "one\ntwo\n\nthree" })).await;
    assert_eq!(multi["content"], "<p>one<br />two</p><p>three</p>");

    // Others do not see the application.
    let seen = show(&app, &s(&status["id"]), &bob).await;
    assert_eq!(seen["application"], Value::Null);
    assert_eq!(seen["content"], status["content"]);
}

#[tokio::test]
async fn post_options_are_applied() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;

    let cw = app.post_status(&alice, json!({ "status": "spoilers", "spoiler_text": "Movie" })).await;
    assert_eq!(cw["spoiler_text"], "Movie");
    assert_eq!(cw["sensitive"], true, "a content warning makes the status sensitive");

    let sensitive = app.post_status(&alice, json!({ "status": "nsfw", "sensitive": true })).await;
    assert_eq!(sensitive["sensitive"], true);
    assert_eq!(sensitive["spoiler_text"], "");

    let german = app.post_status(&alice, json!({ "status": "Hallo", "language": "de" })).await;
    assert_eq!(german["language"], "de");

    for visibility in ["public", "unlisted", "private", "direct"] {
        let st = app.post_status(&alice, json!({ "status": "v", "visibility": visibility })).await;
        assert_eq!(st["visibility"], visibility);
    }

    // Form bodies, as many clients send them.
    let form = app
        .post_form(
            "/api/v1/statuses",
            Some(&alice.token),
            &[("status", "from a form"), ("visibility", "unlisted"), ("sensitive", "true")],
        )
        .await
        .expect(200);
    assert_eq!(form["visibility"], "unlisted");
    assert_eq!(form["sensitive"], true);
    assert_eq!(form["content"], "<p>from a form</p>");

    // The default visibility comes from source[privacy].
    app.patch(
        "/api/v1/accounts/update_credentials",
        Some(&alice.token),
        json!({ "source": { "privacy": "unlisted" } }),
    )
    .await
    .expect(200);
    let defaulted = app.post_status(&alice, json!({ "status": "default" })).await;
    assert_eq!(defaulted["visibility"], "unlisted");
    assert_eq!(defaulted["sensitive"], false);

    // So does the default sensitivity, unless the post says otherwise.
    app.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({ "source": { "sensitive": true } }))
        .await
        .expect(200);
    let by_default = app.post_status(&alice, json!({ "status": "sensitive by default" })).await;
    assert_eq!(by_default["sensitive"], true);
    let explicit = app.post_status(&alice, json!({ "status": "not sensitive", "sensitive": false })).await;
    assert_eq!(explicit["sensitive"], false);

    let me = app.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["statuses_count"], 10, "11 posts, the direct one not counted");
}

#[tokio::test]
async fn language_falls_back_like_mastodon() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    // Region subtags are stripped; nothing given means the user's language (registered "en").
    let regional = app.post_status(&alice, json!({ "status": "colour", "language": "en-GB" })).await;
    assert_eq!(regional["language"], "en");
    let unspecified = app.post_status(&alice, json!({ "status": "hello" })).await;
    assert_eq!(unspecified["language"], "en");
    let bogus = app.post_status(&alice, json!({ "status": "hello", "language": "not a language" })).await;
    assert_eq!(bogus["language"], "en", "an unknown language is ignored, not an error");
    app.patch("/api/v1/accounts/update_credentials", Some(&alice.token), json!({ "source": { "language": "fr" } }))
        .await
        .expect(200);
    let french = app.post_status(&alice, json!({ "status": "bonjour" })).await;
    assert_eq!(french["language"], "fr");
}

/// Twenty requests at once with one key make one status, and all twenty get it, the same.
#[tokio::test]
async fn concurrent_posts_with_one_idempotency_key_make_one_status() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let requests = (0..20).map(|_| post_with_idempotency_key(&app, &alice, "burst", json!({ "status": "only once" })));
    let answers = futures_util::future::join_all(requests).await;
    assert!(answers.iter().all(|a| a == &answers[0]), "20 identical answers");
    assert_eq!(count(&app, "statuses").await, 1);
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["statuses_count"], 1);
}

/// A post that fails in the middle leaves its key free: the retry makes the status, once.
#[tokio::test]
async fn a_retry_after_a_failed_post_makes_one_status() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bad = json!({ "status": "with a missing picture", "media_ids": ["123456"] });
    let res = app
        .client
        .post(format!("{}/api/v1/statuses", app.base))
        .bearer_auth(&alice.token)
        .header("Idempotency-Key", "retry")
        .json(&bad)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status().as_u16(), 422, "the media check fails after the key was reserved");
    assert_eq!(count(&app, "statuses").await, 0);
    let good = json!({ "status": "with a missing picture" });
    let first = post_with_idempotency_key(&app, &alice, "retry", good.clone()).await;
    let second = post_with_idempotency_key(&app, &alice, "retry", good).await;
    assert_eq!(first, second);
    assert_eq!(count(&app, "statuses").await, 1);
}

#[tokio::test]
async fn idempotency_key_returns_the_same_status() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let first = post_with_idempotency_key(&app, &alice, "key-1", json!({ "status": "once" })).await;
    let again = post_with_idempotency_key(&app, &alice, "key-1", json!({ "status": "once" })).await;
    assert_eq!(first["id"], again["id"]);
    let other = post_with_idempotency_key(&app, &alice, "key-2", json!({ "status": "once" })).await;
    assert_ne!(first["id"], other["id"]);
    // Keys are per account.
    let bobs = post_with_idempotency_key(&app, &bob, "key-1", json!({ "status": "once" })).await;
    assert_ne!(first["id"], bobs["id"]);
    assert_eq!(count(&app, "statuses").await, 3);
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["statuses_count"], 2);
}

#[tokio::test]
async fn text_limit_counts_urls_as_23() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "a".repeat(500) })).await.expect(200);
    let err = app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "a".repeat(501) })).await.expect(422);
    assert!(err["error"].as_str().unwrap().contains("500"), "{err}");
    // Characters, not bytes.
    app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "é".repeat(500) })).await.expect(200);
    // The content warning counts too.
    app.post(
        "/api/v1/statuses",
        Some(&alice.token),
        json!({ "status": "a".repeat(400), "spoiler_text": "b".repeat(101) }),
    )
    .await
    .expect(422);

    let long_url = format!("https://example.com/{}", "x".repeat(600));
    let with_url = app
        .post("/api/v1/statuses", Some(&alice.token), json!({ "status": format!("look {long_url} here") }))
        .await
        .expect(200);
    assert!(with_url["content"].as_str().unwrap().contains(&format!("href=\"{long_url}\"")));
    // 477 characters + a URL (23) is exactly 500.
    let exact = format!("{} https://example.com/{}", "a".repeat(476), "y".repeat(100));
    app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": exact })).await.expect(200);
    let over = format!("{} https://example.com/{}", "a".repeat(477), "y".repeat(100));
    app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": over })).await.expect(422);
    assert_eq!(count(&app, "statuses").await, 4);
}

#[tokio::test]
async fn invalid_posts_are_rejected_and_write_nothing() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let private = post(&app, &bob, json!({ "status": "secret", "visibility": "private" })).await;

    for body in [
        json!({}),
        json!({ "status": "" }),
        json!({ "status": "   \n  " }),
        json!({ "status": "x", "visibility": "everyone" }),
    ] {
        let err = app.post("/api/v1/statuses", Some(&alice.token), body.clone()).await.expect(422);
        assert!(err["error"].as_str().unwrap().starts_with("Validation failed"), "{body}: {err}");
    }
    let blank = app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "" })).await.expect(422);
    assert_eq!(blank["error"], "Validation failed: Text can't be blank");

    // Replies to statuses the author cannot see, or that do not exist: 404.
    app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "re", "in_reply_to_id": private }))
        .await
        .expect(404);
    app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "re", "in_reply_to_id": "999999999" }))
        .await
        .expect(404);
    app.post("/api/v1/statuses", None, json!({ "status": "anonymous" })).await.expect(401);

    let alices: i64 = sqlx::query_scalar("SELECT count(*) FROM statuses WHERE account_id = $1")
        .bind(alice.id.parse::<i64>().unwrap())
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(alices, 0);
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["statuses_count"], 0);
    assert_eq!(count(&app, "mentions").await, 0);
}

#[tokio::test]
async fn statuses_can_be_fetched_singly_and_in_bulk() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let a = post(&app, &alice, json!({ "status": "a" })).await;
    let b = post(&app, &alice, json!({ "status": "b" })).await;
    let anonymous = app.get(&format!("/api/v1/statuses/{a}"), None).await.expect(200);
    assert_eq!(anonymous["id"], a.as_str());
    assert!(anonymous.get("favourited").is_none(), "no viewer flags without a viewer");
    assert_eq!(show(&app, &a, &bob).await["content"], "<p>a</p>");

    app.get("/api/v1/statuses/999999999", None).await.expect(404);
    app.get("/api/v1/statuses/not-a-number", None).await.expect(404);

    let bulk = app.get(&format!("/api/v1/statuses?id[]={b}&id[]=999999999&id[]={a}"), None).await;
    assert_eq!(bulk.ids(), vec![b, a]);
}

#[tokio::test]
async fn delete_returns_the_source_and_removes_everywhere() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&bob, &alice).await;
    let id = post(&app, &alice, json!({ "status": "Hello @bob #tag", "spoiler_text": "cw" })).await;
    app.drain_jobs().await;
    assert_eq!(home_ids(&app, &bob).await, vec![id.clone()]);
    act(&app, &bob, &id, "favourite").await.expect(200);
    assert!(!app.get("/api/v1/notifications", Some(&bob.token)).await.ids().is_empty());

    // Only the author may delete.
    app.delete(&format!("/api/v1/statuses/{id}"), Some(&bob.token)).await.expect(404);

    let deleted = app.delete(&format!("/api/v1/statuses/{id}"), Some(&alice.token)).await.expect(200);
    assert_eq!(deleted["id"], id.as_str());
    assert_eq!(deleted["text"], "Hello @bob #tag");
    assert_eq!(deleted["spoiler_text"], "cw");
    assert!(deleted["content"].as_str().unwrap().contains("Hello"), "{deleted}");

    app.get(&format!("/api/v1/statuses/{id}"), Some(&alice.token)).await.expect(404);
    app.delete(&format!("/api/v1/statuses/{id}"), Some(&alice.token)).await.expect(404);
    app.drain_jobs().await;
    assert_eq!(home_ids(&app, &bob).await, Vec::<String>::new());
    assert_eq!(home_ids(&app, &alice).await, Vec::<String>::new());
    assert_eq!(app.get("/api/v1/notifications", Some(&bob.token)).await.ids(), Vec::<String>::new());
    assert_eq!(app.get(&format!("/api/v1/accounts/{}/statuses", alice.id), None).await.ids(), Vec::<String>::new());
    assert_eq!(app.get("/api/v1/timelines/tag/tag", None).await.ids(), Vec::<String>::new());
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&alice.token)).await.expect(200);
    assert_eq!(me["statuses_count"], 0);
}

#[tokio::test]
async fn edits_keep_history_and_source() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let id = post(&app, &alice, json!({ "status": "first version" })).await;
    act(&app, &carol, &id, "reblog").await.expect(200);
    let original = show(&app, &id, &alice).await;
    assert_eq!(original["edited_at"], Value::Null);
    let history = app.get(&format!("/api/v1/statuses/{id}/history"), None).await.expect(200);
    assert_eq!(history.as_array().unwrap().len(), 1, "an unedited status has one version");

    let edited = app
        .put(
            &format!("/api/v1/statuses/{id}"),
            Some(&alice.token),
            json!({ "status": "second version #edited", "spoiler_text": "now with CW" }),
        )
        .await
        .expect(200);
    assert_eq!(edited["id"], id.as_str());
    assert!(edited["content"].as_str().unwrap().starts_with("<p>second version"), "{edited}");
    assert_eq!(edited["spoiler_text"], "now with CW");
    assert_eq!(edited["sensitive"], true);
    assert!(edited["edited_at"].is_string(), "{edited}");
    assert_eq!(edited["tags"][0]["name"], "edited");
    assert_eq!(edited["created_at"], original["created_at"]);

    let history = app.get(&format!("/api/v1/statuses/{id}/history"), Some(&bob.token)).await.expect(200);
    let versions = history.as_array().unwrap();
    assert_eq!(versions.len(), 2, "{history}");
    assert_eq!(versions[0]["content"], "<p>first version</p>");
    assert_eq!(versions[0]["spoiler_text"], "");
    assert!(versions[1]["content"].as_str().unwrap().starts_with("<p>second version"));
    assert_eq!(versions[1]["spoiler_text"], "now with CW");
    assert_eq!(versions[0]["account"]["id"], alice.id.as_str());
    assert!(versions[0]["created_at"].as_str() < versions[1]["created_at"].as_str());

    // Whoever reblogged it hears about the edit.
    let updates = app.get("/api/v1/notifications?types[]=update", Some(&carol.token)).await.expect(200);
    assert_eq!(updates.as_array().unwrap().len(), 1, "{updates}");
    assert_eq!(updates[0]["status"]["id"], id.as_str());
    assert_eq!(updates[0]["account"]["id"], alice.id.as_str());
    assert!(updates[0]["status"]["content"].as_str().unwrap().starts_with("<p>second version"));

    let source = app.get(&format!("/api/v1/statuses/{id}/source"), Some(&alice.token)).await.expect(200);
    assert_eq!(source, json!({ "id": id, "text": "second version #edited", "spoiler_text": "now with CW" }));

    // Others may not edit; invalid edits change nothing.
    app.put(&format!("/api/v1/statuses/{id}"), Some(&bob.token), json!({ "status": "hijacked" })).await.expect(404);
    app.put(&format!("/api/v1/statuses/{id}"), Some(&alice.token), json!({ "status": "x".repeat(501) }))
        .await
        .expect(422);
    app.put(&format!("/api/v1/statuses/{id}"), Some(&alice.token), json!({ "status": "" })).await.expect(422);
    app.put("/api/v1/statuses/999999999", Some(&alice.token), json!({ "status": "x" })).await.expect(404);
    let history = app.get(&format!("/api/v1/statuses/{id}/history"), None).await.expect(200);
    assert_eq!(history.as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn source_is_readable_where_the_status_is_visible() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let public = post(&app, &alice, json!({ "status": "open @bob" })).await;
    let private = post(&app, &alice, json!({ "status": "closed", "visibility": "private" })).await;
    let source = app.get(&format!("/api/v1/statuses/{public}/source"), Some(&bob.token)).await.expect(200);
    assert_eq!(source["text"], "open @bob");
    app.get(&format!("/api/v1/statuses/{private}/source"), Some(&bob.token)).await.expect(404);
    app.get(&format!("/api/v1/statuses/{public}/source"), None).await.expect(401);
}

#[tokio::test]
async fn context_lists_ancestors_and_descendants_in_thread_order() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let root = post(&app, &alice, json!({ "status": "root" })).await;
    let r1 = post(&app, &bob, json!({ "status": "@alice r1", "in_reply_to_id": root })).await;
    let r2 = post(&app, &alice, json!({ "status": "@bob r2", "in_reply_to_id": r1 })).await;
    let r3 = post(&app, &bob, json!({ "status": "@alice r3", "in_reply_to_id": root })).await;
    let r4 = post(&app, &alice, json!({ "status": "r4", "in_reply_to_id": r2 })).await;

    let reply = show(&app, &r1, &alice).await;
    assert_eq!(reply["in_reply_to_id"], root.as_str());
    assert_eq!(reply["in_reply_to_account_id"], alice.id.as_str());
    assert_eq!(show(&app, &root, &alice).await["replies_count"], 2);

    let ctx = app.get(&format!("/api/v1/statuses/{root}/context"), None).await.expect(200);
    assert_eq!(ids(&ctx["ancestors"]), Vec::<String>::new());
    assert_eq!(ids(&ctx["descendants"]), vec![r1.clone(), r2.clone(), r4.clone(), r3.clone()], "depth first");

    let ctx = app.get(&format!("/api/v1/statuses/{r2}/context"), Some(&bob.token)).await.expect(200);
    assert_eq!(ids(&ctx["ancestors"]), vec![root.clone(), r1.clone()], "oldest first");
    assert_eq!(ids(&ctx["descendants"]), vec![r4.clone()]);

    app.get("/api/v1/statuses/999999999/context", None).await.expect(404);
}

/// Issue 18, defect 2: a thread read, replied to and favourited while its statuses are
/// deleted (by their author, and outright as `ctl statuses remove` does) never answers 500.
#[tokio::test]
async fn a_thread_being_deleted_answers_without_server_errors() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let root = post(&app, &alice, json!({ "status": "root" })).await;
    let mut replies = Vec::new();
    for i in 0..24 {
        replies.push(post(&app, &bob, json!({ "status": format!("reply {i}"), "in_reply_to_id": root })).await);
    }
    let readers = async {
        let mut statuses = Vec::new();
        for _ in 0..40 {
            statuses.push(app.get(&format!("/api/v1/statuses/{root}/context"), Some(&alice.token)).await.status);
        }
        statuses
    };
    let writers = async {
        let mut statuses = Vec::new();
        for (i, id) in replies.iter().enumerate() {
            let (a, b, c) = tokio::join!(
                act(&app, &alice, id, "favourite"),
                app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "and", "in_reply_to_id": id })),
                async {
                    if i % 2 == 0 {
                        app.delete(&format!("/api/v1/statuses/{id}"), Some(&bob.token)).await.status.as_u16()
                    } else {
                        let gone = sqlx::query("DELETE FROM statuses WHERE id = $1")
                            .bind(id.parse::<i64>().unwrap())
                            .execute(&app.state.db.primary)
                            .await;
                        if gone.is_ok() { 200 } else { 500 }
                    }
                }
            );
            statuses.extend([a.status.as_u16(), b.status.as_u16(), c]);
        }
        statuses
    };
    let (read, written) = tokio::join!(readers, writers);
    assert!(read.iter().all(|s| s.as_u16() == 200), "{read:?}");
    assert!(written.iter().all(|s| *s == 200 || *s == 404), "{written:?}");
    app.drain_jobs().await;
    app.get(&format!("/api/v1/statuses/{root}/context"), Some(&alice.token)).await.expect(200);
}

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|v| s(&v["id"])).collect()
}

#[tokio::test]
async fn favourites_count_and_list() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let id = post(&app, &alice, json!({ "status": "like me" })).await;
    let other = post(&app, &alice, json!({ "status": "me too" })).await;

    let faved = act(&app, &bob, &id, "favourite").await.expect(200);
    assert_eq!(faved["favourited"], true);
    assert_eq!(faved["favourites_count"], 1);
    // Favouriting twice changes nothing.
    assert_eq!(act(&app, &bob, &id, "favourite").await.expect(200)["favourites_count"], 1);
    act(&app, &carol, &id, "favourite").await.expect(200);
    act(&app, &bob, &other, "favourite").await.expect(200);
    assert_eq!(show(&app, &id, &alice).await["favourites_count"], 2);
    assert_eq!(show(&app, &id, &alice).await["favourited"], false);

    let by = account_ids(app.get(&format!("/api/v1/statuses/{id}/favourited_by"), None).await);
    assert_eq!(by, vec![carol.id.clone(), bob.id.clone()]);
    let list = app.get("/api/v1/favourites", Some(&bob.token)).await;
    assert_eq!(list.ids(), vec![other.clone(), id.clone()], "most recently favourited first");
    let page = app.get("/api/v1/favourites?limit=1", Some(&bob.token)).await;
    assert_eq!(page.ids(), vec![other.clone()]);
    assert!(page.link().unwrap().contains("rel=\"next\""), "{:?}", page.link());

    let unfaved = act(&app, &bob, &id, "unfavourite").await.expect(200);
    assert_eq!(unfaved["favourited"], false);
    assert_eq!(unfaved["favourites_count"], 1);
    // Unfavouriting something never favourited is fine.
    act(&app, &bob, &id, "unfavourite").await.expect(200);
    assert_eq!(app.get("/api/v1/favourites", Some(&bob.token)).await.ids(), vec![other]);

    act(&app, &bob, "999999999", "favourite").await.expect(404);
    app.get("/api/v1/favourites", None).await.expect(401);
}

#[tokio::test]
async fn reblogs_wrap_the_original() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let id = post(&app, &alice, json!({ "status": "boost me" })).await;

    let reblog = act(&app, &bob, &id, "reblog").await.expect(200);
    assert_ne!(reblog["id"], id.as_str());
    assert_eq!(reblog["account"]["id"], bob.id.as_str());
    assert_eq!(reblog["reblog"]["id"], id.as_str());
    assert_eq!(reblog["reblog"]["reblogged"], true);
    // Clients read the flag on the returned status itself (issue 18, defect 1).
    assert_eq!(reblog["reblogged"], true);
    assert_eq!(reblog["favourited"], false);
    assert_eq!(reblog["reblog"]["reblogs_count"], 1);
    assert_eq!(reblog["content"], "");
    assert_eq!(reblog["visibility"], "public");
    // Reblogging again returns the same reblog.
    assert_eq!(act(&app, &bob, &id, "reblog").await.expect(200)["id"], reblog["id"]);
    // Reblogging a reblog reblogs the original.
    let via = act(&app, &carol, &s(&reblog["id"]), "reblog").await.expect(200);
    assert_eq!(via["reblog"]["id"], id.as_str());
    assert_eq!(show(&app, &id, &alice).await["reblogs_count"], 2);

    let by = account_ids(app.get(&format!("/api/v1/statuses/{id}/reblogged_by"), None).await);
    assert_eq!(by, vec![carol.id.clone(), bob.id.clone()]);
    let notes = app.get("/api/v1/notifications?types[]=reblog", Some(&alice.token)).await.expect(200);
    assert_eq!(notes.as_array().unwrap().len(), 2);
    assert_eq!(notes[0]["status"]["id"], id.as_str(), "the notification shows the original");

    let unreblogged = act(&app, &bob, &id, "unreblog").await.expect(200);
    assert_eq!(unreblogged["id"], id.as_str());
    assert_eq!(unreblogged["reblogged"], false);
    assert_eq!(unreblogged["reblogs_count"], 1);
    app.get(&format!("/api/v1/statuses/{}", s(&reblog["id"])), None).await.expect(404);
    let by = account_ids(app.get(&format!("/api/v1/statuses/{id}/reblogged_by"), None).await);
    assert_eq!(by, vec![carol.id.clone()]);

    // Reblog visibility can be chosen.
    let unlisted = app
        .post(&format!("/api/v1/statuses/{id}/reblog"), Some(&bob.token), json!({ "visibility": "unlisted" }))
        .await
        .expect(200);
    assert_eq!(unlisted["visibility"], "unlisted");
}

#[tokio::test]
async fn private_and_direct_statuses_cannot_be_reblogged_by_others() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&bob, &alice).await;
    let private = post(&app, &alice, json!({ "status": "followers only", "visibility": "private" })).await;
    let direct = post(&app, &alice, json!({ "status": "@bob direct", "visibility": "direct" })).await;
    show(&app, &private, &bob).await;
    show(&app, &direct, &bob).await;

    act(&app, &bob, &private, "reblog").await.expect(403);
    act(&app, &bob, &direct, "reblog").await.expect(403);
    // The author may boost their own private status; the boost stays private.
    let own = act(&app, &alice, &private, "reblog").await.expect(200);
    assert_eq!(own["visibility"], "private");
    act(&app, &alice, &direct, "reblog").await.expect(403);
    let reblogs: i64 = sqlx::query_scalar("SELECT count(*) FROM statuses WHERE reblog_of_id IS NOT NULL")
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(reblogs, 1);
}

#[tokio::test]
async fn bookmarks_are_private_lists() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let a = post(&app, &alice, json!({ "status": "a" })).await;
    let b = post(&app, &alice, json!({ "status": "b" })).await;

    let marked = act(&app, &bob, &a, "bookmark").await.expect(200);
    assert_eq!(marked["bookmarked"], true);
    act(&app, &bob, &b, "bookmark").await.expect(200);
    assert_eq!(show(&app, &a, &bob).await["bookmarked"], true);
    assert_eq!(show(&app, &a, &alice).await["bookmarked"], false);
    assert_eq!(app.get("/api/v1/bookmarks", Some(&bob.token)).await.ids(), vec![b.clone(), a.clone()]);
    assert_eq!(app.get("/api/v1/bookmarks", Some(&alice.token)).await.ids(), Vec::<String>::new());

    let unmarked = act(&app, &bob, &a, "unbookmark").await.expect(200);
    assert_eq!(unmarked["bookmarked"], false);
    assert_eq!(app.get("/api/v1/bookmarks", Some(&bob.token)).await.ids(), vec![b]);
    act(&app, &bob, "999999999", "bookmark").await.expect(404);
}

#[tokio::test]
async fn pins_are_limited_to_five_own_statuses() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut ids = Vec::new();
    for i in 0..6 {
        ids.push(post(&app, &alice, json!({ "status": format!("pin {i}") })).await);
    }
    for id in &ids[..5] {
        let pinned = act(&app, &alice, id, "pin").await.expect(200);
        assert_eq!(pinned["pinned"], true);
    }
    let err = act(&app, &alice, &ids[5], "pin").await.expect(422);
    assert!(err["error"].as_str().unwrap().starts_with("Validation failed"), "{err}");
    // Pinning again what is already pinned is fine.
    act(&app, &alice, &ids[0], "pin").await.expect(200);

    let bobs = post(&app, &bob, json!({ "status": "not yours" })).await;
    act(&app, &alice, &bobs, "pin").await.expect(422);
    let direct = post(&app, &bob, json!({ "status": "@alice psst", "visibility": "direct" })).await;
    act(&app, &bob, &direct, "pin").await.expect(422);

    let pinned = app.get(&format!("/api/v1/accounts/{}/statuses?pinned=true", alice.id), None).await;
    assert_eq!(pinned.ids().len(), 5);
    let unpinned = act(&app, &alice, &ids[0], "unpin").await.expect(200);
    assert_eq!(unpinned["pinned"], false);
    act(&app, &alice, &ids[5], "pin").await.expect(200);
    assert_eq!(count(&app, "status_pins").await, 5);
}

#[tokio::test]
async fn a_content_warning_without_text_becomes_the_text() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let status = app.post_status(&alice, json!({ "status": "", "spoiler_text": "only a warning" })).await;
    assert_eq!(status["content"], "<p>only a warning</p>");
    assert_eq!(status["spoiler_text"], "");
}

/// Issue 18, defect 6: `allowed_mentions` refuses a post that would reach anyone else, with
/// the accounts it would have reached, and writes nothing.
#[tokio::test]
async fn allowed_mentions_refuses_unexpected_recipients() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let body = |allowed: Vec<&str>| json!({ "status": "@bob @carol hello", "allowed_mentions": allowed });
    let refused = app.post("/api/v1/statuses", Some(&alice.token), body(vec![&bob.id])).await.expect(422);
    assert_eq!(refused["error"], "Post would be sent to unexpected accounts");
    assert_eq!(refused["unexpected_accounts"].as_array().unwrap().len(), 1, "{refused}");
    assert_eq!(refused["unexpected_accounts"][0]["id"], carol.id.as_str());
    assert_eq!(refused["unexpected_accounts"][0]["acct"], "carol");
    assert_eq!(count(&app, "statuses").await, 0);
    assert_eq!(count(&app, "notifications").await, 0);

    let posted = app.post("/api/v1/statuses", Some(&alice.token), body(vec![&bob.id, &carol.id])).await.expect(200);
    assert_eq!(posted["mentions"].as_array().unwrap().len(), 2);
    // Form clients send the list as `allowed_mentions[]`.
    let form = [("status", "@bob again"), ("allowed_mentions[]", carol.id.as_str())];
    app.post_form("/api/v1/statuses", Some(&alice.token), &form).await.expect(422);
    app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "no one", "allowed_mentions": [] }))
        .await
        .expect(200);
}

/// Muting a conversation silences its notifications (favourites, replies, mentions) and
/// shows as `muted`; translation without a backend is Mastodon's 404.
#[tokio::test]
async fn a_muted_conversation_stops_notifying() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let root = post(&app, &alice, json!({ "status": "a thread" })).await;
    let muted = act(&app, &alice, &root, "mute").await.expect(200);
    assert_eq!(muted["muted"], true);
    assert_eq!(show(&app, &root, &alice).await["muted"], true);
    assert_eq!(show(&app, &root, &bob).await["muted"], false, "a mute is the muter's own");

    act(&app, &bob, &root, "favourite").await.expect(200);
    post(&app, &bob, json!({ "status": "@alice a reply", "in_reply_to_id": root })).await;
    app.drain_jobs().await;
    assert_eq!(count(&app, "notifications").await, 0);

    assert_eq!(act(&app, &alice, &root, "unmute").await.expect(200)["muted"], false);
    post(&app, &bob, json!({ "status": "@alice another", "in_reply_to_id": root })).await;
    app.drain_jobs().await;
    assert_eq!(count(&app, "notifications").await, 1);

    let private = post(&app, &alice, json!({ "status": "mine", "visibility": "private" })).await;
    act(&app, &bob, &private, "mute").await.expect(404);
    act(&app, &bob, &root, "translate").await.expect(404);
    act(&app, &bob, &private, "translate").await.expect(404);
}
