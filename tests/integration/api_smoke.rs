#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;
use serde_json::json;

#[tokio::test]
async fn post_follow_home_favourite_notify() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let rel = app.follow(&bob, &alice).await;
    assert_eq!(rel["following"], true);

    let status = app.post_status(&alice, json!({ "status": "Hello @bob #Rust https://example.com" })).await;
    app.drain_jobs().await;
    let home = app.get("/api/v1/timelines/home", Some(&bob.token)).await;
    assert_eq!(home.ids(), vec![status["id"].as_str().unwrap().to_string()], "{}", home.text);
    println!("{}", status["content"]);

    app.post(&format!("/api/v1/statuses/{}/favourite", status["id"].as_str().unwrap()), Some(&bob.token), json!({}))
        .await
        .ok();
    let notes = app.get("/api/v1/notifications", Some(&alice.token)).await.ok();
    let types: Vec<&str> = notes.as_array().unwrap().iter().map(|n| n["type"].as_str().unwrap()).collect();
    assert_eq!(types, vec!["favourite", "follow"]);
    let bob_notes = app.get("/api/v1/notifications", Some(&bob.token)).await.ok();
    assert_eq!(bob_notes[0]["type"], "mention");
}

#[tokio::test]
async fn markers_set_unread_count() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&bob, &alice).await;
    app.follow(&alice, &bob).await;
    let notes = app.get("/api/v1/notifications", Some(&alice.token)).await.ok();
    let newest = notes[0]["id"].as_str().unwrap().to_string();
    let count = app.get("/api/v1/notifications/unread_count", Some(&alice.token)).await.ok();
    assert_eq!(count["count"], 1);

    let saved = app
        .post_form(
            "/api/v1/markers",
            Some(&alice.token),
            &[("notifications[last_read_id]", &newest), ("home[last_read_id]", "5")],
        )
        .await
        .ok();
    assert_eq!(saved["notifications"]["last_read_id"], newest.as_str());
    assert_eq!(saved["home"]["last_read_id"], "5");
    assert_eq!(saved["home"]["version"], 0);
    let count = app.get("/api/v1/notifications/unread_count", Some(&alice.token)).await.ok();
    assert_eq!(count["count"], 0);

    let read = app.get("/api/v1/markers?timeline[]=home", Some(&alice.token)).await.ok();
    assert_eq!(read["home"]["last_read_id"], "5");
    assert!(read.get("notifications").is_none());
    app.post("/api/v1/markers", Some(&alice.token), json!({ "home": { "last_read_id": "9" } })).await.ok();
    let read = app.get("/api/v1/markers?timeline[]=home", Some(&alice.token)).await.ok();
    assert_eq!(read["home"]["version"], 1);
    app.post("/api/v1/markers", Some(&alice.token), json!({ "home": {} })).await.expect(422);
}
