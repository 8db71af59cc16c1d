//! Threads across servers. Our notes carry a `replies` collection (the public and
//! unlisted replies we have, oldest first, 20 a page). A remote post fetched by URL gets
//! its replies collection fetched on the `pull` queue, so a thread opened from search
//! arrives with the answers below it, not only the posts above it (Mastodon's
//! FetchRepliesService: only replies from the post's own server are taken).

use serde_json::{Value, json};

use crate::AppState;
use crate::core::error::Result;
use crate::core::queue;
use crate::effects::federation::Job;
use crate::effects::federation::remote::{self, authority};
use crate::render::activitypub::{CONTEXT, id_of};

const PAGE: i64 = 20;
/// At most this many pages and replies are followed per fetch.
const MAX_PAGES: usize = 5;
const MAX_REPLIES: usize = 100;

/// The `replies` property of a local note: the collection, with where its first page is.
pub fn replies_link(uri: &str) -> Value {
    let id = format!("{uri}/replies");
    json!({
        "id": id,
        "type": "Collection",
        "first": { "type": "CollectionPage", "next": format!("{id}?page=true"), "partOf": id, "items": [] },
    })
}

/// `GET /users/:username/statuses/:id/replies[?page=true&min_id=…]`: the public and
/// unlisted replies to a public or unlisted local status.
pub async fn replies(
    state: &AppState,
    username: &str,
    status_id: i64,
    page: bool,
    min_id: Option<i64>,
) -> Result<Value> {
    let note = crate::effects::federation::activities::status_object(state, username, status_id).await?;
    let uri = note["id"].as_str().unwrap_or_default();
    let id = format!("{uri}/replies");
    if !page {
        let mut collection = replies_link(uri);
        collection["@context"] = json!(CONTEXT);
        return Ok(collection);
    }
    let rows: Vec<(i64, String)> = sqlx::query_as(
        "SELECT id, uri FROM statuses
          WHERE in_reply_to_id = $1 AND visibility IN (0, 1) AND deleted_at IS NULL AND uri IS NOT NULL
            AND ($2::bigint IS NULL OR id > $2)
          ORDER BY id LIMIT $3",
    )
    .bind(status_id)
    .bind(min_id)
    .bind(PAGE)
    .fetch_all(&state.db.replica)
    .await?;
    let mut collection = json!({
        "@context": CONTEXT,
        "id": match min_id { Some(m) => format!("{id}?min_id={m}&page=true"), None => format!("{id}?page=true") },
        "type": "CollectionPage",
        "partOf": id,
        "items": rows.iter().map(|(_, uri)| uri).collect::<Vec<_>>(),
    });
    if let (Some((last, _)), true) = (rows.last(), rows.len() as i64 == PAGE) {
        collection["next"] = json!(format!("{id}?min_id={last}&page=true"));
    }
    Ok(collection)
}

/// Queues the fetch of a remote status's replies, when its note names a collection.
pub async fn queue_fetch(state: &AppState, status_id: i64, note: &Value) -> Result<()> {
    let Some(collection) = id_of(&note["replies"]) else { return Ok(()) };
    if authority(collection).is_none() || authority(collection) != note["id"].as_str().and_then(authority) {
        return Ok(());
    }
    queue::enqueue(&state.db.primary, &Job::FetchReplies { status_id, collection: collection.to_string() }).await
}

/// The `FetchReplies` job: walks the collection's pages and resolves the replies on the
/// collection's own server (each is fetched and verified like any other post).
pub async fn fetch_replies(state: &AppState, status_id: i64, collection: &str) -> Result<()> {
    let host = authority(collection);
    let document = remote::fetch_object(state, collection).await?;
    let mut page = match &document["first"] {
        Value::String(url) => Some(remote::fetch_object(state, url).await?),
        Value::Object(_) => Some(document["first"].clone()),
        _ => Some(document.clone()),
    };
    let mut found: Vec<String> = Vec::new();
    for _ in 0..MAX_PAGES {
        let Some(current) = page.take() else { break };
        for item in ["items", "orderedItems"].iter().filter_map(|k| current[*k].as_array()).flatten() {
            if let Some(uri) = id_of(item).filter(|u| authority(u) == host)
                && !found.iter().any(|f| f == uri)
            {
                found.push(uri.to_string());
            }
        }
        if found.len() >= MAX_REPLIES {
            break;
        }
        page = match current["next"].as_str().filter(|next| authority(next) == host) {
            Some(next) => Some(remote::fetch_object(state, next).await?),
            None => None,
        };
    }
    for uri in found.into_iter().take(MAX_REPLIES) {
        let known: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM statuses WHERE uri = $1)")
            .bind(&uri)
            .fetch_one(&state.db.primary)
            .await?;
        if !known && let Err(e) = remote::resolve_url(state, &uri).await {
            tracing::info!(status_id, reply = uri, error = %e, "a reply could not be fetched");
        }
    }
    Ok(())
}
