//! Stream names (`user`, `public:local`, `hashtag`, `list`, …) → Redis channels, with
//! Mastodon's scope and ownership checks.

use ferrodon::core::text::normalize_hashtag;
use ferrodon::model::oauth::Scopes;
use sqlx::PgPool;

/// The authenticated connection.
#[derive(Debug, Clone)]
pub struct Viewer {
    pub token_id: i64,
    pub account_id: i64,
    pub scopes: Scopes,
    pub chosen_languages: Option<Vec<String>>,
}

/// A resolved subscription: what clients see in `stream`, and the channels behind it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    pub label: Vec<String>,
    pub channels: Vec<String>,
    /// Public and hashtag streams get per-viewer filtering (blocks, mutes, languages).
    pub filtered: bool,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StreamError {
    pub status: u16,
    pub message: String,
}

impl StreamError {
    fn new(status: u16, message: &str) -> Self {
        StreamError { status, message: message.to_string() }
    }
}

fn require(viewer: &Viewer, scope: &str) -> Result<(), StreamError> {
    if viewer.scopes.permits(scope) {
        Ok(())
    } else {
        Err(StreamError::new(401, "Access token does not have the required scopes"))
    }
}

pub async fn resolve(
    db: &PgPool,
    viewer: &Viewer,
    stream: &str,
    tag: Option<&str>,
    list: Option<&str>,
) -> Result<Subscription, StreamError> {
    let id = viewer.account_id;
    let plain =
        |channel: String| Subscription { label: vec![stream.to_string()], channels: vec![channel], filtered: false };
    match stream {
        "user" => {
            require(viewer, "read:statuses")?;
            let mut channels = vec![ferrodon::effects::streaming::user_channel(id)];
            if viewer.scopes.permits("read:notifications") {
                channels.push(ferrodon::effects::streaming::notifications_channel(id));
            }
            Ok(Subscription { label: vec!["user".into()], channels, filtered: false })
        }
        "user:notification" => {
            require(viewer, "read:notifications")?;
            Ok(plain(ferrodon::effects::streaming::notifications_channel(id)))
        }
        "public" | "public:media" | "public:local" | "public:local:media" | "public:remote" | "public:remote:media" => {
            require(viewer, "read:statuses")?;
            Ok(Subscription { filtered: true, ..plain(format!("timeline:{stream}")) })
        }
        "hashtag" | "hashtag:local" => {
            require(viewer, "read:statuses")?;
            let tag = tag
                .map(str::trim)
                .filter(|t| !t.is_empty())
                .ok_or(StreamError::new(400, "No tag for stream provided"))?;
            let name = normalize_hashtag(tag.trim_start_matches('#'));
            let suffix = if stream == "hashtag:local" { ":local" } else { "" };
            Ok(Subscription {
                label: vec![stream.to_string(), tag.to_string()],
                channels: vec![format!("timeline:hashtag:{name}{suffix}")],
                filtered: true,
            })
        }
        "list" => {
            require(viewer, "read:statuses")?;
            let list_id: i64 =
                list.and_then(|l| l.trim().parse().ok()).ok_or(StreamError::new(400, "No list for stream provided"))?;
            let owned: bool =
                sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM lists WHERE id = $1 AND account_id = $2)")
                    .bind(list_id)
                    .bind(id)
                    .fetch_one(db)
                    .await
                    .map_err(|_| StreamError::new(500, "An unexpected error occurred"))?;
            if !owned {
                return Err(StreamError::new(401, "Not authorized to stream this list"));
            }
            Ok(Subscription {
                label: vec!["list".into(), list_id.to_string()],
                channels: vec![ferrodon::effects::streaming::list_channel(list_id)],
                filtered: false,
            })
        }
        "direct" => {
            require(viewer, "read:statuses")?;
            Ok(plain(format!("timeline:direct:{id}")))
        }
        _ => Err(StreamError::new(400, "Unknown stream type")),
    }
}

/// The stream an SSE path asks for (`/api/v1/streaming/public/local` → `public:local`).
pub fn stream_from_path(path: &str, only_media: bool) -> Option<String> {
    let rest = path.trim_end_matches('/').strip_prefix("/api/v1/streaming/")?;
    let name = match rest {
        "user" => "user",
        "user/notification" => "user:notification",
        "public" | "public/local" | "public/remote" => {
            let base = rest.replace('/', ":");
            return Some(if only_media { format!("{base}:media") } else { base });
        }
        "hashtag" => "hashtag",
        "hashtag/local" => "hashtag:local",
        "list" => "list",
        "direct" => "direct",
        _ => return None,
    };
    Some(name.to_string())
}

#[cfg(test)]
mod tests {
    use super::stream_from_path;

    #[test]
    fn sse_paths() {
        assert_eq!(
            stream_from_path("/api/v1/streaming/user/notification", false).as_deref(),
            Some("user:notification")
        );
        assert_eq!(stream_from_path("/api/v1/streaming/public/local", true).as_deref(), Some("public:local:media"));
        assert_eq!(stream_from_path("/api/v1/streaming/hashtag/local", false).as_deref(), Some("hashtag:local"));
        assert_eq!(stream_from_path("/api/v1/streaming/nope", false), None);
    }
}
