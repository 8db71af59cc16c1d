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

/// Two instances where bob (on B) follows alice (on A); also alice as B sees her.
async fn bob_on_b_follows_alice_on_a() -> (TestApp, TestApp, User, User, Value) {
    let (a, b) = (peer().await, peer().await);
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let remote_alice = resolve(&b, &bob, &format!("alice@{}", a.state.config.local_domain)).await;
    b.post(&format!("/api/v1/accounts/{}/follow", remote_alice["id"].as_str().unwrap()), Some(&bob.token), json!({}))
        .await
        .expect(200);
    settle(&a, &b).await;
    (a, b, alice, bob, remote_alice)
}

fn on_b_path(post: &Value) -> String {
    format!("/api/v1/statuses/{}", post["id"].as_str().unwrap())
}

/// The same delivery signed the RFC 9421 way (`Signature-Input`, `Content-Digest`).
async fn post_inbox_rfc9421(to: &TestApp, activity: &Value, key_id: &str, key: &RsaPrivateKey, created: i64) -> u16 {
    use base64::Engine;
    use sha2::Digest;
    let body = serde_json::to_vec(activity).unwrap();
    let digest = format!("sha-256=:{}:", base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(&body)));
    let input = format!(
        r#"sig1=("@method" "@target-uri" "content-digest");created={created};keyid="{key_id}";alg="rsa-v1_5-sha256""#
    );
    let target = format!("{}/inbox", to.base);
    let parsed = signatures::MessageSignature::parse(&input, "sig1=:AAAA:").unwrap();
    let base = parsed
        .base(|name| match name {
            "@method" => Some("POST".into()),
            "@target-uri" => Some(target.clone()),
            "content-digest" => Some(digest.clone()),
            _ => None,
        })
        .unwrap();
    let response = to
        .client
        .post(&target)
        .header("Content-Digest", digest)
        .header("Signature-Input", input)
        .header("Signature", format!("sig1=:{}:", signatures::sign(key, &base)))
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

    // bob edits it: A shows the new text and keeps the history.
    b.put(&on_b_path(&post), Some(&bob.token), json!({ "status": "hello from B, edited" })).await.expect(200);
    settle(&a, &b).await;
    let copy =
        a.get(&format!("/api/v1/statuses/{}", home[0]["id"].as_str().unwrap()), Some(&alice.token)).await.expect(200);
    assert!(copy["content"].as_str().unwrap().contains("hello from B, edited"), "{copy}");
    assert!(copy["edited_at"].is_string());
    let history = a
        .get(&format!("/api/v1/statuses/{}/history", home[0]["id"].as_str().unwrap()), Some(&alice.token))
        .await
        .expect(200);
    assert_eq!(history.as_array().map(Vec::len), Some(2), "{history}");

    // alice favourites and boosts bob's post on A; B counts both and tells bob; then both
    // are taken back.
    let local_copy = home[0]["id"].as_str().unwrap().to_string();
    let on_b = format!("/api/v1/statuses/{}", post["id"].as_str().unwrap());
    a.post(&format!("/api/v1/statuses/{local_copy}/favourite"), Some(&alice.token), json!({})).await.expect(200);
    a.post(&format!("/api/v1/statuses/{local_copy}/reblog"), Some(&alice.token), json!({})).await.expect(200);
    settle(&a, &b).await;
    let counts = || async {
        let counted = b.get(&on_b, Some(&bob.token)).await.expect(200);
        (counted["favourites_count"].as_i64(), counted["reblogs_count"].as_i64())
    };
    assert_eq!(counts().await, (Some(1), Some(1)));
    let kinds = b.get("/api/v1/notifications", Some(&bob.token)).await.expect(200);
    let kinds: Vec<&str> = kinds.as_array().unwrap().iter().filter_map(|n| n["type"].as_str()).collect();
    assert!(kinds.contains(&"favourite") && kinds.contains(&"reblog"), "{kinds:?}");
    a.post(&format!("/api/v1/statuses/{local_copy}/unfavourite"), Some(&alice.token), json!({})).await.expect(200);
    a.post(&format!("/api/v1/statuses/{local_copy}/unreblog"), Some(&alice.token), json!({})).await.expect(200);
    settle(&a, &b).await;
    assert_eq!(counts().await, (Some(0), Some(0)));

    // bob blocks alice: A learns of it and the follow ends on both sides; unblocking lifts it.
    let remote_alice = resolve(&b, &bob, &format!("alice@{a_domain}")).await;
    let remote_alice_id = remote_alice["id"].as_str().unwrap().to_string();
    b.post(&format!("/api/v1/accounts/{remote_alice_id}/block"), Some(&bob.token), json!({})).await.expect(200);
    settle(&a, &b).await;
    let relationship =
        a.get(&format!("/api/v1/accounts/relationships?id[]={remote_bob_id}"), Some(&alice.token)).await.expect(200);
    assert_eq!(
        (relationship[0]["blocked_by"].as_bool(), relationship[0]["following"].as_bool()),
        (Some(true), Some(false))
    );
    b.post(&format!("/api/v1/accounts/{remote_alice_id}/unblock"), Some(&bob.token), json!({})).await.expect(200);
    settle(&a, &b).await;
    let relationship =
        a.get(&format!("/api/v1/accounts/relationships?id[]={remote_bob_id}"), Some(&alice.token)).await.expect(200);
    assert_eq!(relationship[0]["blocked_by"], false);
    a.post(&format!("/api/v1/accounts/{remote_bob_id}/follow"), Some(&alice.token), json!({})).await.expect(200);
    settle(&a, &b).await;

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
async fn statuses_and_accounts_resolve_by_url() {
    let (a, b) = (peer().await, peer().await);
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let public = a.post_status(&alice, json!({ "status": "fetch me" })).await;
    let private = a.post_status(&alice, json!({ "status": "not for you", "visibility": "private" })).await;

    let search = |q: String| {
        let (b, token) = (&b, bob.token.clone());
        async move {
            let q = q.replace(':', "%3A").replace('/', "%2F");
            b.get(&format!("/api/v2/search?resolve=true&q={q}"), Some(&token)).await.expect(200)
        }
    };
    let found = search(public["uri"].as_str().unwrap().to_string()).await;
    assert_eq!(found["statuses"][0]["uri"], public["uri"], "{found}");
    assert_eq!(found["statuses"][0]["account"]["acct"], format!("alice@{}", a.state.config.local_domain));
    assert!(found["statuses"][0]["content"].as_str().unwrap().contains("fetch me"));
    let hidden = search(private["uri"].as_str().unwrap().to_string()).await;
    assert_eq!(hidden["statuses"].as_array().map(Vec::len), Some(0), "private statuses are not served: {hidden}");
    let account = search(format!("{}/users/alice", a.base)).await;
    assert_eq!(account["accounts"][0]["acct"], format!("alice@{}", a.state.config.local_domain));

    // The collections the actor names are documents too.
    let fetch = |path: String| {
        let a = &a;
        async move {
            let response = a
                .client
                .get(format!("{}{path}", a.base))
                .header("Accept", "application/activity+json")
                .send()
                .await
                .unwrap();
            assert_eq!(response.status(), 200, "{path}");
            response.json::<Value>().await.unwrap()
        }
    };
    let outbox = fetch("/users/alice/outbox".into()).await;
    assert_eq!((outbox["type"].as_str(), outbox["totalItems"].as_i64()), (Some("OrderedCollection"), Some(2)));
    let page = fetch("/users/alice/outbox?page=true".into()).await;
    let items = page["orderedItems"].as_array().unwrap();
    assert_eq!(items.len(), 1, "only the public post: {page}");
    assert_eq!(items[0]["object"]["id"], public["uri"]);
    a.post(&format!("/api/v1/statuses/{}/pin", public["id"].as_str().unwrap()), Some(&alice.token), json!({}))
        .await
        .expect(200);
    let featured = fetch("/users/alice/collections/featured".into()).await;
    assert_eq!(featured["orderedItems"][0]["id"], public["uri"]);
    let followers = fetch("/users/alice/followers".into()).await;
    assert_eq!(followers["totalItems"], 0);
    let page = fetch("/users/alice/following?page=1".into()).await;
    assert_eq!(page["orderedItems"], json!([]));
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

    // RFC 9421 signatures are accepted too; a stale or forged one is not.
    let undo = json!({ "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{alice_uri}#undo-1"),
                       "type": "Undo", "actor": alice_uri, "object": follow(&alice_uri) });
    let alice_key_id = format!("{alice_uri}#main-key");
    let now = chrono::Utc::now().timestamp();
    assert_eq!(post_inbox_rfc9421(&b, &undo, &alice_key_id, &mallory_key, now).await, 401);
    assert_eq!(post_inbox_rfc9421(&b, &undo, &alice_key_id, &alice_key, now - 14 * 3600).await, 401);
    assert_eq!(post_inbox_rfc9421(&b, &undo, &alice_key_id, &alice_key, now).await, 202);
    settle(&a, &b).await;
    let followers = b.get(&format!("/api/v1/accounts/{}/followers", bob.id), Some(&bob.token)).await.expect(200);
    assert_eq!(followers.as_array().map(Vec::len), Some(0), "the Undo signed the RFC 9421 way took effect");
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

#[tokio::test]
async fn a_locked_account_approves_a_remote_follower() {
    let (a, b) = (peer().await, peer().await);
    let alice = a.register("alice").await;
    let carol = b.register("carol").await;
    b.patch("/api/v1/accounts/update_credentials", Some(&carol.token), json!({ "locked": true })).await.expect(200);
    let remote_carol = resolve(&a, &alice, &format!("carol@{}", b.state.config.local_domain)).await;
    assert_eq!(remote_carol["locked"], true);
    let carol_id = remote_carol["id"].as_str().unwrap().to_string();
    a.post(&format!("/api/v1/accounts/{carol_id}/follow"), Some(&alice.token), json!({})).await.expect(200);
    settle(&a, &b).await;

    // Still a request on both sides until carol decides.
    let requests = b.get("/api/v1/follow_requests", Some(&carol.token)).await.expect(200);
    assert_eq!(requests[0]["acct"], format!("alice@{}", a.state.config.local_domain));
    let relationship =
        a.get(&format!("/api/v1/accounts/relationships?id[]={carol_id}"), Some(&alice.token)).await.expect(200);
    assert_eq!(
        (relationship[0]["following"].as_bool(), relationship[0]["requested"].as_bool()),
        (Some(false), Some(true))
    );

    let requester = requests[0]["id"].as_str().unwrap();
    b.post(&format!("/api/v1/follow_requests/{requester}/authorize"), Some(&carol.token), json!({})).await.expect(200);
    settle(&a, &b).await;
    let relationship =
        a.get(&format!("/api/v1/accounts/relationships?id[]={carol_id}"), Some(&alice.token)).await.expect(200);
    assert_eq!(relationship[0]["following"], true, "{relationship}");

    // carol's followers-only post reaches alice now.
    b.post_status(&carol, json!({ "status": "for my followers", "visibility": "private" })).await;
    settle(&a, &b).await;
    let home = a.get("/api/v1/timelines/home", Some(&alice.token)).await.expect(200);
    assert_eq!(home[0]["visibility"], "private", "{home}");
    assert_eq!(home[0]["account"]["acct"], format!("carol@{}", b.state.config.local_domain));
}

#[tokio::test]
async fn deliveries_to_a_server_that_is_down_are_retried_until_it_is_back() {
    let (a, mut b, alice, bob, _) = bob_on_b_follows_alice_on_a().await;

    b.stop_server().await;
    a.post_status(&alice, json!({ "status": "are you there, B?" })).await;
    a.drain_jobs().await;
    let waiting: Vec<(i32, bool)> =
        sqlx::query_as("SELECT attempts, dead_at IS NULL FROM ferrodon_jobs WHERE kind = 'Deliver'")
            .fetch_all(&a.state.db.primary)
            .await
            .unwrap();
    assert_eq!(waiting, vec![(1, true)], "one failed attempt, waiting for its retry");

    b.start_server().await;
    sqlx::query("UPDATE ferrodon_jobs SET run_at = now() WHERE kind = 'Deliver'")
        .execute(&a.state.db.primary)
        .await
        .unwrap();
    settle(&a, &b).await;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM ferrodon_jobs WHERE kind = 'Deliver'")
        .fetch_one(&a.state.db.primary)
        .await
        .unwrap();
    assert_eq!(left, 0);
    let home = b.get("/api/v1/timelines/home", Some(&bob.token)).await.expect(200);
    assert_eq!(home[0]["content"], "<p>are you there, B?</p>", "{home}");
}

#[tokio::test]
async fn a_server_failing_for_seven_days_is_skipped_until_it_is_heard_from() {
    let (a, mut b, alice, bob, remote_alice) = bob_on_b_follows_alice_on_a().await;
    let b_host = b.state.config.local_domain.clone();

    // Six earlier days of failures are on record; today's makes seven.
    let days = a.state.redis.key(format!("exhausted_deliveries:{b_host}"));
    let mut redis = a.state.redis.conn().await.unwrap();
    for day in 1..=6 {
        let _: () = redis::AsyncCommands::sadd(&mut redis, &days, format!("2026010{day}")).await.unwrap();
    }
    b.stop_server().await;
    a.post_status(&alice, json!({ "status": "first" })).await;
    a.drain_jobs().await;
    let unavailable: i64 = sqlx::query_scalar("SELECT count(*) FROM unavailable_domains WHERE domain = $1")
        .bind(&b_host)
        .fetch_one(&a.state.db.primary)
        .await
        .unwrap();
    assert_eq!(unavailable, 1);

    // While unavailable, deliveries are dropped without trying.
    b.start_server().await;
    sqlx::query("UPDATE ferrodon_jobs SET run_at = now() WHERE kind = 'Deliver'")
        .execute(&a.state.db.primary)
        .await
        .unwrap();
    a.post_status(&alice, json!({ "status": "second" })).await;
    a.drain_jobs().await;
    b.drain_jobs().await;
    let home = b.get("/api/v1/timelines/home", Some(&bob.token)).await.expect(200);
    assert_eq!(home.as_array().map(Vec::len), Some(0), "{home}");

    // B posts to A's inbox: A hears from it and delivers again.
    let remote_alice_id = remote_alice["id"].as_str().unwrap().to_string();
    b.post(&format!("/api/v1/accounts/{remote_alice_id}/unfollow"), Some(&bob.token), json!({})).await.expect(200);
    b.post(&format!("/api/v1/accounts/{remote_alice_id}/follow"), Some(&bob.token), json!({})).await.expect(200);
    settle(&a, &b).await;
    let unavailable: i64 =
        sqlx::query_scalar("SELECT count(*) FROM unavailable_domains").fetch_one(&a.state.db.primary).await.unwrap();
    assert_eq!(unavailable, 0);
    a.post_status(&alice, json!({ "status": "third" })).await;
    settle(&a, &b).await;
    let home = b.get("/api/v1/timelines/home", Some(&bob.token)).await.expect(200);
    assert_eq!(home[0]["content"], "<p>third</p>", "{home}");
}

#[tokio::test]
async fn a_reply_to_an_unknown_post_brings_its_parent() {
    let (a, b) = (peer().await, peer().await);
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let carol = b.register("carol").await;
    let remote_bob = resolve(&a, &alice, &format!("bob@{}", b.state.config.local_domain)).await;
    a.post(&format!("/api/v1/accounts/{}/follow", remote_bob["id"].as_str().unwrap()), Some(&alice.token), json!({}))
        .await
        .expect(200);
    settle(&a, &b).await;

    // carol (whom nobody on A follows) posts; bob replies; only the reply is sent to A.
    let question = b.post_status(&carol, json!({ "status": "anyone on A?" })).await;
    b.post_status(&bob, json!({ "status": "yes, alice is", "in_reply_to_id": question["id"] })).await;
    settle(&a, &b).await;
    // (Not in alice's home: a reply to someone she does not follow is filtered, as in Mastodon.)
    let posts = a
        .get(&format!("/api/v1/accounts/{}/statuses", remote_bob["id"].as_str().unwrap()), Some(&alice.token))
        .await
        .expect(200);
    let reply =
        posts.as_array().unwrap().iter().find(|s| s["content"].as_str().is_some_and(|c| c.contains("alice is")));
    let reply = reply.unwrap_or_else(|| panic!("{posts}"));
    assert!(reply["in_reply_to_account_id"].is_string(), "{reply}");
    let context = a
        .get(&format!("/api/v1/statuses/{}/context", reply["id"].as_str().unwrap()), Some(&alice.token))
        .await
        .expect(200);
    assert_eq!(context["ancestors"][0]["uri"], question["uri"], "{context}");
    assert_eq!(context["ancestors"][0]["account"]["acct"], format!("carol@{}", b.state.config.local_domain));
}

#[tokio::test]
async fn a_suspended_server_is_cut_off_until_unblocked() {
    let (a, b, alice, bob, _) = bob_on_b_follows_alice_on_a().await;
    let b_host = b.state.config.local_domain.clone();
    let ctl = |args: &[&str]| {
        let out = a.ferrodon_command().args(["ctl", "domains"]).args(args).output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let out = ctl(&["block", &b_host, "--severity", "suspend"]);
    assert!(out.contains("1 known accounts affected"), "{out}");
    assert!(ctl(&["list"]).contains(&format!("{b_host}\tsuspend")));

    // Nothing goes to B, nothing from B is taken, and B's accounts cannot be looked up.
    a.post_status(&alice, json!({ "status": "not for B" })).await;
    settle(&a, &b).await;
    assert_eq!(b.get("/api/v1/timelines/home", Some(&bob.token)).await.expect(200), json!([]));
    b.post_status(&bob, json!({ "status": format!("@alice@{} hello?", a.state.config.local_domain) })).await;
    settle(&a, &b).await;
    assert_eq!(
        a.get("/api/v1/notifications", Some(&alice.token)).await.expect(200),
        json!([]),
        "bob's follow is hidden too"
    );
    assert!(resolve(&a, &alice, &format!("carol@{b_host}")).await.is_null());

    ctl(&["unblock", &b_host]);
    a.post_status(&alice, json!({ "status": "welcome back, B" })).await;
    settle(&a, &b).await;
    let home = b.get("/api/v1/timelines/home", Some(&bob.token)).await.expect(200);
    assert_eq!(home[0]["content"], "<p>welcome back, B</p>", "{home}");
}
