#![allow(clippy::unwrap_used, clippy::expect_used)]
//! Timelines and notifications end to end: home (fan-out, pagination, unfollow, block
//! and mute), public (local/remote), hashtags (any/all/none), notifications v1 and the
//! grouped v2.

use crate::common;

use common::{Response, TestApp, User};
use serde_json::{Value, json};

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}")).to_string()
}

async fn post(app: &TestApp, user: &User, body: Value) -> String {
    s(&app.post_status(user, body).await["id"])
}

async fn home(app: &TestApp, user: &User) -> Vec<String> {
    let res = app.get("/api/v1/timelines/home", Some(&user.token)).await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.text);
    res.ids()
}

fn link(res: &Response, rel: &str) -> Option<String> {
    let header = res.link()?;
    header.split(", ").find(|p| p.ends_with(&format!("rel=\"{rel}\""))).map(|p| {
        let url = p.split(';').next().unwrap();
        url.trim_matches(['<', '>']).to_string()
    })
}

fn query_param(url: &str, key: &str) -> Option<String> {
    url::Url::parse(url).unwrap().query_pairs().find(|(k, _)| k == key).map(|(_, v)| v.into_owned())
}

/// A remote account and one public status of it, written as federation would.
async fn remote_status(app: &TestApp, text: &str, tag: Option<&str>) -> String {
    let db = &app.state.db.primary;
    let account: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (username, domain, uri, url, created_at, updated_at)
         VALUES ('remote', 'remote.example', 'https://remote.example/users/remote', 'https://remote.example/@remote',
                 now(), now())
         RETURNING id",
    )
    .fetch_one(db)
    .await
    .unwrap();
    let status: i64 = sqlx::query_scalar(
        "INSERT INTO statuses (uri, url, text, created_at, updated_at, visibility, local, account_id)
         VALUES ('https://remote.example/statuses/' || timestamp_id('statuses'), NULL, $1, now(), now(), 0, false, $2)
         RETURNING id",
    )
    .bind(text)
    .bind(account)
    .fetch_one(db)
    .await
    .unwrap();
    if let Some(tag) = tag {
        sqlx::query(
            "WITH t AS (INSERT INTO tags (name, created_at, updated_at) VALUES ($1, now(), now())
                        ON CONFLICT DO NOTHING RETURNING id)
             INSERT INTO statuses_tags (status_id, tag_id)
             SELECT $2, COALESCE((SELECT id FROM t), (SELECT id FROM tags WHERE lower(name) = lower($1)))",
        )
        .bind(tag)
        .bind(status)
        .execute(db)
        .await
        .unwrap();
    }
    status.to_string()
}

#[tokio::test]
async fn home_timeline_fans_out_after_jobs_run() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    app.follow(&bob, &alice).await;

    let before = post(&app, &alice, json!({ "status": "before carol followed" })).await;
    app.drain_jobs().await;
    assert_eq!(home(&app, &bob).await, vec![before.clone()]);
    assert_eq!(home(&app, &alice).await, vec![before.clone()], "authors see their own posts");
    assert_eq!(home(&app, &carol).await, Vec::<String>::new());

    // Following merges recent posts into the new follower's home.
    app.follow(&carol, &alice).await;
    assert_eq!(home(&app, &carol).await, vec![before.clone()]);

    let own = post(&app, &bob, json!({ "status": "bob's own" })).await;
    let after = post(&app, &alice, json!({ "status": "after" })).await;
    app.drain_jobs().await;
    assert_eq!(home(&app, &bob).await, vec![after.clone(), own.clone(), before.clone()]);
    assert_eq!(home(&app, &carol).await, vec![after.clone(), before.clone()]);

    // Replies to someone the reader does not follow stay out of home.
    let dave = app.register("dave").await;
    let to_dave = post(&app, &dave, json!({ "status": "dave here" })).await;
    let reply = post(&app, &alice, json!({ "status": "@dave hi", "in_reply_to_id": to_dave })).await;
    app.drain_jobs().await;
    assert!(!home(&app, &bob).await.contains(&reply), "bob does not follow dave");
    app.follow(&carol, &dave).await;
    let conversation = post(&app, &alice, json!({ "status": "@dave again", "in_reply_to_id": to_dave })).await;
    app.drain_jobs().await;
    assert!(home(&app, &carol).await.contains(&conversation), "carol follows both");

    app.get("/api/v1/timelines/home", None).await.expect(401);
}

#[tokio::test]
async fn home_timeline_paginates() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&bob, &alice).await;
    let mut ids = Vec::new();
    for i in 0..5 {
        ids.push(post(&app, &alice, json!({ "status": format!("post {i}") })).await);
    }
    app.drain_jobs().await;
    ids.reverse();

    let first = app.get("/api/v1/timelines/home?limit=2", Some(&bob.token)).await;
    assert_eq!(first.ids(), ids[0..2].to_vec());
    let next = link(&first, "next").expect("next");
    let prev = link(&first, "prev").expect("prev");
    assert!(next.starts_with(&format!("{}/api/v1/timelines/home?", app.base)), "{next}");
    assert_eq!(query_param(&next, "max_id").as_deref(), Some(ids[1].as_str()));
    assert_eq!(query_param(&next, "limit").as_deref(), Some("2"));
    assert_eq!(query_param(&prev, "min_id").as_deref(), Some(ids[0].as_str()));

    let second = app.get(next.strip_prefix(&app.base).unwrap(), Some(&bob.token)).await;
    assert_eq!(second.ids(), ids[2..4].to_vec());

    let path = |q: String| format!("/api/v1/timelines/home?{q}");
    let oldest = &ids[4];
    assert_eq!(app.get(&path(format!("limit=2&min_id={oldest}")), Some(&bob.token)).await.ids(), ids[2..4].to_vec());
    assert_eq!(app.get(&path(format!("limit=2&since_id={oldest}")), Some(&bob.token)).await.ids(), ids[0..2].to_vec());
    assert_eq!(
        app.get(&path(format!("max_id={}&since_id={}", ids[0], ids[3])), Some(&bob.token)).await.ids(),
        ids[1..3].to_vec()
    );
    let empty = app.get(&path(format!("min_id={}", ids[0])), Some(&bob.token)).await;
    assert_eq!(empty.ids(), Vec::<String>::new());
    assert_eq!(empty.link(), None);
    // An over-large limit is clamped, not an error.
    assert_eq!(app.get(&path("limit=1000".into()), Some(&bob.token)).await.ids().len(), 5);
}

#[tokio::test]
async fn unfollow_block_and_mute_clear_home() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    let eve = app.register("eve").await;
    for follower in [&bob, &carol, &dave] {
        app.follow(follower, &alice).await;
        app.follow(follower, &eve).await;
    }
    let a = post(&app, &alice, json!({ "status": "alice 1" })).await;
    let e = post(&app, &eve, json!({ "status": "eve 1" })).await;
    // A reblog by eve of alice's post.
    let boost =
        s(&app.post(&format!("/api/v1/statuses/{a}/reblog"), Some(&eve.token), json!({})).await.expect(200)["id"]);
    app.drain_jobs().await;
    for user in [&bob, &carol, &dave] {
        let feed = home(&app, user).await;
        assert!(feed.contains(&a) && feed.contains(&e), "{}: {feed:?}", user.username);
    }

    app.post(&format!("/api/v1/accounts/{}/unfollow", alice.id), Some(&bob.token), json!({})).await.expect(200);
    app.drain_jobs().await;
    let feed = home(&app, &bob).await;
    assert!(!feed.contains(&a), "unfollowed: {feed:?}");
    assert!(feed.contains(&e));

    app.post(&format!("/api/v1/accounts/{}/block", alice.id), Some(&carol.token), json!({})).await.expect(200);
    app.drain_jobs().await;
    let feed = home(&app, &carol).await;
    assert!(!feed.contains(&a) && !feed.contains(&boost), "blocked, also reblogged by others: {feed:?}");
    assert!(feed.contains(&e));

    app.post(&format!("/api/v1/accounts/{}/mute", alice.id), Some(&dave.token), json!({})).await.expect(200);
    app.drain_jobs().await;
    let feed = home(&app, &dave).await;
    assert!(!feed.contains(&a) && !feed.contains(&boost), "muted: {feed:?}");
    assert!(feed.contains(&e));
    // Posts by a muted account are not pushed afterwards either.
    let later = post(&app, &alice, json!({ "status": "alice 2" })).await;
    app.drain_jobs().await;
    assert!(!home(&app, &dave).await.contains(&later));
    // Unmuting brings them back.
    app.post(&format!("/api/v1/accounts/{}/unmute", alice.id), Some(&dave.token), json!({})).await.expect(200);
    app.drain_jobs().await;
    assert!(home(&app, &dave).await.contains(&later));
}

#[tokio::test]
async fn reblogs_in_home_respect_follow_options() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let dave = app.register("dave").await;
    app.follow(&carol, &bob).await;
    app.post(&format!("/api/v1/accounts/{}/follow", bob.id), Some(&dave.token), json!({ "reblogs": false }))
        .await
        .expect(200);
    app.drain_jobs().await;
    let original = post(&app, &alice, json!({ "status": "worth boosting" })).await;
    let boost = app.post(&format!("/api/v1/statuses/{original}/reblog"), Some(&bob.token), json!({})).await;
    let boost = s(&boost.expect(200)["id"]);
    app.drain_jobs().await;

    let feed = app.get("/api/v1/timelines/home", Some(&carol.token)).await.expect(200);
    assert_eq!(feed[0]["id"], boost.as_str());
    assert_eq!(feed[0]["reblog"]["id"], original.as_str());
    assert_eq!(feed[0]["account"]["id"], bob.id.as_str());
    assert_eq!(home(&app, &dave).await, Vec::<String>::new(), "reblogs hidden for this follow");

    // Unreblogging removes it again.
    app.post(&format!("/api/v1/statuses/{original}/unreblog"), Some(&bob.token), json!({})).await.expect(200);
    app.drain_jobs().await;
    assert_eq!(home(&app, &carol).await, Vec::<String>::new());
}

#[tokio::test]
async fn public_timeline_local_and_remote() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let local = post(&app, &alice, json!({ "status": "local public" })).await;
    post(&app, &alice, json!({ "status": "unlisted", "visibility": "unlisted" })).await;
    post(&app, &alice, json!({ "status": "private", "visibility": "private" })).await;
    let reply_to_other = post(&app, &bob, json!({ "status": "@alice reply", "in_reply_to_id": local })).await;
    let boost = app.post(&format!("/api/v1/statuses/{local}/reblog"), Some(&bob.token), json!({})).await;
    boost.expect(200);
    let remote = remote_status(&app, "<p>from afar</p>", None).await;

    let all = app.get("/api/v1/timelines/public", None).await;
    assert_eq!(all.ids(), vec![remote.clone(), local.clone()], "no replies to others, reblogs, unlisted or private");
    assert!(!all.ids().contains(&reply_to_other));
    assert_eq!(all.body[0]["account"]["acct"], "remote@remote.example");
    assert_eq!(all.body[0]["content"], "<p>from afar</p>", "remote HTML is passed through");
    assert_eq!(app.get("/api/v1/timelines/public?local=true", None).await.ids(), vec![local.clone()]);
    assert_eq!(app.get("/api/v1/timelines/public?remote=true", None).await.ids(), vec![remote.clone()]);
    assert_eq!(app.get("/api/v1/timelines/public?only_media=true", None).await.ids(), Vec::<String>::new());
    let page = app.get("/api/v1/timelines/public?limit=1", None).await;
    assert_eq!(page.ids(), vec![remote.clone()]);
    let next = link(&page, "next").expect("next");
    assert_eq!(query_param(&next, "max_id").as_deref(), Some(remote.as_str()));
    assert_eq!(app.get(next.strip_prefix(&app.base).unwrap(), None).await.ids(), vec![local]);

    // A muted account's posts are left out for the muter.
    app.post(&format!("/api/v1/accounts/{}/mute", alice.id), Some(&bob.token), json!({})).await.expect(200);
    assert_eq!(app.get("/api/v1/timelines/public", Some(&bob.token)).await.ids(), vec![remote]);
}

#[tokio::test]
async fn tag_timelines_are_case_insensitive_with_any_all_none() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let rust = post(&app, &alice, json!({ "status": "I like #Rust" })).await;
    let both = post(&app, &alice, json!({ "status": "#rust and #Go" })).await;
    let go = post(&app, &alice, json!({ "status": "only #go" })).await;
    post(&app, &alice, json!({ "status": "#rust but unlisted", "visibility": "unlisted" })).await;
    let remote = remote_status(&app, "<p>#RUST from afar</p>", Some("RUST")).await;

    let tag = |query: &str| {
        let app = &app;
        let path = format!("/api/v1/timelines/tag/{query}");
        async move {
            let res = app.get(&path, None).await;
            assert_eq!(res.status.as_u16(), 200, "{path}: {}", res.text);
            res.ids()
        }
    };
    let all_rust = vec![remote.clone(), both.clone(), rust.clone()];
    assert_eq!(tag("rust").await, all_rust);
    assert_eq!(tag("RUST").await, all_rust);
    assert_eq!(tag("Rust?local=true").await, vec![both.clone(), rust.clone()]);
    assert_eq!(tag("rust?remote=true").await, vec![remote.clone()]);
    assert_eq!(tag("rust?any[]=go").await, vec![remote.clone(), go.clone(), both.clone(), rust.clone()]);
    assert_eq!(tag("rust?all[]=GO").await, vec![both.clone()]);
    assert_eq!(tag("rust?none[]=go").await, vec![remote.clone(), rust.clone()]);
    assert_eq!(tag("nothing").await, Vec::<String>::new());

    let status = app.get(&format!("/api/v1/statuses/{both}"), None).await.expect(200);
    let names: Vec<&str> = status["tags"].as_array().unwrap().iter().map(|t| t["name"].as_str().unwrap()).collect();
    assert_eq!(names, vec!["go", "rust"]);
}

/// Notification types, newest first.
fn types(list: &Value) -> Vec<String> {
    list.as_array().unwrap().iter().map(|n| s(&n["type"])).collect()
}

#[tokio::test]
async fn notifications_v1_filters_and_actions() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    app.follow(&bob, &alice).await;
    let status = post(&app, &alice, json!({ "status": "hello" })).await;
    app.post(&format!("/api/v1/statuses/{status}/favourite"), Some(&bob.token), json!({})).await.expect(200);
    app.post(&format!("/api/v1/statuses/{status}/reblog"), Some(&carol.token), json!({})).await.expect(200);
    let mention = post(&app, &carol, json!({ "status": "@alice hi", "in_reply_to_id": status })).await;
    app.drain_jobs().await;

    let path = "/api/v1/notifications";
    let all = app.get(path, Some(&alice.token)).await.expect(200);
    assert_eq!(types(&all), vec!["mention", "reblog", "favourite", "follow"]);
    assert_eq!(all[0]["status"]["id"], mention.as_str());
    assert_eq!(all[0]["account"]["id"], carol.id.as_str());
    assert_eq!(all[1]["status"]["id"], status.as_str());
    assert_eq!(all[2]["status"]["id"], status.as_str());
    assert!(all[3].get("status").is_none() || all[3]["status"].is_null(), "follows have no status");
    for n in all.as_array().unwrap() {
        assert!(n["id"].is_string() && n["created_at"].is_string() && n["group_key"].is_string(), "{n}");
    }

    let q = |query: &str| format!("{path}?{query}");
    let only = app.get(&q("types[]=mention&types[]=follow"), Some(&alice.token)).await.expect(200);
    assert_eq!(types(&only), vec!["mention", "follow"]);
    let excluded = app.get(&q("exclude_types[]=favourite&exclude_types[]=reblog"), Some(&alice.token)).await;
    assert_eq!(types(&excluded.expect(200)), vec!["mention", "follow"]);
    let from_bob = app.get(&q(&format!("account_id={}", bob.id)), Some(&alice.token)).await.expect(200);
    assert_eq!(types(&from_bob), vec!["favourite", "follow"]);
    let unknown = app.get(&q("types[]=admin.sign_up"), Some(&alice.token)).await.expect(200);
    assert_eq!(unknown, json!([]));

    let page = app.get(&q("limit=2"), Some(&alice.token)).await;
    assert_eq!(types(&page.body), vec!["mention", "reblog"]);
    let next = link(&page, "next").expect("next");
    assert_eq!(query_param(&next, "max_id").as_deref(), page.body[1]["id"].as_str());
    let rest = app.get(next.strip_prefix(&app.base).unwrap(), Some(&alice.token)).await.expect(200);
    assert_eq!(types(&rest), vec!["favourite", "follow"]);

    let count = app.get(&format!("{path}/unread_count"), Some(&alice.token)).await.expect(200);
    assert_eq!(count, json!({ "count": 4 }));

    // One notification: show and dismiss.
    let id = s(&all[2]["id"]);
    let one = app.get(&format!("{path}/{id}"), Some(&alice.token)).await.expect(200);
    assert_eq!(one["type"], "favourite");
    app.get(&format!("{path}/{id}"), Some(&bob.token)).await.expect(404);
    app.post(&format!("{path}/{id}/dismiss"), Some(&bob.token), json!({})).await.expect(404);
    app.post(&format!("{path}/{id}/dismiss"), Some(&alice.token), json!({})).await.expect(200);
    app.get(&format!("{path}/{id}"), Some(&alice.token)).await.expect(404);
    assert_eq!(types(&app.get(path, Some(&alice.token)).await.expect(200)), vec!["mention", "reblog", "follow"]);

    app.post(&format!("{path}/clear"), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(app.get(path, Some(&alice.token)).await.expect(200), json!([]));
    assert_eq!(app.get(&format!("{path}/unread_count"), Some(&alice.token)).await.expect(200)["count"], 0);
    app.get(path, None).await.expect(401);
}

#[tokio::test]
async fn notifications_disappear_with_their_cause() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let status = post(&app, &alice, json!({ "status": "hello" })).await;
    app.post(&format!("/api/v1/statuses/{status}/favourite"), Some(&bob.token), json!({})).await.expect(200);
    let boost = app.post(&format!("/api/v1/statuses/{status}/reblog"), Some(&bob.token), json!({})).await;
    boost.expect(200);
    let mention = post(&app, &bob, json!({ "status": "@alice look" })).await;
    assert_eq!(types(&app.get("/api/v1/notifications", Some(&alice.token)).await.expect(200)).len(), 3);

    app.post(&format!("/api/v1/statuses/{status}/unfavourite"), Some(&bob.token), json!({})).await.expect(200);
    app.post(&format!("/api/v1/statuses/{status}/unreblog"), Some(&bob.token), json!({})).await.expect(200);
    app.delete(&format!("/api/v1/statuses/{mention}"), Some(&bob.token)).await.expect(200);
    assert_eq!(app.get("/api/v1/notifications", Some(&alice.token)).await.expect(200), json!([]));
}

#[tokio::test]
async fn notifications_v2_are_grouped() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    let status = post(&app, &alice, json!({ "status": "group me" })).await;
    let other = post(&app, &alice, json!({ "status": "other" })).await;
    for fan in [&bob, &carol] {
        app.post(&format!("/api/v1/statuses/{status}/favourite"), Some(&fan.token), json!({})).await.expect(200);
    }
    app.post(&format!("/api/v1/statuses/{other}/favourite"), Some(&bob.token), json!({})).await.expect(200);
    let mention = post(&app, &bob, json!({ "status": "@alice hey" })).await;

    let grouped = app.get("/api/v2/notifications", Some(&alice.token)).await.expect(200);
    let groups = grouped["notification_groups"].as_array().unwrap();
    assert_eq!(groups.len(), 3, "{grouped}");

    assert_eq!(groups[0]["type"], "mention");
    assert_eq!(groups[0]["notifications_count"], 1);
    assert_eq!(groups[0]["status_id"], mention.as_str());
    assert!(groups[0]["group_key"].as_str().unwrap().starts_with("ungrouped-"), "{}", groups[0]);

    assert_eq!(groups[1]["type"], "favourite");
    assert_eq!(groups[1]["status_id"], other.as_str());
    assert_eq!(groups[1]["notifications_count"], 1);

    let faves = &groups[2];
    assert_eq!(faves["type"], "favourite");
    assert_eq!(faves["status_id"], status.as_str());
    assert_eq!(faves["notifications_count"], 2);
    assert_eq!(faves["sample_account_ids"], json!([carol.id, bob.id]));
    for key in ["page_min_id", "page_max_id", "latest_page_notification_at"] {
        assert!(faves[key].is_string(), "{key}: {faves}");
    }
    // Mastodon's one integer id (its documentation and serializer agree).
    assert_eq!(
        faves["most_recent_notification_id"].as_i64().map(|i| i.to_string()),
        faves["page_max_id"].as_str().map(str::to_string)
    );
    assert!(
        faves["page_min_id"].as_str().unwrap().parse::<i64>().unwrap()
            < faves["page_max_id"].as_str().unwrap().parse::<i64>().unwrap()
    );

    let mut account_ids: Vec<String> = grouped["accounts"].as_array().unwrap().iter().map(|a| s(&a["id"])).collect();
    account_ids.sort();
    let mut expected = vec![bob.id.clone(), carol.id.clone()];
    expected.sort();
    assert_eq!(account_ids, expected, "each account once");
    let mut status_ids: Vec<String> = grouped["statuses"].as_array().unwrap().iter().map(|st| s(&st["id"])).collect();
    status_ids.sort();
    let mut expected = vec![status.clone(), other.clone(), mention.clone()];
    expected.sort();
    assert_eq!(status_ids, expected);

    // One group on its own, who is in it, and how many groups are unread.
    let key = s(&faves["group_key"]);
    let one = app.get(&format!("/api/v2/notifications/{key}"), Some(&alice.token)).await.expect(200);
    assert_eq!(one["notification_groups"].as_array().unwrap().len(), 1);
    assert_eq!(one["notification_groups"][0]["notifications_count"], 2);
    assert_eq!(one["statuses"][0]["id"], status.as_str());
    let people = app.get(&format!("/api/v2/notifications/{key}/accounts"), Some(&alice.token)).await;
    assert_eq!(people.ids(), vec![carol.id.clone(), bob.id.clone()]);
    let mention_key = s(&groups[0]["group_key"]);
    let alone = app.get(&format!("/api/v2/notifications/{mention_key}"), Some(&alice.token)).await.expect(200);
    assert_eq!(alone["notification_groups"][0]["type"], "mention");
    app.get("/api/v2/notifications/favourite-1-1", Some(&alice.token)).await.expect(404);
    app.get(&format!("/api/v2/notifications/{key}"), Some(&bob.token)).await.expect(404);
    let unread = app.get("/api/v2/notifications/unread_count", Some(&alice.token)).await.expect(200);
    assert_eq!(unread, json!({ "count": 3 }), "three groups of four notifications");
    let v1 = app.get("/api/v1/notifications/unread_count", Some(&alice.token)).await.expect(200);
    assert_eq!(v1, json!({ "count": 4 }));

    // Dismissing the group dismisses both favourites.
    app.post(&format!("/api/v2/notifications/{key}/dismiss"), Some(&alice.token), json!({})).await.expect(200);
    let after = app.get("/api/v2/notifications", Some(&alice.token)).await.expect(200);
    let keys: Vec<String> =
        after["notification_groups"].as_array().unwrap().iter().map(|g| s(&g["group_key"])).collect();
    assert_eq!(keys.len(), 2);
    assert!(!keys.contains(&key));
    let v1 = app.get("/api/v1/notifications?types[]=favourite", Some(&alice.token)).await.expect(200);
    assert_eq!(v1.as_array().unwrap().len(), 1, "only the other status's favourite is left");

    // Ungrouped keys dismiss single notifications.
    let single = s(&groups[0]["group_key"]);
    app.post(&format!("/api/v2/notifications/{single}/dismiss"), Some(&alice.token), json!({})).await.expect(200);
    let v1 = app.get("/api/v1/notifications?types[]=mention", Some(&alice.token)).await.expect(200);
    assert_eq!(v1, json!([]));
}

#[tokio::test]
async fn page_sizes_default_to_20_and_cap_at_40() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    for i in 0..41 {
        post(&app, &alice, json!({ "status": format!("post {i}") })).await;
    }
    app.drain_jobs().await;
    for path in
        ["/api/v1/timelines/public", "/api/v1/timelines/home", &format!("/api/v1/accounts/{}/statuses", alice.id)]
    {
        let default = app.get(path, Some(&alice.token)).await;
        assert_eq!(default.ids().len(), 20, "{path}");
        let capped = app.get(&format!("{path}?limit=100"), Some(&alice.token)).await;
        assert_eq!(capped.ids().len(), 40, "{path}");
    }
}
