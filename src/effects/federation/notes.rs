//! Reading remote posts: a Note (or Question, or Article) becomes a `Draft` for the domain's
//! `posting::create`, the same operation a local post goes through; an Update of one
//! becomes a `Revision`. Used by the inbox and by fetches (search by URL, threads).

use serde_json::{Value, json};

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::core::queue;
use crate::core::time;
use crate::domain::polls::RemotePoll;
use crate::domain::posting::{self, Draft, Origin, Revision};
use crate::effects::federation::remote::authority;
use crate::effects::federation::{Job, sanitize};
use crate::model::accounts::{self, Account};
use crate::model::media::{MediaType, RemoteMedia};
use crate::model::statuses::{self, MAX_MEDIA_ATTACHMENTS, Status, Visibility};
use crate::render::activitypub::{PUBLIC, id_of};

/// The object types stored as statuses.
pub fn is_note(object: &Value) -> bool {
    matches!(object["type"].as_str(), Some("Note" | "Question" | "Article"))
}

/// Mastodon's audience rules: public when addressed to Public, unlisted when Public is only
/// in `cc`, private when addressed to the followers collection, direct otherwise.
pub fn visibility(object: &Value, followers_url: &str) -> Visibility {
    let list = |field: &str| -> Vec<String> {
        match &object[field] {
            Value::Array(items) => items.iter().filter_map(id_of).map(str::to_string).collect(),
            other => id_of(other).map(str::to_string).into_iter().collect(),
        }
    };
    let public = |v: &String| v == PUBLIC || v == "as:Public" || v == "Public";
    let (to, cc) = (list("to"), list("cc"));
    if to.iter().any(public) {
        Visibility::Public
    } else if cc.iter().any(public) {
        Visibility::Unlisted
    } else if !followers_url.is_empty() && to.iter().chain(cc.iter()).any(|v| v == followers_url) {
        Visibility::Private
    } else {
        Visibility::Direct
    }
}

/// The names of a Note's `Hashtag` tags, without the `#`.
fn hashtags(object: &Value) -> Vec<String> {
    object["tag"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["type"] == "Hashtag")
        .filter_map(|t| t["name"].as_str())
        .map(|name| name.trim_start_matches('#').to_string())
        .filter(|name| !name.is_empty())
        .collect()
}

/// The local accounts a Note's `Mention` tags name.
async fn mentioned(state: &AppState, object: &Value) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for href in object["tag"].as_array().into_iter().flatten().filter(|t| t["type"] == "Mention") {
        if let Some(local) = local_account(state, href["href"].as_str().unwrap_or_default()).await?
            && !ids.contains(&local.id)
        {
            ids.push(local.id);
        }
    }
    Ok(ids)
}

/// The local account an actor URI names: `https://LOCAL_DOMAIN/users/<name>` or
/// `https://LOCAL_DOMAIN/ap/users/<id>`; like Mastodon, either form names any local account.
pub async fn local_account(state: &AppState, uri: &str) -> Result<Option<Account>> {
    let base = state.config.base_url();
    let tail = |prefix: &str| {
        uri.strip_prefix(&format!("{base}{prefix}")).filter(|t| !t.is_empty() && !t.contains('/')).map(str::to_string)
    };
    if let Some(username) = tail("/users/") {
        return accounts::find_local(&state.db.primary, &username).await;
    }
    let Some(id) = tail("/ap/users/").and_then(|id| id.parse::<i64>().ok()) else { return Ok(None) };
    Ok(accounts::find(&state.db.primary, id).await?.filter(Account::is_local))
}

/// The media type a remote `Document`'s `mediaType` names.
fn media_type(mime: &str) -> MediaType {
    match mime.split('/').next().unwrap_or_default() {
        "image" => MediaType::Image,
        "video" => MediaType::Video,
        "audio" => MediaType::Audio,
        _ => MediaType::Unknown,
    }
}

/// `meta` from what a Document says: its size and focal point.
fn meta_of(document: &Value) -> Value {
    let mut meta = json!({});
    if let (Some(width), Some(height)) = (document["width"].as_u64(), document["height"].as_u64())
        && height > 0
    {
        meta["original"] = json!({
            "width": width, "height": height, "size": format!("{width}x{height}"), "aspect": width as f64 / height as f64,
        });
    }
    if let Some([x, y]) = document["focalPoint"].as_array().map(Vec::as_slice)
        && let (Some(x), Some(y)) = (x.as_f64(), y.as_f64())
    {
        meta["focus"] = json!({ "x": x, "y": y });
    }
    meta
}

/// A Note's attachments (at most four, as Mastodon keeps), with a web address each.
fn attachments(object: &Value) -> Vec<RemoteMedia> {
    let documents = match &object["attachment"] {
        Value::Array(items) => items.iter().collect::<Vec<_>>(),
        one @ Value::Object(_) => vec![one],
        _ => Vec::new(),
    };
    documents
        .into_iter()
        .filter_map(|document| {
            let url = match &document["url"] {
                Value::String(s) => s.clone(),
                Value::Object(link) => link["href"].as_str().unwrap_or_default().to_string(),
                Value::Array(links) => links.iter().find_map(|l| l["href"].as_str()).unwrap_or_default().to_string(),
                _ => String::new(),
            };
            url.starts_with("http").then(|| RemoteMedia {
                url,
                kind: media_type(document["mediaType"].as_str().unwrap_or_default()),
                meta: meta_of(document),
                description: document["name"]
                    .as_str()
                    .filter(|d| !d.is_empty())
                    .map(|d| d.chars().take(crate::model::media::DESCRIPTION_LIMIT).collect()),
                blurhash: document["blurhash"].as_str().map(str::to_string),
            })
        })
        .take(MAX_MEDIA_ATTACHMENTS)
        .collect()
}

/// The poll a `Question` describes: its options (under `oneOf`, or `anyOf` for multiple
/// choice) are Notes whose `replies.totalItems` is the tally.
pub fn question(object: &Value) -> Option<RemotePoll> {
    if object["type"] != "Question" {
        return None;
    }
    let (items, multiple) = match (&object["anyOf"], &object["oneOf"]) {
        (Value::Array(items), _) => (items, true),
        (_, Value::Array(items)) => (items, false),
        _ => return None,
    };
    let options: Vec<String> = items
        .iter()
        .filter_map(|o| o["name"].as_str().filter(|n| !n.is_empty()).or_else(|| o["content"].as_str()))
        .map(str::to_string)
        .collect();
    if options.is_empty() {
        return None;
    }
    let tallies = items.iter().map(|o| o["replies"]["totalItems"].as_i64().unwrap_or(0)).collect();
    Some(RemotePoll {
        options,
        tallies,
        multiple,
        // A closed poll's end is when it closed.
        expires_at: timestamp(&object["closed"]).or_else(|| timestamp(&object["endTime"])),
        voters_count: object["votersCount"].as_i64(),
    })
}

fn timestamp(value: &Value) -> Option<chrono::NaiveDateTime> {
    value.as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|d| d.naive_utc())
}

/// Stores a Note by remote `signer` (which must be its author, on the same server) through
/// `posting::create`, as a local post is stored. Returns its id, also when it was already
/// known; `None` for objects that are not notes. A reply to a post this server has not
/// seen fetches that post (on `pull`), and so does a Note's replies collection.
pub async fn store_note(state: &AppState, signer: &Account, object: &Value) -> Result<Option<i64>> {
    if !is_note(object) {
        return Ok(None);
    }
    let uri = object["id"].as_str().unwrap_or_default();
    let signer_uri = signer.actor_uri(&state.config);
    if uri.is_empty()
        || authority(uri) != authority(&signer_uri)
        || id_of(&object["attributedTo"]) != Some(signer_uri.as_str())
    {
        return Err(Error::Unprocessable(format!("{uri}: not a status of {signer_uri}")));
    }
    let db = &state.db.primary;
    let followers_url: String =
        sqlx::query_scalar("SELECT followers_url FROM accounts WHERE id = $1").bind(signer.id).fetch_one(db).await?;
    let parent_uri = object["inReplyTo"].as_str();
    let parent: Option<Status> = match parent_uri {
        Some(parent_uri) => {
            let id: Option<i64> = sqlx::query_scalar("SELECT id FROM statuses WHERE uri = $1 AND deleted_at IS NULL")
                .bind(parent_uri)
                .fetch_optional(db)
                .await?;
            statuses::find_many(db, &id.into_iter().collect::<Vec<_>>()).await?.pop()
        }
        None => None,
    };
    let unknown_parent = parent_uri.filter(|_| parent.is_none());
    let draft = Draft {
        text: sanitize::html(object["content"].as_str().unwrap_or_default()),
        spoiler_text: object["summary"].as_str().unwrap_or_default().to_string(),
        visibility: visibility(object, &followers_url),
        sensitive: object["sensitive"].as_bool().unwrap_or(false),
        language: object["contentMap"].as_object().and_then(|m| m.keys().next().cloned()),
        reply: parent_uri.is_some(),
        parent,
        mentions: mentioned(state, object).await?,
        tags: hashtags(object),
        media_ids: Vec::new(),
        remote_media: attachments(object),
        poll: None,
        remote_poll: question(object),
        origin: Origin::Remote {
            uri: uri.to_string(),
            url: match &object["url"] {
                Value::String(s) => Some(s.clone()),
                other => id_of(other).map(str::to_string),
            },
            published: timestamp(&object["published"]).unwrap_or_else(time::now),
        },
    };
    let status_id = posting::create(state, signer, draft).await?;
    if let Some(parent_uri) = unknown_parent {
        let fetch = Job::FetchParent { status_id, parent_uri: parent_uri.to_string() };
        queue::enqueue(db, &fetch).await?;
    }
    Ok(Some(status_id))
}

/// The new version an Update of a Note describes, and its poll.
pub async fn revision(state: &AppState, object: &Value) -> Result<(Revision, Option<RemotePoll>)> {
    let revision = Revision {
        text: sanitize::html(object["content"].as_str().unwrap_or_default()),
        spoiler_text: object["summary"].as_str().unwrap_or_default().to_string(),
        sensitive: object["sensitive"].as_bool().unwrap_or(false),
        language: object["contentMap"].as_object().and_then(|m| m.keys().next().cloned()),
        edited_at: timestamp(&object["updated"]).unwrap_or_else(time::now),
        mentions: mentioned(state, object).await?,
        tags: hashtags(object),
    };
    Ok((revision, question(object)))
}
