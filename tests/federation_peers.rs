//! Two ferrodon instances federating over loopback HTTP (`ALLOWED_PRIVATE_ADDRESSES` lets
//! them reach each other): resolving a remote account, following it (the Follow, the
//! Accept), its posts arriving in the follower's home feed, deletes and unfollows
//! propagating; forged, replayed and misattributed deliveries refused; and an instance
//! without the development setting refusing to fetch from loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod common;

use common::{TestApp, User};
use ferrodon::federation::signatures;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use serde_json::{Value, json};

async fn peer() -> TestApp {
    TestApp::spawn_with(&[("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8")]).await
}

/// Runs both instances' queues until neither has anything left (a delivery on one makes
/// work on the other).
async fn settle(a: &TestApp, b: &TestApp) {
    for _ in 0..6 {
        if a.drain_jobs().await + b.drain_jobs().await == 0 {
            return;
        }
    }
}

async fn resolve(app: &TestApp, user: &User, handle: &str) -> Value {
    let found = app
        .get(&format!("/api/v2/search?type=accounts&resolve=true&q={}", handle.replace('@', "%40")), Some(&user.token))
        .await
        .expect(200);
    found["accounts"].as_array().unwrap().first().cloned().unwrap_or(Value::Null)
}

async fn private_key(app: &TestApp, username: &str) -> RsaPrivateKey {
    let pem: String = sqlx::query_scalar("SELECT private_key FROM accounts WHERE username = $1 AND domain IS NULL")
        .bind(username)
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    RsaPrivateKey::from_pkcs1_pem(&pem).unwrap()
}

/// POSTs `activity` to `to`'s shared inbox signed with `key` as `key_id`, with `date`.
async fn post_inbox(to: &TestApp, activity: &Value, key_id: &str, key: &RsaPrivateKey, date: &str) -> u16 {
    let body = serde_json::to_vec(activity).unwrap();
    let host = to.base.trim_start_matches("http://").to_string();
    let digest = signatures::digest(&body);
    let signed: Vec<String> = ["(request-target)", "host", "date", "digest"].iter().map(|s| s.to_string()).collect();
    let string = signatures::signing_string("POST", "/inbox", &signed, |name| match name {
        "host" => Some(host.clone()),
        "date" => Some(date.to_string()),
        "digest" => Some(digest.clone()),
        _ => None,
    })
    .unwrap();
    let signature = signatures::header_value(key_id, &signed, &signatures::sign(key, &string));
    let response = to
        .client
        .post(format!("{}/inbox", to.base))
        .header("Date", date)
        .header("Digest", digest)
        .header("Signature", signature)
        .header("Content-Type", "application/activity+json")
        .body(body)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

fn http_date(offset: chrono::Duration) -> String {
    (chrono::Utc::now() + offset).format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[tokio::test]
async fn follow_post_delete_and_unfollow_across_instances() {
    let (a, b) = (peer().await, peer().await);
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let b_domain = b.state.config.local_domain.clone();

    // alice finds bob@B through WebFinger and follows him.
    let remote_bob = resolve(&a, &alice, &format!("@bob@{b_domain}")).await;
    assert_eq!(remote_bob["acct"], format!("bob@{b_domain}"));
    assert_eq!(remote_bob["url"], format!("{}/@bob", b.base));
    assert_eq!(remote_bob["uri"], format!("{}/users/bob", b.base));
    let remote_bob_id = remote_bob["id"].as_str().unwrap().to_string();
    let relationship =
        a.post(&format!("/api/v1/accounts/{remote_bob_id}/follow"), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!((relationship["following"].as_bool(), relationship["requested"].as_bool()), (Some(false), Some(true)));

    // The Follow travels to B, B accepts (bob is not locked), the Accept travels back.
    settle(&a, &b).await;
    let relationship =
        a.get(&format!("/api/v1/accounts/relationships?id[]={remote_bob_id}"), Some(&alice.token)).await.expect(200);
    assert_eq!(relationship[0]["following"], true, "{relationship}");
    let followers = b.get(&format!("/api/v1/accounts/{}/followers", bob.id), Some(&bob.token)).await.expect(200);
    assert_eq!(followers[0]["acct"], format!("alice@{}", a.state.config.local_domain));
    let notifications = b.get("/api/v1/notifications", Some(&bob.token)).await.expect(200);
    assert_eq!(notifications[0]["type"], "follow");

    // bob's post lands in alice's home feed on A, sanitized and attributed.
    let post = b.post_status(&bob, json!({ "status": "hello from B <script>x</script>" })).await;
    settle(&a, &b).await;
    let home = a.get("/api/v1/timelines/home", Some(&alice.token)).await.expect(200);
    assert_eq!(home.as_array().map(Vec::len), Some(1), "{home}");
    assert_eq!(home[0]["account"]["acct"], format!("bob@{b_domain}"));
    assert_eq!(home[0]["uri"], post["uri"]);
    let content = home[0]["content"].as_str().unwrap();
    assert!(content.contains("hello from B") && !content.contains("<script>"), "{content}");

    // A mention of alice reaches her notifications.
    let a_domain = a.state.config.local_domain.clone();
    b.post_status(&bob, json!({ "status": format!("@alice@{a_domain} are you there?") })).await;
    settle(&a, &b).await;
    let notifications = a.get("/api/v1/notifications?types[]=mention", Some(&alice.token)).await.expect(200);
    assert_eq!(notifications.as_array().map(Vec::len), Some(1), "{notifications}");

    // Deleting on B deletes on A.
    b.delete(&format!("/api/v1/statuses/{}", post["id"].as_str().unwrap()), Some(&bob.token)).await.expect(200);
    settle(&a, &b).await;
    let home = a.get("/api/v1/timelines/home", Some(&alice.token)).await.expect(200);
    assert!(home.as_array().unwrap().iter().all(|s| s["uri"] != post["uri"]), "{home}");

    // alice unfollows: B forgets the follow.
    a.post(&format!("/api/v1/accounts/{remote_bob_id}/unfollow"), Some(&alice.token), json!({})).await.expect(200);
    settle(&a, &b).await;
    let followers = b.get(&format!("/api/v1/accounts/{}/followers", bob.id), Some(&bob.token)).await.expect(200);
    assert_eq!(followers.as_array().map(Vec::len), Some(0), "{followers}");
}

#[tokio::test]
async fn forged_replayed_and_misattributed_deliveries_are_refused() {
    let (a, b) = (peer().await, peer().await);
    a.register("alice").await;
    a.register("mallory").await;
    let bob = b.register("bob").await;
    let alice_uri = format!("{}/users/alice", a.base);
    let follow = |actor: &str| {
        json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{actor}#follow-1"), "type": "Follow",
                "actor": actor, "object": format!("{}/users/bob", b.base) })
    };
    let alice_key = private_key(&a, "alice").await;
    let mallory_key = private_key(&a, "mallory").await;
    let now = http_date(chrono::Duration::zero());

    // Signed with mallory's key but claiming to be alice's: the signature does not verify.
    assert_eq!(post_inbox(&b, &follow(&alice_uri), &format!("{alice_uri}#main-key"), &mallory_key, &now).await, 401);
    // mallory's own valid signature, acting for alice: refused.
    let mallory_key_id = format!("{}/users/mallory#main-key", a.base);
    assert_eq!(post_inbox(&b, &follow(&alice_uri), &mallory_key_id, &mallory_key, &now).await, 401);
    // A delivery recorded a day ago and replayed: refused for its date.
    let old = http_date(chrono::Duration::hours(-14));
    assert_eq!(post_inbox(&b, &follow(&alice_uri), &format!("{alice_uri}#main-key"), &alice_key, &old).await, 401);
    // The genuine one is accepted, and works.
    assert_eq!(post_inbox(&b, &follow(&alice_uri), &format!("{alice_uri}#main-key"), &alice_key, &now).await, 202);
    settle(&a, &b).await;
    let followers = b.get(&format!("/api/v1/accounts/{}/followers", bob.id), Some(&bob.token)).await.expect(200);
    assert_eq!(followers.as_array().map(Vec::len), Some(1));

    // No signature at all.
    let unsigned = b.client.post(format!("{}/inbox", b.base)).body("{}").send().await.unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
}

#[tokio::test]
async fn without_the_development_setting_loopback_is_not_fetched() {
    let b = peer().await;
    b.register("bob").await;
    let guarded = TestApp::spawn().await;
    let carol = guarded.register("carol").await;
    let found = resolve(&guarded, &carol, &format!("@bob@{}", b.state.config.local_domain)).await;
    assert!(found.is_null(), "{found}");
    let known: i64 = sqlx::query_scalar("SELECT count(*) FROM accounts WHERE domain IS NOT NULL")
        .fetch_one(&guarded.state.db.primary)
        .await
        .unwrap();
    assert_eq!(known, 0);
    // The client refuses the address itself, before any connection.
    let refused = guarded.state.http.get_json(&format!("{}/users/bob", b.base), "application/activity+json").await;
    assert!(matches!(refused, Err(ferrodon::Error::Forbidden(_))), "{refused:?}");
    let metadata = guarded.state.http.get_json("http://169.254.169.254/latest/meta-data", "application/json").await;
    assert!(matches!(metadata, Err(ferrodon::Error::Forbidden(_))), "{metadata:?}");
}
