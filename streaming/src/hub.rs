//! One Redis SUBSCRIBE connection shared by every client: channels are reference-counted
//! (subscribed on first use, unsubscribed after the last), `subscribed:<channel>` keys
//! tell the publishers who is listening, and each message is handed to the listening
//! connections through bounded queues — a connection whose queue is full is dropped
//! rather than allowed to hold up everyone else.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use ferrodon::core::redis::Redis;
use futures_util::StreamExt;
use redis::aio::PubSubSink;
use serde_json::Value;
use sqlx::PgPool;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::tungstenite::Utf8Bytes;

use crate::streams::Viewer;

/// `subscribed:<channel>` lives 18 minutes and is refreshed every 6, as in Mastodon.
const SUBSCRIBED_TTL_SECONDS: u64 = 1080;
const SUBSCRIBED_REFRESH: Duration = Duration::from_secs(360);
/// Messages queued per connection before it counts as too slow and is dropped.
pub const CONNECTION_QUEUE: usize = 512;

/// A message as the publishers write it; the payload is kept as raw JSON text.
#[derive(serde::Deserialize)]
struct Envelope<'a> {
    #[serde(borrow)]
    event: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    payload: Option<&'a serde_json::value::RawValue>,
}

/// The WebSocket frame Mastodon sends: the payload is a JSON string, even for objects.
fn ws_frame(stream: &[String], event: &str, payload: &str) -> String {
    serde_json::json!({ "stream": stream, "event": event, "payload": payload }).to_string()
}

/// What a connection is sent.
#[derive(Debug, Clone)]
pub enum Outgoing {
    /// `frame` is the complete WebSocket text; SSE uses `event` and `payload`.
    Event { frame: Utf8Bytes, event: Arc<str>, payload: Arc<str> },
    /// The token was revoked or the account suspended: close.
    Kill,
}

/// The sending half a connection registers with the hub.
#[derive(Clone)]
pub struct Client {
    pub id: u64,
    pub viewer: Arc<Viewer>,
    pub tx: mpsc::Sender<Outgoing>,
    /// Notified when the client must go (queue overflow).
    pub dropped: Arc<Notify>,
}

#[derive(Clone)]
struct Listener {
    client: Client,
    stream: Arc<Vec<String>>,
    filtered: bool,
    /// Control channels (token and system) carry `kill`, not events.
    control: bool,
}

pub struct Hub {
    sink: tokio::sync::Mutex<PubSubSink>,
    listeners: Mutex<HashMap<String, Vec<Listener>>>,
    redis: Redis,
    db: PgPool,
    next_id: AtomicU64,
}

impl Hub {
    /// Connects the shared SUBSCRIBE connection and starts dispatching.
    pub async fn start(redis_url: &str, redis: Redis, db: PgPool) -> ferrodon::Result<Arc<Hub>> {
        let client = redis::Client::open(redis_url)?;
        let (sink, mut stream) = client.get_async_pubsub().await?.split();
        let hub = Arc::new(Hub {
            sink: tokio::sync::Mutex::new(sink),
            listeners: Mutex::new(HashMap::new()),
            redis,
            db,
            next_id: AtomicU64::new(1),
        });
        let dispatcher = hub.clone();
        tokio::spawn(async move {
            while let Some(message) = stream.next().await {
                let channel = message.get_channel_name().to_string();
                let Ok(body) = message.get_payload::<String>() else { continue };
                dispatcher.dispatch(&channel, &body).await;
            }
            tracing::error!("redis subscription ended");
        });
        let refresher = hub.clone();
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(SUBSCRIBED_REFRESH);
            loop {
                tick.tick().await;
                let channels: Vec<String> = refresher.lock_listeners().keys().cloned().collect();
                if let Err(e) = refresher.mark_subscribed(&channels).await {
                    tracing::warn!(error = %e, "refreshing subscribed keys failed");
                }
            }
        });
        Ok(hub)
    }

    pub fn next_client_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn lock_listeners(&self) -> std::sync::MutexGuard<'_, HashMap<String, Vec<Listener>>> {
        self.listeners.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    async fn mark_subscribed(&self, channels: &[String]) -> ferrodon::Result<()> {
        let channels: Vec<&String> = channels.iter().filter(|c| !c.starts_with("timeline:access_token:")).collect();
        if channels.is_empty() {
            return Ok(());
        }
        let mut pipe = redis::pipe();
        let expires = chrono::Utc::now().timestamp() + SUBSCRIBED_TTL_SECONDS as i64;
        let listening = self.redis.key(ferrodon::effects::streaming::LISTENING_KEY);
        for channel in channels {
            pipe.set_ex(self.redis.key(format!("subscribed:{channel}")), "1", SUBSCRIBED_TTL_SECONDS).ignore();
            if let Some(account_id) = ferrodon::effects::streaming::account_of_user_channel(channel) {
                pipe.zadd(&listening, account_id, expires).ignore();
            }
        }
        pipe.zrembyscore(&listening, "-inf", chrono::Utc::now().timestamp()).ignore();
        let mut conn = self.redis.conn().await?;
        let _: () = pipe.query_async(&mut conn).await?;
        Ok(())
    }

    /// Listens on `channels` for `client`, labelled `stream` in the frames it gets.
    pub async fn subscribe(
        &self,
        client: &Client,
        stream: Vec<String>,
        channels: &[String],
        filtered: bool,
        control: bool,
    ) -> ferrodon::Result<()> {
        let stream = Arc::new(stream);
        let mut new_channels = Vec::new();
        {
            let mut listeners = self.lock_listeners();
            for channel in channels {
                let entry = listeners.entry(channel.clone()).or_default();
                if entry.is_empty() {
                    new_channels.push(channel.clone());
                }
                if !entry.iter().any(|l| l.client.id == client.id && l.stream == stream) {
                    entry.push(Listener { client: client.clone(), stream: stream.clone(), filtered, control });
                }
            }
        }
        if !new_channels.is_empty() {
            let mut sink = self.sink.lock().await;
            for channel in &new_channels {
                sink.subscribe(self.redis.key(channel)).await?;
            }
        }
        self.mark_subscribed(channels).await
    }

    /// Stops `client` listening under `stream` (or entirely, with `None`).
    pub async fn unsubscribe(&self, client_id: u64, stream: Option<&[String]>) {
        let mut emptied = Vec::new();
        {
            let mut listeners = self.lock_listeners();
            listeners.retain(|channel, entry| {
                entry.retain(|l| !(l.client.id == client_id && stream.is_none_or(|s| l.stream.as_slice() == s)));
                if entry.is_empty() {
                    emptied.push(channel.clone());
                    false
                } else {
                    true
                }
            });
        }
        if !emptied.is_empty() {
            let mut sink = self.sink.lock().await;
            for channel in emptied {
                if let Err(e) = sink.unsubscribe(self.redis.key(&channel)).await {
                    tracing::warn!(error = %e, channel, "unsubscribe failed");
                }
            }
        }
    }

    pub fn connection_count(&self) -> usize {
        let listeners = self.lock_listeners();
        let mut ids: Vec<u64> = listeners.values().flatten().map(|l| l.client.id).collect();
        ids.sort_unstable();
        ids.dedup();
        ids.len()
    }

    async fn dispatch(&self, raw_channel: &str, body: &str) {
        let channel = raw_channel.strip_prefix(self.redis.prefix()).unwrap_or(raw_channel);
        let listeners: Vec<Listener> = match self.lock_listeners().get(channel) {
            Some(l) => l.clone(),
            None => return,
        };
        let Ok(envelope) = serde_json::from_str::<Envelope>(body) else { return };
        if envelope.event == "kill" {
            for l in listeners.iter().filter(|l| l.control) {
                let _ = l.client.tx.try_send(Outgoing::Kill);
                l.client.dropped.notify_one();
            }
            return;
        }
        // Mastodon drops messages without a payload (filters_changed among them).
        let Some(raw_payload) = envelope.payload.filter(|p| p.get() != "null") else { return };
        let payload: Arc<str> = if raw_payload.get().starts_with('"') {
            match serde_json::from_str::<String>(raw_payload.get()) {
                Ok(s) => s.into(),
                Err(_) => return,
            }
        } else {
            raw_payload.get().into()
        };
        let needs_filter =
            matches!(&*envelope.event, "update" | "status.update") && listeners.iter().any(|l| l.filtered);
        let status: Value =
            if needs_filter { serde_json::from_str(&payload).unwrap_or(Value::Null) } else { Value::Null };
        let hidden = if needs_filter { self.hidden_from(&status, &listeners).await } else { Vec::new() };
        let event: Arc<str> = envelope.event.as_ref().into();
        // One frame text per stream label, shared by every client listening under it.
        let mut frames: Vec<(Arc<Vec<String>>, Utf8Bytes)> = Vec::new();
        for l in listeners.iter().filter(|l| !l.control) {
            if l.filtered
                && (hidden.contains(&l.client.viewer.account_id) || !language_allowed(&l.client.viewer, &status))
            {
                continue;
            }
            let frame = match frames.iter().find(|(label, _)| *label == l.stream) {
                Some((_, frame)) => frame.clone(),
                None => {
                    let frame = Utf8Bytes::from(ws_frame(&l.stream, &event, &payload));
                    frames.push((l.stream.clone(), frame.clone()));
                    frame
                }
            };
            let out = Outgoing::Event { frame, event: event.clone(), payload: payload.clone() };
            if l.client.tx.try_send(out).is_err() {
                l.client.dropped.notify_one();
            }
        }
    }

    /// The viewers among `listeners` who must not see this status: they block or mute its
    /// author (or an account it mentions or reblogs), the author blocks them, or they block
    /// the author's domain. One query for all of them.
    async fn hidden_from(&self, status: &Value, listeners: &[Listener]) -> Vec<i64> {
        let viewers: Vec<i64> = listeners.iter().filter(|l| l.filtered).map(|l| l.client.viewer.account_id).collect();
        let id_of = |v: &Value| v.as_str().and_then(|s| s.parse::<i64>().ok());
        let Some(author) = id_of(&status["account"]["id"]) else { return Vec::new() };
        let mut targets = vec![author];
        targets.extend(status["mentions"].as_array().into_iter().flatten().filter_map(|m| id_of(&m["id"])));
        targets.extend(id_of(&status["reblog"]["account"]["id"]));
        let domain = status["account"]["acct"].as_str().and_then(|a| a.split_once('@')).map(|(_, d)| d.to_string());
        let result = sqlx::query_scalar::<_, i64>(
            "SELECT v.id FROM unnest($1::bigint[]) AS v(id)
              WHERE EXISTS (SELECT 1 FROM blocks WHERE account_id = v.id AND target_account_id = ANY($2))
                 OR EXISTS (SELECT 1 FROM blocks WHERE account_id = $3 AND target_account_id = v.id)
                 OR EXISTS (SELECT 1 FROM mutes WHERE account_id = v.id AND target_account_id = ANY($2)
                              AND (expires_at IS NULL OR expires_at > now() AT TIME ZONE 'UTC'))
                 OR ($4::text IS NOT NULL AND EXISTS (SELECT 1 FROM account_domain_blocks
                                                       WHERE account_id = v.id AND domain = $4))",
        )
        .bind(&viewers)
        .bind(&targets)
        .bind(author)
        .bind(domain)
        .fetch_all(&self.db)
        .await;
        match result {
            Ok(ids) => ids,
            Err(e) => {
                tracing::error!(error = %e, "stream filter query failed; withholding the event");
                viewers
            }
        }
    }
}

/// A viewer who chose languages only sees statuses in them (or without a language).
fn language_allowed(viewer: &Viewer, status: &Value) -> bool {
    match (&viewer.chosen_languages, status["language"].as_str()) {
        (Some(chosen), Some(lang)) if !chosen.is_empty() => chosen.iter().any(|c| c == lang),
        _ => true,
    }
}
