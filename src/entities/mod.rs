//! The one place rows become Mastodon JSON. Shapes follow Mastodon's serializers
//! (REST::AccountSerializer, REST::StatusSerializer, …) and the OpenAPI description.

use serde_json::{Value, json};

use crate::accounts::relationships::Relationship;
use crate::accounts::{Account, User};
use crate::config::Config;
use crate::notifications::Notification;
use crate::oauth::Application;
use crate::statuses::hydrate::StatusBundle;
use crate::statuses::posting::{Edit, mention_resolver};
use crate::statuses::text::{self, ResolvedMention};
use crate::statuses::{Status, Visibility};
use crate::time::{date, iso, iso_midnight};

fn no_mentions(_: &text::MentionToken) -> Option<ResolvedMention> {
    None
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;").replace('\'', "&#39;")
}

fn avatar_url(config: &Config) -> String {
    format!("{}/avatars/original/missing.png", config.base_url())
}

fn header_url(config: &Config) -> String {
    format!("{}/headers/original/missing.png", config.base_url())
}

/// `REST::AccountSerializer`.
pub fn account(a: &Account, config: &Config) -> Value {
    let note = if a.is_local() {
        if a.note.is_empty() {
            String::new()
        } else {
            text::format_plain(&a.note, &config.base_url(), &no_mentions).html
        }
    } else {
        a.note.clone()
    };
    let fields: Vec<Value> = a
        .field_list()
        .into_iter()
        .map(|f| {
            let value = if a.is_local() {
                let html = text::format_plain(&f.value, &config.base_url(), &no_mentions).html;
                html.strip_prefix("<p>").and_then(|h| h.strip_suffix("</p>")).map(str::to_string).unwrap_or(html)
            } else {
                f.value.clone()
            };
            json!({ "name": escape_html(&f.name), "value": value, "verified_at": f.verified_at })
        })
        .collect();
    json!({
        "id": a.id.to_string(),
        "username": a.username,
        "acct": a.acct(),
        "display_name": a.display_name,
        "locked": a.locked,
        "bot": a.is_bot(),
        "discoverable": a.discoverable,
        "indexable": a.indexable,
        "group": a.is_group(),
        "created_at": iso_midnight(&a.created_at),
        "note": note,
        "url": a.profile_url(config),
        "uri": a.actor_uri(config),
        "avatar": avatar_url(config),
        "avatar_static": avatar_url(config),
        "avatar_description": "",
        "header": header_url(config),
        "header_static": header_url(config),
        "header_description": "",
        "followers_count": a.followers_count,
        "following_count": a.following_count,
        "statuses_count": a.statuses_count,
        "last_status_at": a.last_status_at.as_ref().map(date),
        "hide_collections": a.hide_collections,
        "noindex": false,
        "emojis": [],
        "roles": [],
        "fields": fields,
        "show_featured": true,
        "show_media": true,
        "show_media_replies": true,
        "feature_approval": { "automatic": [], "manual": [], "current_user": "missing" },
    })
}

/// `REST::CredentialAccountSerializer`: the account plus its editable `source` and role.
pub fn credential_account(a: &Account, user: &User, follow_requests_count: i64, config: &Config) -> Value {
    let mut value = account(a, config);
    let settings = user.settings();
    let raw_fields: Vec<Value> = a
        .field_list()
        .into_iter()
        .map(|f| json!({ "name": f.name, "value": f.value, "verified_at": f.verified_at }))
        .collect();
    value["source"] = json!({
        "privacy": user.default_privacy(),
        "sensitive": settings.default_sensitive.unwrap_or(false),
        "language": settings.default_language,
        "note": a.note,
        "fields": raw_fields,
        "follow_requests_count": follow_requests_count,
        "hide_collections": a.hide_collections,
        "discoverable": a.discoverable,
        "indexable": a.indexable,
        "attribution_domains": [],
        "quote_policy": "public",
    });
    value["role"] = json!({ "id": "-99", "name": "", "permissions": "0", "color": "", "highlighted": false });
    value
}

pub fn relationship(r: &Relationship) -> Value {
    json!({
        "id": r.id.to_string(),
        "following": r.following,
        "showing_reblogs": r.showing_reblogs,
        "notifying": r.notifying,
        "languages": r.languages,
        "followed_by": r.followed_by,
        "blocking": r.blocking,
        "blocked_by": r.blocked_by,
        "muting": r.muting,
        "muting_notifications": r.muting_notifications,
        "muting_expires_at": r.muting_expires_at.as_ref().map(iso),
        "requested": r.requested,
        "requested_by": r.requested_by,
        "domain_blocking": r.domain_blocking,
        "endorsed": false,
        "note": "",
    })
}

/// `POST /api/v1/apps` (with secrets) or `GET /api/v1/apps/verify_credentials` (without).
pub fn application(app: &Application, with_secret: bool) -> Value {
    let scopes: Vec<&str> = app.scopes.split_whitespace().collect();
    let mut value = json!({
        "id": app.id.to_string(),
        "name": app.name,
        "website": app.website,
        "scopes": scopes,
        "redirect_uri": app.redirect_uri,
        "redirect_uris": app.redirect_uris(),
        "vapid_key": "",
    });
    if with_secret {
        value["client_id"] = json!(app.uid);
        value["client_secret"] = json!(app.secret);
        value["client_secret_expires_at"] = json!(0);
    }
    value
}

pub fn token(access_token: &str, scope: &str, created_at: &chrono::NaiveDateTime) -> Value {
    json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "scope": scope,
        "created_at": created_at.and_utc().timestamp(),
    })
}

fn status_content(status: &Status, bundle: &StatusBundle, config: &Config) -> String {
    content_of(&status.text, status, bundle, config)
}

fn content_of(body: &str, status: &Status, bundle: &StatusBundle, config: &Config) -> String {
    if !status.is_local() {
        return body.to_string();
    }
    let known: Vec<(String, Option<String>, ResolvedMention)> = bundle
        .mentions
        .get(&status.id)
        .into_iter()
        .flatten()
        .map(|m| {
            let url = m
                .url
                .clone()
                .filter(|u| !u.is_empty())
                .unwrap_or_else(|| format!("{}/@{}", config.base_url(), m.username));
            let acct = match &m.domain {
                Some(d) => format!("{}@{d}", m.username),
                None => m.username.clone(),
            };
            (m.username.clone(), m.domain.clone(), ResolvedMention { url, username: m.username.clone(), acct })
        })
        .collect();
    text::format_plain(body, &config.base_url(), &mention_resolver(&known)).html
}

/// `REST::StatusSerializer` for one status of a loaded bundle (None if missing).
pub fn status(id: i64, bundle: &StatusBundle, config: &Config) -> Option<Value> {
    let s = bundle.status(id)?;
    let author = bundle.account(s.account_id)?;
    let reblog = match s.reblog_of_id {
        Some(original) => Some(status(original, bundle, config)?),
        None => None,
    };
    let stats = bundle.stats.get(&s.id).cloned().unwrap_or_default();
    let base = config.base_url();
    let mentions: Vec<Value> = bundle
        .mentions
        .get(&s.id)
        .into_iter()
        .flatten()
        .map(|m| {
            let acct = match &m.domain {
                Some(d) => format!("{}@{d}", m.username),
                None => m.username.clone(),
            };
            let url = m.url.clone().filter(|u| !u.is_empty()).unwrap_or_else(|| format!("{base}/@{}", m.username));
            json!({ "id": m.account_id.to_string(), "username": m.username, "url": url, "acct": acct })
        })
        .collect();
    let tags: Vec<Value> = bundle
        .tags
        .get(&s.id)
        .into_iter()
        .flatten()
        .map(|name| json!({ "name": name.to_lowercase(), "url": format!("{base}/tags/{}", name.to_lowercase()) }))
        .collect();
    let url = match (&s.url, s.reblog_of_id) {
        (Some(u), _) if !u.is_empty() => u.clone(),
        _ => format!("{base}/@{}/{}", author.username, s.id),
    };
    let uri = s.uri.clone().unwrap_or_else(|| format!("{base}/users/{}/statuses/{}", author.username, s.id));
    let owned = bundle.viewer == Some(s.account_id);
    let application = match (owned, s.application_id.and_then(|id| bundle.applications.get(&id))) {
        (true, Some(app)) => json!({ "name": app.name, "website": app.website }),
        _ => Value::Null,
    };
    let quote_policy = if s.visibility() <= Visibility::Unlisted { json!(["public"]) } else { json!([]) };
    let mut value = json!({
        "id": s.id.to_string(),
        "created_at": iso(&s.created_at),
        "in_reply_to_id": s.in_reply_to_id.map(|i| i.to_string()),
        "in_reply_to_account_id": s.in_reply_to_account_id.map(|i| i.to_string()),
        "sensitive": s.sensitive,
        "spoiler_text": s.spoiler_text,
        "visibility": s.visibility().as_str(),
        "language": s.language,
        "uri": uri,
        "url": url,
        "replies_count": stats.replies_count,
        "reblogs_count": stats.reblogs_count,
        "favourites_count": stats.favourites_count,
        "quotes_count": stats.quotes_count,
        "edited_at": s.edited_at.as_ref().map(iso),
        "content": if s.reblog_of_id.is_some() { String::new() } else { status_content(s, bundle, config) },
        "reblog": reblog,
        "application": application,
        "account": account(author, config),
        "media_attachments": [],
        "mentions": mentions,
        "tags": tags,
        "emojis": [],
        "card": null,
        "poll": null,
        "quote": null,
        "quote_approval": { "automatic": quote_policy, "manual": [], "current_user": if owned { "automatic" } else { "denied" } },
        "tagged_collections": [],
        "filtered": [],
    });
    if let Some(viewer) = bundle.viewer {
        let flags = &bundle.flags;
        value["favourited"] = json!(flags.favourited.contains(&s.id));
        value["reblogged"] = json!(flags.reblogged.contains(&s.id));
        value["muted"] = json!(false);
        value["bookmarked"] = json!(flags.bookmarked.contains(&s.id));
        if viewer == s.account_id && s.reblog_of_id.is_none() && s.visibility() <= Visibility::Private {
            value["pinned"] = json!(flags.pinned.contains(&s.id));
        }
    }
    Some(value)
}

/// Statuses in the order of `ids`, skipping any that could not be rendered.
pub fn statuses(ids: &[i64], bundle: &StatusBundle, config: &Config) -> Vec<Value> {
    ids.iter().filter_map(|id| status(*id, bundle, config)).collect()
}

/// `StatusSource`: the raw text for editing.
pub fn status_source(s: &Status) -> Value {
    json!({ "id": s.id.to_string(), "text": s.text, "spoiler_text": s.spoiler_text })
}

/// `StatusEdit` entries of a status's history.
pub fn status_edits(s: &Status, edits: &[Edit], bundle: &StatusBundle, config: &Config) -> Vec<Value> {
    let Some(author) = bundle.account(s.account_id) else { return Vec::new() };
    edits
        .iter()
        .map(|e| {
            json!({
                "content": content_of(&e.text, s, bundle, config),
                "spoiler_text": e.spoiler_text,
                "sensitive": e.sensitive.unwrap_or(s.sensitive),
                "created_at": iso(&e.created_at),
                "account": account(author, config),
                "poll": null,
                "media_attachments": [],
                "emojis": [],
            })
        })
        .collect()
}

/// `REST::NotificationSerializer`; the status (if any) must be in the bundle.
pub fn notification(n: &Notification, from: &Account, bundle: &StatusBundle, config: &Config) -> Option<Value> {
    let mut value = json!({
        "id": n.id.to_string(),
        "type": n.kind,
        "created_at": iso(&n.created_at),
        "group_key": n.group_key(),
        "account": account(from, config),
    });
    if n.needs_status() {
        value["status"] = status(n.status_id?, bundle, config)?;
    }
    Some(value)
}

/// `REST::TagSerializer`: the name as first written, and the viewer's `following`.
pub fn tag(t: &crate::tags::Tag, config: &Config, following: Option<bool>) -> Value {
    let shown = t.display_name.clone().unwrap_or_else(|| t.name.clone());
    let mut value = json!({
        "id": if t.id == 0 { String::new() } else { t.id.to_string() },
        "name": shown,
        "url": format!("{}/tags/{}", config.base_url(), t.name),
        "history": [],
    });
    if let Some(f) = following {
        value["following"] = json!(f);
        value["featuring"] = json!(false);
    }
    value
}

/// `{"home": {...}, "notifications": {...}}` for `/api/v1/markers`.
pub fn markers(markers: &[crate::markers::Marker]) -> Value {
    let mut map = serde_json::Map::new();
    for m in markers {
        map.insert(
            m.timeline.clone(),
            json!({ "last_read_id": m.last_read_id.to_string(), "version": m.lock_version, "updated_at": iso(&m.updated_at) }),
        );
    }
    Value::Object(map)
}

/// `REST::ListSerializer`.
pub fn list(l: &crate::lists::List) -> Value {
    json!({
        "id": l.id.to_string(),
        "title": l.title,
        "replies_policy": crate::lists::replies_policy_name(l.replies_policy),
        "exclusive": l.exclusive,
    })
}
