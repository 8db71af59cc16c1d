//! Roles and the admin API: Mastodon's seeded roles and permission bits, who may list and
//! handle accounts, and `ctl accounts create|modify` as tootctl's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use serde_json::Value;

use crate::common::TestApp;

const ADMIN_SCOPES: &str = "read write admin:read admin:write";
const MODERATOR_PERMISSIONS: i64 = 1_049_884 | 65_536;

/// Runs `ferrodon ctl …` for this app; its output, and whether it succeeded.
pub(crate) fn ctl(app: &TestApp, args: &[&str]) -> (bool, String) {
    let out = app.ferrodon_command().arg("ctl").args(args).output().expect("run ferrodon ctl");
    (out.status.success(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

/// A user given `role` at the command line, with a token holding the admin scopes.
pub(crate) async fn staff(app: &TestApp, username: &str, role: &str) -> String {
    app.register(username).await;
    let (ok, out) = ctl(app, &["accounts", "modify", username, "--role", role]);
    assert!(ok, "{out}");
    app.password_token(username, ADMIN_SCOPES).await.0
}

#[tokio::test]
async fn roles_are_seeded_and_shown_as_mastodon_shows_them() {
    let app = TestApp::spawn().await;
    let roles: Vec<(i64, String, i32, i64, bool)> =
        sqlx::query_as("SELECT id, name, position, permissions, highlighted FROM user_roles ORDER BY position")
            .fetch_all(&app.state.db.primary)
            .await
            .unwrap();
    let named: Vec<(&str, i32, i64)> = roles.iter().map(|r| (r.1.as_str(), r.2, r.3)).collect();
    assert_eq!(named, [("", -1, 65_536), ("Moderator", 10, 1_049_884), ("Admin", 100, 2_031_612), ("Owner", 1000, 1)]);
    assert_eq!(roles[0].0, -99);

    let user = app.register("plain").await;
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&user.token)).await.ok();
    assert_eq!(me["role"]["id"], "-99");
    assert_eq!(me["role"]["permissions"], "65536");

    let moderator = staff(&app, "kim", "moderator").await;
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&moderator)).await.ok();
    assert_eq!(me["role"]["name"], "Moderator");
    assert_eq!(me["role"]["permissions"], MODERATOR_PERMISSIONS.to_string());
    assert_eq!(me["role"]["highlighted"], true);
    // The highlighted role is a public badge on the profile; everyone has none.
    let profile = app.get(&format!("/api/v1/accounts/{}", me["id"].as_str().unwrap()), Some(&user.token)).await.ok();
    assert_eq!(profile["roles"][0]["name"], "Moderator");
    assert_eq!(profile["roles"][0]["id"], me["role"]["id"]);
    let plain_profile = app.get(&format!("/api/v1/accounts/{}", user.id), Some(&user.token)).await.ok();
    assert_eq!(plain_profile["roles"], serde_json::json!([]));
    let owner = staff(&app, "boss", "Owner").await;
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&owner)).await.ok();
    assert_eq!(me["role"]["permissions"], "8388607", "administrators hold every bit");

    let (ok, out) = ctl(&app, &["accounts", "modify", "kim", "--remove-role"]);
    assert!(ok, "{out}");
    let me = app.get("/api/v1/accounts/verify_credentials", Some(&moderator)).await.ok();
    assert_eq!(me["role"]["id"], "-99");
    let (ok, out) = ctl(&app, &["accounts", "modify", "kim", "--role", "Janitor"]);
    assert!(!ok && out.contains("no role named \"Janitor\""), "{out}");
}

#[tokio::test]
async fn the_account_list_is_for_those_who_manage_users() {
    let app = TestApp::spawn().await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let user = app.register("plain").await;
    let refused = app.get("/api/v1/admin/accounts", Some(&user.token)).await;
    assert_eq!(refused.expect(403)["error"], "This action is outside the authorized scopes");
    let (token, _) = app.password_token("plain", ADMIN_SCOPES).await;
    let refused = app.get("/api/v1/admin/accounts", Some(&token)).await;
    assert_eq!(refused.expect(403)["error"], "This action is not allowed");

    let listed = app.get("/api/v1/admin/accounts", Some(&moderator)).await.ok();
    let names: Vec<&str> = listed.as_array().unwrap().iter().map(|a| a["username"].as_str().unwrap()).collect();
    assert_eq!(names, ["plain", "kim"], "newest first");
    let plain = &listed[0];
    assert_eq!(plain["email"], "plain@example.test");
    assert_eq!(plain["confirmed"], true);
    assert_eq!(plain["approved"], true);
    assert_eq!(plain["role"]["id"], "-99");
    assert_eq!(plain["account"]["username"], "plain");
    assert_eq!(listed[1]["role"]["name"], "Moderator");

    let prefix = app.get("/api/v1/admin/accounts?username=pl", Some(&moderator)).await.ok();
    assert_eq!(prefix.as_array().unwrap().len(), 1);
    let staff_only = app.get("/api/v1/admin/accounts?staff=true", Some(&moderator)).await.ok();
    assert_eq!(staff_only[0]["username"], "kim");
    assert_eq!(staff_only.as_array().unwrap().len(), 1);
    let page = app.get("/api/v1/admin/accounts?limit=1", Some(&moderator)).await;
    let link = page.link().expect("a Link header after a full page");
    assert!(link.contains("rel=\"next\"") && link.contains("limit=1"), "{link}");
    let one = app.get(&format!("/api/v1/admin/accounts/{}", user.id), Some(&moderator)).await.ok();
    assert_eq!(one["username"], "plain");
    assert_eq!(
        app.get("/api/v1/admin/accounts/12345", Some(&moderator)).await.expect(404)["error"],
        "Record not found"
    );

    let everyone = app.get("/api/v2/admin/accounts", Some(&moderator)).await.ok();
    assert_eq!(everyone.as_array().unwrap().len(), 2);
    let bad = app.get("/api/v2/admin/accounts?origin=mars", Some(&moderator)).await;
    assert_eq!(bad.expect(400)["error"], "Unknown origin: mars");
    let none = app.get("/api/v2/admin/accounts?ip=not-an-address", Some(&moderator)).await.ok();
    assert_eq!(none, Value::Array(Vec::new()));
}

#[tokio::test]
async fn pending_sign_ups_are_approved_or_rejected_and_disabled_users_enabled() {
    let app = TestApp::spawn().await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let pending = app.register("pending").await;
    let waiting = app.register("waiting").await;
    sqlx::query("UPDATE users SET approved = false WHERE email IN ('pending@example.test', 'waiting@example.test')")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    let listed = app.get("/api/v2/admin/accounts?status=pending", Some(&moderator)).await.ok();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let refused = app.get("/api/v1/accounts/verify_credentials", Some(&pending.token)).await;
    assert_eq!(refused.expect(403)["error"], "Your login is currently pending approval");

    let approved =
        app.post(&format!("/api/v1/admin/accounts/{}/approve", pending.id), Some(&moderator), Value::Null).await;
    assert_eq!(approved.ok()["approved"], true);
    assert_eq!(app.get("/api/v1/accounts/verify_credentials", Some(&pending.token)).await.ok()["username"], "pending");
    let again =
        app.post(&format!("/api/v1/admin/accounts/{}/approve", pending.id), Some(&moderator), Value::Null).await;
    assert_eq!(again.expect(403)["error"], "This action is not allowed");

    let rejected =
        app.post(&format!("/api/v1/admin/accounts/{}/reject", waiting.id), Some(&moderator), Value::Null).await;
    assert_eq!(rejected.ok(), serde_json::json!({}));
    assert_eq!(app.get(&format!("/api/v1/admin/accounts/{}", waiting.id), Some(&moderator)).await.status.as_u16(), 404);

    sqlx::query("UPDATE users SET disabled = true WHERE email = 'pending@example.test'")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    let disabled = app.get("/api/v2/admin/accounts?status=disabled", Some(&moderator)).await.ok();
    assert_eq!(disabled[0]["username"], "pending");
    let enabled =
        app.post(&format!("/api/v1/admin/accounts/{}/enable", pending.id), Some(&moderator), Value::Null).await;
    assert_eq!(enabled.ok()["disabled"], false);

    // Each change is in the audit log, as Mastodon records it.
    let log: Vec<(String, String, String)> =
        sqlx::query_as("SELECT action, target_type, human_identifier FROM admin_action_logs ORDER BY id")
            .fetch_all(&app.state.db.primary)
            .await
            .unwrap();
    let expected = [("approve", "User", "pending"), ("reject", "User", "waiting"), ("enable", "User", "pending")];
    let log: Vec<(&str, &str, &str)> = log.iter().map(|(a, t, h)| (a.as_str(), t.as_str(), h.as_str())).collect();
    assert_eq!(log, expected);

    // A read-only admin token cannot act.
    let (read_only, _) = app.password_token("kim", "read admin:read").await;
    let refused =
        app.post(&format!("/api/v1/admin/accounts/{}/enable", pending.id), Some(&read_only), Value::Null).await;
    assert_eq!(refused.expect(403)["error"], "This action is outside the authorized scopes");
}

#[tokio::test]
async fn ctl_accounts_create_and_modify() {
    let app = TestApp::spawn().await;
    let created = ["accounts", "create", "chief", "--email", "chief@example.test", "--role", "Admin", "--confirmed"];
    let (ok, out) = ctl(&app, &created);
    assert!(ok, "{out}");
    let password = out.lines().find_map(|l| l.strip_prefix("New password: ")).expect("a password").to_string();
    let role: Option<String> = sqlx::query_scalar(
        "SELECT r.name FROM users u JOIN user_roles r ON r.id = u.role_id WHERE u.email = 'chief@example.test'",
    )
    .fetch_one(&app.state.db.primary)
    .await
    .unwrap();
    assert_eq!(role.as_deref(), Some("Admin"));
    let (ok, out) = ctl(&app, &["accounts", "create", "typo", "--email", "typo@example.test", "--role", "Amdin"]);
    assert!(!ok, "{out}");
    let made: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE username = 'typo'")
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(made, 0, "a bad role leaves no account behind");
    // Without --confirmed the address is confirmed by mail; without --approve, the mode decides.
    let (ok, out) = ctl(&app, &["settings", "registrations", "approved"]);
    assert!(ok, "{out}");
    for (name, extra) in [("waits", None), ("welcome", Some("--approve"))] {
        let email = format!("{name}@example.test");
        let mut args = vec!["accounts", "create", name, "--email", &email];
        args.extend(extra);
        let (ok, out) = ctl(&app, &args);
        assert!(ok, "{out}");
    }
    let states: Vec<(String, bool, bool)> = sqlx::query_as(
        "SELECT a.username, u.confirmed_at IS NOT NULL, u.approved FROM users u JOIN accounts a ON a.id = u.account_id
          ORDER BY u.id",
    )
    .fetch_all(&app.state.db.primary)
    .await
    .unwrap();
    let expected = [("chief", true, true), ("waits", false, false), ("welcome", false, true)];
    assert_eq!(states.iter().map(|(n, c, a)| (n.as_str(), *c, *a)).collect::<Vec<_>>(), expected);
    let (ok, out) = ctl(&app, &["settings", "registrations", "open"]);
    assert!(ok, "{out}");

    let signed_in = |password: String| {
        let app = &app;
        async move {
            let (id, secret) = app.app("read").await;
            app.post_form(
                "/oauth/token",
                None,
                &[
                    ("grant_type", "password"),
                    ("client_id", &id),
                    ("client_secret", &secret),
                    ("username", "chief@example.test"),
                    ("password", &password),
                    ("scope", "read"),
                ],
            )
            .await
            .status
            .as_u16()
        }
    };
    assert_eq!(signed_in(password.clone()).await, 200);
    let (ok, out) = ctl(&app, &["accounts", "modify", "chief", "--reset-password", "--disable"]);
    assert!(ok, "{out}");
    let new_password = out.lines().find_map(|l| l.strip_prefix("New password: ")).expect("a new password").to_string();
    assert_eq!(signed_in(password).await, 400, "the old password is gone");
    assert_eq!(signed_in(new_password).await, 200);
    let disabled: bool = sqlx::query_scalar("SELECT disabled FROM users WHERE email = 'chief@example.test'")
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    assert!(disabled);

    app.register("other").await;
    let (ok, out) = ctl(&app, &["accounts", "modify", "chief", "--email", "other@example.test"]);
    assert!(!ok && out.contains("that e-mail address is taken"), "{out}");
    let (ok, out) = ctl(&app, &["accounts", "modify", "nobody", "--confirm"]);
    assert!(!ok && out.contains("no such local account"), "{out}");
    sqlx::query("UPDATE users SET otp_required_for_login = true, otp_secret = 'x' WHERE email = 'chief@example.test'")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    let (ok, out) = ctl(&app, &["accounts", "modify", "chief", "--disable-2fa", "--enable"]);
    assert!(ok, "{out}");
    let (two_factor, secret, disabled): (bool, Option<String>, bool) = sqlx::query_as(
        "SELECT otp_required_for_login, otp_secret, disabled FROM users WHERE email = 'chief@example.test'",
    )
    .fetch_one(&app.state.db.primary)
    .await
    .unwrap();
    assert_eq!((two_factor, secret, disabled), (false, None, false));
}

#[tokio::test]
async fn moderators_handle_reports_and_see_what_was_reported() {
    let app = TestApp::spawn().await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let reporter = app.register("reporter").await;
    let troll = app.register("troll").await;
    app.follow(&reporter, &troll).await;
    let secret = app
        .post_status(&troll, serde_json::json!({"status": "followers only nastiness", "visibility": "private"}))
        .await;
    let filed = app
        .post(
            "/api/v1/reports",
            Some(&reporter.token),
            serde_json::json!({"account_id": troll.id, "status_ids": [secret["id"]], "comment": "please look", "category": "spam"}),
        )
        .await
        .ok();
    let id = filed["id"].as_str().unwrap().to_string();
    let refused = app.get("/api/v1/admin/reports", Some(&reporter.token)).await;
    assert_eq!(refused.expect(403)["error"], "This action is outside the authorized scopes");

    let open = app.get("/api/v1/admin/reports", Some(&moderator)).await.ok();
    assert_eq!(open.as_array().unwrap().len(), 1);
    let report = &open[0];
    assert_eq!(report["id"], id);
    assert_eq!(report["category"], "spam");
    assert_eq!(report["account"]["username"], "reporter");
    assert_eq!(report["target_account"]["username"], "troll");
    assert_eq!(report["target_account"]["email"], "troll@example.test");
    assert_eq!(report["assigned_account"], Value::Null);
    // The reported status is shown to the moderator although it is followers-only.
    assert_eq!(report["statuses"][0]["id"], secret["id"]);

    let assigned =
        app.post(&format!("/api/v1/admin/reports/{id}/assign_to_self"), Some(&moderator), Value::Null).await.ok();
    assert_eq!(assigned["assigned_account"]["username"], "kim");
    let updated = app
        .put(&format!("/api/v1/admin/reports/{id}"), Some(&moderator), serde_json::json!({"category": "legal"}))
        .await
        .ok();
    assert_eq!(updated["category"], "legal");
    let bad = app
        .put(&format!("/api/v1/admin/reports/{id}"), Some(&moderator), serde_json::json!({"category": "nonsense"}))
        .await;
    assert_eq!(bad.status.as_u16(), 422);
    let resolved = app.post(&format!("/api/v1/admin/reports/{id}/resolve"), Some(&moderator), Value::Null).await.ok();
    assert_eq!(resolved["action_taken"], true);
    assert_eq!(resolved["action_taken_by_account"]["username"], "kim");
    assert_eq!(app.get("/api/v1/admin/reports", Some(&moderator)).await.ok(), serde_json::json!([]));
    let closed = app.get("/api/v1/admin/reports?resolved=true", Some(&moderator)).await.ok();
    assert_eq!(closed[0]["id"], id);
    let reopened = app.post(&format!("/api/v1/admin/reports/{id}/reopen"), Some(&moderator), Value::Null).await.ok();
    assert_eq!(reopened["action_taken"], false);
    let unassigned =
        app.post(&format!("/api/v1/admin/reports/{id}/unassign"), Some(&moderator), Value::Null).await.ok();
    assert_eq!(unassigned["assigned_account"], Value::Null);
    let by_target =
        app.get(&format!("/api/v1/admin/reports?target_account_id={}", reporter.id), Some(&moderator)).await.ok();
    assert_eq!(by_target, serde_json::json!([]));

    let log: Vec<String> =
        sqlx::query_scalar("SELECT action FROM admin_action_logs WHERE target_type = 'Report' ORDER BY id")
            .fetch_all(&app.state.db.primary)
            .await
            .unwrap();
    assert_eq!(log, ["assigned_to_self", "update", "resolve", "reopen", "unassigned"]);
}

/// A remote follower of `target` whose inbox is a socket of this test; returns the listener.
async fn remote_follower(app: &TestApp, target: &str) -> tokio::net::TcpListener {
    let listener = tokio::net::TcpListener::bind("127.0.0.5:0").await.unwrap();
    let inbox = format!("http://{}/inbox", listener.local_addr().unwrap());
    let db = &app.state.db.primary;
    sqlx::query(
        "INSERT INTO accounts (id, username, domain, public_key, created_at, updated_at, uri, inbox_url, shared_inbox_url, protocol)
         VALUES (777, 'watcher', 'remote.test', '', now(), now(), 'https://remote.test/users/watcher', $1, $1, 1)",
    )
    .bind(&inbox)
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO follows (account_id, target_account_id, created_at, updated_at) VALUES (777, $1, now(), now())",
    )
    .bind(target.parse::<i64>().unwrap())
    .execute(db)
    .await
    .unwrap();
    listener
}

#[tokio::test]
async fn a_suspension_hides_the_account_ends_its_sessions_and_is_announced() {
    let app = TestApp::spawn_with(&[("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8")]).await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let fan = app.register("fan").await;
    let troll = app.register("troll").await;
    app.follow(&fan, &troll).await;
    let post = app.post_status(&troll, serde_json::json!({"status": "trolling"})).await;
    app.drain_jobs().await;
    let home = app.get("/api/v1/timelines/home", Some(&fan.token)).await;
    assert_eq!(home.ids(), [post["id"].as_str().unwrap()]);
    let report = app.post("/api/v1/reports", Some(&fan.token), serde_json::json!({"account_id": troll.id})).await.ok();
    let inbox = remote_follower(&app, &troll.id).await;
    let delivered = tokio::spawn(crate::adoption::receive_delivery(inbox));

    // Staff cannot act on a role at or above their own.
    let admin = staff(&app, "ada", "Admin").await;
    let admin_id =
        app.get("/api/v1/accounts/verify_credentials", Some(&admin)).await.ok()["id"].as_str().unwrap().to_string();
    let refused = app
        .post(
            &format!("/api/v1/admin/accounts/{admin_id}/action"),
            Some(&moderator),
            serde_json::json!({"type": "suspend"}),
        )
        .await;
    assert_eq!(refused.expect(403)["error"], "This action is not allowed");
    let bad = app
        .post(
            &format!("/api/v1/admin/accounts/{}/action", troll.id),
            Some(&moderator),
            serde_json::json!({"type": "ban"}),
        )
        .await;
    assert_eq!(bad.status.as_u16(), 422);

    let acted = app
        .post(
            &format!("/api/v1/admin/accounts/{}/action", troll.id),
            Some(&moderator),
            serde_json::json!({"type": "suspend", "text": "Rule 1"}),
        )
        .await;
    assert_eq!(acted.ok(), serde_json::json!({}));
    app.drain_jobs().await;

    // Gone from the client API and from its follower's home feed; its own token is refused.
    assert_eq!(app.get(&format!("/api/v1/accounts/{}", troll.id), Some(&fan.token)).await.status.as_u16(), 404);
    assert!(app.get("/api/v1/timelines/home", Some(&fan.token)).await.ids().is_empty());
    let refused = app.get("/api/v1/accounts/verify_credentials", Some(&troll.token)).await;
    assert_eq!(refused.expect(403)["error"], "Your login is currently disabled");
    // Its servers are told: an Update of the blanked actor, marked suspended.
    let (_, body) =
        tokio::time::timeout(std::time::Duration::from_secs(30), delivered).await.expect("a delivery").unwrap();
    let update: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(update["type"], "Update");
    assert_eq!(update["object"]["suspended"], true);
    assert_eq!(update["object"]["name"], "");

    let shown = app.get(&format!("/api/v1/admin/accounts/{}", troll.id), Some(&moderator)).await.ok();
    assert_eq!(shown["suspended"], true);
    let report_state =
        app.get(&format!("/api/v1/admin/reports/{}", report["id"].as_str().unwrap()), Some(&moderator)).await.ok();
    assert_eq!(report_state["action_taken"], true, "the open report is resolved by the action");
    let (strike, text): (i32, String) =
        sqlx::query_as("SELECT action, text FROM account_warnings WHERE target_account_id = $1")
            .bind(troll.id.parse::<i64>().unwrap())
            .fetch_one(&app.state.db.primary)
            .await
            .unwrap();
    assert_eq!((strike, text.as_str()), (4000, "Rule 1"));
    let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM account_deletion_requests WHERE account_id = $1")
        .bind(troll.id.parse::<i64>().unwrap())
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(waiting, 1);

    // Lifted: back in the follower's feed, its token works again.
    let lifted =
        app.post(&format!("/api/v1/admin/accounts/{}/unsuspend", troll.id), Some(&moderator), Value::Null).await;
    assert_eq!(lifted.ok()["suspended"], false);
    app.drain_jobs().await;
    assert_eq!(app.get("/api/v1/timelines/home", Some(&fan.token)).await.ids(), [post["id"].as_str().unwrap()]);
    assert_eq!(app.get("/api/v1/accounts/verify_credentials", Some(&troll.token)).await.ok()["username"], "troll");
    let log: Vec<String> = sqlx::query_scalar("SELECT action FROM admin_action_logs ORDER BY id")
        .fetch_all(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(log, ["suspend", "resolve", "unsuspend"]);
}

#[tokio::test]
async fn a_suspended_accounts_data_is_deleted_on_request_or_after_30_days() {
    let app = TestApp::spawn_with(&[("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8")]).await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let admin = staff(&app, "ada", "Admin").await;
    let gone = app.register("gone").await;
    let fan = app.register("fan").await;
    app.follow(&fan, &gone).await;
    app.post_status(&gone, serde_json::json!({"status": "soon deleted"})).await;
    let kept = app.post_status(&gone, serde_json::json!({"status": "evidence"})).await;
    app.post(
        "/api/v1/reports",
        Some(&fan.token),
        serde_json::json!({"account_id": gone.id, "status_ids": [kept["id"]]}),
    )
    .await
    .ok();
    let path = format!("/api/v1/admin/accounts/{}", gone.id);
    assert_eq!(app.delete(&path, Some(&admin)).await.expect(403)["error"], "This action is not allowed");

    // A report about it stays open: its statuses cited there are kept for staff.
    sqlx::query("UPDATE reports SET action_taken_at = NULL").execute(&app.state.db.primary).await.unwrap();
    act(&app, &admin, &gone.id, "suspend").await;
    sqlx::query("UPDATE reports SET action_taken_at = NULL").execute(&app.state.db.primary).await.unwrap();
    app.drain_jobs().await;
    let inbox = remote_follower(&app, &gone.id).await;
    let delivered = tokio::spawn(crate::adoption::receive_delivery(inbox));
    assert_eq!(app.delete(&path, Some(&moderator)).await.expect(403)["error"], "This action is not allowed");
    assert_eq!(app.delete(&path, Some(&admin)).await.ok(), serde_json::json!({}));
    app.drain_jobs().await;

    let id: i64 = gone.id.parse().unwrap();
    let db = &app.state.db.primary;
    let (statuses, follows, requests, disabled): (Vec<i64>, i64, i64, bool) = sqlx::query_as(
        "SELECT ARRAY(SELECT s.id FROM statuses s WHERE s.account_id = $1 AND s.deleted_at IS NULL),
                (SELECT count(*) FROM follows WHERE account_id = $1 OR target_account_id = $1),
                (SELECT count(*) FROM account_deletion_requests WHERE account_id = $1),
                (SELECT disabled FROM users WHERE account_id = $1)",
    )
    .bind(id)
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(statuses, [kept["id"].as_str().unwrap().parse::<i64>().unwrap()], "only the reported status stays");
    assert_eq!((follows, requests, disabled), (0, 0, true));
    let (name, suspended): (String, bool) =
        sqlx::query_as("SELECT username, suspended_at IS NOT NULL FROM accounts WHERE id = $1")
            .bind(id)
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!((name.as_str(), suspended), ("gone", true), "the row stays: the name is not taken again");
    let (_, body) =
        tokio::time::timeout(std::time::Duration::from_secs(30), delivered).await.expect("a delivery").unwrap();
    let delete: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(delete["type"], "Delete", "{delete}");
    assert_eq!(delete["object"], delete["actor"], "the actor itself is deleted: {delete}");
    // Taken too late: already deleted, nothing more to do.
    assert_eq!(app.delete(&path, Some(&admin)).await.expect(403)["error"], "This action is not allowed");

    // A suspension past its 30 days is carried out by the scheduler.
    let late = app.register("late").await;
    act(&app, &admin, &late.id, "suspend").await;
    sqlx::query("UPDATE account_deletion_requests SET created_at = now() - interval '31 days'")
        .execute(db)
        .await
        .unwrap();
    sqlx::query("UPDATE ferrodon_schedules SET next_run_at = now() WHERE name = 'suspended_accounts_deletion'")
        .execute(db)
        .await
        .unwrap();
    ferrodon::worker::scheduler::tick(&app.state).await.unwrap();
    app.drain_jobs().await;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM account_deletion_requests").fetch_one(db).await.unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn silence_sensitive_and_disable_are_set_and_lifted() {
    let app = TestApp::spawn().await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let user = app.register("noisy").await;
    for kind in ["silence", "sensitive"] {
        let acted = app
            .post(
                &format!("/api/v1/admin/accounts/{}/action", user.id),
                Some(&moderator),
                serde_json::json!({"type": kind}),
            )
            .await;
        assert_eq!(acted.ok(), serde_json::json!({}));
    }
    let shown = app.get(&format!("/api/v1/admin/accounts/{}", user.id), Some(&moderator)).await.ok();
    assert_eq!((shown["silenced"].clone(), shown["sensitized"].clone()), (Value::Bool(true), Value::Bool(true)));
    let silenced = app.get("/api/v2/admin/accounts?status=silenced", Some(&moderator)).await.ok();
    assert_eq!(silenced[0]["username"], "noisy");
    app.post(&format!("/api/v1/admin/accounts/{}/unsilence", user.id), Some(&moderator), Value::Null).await.ok();
    let shown =
        app.post(&format!("/api/v1/admin/accounts/{}/unsensitive", user.id), Some(&moderator), Value::Null).await.ok();
    assert_eq!((shown["silenced"].clone(), shown["sensitized"].clone()), (Value::Bool(false), Value::Bool(false)));

    let acted = app
        .post(
            &format!("/api/v1/admin/accounts/{}/action", user.id),
            Some(&moderator),
            serde_json::json!({"type": "disable"}),
        )
        .await;
    assert_eq!(acted.ok(), serde_json::json!({}));
    let refused = app.get("/api/v1/accounts/verify_credentials", Some(&user.token)).await;
    assert_eq!(refused.expect(403)["error"], "Your login is currently disabled");
    let warned = app
        .post(
            &format!("/api/v1/admin/accounts/{}/action", user.id),
            Some(&moderator),
            serde_json::json!({"text": "be nice"}),
        )
        .await;
    assert_eq!(warned.ok(), serde_json::json!({}));
    let strikes: Vec<i32> = sqlx::query_scalar("SELECT action FROM account_warnings ORDER BY id")
        .fetch_all(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(strikes, [3000, 2000, 1000, 0]);
    let log: Vec<String> = sqlx::query_scalar("SELECT action FROM admin_action_logs ORDER BY id")
        .fetch_all(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(log, ["silence", "sensitive", "unsilence", "unsensitive", "disable", "create"]);
}

async fn act(app: &TestApp, moderator: &str, account_id: &str, kind: &str) {
    act_with(app, moderator, account_id, serde_json::json!({"type": kind})).await;
}

async fn public_ids(app: &TestApp, path: &str, token: Option<&str>) -> Vec<String> {
    app.get(path, token).await.ids()
}

#[tokio::test]
async fn a_silenced_account_is_limited_and_a_sensitized_ones_media_is_sensitive() {
    let app = TestApp::spawn().await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let loud = app.register("loud").await;
    let calm = app.register("calm").await;
    let fan = app.register("fan").await;
    app.follow(&fan, &loud).await;
    let post = app.post_status(&loud, serde_json::json!({"status": "Hear me #news"})).await;
    let post_id = post["id"].as_str().unwrap().to_string();
    assert_eq!(public_ids(&app, "/api/v1/timelines/public", None).await, std::slice::from_ref(&post_id));

    act(&app, &moderator, &loud.id, "silence").await;
    assert!(public_ids(&app, "/api/v1/timelines/public", None).await.is_empty());
    assert!(public_ids(&app, "/api/v1/timelines/public?local=true", Some(&fan.token)).await.is_empty());
    assert!(public_ids(&app, "/api/v1/timelines/tag/news", Some(&calm.token)).await.is_empty());
    let profile = app.get(&format!("/api/v1/accounts/{}", loud.id), Some(&calm.token)).await.ok();
    assert_eq!(profile["limited"], true);
    assert!(
        app.get(&format!("/api/v1/accounts/{}", calm.id), None).await.ok().get("limited").is_none(),
        "only limited accounts carry the key"
    );
    // The status itself is still there for whoever looks it up.
    app.get(&format!("/api/v1/statuses/{post_id}"), Some(&calm.token)).await.ok();

    // Its follows become requests; its mentions and requests reach only those who follow it.
    let path = format!("/api/v1/accounts/{}/follow", calm.id);
    let relationship = app.post(&path, Some(&loud.token), serde_json::json!({})).await;
    assert_eq!(relationship.ok()["requested"], true);
    app.post_status(&loud, serde_json::json!({"status": "@calm @fan listen"})).await;
    app.drain_jobs().await;
    let calm_told = app.get("/api/v1/notifications", Some(&calm.token)).await.ok();
    assert_eq!(calm_told, serde_json::json!([]), "filtered: calm does not follow loud");
    let fan_told = app.get("/api/v1/notifications?types[]=mention", Some(&fan.token)).await.ok();
    assert_eq!(fan_told.as_array().unwrap().len(), 1);

    app.post(&format!("/api/v1/admin/accounts/{}/unsilence", loud.id), Some(&moderator), Value::Null).await.ok();
    let public = public_ids(&app, "/api/v1/timelines/public", None).await;
    assert!(public.len() == 2 && public.contains(&post_id), "both its statuses are back: {public:?}");
    let profile = app.get(&format!("/api/v1/accounts/{}", loud.id), Some(&calm.token)).await.ok();
    assert!(profile.get("limited").is_none(), "{profile}");

    // Sensitized: its statuses are sensitive to others (here and in ActivityPub), not to itself.
    act(&app, &moderator, &loud.id, "sensitive").await;
    let seen = app.get(&format!("/api/v1/statuses/{post_id}"), Some(&calm.token)).await.ok();
    assert_eq!(seen["sensitive"], true);
    let own = app.get(&format!("/api/v1/statuses/{post_id}"), Some(&loud.token)).await.ok();
    assert_eq!(own["sensitive"], false);
    let note = app
        .client
        .get(format!("{}/users/loud/statuses/{post_id}", app.base))
        .header("accept", "application/activity+json")
        .send()
        .await
        .unwrap();
    let note: Value = note.json().await.unwrap();
    assert_eq!(note["sensitive"], true, "{note}");
}

#[tokio::test]
async fn domain_blocks_are_managed_by_those_who_manage_federation() {
    let app = TestApp::spawn().await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let admin = staff(&app, "ada", "Admin").await;
    sqlx::query(
        "INSERT INTO accounts (id, username, domain, public_key, created_at, updated_at, uri, inbox_url, shared_inbox_url)
         VALUES (801, 'spammer', 'bad.example', '', now(), now(), 'https://bad.example/users/spammer', '', ''),
                (802, 'other', 'sub.bad.example', '', now(), now(), 'https://sub.bad.example/users/other', '', '')",
    )
    .execute(&app.state.db.primary)
    .await
    .unwrap();
    let refused =
        app.post("/api/v1/admin/domain_blocks", Some(&moderator), serde_json::json!({"domain": "bad.example"})).await;
    assert_eq!(refused.expect(403)["error"], "This action is not allowed", "moderators do not manage federation");

    let block = app
        .post(
            "/api/v1/admin/domain_blocks",
            Some(&admin),
            serde_json::json!({"domain": "Bad.Example", "severity": "suspend", "public_comment": "spam", "reject_reports": true}),
        )
        .await
        .ok();
    assert_eq!(block["domain"], "bad.example");
    assert_eq!(block["severity"], "suspend");
    use sha2::Digest;
    assert_eq!(block["digest"], hex::encode(sha2::Sha256::digest(b"bad.example")));
    let suspended: i64 =
        sqlx::query_scalar("SELECT count(*) FROM accounts WHERE id IN (801, 802) AND suspended_at IS NOT NULL")
            .fetch_one(&app.state.db.primary)
            .await
            .unwrap();
    assert_eq!(suspended, 2, "the domain's accounts and its subdomains' are suspended");

    // A weaker block of the domain or a subdomain is refused with the block in the way.
    let again = app
        .post(
            "/api/v1/admin/domain_blocks",
            Some(&admin),
            serde_json::json!({"domain": "sub.bad.example", "severity": "silence"}),
        )
        .await;
    assert_eq!(again.status.as_u16(), 422);
    assert_eq!(again.body["error"], "You have already imposed stricter limits on bad.example.");
    assert_eq!(again.body["existing_domain_block"]["id"], block["id"]);

    let id = block["id"].as_str().unwrap();
    let listed = app.get("/api/v1/admin/domain_blocks", Some(&admin)).await.ok();
    assert_eq!(listed[0]["id"], id);
    let changed = app
        .put(&format!("/api/v1/admin/domain_blocks/{id}"), Some(&admin), serde_json::json!({"severity": "silence"}))
        .await
        .ok();
    assert_eq!(changed["severity"], "silence");
    assert_eq!(changed["public_comment"], "spam", "what is not sent stays");
    let (suspended, silenced): (i64, i64) = sqlx::query_as(
        "SELECT count(*) FILTER (WHERE suspended_at IS NOT NULL), count(*) FILTER (WHERE silenced_at IS NOT NULL)
           FROM accounts WHERE id IN (801, 802)",
    )
    .fetch_one(&app.state.db.primary)
    .await
    .unwrap();
    assert_eq!((suspended, silenced), (0, 2));
    assert_eq!(
        app.delete(&format!("/api/v1/admin/domain_blocks/{id}"), Some(&admin)).await.ok(),
        serde_json::json!({})
    );
    assert_eq!(app.get(&format!("/api/v1/admin/domain_blocks/{id}"), Some(&admin)).await.status.as_u16(), 404);
    let limited: i64 =
        sqlx::query_scalar("SELECT count(*) FROM accounts WHERE id IN (801, 802) AND silenced_at IS NOT NULL")
            .fetch_one(&app.state.db.primary)
            .await
            .unwrap();
    assert_eq!(limited, 0);
    let log: Vec<(String, String)> = sqlx::query_as(
        "SELECT action, human_identifier FROM admin_action_logs WHERE target_type = 'DomainBlock' ORDER BY id",
    )
    .fetch_all(&app.state.db.primary)
    .await
    .unwrap();
    let log: Vec<(&str, &str)> = log.iter().map(|(a, h)| (a.as_str(), h.as_str())).collect();
    assert_eq!(log, [("create", "bad.example"), ("update", "bad.example"), ("destroy", "bad.example")]);
}

/// A sign-up through the API with an app's token, from `forwarded_for` (as a proxy on this
/// machine reports it).
async fn sign_up(app: &TestApp, app_token: &str, username: &str, email: &str, forwarded_for: &str) -> (u16, Value) {
    let res = app
        .client
        .post(format!("{}/api/v1/accounts", app.base))
        .bearer_auth(app_token)
        .header("x-forwarded-for", forwarded_for)
        .json(&serde_json::json!({"username": username, "email": email, "password": "correct horse battery", "agreement": true}))
        .send()
        .await
        .unwrap();
    let status = res.status().as_u16();
    (status, res.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn sign_ups_meet_the_email_domain_and_ip_blocks() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "ada", "Admin").await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let app_token = app.app_token("read write").await;
    let refused =
        app.post("/api/v1/admin/ip_blocks", Some(&moderator), serde_json::json!({"ip": "203.0.113.0/24"})).await;
    assert_eq!(refused.expect(403)["error"], "This action is not allowed", "moderators do not manage blocks");

    let spam = app
        .post("/api/v1/admin/email_domain_blocks", Some(&admin), serde_json::json!({"domain": "spam.test"}))
        .await
        .ok();
    assert_eq!(spam["domain"], "spam.test");
    app.post(
        "/api/v1/admin/email_domain_blocks",
        Some(&admin),
        serde_json::json!({"domain": "slow.test", "allow_with_approval": true}),
    )
    .await
    .ok();
    let twice =
        app.post("/api/v1/admin/email_domain_blocks", Some(&admin), serde_json::json!({"domain": "spam.test"})).await;
    assert_eq!(twice.status.as_u16(), 422);

    let (status, body) = sign_up(&app, &app_token, "spammer", "x@mail.spam.test", "198.51.100.1").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["details"]["email"][0]["error"], "ERR_BLOCKED");
    let (status, body) = sign_up(&app, &app_token, "slowpoke", "x@slow.test", "198.51.100.1").await;
    assert_eq!(status, 200, "{body}");
    let token = body["access_token"].as_str().unwrap().to_string();
    sqlx::query("UPDATE users SET confirmed_at = now() WHERE email = 'x@slow.test'")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    let waiting = app.get("/api/v1/accounts/verify_credentials", Some(&token)).await;
    assert_eq!(waiting.expect(403)["error"], "Your login is currently pending approval");

    let block = app
        .post(
            "/api/v1/admin/ip_blocks",
            Some(&admin),
            serde_json::json!({"ip": "203.0.113.0/24", "severity": "sign_up_block", "comment": "bots"}),
        )
        .await
        .ok();
    assert_eq!(block["ip"], "203.0.113.0/24");
    assert_eq!(block["severity"], "sign_up_block");
    let (status, body) = sign_up(&app, &app_token, "bot", "bot@example.test", "203.0.113.7").await;
    assert_eq!((status, body["error"].clone()), (403, Value::from("Forbidden")));
    let id = block["id"].as_str().unwrap();
    let changed = app
        .put(
            &format!("/api/v1/admin/ip_blocks/{id}"),
            Some(&admin),
            serde_json::json!({"severity": "sign_up_requires_approval"}),
        )
        .await
        .ok();
    assert_eq!(
        (changed["severity"].clone(), changed["comment"].clone()),
        (Value::from("sign_up_requires_approval"), Value::from("bots"))
    );
    let (status, _) = sign_up(&app, &app_token, "maybe", "maybe@example.test", "203.0.113.7").await;
    assert_eq!(status, 200);
    let (approved, ip): (bool, Option<String>) =
        sqlx::query_as("SELECT approved, host(sign_up_ip) FROM users WHERE email = 'maybe@example.test'")
            .fetch_one(&app.state.db.primary)
            .await
            .unwrap();
    assert_eq!((approved, ip.as_deref()), (false, Some("203.0.113.7")));
    let bad = app
        .post("/api/v1/admin/ip_blocks", Some(&admin), serde_json::json!({"ip": "not-an-ip", "severity": "no_access"}))
        .await;
    assert_eq!(bad.status.as_u16(), 422);
    assert_eq!(app.delete(&format!("/api/v1/admin/ip_blocks/{id}"), Some(&admin)).await.ok(), serde_json::json!({}));
    let listed = app.get("/api/v1/admin/email_domain_blocks", Some(&admin)).await.ok();
    assert_eq!(listed.as_array().unwrap().len(), 2);
    let spam_id = spam["id"].as_str().unwrap();
    assert_eq!(
        app.delete(&format!("/api/v1/admin/email_domain_blocks/{spam_id}"), Some(&admin)).await.ok(),
        serde_json::json!({})
    );
    let (status, _) = sign_up(&app, &app_token, "spammer", "x@mail.spam.test", "198.51.100.1").await;
    assert_eq!(status, 200, "the block is lifted");
}

/// Waits when a five-minute throttle window is about to end, so that a test's requests fall
/// into one window.
async fn at_the_start_of_a_window() {
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    if now % 300 > 270 {
        tokio::time::sleep(std::time::Duration::from_secs(300 - now % 300 + 1)).await;
    }
}

#[tokio::test]
async fn rate_limits_are_shared_by_web_processes_and_answer_429() {
    let prefix = format!("{}:", crate::common::unique_name("limits"));
    let on = [("FERRODON_RATE_LIMITS", "true"), ("FERRODON_REDIS_PREFIX", prefix.as_str())];
    let first = TestApp::spawn_with(&on).await;
    let second = TestApp::spawn_with(&on).await;
    at_the_start_of_a_window().await;

    // 300 unauthenticated requests per address in five minutes, counted across both processes.
    let probe = |app: &TestApp| {
        let url = format!("{}/api/v1/instance", app.base);
        let client = app.client.clone();
        async move { client.get(url).send().await.unwrap() }
    };
    let res = probe(&first).await;
    assert_eq!(res.headers()["x-ratelimit-limit"], "300");
    assert_eq!(res.headers()["x-ratelimit-remaining"], "299");
    let reset = res.headers()["x-ratelimit-reset"].to_str().unwrap().to_string();
    assert!(chrono::DateTime::parse_from_rfc3339(&reset).is_ok(), "{reset}");
    for i in 1..300 {
        let app = if i % 2 == 0 { &first } else { &second };
        assert_eq!(probe(app).await.status().as_u16(), 200, "request {i}");
    }
    for app in [&first, &second] {
        let refused = probe(app).await;
        assert_eq!(refused.status().as_u16(), 429);
        assert_eq!(refused.headers()["x-ratelimit-remaining"], "0");
        let body: Value = refused.json().await.unwrap();
        assert_eq!(body["error"], "Too many requests");
    }
    // Outside the API nothing is counted.
    assert_eq!(
        first.client.get(format!("{}/.well-known/nodeinfo", first.base)).send().await.unwrap().status().as_u16(),
        200
    );
}

/// `count` user tokens for `username` from one app's password grant.
async fn tokens_of(app: &TestApp, username: &str, count: usize) -> Vec<String> {
    let (id, secret) = app.app("read write").await;
    let mut tokens = Vec::new();
    for _ in 0..count {
        let pairs = [
            ("grant_type", "password"),
            ("client_id", id.as_str()),
            ("client_secret", secret.as_str()),
            ("username", username),
            ("password", "correct horse battery"),
            ("scope", "read write"),
        ];
        let token = app.post_form("/oauth/token", None, &pairs).await.ok();
        tokens.push(token["access_token"].as_str().unwrap().to_string());
    }
    tokens
}

#[tokio::test]
async fn a_user_is_limited_across_tokens_and_paging_has_its_own_limit() {
    let app = TestApp::spawn_with(&[("FERRODON_RATE_LIMITS", "true")]).await;
    at_the_start_of_a_window().await;
    let user = app.register("busy").await;
    let tokens = tokens_of(&app, &format!("{}@example.test", user.username), 7).await;

    // Paging: 300 requests per user in fifteen minutes, whichever token asks.
    for i in 0..300 {
        let res = app.get("/api/v1/timelines/home?max_id=999999999999999999", Some(&tokens[i % 2])).await;
        assert_eq!(res.status.as_u16(), 200, "paging request {i}");
    }
    let refused = app.get("/api/v1/timelines/home?since_id=1", Some(&tokens[2])).await;
    assert_eq!(refused.expect(429)["error"], "Too many requests");
    let first_page = app.get("/api/v1/timelines/home", Some(&tokens[2])).await;
    assert_eq!(first_page.status.as_u16(), 200, "the first page is not paging");

    // Each token: 300 requests in five minutes (this one has made 150 so far).
    let busiest = &tokens[0];
    for i in 150..300 {
        assert_eq!(app.get("/api/v1/accounts/verify_credentials", Some(busiest)).await.status.as_u16(), 200, "{i}");
    }
    let refused = app.get("/api/v1/accounts/verify_credentials", Some(busiest)).await;
    assert_eq!(refused.status.as_u16(), 429);
    assert_eq!(refused.headers["x-ratelimit-limit"], "300");
    assert_eq!(app.get("/api/v1/accounts/verify_credentials", Some(&tokens[3])).await.status.as_u16(), 200);

    // The user: 1,500 requests in five minutes over all their tokens; 455 are made (one at
    // sign-up), refused ones included.
    let mut accepted = 0;
    let refused = loop {
        let res = app.get("/api/v1/accounts/verify_credentials", Some(&tokens[3 + accepted % 4])).await;
        if res.status.as_u16() != 200 {
            break res;
        }
        accepted += 1;
    };
    assert_eq!(accepted, 1500 - 455);
    assert_eq!(refused.status.as_u16(), 429);
    assert_eq!(refused.headers["x-ratelimit-limit"], "1500");
    // Someone else is not affected.
    assert_eq!(app.get("/api/v1/instance", None).await.status.as_u16(), 200);
}

#[tokio::test]
async fn sign_ups_are_limited_to_five_per_address_in_half_an_hour() {
    let app = TestApp::spawn_with(&[("FERRODON_RATE_LIMITS", "true")]).await;
    let app_token = app.app_token("read write").await;
    at_the_start_of_a_window().await;
    let mut answers = Vec::new();
    for i in 0..6 {
        let (status, _) =
            sign_up(&app, &app_token, &format!("newbie{i}"), &format!("newbie{i}@example.test"), "192.0.2.44").await;
        answers.push(status);
    }
    assert_eq!(answers, [200, 200, 200, 200, 200, 429]);
    // Another address may still sign up.
    assert_eq!(sign_up(&app, &app_token, "elsewhere", "elsewhere@example.test", "192.0.2.45").await.0, 200);
}

#[tokio::test]
async fn canonical_email_blocks_catch_an_address_under_any_dots_and_tags() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "ada", "Admin").await;
    let app_token = app.app_token("read write").await;
    let block = app
        .post(
            "/api/v1/admin/canonical_email_blocks",
            Some(&admin),
            serde_json::json!({"email": "Foo.Bar+x@Example.COM"}),
        )
        .await
        .ok();
    assert_eq!(block["canonical_email_hash"], "3bc3ca01dd1d501ca1c22e1c5d7d16feac90b8a3178fb17c710510d8a85e21bf");
    let again = app
        .post(
            "/api/v1/admin/canonical_email_blocks",
            Some(&admin),
            serde_json::json!({"canonical_email_hash": "3bc3ca01dd1d501ca1c22e1c5d7d16feac90b8a3178fb17c710510d8a85e21bf"}),
        )
        .await;
    assert_eq!(again.status.as_u16(), 422);
    let matched = app
        .post(
            "/api/v1/admin/canonical_email_blocks/test",
            Some(&admin),
            serde_json::json!({"email": "foobar+y@example.com"}),
        )
        .await
        .ok();
    assert_eq!(matched[0]["id"], block["id"]);
    let (status, body) = sign_up(&app, &app_token, "sneaky", "f.o.o.bar+new@example.com", "198.51.100.9").await;
    assert_eq!(status, 422, "{body}");
    assert_eq!(body["details"]["email"][0]["error"], "ERR_TAKEN");
    let id = block["id"].as_str().unwrap();
    assert_eq!(app.get("/api/v1/admin/canonical_email_blocks", Some(&admin)).await.ok()[0]["id"], id);
    assert_eq!(
        app.delete(&format!("/api/v1/admin/canonical_email_blocks/{id}"), Some(&admin)).await.ok(),
        serde_json::json!({})
    );
    assert_eq!(sign_up(&app, &app_token, "sneaky", "f.o.o.bar+new@example.com", "198.51.100.9").await.0, 200);
}

#[tokio::test]
async fn ctl_email_domain_blocks_and_ip_blocks() {
    let app = TestApp::spawn().await;
    let app_token = app.app_token("read write").await;
    let (ok, out) = ctl(&app, &["email_domain_blocks", "add", "spam.test", "junk.test"]);
    assert!(ok && out.contains("added spam.test") && out.contains("added junk.test"), "{out}");
    let (ok, out) = ctl(&app, &["email_domain_blocks", "add", "spam.test"]);
    assert!(ok && out.contains("spam.test: Validation failed: Domain has already been taken"), "{out}");
    let (_, listed) = ctl(&app, &["email_domain_blocks", "list"]);
    assert_eq!(listed.lines().collect::<Vec<_>>(), ["junk.test", "spam.test"]);
    assert_eq!(sign_up(&app, &app_token, "spam", "a@spam.test", "198.51.100.2").await.0, 422);
    let (ok, out) = ctl(&app, &["email_domain_blocks", "remove", "spam.test"]);
    assert!(ok, "{out}");
    assert_eq!(sign_up(&app, &app_token, "spam", "a@spam.test", "198.51.100.2").await.0, 200);
    let (ok, out) = ctl(&app, &["email_domain_blocks", "remove", "never.test"]);
    assert!(!ok && out.contains("never.test is not blocked"), "{out}");

    let (ok, out) = ctl(
        &app,
        &["ip_blocks", "add", "203.0.113.0/24", "2001:db8::/32", "--severity", "sign_up_block", "--comment", "bots"],
    );
    assert!(ok, "{out}");
    let (ok, out) = ctl(&app, &["ip_blocks", "add", "203.0.113.9", "--severity", "nonsense"]);
    assert!(!ok && out.contains("unknown severity"), "{out}");
    assert_eq!(sign_up(&app, &app_token, "robot", "robot@example.test", "203.0.113.50").await.0, 403);
    let (_, exported) = ctl(&app, &["ip_blocks", "export", "--format", "nginx"]);
    assert_eq!(exported.lines().collect::<Vec<_>>(), ["deny 203.0.113.0/24;", "deny 2001:db8::/32;"]);
    let (ok, out) = ctl(&app, &["ip_blocks", "remove", "203.0.113.0/24"]);
    assert!(ok, "{out}");
    assert_eq!(sign_up(&app, &app_token, "robot", "robot@example.test", "203.0.113.50").await.0, 200);
    let logged: i64 =
        sqlx::query_scalar("SELECT count(*) FROM admin_action_logs").fetch_one(&app.state.db.primary).await.unwrap();
    assert_eq!(logged, 0, "the command line is not logged, as tootctl is not");
}

#[tokio::test]
async fn ctl_accounts_approve_lets_pending_sign_ups_in() {
    let app = TestApp::spawn().await;
    for name in ["first", "second", "third"] {
        app.register(name).await;
    }
    sqlx::query("UPDATE users SET approved = false").execute(&app.state.db.primary).await.unwrap();
    let pending = || async {
        let names: Vec<String> = sqlx::query_scalar(
            "SELECT a.username FROM users u JOIN accounts a ON a.id = u.account_id WHERE NOT u.approved ORDER BY u.id",
        )
        .fetch_all(&app.state.db.primary)
        .await
        .unwrap();
        names
    };
    let (ok, out) = ctl(&app, &["accounts", "approve", "second"]);
    assert!(ok && out.contains("approved 1"), "{out}");
    assert_eq!(pending().await, ["first", "third"]);
    let (ok, out) = ctl(&app, &["accounts", "approve", "--number", "1"]);
    assert!(ok, "{out}");
    assert_eq!(pending().await, ["third"], "the oldest first");
    let (ok, out) = ctl(&app, &["accounts", "approve"]);
    assert!(!ok && out.contains("give a username, --all or --number N"), "{out}");
    let (ok, out) = ctl(&app, &["accounts", "approve", "--all"]);
    assert!(ok && out.contains("approved 1"), "{out}");
    assert!(pending().await.is_empty());
}

/// A GET of the instance as if from `forwarded_for` behind the local proxy.
async fn instance_from(app: &TestApp, forwarded_for: &str) -> (u16, String) {
    let res = app
        .client
        .get(format!("{}/api/v1/instance", app.base))
        .header("x-forwarded-for", forwarded_for)
        .send()
        .await
        .unwrap();
    (res.status().as_u16(), res.text().await.unwrap())
}

#[tokio::test]
async fn no_access_ip_blocks_refuse_every_request_from_the_range() {
    let app = TestApp::spawn().await;
    let admin = staff(&app, "ada", "Admin").await;
    let block = app
        .post(
            "/api/v1/admin/ip_blocks",
            Some(&admin),
            serde_json::json!({"ip": "198.51.100.0/24", "severity": "no_access"}),
        )
        .await
        .ok();
    assert_eq!(instance_from(&app, "198.51.100.7").await, (403, "Forbidden\n".to_string()));
    let page = app.client.get(format!("{}/@ada", app.base)).header("x-forwarded-for", "198.51.100.7").send().await;
    assert_eq!(page.unwrap().status().as_u16(), 403, "the web pages too");
    assert_eq!(instance_from(&app, "198.51.101.7").await.0, 200);
    // Rails' walk back through X-Forwarded-For: the proxy (trusted) is skipped, the
    // address before it is the client's.
    assert_eq!(instance_from(&app, "198.51.100.7, 127.0.0.1").await.0, 403);
    assert_eq!(instance_from(&app, "198.51.100.7, 203.0.113.5").await.0, 200, "the last untrusted hop counts");

    app.delete(&format!("/api/v1/admin/ip_blocks/{}", block["id"].as_str().unwrap()), Some(&admin)).await.ok();
    assert_eq!(instance_from(&app, "198.51.100.7").await.0, 200);
}

#[tokio::test]
async fn forwarded_addresses_count_only_through_trusted_proxies() {
    // The loopback peer is not a trusted proxy here: its X-Forwarded-For is not believed.
    let app = TestApp::spawn_with(&[("TRUSTED_PROXY_IP", "10.0.0.0/8")]).await;
    sqlx::query("INSERT INTO ip_blocks (ip, severity, comment, created_at, updated_at) VALUES ('198.51.100.0/24', 9999, '', now(), now())")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(instance_from(&app, "198.51.100.7").await.0, 200);
    sqlx::query("INSERT INTO ip_blocks (ip, severity, comment, created_at, updated_at) VALUES ('127.0.0.0/8', 9999, '', now(), now())")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    // Within ten seconds every process reads the blocks again.
    tokio::time::sleep(std::time::Duration::from_secs(11)).await;
    assert_eq!(instance_from(&app, "203.0.113.5").await.0, 403, "the peer itself is the client");
}

#[tokio::test]
async fn accounts_are_limited_in_posts_follows_and_reports() {
    let app = TestApp::spawn().await;
    let busy = app.register("busy").await;
    let other = app.register("other").await;
    let db = &app.state.db.primary;
    let id: i64 = busy.id.parse().unwrap();
    // 299 posts in the last three hours: one more is allowed, then no more.
    sqlx::query(
        "INSERT INTO statuses (id, account_id, text, created_at, updated_at, local, uri)
         SELECT 1000 + n, $1, 'x', now() - interval '1 hour', now(), true, 'https://x/' || n FROM generate_series(1, 299) n",
    )
    .bind(id)
    .execute(db)
    .await
    .unwrap();
    app.post_status(&busy, serde_json::json!({"status": "the 300th"})).await;
    let refused = app.post("/api/v1/statuses", Some(&busy.token), serde_json::json!({"status": "one too many"})).await;
    assert_eq!(refused.expect(429)["error"], "Too many requests");
    // Older posts do not count.
    sqlx::query("UPDATE statuses SET created_at = now() - interval '4 hours' WHERE account_id = $1")
        .bind(id)
        .execute(db)
        .await
        .unwrap();
    app.post_status(&busy, serde_json::json!({"status": "fine again"})).await;

    // 400 hashtag follows today: no more follows of any kind.
    sqlx::query(
        "INSERT INTO tags (name, created_at, updated_at) SELECT 't' || n, now(), now() FROM generate_series(1, 400) n",
    )
    .execute(db)
    .await
    .unwrap();
    sqlx::query(
        "INSERT INTO tag_follows (account_id, tag_id, created_at, updated_at)
         SELECT $1, id, now(), now() FROM tags WHERE name LIKE 't%'",
    )
    .bind(id)
    .execute(db)
    .await
    .unwrap();
    let path = format!("/api/v1/accounts/{}/follow", other.id);
    let follow = app.post(&path, Some(&busy.token), serde_json::json!({})).await;
    assert_eq!(follow.expect(429)["error"], "Too many requests");
    assert_eq!(
        app.post("/api/v1/tags/news/follow", Some(&busy.token), serde_json::json!({})).await.status.as_u16(),
        429
    );

    sqlx::query(
        "INSERT INTO reports (account_id, target_account_id, created_at, updated_at)
         SELECT $1, $2, now(), now() FROM generate_series(1, 400)",
    )
    .bind(id)
    .bind(other.id.parse::<i64>().unwrap())
    .execute(db)
    .await
    .unwrap();
    let report = app.post("/api/v1/reports", Some(&busy.token), serde_json::json!({"account_id": other.id})).await;
    assert_eq!(report.expect(429)["error"], "Too many requests");
}

#[tokio::test]
async fn a_warned_user_is_notified_and_mailed_from_their_own_account() {
    let app = TestApp::spawn().await;
    let moderator = staff(&app, "kim", "Moderator").await;
    let noisy = app.register("noisy").await;
    app.drain_jobs().await;
    let mails_before = std::fs::read_dir(&app.state.config.mail.mail_dir).map_or(0, |d| d.count());
    act_with(&app, &moderator, &noisy.id, serde_json::json!({"type": "none", "text": "Please be nice"})).await;
    app.drain_jobs().await;

    let told = app.get("/api/v1/notifications?types[]=moderation_warning", Some(&noisy.token)).await.ok();
    assert_eq!(told.as_array().unwrap().len(), 1, "{told}");
    let warning = &told[0];
    assert_eq!(warning["account"]["username"], "noisy", "staff stay anonymous");
    assert_eq!(warning["moderation_warning"]["action"], "none");
    assert_eq!(warning["moderation_warning"]["text"], "Please be nice");
    assert_eq!(warning["moderation_warning"]["target_account"]["id"], noisy.id.as_str());
    assert_eq!(warning["moderation_warning"]["appeal"], Value::Null);
    let mails: Vec<String> = std::fs::read_dir(&app.state.config.mail.mail_dir)
        .unwrap()
        .flatten()
        .map(|e| std::fs::read_to_string(e.path()).unwrap())
        .collect();
    assert_eq!(mails.len(), mails_before + 1);
    let mail = mails.iter().find(|m| m.contains("has received a warning")).expect("the warning mail");
    assert!(mail.contains("To: noisy@example.test") && mail.contains("Please be nice"), "{mail}");

    // Without send_email_notification the user is not told.
    act_with(&app, &moderator, &noisy.id, serde_json::json!({"type": "silence", "send_email_notification": false}))
        .await;
    app.drain_jobs().await;
    let told = app.get("/api/v1/notifications?types[]=moderation_warning", Some(&noisy.token)).await.ok();
    assert_eq!(told.as_array().unwrap().len(), 1);
    // A disabled user still gets the news of it.
    act_with(&app, &moderator, &noisy.id, serde_json::json!({"type": "disable"})).await;
    app.drain_jobs().await;
    let kept: i64 = sqlx::query_scalar("SELECT count(*) FROM notifications WHERE type = 'moderation_warning'")
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(kept, 2);
}

async fn act_with(app: &TestApp, moderator: &str, account_id: &str, body: Value) {
    app.post(&format!("/api/v1/admin/accounts/{account_id}/action"), Some(moderator), body).await.ok();
}
