//! Followed hashtags: follow/unfollow, /followed_tags, public posts with the tag reaching the
//! follower's home feed, and unfollowing taking them out again.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;
use serde_json::json;

#[tokio::test]
async fn following_a_hashtag_brings_its_public_posts_home() {
    let app = TestApp::spawn().await;
    let reader = app.register("reader").await;
    let writer = app.register("writer").await;
    let friend = app.register("friend").await;
    app.follow(&reader, &friend).await;

    let shown = app.get("/api/v1/tags/RustLang", Some(&reader.token)).await.ok();
    assert_eq!((shown["name"].as_str(), shown["following"].as_bool()), (Some("RustLang"), Some(false)));
    let followed = app.post("/api/v1/tags/RustLang/follow", Some(&reader.token), json!({})).await.ok();
    assert_eq!(followed["following"], true);
    assert!(!followed["id"].as_str().unwrap().is_empty());
    let list = app.get("/api/v1/followed_tags", Some(&reader.token)).await.ok();
    assert_eq!(list[0]["name"], "RustLang");
    app.post("/api/v1/tags/not%20a%20tag/follow", Some(&reader.token), json!({})).await.expect(404);

    let tagged = app.post_status(&writer, json!({ "status": "hello #rustlang" })).await;
    let private = app.post_status(&writer, json!({ "status": "secret #rustlang", "visibility": "private" })).await;
    let by_friend = app.post_status(&friend, json!({ "status": "also #rustlang" })).await;
    app.drain_jobs().await;
    let home = app.get("/api/v1/timelines/home", Some(&reader.token)).await.ids();
    let id = |v: &serde_json::Value| v["id"].as_str().unwrap().to_string();
    assert!(home.contains(&id(&tagged)), "a public post with a followed tag arrives");
    assert!(!home.contains(&id(&private)), "private posts never do");
    assert!(home.contains(&id(&by_friend)));

    // A block keeps the author's tagged posts out.
    let blocked = app.register("blocked").await;
    app.post(&format!("/api/v1/accounts/{}/block", blocked.id), Some(&reader.token), json!({})).await.ok();
    let from_blocked = app.post_status(&blocked, json!({ "status": "#rustlang from a blocked account" })).await;
    app.drain_jobs().await;
    assert!(!app.get("/api/v1/timelines/home", Some(&reader.token)).await.ids().contains(&id(&from_blocked)));

    let unfollowed = app.post("/api/v1/tags/rustlang/unfollow", Some(&reader.token), json!({})).await.ok();
    assert_eq!(unfollowed["following"], false);
    app.drain_jobs().await;
    let home = app.get("/api/v1/timelines/home", Some(&reader.token)).await.ids();
    assert!(!home.contains(&id(&tagged)), "unfollowing takes the tag's posts out");
    assert!(home.contains(&id(&by_friend)), "but keeps those from followed accounts");
    assert!(app.get("/api/v1/followed_tags", Some(&reader.token)).await.ok().as_array().unwrap().is_empty());
}
