//! Filters over HTTP: the v2 API with keywords and statuses, the v1 API of one filter per
//! keyword, Mastodon's validations, and `filtered` on statuses in each context.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::{TestApp, User};
use futures_util::StreamExt;
use serde_json::{Value, json};

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}")).to_string()
}

async fn create(app: &TestApp, user: &User, body: Value) -> Value {
    app.post("/api/v2/filters", Some(&user.token), body).await.expect(200)
}

/// `filtered` of the status `id` in a list of statuses.
fn filtered_of(list: &Value, id: &str) -> Value {
    list.as_array().unwrap().iter().find(|st| st["id"] == id).unwrap_or_else(|| panic!("{id} not in {list}"))["filtered"]
        .clone()
}

#[tokio::test]
async fn v2_filters_with_keywords_and_statuses() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let filter = create(
        &app,
        &alice,
        json!({
            "title": "Spoilers", "context": ["home", "public"], "filter_action": "hide",
            "keywords_attributes": [{ "keyword": "finale" }, { "keyword": "ending", "whole_word": false }],
        }),
    )
    .await;
    assert_eq!(filter["title"], "Spoilers");
    assert_eq!(filter["context"], json!(["home", "public"]));
    assert_eq!(filter["filter_action"], "hide");
    assert_eq!(filter["expires_at"], Value::Null);
    assert_eq!(filter["keywords"][0]["keyword"], "finale");
    assert_eq!(filter["keywords"][0]["whole_word"], true);
    assert_eq!(filter["keywords"][1]["whole_word"], false);
    assert_eq!(filter["statuses"], json!([]));
    let id = s(&filter["id"]);

    let error = |v: Value| s(&v["error"]);
    let blank = app.post("/api/v2/filters", Some(&alice.token), json!({})).await.expect(422);
    assert_eq!(error(blank), "Validation failed: Title can't be blank, Context can't be blank");
    let bad = app.post("/api/v2/filters", Some(&alice.token), json!({ "title": "x", "context": ["everywhere"] }));
    assert_eq!(error(bad.await.expect(422)), "Validation failed: Context none or invalid context supplied");
    let bad = json!({ "title": "x", "context": ["home"], "filter_action": "explode" });
    app.post("/api/v2/filters", Some(&alice.token), bad).await.expect(422);
    app.get(&format!("/api/v2/filters/{id}"), Some(&bob.token)).await.expect(404);

    // Update: a new title, one keyword changed, one destroyed, one added; an expiry.
    let keywords = &filter["keywords"];
    let changed = app
        .put(
            &format!("/api/v2/filters/{id}"),
            Some(&alice.token),
            json!({
                "title": "Show spoilers", "expires_in": 3600,
                "keywords_attributes": [
                    { "id": keywords[0]["id"], "keyword": "season finale" },
                    { "id": keywords[1]["id"], "_destroy": true },
                    { "keyword": "twist" },
                ],
            }),
        )
        .await
        .expect(200);
    assert_eq!(changed["title"], "Show spoilers");
    assert!(changed["expires_at"].is_string(), "{changed}");
    let words: Vec<String> = changed["keywords"].as_array().unwrap().iter().map(|k| s(&k["keyword"])).collect();
    assert_eq!(words, ["season finale", "twist"]);
    assert_eq!(changed["context"], json!(["home", "public"]), "kept");

    // Keywords and statuses on their own routes.
    let path = format!("/api/v2/filters/{id}/keywords");
    let keyword = app.post(&path, Some(&alice.token), json!({ "keyword": "plot" })).await.expect(200);
    let kid = s(&keyword["id"]);
    assert_eq!(app.get(&format!("/api/v2/filters/keywords/{kid}"), Some(&alice.token)).await.expect(200), keyword);
    let path = format!("/api/v2/filters/keywords/{kid}");
    let renamed = app.put(&path, Some(&alice.token), json!({ "whole_word": false })).await.expect(200);
    assert_eq!(renamed["whole_word"], false);
    app.post(&format!("/api/v2/filters/{id}/keywords"), Some(&alice.token), json!({ "keyword": " " }))
        .await
        .expect(422);
    assert_eq!(
        app.get(&format!("/api/v2/filters/{id}/keywords"), Some(&alice.token))
            .await
            .expect(200)
            .as_array()
            .unwrap()
            .len(),
        3
    );
    app.get(&format!("/api/v2/filters/keywords/{kid}"), Some(&bob.token)).await.expect(404);
    app.delete(&format!("/api/v2/filters/keywords/{kid}"), Some(&alice.token)).await.expect(200);

    let post = app.post_status(&bob, json!({ "status": "nothing to see" })).await;
    let path = format!("/api/v2/filters/{id}/statuses");
    let rule = app.post(&path, Some(&alice.token), json!({ "status_id": post["id"] })).await.expect(200);
    assert_eq!(rule["status_id"], post["id"]);
    let rid = s(&rule["id"]);
    assert_eq!(app.get(&format!("/api/v2/filters/statuses/{rid}"), Some(&alice.token)).await.expect(200), rule);
    assert_eq!(app.get(&format!("/api/v2/filters/{id}/statuses"), Some(&alice.token)).await.expect(200), json!([rule]));
    let listed = app.get("/api/v2/filters", Some(&alice.token)).await.expect(200);
    assert_eq!(listed[0]["statuses"][0]["id"], rid.as_str());
    app.delete(&format!("/api/v2/filters/statuses/{rid}"), Some(&alice.token)).await.expect(200);

    assert_eq!(app.delete(&format!("/api/v2/filters/{id}"), Some(&alice.token)).await.expect(200), json!({}));
    assert_eq!(app.get("/api/v2/filters", Some(&alice.token)).await.expect(200), json!([]));
    app.get("/api/v2/filters", None).await.expect(401);
}

#[tokio::test]
async fn statuses_carry_the_filters_they_match_in_their_context() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&alice, &bob).await;
    let filter = create(
        &app,
        &alice,
        json!({ "title": "Cats", "context": ["home", "thread"], "keywords_attributes": [{ "keyword": "cat" }] }),
    )
    .await;
    create(
        &app,
        &alice,
        json!({ "title": "Old", "context": ["home"], "expires_in": 1, "keywords_attributes": [{ "keyword": "dog" }] }),
    )
    .await;
    let cat = app.post_status(&bob, json!({ "status": "my Cat is asleep" })).await;
    let word = app.post_status(&bob, json!({ "status": "concatenated words" })).await;
    let warned = app.post_status(&bob, json!({ "status": "nothing here", "spoiler_text": "cat content" })).await;
    app.drain_jobs().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    let dog = app.post_status(&bob, json!({ "status": "a dog" })).await;
    app.drain_jobs().await;

    let home = app.get("/api/v1/timelines/home", Some(&alice.token)).await.expect(200);
    let matched = filtered_of(&home, &s(&cat["id"]));
    assert_eq!(matched.as_array().unwrap().len(), 1, "{matched}");
    assert_eq!(matched[0]["filter"]["id"], filter["id"]);
    assert_eq!(matched[0]["filter"]["filter_action"], "warn");
    assert!(matched[0]["filter"].get("keywords").is_none(), "no rules inside a status");
    assert_eq!(matched[0]["keyword_matches"], json!(["Cat"]));
    assert_eq!(matched[0]["status_matches"], Value::Null);
    assert_eq!(filtered_of(&home, &s(&word["id"])), json!([]), "whole words only");
    assert_eq!(filtered_of(&home, &s(&warned["id"]))[0]["keyword_matches"], json!(["cat"]), "the spoiler counts");
    assert_eq!(filtered_of(&home, &s(&dog["id"])), json!([]), "an expired filter does nothing");

    // Other contexts: public is not filtered here, the thread is.
    let public = app.get("/api/v1/timelines/public", Some(&alice.token)).await.expect(200);
    assert_eq!(filtered_of(&public, &s(&cat["id"])), json!([]));
    let reply = app.post_status(&alice, json!({ "status": "@bob sweet", "in_reply_to_id": cat["id"] })).await;
    let context =
        app.get(&format!("/api/v1/statuses/{}/context", s(&reply["id"])), Some(&alice.token)).await.expect(200);
    assert_eq!(context["ancestors"][0]["filtered"][0]["keyword_matches"], json!(["Cat"]));
    assert_eq!(filtered_of(&home, &s(&cat["id"]))[0]["filter"]["title"], "Cats");
    // Nobody else sees alice's filters.
    let bobs = app.get(&format!("/api/v1/statuses/{}/context", s(&reply["id"])), Some(&bob.token)).await.expect(200);
    assert_eq!(bobs["ancestors"][0]["filtered"], json!([]));

    // A filtered status, and a reblog of it, match by status.
    let id = s(&filter["id"]);
    let dave = app.register("dave").await;
    let otter = app.post_status(&dave, json!({ "status": "an otter" })).await;
    app.post(&format!("/api/v2/filters/{id}/statuses"), Some(&alice.token), json!({ "status_id": otter["id"] }))
        .await
        .expect(200);
    let carol = app.register("carol").await;
    app.follow(&alice, &carol).await;
    let path = format!("/api/v1/statuses/{}/reblog", s(&otter["id"]));
    let reblog = app.post(&path, Some(&carol.token), json!({})).await.expect(200);
    app.drain_jobs().await;
    let home = app.get("/api/v1/timelines/home", Some(&alice.token)).await.expect(200);
    assert_eq!(filtered_of(&home, &s(&reblog["id"]))[0]["status_matches"], json!([s(&otter["id"])]));
}

#[tokio::test]
async fn v1_filters_are_keywords_and_changes_reach_the_streams() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let client = redis::Client::open(app.state.config.redis_url.clone()).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.subscribe(app.state.redis.key(format!("timeline:{}", alice.id))).await.unwrap();

    let created = app
        .post(
            "/api/v1/filters",
            Some(&alice.token),
            json!({ "phrase": "politics", "context": ["home"], "irreversible": true }),
        )
        .await
        .expect(200);
    assert_eq!(created["phrase"], "politics");
    assert_eq!(created["irreversible"], true);
    assert_eq!(created["whole_word"], true);
    let id = s(&created["id"]);
    let v2 = app.get("/api/v2/filters", Some(&alice.token)).await.expect(200);
    assert_eq!((v2[0]["title"].as_str(), v2[0]["filter_action"].as_str()), (Some("politics"), Some("hide")));
    assert_eq!(v2[0]["keywords"][0]["id"], id.as_str(), "a v1 filter is the keyword");

    let updated = app
        .put(
            &format!("/api/v1/filters/{id}"),
            Some(&alice.token),
            json!({ "phrase": "elections", "whole_word": false }),
        )
        .await
        .expect(200);
    assert_eq!((updated["phrase"].as_str(), updated["whole_word"].as_bool()), (Some("elections"), Some(false)));
    assert_eq!(app.get("/api/v1/filters", Some(&alice.token)).await.expect(200), json!([updated]));
    app.post("/api/v1/filters", Some(&alice.token), json!({ "phrase": "x", "context": [] })).await.expect(422);

    app.drain_jobs().await;
    let mut messages = pubsub.on_message();
    let first = tokio::time::timeout(Duration::from_secs(5), messages.next()).await.expect("a message").unwrap();
    let event: Value = serde_json::from_str(&first.get_payload::<String>().unwrap()).unwrap();
    assert_eq!(event, json!({ "event": "filters_changed" }));
    drop(messages);

    app.delete(&format!("/api/v1/filters/{id}"), Some(&alice.token)).await.expect(200);
    assert_eq!(app.get("/api/v1/filters", Some(&alice.token)).await.expect(200), json!([]));
    app.get(&format!("/api/v1/filters/{id}"), Some(&alice.token)).await.expect(404);
}
