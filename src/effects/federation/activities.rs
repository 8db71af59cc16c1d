//! Activities in both directions.
//!
//! Incoming (the `ingress` queue, Mastodon's ActivityPub::ProcessingWorker): Follow, Accept
//! and Reject of our follow requests, Create of a Note (stored as a remote status and
//! fanned out to local followers like any other), Update of such a note (an edit),
//! Announce (a boost), Like, Block, Delete of a status, and Undo of a Follow, Announce,
//! Like or Block; polls, moves, featured posts and reports through their own modules.
//! Other types are ignored, as Mastodon ignores what it does not handle.
//!
//! Outgoing (the `push` queue, Mastodon's ActivityPub::DeliveryWorker): one signed POST per
//! inbox; followers sharing a server get one delivery to its shared inbox.

use serde_json::{Value, json};

use crate::core::error::{Error, Result};
use crate::domain::posting::Version;
use crate::domain::relationships::{self, FollowOptions};
use crate::effects::federation::remote::authority;
use crate::effects::federation::sanitize;
use crate::model::accounts::{self, Account};
use crate::model::notifications::{self, NotificationType};
use crate::worker::{self, Job};
use crate::{AppState, core::time, render::entities};
use crate::{
    domain::domain_blocks,
    effects::federation::{actor_changes, availability, flags, polls},
};
use crate::{
    domain::interactions,
    domain::posting,
    model::hydrate,
    model::statuses::{self, Visibility},
};
use crate::{domain::search, effects::search::meili::Kind};

const PUBLIC: &str = "https://www.w3.org/ns/activitystreams#Public";
pub(crate) const CONTEXT: &str = "https://www.w3.org/ns/activitystreams";

pub(crate) fn id_of(value: &Value) -> Option<&str> {
    match value {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// The local account an actor URI names (`https://LOCAL_DOMAIN/users/name`).
async fn local_account(state: &AppState, uri: &str) -> Result<Option<Account>> {
    let prefix = format!("{}/users/", state.config.base_url());
    let Some(username) = uri.strip_prefix(&prefix).filter(|u| !u.contains('/')) else { return Ok(None) };
    Ok(accounts::find_local(&state.db.primary, username).await?.filter(|a| a.actor_uri(&state.config) == uri))
}

/// Processes one verified activity from `account_id` (the signer).
pub async fn process(state: &AppState, account_id: i64, activity: &Value) -> Result<()> {
    let signer = accounts::get(&state.db.primary, account_id).await?;
    match activity["type"].as_str().unwrap_or_default() {
        "Follow" => follow(state, &signer, activity).await,
        "Undo" => undo(state, &signer, activity).await,
        "Accept" => answer(state, &signer, activity, true).await,
        "Reject" => answer(state, &signer, activity, false).await,
        "Create" => create(state, &signer, activity).await,
        "Delete" => delete(state, &signer, activity).await,
        "Update" => update(state, &signer, activity).await,
        "Like" => like(state, &signer, activity).await,
        "Block" => match local_account(state, id_of(&activity["object"]).unwrap_or_default()).await? {
            Some(target) => relationships::block(state, signer.id, target.id).await,
            None => Ok(()),
        },
        "Announce" => announce(state, &signer, activity).await,
        "Move" => actor_changes::moved(state, &signer, activity).await,
        "Add" => actor_changes::featured(state, &signer, activity, true).await,
        "Remove" => actor_changes::featured(state, &signer, activity, false).await,
        "Flag" => flags::flagged(state, &signer, activity).await,
        other => {
            tracing::debug!(kind = other, "ignoring an activity type ferrodon does not handle yet");
            Ok(())
        }
    }
}

async fn follow(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
    let Some(target) = local_account(state, id_of(&activity["object"]).unwrap_or_default()).await? else {
        return Ok(());
    };
    let follow_uri = id_of(activity).unwrap_or_default();
    match relationships::follow(state, signer.id, target.id, FollowOptions::default()).await {
        Err(Error::Forbidden(_)) => {
            return deliver_to(state, &target, signer, reject_activity(state, &target, signer, follow_uri)).await;
        }
        other => other?,
    }
    for table in ["follows", "follow_requests"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "UPDATE {table} SET uri = $3 WHERE account_id = $1 AND target_account_id = $2"
        )))
        .bind(signer.id)
        .bind(target.id)
        .bind(follow_uri)
        .execute(&state.db.primary)
        .await?;
    }
    let following: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2)")
            .bind(signer.id)
            .bind(target.id)
            .fetch_one(&state.db.primary)
            .await?;
    if following {
        follow_accepted(state, target.id, signer.id).await?;
    }
    Ok(())
}

/// A known status by URI, if `viewer` may see it.
async fn status_by_uri(state: &AppState, uri: &str, viewer: i64) -> Result<Option<statuses::Status>> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM statuses WHERE uri = $1 AND deleted_at IS NULL")
        .bind(uri)
        .fetch_optional(&state.db.primary)
        .await?;
    let Some(id) = id else { return Ok(None) };
    match statuses::find_visible(&state.db.primary, id, Some(viewer)).await {
        Ok(status) => Ok(Some(status)),
        Err(Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn like(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
    if let Some(status) = status_by_uri(state, id_of(&activity["object"]).unwrap_or_default(), signer.id).await? {
        interactions::favourite(state, signer.id, status.id).await?;
    }
    Ok(())
}

/// A boost: stored as the signer's reblog (its URI the Announce's id) and fanned out.
async fn announce(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
    let uri = id_of(activity).unwrap_or_default();
    let Some(original) = status_by_uri(state, id_of(&activity["object"]).unwrap_or_default(), signer.id).await? else {
        return Ok(());
    };
    if original.reblog_of_id.is_some() || original.visibility() > Visibility::Unlisted || uri.is_empty() {
        return Ok(());
    }
    let db = &state.db.primary;
    let followers_url: String =
        sqlx::query_scalar("SELECT followers_url FROM accounts WHERE id = $1").bind(signer.id).fetch_one(db).await?;
    let visibility = match visibility(activity, &followers_url) {
        Visibility::Direct => Visibility::Private,
        v => v,
    };
    let mut tx = db.begin().await?;
    let reblog_id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO statuses (uri, created_at, updated_at, reblog_of_id, visibility, local, account_id)
         SELECT $1, $2, $2, $3, $4, false, $5
          WHERE NOT EXISTS (SELECT 1 FROM statuses WHERE (account_id = $5 AND reblog_of_id = $3 AND deleted_at IS NULL)
                                                      OR uri = $1)
         RETURNING id",
    )
    .bind(uri)
    .bind(time::now())
    .bind(original.id)
    .bind(visibility.db())
    .bind(signer.id)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(reblog_id) = reblog_id else { return Ok(()) };
    posting::bump_status_stat(&mut tx, original.id, "reblogs_count", 1).await?;
    accounts::bump_stat(&mut tx, signer.id, accounts::Counter::Statuses, 1).await?;
    worker::enqueue(&mut *tx, Job::Distribute { status_id: reblog_id, update: false }).await?;
    search::reindex_later(state, &mut *tx, Kind::Status, original.id).await?;
    tx.commit().await?;
    notifications::notify(state, original.account_id, signer.id, NotificationType::Reblog, reblog_id).await?;
    Ok(())
}

async fn undo(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
    let object = &activity["object"];
    match object["type"].as_str() {
        Some("Block") => {
            if let Some(target) = local_account(state, id_of(&object["object"]).unwrap_or_default()).await? {
                relationships::unblock(state, signer.id, target.id).await?;
            }
            return Ok(());
        }
        Some("Like") => {
            if let Some(status) = status_by_uri(state, id_of(&object["object"]).unwrap_or_default(), signer.id).await? {
                interactions::unfavourite(state, signer.id, status.id).await?;
            }
            return Ok(());
        }
        Some("Announce") => return remove_own_by_uri(state, signer, id_of(object).unwrap_or_default()).await,
        _ => {}
    }
    if object["type"] == "Follow" || object.is_string() {
        let target = match object["object"].as_str() {
            Some(uri) => local_account(state, uri).await?,
            None => None,
        };
        let target = match target {
            Some(t) => Some(t.id),
            None => {
                // An Undo naming only the Follow's id: find the follow by its URI.
                let uri = id_of(object).unwrap_or_default();
                sqlx::query_scalar(
                    "SELECT target_account_id FROM follows WHERE account_id = $1 AND uri = $2
                     UNION SELECT target_account_id FROM follow_requests WHERE account_id = $1 AND uri = $2",
                )
                .bind(signer.id)
                .bind(uri)
                .fetch_optional(&state.db.primary)
                .await?
            }
        };
        if let Some(target) = target {
            relationships::unfollow(state, signer.id, target).await?;
        }
    }
    Ok(())
}

/// Accept or Reject of one of our follow requests to the signer.
async fn answer(state: &AppState, signer: &Account, activity: &Value, accepted: bool) -> Result<()> {
    let object = &activity["object"];
    let requester = match object["actor"].as_str() {
        Some(uri) => local_account(state, uri).await?.map(|a| a.id),
        None => {
            sqlx::query_scalar("SELECT account_id FROM follow_requests WHERE target_account_id = $1 AND uri = $2")
                .bind(signer.id)
                .bind(id_of(object).unwrap_or_default())
                .fetch_optional(&state.db.primary)
                .await?
        }
    };
    let Some(requester) = requester else { return Ok(()) };
    let outcome = if accepted {
        relationships::authorize_follow_request(state, signer.id, requester).await
    } else {
        relationships::reject_follow_request(state, signer.id, requester).await
    };
    match outcome {
        Err(Error::NotFound) => Ok(()),
        other => other,
    }
}

/// Mastodon's audience rules: public when addressed to Public, unlisted when Public is only
/// in `cc`, private when addressed to the followers collection, direct otherwise.
fn visibility(object: &Value, followers_url: &str) -> Visibility {
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

async fn create(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
    if polls::vote_received(state, signer, &activity["object"]).await? {
        return Ok(());
    }
    store_note(state, signer, &activity["object"]).await.map(|_| ())
}

/// Stores a note by remote `signer` (which must be its author, on the same server) as a
/// status and fans it out. Returns its id, also when it was already known; `None` for
/// objects that are not notes.
pub async fn store_note(state: &AppState, signer: &Account, object: &Value) -> Result<Option<i64>> {
    if !matches!(object["type"].as_str(), Some("Note" | "Question" | "Article")) {
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
    let known: Option<i64> =
        sqlx::query_scalar("SELECT id FROM statuses WHERE uri = $1").bind(uri).fetch_optional(db).await?;
    if known.is_some() {
        return Ok(known);
    }
    let followers_url: String =
        sqlx::query_scalar("SELECT followers_url FROM accounts WHERE id = $1").bind(signer.id).fetch_one(db).await?;
    let visibility = visibility(object, &followers_url);
    let parent: Option<(i64, i64, Option<i64>)> = match object["inReplyTo"].as_str() {
        Some(parent_uri) => {
            sqlx::query_as("SELECT id, account_id, conversation_id FROM statuses WHERE uri = $1 AND deleted_at IS NULL")
                .bind(parent_uri)
                .fetch_optional(db)
                .await?
        }
        None => None,
    };
    let mention_uris: Vec<String> = object["tag"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|t| t["type"] == "Mention")
        .filter_map(|t| t["href"].as_str().map(str::to_string))
        .collect();
    let mut mentioned = Vec::new();
    for mention in &mention_uris {
        if let Some(local) = local_account(state, mention).await? {
            mentioned.push(local.id);
        }
    }
    let content = sanitize::html(object["content"].as_str().unwrap_or_default());
    let language = object["contentMap"].as_object().and_then(|m| m.keys().next().cloned());
    let published = object["published"]
        .as_str()
        .and_then(|p| chrono::DateTime::parse_from_rfc3339(p).ok())
        .map(|d| d.naive_utc())
        .unwrap_or_else(time::now);
    let url = match &object["url"] {
        Value::String(s) => Some(s.clone()),
        other => id_of(other).map(str::to_string),
    };
    let mut tx = db.begin().await?;
    let conversation_id: i64 = match parent.and_then(|p| p.2) {
        Some(id) => id,
        None => {
            sqlx::query_scalar("INSERT INTO conversations (created_at, updated_at) VALUES ($1, $1) RETURNING id")
                .bind(time::now())
                .fetch_one(&mut *tx)
                .await?
        }
    };
    let status_id: i64 = sqlx::query_scalar(
        "INSERT INTO statuses (uri, url, text, spoiler_text, created_at, updated_at, in_reply_to_id, in_reply_to_account_id,
                               sensitive, visibility, reply, language, conversation_id, local, account_id)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, $12, false, $13)
         RETURNING id",
    )
    .bind(uri)
    .bind(url)
    .bind(&content)
    .bind(object["summary"].as_str().unwrap_or_default())
    .bind(published)
    .bind(parent.map(|p| p.0))
    .bind(parent.map(|p| p.1))
    .bind(object["sensitive"].as_bool().unwrap_or(false))
    .bind(visibility.db())
    .bind(object["inReplyTo"].is_string())
    .bind(language)
    .bind(conversation_id)
    .bind(signer.id)
    .fetch_one(&mut *tx)
    .await?;
    let created_mentions = posting::add_mentions(&mut tx, status_id, &mentioned).await?;
    polls::store_remote(&mut tx, signer.id, status_id, object).await?;
    let media =
        crate::effects::media::remote::insert_for_status(&mut tx, signer.id, status_id, &object["attachment"]).await?;
    if !media.is_empty() {
        sqlx::query("UPDATE statuses SET ordered_media_attachment_ids = $2 WHERE id = $1")
            .bind(status_id)
            .bind(&media)
            .execute(&mut *tx)
            .await?;
    }
    posting::set_tags_named(&mut tx, status_id, &hashtags(object)).await?;
    if let Some((parent_id, ..)) = parent {
        posting::bump_status_stat(&mut tx, parent_id, "replies_count", 1).await?;
    }
    if visibility != Visibility::Direct {
        accounts::bump_stat(&mut tx, signer.id, accounts::Counter::Statuses, 1).await?;
    }
    worker::enqueue(&mut *tx, Job::Distribute { status_id, update: false }).await?;
    search::reindex_later(state, &mut *tx, Kind::Status, status_id).await?;
    search::reindex_tags_of(state, &mut tx, status_id).await?;
    // A reply to a post this server has not seen: fetch it on `pull`, then link the two.
    if let (None, Some(parent_uri)) = (parent, object["inReplyTo"].as_str()) {
        worker::enqueue(&mut *tx, Job::FetchParent { status_id, parent_uri: parent_uri.to_string() }).await?;
    }
    tx.commit().await?;
    for (mention_id, account_id) in created_mentions {
        notifications::notify(state, account_id, signer.id, NotificationType::Mention, mention_id).await?;
    }
    Ok(Some(status_id))
}

/// An edited remote note: new text, the old version kept in the history, feeds updated.
/// An Update that changes only a poll's tallies is not an edit (no history entry). An
/// Update of the signer itself is a profile change.
async fn update(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
    let object = &activity["object"];
    let signer_uri = signer.actor_uri(&state.config);
    if id_of(object) == Some(signer_uri.as_str()) {
        // A profile change: the actor is fetched again from its server.
        return crate::effects::federation::remote::fetch_actor(state, &signer_uri).await.map(|_| ());
    }
    if !matches!(object["type"].as_str(), Some("Note" | "Question" | "Article")) {
        return Ok(());
    }
    let db = &state.db.primary;
    let status: Option<(i64, String, String, bool, chrono::NaiveDateTime)> = sqlx::query_as(
        "SELECT id, text, spoiler_text, sensitive, created_at FROM statuses
          WHERE uri = $1 AND account_id = $2 AND deleted_at IS NULL AND reblog_of_id IS NULL",
    )
    .bind(id_of(object).unwrap_or_default())
    .bind(signer.id)
    .fetch_optional(db)
    .await?;
    let Some((id, old_text, old_spoiler, old_sensitive, created_at)) = status else { return Ok(()) };
    let text = sanitize::html(object["content"].as_str().unwrap_or_default());
    let spoiler = object["summary"].as_str().unwrap_or_default();
    let sensitive = object["sensitive"].as_bool().unwrap_or(false);
    let mut tx = db.begin().await?;
    if (text.as_str(), spoiler, sensitive) == (old_text.as_str(), old_spoiler.as_str(), old_sensitive) {
        polls::update_remote(&mut tx, signer.id, id, object).await?;
        tx.commit().await?;
        return Ok(());
    }
    let edited_at = object["updated"]
        .as_str()
        .and_then(|u| chrono::DateTime::parse_from_rfc3339(u).ok())
        .map(|d| d.naive_utc())
        .unwrap_or_else(time::now);
    let first_edit: bool = sqlx::query_scalar("SELECT NOT EXISTS (SELECT 1 FROM status_edits WHERE status_id = $1)")
        .bind(id)
        .fetch_one(&mut *tx)
        .await?;
    if first_edit {
        let before = Version { text: &old_text, spoiler_text: &old_spoiler, sensitive: old_sensitive };
        posting::snapshot(&mut tx, id, signer.id, &before, created_at).await?;
    }
    sqlx::query(
        "UPDATE statuses SET text = $2, spoiler_text = $3, sensitive = $4, edited_at = $5, updated_at = $5 WHERE id = $1",
    )
    .bind(id)
    .bind(&text)
    .bind(spoiler)
    .bind(sensitive)
    .bind(edited_at)
    .execute(&mut *tx)
    .await?;
    polls::update_remote(&mut tx, signer.id, id, object).await?;
    posting::set_tags_named(&mut tx, id, &hashtags(object)).await?;
    let after = Version { text: &text, spoiler_text: spoiler, sensitive };
    posting::snapshot(&mut tx, id, signer.id, &after, edited_at).await?;
    worker::enqueue(&mut *tx, Job::Distribute { status_id: id, update: true }).await?;
    search::reindex_later(state, &mut *tx, Kind::Status, id).await?;
    tx.commit().await?;
    Ok(())
}

async fn delete(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
    let object = id_of(&activity["object"]).unwrap_or_default();
    if object == signer.actor_uri(&state.config) {
        return actor_changes::actor_deleted(state, signer).await;
    }
    remove_own_by_uri(state, signer, object).await
}

/// Removes the signer's status (or boost) with this URI, if there is one.
async fn remove_own_by_uri(state: &AppState, signer: &Account, uri: &str) -> Result<()> {
    let status: Option<i64> = sqlx::query_scalar("SELECT id FROM statuses WHERE uri = $1 AND account_id = $2")
        .bind(uri)
        .bind(signer.id)
        .fetch_optional(&state.db.primary)
        .await?;
    if let Some(id) = status {
        let status = statuses::find_own(&state.db.primary, id, signer.id).await?;
        posting::remove(state, &status).await?;
    }
    Ok(())
}

/// The `pull` job of a reply whose parent was unknown: fetches the parent (which may
/// queue its own parent in turn) and makes the reply point at it.
pub async fn fetch_parent(state: &AppState, status_id: i64, parent_uri: &str) -> Result<()> {
    let Some(crate::effects::federation::remote::Resolved::Status(parent_id)) =
        crate::effects::federation::remote::resolve_url(state, parent_uri).await?
    else {
        return Ok(());
    };
    sqlx::query(
        "UPDATE statuses s SET in_reply_to_id = p.id, in_reply_to_account_id = p.account_id,
                conversation_id = COALESCE(p.conversation_id, s.conversation_id)
           FROM statuses p
          WHERE s.id = $1 AND p.id = $2 AND s.in_reply_to_id IS NULL",
    )
    .bind(status_id)
    .bind(parent_id)
    .execute(&state.db.primary)
    .await?;
    Ok(())
}

// ---- outgoing ------------------------------------------------------------------------------

fn inbox_of(account: &Account, inbox_url: &str, shared_inbox_url: &str) -> Option<String> {
    let inbox = if shared_inbox_url.is_empty() { inbox_url } else { shared_inbox_url };
    (!account.is_local() && !inbox.is_empty()).then(|| inbox.to_string())
}

async fn inbox_urls(state: &AppState, account_id: i64) -> Result<(String, String)> {
    Ok(sqlx::query_as("SELECT inbox_url, shared_inbox_url FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&state.db.primary)
        .await?)
}

/// Queues one activity from local `sender` to remote `recipient`'s inbox.
async fn deliver_to(state: &AppState, sender: &Account, recipient: &Account, activity: Value) -> Result<()> {
    let (inbox, shared) = inbox_urls(state, recipient.id).await?;
    match inbox_of(recipient, &inbox, &shared) {
        Some(inbox) => {
            worker::enqueue(&state.db.primary, Job::Deliver { account_id: sender.id, inbox, activity }).await
        }
        None => Ok(()),
    }
}

fn reject_activity(state: &AppState, local: &Account, remote: &Account, follow_uri: &str) -> Value {
    let actor = local.actor_uri(&state.config);
    json!({
        "@context": CONTEXT,
        "id": format!("{actor}#rejects/follows/{}", remote.id),
        "type": "Reject",
        "actor": actor,
        "object": { "id": follow_uri, "type": "Follow", "actor": remote.actor_uri(&state.config), "object": actor },
    })
}

/// A new follow request from local `source` to a remote account: sends the Follow and
/// remembers its id on the request, to match the answer.
pub async fn follow_requested(state: &AppState, source: i64, target: i64) -> Result<()> {
    let (sender, recipient) =
        (accounts::get(&state.db.primary, source).await?, accounts::get(&state.db.primary, target).await?);
    let actor = sender.actor_uri(&state.config);
    let id = format!("{}/{}", state.config.base_url(), crate::domain::email::new_token());
    sqlx::query("UPDATE follow_requests SET uri = $3 WHERE account_id = $1 AND target_account_id = $2")
        .bind(source)
        .bind(target)
        .bind(&id)
        .execute(&state.db.primary)
        .await?;
    let activity = json!({ "@context": CONTEXT, "id": id, "type": "Follow", "actor": actor, "object": recipient.actor_uri(&state.config) });
    deliver_to(state, &sender, &recipient, activity).await
}

/// Local `target` now has remote `follower`: sends the Accept.
pub async fn follow_accepted(state: &AppState, target: i64, follower: i64) -> Result<()> {
    let (local, remote) =
        (accounts::get(&state.db.primary, target).await?, accounts::get(&state.db.primary, follower).await?);
    if remote.is_local() {
        return Ok(());
    }
    let follow: Option<(i64, Option<String>)> =
        sqlx::query_as("SELECT id, uri FROM follows WHERE account_id = $1 AND target_account_id = $2")
            .bind(follower)
            .bind(target)
            .fetch_optional(&state.db.primary)
            .await?;
    let Some((follow_id, Some(follow_uri))) = follow else { return Ok(()) };
    let actor = local.actor_uri(&state.config);
    let activity = json!({
        "@context": CONTEXT,
        "id": format!("{actor}#accepts/follows/{follow_id}"),
        "type": "Accept",
        "actor": actor,
        "object": { "id": follow_uri, "type": "Follow", "actor": remote.actor_uri(&state.config), "object": actor },
    });
    deliver_to(state, &local, &remote, activity).await
}

/// Local `source` stopped following (or asking to follow) remote `target`: Undo.
pub async fn unfollowed(state: &AppState, source: i64, target: i64, follow_uri: Option<String>) -> Result<()> {
    let (sender, recipient) =
        (accounts::get(&state.db.primary, source).await?, accounts::get(&state.db.primary, target).await?);
    if recipient.is_local() || !sender.is_local() {
        return Ok(());
    }
    let actor = sender.actor_uri(&state.config);
    let follow_id = follow_uri.unwrap_or_else(|| format!("{actor}#follows/{target}"));
    let activity = json!({
        "@context": CONTEXT,
        "id": format!("{follow_id}/undo"),
        "type": "Undo",
        "actor": actor,
        "object": { "id": follow_id, "type": "Follow", "actor": actor, "object": recipient.actor_uri(&state.config) },
    });
    deliver_to(state, &sender, &recipient, activity).await
}

/// Local `source` blocked (or unblocked) remote `target`: Block (or Undo), so the other
/// server can hide `source`'s content from `target`.
pub async fn blocked(state: &AppState, source: i64, target: i64, blocking: bool) -> Result<()> {
    let (sender, recipient) =
        (accounts::get(&state.db.primary, source).await?, accounts::get(&state.db.primary, target).await?);
    if recipient.is_local() || !sender.is_local() {
        return Ok(());
    }
    let actor = sender.actor_uri(&state.config);
    let block = json!({
        "id": format!("{actor}#blocks/{target}"), "type": "Block", "actor": actor, "object": recipient.actor_uri(&state.config),
    });
    let activity = done_or_undone(block, blocking, &actor);
    deliver_to(state, &sender, &recipient, activity).await
}

/// `activity` ready to send, or (when `done` is false) the `Undo` of it, whose id is the
/// activity's with `/undo`.
fn done_or_undone(mut activity: Value, done: bool, actor: &str) -> Value {
    if done {
        activity["@context"] = json!(CONTEXT);
        return activity;
    }
    let id = format!("{}/undo", activity["id"].as_str().unwrap_or_default());
    json!({ "@context": CONTEXT, "id": id, "type": "Undo", "actor": actor, "object": activity })
}

/// `to`/`cc` of a local status by visibility, as Mastodon addresses them.
fn audience(visibility: Visibility, followers: &str, mentioned: &[String]) -> (Vec<String>, Vec<String>) {
    let mut cc: Vec<String> = mentioned.to_vec();
    let to = match visibility {
        Visibility::Public => {
            cc.insert(0, followers.to_string());
            vec![PUBLIC.to_string()]
        }
        Visibility::Unlisted => {
            cc.insert(0, PUBLIC.to_string());
            vec![followers.to_string()]
        }
        Visibility::Private => vec![followers.to_string()],
        Visibility::Direct | Visibility::Limited => return (mentioned.to_vec(), Vec::new()),
    };
    (to, cc)
}

/// The inboxes of an account's remote followers, one per server where it has a shared inbox.
async fn follower_inboxes(state: &AppState, account_id: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT COALESCE(NULLIF(a.shared_inbox_url, ''), a.inbox_url)
           FROM follows f JOIN accounts a ON a.id = f.account_id
          WHERE f.target_account_id = $1 AND a.domain IS NOT NULL AND a.inbox_url <> ''",
    )
    .bind(account_id)
    .fetch_all(&state.db.primary)
    .await?)
}

/// Sends a new (Create) or edited (Update) local status to the servers that should have
/// it: its author's remote followers (unless direct), the remote accounts it mentions and
/// the remote author it replies to; updates also go to the remote voters in its poll.
pub async fn distribute_status(state: &AppState, status_id: i64, update: bool) -> Result<()> {
    // Most posts on a quiet or single-server instance reach nobody elsewhere: one cheap
    // check before rendering the note.
    let remote_audience: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM statuses s JOIN follows f ON f.target_account_id = s.account_id
                          JOIN accounts a ON a.id = f.account_id
                         WHERE s.id = $1 AND a.domain IS NOT NULL)
             OR EXISTS (SELECT 1 FROM mentions m JOIN accounts a ON a.id = m.account_id
                         WHERE m.status_id = $1 AND a.domain IS NOT NULL)
             OR EXISTS (SELECT 1 FROM statuses s JOIN accounts a ON a.id = s.in_reply_to_account_id
                         WHERE s.id = $1 AND a.domain IS NOT NULL)
             OR EXISTS (SELECT 1 FROM statuses s JOIN poll_votes v ON v.poll_id = s.poll_id
                          JOIN accounts a ON a.id = v.account_id
                         WHERE s.id = $1 AND a.domain IS NOT NULL)",
    )
    .bind(status_id)
    .fetch_one(&state.db.primary)
    .await?;
    if !remote_audience {
        return Ok(());
    }
    let Some(local) = local_note(state, status_id).await? else { return Ok(()) };
    let LocalNote { mut note, author, visibility, addressed_inboxes } = local;
    let actor = author.actor_uri(&state.config);
    let uri = note["id"].as_str().unwrap_or_default().to_string();
    let edited = note["updated"].as_str().map(str::to_string);
    let (kind, activity_id) = if update {
        // An edit, or new poll tallies (no `updated`: not an edit).
        let version = edited.unwrap_or_else(|| chrono::Utc::now().timestamp().to_string());
        ("Update", format!("{uri}#updates/{version}"))
    } else {
        note.as_object_mut().map(|n| n.remove("updated"));
        ("Create", format!("{uri}/activity"))
    };
    let activity = json!({
        "@context": CONTEXT,
        "id": activity_id,
        "type": kind,
        "actor": actor,
        "published": note["published"],
        "to": note["to"],
        "cc": note["cc"],
        "object": note,
    });
    let mut inboxes =
        if visibility == Visibility::Direct { Vec::new() } else { follower_inboxes(state, author.id).await? };
    let voters = if update { polls::voter_inboxes(state, status_id).await? } else { Vec::new() };
    for inbox in addressed_inboxes.into_iter().chain(voters) {
        if !inboxes.contains(&inbox) {
            inboxes.push(inbox);
        }
    }
    for inbox in inboxes {
        worker::enqueue(&state.db.primary, Job::Deliver { account_id: author.id, inbox, activity: activity.clone() })
            .await?;
    }
    Ok(())
}

/// A local status as an ActivityPub `Note`, with what delivering it needs.
struct LocalNote {
    note: Value,
    author: Account,
    visibility: Visibility,
    /// Inboxes of the remote accounts it mentions or replies to.
    addressed_inboxes: Vec<String>,
}

async fn local_note(state: &AppState, status_id: i64) -> Result<Option<LocalNote>> {
    let bundle = hydrate::load_authorized(&state.db.primary, &[status_id]).await?;
    let Some(status) = bundle.status(status_id) else { return Ok(None) };
    let Some(author) = bundle.account(status.account_id).filter(|a| a.is_local()) else { return Ok(None) };
    if status.reblog_of_id.is_some() {
        return Ok(None);
    }
    let mentions: Vec<(String, String, String)> = sqlx::query_as(
        "SELECT a.uri, a.inbox_url, a.shared_inbox_url FROM mentions m JOIN accounts a ON a.id = m.account_id
          WHERE m.status_id = $1 AND a.domain IS NOT NULL",
    )
    .bind(status_id)
    .fetch_all(&state.db.primary)
    .await?;
    let actor = author.actor_uri(&state.config);
    let followers = format!("{actor}/followers");
    let mentioned: Vec<String> = mentions.iter().map(|m| m.0.clone()).collect();
    let (to, cc) = audience(status.visibility(), &followers, &mentioned);
    // The post it replies to, and its author's inbox when remote (they hear of replies).
    let parent: Option<(Option<String>, Option<String>)> = match status.in_reply_to_id {
        Some(id) => {
            sqlx::query_as(
                "SELECT s.uri, CASE WHEN a.domain IS NOT NULL
                                    THEN COALESCE(NULLIF(a.shared_inbox_url, ''), NULLIF(a.inbox_url, '')) END
                   FROM statuses s JOIN accounts a ON a.id = s.account_id WHERE s.id = $1",
            )
            .bind(id)
            .fetch_optional(&state.db.primary)
            .await?
        }
        None => None,
    };
    let (parent_uri, parent_inbox) = parent.unwrap_or_default();
    let content = entities::content_html(status_id, &bundle, &state.config).unwrap_or_default();
    let base = state.config.base_url();
    let mut tags: Vec<Value> = mentions.iter().map(|m| json!({ "type": "Mention", "href": m.0 })).collect();
    tags.extend(bundle.tags.get(&status_id).into_iter().flatten().map(|name| {
        json!({ "type": "Hashtag", "href": format!("{base}/tags/{}", name.to_lowercase()), "name": format!("#{name}") })
    }));
    let attachments: Vec<Value> =
        bundle.media.get(&status_id).into_iter().flatten().map(|m| document(m, &state.config)).collect();
    let uri = status.uri.clone().unwrap_or_default();
    let mut note = json!({
        "id": uri,
        "type": "Note",
        "summary": if status.spoiler_text.is_empty() { Value::Null } else { json!(status.spoiler_text) },
        "inReplyTo": parent_uri,
        "published": time::iso(&status.created_at),
        "updated": status.edited_at.as_ref().map(time::iso),
        "url": format!("{}/@{}/{}", state.config.base_url(), author.username, status.id),
        "attributedTo": actor,
        "to": to,
        "cc": cc,
        "sensitive": status.sensitive,
        "content": content,
        "contentMap": status.language.as_ref().map(|l| json!({ l: content })),
        "tag": tags,
        "attachment": attachments,
        "replies": crate::effects::federation::threads::replies_link(&uri),
    });
    if let Some((poll, _)) = status.poll_id.and_then(|id| bundle.polls.get(&id)) {
        polls::as_question(&mut note, poll);
    }
    let addressed_inboxes = mentions
        .into_iter()
        .map(|(_, inbox, shared)| if shared.is_empty() { inbox } else { shared })
        .filter(|inbox| !inbox.is_empty())
        .chain(parent_inbox.filter(|_| status.visibility() != Visibility::Direct))
        .collect();
    Ok(Some(LocalNote { note, author: author.clone(), visibility: status.visibility(), addressed_inboxes }))
}

/// A local attachment as an ActivityPub `Document` (ActivityPub::NoteSerializer's).
fn document(media: &crate::effects::media::MediaAttachment, config: &crate::core::config::Config) -> Value {
    let rendered = entities::media_attachment(media, config);
    let meta = media.api_meta();
    let mut document = json!({
        "type": "Document",
        "mediaType": media.file_content_type,
        "url": rendered["url"],
        "name": media.description,
        "blurhash": media.blurhash,
    });
    if let (Some(width), Some(height)) = (meta["original"]["width"].as_u64(), meta["original"]["height"].as_u64()) {
        document["width"] = json!(width);
        document["height"] = json!(height);
    }
    if let (Some(x), Some(y)) = (meta["focus"]["x"].as_f64(), meta["focus"]["y"].as_f64()) {
        document["focalPoint"] = json!([x, y]);
    }
    document
}

/// `GET /users/:username/statuses/:id` as ActivityPub: the Note of a public or unlisted
/// local status (others are not served to unsigned fetches).
pub async fn status_object(state: &AppState, username: &str, status_id: i64) -> Result<Value> {
    let local = local_note(state, status_id).await?.ok_or(Error::NotFound)?;
    if !local.author.username.eq_ignore_ascii_case(username) || local.visibility > Visibility::Unlisted {
        return Err(Error::NotFound);
    }
    let mut note = local.note;
    note["@context"] = json!(CONTEXT);
    Ok(note)
}

/// The inbox of a status's author, when the author is remote.
async fn author_inbox(state: &AppState, status_id: i64) -> Result<Option<(String, String)>> {
    let found: Option<(String, String, String)> = sqlx::query_as(
        "SELECT s.uri, COALESCE(NULLIF(a.shared_inbox_url, ''), a.inbox_url), a.uri
           FROM statuses s JOIN accounts a ON a.id = s.account_id
          WHERE s.id = $1 AND a.domain IS NOT NULL AND a.inbox_url <> '' AND s.uri IS NOT NULL",
    )
    .bind(status_id)
    .fetch_optional(&state.db.primary)
    .await?;
    Ok(found.map(|(uri, inbox, _)| (uri, inbox)))
}

/// A local account favourited (or stopped favouriting) a remote status: Like (or Undo).
pub async fn liked(state: &AppState, account_id: i64, status: &statuses::Status, liked: bool) -> Result<()> {
    if status.is_local() {
        return Ok(());
    }
    let status_id = status.id;
    let Some((object, inbox)) = author_inbox(state, status_id).await? else { return Ok(()) };
    let actor = accounts::get(&state.db.primary, account_id).await?.actor_uri(&state.config);
    let like = json!({ "id": format!("{actor}#likes/{status_id}"), "type": "Like", "actor": actor, "object": object });
    let activity = done_or_undone(like, liked, &actor);
    worker::enqueue(&state.db.primary, Job::Deliver { account_id, inbox, activity }).await
}

/// A local reblog made (or removed): Announce (or Undo) to the booster's followers' servers
/// and the original author's.
pub async fn announced(state: &AppState, reblog: &statuses::Status, announced: bool) -> Result<()> {
    let (Some(original_id), Some(uri)) = (reblog.reblog_of_id, reblog.uri.clone()) else { return Ok(()) };
    let booster = accounts::get(&state.db.primary, reblog.account_id).await?;
    if !booster.is_local() {
        return Ok(());
    }
    let original: Option<String> = sqlx::query_scalar("SELECT uri FROM statuses WHERE id = $1")
        .bind(original_id)
        .fetch_optional(&state.db.primary)
        .await?
        .flatten();
    let Some(object) = original else { return Ok(()) };
    let actor = booster.actor_uri(&state.config);
    let followers = format!("{actor}/followers");
    let (to, cc) = audience(reblog.visibility(), &followers, &[]);
    let announce = json!({
        "id": uri, "type": "Announce", "actor": actor, "published": time::iso(&reblog.created_at),
        "to": to, "cc": cc, "object": object,
    });
    let activity = done_or_undone(announce, announced, &actor);
    let mut inboxes = follower_inboxes(state, booster.id).await?;
    if let Some((_, inbox)) = author_inbox(state, original_id).await?
        && !inboxes.contains(&inbox)
    {
        inboxes.push(inbox);
    }
    for inbox in inboxes {
        worker::enqueue(&state.db.primary, Job::Deliver { account_id: booster.id, inbox, activity: activity.clone() })
            .await?;
    }
    Ok(())
}

/// Queues `activity` from local `account` to the servers its followers are on.
pub(crate) async fn deliver_to_followers(state: &AppState, account: &Account, activity: &Value) -> Result<()> {
    for inbox in follower_inboxes(state, account.id).await? {
        worker::enqueue(&state.db.primary, Job::Deliver { account_id: account.id, inbox, activity: activity.clone() })
            .await?;
    }
    Ok(())
}

/// A deleted local status: a Delete to the servers its author's followers are on.
pub async fn status_deleted(state: &AppState, author: &Account, uri: &str) -> Result<()> {
    if !author.is_local() {
        return Ok(());
    }
    let actor = author.actor_uri(&state.config);
    let activity = json!({
        "@context": CONTEXT,
        "id": format!("{uri}#delete"),
        "type": "Delete",
        "actor": actor,
        "to": [PUBLIC],
        "object": { "id": uri, "type": "Tombstone" },
    });
    deliver_to_followers(state, author, &activity).await
}

/// One delivery: a POST signed with the sender's key. A refusal (4xx other than 408/429)
/// is final, as in Mastodon; server errors and network failures are retried, and tracked
/// per host (see `availability`).
pub async fn deliver(state: &AppState, account_id: i64, inbox: &str, activity: &Value) -> Result<()> {
    let host = authority(inbox).unwrap_or_default();
    if availability::is_unavailable(state, &host).await? || domain_blocks::is_suspended(state, &host).await? {
        tracing::debug!(inbox, "not delivered: the server is unavailable or blocked");
        return Ok(());
    }
    if availability::breaker_open(state, &host).await? {
        return Err(Error::internal(format!("{host}: too many failed deliveries, pausing")));
    }
    let sender = accounts::get(&state.db.primary, account_id).await?;
    let signer = crate::effects::federation::instance_actor::signer_of(state, &sender).await?;
    let body = serde_json::to_vec(activity).map_err(Error::internal)?;
    let status = match state.http.post_signed(inbox, &body, &signer).await {
        Ok(status) => status,
        Err(e) => {
            availability::track_failure(state, &host).await?;
            return Err(e);
        }
    };
    match status {
        200..=299 => availability::track_success(state, &host).await,
        408 | 429 | 500..=599 => {
            availability::track_failure(state, &host).await?;
            Err(Error::internal(format!("{inbox} answered {status}")))
        }
        _ => {
            tracing::warn!(inbox, status, "delivery refused; not retried");
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn audiences_follow_visibility() {
        let followers = "https://a.example/users/x/followers";
        let note = |to: Value, cc: Value| json!({ "to": to, "cc": cc });
        assert_eq!(visibility(&note(json!([PUBLIC]), json!([followers])), followers), Visibility::Public);
        assert_eq!(visibility(&note(json!([followers]), json!(["as:Public"])), followers), Visibility::Unlisted);
        assert_eq!(visibility(&note(json!(followers), json!([])), followers), Visibility::Private);
        assert_eq!(visibility(&note(json!(["https://b.example/users/y"]), json!([])), followers), Visibility::Direct);
        let (to, cc) = audience(Visibility::Unlisted, followers, &["m".into()]);
        assert_eq!((to, cc), (vec![followers.to_string()], vec![PUBLIC.to_string(), "m".to_string()]));
    }
}
