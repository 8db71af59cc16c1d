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

/// A remote account row `name@domain` with the given id and actor type.
async fn remote_account(app: &TestApp, id: i64, name: &str, domain: &str, actor_type: &str) {
    sqlx::query(
        "INSERT INTO accounts (id, username, domain, created_at, updated_at, uri, actor_type)
         VALUES ($1, $2, $3, now(), now(), 'https://' || $3 || '/users/' || $2, $4)",
    )
    .bind(id)
    .bind(name)
    .bind(domain)
    .bind(actor_type)
    .execute(&app.state.db.primary)
    .await
    .unwrap();
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

#[tokio::test]
async fn cache_recount_and_clear() {
    let app = TestApp::spawn().await;
    let amy = app.register("amy").await;
    let ben = app.register("ben").await;
    app.follow(&ben, &amy).await;
    let post = app.post_status(&amy, json!({"status": "count me"})).await;
    let id = post["id"].as_str().unwrap();
    app.post(&format!("/api/v1/statuses/{id}/favourite"), Some(&ben.token), json!({})).await.ok();
    app.post_status(&ben, json!({"status": "a reply", "in_reply_to_id": id})).await;
    app.post_status(&ben, json!({"status": "a direct reply", "in_reply_to_id": id, "visibility": "direct"})).await;
    // Counters gone wrong, as after a restore or a crash mid-update.
    sqlx::query("UPDATE account_stats SET followers_count = 40, statuses_count = 9, following_count = 7")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    sqlx::query("UPDATE status_stats SET favourites_count = 12, replies_count = 5")
        .execute(&app.state.db.primary)
        .await
        .unwrap();

    let (ok, out) = ctl(&app, &["cache", "recount", "accounts"]);
    assert!(ok && out.contains("accounts: 2/2") && out.contains("OK, recounted accounts"), "{out}");
    let shown = app.get(&format!("/api/v1/accounts/{}", amy.id), Some(&ben.token)).await.ok();
    assert_eq!((shown["followers_count"].clone(), shown["statuses_count"].clone()), (json!(1), json!(1)));
    assert_eq!(shown["following_count"], 0);
    let (ok, out) = ctl(&app, &["cache", "recount", "statuses"]);
    assert!(ok, "{out}");
    let shown = app.get(&format!("/api/v1/statuses/{id}"), Some(&ben.token)).await.ok();
    assert_eq!((shown["favourites_count"].clone(), shown["replies_count"].clone()), (json!(1), json!(1)));
    let (ok, out) = ctl(&app, &["cache", "recount", "emoji"]);
    assert!(!ok && out.contains("invalid value"), "{out}");

    // Rails keeps its cache under `<namespace>_cache:`; the rest of Redis stays.
    let prefix = app.state.config.redis_key_prefix.clone();
    let cache_key = format!("{}_cache:v3:statuses/1", prefix.trim_end_matches(':'));
    let mut redis = app.state.redis.conn().await.unwrap();
    let _: () = redis::AsyncCommands::set(&mut redis, &cache_key, "marshalled").await.unwrap();
    let _: () = redis::AsyncCommands::set(&mut redis, format!("{prefix}other"), "kept").await.unwrap();
    let (ok, out) = ctl(&app, &["cache", "clear"]);
    assert!(ok && out.contains("removed 1 cache keys"), "{out}");
    let left: bool = redis::AsyncCommands::exists(&mut redis, &cache_key).await.unwrap();
    let kept: bool = redis::AsyncCommands::exists(&mut redis, format!("{prefix}other")).await.unwrap();
    assert!(!left && kept);
}

#[tokio::test]
async fn domains_purge_canonical_email_blocks_media_lookup_and_version() {
    let app = TestApp::spawn().await;
    let amy = app.register("amy").await;
    let db = &app.state.db.primary;
    for (id, domain) in [(901, "spam.example"), (902, "a.spam.example"), (903, "fine.example")] {
        remote_account(&app, id, "someone", domain, "Person").await;
        sqlx::query(
            "INSERT INTO statuses (id, account_id, text, created_at, updated_at, uri, local)
             VALUES ($1 * 1000, $1, 'hi', now(), now(), 'https://x/' || $1, false)",
        )
        .bind(id)
        .execute(db)
        .await
        .unwrap();
    }
    let (ok, out) = ctl(&app, &["domains", "purge", "spam.example", "--include-subdomains", "--dry-run"]);
    assert!(ok && out.contains("removed 2 accounts (dry run)"), "{out}");
    let (ok, out) = ctl(&app, &["domains", "purge", "spam.example", "--include-subdomains"]);
    assert!(ok && out.contains("accounts: 2/2"), "{out}");
    let left: Vec<String> =
        sqlx::query_scalar("SELECT domain FROM accounts WHERE domain IS NOT NULL").fetch_all(db).await.unwrap();
    assert_eq!(left, ["fine.example"]);
    assert_eq!(count(&app, "SELECT count(*) FROM statuses WHERE account_id IN (901, 902)").await, 0);
    let (ok, out) = ctl(&app, &["domains", "purge"]);
    assert!(!ok && out.contains("give the domains"), "{out}");

    let (ok, out) = ctl(&app, &["canonical_email_blocks", "find", "Some.One+x@Example.test"]);
    assert!(ok && out.contains("is not blocked"), "{out}");
    sqlx::query(
        "INSERT INTO canonical_email_blocks (canonical_email_hash, created_at, updated_at) VALUES ($1, now(), now())",
    )
    .bind(ferrodon::model::sign_up_blocks::canonical_email_hash("someone@example.test"))
    .execute(db)
    .await
    .unwrap();
    let (ok, out) = ctl(&app, &["canonical_email_blocks", "find", "Some.One+x@Example.test"]);
    assert!(ok && out.contains("is blocked (hash "), "{out}");
    let (ok, out) = ctl(&app, &["canonical_email_blocks", "remove", "some.one@example.test"]);
    assert!(ok && out.contains("Unblocked"), "{out}");
    assert_eq!(count(&app, "SELECT count(*) FROM canonical_email_blocks").await, 0);
    let (ok, out) = ctl(&app, &["canonical_email_blocks", "remove", "some.one@example.test"]);
    assert!(!ok && out.contains("is not blocked"), "{out}");

    let png = crate::common::png(4, 4);
    let media = app
        .multipart(
            reqwest::Method::POST,
            "/api/v2/media",
            Some(&amy.token),
            &[],
            &[("file", "a.png", "image/png", &png)],
        )
        .await
        .ok();
    let post = app.post_status(&amy, json!({"status": "look", "media_ids": [media["id"]]})).await;
    let url = post["media_attachments"][0]["url"].as_str().unwrap().to_string();
    let (ok, out) = ctl(&app, &["media", "lookup", &url]);
    assert!(ok && out.trim().ends_with(&format!("/@amy/{}", post["id"].as_str().unwrap())), "{out}");
    let (ok, out) = ctl(&app, &["media", "lookup", "https://example.test/not-media.png"]);
    assert!(!ok && out.contains("not a media attachment URL"), "{out}");

    let (ok, out) = ctl(&app, &["version"]);
    assert!(ok && out.contains("compatible; ferrodon"), "{out}");
}

#[tokio::test]
async fn statuses_remove_deletes_only_old_remote_statuses_nothing_local_refers_to() {
    let app = TestApp::spawn().await;
    let amy = app.register("amy").await;
    let amy_id: i64 = amy.id.parse().unwrap();
    let db = &app.state.db.primary;
    for (id, domain) in [(801, "far.example"), (802, "followed.example")] {
        remote_account(&app, id, "someone", domain, "Person").await;
    }
    sqlx::query(
        "INSERT INTO follows (account_id, target_account_id, created_at, updated_at) VALUES ($1, 802, now(), now())",
    )
    .bind(amy_id)
    .execute(db)
    .await
    .unwrap();
    // Status ids are Mastodon's: milliseconds since the epoch, shifted by 16 bits.
    let now = chrono::Utc::now();
    let posted = |days_ago: i64, n: i64| ((now - chrono::Duration::days(days_ago)).timestamp_millis() << 16) + n;
    let statuses = [
        ("old", posted(120, 1), 801, false),
        ("favourited", posted(120, 2), 801, false),
        ("replied to", posted(120, 3), 801, false),
        ("recent", posted(10, 4), 801, false),
        ("followed author", posted(120, 5), 802, false),
    ];
    for (text, id, account, local) in statuses {
        sqlx::query(
            "INSERT INTO statuses (id, account_id, text, created_at, updated_at, uri, local)
             VALUES ($1, $2, $3, now(), now(), 'https://x/' || $1, $4)",
        )
        .bind(id)
        .bind(account)
        .bind(text)
        .bind(local)
        .execute(db)
        .await
        .unwrap();
    }
    sqlx::query("INSERT INTO favourites (account_id, status_id, created_at, updated_at) VALUES ($1, $2, now(), now())")
        .bind(amy_id)
        .bind(posted(120, 2))
        .execute(db)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO statuses (account_id, text, created_at, updated_at, local, in_reply_to_id)
         VALUES ($1, 'yes', now(), now(), true, $2)",
    )
    .bind(amy_id)
    .bind(posted(120, 3))
    .execute(db)
    .await
    .unwrap();
    let png = crate::common::png(4, 4);
    let mut uploaded = Vec::new();
    for _ in 0..2 {
        let files = [("file", "a.png", "image/png", png.as_slice())];
        let media = app.multipart(reqwest::Method::POST, "/api/v2/media", Some(&amy.token), &[], &files).await.ok();
        uploaded.push(media["id"].as_str().unwrap().parse::<i64>().unwrap());
    }
    let (stale, fresh) = (uploaded[0], uploaded[1]);
    sqlx::query("UPDATE media_attachments SET created_at = now() - interval '100 days' WHERE id = $1")
        .bind(stale)
        .execute(db)
        .await
        .unwrap();
    let texts = || async {
        let rows: Vec<String> =
            sqlx::query_scalar("SELECT text FROM statuses WHERE NOT local ORDER BY id").fetch_all(db).await.unwrap();
        rows
    };

    let (ok, out) = ctl(&app, &["statuses", "remove", "--dry-run"]);
    assert!(ok && out.contains("removed 0 out of 1 statuses (DRY RUN)"), "{out}");
    assert!(out.contains("removed 1 unattached media attachments (DRY RUN)"), "{out}");
    assert_eq!(texts().await.len(), 5);

    let (ok, out) = ctl(&app, &["statuses", "remove"]);
    assert!(ok && out.contains("removed 1 out of 1 statuses"), "{out}");
    assert_eq!(texts().await, ["favourited", "replied to", "followed author", "recent"]);
    assert!(out.contains("removed 1 unattached media attachments"), "{out}");
    let media_left: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM media_attachments WHERE status_id IS NULL").fetch_all(db).await.unwrap();
    assert_eq!(media_left, [fresh]);

    let (ok, out) = ctl(&app, &["statuses", "remove", "--clean-followed", "--skip-media-remove"]);
    assert!(ok && out.contains("removed 1 out of 1 statuses"), "{out}");
    assert_eq!(texts().await, ["favourited", "replied to", "recent"]);
    let (ok, out) = ctl(&app, &["statuses", "remove", "--batch-size", "0"]);
    assert!(!ok && out.contains("must be at least 1"), "{out}");
}

#[tokio::test]
async fn accounts_prune_removes_remote_accounts_nobody_here_dealt_with() {
    let app = TestApp::spawn().await;
    let amy = app.register("amy").await;
    let amy_id: i64 = amy.id.parse().unwrap();
    let db = &app.state.db.primary;
    for (id, name, actor_type) in
        [(701, "stranger", "Person"), (702, "followed", "Person"), (703, "muted", "Person"), (704, "robot", "Service")]
    {
        remote_account(&app, id, name, "far.example", actor_type).await;
    }
    for sql in [
        "INSERT INTO follows (account_id, target_account_id, created_at, updated_at) VALUES ($1, 702, now(), now())",
        "INSERT INTO mutes (account_id, target_account_id, created_at, updated_at) VALUES ($1, 703, now(), now())",
    ] {
        sqlx::query(sql).bind(amy_id).execute(db).await.unwrap();
    }
    let remote = || async {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT username FROM accounts WHERE domain IS NOT NULL ORDER BY id")
                .fetch_all(db)
                .await
                .unwrap();
        names
    };
    let (ok, out) = ctl(&app, &["accounts", "prune", "--dry-run"]);
    assert!(ok && out.contains("OK, pruned 1 accounts (dry run)"), "{out}");
    assert_eq!(remote().await.len(), 4);
    let (ok, out) = ctl(&app, &["accounts", "prune"]);
    assert!(ok && out.contains("OK, pruned 1 accounts"), "{out}");
    assert_eq!(remote().await, ["followed", "muted", "robot"]);
}
