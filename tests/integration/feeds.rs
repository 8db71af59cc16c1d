//! Home feed semantics in both Redis layouts — ferrodon's compact strings and Mastodon's
//! sorted sets — with the same operations giving the same feeds: ordering, duplicates,
//! trimming to 800, reblog aggregation (falloff 80, suppression, promotion on removal),
//! pagination, and the API's home timeline.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;
use ferrodon::core::pagination::Page;
use ferrodon::effects::feeds::store;
use serde_json::json;

/// Snowflake-sized ids (above 2^53), spaced so sorted-set scores (doubles) stay distinct.
fn id(n: i64) -> i64 {
    (1 << 57) + n * 64
}

async fn both_layouts() -> [TestApp; 2] {
    [
        TestApp::spawn_with(&[("FERRODON_FEED_ENCODING", "compact")]).await,
        TestApp::spawn_with(&[("FERRODON_FEED_ENCODING", "mastodon")]).await,
    ]
}

async fn feed(app: &TestApp, owner: i64) -> Vec<i64> {
    store::all(&app.state, owner).await.unwrap().unwrap_or_default()
}

async fn add(app: &TestApp, status: i64, reblog_of: Option<i64>) {
    store::add(&app.state, status, reblog_of, &[1]).await.unwrap();
}

async fn remove(app: &TestApp, status: i64, reblog_of: Option<i64>) {
    store::remove(&app.state, status, reblog_of, &[1]).await.unwrap();
}

#[tokio::test]
async fn order_duplicates_and_removal() {
    let mut results = Vec::new();
    for app in both_layouts().await {
        for n in [5, 3, 9, 9, 7, 1] {
            add(&app, id(n), None).await;
        }
        remove(&app, id(7), None).await;
        remove(&app, id(42), None).await;
        results.push(feed(&app, 1).await);
    }
    assert_eq!(results[0], vec![id(9), id(5), id(3), id(1)]);
    assert_eq!(results[0], results[1]);
}

#[tokio::test]
async fn trimmed_to_the_newest_800() {
    let mut results = Vec::new();
    for app in both_layouts().await {
        let ids: Vec<i64> = (1..=1000).map(id).collect();
        for chunk in ids.chunks(100) {
            for i in chunk {
                add(&app, *i, None).await;
            }
        }
        // Older than everything in a full feed: Mastodon's trim drops it at once.
        add(&app, id(0), None).await;
        results.push(feed(&app, 1).await);
    }
    let expected: Vec<i64> = (201..=1000).rev().map(id).collect();
    assert_eq!(results[0], expected);
    assert_eq!(results[1], expected);
}

#[tokio::test]
async fn reblog_aggregation_as_mastodon() {
    let mut results = Vec::new();
    for app in both_layouts().await {
        let original = id(100);
        add(&app, original, None).await;
        add(&app, id(200), Some(original)).await; // original still near the top: not shown
        for n in 300..400 {
            add(&app, id(n), None).await; // push the original below rank 80
        }
        add(&app, id(500), Some(original)).await; // shown
        add(&app, id(501), Some(original)).await; // suppressed: a reblog of it is shown
        let first = feed(&app, 1).await;
        remove(&app, id(500), Some(original)).await; // the suppressed one takes its place
        let second = feed(&app, 1).await;
        // An original arriving while a reblog of it is shown is not added as well.
        add(&app, id(601), Some(id(600))).await;
        add(&app, id(600), None).await;
        let third = feed(&app, 1).await;
        results.push((first, second, third));
    }
    let (first, second, third) = &results[0];
    assert_eq!(first[0], id(500));
    assert!(!first.contains(&id(501)) && !first.contains(&id(200)));
    assert_eq!(second[0], id(501));
    assert!(!second.contains(&id(500)));
    assert_eq!(third[0], id(601));
    assert!(!third.contains(&id(600)), "original suppressed while its reblog is in the top 80");
    assert_eq!(results[0], results[1], "both layouts agree");
}

#[tokio::test]
async fn pages_match_mastodon_feed_get() {
    let mut results = Vec::new();
    for app in both_layouts().await {
        for n in 1..=30 {
            add(&app, id(n), None).await;
        }
        let mut pages = Vec::new();
        for (max_id, since_id, min_id) in
            [(None, None, None), (Some(id(10)), None, None), (None, Some(id(25)), None), (None, None, Some(id(3)))]
        {
            let page = Page { max_id, since_id, min_id, limit: 5 };
            pages.push(store::page_of(&app.state, store::Kind::Home, 1, &page).await.unwrap().unwrap());
        }
        results.push(pages);
    }
    assert_eq!(results[0][0], (26..=30).rev().map(id).collect::<Vec<_>>());
    assert_eq!(results[0][1], (5..=9).rev().map(id).collect::<Vec<_>>());
    assert_eq!(results[0][2], (26..=30).rev().map(id).collect::<Vec<_>>());
    assert_eq!(results[0][3], (4..=8).rev().map(id).collect::<Vec<_>>());
    assert_eq!(results[0], results[1]);
}

#[tokio::test]
async fn compact_feeds_keep_exact_64_bit_ids() {
    let app = TestApp::spawn_with(&[("FERRODON_FEED_ENCODING", "compact")]).await;
    // Adjacent snowflakes above 2^53 collapse to one double in a sorted set's score.
    let (a, b) = ((1i64 << 60) + 1, (1i64 << 60) + 2);
    add(&app, b, None).await;
    add(&app, a, None).await;
    assert_eq!(feed(&app, 1).await, vec![b, a]);
    let mut conn = app.state.redis.conn().await.unwrap();
    let bytes: i64 =
        redis::cmd("MEMORY").arg("USAGE").arg(store::keys(&app.state, 1).0).query_async(&mut conn).await.unwrap();
    assert!(bytes < 400, "a small feed is small: {bytes} bytes");
}

#[tokio::test]
async fn compact_feed_of_800_fits_in_8_kb() {
    let app = TestApp::spawn_with(&[("FERRODON_FEED_ENCODING", "compact")]).await;
    for n in 1..=1000 {
        add(&app, id(n), None).await;
    }
    let mut conn = app.state.redis.conn().await.unwrap();
    let bytes: i64 =
        redis::cmd("MEMORY").arg("USAGE").arg(store::keys(&app.state, 1).0).query_async(&mut conn).await.unwrap();
    assert!(bytes <= 8192, "{bytes} bytes for a full feed");
    assert_eq!(feed(&app, 1).await.len(), 800);
}

/// The same API story under both layouts gives the same home timelines.
#[tokio::test]
async fn home_timeline_is_the_same_in_both_layouts() {
    let mut timelines = Vec::new();
    for app in both_layouts().await {
        let alice = app.register("alice").await;
        let bob = app.register("bob").await;
        let carol = app.register("carol").await;
        app.follow(&bob, &alice).await;
        app.follow(&bob, &carol).await;
        let a1 = app.post_status(&alice, json!({ "status": "one" })).await;
        app.post_status(&carol, json!({ "status": "two" })).await;
        app.post(&format!("/api/v1/statuses/{}/reblog", a1["id"].as_str().unwrap()), Some(&carol.token), json!({}))
            .await
            .ok();
        app.post_status(&alice, json!({ "status": "@carol a reply", "in_reply_to_id": a1["id"] })).await;
        app.drain_jobs().await;
        let home = app.get("/api/v1/timelines/home", Some(&bob.token)).await.ok();
        let shape: Vec<(String, String)> = home
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                let content = if s["reblog"].is_object() { &s["reblog"]["content"] } else { &s["content"] };
                let content = content.as_str().unwrap().replace(&app.base, "");
                (s["account"]["username"].as_str().unwrap().to_string(), content)
            })
            .collect();
        timelines.push(shape);
    }
    assert_eq!(timelines[0].len(), 3, "{:?}", timelines[0]);
    assert_eq!(timelines[0], timelines[1]);
}

/// A large audience is written in chunks; later chunks yield to newer ordinary posts.
#[tokio::test]
async fn large_fanouts_are_chunked_behind_ordinary_posts() {
    let app = TestApp::spawn_with(&[("FERRODON_FANOUT_CHUNK", "2")]).await;
    let celebrity = app.register("celebrity").await;
    let friend = app.register("friend").await;
    let mut fans = Vec::new();
    for i in 0..5 {
        let fan = app.register(&format!("fan{i}")).await;
        app.follow(&fan, &celebrity).await;
        fans.push(fan);
    }
    app.follow(&fans[4], &friend).await;
    let big = app.post_status(&celebrity, json!({ "status": "to all my fans" })).await;
    let queues: Vec<String> = vec!["default".into()];
    let next_job =
        || async { ferrodon::core::queue::claim(&app.state.db.primary, &queues, "test", 60).await.unwrap().unwrap() };
    // The post's event becomes its fan-out job...
    let event = next_job().await;
    assert_eq!(event.name(), "Event/StatusCreated");
    ferrodon::worker::runner::run_claimed(&app.state, event).await.unwrap();
    // ...which writes the first chunk and queues the rest...
    let first = next_job().await;
    assert_eq!(first.name(), "Feeds/Distribute");
    ferrodon::worker::runner::run_claimed(&app.state, first).await.unwrap();
    // ...behind an ordinary post made meanwhile.
    let small = app.post_status(&friend, json!({ "status": "an ordinary post" })).await;
    let event = next_job().await;
    assert_eq!(event.name(), "Event/StatusCreated");
    ferrodon::worker::runner::run_claimed(&app.state, event).await.unwrap();
    let next = next_job().await;
    assert_eq!(next.name(), "Feeds/Distribute");
    assert_eq!(next.payload["status_id"], small["id"].as_str().unwrap().parse::<i64>().unwrap());
    ferrodon::worker::runner::run_claimed(&app.state, next).await.unwrap();
    app.drain_jobs().await;
    for fan in &fans {
        let home = app.get("/api/v1/timelines/home", Some(&fan.token)).await;
        assert!(home.ids().contains(&big["id"].as_str().unwrap().to_string()), "{} got the big post", fan.username);
    }
}

/// A fan-out of several batches (followers read ahead while two writers fill feeds)
/// reaches every follower, once.
#[tokio::test]
async fn a_fanout_of_several_batches_reaches_every_follower() {
    let app = TestApp::spawn().await;
    let author = app.register("author").await;
    let author_id: i64 = author.id.parse().unwrap();
    let fans = 900_000_001_i64..=900_002_500;
    app.add_local_followers(author_id, fans.clone()).await;
    let post = app.post_status(&author, json!({ "status": "to 2,500 followers" })).await;
    let post_id: i64 = post["id"].as_str().unwrap().parse().unwrap();
    app.drain_jobs().await;
    let page = Page { max_id: None, since_id: None, min_id: None, limit: 5 };
    for fan in fans {
        let feed = store::page_of(&app.state, store::Kind::Home, fan, &page).await.unwrap();
        assert_eq!(feed, Some(vec![post_id]), "the feed of follower {fan}");
    }
}

/// A lost feed (Redis flushed) answers 206 with Mastodon-Async-Refresh while it is rebuilt
/// from PostgreSQL in the background, then the full timeline again.
#[tokio::test]
async fn a_lost_feed_is_rebuilt_in_the_background_with_206_meanwhile() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&bob, &alice).await;
    let post = app.post_status(&alice, json!({ "status": "survives a flush" })).await;
    app.drain_jobs().await;
    assert_eq!(app.get("/api/v1/timelines/home", Some(&bob.token)).await.ids().len(), 1);

    ferrodon::effects::feeds::clear_all(&app.state).await.unwrap();
    let during = app.get("/api/v1/timelines/home", Some(&bob.token)).await;
    assert_eq!(during.status.as_u16(), 206);
    let header = during.headers.get("mastodon-async-refresh").unwrap().to_str().unwrap().to_string();
    assert!(header.contains("retry=5"), "{header}");
    let id = header.split('"').nth(1).unwrap().to_string();
    let refresh = app.get(&format!("/api/v1_alpha/async_refreshes/{id}"), Some(&bob.token)).await.ok();
    assert_eq!(refresh["async_refresh"]["status"], "running");
    app.get(&format!("/api/v1_alpha/async_refreshes/{id}"), Some(&alice.token)).await.expect(404);

    app.drain_jobs().await;
    let after = app.get("/api/v1/timelines/home", Some(&bob.token)).await;
    assert_eq!(after.status.as_u16(), 200);
    assert_eq!(after.ids(), vec![post["id"].as_str().unwrap().to_string()]);
    let refresh = app.get(&format!("/api/v1_alpha/async_refreshes/{id}"), Some(&bob.token)).await.ok();
    assert_eq!(refresh["async_refresh"]["status"], "finished");
}

/// `ferrodon ctl feeds clear` then `feeds build --all` restores every active user's feed.
#[tokio::test]
async fn the_cli_clears_and_rebuilds_feeds() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&bob, &alice).await;
    let post = app.post_status(&alice, json!({ "status": "rebuild me" })).await;
    app.drain_jobs().await;
    let ctl = |args: &[&str]| {
        let output = app.ferrodon_command().arg("ctl").args(args).output().unwrap();
        assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
        String::from_utf8_lossy(&output.stdout).to_string()
    };
    ctl(&["feeds", "clear"]);
    assert!(store::all(&app.state, bob.id.parse().unwrap()).await.unwrap().is_none());
    let out = ctl(&["feeds", "build", "--all", "-c", "2"]);
    assert!(out.contains("feeds build: 2/2"), "{out}");
    let home = app.get("/api/v1/timelines/home", Some(&bob.token)).await;
    assert_eq!(home.status.as_u16(), 200);
    assert_eq!(home.ids(), vec![post["id"].as_str().unwrap().to_string()]);
}

/// `feeds build` with the compact layout converts the sorted-set feeds an adopted Mastodon
/// instance left behind entry for entry (an entry the database would not give back
/// survives, so it is not a rebuild), keeps their reblog aggregation, and drops the sorted
/// sets.
#[tokio::test]
async fn the_cli_converts_mastodon_sorted_set_feeds() {
    let app = TestApp::spawn_with(&[("FERRODON_FEED_ENCODING", "mastodon")]).await;
    let [alice, bob, carol, dave] = [
        app.register("alice").await,
        app.register("bob").await,
        app.register("carol").await,
        app.register("dave").await,
    ];
    app.follow(&alice, &bob).await;
    app.follow(&alice, &carol).await;
    let original = app.post_status(&dave, json!({ "status": "worth sharing" })).await;
    let original_id = original["id"].as_str().unwrap();
    let shown = app.post(&format!("/api/v1/statuses/{original_id}/reblog"), Some(&bob.token), json!({})).await.ok();
    app.drain_jobs().await;
    let hidden = app.post(&format!("/api/v1/statuses/{original_id}/reblog"), Some(&carol.token), json!({})).await.ok();
    app.post_status(&bob, json!({ "status": "hello" })).await;
    let stray = app.post_status(&dave, json!({ "status": "not from anyone alice follows" })).await;
    app.drain_jobs().await;
    let numeric = |v: &serde_json::Value| v["id"].as_str().unwrap().parse::<i64>().unwrap();
    let alice_id: i64 = alice.id.parse().unwrap();
    let mut conn = app.state.redis.conn().await.unwrap();
    let sorted = app.state.redis.key(format!("feed:home:{alice_id}"));
    let _: () =
        redis::cmd("ZADD").arg(&sorted).arg(numeric(&stray)).arg(numeric(&stray)).query_async(&mut conn).await.unwrap();
    let before = app.get("/api/v1/timelines/home", Some(&alice.token)).await.ids();
    assert_eq!(before.len(), 3, "stray post, bob's post, one reblog: {before:?}");

    let output = app
        .ferrodon_command()
        .args(["ctl", "feeds", "build", "--all"])
        .env("FERRODON_FEED_ENCODING", "compact")
        .output()
        .unwrap();
    let out = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success() && out.contains("4 converted"),
        "{out} {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let exists: i64 =
        redis::cmd("EXISTS").arg(&sorted).arg(format!("{sorted}:reblogs")).query_async(&mut conn).await.unwrap();
    assert_eq!(exists, 0, "the sorted sets are gone");

    let mut compact_config = (*app.state.config).clone();
    compact_config.feed_encoding = ferrodon::core::config::FeedEncoding::Compact;
    let compact = ferrodon::AppState::connect(compact_config).await.unwrap();
    let converted: Vec<String> = feed_of(&compact, alice_id).await.iter().map(|i| i.to_string()).collect();
    assert_eq!(converted, before);
    // Aggregation carried over: another reblog of the original stays hidden, and removing
    // the shown one brings back the reblog it had suppressed.
    let original_num: i64 = original_id.parse().unwrap();
    store::add(&compact, numeric(&hidden) + 1, Some(original_num), &[alice_id]).await.unwrap();
    assert_eq!(feed_of(&compact, alice_id).await.len(), 3);
    store::remove(&compact, numeric(&shown), Some(original_num), &[alice_id]).await.unwrap();
    assert!(feed_of(&compact, alice_id).await.contains(&numeric(&hidden)));
}

async fn feed_of(state: &ferrodon::AppState, owner: i64) -> Vec<i64> {
    store::all(state, owner).await.unwrap().unwrap_or_default()
}
