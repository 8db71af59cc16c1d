//! Notification policies and requests: who may notify, what is held back as a request, and
//! accepting or dismissing it.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::{TestApp, User};
use futures_util::StreamExt;
use serde_json::{Value, json};

async fn shown(app: &TestApp, user: &User) -> Vec<String> {
    let list = app.get("/api/v1/notifications", Some(&user.token)).await.expect(200);
    list.as_array()
        .unwrap()
        .iter()
        .map(|n| format!("{}:{}", n["type"].as_str().unwrap(), n["account"]["username"].as_str().unwrap()))
        .collect()
}

#[tokio::test]
async fn a_policy_holds_back_drops_or_lets_through() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let friend = app.register("friend").await;
    app.follow(&alice, &friend).await;

    let policy = app.get("/api/v2/notifications/policy", Some(&alice.token)).await.expect(200);
    assert_eq!(policy["for_not_following"], "accept");
    assert_eq!(policy["for_private_mentions"], "filter");
    assert_eq!(policy["for_limited_accounts"], "filter");
    assert_eq!(policy["summary"], json!({ "pending_requests_count": 0, "pending_notifications_count": 0 }));
    let bad = app.patch("/api/v2/notifications/policy", Some(&alice.token), json!({ "for_not_following": "maybe" }));
    assert_eq!(bad.await.expect(422)["error"], "Validation failed: For not following is not included in the list");
    let set = app.patch("/api/v2/notifications/policy", Some(&alice.token), json!({ "for_not_following": "filter" }));
    assert_eq!(set.await.expect(200)["for_not_following"], "filter");

    app.post_status(&bob, json!({ "status": "@alice hi from a stranger" })).await;
    app.post_status(&friend, json!({ "status": "@alice hi from a friend" })).await;
    // A private mention out of the blue is held back too (the default policy).
    app.post_status(&dave, json!({ "status": "@alice psst", "visibility": "direct" })).await;
    app.drain_jobs().await;
    assert_eq!(shown(&app, &alice).await, ["mention:friend"]);
    let requests = app.get("/api/v1/notifications/requests", Some(&alice.token)).await.expect(200);
    let senders: Vec<&str> =
        requests.as_array().unwrap().iter().map(|r| r["account"]["username"].as_str().unwrap()).collect();
    assert_eq!(senders, ["dave", "bob"]);
    assert_eq!(requests[1]["notifications_count"], "1");
    assert!(requests[1]["last_status"]["content"].as_str().unwrap().contains("stranger"));
    assert_eq!(
        app.get("/api/v1/conversations", Some(&alice.token)).await.expect(200),
        json!([]),
        "a held-back DM is no conversation yet"
    );
    let policy = app.get("/api/v2/notifications/policy", Some(&alice.token)).await.expect(200);
    assert_eq!(policy["summary"], json!({ "pending_requests_count": 2, "pending_notifications_count": 2 }));

    // Accepting bob: his notification shows, and he is let through from now on.
    let client = redis::Client::open(app.state.config.redis_url.clone()).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    pubsub.subscribe(app.state.redis.key(format!("timeline:{}:notifications", alice.id))).await.unwrap();
    let bob_request = requests[1]["id"].as_str().unwrap().to_string();
    app.get(&format!("/api/v1/notifications/requests/{bob_request}"), Some(&carol.token)).await.expect(404);
    app.post(&format!("/api/v1/notifications/requests/{bob_request}/accept"), Some(&alice.token), json!({}))
        .await
        .expect(200);
    app.drain_jobs().await;
    let message = tokio::time::timeout(Duration::from_secs(5), pubsub.on_message().next()).await.unwrap().unwrap();
    let event: Value = serde_json::from_str(&message.get_payload::<String>().unwrap()).unwrap();
    assert_eq!(event["event"], "notifications_merged");
    assert_eq!(
        app.get("/api/v1/notifications/requests/merged", Some(&alice.token)).await.expect(200),
        json!({ "merged": true })
    );
    app.post_status(&bob, json!({ "status": "@alice again" })).await;
    app.drain_jobs().await;
    assert_eq!(shown(&app, &alice).await, ["mention:bob", "mention:friend", "mention:bob"], "by when they came");

    // Dismissing dave's drops what he sent.
    let dave_request = requests[0]["id"].as_str().unwrap();
    app.post("/api/v1/notifications/requests/dismiss", Some(&alice.token), json!({ "id": [dave_request] }))
        .await
        .expect(200);
    assert_eq!(app.get("/api/v1/notifications/requests", Some(&alice.token)).await.expect(200), json!([]));
    let held: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications WHERE filtered")
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(held, 0);

    // Dropping: carol's mention leaves no trace.
    app.patch("/api/v2/notifications/policy", Some(&alice.token), json!({ "for_not_following": "drop" }))
        .await
        .expect(200);
    app.post_status(&carol, json!({ "status": "@alice hello?" })).await;
    app.drain_jobs().await;
    assert_eq!(shown(&app, &alice).await.len(), 3);
    assert_eq!(app.get("/api/v1/notifications/requests", Some(&alice.token)).await.expect(200), json!([]));
    app.get("/api/v2/notifications/policy", None).await.expect(401);
}

#[tokio::test]
async fn a_private_answer_to_ones_own_private_mention_is_let_through() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let dave = app.register("dave").await;
    let asked = app.post_status(&alice, json!({ "status": "@dave a question", "visibility": "direct" })).await;
    let answer = json!({ "status": "@alice an answer", "visibility": "direct", "in_reply_to_id": asked["id"] });
    app.post_status(&dave, answer).await;
    app.drain_jobs().await;
    assert_eq!(shown(&app, &alice).await, ["mention:dave"]);
    assert_eq!(app.get("/api/v1/notifications/requests", Some(&alice.token)).await.expect(200), json!([]));
}
