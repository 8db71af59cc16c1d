//! Scheduled posts: accepted five minutes ahead or more, listed, moved, cancelled, and posted
//! once when due, with their media and poll, by the queue (or by the sweep for those adopted
//! from Mastodon).
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;
use reqwest::Method;
use serde_json::{Value, json};

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}")).to_string()
}

fn in_minutes(minutes: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::minutes(minutes)).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&app.state.db.primary).await.unwrap()
}

/// Makes every scheduled post (and its job) due now, as if the time had come.
async fn time_passes(app: &TestApp) {
    let db = &app.state.db.primary;
    sqlx::query("UPDATE scheduled_statuses SET scheduled_at = now() AT TIME ZONE 'UTC' - interval '1 second'")
        .execute(db)
        .await
        .unwrap();
    sqlx::query("UPDATE ferrodon_jobs SET run_at = now() WHERE payload::text LIKE '%PublishScheduledStatus%'")
        .execute(db)
        .await
        .unwrap();
}

#[tokio::test]
async fn a_scheduled_post_is_kept_moved_and_posted_once_when_due() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&bob, &alice).await;
    let png = common::png(8, 8);
    let media = app
        .multipart(
            Method::POST,
            "/api/v2/media",
            Some(&alice.token),
            &[("description", "a dot")],
            &[("file", "a.png", "image/png", &png)],
        )
        .await
        .expect(200);
    let too_soon = json!({ "status": "soon", "scheduled_at": in_minutes(2) });
    let refused = app.post("/api/v1/statuses", Some(&alice.token), too_soon).await.expect(422);
    assert_eq!(refused["error"], "Validation failed: Scheduled at date must be in the future");
    let bad = json!({ "status": "when?", "scheduled_at": "tomorrow-ish" });
    app.post("/api/v1/statuses", Some(&alice.token), bad).await.expect(422);
    let empty = json!({ "status": "", "scheduled_at": in_minutes(10) });
    app.post("/api/v1/statuses", Some(&alice.token), empty).await.expect(422);

    let scheduled = app
        .post(
            "/api/v1/statuses",
            Some(&alice.token),
            json!({
                "status": "in ten minutes", "scheduled_at": in_minutes(10), "media_ids": [media["id"]],
                "poll": { "options": ["yes", "no"], "expires_in": 3600 },
            }),
        )
        .await
        .expect(200);
    assert_eq!(scheduled["params"]["text"], "in ten minutes");
    assert_eq!(scheduled["media_attachments"][0]["id"], media["id"]);
    // The poll's flags are always there, as the Poll parameters entity declares them.
    assert_eq!(scheduled["params"]["poll"]["multiple"], false);
    assert_eq!(scheduled["params"]["poll"]["hide_totals"], false);
    assert!(scheduled["scheduled_at"].as_str().unwrap().ends_with('Z'));
    let id = s(&scheduled["id"]);
    assert_eq!(count(&app, "SELECT count(*) FROM statuses").await, 0, "nothing posted yet");
    let listed = app.get("/api/v1/scheduled_statuses", Some(&alice.token)).await.expect(200);
    assert_eq!(listed.as_array().unwrap().len(), 1);
    app.get(&format!("/api/v1/scheduled_statuses/{id}"), Some(&bob.token)).await.expect(404);

    let later = in_minutes(60);
    let path = format!("/api/v1/scheduled_statuses/{id}");
    let moved = app.put(&path, Some(&alice.token), json!({ "scheduled_at": later })).await.expect(200);
    assert_ne!(moved["scheduled_at"], scheduled["scheduled_at"]);
    let soon = json!({ "scheduled_at": in_minutes(1) });
    app.put(&format!("/api/v1/scheduled_statuses/{id}"), Some(&alice.token), soon).await.expect(422);
    app.drain_jobs().await;
    assert_eq!(count(&app, "SELECT count(*) FROM scheduled_statuses").await, 1, "not due: still waiting");

    time_passes(&app).await;
    app.drain_jobs().await;
    assert_eq!(count(&app, "SELECT count(*) FROM scheduled_statuses").await, 0);
    let home = app.get("/api/v1/timelines/home", Some(&bob.token)).await.expect(200);
    let posted = home.as_array().unwrap().iter().find(|st| st["content"] == "<p>in ten minutes</p>").unwrap().clone();
    assert_eq!(posted["poll"]["options"].as_array().unwrap().len(), 2);
    assert_eq!(posted["media_attachments"][0]["id"], media["id"]);
    assert_eq!(count(&app, "SELECT count(*) FROM statuses WHERE text = 'in ten minutes'").await, 1, "posted once");

    // Cancelling.
    let other = json!({ "status": "never", "scheduled_at": in_minutes(30) });
    let other = app.post("/api/v1/statuses", Some(&alice.token), other).await.expect(200);
    let path = format!("/api/v1/scheduled_statuses/{}", s(&other["id"]));
    assert_eq!(app.delete(&path, Some(&alice.token)).await.expect(200), json!({}));
    time_passes(&app).await;
    app.drain_jobs().await;
    assert_eq!(count(&app, "SELECT count(*) FROM statuses WHERE text = 'never'").await, 0);
    app.get("/api/v1/scheduled_statuses", None).await.expect(401);
}

#[tokio::test]
async fn posts_scheduled_by_mastodon_are_posted_by_the_sweep_once() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    // As Mastodon stores one: its parameters, and its own Sidekiq job that does not come along.
    sqlx::query(
        "INSERT INTO scheduled_statuses (account_id, scheduled_at, params)
         VALUES ($1, now() AT TIME ZONE 'UTC' - interval '1 minute', $2)",
    )
    .bind(alice.id.parse::<i64>().unwrap())
    .bind(json!({ "text": "from before the move", "visibility": "unlisted", "media_ids": null, "poll": null,
                  "sensitive": null, "spoiler_text": "", "language": "en", "in_reply_to_id": null,
                  "application_id": null, "idempotency": null, "scheduled_at": null, "with_rate_limit": false }))
    .execute(&app.state.db.primary)
    .await
    .unwrap();
    for _ in 0..2 {
        ferrodon::core::queue::enqueue(
            &app.state.db.primary,
            &ferrodon::domain::deferred::Job::PublishDueScheduledStatuses,
        )
        .await
        .unwrap();
    }
    app.drain_jobs().await;
    assert_eq!(
        count(&app, "SELECT count(*) FROM statuses WHERE text = 'from before the move' AND visibility = 1").await,
        1
    );
    assert_eq!(count(&app, "SELECT count(*) FROM scheduled_statuses").await, 0);
}
