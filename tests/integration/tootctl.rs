//! `ferrodon ctl` commands that do what tootctl's do: run as the real binary against the
//! test's database and Redis, checked through the client API and the rows they leave.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::json;

use crate::admin::ctl;
use crate::common::{TestApp, User};

async fn following(app: &TestApp, user: &User) -> Vec<String> {
    let listed = app.get(&format!("/api/v1/accounts/{}/following", user.id), Some(&user.token)).await.ok();
    listed.as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap().to_string()).collect()
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    sqlx::query_scalar(sqlx::AssertSqlSafe(sql.to_string())).fetch_one(&app.state.db.primary).await.unwrap()
}

#[tokio::test]
async fn accounts_follow_unfollow_and_reset_relationships() {
    let app = TestApp::spawn().await;
    let news = app.register("news").await;
    let amy = app.register("amy").await;
    let ben = app.register("ben").await;

    let (ok, out) = ctl(&app, &["accounts", "follow", "news", "--dry-run"]);
    assert!(ok && out.contains("(dry run)"), "{out}");
    assert!(following(&app, &amy).await.is_empty(), "a dry run changes nothing");
    let (ok, out) = ctl(&app, &["accounts", "follow", "news"]);
    assert!(ok && out.contains("accounts: 2/2") && out.contains("from 2 accounts"), "{out}");
    assert_eq!(following(&app, &amy).await, ["news"]);
    assert_eq!(following(&app, &ben).await, ["news"]);

    let (ok, out) = ctl(&app, &["accounts", "unfollow", "@news"]);
    assert!(ok && out.contains("from 2 accounts"), "{out}");
    assert!(following(&app, &amy).await.is_empty());

    app.follow(&amy, &ben).await;
    app.follow(&news, &amy).await;
    app.follow(&amy, &news).await;
    let (ok, out) = ctl(&app, &["accounts", "reset-relationships", "amy", "--follows"]);
    assert!(ok && out.contains("2 relationships ended"), "{out}");
    assert!(following(&app, &amy).await.is_empty());
    assert_eq!(following(&app, &news).await, ["amy"], "its followers stay with --follows alone");
    let (ok, out) = ctl(&app, &["accounts", "reset-relationships", "amy", "--followers"]);
    assert!(ok && out.contains("1 relationships ended"), "{out}");
    assert!(following(&app, &news).await.is_empty());

    let (ok, out) = ctl(&app, &["accounts", "reset-relationships", "amy"]);
    assert!(!ok && out.contains("give --follows, --followers or both"), "{out}");
    let (ok, out) = ctl(&app, &["accounts", "follow", "nobody"]);
    assert!(!ok && out.contains("no local account named \"nobody\""), "{out}");
    let (ok, out) = ctl(&app, &["accounts", "unfollow", "ghost@far.example"]);
    assert!(!ok && out.contains("no known account"), "{out}");
}

#[tokio::test]
async fn accounts_delete_removes_the_data_and_keeps_the_name() {
    let app = TestApp::spawn().await;
    let doomed = app.register("doomed").await;
    let friend = app.register("friend").await;
    app.follow(&friend, &doomed).await;
    app.post_status(&doomed, json!({"status": "last words"})).await;

    let (ok, out) = ctl(&app, &["accounts", "delete", "doomed", "--dry-run"]);
    assert!(ok && out.contains("OK (dry run)"), "{out}");
    assert_eq!(count(&app, "SELECT count(*) FROM statuses WHERE deleted_at IS NULL").await, 1);
    let (ok, out) = ctl(&app, &["accounts", "delete", "--email", "doomed@example.test"]);
    assert!(ok, "{out}");
    app.drain_jobs().await;
    assert_eq!(count(&app, "SELECT count(*) FROM statuses WHERE deleted_at IS NULL").await, 0);
    assert!(following(&app, &friend).await.is_empty());
    let refused = app.get("/api/v1/accounts/verify_credentials", Some(&doomed.token)).await;
    assert_eq!(refused.expect(403)["error"], "Your login is currently disabled");
    let app_token = app.app_token("read write").await;
    let again = app
        .post(
            "/api/v1/accounts",
            Some(&app_token),
            json!({"username": "doomed", "email": "new@example.test", "password": "correct horse battery", "agreement": true}),
        )
        .await;
    assert_eq!(again.expect(422)["details"]["username"][0]["error"], "ERR_TAKEN");

    let (ok, out) = ctl(&app, &["accounts", "delete", "--email", "nobody@example.test"]);
    assert!(!ok && out.contains("no user with the e-mail address"), "{out}");
    let (ok, out) = ctl(&app, &["accounts", "delete"]);
    assert!(!ok && out.contains("required"), "{out}");
}
