//! The admin dashboard's API: measures, dimensions and retention counted from real rows (and
//! the day's logins in Redis), for those who may view the dashboard; and the review of
//! hashtags by those who manage taxonomies.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use crate::admin::staff;
use crate::common::TestApp;

fn week() -> (String, String) {
    let today = chrono::Utc::now().date_naive();
    ((today - chrono::Duration::days(6)).to_string(), today.to_string())
}

fn by_key<'a>(list: &'a Value, key: &str) -> &'a Value {
    list.as_array().unwrap().iter().find(|m| m["key"] == key).unwrap_or_else(|| panic!("{key} in {list}"))
}

#[tokio::test]
async fn measures_dimensions_and_retention_come_from_the_rows() {
    let app = TestApp::spawn().await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let amy = app.register("amy").await;
    let ben = app.register("ben").await;
    let db = &app.state.db.primary;
    app.post_status(&amy, json!({"status": "hello #rust"})).await;
    app.post_status(&ben, json!({"status": "me too #rust"})).await;
    app.follow(&ben, &amy).await;
    let report = app.post("/api/v1/reports", Some(&amy.token), json!({"account_id": ben.id})).await.ok();
    app.post(&format!("/api/v1/admin/reports/{}/resolve", report["id"].as_str().unwrap()), Some(&moderator), json!({}))
        .await
        .ok();
    sqlx::query(
        "INSERT INTO accounts (id, username, domain, created_at, updated_at, uri)
         VALUES (990, 'far', 'far.example', now(), now(), 'https://far.example/users/far')",
    )
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO statuses (id, account_id, text, created_at, updated_at, uri, local, language)
         VALUES (990000, 990, 'bonjour', now(), now(), 'https://far.example/1', false, 'fr')",
    )
    .execute(db)
    .await
    .unwrap();
    let tag: i64 = sqlx::query_scalar("SELECT id FROM tags WHERE name = 'rust'").fetch_one(db).await.unwrap();
    let (start, end) = week();

    let refused = app
        .post(
            "/api/v1/admin/measures",
            Some(&amy.token),
            json!({"keys": ["new_users"], "start_at": start, "end_at": end}),
        )
        .await;
    assert_eq!(refused.expect(403)["error"], "This action is outside the authorized scopes");
    let keys = [
        "active_users",
        "new_users",
        "interactions",
        "opened_reports",
        "resolved_reports",
        "tag_uses",
        "tag_accounts",
        "no_such_key",
    ];
    let measures = app
        .post(
            "/api/v1/admin/measures",
            Some(&moderator),
            json!({"keys": keys, "start_at": start, "end_at": end, "tag_uses": {"id": tag.to_string()}, "tag_accounts": {"id": tag}}),
        )
        .await
        .ok();
    assert_eq!(measures.as_array().unwrap().len(), 7, "unknown keys are dropped: {measures}");
    let new_users = by_key(&measures, "new_users");
    assert_eq!(new_users["total"], "3");
    assert_eq!(new_users["previous_total"], "0");
    assert_eq!(new_users["data"].as_array().unwrap().len(), 7);
    assert_eq!(new_users["data"][6]["value"], "3");
    assert!(new_users["data"][6]["date"].as_str().unwrap().ends_with("T00:00:00Z"));
    assert_eq!(by_key(&measures, "active_users")["total"], "3", "each signed in today");
    // Two posts, a follow (and the follow of the moderator's own setup: none).
    assert_eq!(by_key(&measures, "interactions")["total"], "3");
    assert_eq!(by_key(&measures, "opened_reports")["total"], "1");
    assert_eq!(by_key(&measures, "resolved_reports")["total"], "1");
    assert_eq!(by_key(&measures, "tag_uses")["total"], "2");
    assert_eq!(by_key(&measures, "tag_accounts")["total"], "2");

    let missing = app
        .post(
            "/api/v1/admin/measures",
            Some(&moderator),
            json!({"keys": ["tag_uses"], "start_at": start, "end_at": end}),
        )
        .await;
    assert_eq!(missing.expect(400)["error"], "param is missing or the value is empty: tag_uses[id]");
    let no_range = app.post("/api/v1/admin/measures", Some(&moderator), json!({"keys": ["new_users"]})).await;
    assert_eq!(no_range.expect(400)["error"], "param is missing or the value is empty: start_at");
    let instance = app
        .post(
            "/api/v1/admin/measures",
            Some(&moderator),
            json!({"keys": ["instance_statuses", "instance_accounts", "instance_media_attachments"], "start_at": start, "end_at": end,
                   "instance_statuses": {"domain": "far.example"}, "instance_accounts": {"domain": "far.example"},
                   "instance_media_attachments": {"domain": "far.example"}}),
        )
        .await
        .ok();
    assert_eq!(by_key(&instance, "instance_statuses")["total"], "1");
    assert!(by_key(&instance, "instance_statuses").get("previous_total").is_none());
    let media = by_key(&instance, "instance_media_attachments");
    assert_eq!((media["unit"].clone(), media["human_value"].clone()), (json!("bytes"), json!("0 Bytes")));

    let dimensions = app
        .post(
            "/api/v1/admin/dimensions",
            Some(&moderator),
            json!({"keys": ["sources", "servers", "languages", "space_usage", "software_versions", "tag_servers", "instance_languages"],
                   "start_at": start, "end_at": end, "limit": 5, "tag_servers": {"id": tag}, "instance_languages": {"domain": "far.example"}}),
        )
        .await
        .ok();
    let servers = &by_key(&dimensions, "servers")["data"];
    assert_eq!(servers[0]["key"], app.state.config.local_domain.as_str());
    assert_eq!(servers[0]["value"], "2");
    assert_eq!(servers[1]["key"], "far.example");
    let sources = &by_key(&dimensions, "sources")["data"];
    assert!(sources.as_array().unwrap().iter().any(|s| s["value"] == "3"), "{sources}");
    assert_eq!(by_key(&dimensions, "languages")["data"][0]["key"], "en");
    let space = &by_key(&dimensions, "space_usage")["data"];
    assert_eq!(space[0]["key"], "postgresql");
    assert!(space[0]["human_value"].as_str().unwrap().ends_with("MB"), "{space}");
    let versions = &by_key(&dimensions, "software_versions")["data"];
    assert!(versions[0]["value"].as_str().unwrap().contains("ferrodon"));
    assert_eq!(by_key(&dimensions, "instance_languages")["data"][0]["key"], "fr");

    let retention = app
        .post(
            "/api/v1/admin/retention",
            Some(&moderator),
            json!({"start_at": start, "end_at": end, "frequency": "day"}),
        )
        .await
        .ok();
    let cohorts = retention.as_array().unwrap();
    assert_eq!(cohorts.len(), 7);
    let today = cohorts.last().unwrap();
    assert_eq!(today["frequency"], "day");
    assert_eq!(today["data"][0]["value"], "3");
    assert_eq!(today["data"][0]["rate"], 1.0);
    assert!(cohorts[0]["data"].as_array().unwrap().iter().all(|d| d["value"] == "0"));
}

#[tokio::test]
async fn staff_review_hashtags() {
    let app = TestApp::spawn().await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let amy = app.register("amy").await;
    app.post_status(&amy, json!({"status": "I like #Rust"})).await;
    let (plain, _) = app.password_token("amy", "read write admin:read admin:write").await;
    assert_eq!(app.get("/api/v1/admin/tags", Some(&plain)).await.expect(403)["error"], "This action is not allowed");

    let listed = app.get("/api/v1/admin/tags", Some(&moderator)).await.ok();
    let tag = &listed[0];
    assert_eq!(tag["name"], "Rust");
    assert_eq!(
        (tag["usable"].clone(), tag["trendable"].clone(), tag["listable"].clone(), tag["requires_review"].clone()),
        (json!(true), json!(false), json!(true), json!(true))
    );
    let path = format!("/api/v1/admin/tags/{}", tag["id"].as_str().unwrap());
    assert_eq!(app.get(&path, Some(&moderator)).await.ok()["name"], "Rust");
    let reviewed = app
        .put(&path, Some(&moderator), json!({"display_name": "RUST", "usable": false, "trendable": true}))
        .await
        .ok();
    assert_eq!(reviewed["name"], "RUST");
    assert_eq!((reviewed["usable"].clone(), reviewed["requires_review"].clone()), (json!(false), json!(false)));
    let renamed = app.put(&path, Some(&moderator), json!({"display_name": "python"})).await;
    assert_eq!(renamed.expect(422)["error"], "Validation failed: Display name does not match the previous name");
    assert_eq!(app.get("/api/v1/admin/tags/12345", Some(&moderator)).await.expect(404)["error"], "Record not found");

    // An unusable tag is not linked from new posts.
    let post = app.post_status(&amy, json!({"status": "still #rust"})).await;
    assert_eq!(post["tags"], json!([]), "{post}");
}
