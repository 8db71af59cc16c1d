//! A local actor's collections as ActivityPub documents, paged as Mastodon pages them:
//! the outbox (public and unlisted posts as `Create` activities, 20 a page, newest first),
//! followers and following (actor URIs, 10 a page; only counts when the account hides its
//! collections) and featured (pinned posts, inline).

use serde_json::{Value, json};

use crate::AppState;
use crate::core::error::Result;
use crate::effects::federation::activities;
use crate::model::accounts::{self, Account};

const CONTEXT: &str = "https://www.w3.org/ns/activitystreams";
const OUTBOX_PAGE: i64 = 20;
const FOLLOWS_PAGE: i64 = 10;

async fn account(state: &AppState, username: &str) -> Result<Account> {
    Ok(crate::render::activitypub::actors::local_actor(&state.db.replica, username).await?.0)
}

/// `/users/:username/outbox`, or one page of it (`page=true`, optionally before `max_id`).
pub async fn outbox(state: &AppState, username: &str, page: bool, max_id: Option<i64>) -> Result<Value> {
    let account = account(state, username).await?;
    let id = format!("{}/outbox", account.actor_uri(&state.config));
    if !page {
        return Ok(json!({
            "@context": CONTEXT, "id": id, "type": "OrderedCollection", "totalItems": account.statuses_count,
            "first": format!("{id}?page=true"), "last": format!("{id}?min_id=0&page=true"),
        }));
    }
    let ids: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM statuses WHERE account_id = $1 AND visibility IN (0, 1) AND deleted_at IS NULL
            AND reblog_of_id IS NULL AND ($2::bigint IS NULL OR id < $2)
          ORDER BY id DESC LIMIT $3",
    )
    .bind(account.id)
    .bind(max_id)
    .bind(OUTBOX_PAGE)
    .fetch_all(&state.db.replica)
    .await?;
    let mut items = Vec::with_capacity(ids.len());
    for status_id in &ids {
        if let Ok(note) = activities::status_object(state, username, *status_id).await {
            items.push(create_of(note));
        }
    }
    let mut collection = json!({
        "@context": CONTEXT,
        "id": match max_id { Some(m) => format!("{id}?max_id={m}&page=true"), None => format!("{id}?page=true") },
        "type": "OrderedCollectionPage",
        "partOf": id,
        "orderedItems": items,
    });
    if let (Some(last), true) = (ids.last(), ids.len() as i64 == OUTBOX_PAGE) {
        collection["next"] = json!(format!("{id}?max_id={last}&page=true"));
    }
    Ok(collection)
}

/// The `Create` activity of a note (its id is the note's with `/activity`).
fn create_of(note: Value) -> Value {
    json!({
        "id": format!("{}/activity", note["id"].as_str().unwrap_or_default()),
        "type": "Create",
        "actor": note["attributedTo"],
        "published": note["published"],
        "to": note["to"],
        "cc": note["cc"],
        "object": without_context(note),
    })
}

/// `GET /users/:username/statuses/:id/activity`: the `Create` of a public or unlisted
/// status, as the activity's id promises.
pub async fn status_activity(state: &AppState, username: &str, status_id: i64) -> Result<Value> {
    let mut activity = create_of(activities::status_object(state, username, status_id).await?);
    activity["@context"] = json!(CONTEXT);
    Ok(activity)
}

fn without_context(mut note: Value) -> Value {
    if let Some(object) = note.as_object_mut() {
        object.remove("@context");
    }
    note
}

/// `/users/:username/followers` or `/following`; `page` from 1 lists actor URIs.
pub async fn follows(state: &AppState, username: &str, followers: bool, page: Option<i64>) -> Result<Value> {
    let account = account(state, username).await?;
    let kind = if followers { "followers" } else { "following" };
    let id = format!("{}/{kind}", account.actor_uri(&state.config));
    let total = if followers { account.followers_count } else { account.following_count };
    let hidden = account.hide_collections.unwrap_or(false);
    let Some(page) = page.filter(|p| *p >= 1 && !hidden) else {
        let mut collection = json!({ "@context": CONTEXT, "id": id, "type": "OrderedCollection", "totalItems": total });
        if !hidden {
            collection["first"] = json!(format!("{id}?page=1"));
        }
        return Ok(collection);
    };
    let (mine, theirs) =
        if followers { ("target_account_id", "account_id") } else { ("account_id", "target_account_id") };
    let others: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT {theirs} FROM follows WHERE {mine} = $1 ORDER BY id DESC LIMIT $2 OFFSET $3"
    )))
    .bind(account.id)
    .bind(FOLLOWS_PAGE)
    .bind((page - 1) * FOLLOWS_PAGE)
    .fetch_all(&state.db.replica)
    .await?;
    let uris: Vec<String> =
        accounts::find_many(&state.db.replica, &others).await?.iter().map(|a| a.actor_uri(&state.config)).collect();
    let mut collection = json!({
        "@context": CONTEXT, "id": format!("{id}?page={page}"), "type": "OrderedCollectionPage",
        "totalItems": total, "partOf": id, "orderedItems": uris,
    });
    if page * FOLLOWS_PAGE < total {
        collection["next"] = json!(format!("{id}?page={}", page + 1));
    }
    if page > 1 {
        collection["prev"] = json!(format!("{id}?page={}", page - 1));
    }
    Ok(collection)
}

/// `/users/:username/collections/featured`: the pinned posts.
pub async fn featured(state: &AppState, username: &str) -> Result<Value> {
    let account = account(state, username).await?;
    let pinned: Vec<i64> =
        sqlx::query_scalar("SELECT status_id FROM status_pins WHERE account_id = $1 ORDER BY id DESC")
            .bind(account.id)
            .fetch_all(&state.db.replica)
            .await?;
    let mut items = Vec::new();
    for status_id in pinned {
        if let Ok(note) = activities::status_object(state, username, status_id).await {
            items.push(without_context(note));
        }
    }
    Ok(json!({
        "@context": CONTEXT,
        "id": format!("{}/collections/featured", account.actor_uri(&state.config)),
        "type": "OrderedCollection",
        "totalItems": items.len(),
        "orderedItems": items,
    }))
}
