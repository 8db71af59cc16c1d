//! Direct conversations: grouped per thread and participants for each local participant,
//! unread for those who did not write the latest, read, removed, and sent live to the
//! `direct` stream as `conversation` events.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::time::Duration;

use common::TestApp;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn s(v: &Value) -> String {
    v.as_str().unwrap_or_else(|| panic!("expected a string, got {v}")).to_string()
}

#[tokio::test]
async fn direct_statuses_make_conversations_per_participant() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    let carol = app.register("carol").await;
    // Private mentions from people one does not follow wait as requests (Mastodon's policy).
    app.follow(&bob, &alice).await;
    app.follow(&carol, &alice).await;
    let first = app.post_status(&alice, json!({ "status": "@bob psst", "visibility": "direct" })).await;
    app.post_status(&alice, json!({ "status": "public, not a conversation" })).await;
    app.drain_jobs().await;

    let bobs = app.get("/api/v1/conversations", Some(&bob.token)).await.expect(200);
    assert_eq!(bobs.as_array().unwrap().len(), 1, "{bobs}");
    assert_eq!(bobs[0]["unread"], true);
    assert_eq!(bobs[0]["accounts"][0]["id"], alice.id.as_str(), "the others in it");
    assert_eq!(bobs[0]["last_status"]["id"], first["id"]);
    let alices = app.get("/api/v1/conversations", Some(&alice.token)).await.expect(200);
    assert_eq!(alices[0]["unread"], false, "the writer has read it");
    assert_eq!(alices[0]["accounts"][0]["id"], bob.id.as_str());
    assert_eq!(app.get("/api/v1/conversations", Some(&carol.token)).await.expect(200), json!([]));

    // bob answers: the same conversation, now unread for alice.
    let reply = json!({ "status": "@alice what?", "visibility": "direct", "in_reply_to_id": first["id"] });
    let answer = app.post_status(&bob, reply).await;
    app.drain_jobs().await;
    let alices = app.get("/api/v1/conversations", Some(&alice.token)).await.expect(200);
    assert_eq!(alices.as_array().unwrap().len(), 1);
    assert_eq!((alices[0]["unread"].as_bool(), &alices[0]["last_status"]["id"]), (Some(true), &answer["id"]));
    // Adding carol makes another set of participants, so another conversation.
    let wider = json!({ "status": "@bob @carol all of us", "visibility": "direct", "in_reply_to_id": answer["id"] });
    app.post_status(&alice, wider).await;
    app.drain_jobs().await;
    assert_eq!(app.get("/api/v1/conversations", Some(&bob.token)).await.expect(200).as_array().unwrap().len(), 2);
    let carols = app.get("/api/v1/conversations", Some(&carol.token)).await.expect(200);
    let mut others: Vec<String> = carols[0]["accounts"].as_array().unwrap().iter().map(|a| s(&a["id"])).collect();
    others.sort();
    let mut expected = vec![alice.id.clone(), bob.id.clone()];
    expected.sort();
    assert_eq!(others, expected);

    let page = app.get("/api/v1/conversations?limit=1", Some(&bob.token)).await;
    assert!(page.link().unwrap().contains("max_id="), "{:?}", page.link());
    let id = s(&alices[0]["id"]);
    let read = app.post(&format!("/api/v1/conversations/{id}/read"), Some(&alice.token), json!({})).await.expect(200);
    assert_eq!(read["unread"], false);
    app.post(&format!("/api/v1/conversations/{id}/read"), Some(&carol.token), json!({})).await.expect(404);

    // Deleting the latest status moves the conversation back to the one before.
    app.delete(&format!("/api/v1/statuses/{}", s(&answer["id"])), Some(&bob.token)).await.expect(200);
    app.drain_jobs().await;
    let alices = app.get("/api/v1/conversations", Some(&alice.token)).await.expect(200);
    let with_bob = alices.as_array().unwrap().iter().find(|c| c["accounts"].as_array().unwrap().len() == 1).unwrap();
    assert_eq!(with_bob["last_status"]["id"], first["id"]);

    assert_eq!(app.delete(&format!("/api/v1/conversations/{id}"), Some(&alice.token)).await.expect(200), json!({}));
    app.delete(&format!("/api/v1/conversations/{id}"), Some(&alice.token)).await.expect(404);
    app.get("/api/v1/conversations", None).await.expect(401);
}

#[tokio::test]
async fn the_direct_stream_hears_each_conversation_change() {
    let app = TestApp::spawn().await;
    let streaming = ferrodon_streaming::Streaming::connect(&app.state.config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let host = listener.local_addr().unwrap();
    tokio::spawn(ferrodon_streaming::serve(streaming, listener));
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&bob, &alice).await;
    let url = format!("ws://{host}/api/v1/streaming?access_token={}&stream=direct", bob.token);
    let (mut ws, _) = tokio_tungstenite::connect_async(url).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;

    app.post_status(&alice, json!({ "status": "@bob secret", "visibility": "direct" })).await;
    app.post_status(&alice, json!({ "status": "for everyone" })).await;
    app.drain_jobs().await;
    let frame = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(Ok(Message::Text(text))) = ws.next().await {
                return serde_json::from_str::<Value>(text.as_str()).unwrap();
            }
        }
    })
    .await
    .expect("a conversation event");
    assert_eq!(frame["event"], "conversation", "{frame}");
    let payload: Value = serde_json::from_str(frame["payload"].as_str().unwrap()).unwrap();
    assert_eq!(
        payload["last_status"]["content"],
        format!(
            "<p><span class=\"h-card\" translate=\"no\"><a href=\"{}/@bob\" class=\"u-url mention\">@<span>bob</span></a></span> secret</p>",
            app.state.config.base_url()
        )
    );
    assert_eq!(payload["unread"], true);
    // Nothing about the public post reaches the direct stream.
    let quiet = tokio::time::timeout(Duration::from_millis(500), ws.next()).await;
    assert!(quiet.is_err(), "{quiet:?}");
}
