//! What people keep about other accounts and show on their profiles: private notes,
//! endorsed accounts, featured hashtags, familiar followers, removing a follower, and the
//! domains a user hides.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{TestApp, User};
use serde_json::{Value, json};

fn ids(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|v| v["id"].as_str().unwrap().to_string()).collect()
}

async fn relationship(app: &TestApp, viewer: &User, target: &User) -> Value {
    let found = app.get(&format!("/api/v1/accounts/relationships?id[]={}", target.id), Some(&viewer.token)).await;
    found.expect(200)[0].clone()
}

#[tokio::test]
async fn private_notes_are_kept_per_viewer() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let path = format!("/api/v1/accounts/{}/note", bob.id);
    let noted = app.post(&path, Some(&alice.token), json!({ "comment": "met at the conference" })).await.expect(200);
    assert_eq!(noted["note"], "met at the conference");
    assert_eq!(relationship(&app, &alice, &bob).await["note"], "met at the conference");
    assert_eq!(relationship(&app, &bob, &alice).await["note"], "", "only its writer sees a note");

    let too_long = app.post(&path, Some(&alice.token), json!({ "comment": "x".repeat(2001) })).await.expect(422);
    assert_eq!(too_long["error"], "Validation failed: Comment is too long (maximum is 2000 characters)");
    assert_eq!(relationship(&app, &alice, &bob).await["note"], "met at the conference");
    app.post(&path, Some(&alice.token), json!({ "comment": "" })).await.expect(200);
    assert_eq!(relationship(&app, &alice, &bob).await["note"], "");
    app.post("/api/v1/accounts/999999/note", Some(&alice.token), json!({ "comment": "x" })).await.expect(404);
    let (read_only, _) = app.password_token("bob", "read").await;
    app.post(&path, Some(&read_only), json!({ "comment": "x" })).await.expect(403);
}

#[tokio::test]
async fn endorsements_need_a_follow_and_end_with_it() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let endorse = |who: &User, target: &User, action: &str| {
        let path = format!("/api/v1/accounts/{}/{action}", target.id);
        let token = who.token.clone();
        let app = &app;
        async move { app.post(&path, Some(&token), json!({})).await }
    };
    let refused = endorse(&alice, &bob, "endorse").await.expect(422);
    assert_eq!(refused["error"], "Validation failed: You must be already following the person you want to endorse");

    app.follow(&alice, &bob).await;
    app.follow(&alice, &carol).await;
    assert_eq!(endorse(&alice, &bob, "endorse").await.expect(200)["endorsed"], true);
    assert_eq!(endorse(&alice, &carol, "pin").await.expect(200)["endorsed"], true, "the older name");
    assert_eq!(endorse(&alice, &carol, "endorse").await.expect(200)["endorsed"], true, "again: no change");

    let own = app.get("/api/v1/endorsements", Some(&alice.token)).await;
    assert_eq!(own.ids(), vec![carol.id.clone(), bob.id.clone()], "newest first");
    let public = app.get(&format!("/api/v1/accounts/{}/endorsements?limit=1", alice.id), None).await;
    assert!(public.link().unwrap().contains("max_id="), "{:?}", public.link());
    assert_eq!(public.ids(), vec![carol.id.clone()]);

    assert_eq!(endorse(&alice, &carol, "unendorse").await.expect(200)["endorsed"], false);
    // Unfollowing ends the endorsement too.
    app.post(&format!("/api/v1/accounts/{}/unfollow", bob.id), Some(&alice.token), json!({})).await.expect(200);
    assert!(app.get("/api/v1/endorsements", Some(&alice.token)).await.ids().is_empty());
    app.get("/api/v1/endorsements", None).await.expect(401);
}

#[tokio::test]
async fn featured_hashtags_count_public_use_and_stop_at_ten() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.post_status(&alice, json!({ "status": "#Rust is fun" })).await;
    app.post_status(&alice, json!({ "status": "more #rust" })).await;
    app.post_status(&alice, json!({ "status": "secret #rust", "visibility": "private" })).await;
    app.post_status(&alice, json!({ "status": "#cats" })).await;

    let suggestions = app.get("/api/v1/featured_tags/suggestions", Some(&alice.token)).await.expect(200);
    let names: Vec<&str> = suggestions.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Rust", "cats"], "most used first");
    assert_eq!(suggestions[0]["featuring"], false);

    let rust = app.post("/api/v1/featured_tags", Some(&alice.token), json!({ "name": "#rust" })).await.expect(200);
    assert_eq!(rust["name"], "Rust");
    assert_eq!(rust["statuses_count"], "2", "public and unlisted posts, as a string");
    assert_eq!(rust["url"], format!("{}/@alice/tagged/Rust", app.state.config.base_url()));
    assert!(rust["last_status_at"].as_str().unwrap().len() == 10, "a date: {rust}");
    let cats = app.post("/api/v1/tags/cats/feature", Some(&alice.token), json!({})).await.expect(200);
    assert_eq!((cats["featuring"].as_bool(), cats["following"].as_bool()), (Some(true), Some(false)));

    let listed = app.get(&format!("/api/v1/accounts/{}/featured_tags", alice.id), None).await.expect(200);
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["Rust", "cats"]);
    assert_eq!(app.get("/api/v1/featured_tags", Some(&alice.token)).await.expect(200), listed);
    let suggestions = app.get("/api/v1/featured_tags/suggestions", Some(&alice.token)).await.expect(200);
    assert_eq!(suggestions, json!([]), "featured tags are not suggested");

    for i in 0..8 {
        app.post("/api/v1/featured_tags", Some(&alice.token), json!({ "name": format!("tag{i}") })).await.expect(200);
    }
    let full = app.post("/api/v1/featured_tags", Some(&alice.token), json!({ "name": "eleventh" })).await.expect(422);
    assert_eq!(full["error"], "Validation failed: You have already featured the maximum number of hashtags");
    app.post("/api/v1/featured_tags", Some(&alice.token), json!({ "name": "rust" })).await.expect(200);
    let bad = app.post("/api/v1/featured_tags", Some(&alice.token), json!({ "name": "no spaces" })).await.expect(422);
    assert_eq!(bad["error"], "Validation failed: Name is invalid");
    app.post("/api/v1/featured_tags", Some(&alice.token), json!({})).await.expect(400);

    let id = rust["id"].as_str().unwrap();
    assert_eq!(app.delete(&format!("/api/v1/featured_tags/{id}"), Some(&alice.token)).await.expect(200), json!({}));
    app.delete(&format!("/api/v1/featured_tags/{id}"), Some(&alice.token)).await.expect(404);
    let cats = app.post("/api/v1/tags/cats/unfeature", Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(cats["featuring"], false);
    assert_eq!(app.get("/api/v1/featured_tags", Some(&alice.token)).await.expect(200).as_array().unwrap().len(), 8);
}

#[tokio::test]
async fn familiar_followers_and_removing_a_follower() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    app.follow(&alice, &bob).await;
    app.follow(&alice, &carol).await;
    app.follow(&bob, &dave).await;
    app.follow(&carol, &dave).await;

    let path = format!("/api/v1/accounts/familiar_followers?id[]={}&id[]={}", dave.id, bob.id);
    let familiar = app.get(&path, Some(&alice.token)).await.expect(200);
    assert_eq!(familiar[0]["id"], dave.id.as_str());
    let mut known = ids(&familiar[0]["accounts"]);
    known.sort();
    let mut expected = vec![bob.id.clone(), carol.id.clone()];
    expected.sort();
    assert_eq!(known, expected);
    assert_eq!(familiar[1], json!({ "id": bob.id, "accounts": [] }));
    // An account that hides its collections shows no one.
    let hidden = json!({ "hide_collections": true });
    app.patch("/api/v1/accounts/update_credentials", Some(&dave.token), hidden).await.expect(200);
    let familiar = app.get(&path, Some(&alice.token)).await.expect(200);
    assert_eq!(familiar[0]["accounts"], json!([]));

    // dave removes bob from his followers: the follow and its counters are gone.
    let removed =
        app.post(&format!("/api/v1/accounts/{}/remove_from_followers", bob.id), Some(&dave.token), json!({})).await;
    assert_eq!(removed.expect(200)["followed_by"], false);
    app.drain_jobs().await;
    assert_eq!(relationship(&app, &bob, &dave).await["following"], false);
    let dave_now = app.get(&format!("/api/v1/accounts/{}", dave.id), None).await.expect(200);
    assert_eq!(dave_now["followers_count"], 1);
    assert_eq!(
        app.get(&format!("/api/v1/accounts/{}/identity_proofs", dave.id), Some(&bob.token)).await.expect(200),
        json!([])
    );
}

#[tokio::test]
async fn a_hidden_domain_leaves_timelines_notifications_and_follows() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let db = &app.state.db.primary;
    for (id, name) in [(910_001_i64, "loud"), (910_002, "fan")] {
        sqlx::query(
            "INSERT INTO accounts (id, username, domain, created_at, updated_at, uri, protocol)
             VALUES ($1, $2, 'spam.example', now(), now(), 'https://spam.example/users/' || $2, 1)",
        )
        .bind(id)
        .bind(name)
        .execute(db)
        .await
        .unwrap();
    }
    let public = sqlx::query_scalar::<_, i64>(
        "INSERT INTO statuses (id, account_id, text, uri, local, visibility, created_at, updated_at)
         VALUES (910000000001, 910001, 'buy now', 'https://spam.example/s/1', false, 0, now(), now()) RETURNING id",
    )
    .fetch_one(db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO follows (account_id, target_account_id, created_at, updated_at, uri)
         VALUES (910002, $1, now(), now(), 'https://spam.example/follows/1')",
    )
    .bind(alice.id.parse::<i64>().unwrap())
    .execute(db)
    .await
    .unwrap();
    let seen = || {
        let (app, token) = (&app, alice.token.clone());
        async move { app.get("/api/v1/timelines/public", Some(&token)).await.ids() }
    };
    assert!(seen().await.contains(&public.to_string()));

    app.post("/api/v1/domain_blocks", Some(&alice.token), json!({})).await.expect(422);
    let blocked = app.post("/api/v1/domain_blocks", Some(&alice.token), json!({ "domain": "Spam.Example" })).await;
    assert_eq!(blocked.expect(200), json!({}));
    app.post_form("/api/v1/domain_blocks", Some(&alice.token), &[("domain", "other.example")]).await.expect(200);
    let listed = app.get("/api/v1/domain_blocks", Some(&alice.token)).await.expect(200);
    assert_eq!(listed, json!(["other.example", "spam.example"]));

    assert!(!seen().await.contains(&public.to_string()), "gone from the public timeline");
    let statuses = app.get("/api/v1/accounts/910001/statuses", Some(&alice.token)).await.expect(200);
    assert_eq!(statuses, json!([]));
    assert_eq!(app.get("/api/v1/accounts/910001/statuses", None).await.ids(), vec![public.to_string()]);
    let relationship = app.get("/api/v1/accounts/relationships?id[]=910002", Some(&alice.token)).await.expect(200);
    assert_eq!(
        (relationship[0]["domain_blocking"].as_bool(), relationship[0]["followed_by"].as_bool()),
        (Some(true), Some(false))
    );
    let events: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ferrodon_jobs WHERE payload::text LIKE '%FollowerRemoved%'")
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!(events, 1, "the removed follower's event (its server gets a Reject)");

    app.delete("/api/v1/domain_blocks?domain=spam.example", Some(&alice.token)).await.expect(200);
    assert!(seen().await.contains(&public.to_string()));
    app.get("/api/v1/domain_blocks", None).await.expect(401);
}

/// Suggestions come from the admin's featured accounts, friends of friends and the most
/// followed, never someone already followed, blocked or dismissed.
#[tokio::test]
async fn follow_suggestions_and_dismissing_them() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let star = app.register("star").await;
    let shy = app.register("shy").await;
    app.patch("/api/v1/accounts/update_credentials", Some(&shy.token), json!({ "discoverable": false }))
        .await
        .expect(200);
    app.follow(&alice, &bob).await;
    app.follow(&bob, &carol).await;
    app.follow(&bob, &shy).await;
    app.post_status(&star, json!({ "status": "hello" })).await;
    app.follow(&carol, &star).await;
    ferrodon::model::settings::store(&app.state.db.primary, "bootstrap_timeline_accounts", &json!("@star"))
        .await
        .unwrap();

    let v2 = app.get("/api/v2/suggestions", Some(&alice.token)).await.expect(200);
    let found: Vec<(String, String, String)> = v2
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            (
                s["account"]["username"].as_str().unwrap().into(),
                s["sources"][0].as_str().unwrap().into(),
                s["source"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("star".into(), "featured".into(), "staff".into()),
            ("carol".into(), "friends_of_friends".into(), "past_interactions".into())
        ],
        "not bob (followed), not shy (not discoverable), not alice herself"
    );
    let v1 = app.get("/api/v1/suggestions?limit=1", Some(&alice.token)).await.expect(200);
    assert_eq!(ids(&v1), vec![star.id.clone()]);

    app.delete(&format!("/api/v1/suggestions/{}", carol.id), Some(&alice.token)).await.expect(200);
    app.post(&format!("/api/v1/accounts/{}/block", star.id), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(app.get("/api/v2/suggestions", Some(&alice.token)).await.expect(200), json!([]));
    // Others still see star, now the most followed local account too.
    let dave = app.register("dave").await;
    let for_dave = app.get("/api/v1/suggestions", Some(&dave.token)).await.expect(200);
    assert!(ids(&for_dave).contains(&star.id), "{for_dave}");
    app.get("/api/v1/suggestions", None).await.expect(401);
}

#[tokio::test]
async fn the_profile_directory_lists_discoverable_accounts() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let hidden = app.register("hidden").await;
    app.patch("/api/v1/accounts/update_credentials", Some(&hidden.token), json!({ "discoverable": false }))
        .await
        .expect(200);
    app.post_status(&alice, json!({ "status": "recent" })).await;

    let active = app.get("/api/v1/directory", None).await.expect(200);
    assert_eq!(ids(&active), vec![alice.id.clone(), bob.id.clone()], "most recently posting first");
    let newest = app.get("/api/v1/directory?order=new&local=true", None).await.expect(200);
    assert_eq!(ids(&newest), vec![bob.id.clone(), alice.id.clone()]);
    let paged = app.get("/api/v1/directory?limit=1&offset=1", None).await.expect(200);
    assert_eq!(ids(&paged), vec![bob.id.clone()]);
    app.post(&format!("/api/v1/accounts/{}/block", bob.id), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(ids(&app.get("/api/v1/directory", Some(&alice.token)).await.expect(200)), vec![alice.id.clone()]);
    ferrodon::model::settings::store(&app.state.db.primary, "profile_directory", &json!(false)).await.unwrap();
    app.get("/api/v1/directory", None).await.expect(404);
}
