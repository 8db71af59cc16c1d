//! The streaming server over real sockets: a WebSocket client (tokio-tungstenite) and an
//! SSE client (reqwest), against the web API of the same instance.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::{TestApp, User};
use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

type Ws = WebSocketStream<MaybeTlsStream<TcpStream>>;

/// Starts a streaming server for `app` on a loopback port; returns its base URL.
async fn start_streaming(app: &TestApp) -> String {
    let streaming = ferrodon_streaming::Streaming::connect(&app.state.config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(ferrodon_streaming::serve(streaming, listener));
    format!("127.0.0.1:{port}")
}

async fn connect(host: &str, query: &str) -> Ws {
    let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{host}/api/v1/streaming?{query}")).await.unwrap();
    ws
}

async fn connect_user(host: &str, user: &User, stream: &str) -> Ws {
    connect(host, &format!("access_token={}&stream={stream}", user.token)).await
}

/// The next event frame, parsed, or None within the timeout.
async fn next_event(ws: &mut Ws, timeout: Duration) -> Option<Value> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let frame = tokio::time::timeout_at(deadline, ws.next()).await.ok()??.ok()?;
        if let Message::Text(text) = frame {
            return serde_json::from_str(text.as_str()).ok();
        }
    }
}

async fn expect_event(ws: &mut Ws, event: &str) -> Value {
    let frame = next_event(ws, Duration::from_secs(5)).await.unwrap_or_else(|| panic!("no {event} event arrived"));
    assert_eq!(frame["event"], event, "{frame}");
    assert!(frame["payload"].is_string(), "payload is a JSON string: {frame}");
    frame
}

/// Whether the server closes the socket within `timeout`.
async fn closes_within(ws: &mut Ws, timeout: Duration) -> bool {
    tokio::time::timeout(timeout, async {
        loop {
            match ws.next().await {
                None | Some(Err(_)) | Some(Ok(Message::Close(_))) => return,
                _ => continue,
            }
        }
    })
    .await
    .is_ok()
}

fn payload(frame: &Value) -> Value {
    serde_json::from_str(frame["payload"].as_str().unwrap()).unwrap_or_else(|_| frame["payload"].clone())
}

#[tokio::test]
async fn user_stream_gets_updates_deletes_and_notifications() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&bob, &alice).await;

    let mut ws = connect_user(&host, &bob, "user").await;
    let status = app.post_status(&alice, json!({ "status": "streamed hello" })).await;
    app.drain_jobs().await;
    let frame = expect_event(&mut ws, "update").await;
    assert_eq!(frame["stream"], json!(["user"]));
    let update = payload(&frame);
    assert_eq!(update["id"], status["id"]);
    assert_eq!(update["favourited"], false, "per-viewer fields are present");

    let id = status["id"].as_str().unwrap();
    app.delete(&format!("/api/v1/statuses/{id}"), Some(&alice.token)).await.ok();
    app.drain_jobs().await;
    let frame = expect_event(&mut ws, "delete").await;
    assert_eq!(frame["payload"], id);

    let charlie = app.register("charlie").await;
    app.post_status(&charlie, json!({ "status": "hey @bob" })).await;
    app.drain_jobs().await;
    let frame = expect_event(&mut ws, "notification").await;
    let notification = payload(&frame);
    assert_eq!(notification["type"], "mention");
    assert_eq!(notification["account"]["username"], "charlie");
}

#[tokio::test]
async fn subscribe_and_unsubscribe_multiplexing() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut ws = connect(&host, &format!("access_token={}", bob.token)).await;
    for sub in [
        json!({"type": "subscribe", "stream": "public"}),
        json!({"type": "subscribe", "stream": "hashtag", "tag": "Rust"}),
    ] {
        ws.send(Message::text(sub.to_string())).await.unwrap();
    }
    // A bad subscription gets an error frame and leaves the others alone.
    ws.send(Message::text(json!({"type": "subscribe", "stream": "nonsense"}).to_string())).await.unwrap();
    let error = next_event(&mut ws, Duration::from_secs(5)).await.unwrap();
    assert_eq!(error["status"], 400, "{error}");
    assert!(error["error"].is_string());

    app.post_status(&alice, json!({ "status": "about #rust" })).await;
    app.drain_jobs().await;
    let mut streams = vec![];
    for _ in 0..2 {
        let frame = expect_event(&mut ws, "update").await;
        streams.push(frame["stream"].clone());
    }
    streams.sort_by_key(|s| s.to_string());
    assert_eq!(streams, vec![json!(["hashtag", "Rust"]), json!(["public"])]);

    ws.send(Message::text(json!({"type": "unsubscribe", "stream": "public"}).to_string())).await.unwrap();
    ws.send(Message::text(json!({"type": "unsubscribe", "stream": "hashtag", "tag": "Rust"}).to_string()))
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.post_status(&alice, json!({ "status": "again #rust" })).await;
    app.drain_jobs().await;
    assert!(next_event(&mut ws, Duration::from_millis(800)).await.is_none(), "nothing after unsubscribing");
}

#[tokio::test]
async fn unauthorized_and_wrong_scope_connections_are_refused() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    let err = tokio_tungstenite::connect_async(format!("ws://{host}/api/v1/streaming?stream=user")).await.err();
    assert!(matches!(err, Some(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 401), "{err:?}");
    let err = tokio_tungstenite::connect_async(format!("ws://{host}/api/v1/streaming?stream=user&access_token=nope"))
        .await
        .err();
    assert!(matches!(err, Some(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 401), "{err:?}");

    // A write-only token may not read streams.
    let bob = app.register("bob").await;
    let (write_only, _) = app.password_token("bob", "write").await;
    let err =
        tokio_tungstenite::connect_async(format!("ws://{host}/api/v1/streaming?stream=user&access_token={write_only}"))
            .await
            .err();
    assert!(matches!(err, Some(tokio_tungstenite::tungstenite::Error::Http(ref r)) if r.status() == 401), "{err:?}");

    // SSE too.
    let client = reqwest::Client::new();
    let res = client.get(format!("http://{host}/api/v1/streaming/user")).send().await.unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"].is_string());
    let res = client.get(format!("http://{host}/api/v1/streaming/user")).bearer_auth(&bob.token).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let res = client
        .get(format!("http://{host}/api/v1/streaming/list?list=999"))
        .bearer_auth(&bob.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
}

#[tokio::test]
async fn token_in_websocket_protocol_header_is_echoed() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    let bob = app.register("bob").await;
    let mut request = format!("ws://{host}/api/v1/streaming?stream=user").into_client_request().unwrap();
    request.headers_mut().insert("Sec-WebSocket-Protocol", bob.token.parse().unwrap());
    let (_ws, response) = tokio_tungstenite::connect_async(request).await.unwrap();
    assert_eq!(response.headers().get("sec-websocket-protocol").unwrap().to_str().unwrap(), bob.token);
}

#[tokio::test]
async fn server_sent_events_deliver_updates() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&bob, &alice).await;
    let res = reqwest::Client::new()
        .get(format!("http://{host}/api/v1/streaming/user"))
        .bearer_auth(&bob.token)
        .send()
        .await
        .unwrap();
    assert_eq!(res.headers()["content-type"], "text/event-stream");
    let mut body = res.bytes_stream();
    let first = tokio::time::timeout(Duration::from_secs(5), body.next()).await.unwrap().unwrap().unwrap();
    assert_eq!(&first[..], b":)\n");
    let status = app.post_status(&alice, json!({ "status": "over SSE" })).await;
    app.drain_jobs().await;
    let mut text = String::new();
    while !text.contains("\n\n") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), body.next()).await.unwrap().unwrap().unwrap();
        text.push_str(std::str::from_utf8(&chunk).unwrap());
    }
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("event: update"));
    let data: Value = serde_json::from_str(lines.next().unwrap().strip_prefix("data: ").unwrap()).unwrap();
    assert_eq!(data["id"], status["id"]);
}

#[tokio::test]
async fn blocks_hide_events_on_public_streams() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let charlie = app.register("charlie").await;
    app.post(&format!("/api/v1/accounts/{}/block", alice.id), Some(&bob.token), json!({})).await.ok();
    app.drain_jobs().await;
    let mut bob_ws = connect_user(&host, &bob, "public").await;
    let mut charlie_ws = connect_user(&host, &charlie, "public").await;
    let status = app.post_status(&alice, json!({ "status": "public words" })).await;
    app.drain_jobs().await;
    let frame = expect_event(&mut charlie_ws, "update").await;
    assert_eq!(payload(&frame)["id"], status["id"]);
    assert!(next_event(&mut bob_ws, Duration::from_millis(800)).await.is_none(), "the blocked author's post is hidden");

    // The author blocking the viewer hides it as well.
    app.post(&format!("/api/v1/accounts/{}/block", charlie.id), Some(&alice.token), json!({})).await.ok();
    app.post_status(&alice, json!({ "status": "more public words" })).await;
    app.drain_jobs().await;
    assert!(next_event(&mut charlie_ws, Duration::from_millis(800)).await.is_none());
}

#[tokio::test]
async fn private_statuses_never_reach_public_streams() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut ws = connect_user(&host, &bob, "public").await;
    app.post_status(&alice, json!({ "status": "followers only", "visibility": "private" })).await;
    app.post_status(&alice, json!({ "status": "unlisted", "visibility": "unlisted" })).await;
    app.post_status(&alice, json!({ "status": "@bob direct", "visibility": "direct" })).await;
    app.drain_jobs().await;
    assert!(next_event(&mut ws, Duration::from_millis(800)).await.is_none());
}

/// The status of a refused WebSocket handshake.
async fn refused_with(host: &str, token: &str) -> Option<u16> {
    match tokio_tungstenite::connect_async(format!("ws://{host}/api/v1/streaming?stream=user&access_token={token}"))
        .await
    {
        Err(tokio_tungstenite::tungstenite::Error::Http(response)) => Some(response.status().as_u16()),
        _ => None,
    }
}

#[tokio::test]
async fn expired_and_revoked_tokens_are_refused_at_connect() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    app.register("bob").await;
    let (expired, _) = app.password_token("bob", "read").await;
    sqlx::query(
        "UPDATE oauth_access_tokens SET expires_in = 60, created_at = now() AT TIME ZONE 'UTC' - interval '2 minutes'
          WHERE token = $1",
    )
    .bind(&expired)
    .execute(&app.state.db.primary)
    .await
    .unwrap();
    assert_eq!(refused_with(&host, &expired).await, Some(401), "an expired token");
    let sse = reqwest::Client::new().get(format!("http://{host}/api/v1/streaming/user")).bearer_auth(&expired);
    assert_eq!(sse.send().await.unwrap().status(), 401);

    let (revoked, (id, secret)) = app.password_token("bob", "read").await;
    assert_eq!(refused_with(&host, &revoked).await, None, "a live token connects");
    app.post_form("/oauth/revoke", None, &[("client_id", &id), ("client_secret", &secret), ("token", &revoked)])
        .await
        .ok();
    assert_eq!(refused_with(&host, &revoked).await, Some(401), "a revoked token, before any job ran");
}

#[tokio::test]
async fn revoked_token_closes_the_stream() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    app.register("bob").await;
    let (token, (id, secret)) = app.password_token("bob", "read").await;
    let mut ws = connect(&host, &format!("access_token={token}&stream=user")).await;
    app.post_form("/oauth/revoke", None, &[("client_id", &id), ("client_secret", &secret), ("token", &token)])
        .await
        .ok();
    app.drain_jobs().await;
    assert!(closes_within(&mut ws, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn many_clients_receive_one_post() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let mut clients = Vec::new();
    for _ in 0..200 {
        clients.push(connect_user(&host, &bob, "public:local").await);
    }
    let status = app.post_status(&alice, json!({ "status": "to everyone" })).await;
    app.drain_jobs().await;
    for ws in clients.iter_mut() {
        let frame = expect_event(ws, "update").await;
        assert_eq!(payload(&frame)["id"], status["id"]);
    }
}

#[tokio::test]
async fn health_check() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    let res = reqwest::get(format!("http://{host}/api/v1/streaming/health")).await.unwrap();
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await.unwrap(), "OK");
}

/// Publishes a raw message on a channel, as the publishers of other features do.
async fn publish_raw(app: &TestApp, channel: &str, message: Value) {
    let mut conn = app.state.redis.conn().await.unwrap();
    let _: i64 = redis::cmd("PUBLISH")
        .arg(app.state.redis.key(channel))
        .arg(message.to_string())
        .query_async(&mut conn)
        .await
        .unwrap();
}

#[tokio::test]
async fn every_event_type_is_forwarded_and_payloadless_ones_dropped() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    let bob = app.register("bob").await;
    let mut user = connect_user(&host, &bob, "user").await;
    let mut direct = connect_user(&host, &bob, "direct").await;
    let id = &bob.id;
    publish_raw(
        &app,
        &format!("timeline:direct:{id}"),
        json!({ "event": "conversation", "payload": { "id": "1", "unread": true } }),
    )
    .await;
    let frame = expect_event(&mut direct, "conversation").await;
    assert_eq!(frame["stream"], json!(["direct"]));
    assert_eq!(payload(&frame)["unread"], true);
    // Mastodon drops messages without a payload (filters_changed is published that way).
    publish_raw(&app, &format!("timeline:{id}"), json!({ "event": "filters_changed" })).await;
    publish_raw(&app, &format!("timeline:{id}"), json!({ "event": "announcement", "payload": { "id": "7" } })).await;
    let frame = expect_event(&mut user, "announcement").await;
    assert_eq!(payload(&frame)["id"], "7");
    publish_raw(&app, &format!("timeline:{id}"), json!({ "event": "announcement.delete", "payload": "7" })).await;
    let frame = expect_event(&mut user, "announcement.delete").await;
    assert_eq!(frame["payload"], "7");
    publish_raw(
        &app,
        &format!("timeline:{id}:notifications"),
        json!({ "event": "notifications_merged", "payload": "1" }),
    )
    .await;
    expect_event(&mut user, "notifications_merged").await;
    // A suspended account's streams are killed on its system channel.
    publish_raw(&app, &format!("timeline:system:{id}"), json!({ "event": "kill" })).await;
    assert!(closes_within(&mut user, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn a_client_that_falls_behind_is_dropped_without_holding_up_others() {
    use ferrodon_streaming::hub::{Client, Hub, Outgoing};
    use std::sync::Arc;
    let app = TestApp::spawn().await;
    let hub =
        Hub::start(&app.state.config.redis_url, app.state.redis.clone(), app.state.db.primary.clone()).await.unwrap();
    let viewer = ferrodon_streaming::streams::Viewer {
        token_id: 1,
        account_id: 1,
        scopes: ferrodon::model::oauth::Scopes::from_stored("read"),
        chosen_languages: None,
    };
    let make = |capacity: usize| {
        let (tx, rx) = tokio::sync::mpsc::channel::<Outgoing>(capacity);
        let client = Client {
            id: hub.next_client_id(),
            viewer: Arc::new(viewer.clone()),
            tx,
            dropped: Arc::new(tokio::sync::Notify::new()),
        };
        (client, rx)
    };
    let (slow, _slow_rx) = make(2); // never read
    let (fast, mut fast_rx) = make(64);
    for client in [&slow, &fast] {
        hub.subscribe(client, vec!["user".into()], &["timeline:1".to_string()], false, false).await.unwrap();
    }
    let dropped = slow.dropped.clone();
    let notified = tokio::spawn(async move { dropped.notified().await });
    for n in 0..10 {
        publish_raw(&app, "timeline:1", json!({ "event": "update", "payload": { "id": n.to_string() } })).await;
    }
    tokio::time::timeout(Duration::from_secs(5), notified).await.expect("the slow client is told to go").unwrap();
    for _ in 0..10 {
        let out = tokio::time::timeout(Duration::from_secs(5), fast_rx.recv()).await.unwrap().unwrap();
        assert!(matches!(out, Outgoing::Event { .. }));
    }
}

#[tokio::test]
async fn list_streams_get_their_members_posts() {
    let app = TestApp::spawn().await;
    let host = start_streaming(&app).await;
    let owner = app.register("owner").await;
    let alice = app.register("alice").await;
    app.follow(&owner, &alice).await;
    let list = app.post("/api/v1/lists", Some(&owner.token), json!({ "title": "L" })).await.ok()["id"]
        .as_str()
        .unwrap()
        .to_string();
    app.post(&format!("/api/v1/lists/{list}/accounts"), Some(&owner.token), json!({ "account_ids": [alice.id] }))
        .await
        .ok();
    app.drain_jobs().await;
    let mut ws = connect(&host, &format!("access_token={}&stream=list&list={list}", owner.token)).await;
    let status = app.post_status(&alice, json!({ "status": "for the list" })).await;
    app.drain_jobs().await;
    // The user stream is not subscribed here, so the only update is the list's.
    let frame = expect_event(&mut ws, "update").await;
    assert_eq!(frame["stream"], json!(["list", list]));
    assert_eq!(payload(&frame)["id"], status["id"]);
}

/// Issue 18, defect 7: a client that takes the streaming URL the instance advertises reaches
/// the streaming process (outside production: this host, `STREAMING_PORT`).
#[tokio::test]
async fn the_advertised_streaming_url_reaches_the_streaming_process() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port().to_string();
    let app = TestApp::spawn_with(&[("STREAMING_PORT", port.as_str())]).await;
    let streaming = ferrodon_streaming::Streaming::connect(&app.state.config).await.unwrap();
    tokio::spawn(ferrodon_streaming::serve(streaming, listener));
    let alice = app.register("alice").await;

    let v1 = app.get("/api/v1/instance", None).await.expect(200);
    let v2 = app.get("/api/v2/instance", None).await.expect(200);
    let advertised = v1["urls"]["streaming_api"].as_str().unwrap().to_string();
    assert_eq!(v2["configuration"]["urls"]["streaming"], advertised.as_str());
    let url = format!("{advertised}/api/v1/streaming?access_token={}&stream=user", alice.token);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.expect("the advertised URL answers");
    tokio::time::sleep(Duration::from_millis(200)).await;
    app.post_status(&alice, json!({ "status": "streamed" })).await;
    app.drain_jobs().await;
    let update = expect_event(&mut ws, "update").await;
    assert_eq!(payload(&update)["content"], "<p>streamed</p>");
}
