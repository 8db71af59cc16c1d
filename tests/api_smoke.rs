#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

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
