//! Live events for the streaming server, over Redis pub/sub on Mastodon's channel names
//! (`timeline:<id>`, `timeline:<id>:notifications`, `timeline:public[:local|:remote]`,
//! `timeline:hashtag:<name>[:local]`, …). Messages are `{"event": …, "payload": …}`.
//! Per-user events are only published while `subscribed:<channel>` exists, which the
//! streaming server keeps alive for the channels it listens to.

use redis::AsyncCommands;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;
use crate::core::error::Result;
use crate::core::queue;
use crate::core::text::normalize_hashtag;
use crate::model::accounts;
use crate::model::hydrate;
use crate::model::notifications;
use crate::model::statuses::{Status, Visibility};
use crate::render::entities;

pub fn user_channel(account_id: i64) -> String {
    format!("timeline:{account_id}")
}

pub fn list_channel(list_id: i64) -> String {
    format!("timeline:list:{list_id}")
}

/// ferrodon-only: a sorted set of the accounts with a live user stream (score: when the
/// streaming server's subscription lapses), kept beside Mastodon's `subscribed:` keys so
/// fan-out can ask about a whole batch of followers in one command.
pub const LISTENING_KEY: &str = "ferrodon:streaming:listening";

/// The account of a `timeline:<id>` channel.
pub fn account_of_user_channel(channel: &str) -> Option<i64> {
    channel.strip_prefix("timeline:").and_then(|id| id.parse().ok())
}

/// Which of `accounts` have a live user stream (one round trip).
pub async fn listening_among(state: &AppState, accounts: &[i64]) -> Result<Vec<i64>> {
    if accounts.is_empty() {
        return Ok(Vec::new());
    }
    let mut conn = state.redis.conn().await?;
    let scores: Vec<Option<f64>> =
        redis::cmd("ZMSCORE").arg(state.redis.key(LISTENING_KEY)).arg(accounts).query_async(&mut conn).await?;
    let now = chrono::Utc::now().timestamp() as f64;
    Ok(accounts.iter().zip(scores).filter(|(_, s)| s.is_some_and(|s| s > now)).map(|(a, _)| *a).collect())
}

pub fn notifications_channel(account_id: i64) -> String {
    format!("timeline:{account_id}:notifications")
}

pub fn access_token_channel(token_id: i64) -> String {
    format!("timeline:access_token:{token_id}")
}

pub fn system_channel(account_id: i64) -> String {
    format!("timeline:system:{account_id}")
}

/// Publishes one message; `payload` is an object for statuses and notifications, a
/// string id for deletes.
pub async fn publish(state: &AppState, channel: &str, event: &str, payload: Value) -> Result<()> {
    let message = json!({ "event": event, "payload": payload }).to_string();
    let mut conn = state.redis.conn().await?;
    let _: i64 = conn.publish(state.redis.key(channel), message).await?;
    Ok(())
}

/// Which of `channels` a streaming client currently listens to (one round trip).
pub async fn subscribed(state: &AppState, channels: &[String]) -> Result<Vec<bool>> {
    if channels.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for channel in channels {
        pipe.exists(state.redis.key(format!("subscribed:{channel}")));
    }
    let mut conn = state.redis.conn().await?;
    Ok(pipe.query_async(&mut conn).await?)
}

/// After fan-out: sends `update` (or `status.update` for edits) to the home streams of
/// the receivers who are listening, each with their own flags.
pub async fn status_to_homes(state: &AppState, status: &Status, receivers: &[i64], update: bool) -> Result<()> {
    let listening = listening_among(state, receivers).await?;
    status_to_listeners(state, status, &listening, update).await
}

/// `status_to_homes` for receivers already known to be listening.
pub async fn status_to_listeners(state: &AppState, status: &Status, listening: &[i64], update: bool) -> Result<()> {
    if listening.is_empty() {
        return Ok(());
    }
    let mut bundle = hydrate::load_authorized(&state.db.primary, &[status.id]).await?;
    let ids: Vec<i64> = bundle.statuses.keys().copied().collect();
    let flags = hydrate::viewer_flags_many(&state.db.primary, listening, &ids).await?;
    let event = if update { "status.update" } else { "update" };
    // Viewers whose flags are alike get the same bytes: a new status is rendered once.
    let mut rendered: std::collections::HashMap<Vec<bool>, String> = std::collections::HashMap::new();
    let no_flags = hydrate::ViewerFlags::default();
    let shown: Vec<i64> = std::iter::once(status.id).chain(status.reblog_of_id).collect();
    let mut pipe = redis::pipe();
    for viewer in listening {
        let f = flags.get(viewer).unwrap_or(&no_flags);
        let signature: Vec<bool> = shown
            .iter()
            .flat_map(|id| {
                let owner = bundle.status(*id).is_some_and(|s| s.account_id == *viewer);
                [
                    f.favourited.contains(id),
                    f.reblogged.contains(id),
                    f.bookmarked.contains(id),
                    f.pinned.contains(id),
                    owner,
                ]
            })
            .collect();
        if !rendered.contains_key(&signature) {
            // The one mapper, as this viewer sees the status (flags, and what owners see).
            bundle.viewer = Some(*viewer);
            bundle.flags = f.clone();
            let Some(payload) = entities::status_json(status.id, &bundle, &state.config) else { return Ok(()) };
            rendered.insert(signature.clone(), json!({ "event": event, "payload": payload }).to_string());
        }
        pipe.publish(state.redis.key(user_channel(*viewer)), rendered[&signature].as_str()).ignore();
    }
    let mut conn = state.redis.conn().await?;
    let _: () = pipe.query_async(&mut conn).await?;
    Ok(())
}

/// `update` (or `status.update`) to the streams of the lists a status went into. List
/// events carry the owner's flags; lists are few, so this renders per owner.
pub async fn status_to_lists(state: &AppState, status: &Status, lists: &[i64], update: bool) -> Result<()> {
    let channels: Vec<String> = lists.iter().map(|l| list_channel(*l)).collect();
    let listening: Vec<i64> =
        subscribed(state, &channels).await?.into_iter().zip(lists).filter(|(s, _)| *s).map(|(_, l)| *l).collect();
    if listening.is_empty() {
        return Ok(());
    }
    let owners: Vec<(i64, i64)> = sqlx::query_as("SELECT id, account_id FROM lists WHERE id = ANY($1)")
        .bind(&listening)
        .fetch_all(&state.db.primary)
        .await?;
    let event = if update { "status.update" } else { "update" };
    for (list, owner) in owners {
        let bundle = hydrate::load(&state.db.primary, &[status.id], Some(owner)).await?;
        if let Some(payload) = entities::status(status.id, &bundle, &state.config) {
            publish(state, &list_channel(list), event, payload).await?;
        }
    }
    Ok(())
}

/// `delete` to the home streams of `accounts` and the streams of `lists`, where someone
/// listens, in one pipeline.
pub async fn status_removed_from_feeds(
    state: &AppState,
    status_id: i64,
    accounts: &[i64],
    lists: &[i64],
) -> Result<()> {
    let list_channels: Vec<String> = lists.iter().map(|l| list_channel(*l)).collect();
    let mut channels: Vec<String> = listening_among(state, accounts).await?.into_iter().map(user_channel).collect();
    channels.extend(
        subscribed(state, &list_channels).await?.into_iter().zip(list_channels).filter(|(s, _)| *s).map(|(_, c)| c),
    );
    if channels.is_empty() {
        return Ok(());
    }
    let message = json!({ "event": "delete", "payload": status_id.to_string() }).to_string();
    let mut pipe = redis::pipe();
    for channel in &channels {
        pipe.publish(state.redis.key(channel), &message).ignore();
    }
    let mut conn = state.redis.conn().await?;
    let _: () = pipe.query_async(&mut conn).await?;
    Ok(())
}

/// The public and hashtag channels a status goes to: public, not a reblog, and (for the
/// public timelines) not a reply to someone else.
fn public_channels(status: &Status, tags: &[String]) -> Vec<String> {
    if status.visibility() != Visibility::Public || status.reblog_of_id.is_some() {
        return Vec::new();
    }
    let locality = if status.is_local() { "local" } else { "remote" };
    let mut channels = Vec::new();
    for tag in tags {
        let name = normalize_hashtag(tag);
        channels.push(format!("timeline:hashtag:{name}"));
        if status.is_local() {
            channels.push(format!("timeline:hashtag:{name}:local"));
        }
    }
    let reply_to_other = status.reply && status.in_reply_to_account_id != Some(status.account_id);
    if !reply_to_other {
        channels.push("timeline:public".into());
        channels.push(format!("timeline:public:{locality}"));
    }
    channels
}

/// Sends a new or edited public status to the public and hashtag streams (no viewer).
pub async fn status_to_public(state: &AppState, status: &Status, update: bool) -> Result<()> {
    let bundle = hydrate::load_authorized(&state.db.primary, &[status.id]).await?;
    let tags = bundle.tags.get(&status.id).cloned().unwrap_or_default();
    let channels = public_channels(status, &tags);
    if channels.is_empty() {
        return Ok(());
    }
    let silenced = bundle.account(status.account_id).is_some_and(|a| a.silenced_at.is_some());
    let Some(payload) = entities::status(status.id, &bundle, &state.config).filter(|_| !silenced) else {
        return Ok(());
    };
    let event = if update { "status.update" } else { "update" };
    for channel in channels {
        publish(state, &channel, event, payload.clone()).await?;
    }
    Ok(())
}

/// The streaming effects that are not part of a fan-out.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(tag = "type")]
pub enum Job {
    /// A new notification, to its recipient's notification stream.
    Notification { account_id: i64, notification_id: i64 },
    /// A deleted public status, to the public and hashtag streams (home streams hear of it
    /// when it leaves their feeds).
    StatusDeleted { status: Box<Status>, tags: Vec<String> },
    /// Accepted notification requests, to the user's notification stream.
    NotificationsMerged { account_id: i64 },
    /// Changed filters, to the user's stream (apps fetch them again).
    FiltersChanged { account_id: i64 },
    /// A changed direct conversation, to its owner's `direct` stream.
    Conversation { account_id: i64, account_conversation_id: i64 },
    /// Ends every stream opened with a revoked token.
    KillToken { token_id: i64 },
    /// Ends every stream of an account (its user was disabled or suspended).
    KillAccount { account_id: i64 },
}

impl queue::Job for Job {
    const FAMILY: &'static str = "Streaming";
}

impl Job {
    /// `job_id` identifies this job's run: a job that runs again (its worker died after
    /// publishing) publishes nothing more.
    pub async fn perform(self, state: &AppState, job_id: i64) -> Result<()> {
        let messages = match self {
            Job::Notification { account_id, notification_id } => {
                notification(state, account_id, notification_id).await?.into_iter().collect()
            }
            Job::NotificationsMerged { account_id } => {
                let message = json!({ "event": "notifications_merged", "payload": "1" }).to_string();
                vec![(notifications_channel(account_id), message)]
            }
            Job::FiltersChanged { account_id } => {
                // As Mastodon: streaming servers reload the filters they apply to this user.
                let message = json!({ "event": "filters_changed" }).to_string();
                vec![(user_channel(account_id), message.clone()), (system_channel(account_id), message)]
            }
            Job::Conversation { account_id, account_conversation_id } => {
                conversation(state, account_id, account_conversation_id).await?.into_iter().collect()
            }
            Job::StatusDeleted { status, tags } => {
                let message = json!({ "event": "delete", "payload": status.id.to_string() }).to_string();
                public_channels(&status, &tags).into_iter().map(|c| (c, message.clone())).collect()
            }
            Job::KillToken { token_id } => {
                vec![(access_token_channel(token_id), json!({ "event": "kill", "payload": "1" }).to_string())]
            }
            Job::KillAccount { account_id } => {
                vec![(system_channel(account_id), json!({ "event": "kill", "payload": "1" }).to_string())]
            }
        };
        publish_once(state, job_id, &messages).await
    }
}

/// Publishes `messages` (channel, message) unless job `job_id` already did: the marker and
/// the messages go in one script, so they happen together or not at all.
async fn publish_once(state: &AppState, job_id: i64, messages: &[(String, String)]) -> Result<()> {
    if messages.is_empty() {
        return Ok(());
    }
    static SCRIPT: std::sync::LazyLock<redis::Script> = std::sync::LazyLock::new(|| {
        redis::Script::new(
            "if redis.call('SET', KEYS[1], '1', 'NX', 'EX', 86400) then
               for i = 1, #ARGV, 2 do redis.call('PUBLISH', ARGV[i], ARGV[i + 1]) end
             end
             return 0",
        )
    });
    let mut invocation = SCRIPT.prepare_invoke();
    invocation.key(state.redis.key(format!("ferrodon:published:{job_id}")));
    for (channel, message) in messages {
        invocation.arg(state.redis.key(channel)).arg(message);
    }
    let mut conn = state.redis.conn().await?;
    let _: i64 = invocation.invoke_async(&mut conn).await?;
    Ok(())
}

/// The `conversation` event for an owner listening on their `direct` stream (nothing when the
/// conversation was removed meanwhile).
async fn conversation(state: &AppState, account_id: i64, id: i64) -> Result<Option<(String, String)>> {
    let channel = format!("timeline:direct:{account_id}");
    if !subscribed(state, std::slice::from_ref(&channel)).await?.first().copied().unwrap_or(false) {
        return Ok(None);
    }
    let db = &state.db.primary;
    let found = match crate::model::conversations::find(db, account_id, id).await {
        Err(crate::Error::NotFound) => return Ok(None),
        other => other?,
    };
    let rendered = crate::render::conversations::render(db, &state.config, account_id, &[found]).await?;
    let Some(payload) = rendered.into_iter().next() else { return Ok(None) };
    Ok(Some((channel, json!({ "event": "conversation", "payload": payload }).to_string())))
}

/// The `notification` event for a recipient listening on their notification stream.
async fn notification(state: &AppState, recipient: i64, notification_id: i64) -> Result<Option<(String, String)>> {
    let channel = notifications_channel(recipient);
    if !subscribed(state, std::slice::from_ref(&channel)).await?.first().copied().unwrap_or(false) {
        return Ok(None);
    }
    let db = &state.db.primary;
    let n = notifications::get(db, recipient, notification_id).await?;
    let Some(from) = accounts::find(db, n.from_account_id).await? else { return Ok(None) };
    let status_ids: Vec<i64> = n.status_id.into_iter().collect();
    let bundle = hydrate::load(db, &status_ids, Some(recipient)).await?;
    let report = match n.kind.as_str() {
        notifications::REPORT_TYPE => Some(crate::model::reports::find(db, n.activity_id).await?),
        _ => None,
    };
    let warning = match n.kind.as_str() {
        notifications::WARNING_TYPE => crate::model::warnings::find_many(db, &[n.activity_id]).await?.pop(),
        _ => None,
    };
    let target_id = report.as_ref().map(|r| r.target_account_id).or(warning.as_ref().map(|w| w.target_account_id));
    let target = match target_id {
        Some(id) => accounts::find(db, id).await?,
        None => None,
    };
    let carried = match (&report, &warning, &target) {
        (Some(r), _, Some(t)) => entities::Carried::Report(r, t),
        (_, Some(w), Some(t)) => entities::Carried::Warning(w, t),
        _ => entities::Carried::Nothing,
    };
    Ok(entities::notification(&n, &from, &bundle, carried, &state.config)
        .map(|payload| (channel, json!({ "event": "notification", "payload": payload }).to_string())))
}
