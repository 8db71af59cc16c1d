//! Site settings and who may sign up: Mastodon's `settings` rows shown on the instance,
//! `ctl settings registrations`, approval with a reason, invites, and the staff
//! notifications of new sign-ups and reports.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::{Value, json};

use crate::admin::{ctl, staff};
use crate::common::TestApp;

/// Stores a site setting as Mastodon does (its value as Ruby YAML).
async fn set(app: &TestApp, var: &str, yaml: &str) {
    sqlx::query(
        "INSERT INTO settings (var, value, created_at, updated_at) VALUES ($1, $2, now(), now())
         ON CONFLICT (var) DO UPDATE SET value = EXCLUDED.value",
    )
    .bind(var)
    .bind(yaml)
    .execute(&app.state.db.primary)
    .await
    .unwrap();
}

async fn setting(app: &TestApp, var: &str) -> Option<String> {
    sqlx::query_scalar("SELECT value FROM settings WHERE var = $1")
        .bind(var)
        .fetch_optional(&app.state.db.primary)
        .await
        .unwrap()
}

/// `POST /api/v1/accounts` with an app token; the status and the answer.
async fn sign_up(app: &TestApp, app_token: &str, username: &str, extra: Value) -> (u16, Value) {
    let mut body = json!({
        "username": username,
        "email": format!("{username}@example.test"),
        "password": "correct horse battery",
        "agreement": true,
    });
    body.as_object_mut().unwrap().extend(extra.as_object().unwrap().clone());
    let res = app.post("/api/v1/accounts", Some(app_token), body).await;
    (res.status.as_u16(), res.body)
}

/// An invite made by `username`'s user, as Mastodon stores one.
async fn invite(app: &TestApp, username: &str, code: &str, max_uses: Option<i32>, autofollow: bool) {
    sqlx::query(
        "INSERT INTO invites (user_id, code, max_uses, autofollow, created_at, updated_at)
         SELECT u.id, $2, $3, $4, now(), now() FROM users u JOIN accounts a ON a.id = u.account_id
          WHERE a.username = $1 AND a.domain IS NULL",
    )
    .bind(username)
    .bind(code)
    .bind(max_uses)
    .bind(autofollow)
    .execute(&app.state.db.primary)
    .await
    .unwrap();
}

async fn notifications_of(app: &TestApp, token: &str, kind: &str) -> Vec<Value> {
    let list = app.get(&format!("/api/v1/notifications?types[]={kind}"), Some(token)).await.ok();
    list.as_array().unwrap().clone()
}

/// The mails written to the app's mail directory for `to`, oldest first.
fn mails_to(app: &TestApp, to: &str) -> Vec<String> {
    let mut files: Vec<_> = std::fs::read_dir(&app.state.config.mail.mail_dir)
        .map(|d| d.flatten().map(|e| e.path()).collect())
        .unwrap_or_default();
    files.sort();
    let to = format!("To: {to}");
    files.iter().filter_map(|f| std::fs::read_to_string(f).ok()).filter(|m| m.contains(&to)).collect()
}

/// Turns a staff mail off for the user with `email`, as the preferences page stores it.
async fn mail_off(app: &TestApp, email: &str, key: &str) {
    sqlx::query("UPDATE users SET settings = json_build_object($2::text, false)::text WHERE email = $1")
        .bind(email)
        .bind(key)
        .execute(&app.state.db.primary)
        .await
        .unwrap();
}

#[tokio::test]
async fn site_settings_are_what_the_instance_says_of_itself() {
    let app = TestApp::spawn().await;
    app.register("kim").await;
    set(&app, "site_title", "--- Ferro Social\n").await;
    set(&app, "site_short_description", "--- 'A server: for testing'\n").await;
    set(&app, "site_description", "--- |-\n  Long text\n  on two lines\n").await;
    set(&app, "site_contact_email", "--- admin@example.test\n").await;
    set(&app, "site_contact_username", "--- kim\n").await;
    set(&app, "closed_registrations_message", "--- |-\n  Come back <soon>.\n\n  Or ask us.\n").await;
    sqlx::query(
        "INSERT INTO rules (id, priority, text, hint, created_at, updated_at) VALUES
           (7, 1, 'Be kind', 'Really', now(), now()), (8, 0, 'No spam', '', now(), now()),
           (9, 2, 'Withdrawn', '', now(), now())",
    )
    .execute(&app.state.db.primary)
    .await
    .unwrap();
    sqlx::query("UPDATE rules SET deleted_at = now() WHERE id = 9").execute(&app.state.db.primary).await.unwrap();

    let v1 = app.get("/api/v1/instance", None).await.ok();
    assert_eq!(v1["title"], "Ferro Social");
    assert_eq!(v1["short_description"], "A server: for testing");
    assert_eq!(v1["description"], "Long text\non two lines");
    assert_eq!(v1["email"], "admin@example.test");
    assert_eq!(v1["contact_account"]["username"], "kim");
    assert_eq!(v1["registrations"], true);
    assert_eq!(v1["approval_required"], false);
    assert_eq!(v1["invites_enabled"], true, "everyone may invite by default");
    let rules = json!([
        {"id": "8", "text": "No spam", "hint": "", "translations": {}},
        {"id": "7", "text": "Be kind", "hint": "Really", "translations": {}},
    ]);
    assert_eq!(v1["rules"], rules);
    let v2 = app.get("/api/v2/instance", None).await.ok();
    assert_eq!(v2["title"], "Ferro Social");
    assert_eq!(v2["description"], "A server: for testing");
    assert_eq!(v2["contact"]["email"], "admin@example.test");
    assert_eq!(v2["contact"]["account"]["username"], "kim");
    assert_eq!(v2["rules"], rules);
    assert_eq!(v2["registrations"]["message"], Value::Null, "no message while sign-ups are taken");
    assert_eq!(app.get("/api/v1/instance/rules", None).await.ok(), rules);
    let nodeinfo = app.get("/nodeinfo/2.0", None).await.ok();
    assert_eq!(nodeinfo["openRegistrations"], true);
    assert_eq!(nodeinfo["metadata"]["nodeName"], "Ferro Social");

    let (ok, out) = ctl(&app, &["settings", "registrations", "approved", "--require-reason"]);
    assert!(ok, "{out}");
    assert_eq!(setting(&app, "registrations_mode").await.as_deref(), Some("--- approved\n"));
    assert_eq!(setting(&app, "require_invite_text").await.as_deref(), Some("--- true\n"));
    let v2 = app.get("/api/v2/instance", None).await.ok();
    assert_eq!(v2["registrations"]["enabled"], true);
    assert_eq!(v2["registrations"]["approval_required"], true);
    assert_eq!(v2["registrations"]["reason_required"], true);
    assert_eq!(app.get("/api/v1/instance", None).await.ok()["approval_required"], true);
    assert_eq!(app.get("/nodeinfo/2.0", None).await.ok()["openRegistrations"], false);

    let (ok, out) = ctl(&app, &["settings", "registrations", "close"]);
    assert!(ok, "{out}");
    assert_eq!(setting(&app, "registrations_mode").await.as_deref(), Some("--- none\n"));
    let v2 = app.get("/api/v2/instance", None).await.ok();
    assert_eq!(v2["registrations"]["enabled"], false);
    assert_eq!(v2["registrations"]["message"], "<p>Come back &lt;soon&gt;.</p><p>Or ask us.</p>");
    assert_eq!(app.get("/api/v1/instance", None).await.ok()["registrations"], false);

    let (ok, out) = ctl(&app, &["settings", "registrations", "open"]);
    assert!(ok, "{out}");
    assert_eq!(app.get("/api/v2/instance", None).await.ok()["registrations"]["enabled"], true);
    let (ok, out) = ctl(&app, &["settings", "registrations", "sometimes"]);
    assert!(!ok && out.contains("unrecognized subcommand"), "{out}");

    set(&app, "peers_api_enabled", "--- false\n").await;
    set(&app, "activity_api_enabled", "--- '0'\n").await;
    assert_eq!(app.get("/api/v1/instance/peers", None).await.expect(404)["error"], "Record not found");
    app.get("/api/v1/instance/activity", None).await.expect(404);
}

#[tokio::test]
async fn closed_registrations_take_sign_ups_with_a_good_invite_only() {
    let app = TestApp::spawn().await;
    let plain = app.register("plain").await;
    app.register("ada").await;
    // Owners hold every permission, invite_bypass_approval among them (Admins do not).
    let (ok, out) = ctl(&app, &["accounts", "modify", "ada", "--role", "Owner"]);
    assert!(ok, "{out}");
    let (ok, out) = ctl(&app, &["settings", "registrations", "close"]);
    assert!(ok, "{out}");
    let app_token = app.app_token("read write follow").await;

    let (status, body) = sign_up(&app, &app_token, "uninvited", json!({})).await;
    assert_eq!((status, body), (403, json!({"error": "Forbidden"})));
    let (status, _) = sign_up(&app, &app_token, "guesser", json!({"invite_code": "NoSuchCode"})).await;
    assert_eq!(status, 403);
    assert_eq!(app.get("/invite/NoSuchCode", None).await.expect(404)["error"], "Record not found");

    // An ordinary member's invite lets one person sign up, who then waits for approval.
    invite(&app, "plain", "PlainOne", Some(1), false).await;
    let shown = app.get("/invite/PlainOne", None).await.ok();
    assert_eq!(shown["invite_code"], "PlainOne");
    assert!(shown["instance_api_url"].as_str().unwrap().ends_with("/api/v2/instance"), "{shown}");
    let (status, body) = sign_up(&app, &app_token, "friend", json!({"invite_code": "PlainOne"})).await;
    assert_eq!(status, 200, "{body}");
    let (invite_uses, approved): (i32, bool) = sqlx::query_as(
        "SELECT i.uses, u.approved FROM invites i JOIN users u ON u.invite_id = i.id WHERE i.code = 'PlainOne'",
    )
    .fetch_one(&app.state.db.primary)
    .await
    .unwrap();
    assert_eq!((invite_uses, approved), (1, false));
    let used_up = app.get("/invite/PlainOne", None).await.expect(401);
    assert_eq!(used_up["error"], "This invite is not valid");
    let (status, _) = sign_up(&app, &app_token, "latecomer", json!({"invite_code": "PlainOne"})).await;
    assert_eq!(status, 403);

    // The owner's invite skips approval, and its newcomer follows the inviter.
    invite(&app, "ada", "AdaFollow", None, true).await;
    let (status, body) = sign_up(&app, &app_token, "newbie", json!({"invite_code": "AdaFollow"})).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    app.confirm_email("newbie@example.test").await;
    app.drain_jobs().await;
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&token)).await.ok();
    let following = app.get(&format!("/api/v1/accounts/{}/following", me["id"].as_str().unwrap()), Some(&token)).await;
    let names: Vec<String> =
        following.ok().as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap().to_string()).collect();
    assert_eq!(names, ["ada"]);
    // A good invite gets past the e-mail domain blocks.
    sqlx::query(
        "INSERT INTO email_domain_blocks (domain, created_at, updated_at) VALUES ('blocked.test', now(), now())",
    )
    .execute(&app.state.db.primary)
    .await
    .unwrap();
    let blocked_mail = json!({"invite_code": "AdaFollow", "email": "someone@blocked.test"});
    assert_eq!(sign_up(&app, &app_token, "blockedmail", blocked_mail).await.0, 200);

    // An invite stops working when its inviter can no longer use the server.
    invite(&app, "plain", "PlainTwo", None, false).await;
    sqlx::query("UPDATE users SET disabled = true WHERE email = 'plain@example.test'")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    app.get("/invite/PlainTwo", None).await.expect(401);
    let _ = plain;
}

#[tokio::test]
async fn approval_mode_asks_for_a_reason_and_tells_staff_of_sign_ups() {
    let app = TestApp::spawn().await;
    staff(&app, "ada", "Admin").await;
    app.drain_jobs().await;
    let moderator = staff(&app, "kim", "Moderator").await;
    mail_off(&app, "ada@example.test", "notification_emails.pending_account").await;
    app.drain_jobs().await;
    let (ok, out) = ctl(&app, &["settings", "registrations", "approved", "--require-reason"]);
    assert!(ok, "{out}");
    let app_token = app.app_token("read write").await;

    let (status, body) = sign_up(&app, &app_token, "hopeful", json!({})).await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["details"]["reason"][0]["error"], "ERR_BLANK", "{body}");
    assert_eq!(body["error"], "Validation failed: Reason can't be blank");
    let (status, body) = sign_up(&app, &app_token, "hopeful", json!({"reason": "I like ferrets"})).await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    app.confirm_email("hopeful@example.test").await;
    app.drain_jobs().await;
    let waiting = app.get("/api/v1/accounts/verify_credentials", Some(&token)).await.expect(403);
    assert_eq!(waiting["error"], "Your login is currently pending approval");
    assert!(notifications_of(&app, &moderator, "admin.sign_up").await.is_empty(), "not until approved");
    // Staff who keep the mail on hear of the sign-up waiting for them.
    let mails = mails_to(&app, "kim@example.test");
    let review = format!("Subject: New account up for review on {} (hopeful)", app.state.config.local_domain);
    let waiting: Vec<_> = mails.iter().filter(|m| m.contains(&review)).collect();
    assert_eq!(waiting.len(), 1, "{mails:?}");
    assert!(waiting[0].contains("hopeful@example.test (@hopeful)") && waiting[0].contains("I like ferrets"));
    assert!(waiting[0].contains("/admin/accounts/"), "{}", waiting[0]);
    assert!(!mails_to(&app, "ada@example.test").iter().any(|m| m.contains(&review)), "ada turned it off");

    let pending = app.get("/api/v1/admin/accounts?pending=true", Some(&moderator)).await.ok();
    assert_eq!(pending[0]["username"], "hopeful");
    assert_eq!(pending[0]["invite_request"], "I like ferrets");
    let id = pending[0]["id"].as_str().unwrap().to_string();
    app.post(&format!("/api/v1/admin/accounts/{id}/approve"), Some(&moderator), json!({})).await.ok();
    app.drain_jobs().await;
    app.get("/api/v1/accounts/verify_credentials", Some(&token)).await.ok();
    let told = notifications_of(&app, &moderator, "admin.sign_up").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["account"]["username"], "hopeful");
    assert!(told[0]["group_key"].as_str().unwrap().starts_with("admin.sign_up-"), "{}", told[0]);

    // In open mode a sign-up is let in at its confirmation; sign-ups in the same hour group.
    let (ok, out) = ctl(&app, &["settings", "registrations", "open"]);
    assert!(ok, "{out}");
    app.register("quick").await;
    app.drain_jobs().await;
    let told = notifications_of(&app, &moderator, "admin.sign_up").await;
    assert_eq!(told.len(), 2);
    let grouped = app.get("/api/v2/notifications?types[]=admin.sign_up", Some(&moderator)).await.ok();
    assert_eq!(grouped["notification_groups"].as_array().unwrap().len(), 1, "{grouped}");
    assert_eq!(grouped["notification_groups"][0]["notifications_count"], 2);
    // Users without manage_users are not told.
    let plain = app.register("plain").await;
    app.register("later").await;
    app.drain_jobs().await;
    assert!(notifications_of(&app, &plain.token, "admin.sign_up").await.is_empty());
}

#[tokio::test]
async fn a_first_open_report_tells_those_who_manage_reports() {
    let app = TestApp::spawn().await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let reporter = app.register("reporter").await;
    let target = app.register("target").await;
    sqlx::query("INSERT INTO rules (id, text, created_at, updated_at) VALUES (3, 'No spam', now(), now())")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    let report = app
        .post(
            "/api/v1/reports",
            Some(&reporter.token),
            json!({"account_id": target.id, "category": "spam", "rule_ids": ["3"], "comment": "spam"}),
        )
        .await
        .ok();
    assert_eq!(report["category"], "violation", "citing rules makes it a violation");
    assert_eq!(report["rule_ids"], json!(["3"]));
    let bad =
        app.post("/api/v1/reports", Some(&reporter.token), json!({"account_id": target.id, "rule_ids": ["99"]})).await;
    assert_eq!(bad.expect(422)["error"], "Validation failed: Rule ids does not reference valid rules");
    app.drain_jobs().await;

    let told = notifications_of(&app, &moderator, "admin.report").await;
    assert_eq!(told.len(), 1, "{told:?}");
    assert_eq!(told[0]["account"]["username"], "reporter");
    assert_eq!(told[0]["report"]["id"], report["id"]);
    assert_eq!(told[0]["report"]["target_account"]["username"], "target");
    let one = app.get(&format!("/api/v1/notifications/{}", told[0]["id"].as_str().unwrap()), Some(&moderator)).await;
    assert_eq!(one.ok()["report"]["category"], "violation");
    let grouped = app.get("/api/v2/notifications?types[]=admin.report", Some(&moderator)).await.ok();
    assert_eq!(grouped["notification_groups"][0]["report"]["id"], report["id"], "{grouped}");
    let subject =
        format!("Subject: New report for {} (#{})", app.state.config.local_domain, report["id"].as_str().unwrap());
    let mails = mails_to(&app, "kim@example.test");
    let reported: Vec<_> = mails.iter().filter(|m| m.contains(&subject)).collect();
    assert_eq!(reported.len(), 1, "{mails:?}");
    assert!(reported[0].contains("reporter has reported target"), "{}", reported[0]);

    // While that report is open, more about the same account tell nobody again.
    app.post("/api/v1/reports", Some(&reporter.token), json!({"account_id": target.id})).await.ok();
    app.drain_jobs().await;
    assert_eq!(notifications_of(&app, &moderator, "admin.report").await.len(), 1);
    assert!(notifications_of(&app, &reporter.token, "admin.report").await.is_empty());
    assert_eq!(mails_to(&app, "kim@example.test").iter().filter(|m| m.contains("Subject: New report")).count(), 1);
}
