//! Outgoing activities (the `push` queue, Mastodon's ActivityPub::DeliveryWorker): what a
//! local account's follows, blocks, posts, boosts and favourites send, and one signed POST
//! per inbox; followers sharing a server get one delivery to its shared inbox. (Incoming
//! ones are the inbox's.)

use serde_json::{Value, json};

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::core::queue;
use crate::core::time;
use crate::domain::domain_blocks;
use crate::effects::federation::remote::authority;
use crate::effects::federation::{Job, availability, polls};
use crate::model::accounts::{self, Account};
use crate::model::hydrate;
use crate::model::statuses::{self, Visibility};
use crate::render::activitypub::{CONTEXT, PUBLIC};
use crate::render::entities;

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
            queue::enqueue(&state.db.primary, &Job::Deliver { account_id: sender.id, inbox, activity }).await
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
    if recipient.is_local() || !sender.is_local() {
        return Ok(());
    }
    let actor = sender.actor_uri(&state.config);
    // The id the request was stored with, so that a later Undo names the same Follow.
    let stored: Option<Option<String>> =
        sqlx::query_scalar("SELECT uri FROM follow_requests WHERE account_id = $1 AND target_account_id = $2")
            .bind(source)
            .bind(target)
            .fetch_optional(&state.db.primary)
            .await?;
    let Some(Some(id)) = stored else { return Ok(()) };
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

/// Local `target` declined remote `requester`'s follow request (the Follow `follow_uri`):
/// sends the Reject.
pub async fn follow_rejected(state: &AppState, target: i64, requester: i64, follow_uri: Option<String>) -> Result<()> {
    let (local, remote) =
        (accounts::get(&state.db.primary, target).await?, accounts::get(&state.db.primary, requester).await?);
    let Some(follow_uri) = follow_uri.filter(|_| local.is_local() && !remote.is_local()) else { return Ok(()) };
    deliver_to(state, &local, &remote, reject_activity(state, &local, &remote, &follow_uri)).await
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
        queue::enqueue(&state.db.primary, &Job::Deliver { account_id: author.id, inbox, activity: activity.clone() })
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
        "sensitive": status.sensitive || author.sensitized_at.is_some(),
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
fn document(media: &crate::model::media::MediaAttachment, config: &crate::core::config::Config) -> Value {
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
    let account = accounts::get(&state.db.primary, account_id).await?;
    // A remote account's favourite came from its server, which tells the others itself.
    if status.is_local() || !account.is_local() {
        return Ok(());
    }
    let status_id = status.id;
    let Some((object, inbox)) = author_inbox(state, status_id).await? else { return Ok(()) };
    let actor = account.actor_uri(&state.config);
    let like = json!({ "id": format!("{actor}#likes/{status_id}"), "type": "Like", "actor": actor, "object": object });
    let activity = done_or_undone(like, liked, &actor);
    queue::enqueue(&state.db.primary, &Job::Deliver { account_id, inbox, activity }).await
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
        queue::enqueue(&state.db.primary, &Job::Deliver { account_id: booster.id, inbox, activity: activity.clone() })
            .await?;
    }
    Ok(())
}

/// Queues `activity` from local `account` to the servers its followers are on.
pub(crate) async fn deliver_to_followers(state: &AppState, account: &Account, activity: &Value) -> Result<()> {
    deliver_to_inboxes(state, account.id, follower_inboxes(state, account.id).await?, activity).await
}

/// Queues one delivery of `account_id`'s activity to each inbox.
async fn deliver_to_inboxes(state: &AppState, account_id: i64, inboxes: Vec<String>, activity: &Value) -> Result<()> {
    for inbox in inboxes {
        queue::enqueue(&state.db.primary, &Job::Deliver { account_id, inbox, activity: activity.clone() }).await?;
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

/// A deleted local account: a `Delete` of its actor, signed with its key, to the servers
/// that knew it.
pub async fn actor_deleted(state: &AppState, account_id: i64, inboxes: Vec<String>) -> Result<()> {
    let Some(account) = accounts::find(&state.db.primary, account_id).await? else { return Ok(()) };
    let actor = account.actor_uri(&state.config);
    let activity = json!({
        "@context": CONTEXT,
        "id": format!("{actor}#delete"),
        "type": "Delete",
        "actor": actor,
        "to": [PUBLIC],
        "object": actor,
    });
    deliver_to_inboxes(state, account_id, inboxes, &activity).await
}

/// One delivery (job `job_id`): a POST signed with the sender's key.
///
/// - 2xx: done, and marked so, so that the job running again after its worker died does
///   not deliver twice.
/// - Another 4xx than 408 and 429: a refusal, final (not retried), and a failed day for the
///   server's availability.
/// - 429 (and 503) with `Retry-After`: retried no sooner than asked.
/// - 408, 5xx, resets and timeouts: retried with Mastodon's backoff.
///
/// Failures are tracked per host (see `availability`).
pub async fn deliver(state: &AppState, job_id: i64, account_id: i64, inbox: &str, activity: &Value) -> Result<()> {
    let host = authority(inbox).unwrap_or_default();
    if availability::is_unavailable(state, &host).await? || domain_blocks::is_suspended(state, &host).await? {
        tracing::debug!(inbox, "not delivered: the server is unavailable or blocked");
        return Ok(());
    }
    let delivered = state.redis.key(format!("ferrodon:delivered:{job_id}"));
    let mut redis = state.redis.conn().await?;
    if redis::AsyncCommands::exists(&mut redis, &delivered).await? {
        return Ok(());
    }
    if availability::breaker_open(state, &host).await? {
        return Err(Error::internal(format!("{host}: too many failed deliveries, pausing")));
    }
    // A suspended sender still signs: its suspension itself is announced this way.
    let sender = accounts::find(&state.db.primary, account_id).await?.ok_or(Error::NotFound)?;
    let signer = crate::effects::federation::instance_actor::signer_of(state, &sender).await?;
    let body = serde_json::to_vec(activity).map_err(Error::internal)?;
    let (status, retry_after) = match state.http.post_signed(inbox, &body, &signer).await {
        Ok(answer) => answer,
        Err(e) => {
            availability::track_failure(state, &host).await?;
            return Err(e);
        }
    };
    let reason = format!("{inbox} answered {status}");
    match status {
        200..=299 => {
            let _: () = redis::AsyncCommands::set_ex(&mut redis, &delivered, 1, 7 * 86_400).await?;
            availability::track_success(state, &host).await
        }
        429 | 503 if retry_after.is_some() => {
            availability::track_failure(state, &host).await?;
            Err(Error::RetryLater { after_seconds: retry_after.unwrap_or_default(), reason })
        }
        408 | 429 | 500..=599 => {
            availability::track_failure(state, &host).await?;
            Err(Error::internal(reason))
        }
        _ => {
            availability::track_failure(state, &host).await?;
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
        let visibility = crate::effects::federation::notes::visibility;
        assert_eq!(visibility(&note(json!([PUBLIC]), json!([followers])), followers), Visibility::Public);
        assert_eq!(visibility(&note(json!([followers]), json!(["as:Public"])), followers), Visibility::Unlisted);
        assert_eq!(visibility(&note(json!(followers), json!([])), followers), Visibility::Private);
        assert_eq!(visibility(&note(json!(["https://b.example/users/y"]), json!([])), followers), Visibility::Direct);
        let (to, cc) = audience(Visibility::Unlisted, followers, &["m".into()]);
        assert_eq!((to, cc), (vec![followers.to_string()], vec![PUBLIC.to_string(), "m".to_string()]));
    }
}
