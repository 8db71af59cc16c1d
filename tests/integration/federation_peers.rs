//! Two ferrodon instances federating over loopback HTTP, on different addresses
//! (127.0.0.1 and 127.0.0.2; `ALLOWED_PRIVATE_ADDRESSES` lets them reach each other):
//! resolving a remote account, following it (the Follow, the Accept), its posts arriving in
//! the follower's home feed and stream, replies, boosts, favourites, edits, polls, media,
//! pins, reports, moves, deletes and unfollows propagating; forged, replayed and
//! misattributed deliveries refused; and an instance without the development setting
//! refusing to fetch from loopback.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::{TestApp, User};
use ferrodon::effects::federation::signatures;
use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use serde_json::{Value, json};

/// Instance A listens on 127.0.0.1, instance B on 127.0.0.2: two hosts as far as
/// addresses, domains and signatures go.
async fn peers() -> (TestApp, TestApp) {
    let allow = [("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8")];
    (TestApp::spawn_at("127.0.0.1", &allow).await, TestApp::spawn_at("127.0.0.2", &allow).await)
}

/// Runs both instances' queues until neither has anything left (a delivery on one makes
/// work on the other).
pub(crate) async fn settle(a: &TestApp, b: &TestApp) {
    for _ in 0..6 {
        if a.drain_jobs().await + b.drain_jobs().await == 0 {
            return;
        }
    }
}

pub(crate) async fn resolve(app: &TestApp, user: &User, handle: &str) -> Value {
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

/// `follower` (on `from`) finds `username` on `to` and follows them; both servers settle.
/// Returns the followed account as `from` sees it.
pub(crate) async fn follow_across(from: &TestApp, follower: &User, to: &TestApp, username: &str) -> Value {
    let remote = resolve(from, follower, &format!("{username}@{}", to.state.config.local_domain)).await;
    let path = format!("/api/v1/accounts/{}/follow", remote["id"].as_str().unwrap());
    from.post(&path, Some(&follower.token), json!({})).await.expect(200);
    settle(from, to).await;
    remote
}

/// Two instances where bob (on B) follows alice (on A); also alice as B sees her.
async fn bob_on_b_follows_alice_on_a() -> (TestApp, TestApp, User, User, Value) {
    let (a, b) = peers().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let remote_alice = follow_across(&b, &bob, &a, "alice").await;
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

type Stream = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// A streaming server for `app` on its own address, and `user`'s `user` stream on it.
async fn user_stream(app: &TestApp, user: &User) -> Stream {
    let streaming = ferrodon_streaming::Streaming::connect(&app.state.config).await.unwrap();
    let ip = app.base.trim_start_matches("http://").split(':').next().unwrap().to_string();
    let listener = tokio::net::TcpListener::bind((ip.as_str(), 0)).await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(ferrodon_streaming::serve(streaming, listener));
    let url = format!("ws://{address}/api/v1/streaming?access_token={}&stream=user", user.token);
    tokio_tungstenite::connect_async(url).await.unwrap().0
}

/// The status of the next `update` event (within five seconds).
async fn next_update(stream: &mut Stream) -> Value {
    use futures_util::StreamExt;
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let frame = tokio::time::timeout_at(deadline, stream.next()).await.expect("an update event").unwrap().unwrap();
        if let tokio_tungstenite::tungstenite::Message::Text(text) = frame {
            let event: Value = serde_json::from_str(text.as_str()).unwrap();
            if event["event"] == "update" {
                return serde_json::from_str(event["payload"].as_str().unwrap()).unwrap();
            }
        }
    }
}

fn http_date(offset: chrono::Duration) -> String {
    (chrono::Utc::now() + offset).format("%a, %d %b %Y %H:%M:%S GMT").to_string()
}

#[tokio::test]
async fn follow_post_delete_and_unfollow_across_instances() {
    let (a, b) = peers().await;
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

    // bob's post lands in alice's home feed on A, sanitized and attributed, and in her
    // open stream.
    let mut stream = user_stream(&a, &alice).await;
    let post = b.post_status(&bob, json!({ "status": "hello from B <script>x</script>" })).await;
    settle(&a, &b).await;
    let streamed = next_update(&mut stream).await;
    assert_eq!(streamed["uri"], post["uri"], "{streamed}");
    assert_eq!(streamed["account"]["acct"], format!("bob@{b_domain}"));
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

    // alice replies on A without mentioning bob: B hears of it, as the replied-to server.
    let local_copy = home[0]["id"].as_str().unwrap().to_string();
    let reply = a.post_status(&alice, json!({ "status": "nice one", "in_reply_to_id": local_copy })).await;
    settle(&a, &b).await;
    let context = b.get(&format!("{}/context", on_b_path(&post)), Some(&bob.token)).await.expect(200);
    assert_eq!(context["descendants"][0]["uri"], reply["uri"], "{context}");
    assert_eq!(b.get(&on_b_path(&post), Some(&bob.token)).await.expect(200)["replies_count"], 1);

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
    let (a, b) = peers().await;
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
    // The activity is at its id too.
    let activity_path = format!("/users/alice/statuses/{}/activity", public["id"].as_str().unwrap());
    let activity = fetch(activity_path).await;
    assert_eq!((activity["type"].as_str(), &activity["id"]), (Some("Create"), &items[0]["id"]));
    assert_eq!(activity["object"]["id"], public["uri"]);
    let replies = fetch(format!("/users/alice/statuses/{}/replies?page=true", public["id"].as_str().unwrap())).await;
    assert_eq!(replies["type"], "CollectionPage");
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
    let (a, b) = peers().await;
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
    let b = TestApp::spawn_at("127.0.0.2", &[("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8")]).await;
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
    let (a, b) = peers().await;
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
        sqlx::query_as("SELECT attempts, dead_at IS NULL FROM ferrodon_jobs WHERE payload->>'type' = 'Deliver'")
            .fetch_all(&a.state.db.primary)
            .await
            .unwrap();
    assert_eq!(waiting, vec![(1, true)], "one failed attempt, waiting for its retry");

    b.start_server().await;
    sqlx::query("UPDATE ferrodon_jobs SET run_at = now() WHERE payload->>'type' = 'Deliver'")
        .execute(&a.state.db.primary)
        .await
        .unwrap();
    settle(&a, &b).await;
    let left: i64 = sqlx::query_scalar("SELECT count(*) FROM ferrodon_jobs WHERE payload->>'type' = 'Deliver'")
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
    sqlx::query("UPDATE ferrodon_jobs SET run_at = now() WHERE payload->>'type' = 'Deliver'")
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
    let (a, b) = peers().await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let carol = b.register("carol").await;
    let remote_bob = follow_across(&a, &alice, &b, "bob").await;

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

#[tokio::test]
async fn limited_federation_talks_only_to_allowed_servers() {
    let allow = ("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8");
    let a = TestApp::spawn_at("127.0.0.1", &[allow, ("LIMITED_FEDERATION_MODE", "true")]).await;
    let b = TestApp::spawn_at("127.0.0.2", &[allow]).await;
    let b_host = b.state.config.local_domain.clone();
    let admin = crate::admin::staff(&a, "ada", "Admin").await;
    let carol = a.register("carol").await;
    let bob = b.register("bob").await;
    let instance = a.get("/api/v2/instance", None).await.ok();
    assert_eq!(instance["configuration"]["limited_federation"], true);

    assert!(resolve(&a, &carol, &format!("bob@{b_host}")).await.is_null(), "B is not on the allow list");
    let moderator = crate::admin::staff(&a, "kim", "Moderator").await;
    let refused = a.post("/api/v1/admin/domain_allows", Some(&moderator), json!({"domain": b_host})).await;
    assert_eq!(refused.expect(403)["error"], "This action is not allowed");
    let allowed = a.post("/api/v1/admin/domain_allows", Some(&admin), json!({"domain": b_host})).await.ok();
    assert_eq!(allowed["domain"], b_host);
    let again = a.post("/api/v1/admin/domain_allows", Some(&admin), json!({"domain": b_host})).await.ok();
    assert_eq!(again["id"], allowed["id"], "allowing twice gives the same allow");
    let listed = a.get("/api/v1/admin/domain_allows", Some(&admin)).await.ok();
    assert_eq!(listed.as_array().unwrap().len(), 1);
    let id = allowed["id"].as_str().unwrap();
    assert_eq!(a.get(&format!("/api/v1/admin/domain_allows/{id}"), Some(&admin)).await.ok(), allowed);

    follow_across(&a, &carol, &b, "bob").await;
    b.post_status(&bob, json!({ "status": "hello, allowed friends" })).await;
    settle(&a, &b).await;
    let home = a.get("/api/v1/timelines/home", Some(&carol.token)).await.ok();
    assert_eq!(home[0]["content"], "<p>hello, allowed friends</p>", "{home}");

    a.delete(&format!("/api/v1/admin/domain_allows/{id}"), Some(&admin)).await.ok();
    a.drain_jobs().await;
    let suspended: bool = sqlx::query_scalar("SELECT suspended_at IS NOT NULL FROM accounts WHERE username = 'bob'")
        .fetch_one(&a.state.db.primary)
        .await
        .unwrap();
    assert!(suspended, "an unallowed server's accounts are suspended");
    let log: Vec<String> =
        sqlx::query_scalar("SELECT action FROM admin_action_logs WHERE target_type = 'DomainAllow' ORDER BY id")
            .fetch_all(&a.state.db.primary)
            .await
            .unwrap();
    assert_eq!(log, ["create", "destroy"]);
}

/// Waits for `FetchRemoteMedia` and other `pull` work started by a delivery.
async fn home_of(app: &TestApp, user: &User) -> Value {
    app.get("/api/v1/timelines/home", Some(&user.token)).await.expect(200)
}

#[tokio::test]
async fn polls_media_and_hashtags_travel_with_posts() {
    let (a, b, alice, bob, _) = bob_on_b_follows_alice_on_a().await;
    let carol = a.register("carol").await;

    // alice's poll reaches bob as a poll; bob votes from B; A counts it.
    let poll_post = a
        .post_status(
            &alice,
            json!({ "status": "Which #rust edition?", "poll": { "options": ["2021", "2024"], "expires_in": 600 } }),
        )
        .await;
    settle(&a, &b).await;
    let home = home_of(&b, &bob).await;
    let copy = &home[0];
    assert_eq!(copy["uri"], poll_post["uri"]);
    assert_eq!(
        copy["poll"]["options"],
        json!([{ "title": "2021", "votes_count": 0 }, { "title": "2024", "votes_count": 0 }])
    );
    assert_eq!(copy["tags"][0]["name"], "rust", "hashtags of remote posts are kept: {copy}");
    let remote_poll = copy["poll"]["id"].as_str().unwrap().to_string();
    let voted = b
        .post(&format!("/api/v1/polls/{remote_poll}/votes"), Some(&bob.token), json!({ "choices": [1] }))
        .await
        .expect(200);
    assert_eq!((voted["own_votes"].clone(), voted["options"][1]["votes_count"].as_i64()), (json!([1]), Some(1)));
    settle(&a, &b).await;
    let local_poll = format!("/api/v1/polls/{}", poll_post["poll"]["id"].as_str().unwrap());
    let counted = a.get(&local_poll, Some(&carol.token)).await.expect(200);
    assert_eq!((counted["votes_count"].as_i64(), counted["options"][1]["votes_count"].as_i64()), (Some(1), Some(1)));

    // carol votes on A too; when the poll ends, B gets the final tallies.
    a.post(&format!("{local_poll}/votes"), Some(&carol.token), json!({ "choices": [0] })).await.expect(200);
    let poll_id: i64 = poll_post["poll"]["id"].as_str().unwrap().parse().unwrap();
    a.end_poll(poll_id).await;
    settle(&a, &b).await;
    let final_tally = b.get(&format!("/api/v1/polls/{remote_poll}"), Some(&bob.token)).await.expect(200);
    assert_eq!(final_tally["expired"], true, "{final_tally}");
    assert_eq!(
        (final_tally["options"][0]["votes_count"].as_i64(), final_tally["options"][1]["votes_count"].as_i64()),
        (Some(1), Some(1))
    );
    let notes = b.get("/api/v1/notifications?types[]=poll", Some(&bob.token)).await.expect(200);
    assert_eq!(notes.as_array().map(Vec::len), Some(0), "only local voters of local polls are notified by A");
    let history = b.get(&format!("/api/v1/statuses/{}/history", copy["id"].as_str().unwrap()), Some(&bob.token)).await;
    assert_eq!(history.expect(200).as_array().map(Vec::len), Some(1), "new tallies are not an edit");

    // alice changes her avatar: B is told (Update of her actor) and copies the image.
    let avatar = common::png(64, 64);
    a.multipart(
        reqwest::Method::PATCH,
        "/api/v1/accounts/update_credentials",
        Some(&alice.token),
        &[],
        &[("avatar", "me.png", "image/png", &avatar)],
    )
    .await
    .expect(200);
    settle(&a, &b).await;
    let seen = b.get(&format!("/api/v1/accounts/{}", copy["account"]["id"].as_str().unwrap()), Some(&bob.token)).await;
    let seen = seen.expect(200);
    let avatar_url = seen["avatar"].as_str().unwrap();
    assert!(avatar_url.starts_with(&b.base), "B serves its own copy: {seen}");
    assert_eq!(b.client.get(avatar_url).send().await.unwrap().status().as_u16(), 200);

    // An image posted on A arrives on B: first as A's address, then copied into B's storage.
    let png = common::png(24, 16);
    let media = a
        .multipart(
            reqwest::Method::POST,
            "/api/v2/media",
            Some(&alice.token),
            &[("description", "a small square")],
            &[("file", "square.png", "image/png", &png)],
        )
        .await
        .expect(200);
    a.post_status(&alice, json!({ "status": "look", "media_ids": [media["id"]] })).await;
    a.drain_jobs().await;
    b.drain_jobs().await;
    let arrived = &home_of(&b, &bob).await[0];
    let attachment = &arrived["media_attachments"][0];
    assert_eq!(attachment["description"], "a small square");
    assert_eq!(attachment["type"], "image");
    settle(&a, &b).await;
    let arrived = &home_of(&b, &bob).await[0];
    let attachment = &arrived["media_attachments"][0];
    let url = attachment["url"].as_str().unwrap();
    assert!(url.starts_with(&b.base), "copied to B: {attachment}");
    assert_eq!(attachment["remote_url"], media["url"]);
    assert_eq!(attachment["meta"]["original"]["width"], 24);
    let served = b.client.get(url).send().await.unwrap();
    assert_eq!(served.status().as_u16(), 200);
}

#[tokio::test]
async fn a_thread_found_by_url_brings_its_replies() {
    let (a, b) = peers().await;
    let alice = a.register("alice").await;
    let carol = a.register("carol").await;
    let bob = b.register("bob").await;
    let root = a.post_status(&alice, json!({ "status": "a thread starts" })).await;
    let reply = a.post_status(&carol, json!({ "status": "a reply", "in_reply_to_id": root["id"] })).await;
    a.post_status(&alice, json!({ "status": "hidden reply", "in_reply_to_id": root["id"], "visibility": "private" }))
        .await;
    let found = b
        .get(
            &format!("/api/v2/search?type=statuses&resolve=true&q={}", root["uri"].as_str().unwrap()),
            Some(&bob.token),
        )
        .await
        .expect(200);
    let copy = found["statuses"][0]["id"].as_str().unwrap().to_string();
    settle(&a, &b).await;
    let context = b.get(&format!("/api/v1/statuses/{copy}/context"), Some(&bob.token)).await.expect(200);
    let descendants: Vec<&Value> = context["descendants"].as_array().unwrap().iter().collect();
    assert_eq!(descendants.len(), 1, "the public reply came, the private one did not: {context}");
    assert_eq!(descendants[0]["uri"], reply["uri"]);
}

#[tokio::test]
async fn pins_reports_moves_and_deleted_accounts_cross_over() {
    let (a, b, alice, bob, remote_alice) = bob_on_b_follows_alice_on_a().await;
    let a_domain = a.state.config.local_domain.clone();
    let remote_alice_id = remote_alice["id"].as_str().unwrap().to_string();

    // alice pins a post: B shows it among her pinned posts; unpinning removes it.
    let post = a.post_status(&alice, json!({ "status": "pin me" })).await;
    settle(&a, &b).await;
    a.post(&format!("/api/v1/statuses/{}/pin", post["id"].as_str().unwrap()), Some(&alice.token), json!({}))
        .await
        .expect(200);
    settle(&a, &b).await;
    let pinned_on_b = || async {
        let pinned = b
            .get(&format!("/api/v1/accounts/{remote_alice_id}/statuses?pinned=true"), Some(&bob.token))
            .await
            .expect(200);
        pinned.as_array().unwrap().iter().map(|s| s["uri"].as_str().unwrap().to_string()).collect::<Vec<_>>()
    };
    assert_eq!(pinned_on_b().await, vec![post["uri"].as_str().unwrap().to_string()]);
    a.post(&format!("/api/v1/statuses/{}/unpin", post["id"].as_str().unwrap()), Some(&alice.token), json!({}))
        .await
        .expect(200);
    settle(&a, &b).await;
    assert!(pinned_on_b().await.is_empty());

    // bob reports alice's post and forwards the report: A gets a Flag from B's instance
    // actor (not from bob), with the post.
    let copy = home_of(&b, &bob).await[0]["id"].as_str().unwrap().to_string();
    let report = b
        .post(
            "/api/v1/reports",
            Some(&bob.token),
            json!({ "account_id": remote_alice_id, "status_ids": [copy], "comment": "rude", "forward": true }),
        )
        .await
        .expect(200);
    assert_eq!(report["forwarded"], true);
    settle(&a, &b).await;
    let received = ferrodon::model::reports::about(&a.state.db.primary, alice.id.parse().unwrap()).await.unwrap();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0].comment, "rude");
    assert_eq!(received[0].status_ids, vec![post["id"].as_str().unwrap().parse::<i64>().unwrap()]);
    let reporter: String = sqlx::query_scalar("SELECT uri FROM accounts WHERE id = $1")
        .bind(received[0].account_id)
        .fetch_one(&a.state.db.primary)
        .await
        .unwrap();
    assert_eq!(reporter, format!("{}/actor", b.base));

    // alice moves to alice2 (also on A, naming the old account as an alias): bob, on B,
    // now follows alice2 and no longer alice.
    let alice2 = a.register("alice2").await;
    sqlx::query("UPDATE accounts SET also_known_as = ARRAY[$1] WHERE username = 'alice2'")
        .bind(format!("{}/users/alice", a.base))
        .execute(&a.state.db.primary)
        .await
        .unwrap();
    let key = private_key(&a, "alice").await;
    let actor = format!("{}/users/alice", a.base);
    let movement = json!({
        "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{actor}#moves/1"), "type": "Move",
        "actor": actor, "object": actor, "target": format!("{}/users/alice2", a.base),
    });
    assert_eq!(
        post_inbox(&b, &movement, &format!("{actor}#main-key"), &key, &http_date(chrono::Duration::zero())).await,
        202
    );
    settle(&a, &b).await;
    let following = b.get(&format!("/api/v1/accounts/{}/following", bob.id), Some(&bob.token)).await.expect(200);
    let accts: Vec<&str> = following.as_array().unwrap().iter().filter_map(|f| f["acct"].as_str()).collect();
    assert_eq!(accts, vec![format!("alice2@{a_domain}")], "{following}");
    let followers = a.get(&format!("/api/v1/accounts/{}/followers", alice2.id), Some(&alice2.token)).await.expect(200);
    assert_eq!(followers.as_array().map(Vec::len), Some(1), "the Follow reached A");
    let profile = b.get(&format!("/api/v1/accounts/{remote_alice_id}"), Some(&bob.token)).await.expect(200);
    assert_eq!(profile["moved"]["acct"], format!("alice2@{a_domain}"), "{profile}");

    // A move to an account that does not name the old one is refused.
    let carol = a.register("carol").await;
    let bogus = json!({
        "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{actor}#moves/2"), "type": "Move",
        "actor": actor, "object": actor, "target": format!("{}/users/carol", a.base),
    });
    post_inbox(&b, &bogus, &format!("{actor}#main-key"), &key, &http_date(chrono::Duration::zero())).await;
    settle(&a, &b).await;
    let followers = a.get(&format!("/api/v1/accounts/{}/followers", carol.id), Some(&carol.token)).await.expect(200);
    assert_eq!(followers.as_array().map(Vec::len), Some(0));

    // alice's account is deleted on A: B removes her and what she posted.
    let deletion = json!({
        "@context": "https://www.w3.org/ns/activitystreams", "id": format!("{actor}#delete"), "type": "Delete",
        "actor": actor, "object": actor, "to": ["https://www.w3.org/ns/activitystreams#Public"],
    });
    assert_eq!(
        post_inbox(&b, &deletion, &format!("{actor}#main-key"), &key, &http_date(chrono::Duration::zero())).await,
        202
    );
    settle(&a, &b).await;
    b.get(&format!("/api/v1/accounts/{remote_alice_id}"), Some(&bob.token)).await.expect(404);
    b.get(&format!("/api/v1/statuses/{copy}"), Some(&bob.token)).await.expect(404);
    let home = home_of(&b, &bob).await;
    assert!(home.as_array().unwrap().iter().all(|s| s["account"]["id"] != remote_alice_id.as_str()), "{home}");
}

#[tokio::test]
async fn secure_mode_serves_statuses_only_to_signed_fetches() {
    let allow = [("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8"), ("AUTHORIZED_FETCH", "true")];
    let a = TestApp::spawn_at("127.0.0.1", &allow).await;
    let b = TestApp::spawn_at("127.0.0.2", &[("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8")]).await;
    let alice = a.register("alice").await;
    let bob = b.register("bob").await;
    let post = a.post_status(&alice, json!({ "status": "only for signed fetches" })).await;

    // Unsigned: the status and the collections are refused; the actor (with its key) is not.
    let unsigned = |path: String| {
        let a = &a;
        async move {
            let response = a.client.get(format!("{}{path}", a.base)).header("Accept", "application/activity+json");
            let response = response.send().await.unwrap();
            let status = response.status().as_u16();
            (status, response.json::<Value>().await.unwrap_or(Value::Null))
        }
    };
    let (status, body) = unsigned(format!("/users/alice/statuses/{}", post["id"].as_str().unwrap())).await;
    assert_eq!(status, 401);
    assert!(body["error"].is_string(), "{body}");
    assert_eq!(unsigned("/users/alice/outbox?page=true".into()).await.0, 401);
    assert_eq!(unsigned("/users/alice".into()).await.0, 200);

    // B signs its fetches (as its instance actor), so resolving the status by URL works.
    let q = post["uri"].as_str().unwrap().replace(':', "%3A").replace('/', "%2F");
    let found = b.get(&format!("/api/v2/search?resolve=true&q={q}"), Some(&bob.token)).await.expect(200);
    assert_eq!(found["statuses"][0]["uri"], post["uri"], "{found}");

    // A suspended server's signed fetches are refused too.
    let blocked = a
        .ferrodon_command()
        .args(["ctl", "domains", "block", &b.state.config.local_domain, "--severity", "suspend"])
        .output()
        .unwrap();
    assert!(blocked.status.success());
    let refused = ferrodon::effects::federation::remote::fetch_object(&b.state, post["uri"].as_str().unwrap()).await;
    assert!(refused.is_err(), "{refused:?}");
}

/// `ctl accounts rotate`: alice gets a new key pair, B hears of it by the actor's `Update`
/// (signed with the new key, which B fetches again) and then takes her new signatures.
#[tokio::test]
async fn rotated_keys_reach_the_following_server() {
    let (a, b, alice, bob, remote_alice) = bob_on_b_follows_alice_on_a().await;
    let key_of = |app: &TestApp, sql: &'static str| {
        let db = app.state.db.primary.clone();
        async move { sqlx::query_scalar::<_, String>(sql).fetch_one(&db).await.unwrap() }
    };
    let local_key = "SELECT public_key FROM accounts WHERE username = 'alice' AND domain IS NULL";
    let remote_key = "SELECT public_key FROM accounts WHERE username = 'alice' AND domain IS NOT NULL";
    let before = key_of(&a, local_key).await;
    assert_eq!(key_of(&b, remote_key).await, before);

    let (ok, out) = crate::admin::ctl(&a, &["accounts", "rotate", "alice", "--dry-run"]);
    assert!(ok && out.contains("rotated the keys of 1 accounts (dry run)"), "{out}");
    assert_eq!(key_of(&a, local_key).await, before);
    let (ok, out) = crate::admin::ctl(&a, &["accounts", "rotate", "alice"]);
    assert!(ok && out.contains("accounts: 1/1"), "{out}");
    let after = key_of(&a, local_key).await;
    assert_ne!(after, before);
    settle(&a, &b).await;
    assert_eq!(key_of(&b, remote_key).await, after, "B has the new key");

    // What alice signs with the new key is taken: her next post reaches bob.
    a.post_status(&alice, json!({"status": "signed anew"})).await;
    settle(&a, &b).await;
    let statuses =
        b.get(&format!("/api/v1/accounts/{}/statuses", remote_alice["id"].as_str().unwrap()), Some(&bob.token)).await;
    assert_eq!(statuses.ok()[0]["content"], "<p>signed anew</p>");
    let (ok, out) = crate::admin::ctl(&a, &["accounts", "rotate"]);
    assert!(!ok && out.contains("give a USERNAME or --all"), "{out}");
}

/// `ctl accounts refresh`: B copies a remote avatar again (here, after losing its copy).
#[tokio::test]
async fn refresh_fetches_remote_avatars_again() {
    let (a, b, alice, _bob, _) = bob_on_b_follows_alice_on_a().await;
    let png = common::png(400, 400);
    let files = [("avatar", "me.png", "image/png", png.as_slice())];
    a.multipart(reqwest::Method::PATCH, "/api/v1/accounts/update_credentials", Some(&alice.token), &[], &files)
        .await
        .expect(200);
    settle(&a, &b).await;
    let copy = || async {
        let name: Option<String> =
            sqlx::query_scalar("SELECT avatar_file_name FROM accounts WHERE username = 'alice' AND domain IS NOT NULL")
                .fetch_one(&b.state.db.primary)
                .await
                .unwrap();
        name
    };
    assert!(copy().await.is_some(), "B copied the avatar with the Update");
    sqlx::query("UPDATE accounts SET avatar_file_name = NULL WHERE username = 'alice' AND domain IS NOT NULL")
        .execute(&b.state.db.primary)
        .await
        .unwrap();

    let handle = format!("alice@{}", a.state.config.local_domain);
    let (ok, out) = crate::admin::ctl(&b, &["accounts", "refresh", &handle, "--dry-run"]);
    assert!(ok && out.contains("refreshed 1 accounts (dry run)"), "{out}");
    assert!(copy().await.is_none());
    let (ok, out) = crate::admin::ctl(&b, &["accounts", "refresh", &handle]);
    assert!(ok && out.contains("OK, refreshed 1 accounts"), "{out}");
    assert!(copy().await.is_some(), "fetched again");
    let (ok, out) = crate::admin::ctl(&b, &["accounts", "refresh", "--domain", &a.state.config.local_domain]);
    assert!(ok && out.contains("OK, refreshed 1 accounts"), "{out}");
    let (ok, out) = crate::admin::ctl(&b, &["accounts", "refresh", "nobody@nowhere.example"]);
    assert!(!ok && out.contains("No such account"), "{out}");
    let (ok, out) = crate::admin::ctl(&b, &["accounts", "refresh"]);
    assert!(!ok && out.contains("--domain DOMAIN or --all"), "{out}");
}

/// `ctl accounts cull`: B asks A for the remote accounts it has not seen for a week; the one
/// A says is gone is removed, the one A has is kept (and not asked again for a week), and a
/// server that cannot be reached is listed.
#[tokio::test]
async fn cull_removes_remote_accounts_their_server_says_are_gone() {
    let (a, b, _alice, _bob, _) = bob_on_b_follows_alice_on_a().await;
    let a_base = a.base.clone();
    let a_domain = a.state.config.local_domain.clone();
    for (name, domain, uri) in [
        ("ghost", a_domain.as_str(), format!("{a_base}/users/ghost")),
        ("faraway", "127.0.0.9:9", "http://127.0.0.9:9/users/faraway".to_string()),
    ] {
        sqlx::query(
            "INSERT INTO accounts (username, domain, uri, inbox_url, protocol, created_at, updated_at)
             VALUES ($1, $2, $3, $3 || '/inbox', 1, now(), now())",
        )
        .bind(name)
        .bind(domain)
        .bind(uri)
        .execute(&b.state.db.primary)
        .await
        .unwrap();
    }
    sqlx::query("UPDATE accounts SET updated_at = now() - interval '10 days', last_webfingered_at = NULL WHERE domain IS NOT NULL")
        .execute(&b.state.db.primary)
        .await
        .unwrap();
    let remote = || async {
        let names: Vec<String> =
            sqlx::query_scalar("SELECT username FROM accounts WHERE domain IS NOT NULL ORDER BY username")
                .fetch_all(&b.state.db.primary)
                .await
                .unwrap();
        names
    };

    let (ok, out) = crate::admin::ctl(&b, &["accounts", "cull", "--dry-run", "-c", "1"]);
    assert!(ok && out.contains("Visited 3 accounts, removed 1 (dry run)"), "{out}");
    assert!(out.contains("not available during the check:\n  127.0.0.9:9"), "{out}");
    assert_eq!(remote().await, ["alice", "faraway", "ghost"]);
    let (ok, out) = crate::admin::ctl(&b, &["accounts", "cull", &a_domain]);
    assert!(ok && out.contains("Visited 1 accounts, removed 1"), "alice was seen a moment ago: {out}");
    assert_eq!(remote().await, ["alice", "faraway"]);
}

/// Removing a remote follower, or hiding its whole domain, sends its server a Reject of the
/// Follow, and the follow ends there too.
#[tokio::test]
async fn a_removed_remote_follower_stops_following_on_its_server() {
    let (a, b, alice, bob, remote_alice) = bob_on_b_follows_alice_on_a().await;
    let alice_on_b = remote_alice["id"].as_str().unwrap().to_string();
    let following = || {
        let (b, path, token) = (&b, format!("/api/v1/accounts/relationships?id[]={alice_on_b}"), bob.token.clone());
        async move { b.get(&path, Some(&token)).await.expect(200)[0]["following"].clone() }
    };
    assert_eq!(following().await, true);
    let bob_on_a = resolve(&a, &alice, &format!("bob@{}", b.state.config.local_domain)).await;
    let path = format!("/api/v1/accounts/{}/remove_from_followers", bob_on_a["id"].as_str().unwrap());
    a.post(&path, Some(&alice.token), json!({})).await.expect(200);
    settle(&a, &b).await;
    assert_eq!(following().await, false);

    // Followed again, then alice hides B's whole domain.
    follow_across(&b, &bob, &a, "alice").await;
    assert_eq!(following().await, true);
    let domain = b.state.config.local_domain.clone();
    a.post("/api/v1/domain_blocks", Some(&alice.token), json!({ "domain": domain })).await.expect(200);
    settle(&a, &b).await;
    assert_eq!(following().await, false);
}
