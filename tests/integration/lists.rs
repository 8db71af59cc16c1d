//! Lists: CRUD, members (only followed accounts), the list timeline fed by fan-out with
//! replies policies and exclusive lists, backfill on adding a member, and removal on delete.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{TestApp, User};
use serde_json::{Value, json};

async fn create_list(app: &TestApp, owner: &User, body: Value) -> String {
    app.post("/api/v1/lists", Some(&owner.token), body).await.ok()["id"].as_str().unwrap().to_string()
}

async fn add(app: &TestApp, owner: &User, list: &str, member: &User) {
    app.post(&format!("/api/v1/lists/{list}/accounts"), Some(&owner.token), json!({ "account_ids": [member.id] }))
        .await
        .ok();
    app.drain_jobs().await;
}

async fn list_timeline(app: &TestApp, owner: &User, list: &str) -> Vec<String> {
    app.get(&format!("/api/v1/timelines/list/{list}"), Some(&owner.token)).await.ok();
    app.get(&format!("/api/v1/timelines/list/{list}"), Some(&owner.token)).await.ids()
}

async fn post(app: &TestApp, user: &User, body: Value) -> String {
    app.post_status(user, body).await["id"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn lists_are_created_changed_and_deleted_by_their_owner_only() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner").await;
    let other = app.register("other").await;
    app.post("/api/v1/lists", Some(&owner.token), json!({ "title": "  " })).await.expect(422);
    app.post("/api/v1/lists", Some(&owner.token), json!({ "title": "x", "replies_policy": "everyone" }))
        .await
        .expect(422);
    let created = app.post("/api/v1/lists", Some(&owner.token), json!({ "title": "Friends" })).await.ok();
    assert_eq!(created["replies_policy"], "list");
    assert_eq!(created["exclusive"], false);
    let id = created["id"].as_str().unwrap();
    let changed = app
        .put(
            &format!("/api/v1/lists/{id}"),
            Some(&owner.token),
            json!({ "title": "Close friends", "replies_policy": "none", "exclusive": true }),
        )
        .await
        .ok();
    assert_eq!(
        (changed["title"].as_str(), changed["replies_policy"].as_str(), changed["exclusive"].as_bool()),
        (Some("Close friends"), Some("none"), Some(true))
    );
    assert_eq!(app.get("/api/v1/lists", Some(&owner.token)).await.ok().as_array().unwrap().len(), 1);
    app.get(&format!("/api/v1/lists/{id}"), Some(&other.token)).await.expect(404);
    app.delete(&format!("/api/v1/lists/{id}"), Some(&other.token)).await.expect(404);
    app.get(&format!("/api/v1/timelines/list/{id}"), Some(&other.token)).await.expect(404);
    app.delete(&format!("/api/v1/lists/{id}"), Some(&owner.token)).await.ok();
    app.get(&format!("/api/v1/lists/{id}"), Some(&owner.token)).await.expect(404);
}

#[tokio::test]
async fn only_followed_accounts_can_be_members() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner").await;
    let alice = app.register("alice").await;
    let stranger = app.register("stranger").await;
    app.follow(&owner, &alice).await;
    let list = create_list(&app, &owner, json!({ "title": "L" })).await;
    let refused = app
        .post(
            &format!("/api/v1/lists/{list}/accounts"),
            Some(&owner.token),
            json!({ "account_ids": [alice.id, stranger.id] }),
        )
        .await
        .expect(422);
    assert!(refused["error"].as_str().unwrap().contains("followed"));
    assert!(
        app.get(&format!("/api/v1/lists/{list}/accounts"), Some(&owner.token))
            .await
            .ok()
            .as_array()
            .unwrap()
            .is_empty(),
        "nothing added"
    );
    add(&app, &owner, &list, &alice).await;
    let members = app.get(&format!("/api/v1/lists/{list}/accounts"), Some(&owner.token)).await.ok();
    assert_eq!(members[0]["id"], alice.id.as_str());
    let of_alice = app.get(&format!("/api/v1/accounts/{}/lists", alice.id), Some(&owner.token)).await.ok();
    assert_eq!(of_alice[0]["id"], list.as_str());
    app.request(
        reqwest::Method::DELETE,
        &format!("/api/v1/lists/{list}/accounts"),
        Some(&owner.token),
        Some(common::Body::Json(json!({ "account_ids": [alice.id] }))),
    )
    .await
    .ok();
    assert!(
        app.get(&format!("/api/v1/lists/{list}/accounts"), Some(&owner.token))
            .await
            .ok()
            .as_array()
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn the_list_timeline_gets_members_posts_and_exclusive_lists_leave_home() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&owner, &alice).await;
    app.follow(&owner, &bob).await;
    let before = post(&app, &alice, json!({ "status": "before the list" })).await;
    app.drain_jobs().await;
    let list = create_list(&app, &owner, json!({ "title": "Alice only" })).await;
    add(&app, &owner, &list, &alice).await;
    assert_eq!(list_timeline(&app, &owner, &list).await, vec![before.clone()], "adding a member backfills");

    let from_alice = post(&app, &alice, json!({ "status": "in the list" })).await;
    let from_bob = post(&app, &bob, json!({ "status": "not in the list" })).await;
    app.drain_jobs().await;
    assert_eq!(list_timeline(&app, &owner, &list).await, vec![from_alice.clone(), before.clone()]);
    let home = app.get("/api/v1/timelines/home", Some(&owner.token)).await.ids();
    assert!(home.contains(&from_alice) && home.contains(&from_bob));

    app.put(&format!("/api/v1/lists/{list}"), Some(&owner.token), json!({ "exclusive": true })).await.ok();
    let exclusive = post(&app, &alice, json!({ "status": "only in the list now" })).await;
    app.drain_jobs().await;
    assert_eq!(list_timeline(&app, &owner, &list).await[0], exclusive);
    assert!(!app.get("/api/v1/timelines/home", Some(&owner.token)).await.ids().contains(&exclusive));

    app.delete(&format!("/api/v1/statuses/{exclusive}"), Some(&alice.token)).await.ok();
    app.drain_jobs().await;
    assert!(!list_timeline(&app, &owner, &list).await.contains(&exclusive), "deletes leave lists too");
}

#[tokio::test]
async fn replies_policies() {
    let app = TestApp::spawn().await;
    let owner = app.register("owner").await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    app.follow(&owner, &alice).await;
    app.follow(&owner, &bob).await;
    let to_bob = post(&app, &bob, json!({ "status": "bob asks" })).await;
    let to_carol = post(&app, &carol, json!({ "status": "carol asks" })).await;
    app.drain_jobs().await;
    let mut lists = Vec::new();
    for policy in ["list", "followed", "none"] {
        let list = create_list(&app, &owner, json!({ "title": policy, "replies_policy": policy })).await;
        add(&app, &owner, &list, &alice).await;
        lists.push(list);
    }
    // bob is followed but not in the lists; carol is neither.
    let reply_bob = post(&app, &alice, json!({ "status": "@bob answer", "in_reply_to_id": to_bob })).await;
    let reply_carol = post(&app, &alice, json!({ "status": "@carol answer", "in_reply_to_id": to_carol })).await;
    app.drain_jobs().await;
    let seen: Vec<Vec<String>> = {
        let mut all = Vec::new();
        for list in &lists {
            all.push(list_timeline(&app, &owner, list).await);
        }
        all
    };
    assert!(!seen[0].contains(&reply_bob) && !seen[0].contains(&reply_carol), "list: only replies to members");
    assert!(seen[1].contains(&reply_bob) && !seen[1].contains(&reply_carol), "followed: replies to followed accounts");
    assert!(!seen[2].contains(&reply_bob) && !seen[2].contains(&reply_carol), "none: no replies to others");
}

#[tokio::test]
async fn list_timelines_in_the_mastodon_layout_too() {
    let app = TestApp::spawn_with(&[("FERRODON_FEED_ENCODING", "mastodon")]).await;
    let owner = app.register("owner").await;
    let alice = app.register("alice").await;
    app.follow(&owner, &alice).await;
    let list = create_list(&app, &owner, json!({ "title": "L" })).await;
    add(&app, &owner, &list, &alice).await;
    let id = post(&app, &alice, json!({ "status": "sorted sets" })).await;
    app.drain_jobs().await;
    assert_eq!(list_timeline(&app, &owner, &list).await, vec![id]);
}
