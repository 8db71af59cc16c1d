//! The one place rows become Mastodon JSON. Shapes follow Mastodon's serializers
//! (REST::AccountSerializer, REST::StatusSerializer, …) and the OpenAPI description.

use serde::Serialize;
use serde::ser::SerializeSeq;
use serde_json::{Value, json};

use crate::core::config::Config;
use crate::core::text::{self, ResolvedMention};
use crate::core::time::{date, iso, iso_midnight};
use crate::model::accounts::{Account, User};
use crate::model::admin_accounts::AdminAccount;
use crate::model::hydrate::StatusBundle;
use crate::model::media::MediaAttachment;
use crate::model::media::MediaType;
use crate::model::media::ProfileImage;
use crate::model::notifications::Notification;
use crate::model::oauth::Application;
use crate::model::polls::Poll;
use crate::model::polls::ViewerVotes;
use crate::model::relationships::Relationship;
use crate::model::roles::Role;
use crate::model::statuses::Edit;
use crate::model::statuses::mention_resolver;
use crate::model::statuses::{Status, Visibility};

fn no_mentions(_: &text::MentionToken) -> Option<ResolvedMention> {
    None
}

/// An avatar or header: the stored file, the remote original, or Mastodon's placeholder.
fn profile_image_url(a: &Account, kind: ProfileImage, config: &Config) -> String {
    let (file, remote, missing) = match kind {
        ProfileImage::Avatar => (&a.avatar_file_name, a.avatar_remote_url.as_deref(), "avatars"),
        ProfileImage::Header => (&a.header_file_name, Some(a.header_remote_url.as_str()), "headers"),
    };
    match (file, remote) {
        (Some(name), _) if !name.is_empty() => config.media_url(&kind.path(a.id, name)),
        (_, Some(remote)) if !remote.is_empty() => remote.to_string(),
        _ => format!("{}/{missing}/original/missing.png", config.base_url()),
    }
}

/// A highlighted role on a public profile (`REST::AccountSerializer::RoleSerializer`).
#[derive(Debug, Clone, Serialize)]
pub struct RoleBadge {
    id: String,
    name: String,
    color: String,
}

/// An always-empty JSON array (emojis, roles, … that ferrodon does not have yet).
#[derive(Debug, Clone, Copy, Default)]
pub struct Empty;

impl Serialize for Empty {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
        serializer.serialize_seq(Some(0))?.end()
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct FieldJson {
    name: String,
    value: String,
    verified_at: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct FeatureApproval {
    automatic: Empty,
    manual: Empty,
    current_user: &'static str,
}

/// `REST::AccountSerializer`, typed: pages of statuses serialize straight to bytes.
#[derive(Debug, Clone, Serialize)]
pub struct AccountJson {
    id: String,
    username: String,
    acct: String,
    display_name: String,
    locked: bool,
    bot: bool,
    discoverable: Option<bool>,
    indexable: bool,
    group: bool,
    created_at: String,
    note: String,
    url: String,
    uri: String,
    avatar: String,
    avatar_static: String,
    avatar_description: &'static str,
    header: String,
    header_static: String,
    header_description: &'static str,
    followers_count: i64,
    following_count: i64,
    statuses_count: i64,
    last_status_at: Option<String>,
    hide_collections: Option<bool>,
    noindex: bool,
    emojis: Empty,
    roles: Vec<RoleBadge>,
    fields: Vec<FieldJson>,
    show_featured: bool,
    show_media: bool,
    show_media_replies: bool,
    feature_approval: FeatureApproval,
    /// Only on silenced accounts: apps show them behind a warning.
    #[serde(skip_serializing_if = "Option::is_none")]
    limited: Option<bool>,
}

pub fn account_json(a: &Account, config: &Config) -> AccountJson {
    let note = if a.is_local() {
        if a.note.is_empty() {
            String::new()
        } else {
            text::format_plain(&a.note, &config.base_url(), &no_mentions).html
        }
    } else {
        a.note.clone()
    };
    let fields = a
        .field_list()
        .into_iter()
        .map(|f| {
            let value = if a.is_local() {
                let html = text::format_plain(&f.value, &config.base_url(), &no_mentions).html;
                html.strip_prefix("<p>").and_then(|h| h.strip_suffix("</p>")).map(str::to_string).unwrap_or(html)
            } else {
                f.value.clone()
            };
            FieldJson { name: text::escape_html(&f.name), value, verified_at: f.verified_at }
        })
        .collect();
    AccountJson {
        id: a.id.to_string(),
        username: a.username.clone(),
        acct: a.acct(),
        display_name: a.display_name.clone(),
        locked: a.locked,
        bot: a.is_bot(),
        discoverable: a.discoverable,
        indexable: a.indexable,
        group: a.is_group(),
        created_at: iso_midnight(&a.created_at),
        note,
        url: a.profile_url(config),
        uri: a.actor_uri(config),
        avatar: profile_image_url(a, ProfileImage::Avatar, config),
        avatar_static: profile_image_url(a, ProfileImage::Avatar, config),
        avatar_description: "",
        header: profile_image_url(a, ProfileImage::Header, config),
        header_static: profile_image_url(a, ProfileImage::Header, config),
        header_description: "",
        followers_count: a.followers_count,
        following_count: a.following_count,
        statuses_count: a.statuses_count,
        last_status_at: a.last_status_at.as_ref().map(date),
        hide_collections: a.hide_collections,
        noindex: false,
        emojis: Empty,
        roles: match (&a.badge_id, &a.badge_name) {
            (Some(id), Some(name)) if a.is_local() => {
                vec![RoleBadge {
                    id: id.to_string(),
                    name: name.clone(),
                    color: a.badge_color.clone().unwrap_or_default(),
                }]
            }
            _ => Vec::new(),
        },
        fields,
        show_featured: true,
        show_media: true,
        show_media_replies: true,
        feature_approval: FeatureApproval { automatic: Empty, manual: Empty, current_user: "missing" },
        limited: a.silenced_at.map(|_| true),
    }
}

/// `account_json` as a JSON value, for responses that extend it.
pub fn account(a: &Account, config: &Config) -> Value {
    to_value(account_json(a, config))
}

/// `account`, with `moved` (the account it moved to) when that is among `moved`, as
/// Mastodon shows it on profiles.
pub fn account_with_move(a: &Account, moved: &std::collections::HashMap<i64, Account>, config: &Config) -> Value {
    let mut value = account(a, config);
    if let Some(target) = a.moved_to_account_id.and_then(|id| moved.get(&id)) {
        value["moved"] = account(target, config);
    }
    value
}

fn to_value(typed: impl Serialize) -> Value {
    serde_json::to_value(typed).unwrap_or(Value::Null)
}

/// `REST::CredentialAccountSerializer`: the account plus its editable `source` and role.
pub fn credential_account(
    a: &Account,
    user: &User,
    role: &Value,
    follow_requests_count: i64,
    config: &Config,
) -> Value {
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
    value["role"] = role.clone();
    value
}

/// `REST::RoleSerializer`: the permissions are the role's computed bits, as a decimal string.
pub fn role(role: &Role, everyone: &Role) -> Value {
    json!({
        "id": role.id.to_string(),
        "name": role.name,
        "permissions": role.computed_permissions(everyone).to_string(),
        "color": role.color,
        "highlighted": role.highlighted,
    })
}

/// `REST::Admin::AccountSerializer`: an account as staff see it.
pub fn admin_account(row: &AdminAccount, account: &Account, role: Option<&Value>, config: &Config) -> Value {
    let ips: Vec<Value> = match (&row.sign_up_ip, row.user_created_at) {
        (Some(ip), Some(at)) => vec![json!({ "ip": ip, "used_at": iso(&at) })],
        _ => Vec::new(),
    };
    let mut value = json!({
        "id": row.id.to_string(),
        "username": row.username,
        "domain": row.domain,
        "created_at": iso(&row.created_at),
        "email": row.email,
        "ip": row.sign_up_ip,
        "ips": ips,
        "confirmed": row.confirmed.unwrap_or(false),
        "suspended": row.suspended,
        "silenced": row.silenced,
        "sensitized": row.sensitized,
        "disabled": row.disabled.unwrap_or(false),
        "approved": row.approved.unwrap_or(false),
        "locale": row.locale,
        "invite_request": row.invite_request,
        "role": role,
        "account": account_json(account, config),
    });
    if let Some(app) = row.created_by_application_id {
        value["created_by_application_id"] = json!(app.to_string());
    }
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
        "endorsed": r.endorsed,
        "note": r.note,
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

/// The HTML content of a loaded status (what ActivityPub's `content` carries).
pub fn content_html(id: i64, bundle: &StatusBundle, config: &Config) -> Option<String> {
    bundle.status(id).map(|s| status_content(s, bundle, config))
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

#[derive(Debug, Clone, Serialize)]
pub struct MentionJson {
    id: String,
    username: String,
    url: String,
    acct: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct TagRefJson {
    name: String,
    url: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ApplicationRefJson {
    name: String,
    website: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct QuoteApproval {
    automatic: &'static [&'static str],
    manual: Empty,
    current_user: &'static str,
}

/// `REST::StatusSerializer`, typed. The viewer's flags are present only when there is a
/// viewer (`pinned` only on their own pinnable statuses), as in Mastodon.
#[derive(Debug, Clone, Serialize)]
pub struct StatusJson {
    id: String,
    created_at: String,
    in_reply_to_id: Option<String>,
    in_reply_to_account_id: Option<String>,
    sensitive: bool,
    spoiler_text: String,
    visibility: &'static str,
    language: Option<String>,
    uri: String,
    url: String,
    replies_count: i64,
    reblogs_count: i64,
    favourites_count: i64,
    quotes_count: i64,
    edited_at: Option<String>,
    content: String,
    reblog: Option<Box<StatusJson>>,
    application: Option<ApplicationRefJson>,
    account: AccountJson,
    media_attachments: Vec<MediaAttachmentJson>,
    mentions: Vec<MentionJson>,
    tags: Vec<TagRefJson>,
    emojis: Empty,
    card: Option<()>,
    poll: Option<PollJson>,
    quote: Option<()>,
    quote_approval: QuoteApproval,
    tagged_collections: Empty,
    filtered: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    favourited: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reblogged: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    muted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    bookmarked: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pinned: Option<bool>,
}

/// `REST::PollSerializer`: option tallies are null while hidden; `voted` and `own_votes`
/// only for a signed-in viewer.
#[derive(Debug, Clone, Serialize)]
pub struct PollJson {
    id: String,
    expires_at: Option<String>,
    expired: bool,
    multiple: bool,
    votes_count: i64,
    voters_count: Option<i64>,
    options: Vec<PollOptionJson>,
    emojis: Empty,
    #[serde(skip_serializing_if = "Option::is_none")]
    voted: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    own_votes: Option<Vec<i32>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PollOptionJson {
    title: String,
    votes_count: Option<i64>,
}

pub fn poll_json(poll: &Poll, votes: &ViewerVotes, viewer: Option<i64>) -> PollJson {
    PollJson {
        id: poll.id.to_string(),
        expires_at: poll.expires_at.as_ref().map(iso),
        expired: poll.expired(),
        multiple: poll.multiple,
        votes_count: poll.votes_count,
        voters_count: poll.voters_count,
        options: poll
            .options
            .iter()
            .zip(poll.tallies())
            .map(|(title, votes_count)| PollOptionJson { title: title.clone(), votes_count })
            .collect(),
        emojis: Empty,
        voted: viewer.map(|_| votes.voted),
        own_votes: viewer.map(|_| votes.choices.clone()),
    }
}

/// `REST::MediaAttachmentSerializer`: `url` is null until processing is done.
#[derive(Debug, Clone, Serialize)]
pub struct MediaAttachmentJson {
    id: String,
    #[serde(rename = "type")]
    kind: &'static str,
    url: Option<String>,
    preview_url: Option<String>,
    remote_url: Option<String>,
    preview_remote_url: Option<String>,
    text_url: Option<String>,
    meta: Value,
    description: Option<String>,
    blurhash: Option<String>,
}

pub fn media_attachment_json(m: &MediaAttachment, config: &Config) -> MediaAttachmentJson {
    let (url, preview) = m.urls();
    let remote = |u: &str| Some(u.to_string()).filter(|u| !u.is_empty());
    // A remote file not copied (yet, or rejected by a domain block): its own address.
    let not_copied = m.file_file_name.is_none();
    MediaAttachmentJson {
        id: m.id.to_string(),
        kind: m.media_type().name(),
        url: url.map(|p| config.media_url(&p)).or_else(|| remote(&m.remote_url)),
        preview_url: preview
            .map(|p| config.media_url(&p))
            .or_else(|| if not_copied && m.media_type() == MediaType::Image { remote(&m.remote_url) } else { None }),
        remote_url: remote(&m.remote_url),
        preview_remote_url: None,
        text_url: None,
        meta: m.api_meta(),
        description: m.description.clone(),
        blurhash: m.blurhash.clone(),
    }
}

pub fn media_attachment(m: &MediaAttachment, config: &Config) -> Value {
    to_value(media_attachment_json(m, config))
}

/// One status of a loaded bundle (None if missing), typed.
pub fn status_json(id: i64, bundle: &StatusBundle, config: &Config) -> Option<StatusJson> {
    let s = bundle.status(id)?;
    let author = bundle.account(s.account_id)?;
    let reblog = match s.reblog_of_id {
        Some(original) => Some(Box::new(status_json(original, bundle, config)?)),
        None => None,
    };
    let stats = bundle.stats.get(&s.id).cloned().unwrap_or_default();
    let base = config.base_url();
    let mentions = bundle
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
            MentionJson { id: m.account_id.to_string(), username: m.username.clone(), url, acct }
        })
        .collect();
    let tags = bundle
        .tags
        .get(&s.id)
        .into_iter()
        .flatten()
        .map(|name| {
            let name = name.to_lowercase();
            TagRefJson { url: format!("{base}/tags/{name}"), name }
        })
        .collect();
    let url = match (&s.url, s.reblog_of_id) {
        (Some(u), _) if !u.is_empty() => u.clone(),
        _ => format!("{base}/@{}/{}", author.username, s.id),
    };
    let uri = s.uri.clone().unwrap_or_else(|| format!("{}/statuses/{}", author.actor_uri(config), s.id));
    let owned = bundle.viewer == Some(s.account_id);
    let application = match (owned, s.application_id.and_then(|id| bundle.applications.get(&id))) {
        (true, Some(app)) => Some(ApplicationRefJson { name: app.name.clone(), website: app.website.clone() }),
        _ => None,
    };
    let flags = &bundle.flags;
    let seen = |set: &std::collections::HashSet<i64>| bundle.viewer.map(|_| set.contains(&s.id));
    let pinnable =
        bundle.viewer == Some(s.account_id) && s.reblog_of_id.is_none() && s.visibility() <= Visibility::Private;
    Some(StatusJson {
        id: s.id.to_string(),
        created_at: iso(&s.created_at),
        in_reply_to_id: s.in_reply_to_id.map(|i| i.to_string()),
        in_reply_to_account_id: s.in_reply_to_account_id.map(|i| i.to_string()),
        // A sensitized author's statuses are sensitive to everyone but the author.
        sensitive: s.sensitive || (author.sensitized_at.is_some() && !owned),
        spoiler_text: s.spoiler_text.clone(),
        visibility: s.visibility().as_str(),
        language: s.language.clone(),
        uri,
        url,
        replies_count: stats.replies_count,
        reblogs_count: stats.reblogs_count,
        favourites_count: stats.favourites_count,
        quotes_count: stats.quotes_count,
        edited_at: s.edited_at.as_ref().map(iso),
        content: if s.reblog_of_id.is_some() { String::new() } else { status_content(s, bundle, config) },
        reblog,
        application,
        account: account_json(author, config),
        media_attachments: bundle
            .media
            .get(&s.id)
            .into_iter()
            .flatten()
            .map(|m| media_attachment_json(m, config))
            .collect(),
        mentions,
        tags,
        emojis: Empty,
        card: None,
        poll: s.poll_id.and_then(|id| bundle.polls.get(&id)).map(|(poll, votes)| poll_json(poll, votes, bundle.viewer)),
        quote: None,
        quote_approval: QuoteApproval {
            automatic: if s.visibility() <= Visibility::Unlisted { &["public"] } else { &[] },
            manual: Empty,
            current_user: if owned { "automatic" } else { "denied" },
        },
        tagged_collections: Empty,
        filtered: bundle.filtered.get(&s.id).into_iter().flatten().map(filter_result).collect(),
        favourited: seen(&flags.favourited),
        reblogged: seen(&flags.reblogged),
        muted: seen(&flags.muted),
        bookmarked: seen(&flags.bookmarked),
        pinned: if pinnable { Some(flags.pinned.contains(&s.id)) } else { None },
    })
}

/// `status_json` as a JSON value, for payloads that are adjusted per viewer.
pub fn status(id: i64, bundle: &StatusBundle, config: &Config) -> Option<Value> {
    status_json(id, bundle, config).map(to_value)
}

/// Statuses in the order of `ids`, skipping any that could not be rendered.
pub fn statuses(ids: &[i64], bundle: &StatusBundle, config: &Config) -> Vec<StatusJson> {
    ids.iter().filter_map(|id| status_json(*id, bundle, config)).collect()
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
                "poll": e.poll_options.as_ref().map(|options| json!({
                    "options": options.iter().map(|title| json!({ "title": title })).collect::<Vec<_>>(),
                })),
                "media_attachments": bundle.media.get(&s.id).into_iter().flatten()
                    .map(|m| media_attachment_json(m, config)).collect::<Vec<_>>(),
                "emojis": [],
            })
        })
        .collect()
}

/// `REST::NotificationSerializer`; the status (if any) must be in the bundle.
/// What some notifications carry besides their account and status (each with its target
/// account); such a notification is not shown without it.
#[derive(Clone, Copy)]
pub enum Carried<'a> {
    Nothing,
    Report(&'a crate::model::reports::Report, &'a Account),
    Warning(&'a crate::model::warnings::Warning, &'a Account),
}

impl Carried<'_> {
    /// The field it is shown in, and how.
    pub fn field(self, config: &Config) -> Option<(&'static str, Value)> {
        match self {
            Carried::Nothing => None,
            Carried::Report(r, target) => Some(("report", report(r, target, config))),
            Carried::Warning(w, target) => Some(("moderation_warning", moderation_warning(w, target, config))),
        }
    }
}

/// `REST::AccountWarningSerializer` (appeals are not taken yet: `appeal` is null).
pub fn moderation_warning(w: &crate::model::warnings::Warning, target: &Account, config: &Config) -> Value {
    json!({
        "id": w.id.to_string(),
        "action": crate::model::warnings::action_name(w.action),
        "text": w.text,
        "status_ids": w.status_ids.clone().unwrap_or_default(),
        "target_account": account(target, config),
        "appeal": null,
        "created_at": iso(&w.created_at),
    })
}

/// `REST::NotificationSerializer`.
pub fn notification(
    n: &Notification,
    from: &Account,
    bundle: &StatusBundle,
    carried: Carried<'_>,
    config: &Config,
) -> Option<Value> {
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
    let needed = [crate::model::notifications::REPORT_TYPE, crate::model::notifications::WARNING_TYPE];
    match carried.field(config) {
        Some((field, shown)) => value[field] = shown,
        None if needed.contains(&n.kind.as_str()) => return None,
        None => {}
    }
    Some(value)
}

/// `REST::RuleSerializer`.
pub fn rule(r: &crate::model::instance::Rule) -> Value {
    json!({ "id": r.id.to_string(), "text": r.text, "hint": r.hint, "translations": {} })
}

/// `REST::TagSerializer`: the name as first written, and the viewer's `following`.
/// A hashtag; with the viewer's `following` and `featuring` when there is a viewer.
pub fn tag(t: &crate::model::tags::Tag, config: &Config, viewer: Option<crate::model::tags::TagFlags>) -> Value {
    let shown = t.display_name.clone().unwrap_or_else(|| t.name.clone());
    let mut value = json!({
        "id": if t.id == 0 { String::new() } else { t.id.to_string() },
        "name": shown,
        "url": format!("{}/tags/{}", config.base_url(), t.name),
        "history": [],
    });
    if let Some(flags) = viewer {
        value["following"] = json!(flags.following);
        value["featuring"] = json!(flags.featuring);
    }
    value
}

/// A hashtag featured on `owner`'s profile (`statuses_count` is a string, as Mastodon sends it).
pub fn featured_tag(f: &crate::model::tags::FeaturedTag, owner: &Account, config: &Config) -> Value {
    json!({
        "id": f.id.to_string(),
        "name": f.name,
        "url": format!("{}/@{}/tagged/{}", config.base_url(), owner.acct(), f.name),
        "statuses_count": f.statuses_count.to_string(),
        "last_status_at": f.last_status_at.map(|t| t.date().to_string()),
    })
}

/// `{"home": {...}, "notifications": {...}}` for `/api/v1/markers`.
pub fn markers(markers: &[crate::model::markers::Marker]) -> Value {
    let mut map = serde_json::Map::new();
    for m in markers {
        map.insert(
            m.timeline.clone(),
            json!({ "last_read_id": m.last_read_id.to_string(), "version": m.lock_version, "updated_at": iso(&m.updated_at) }),
        );
    }
    Value::Object(map)
}

/// `REST::ReportSerializer`.
pub fn report(r: &crate::model::reports::Report, target: &Account, config: &Config) -> Value {
    let ids = |list: &[i64]| list.iter().map(i64::to_string).collect::<Vec<_>>();
    json!({
        "id": r.id.to_string(),
        "action_taken": r.action_taken_at.is_some(),
        "action_taken_at": r.action_taken_at.as_ref().map(iso),
        "category": crate::model::reports::category_name(r.category),
        "comment": r.comment,
        "forwarded": r.forwarded.unwrap_or(false),
        "created_at": iso(&r.created_at),
        "status_ids": if r.status_ids.is_empty() { Value::Null } else { json!(ids(&r.status_ids)) },
        "rule_ids": r.rule_ids.as_deref().filter(|ids| !ids.is_empty()).map(ids),
        "collection_ids": [],
        "target_account": account(target, config),
    })
}

/// `REST::Admin::ReportSerializer`: the report with the staff view of the accounts involved
/// (`accounts` by id, already rendered by `admin_account`) and the reported statuses.
pub fn admin_report(
    r: &crate::model::reports::Report,
    accounts: &std::collections::HashMap<i64, Value>,
    statuses: Vec<StatusJson>,
) -> Value {
    let account = |id: Option<i64>| id.and_then(|id| accounts.get(&id)).cloned().unwrap_or(Value::Null);
    json!({
        "id": r.id.to_string(),
        "action_taken": r.action_taken_at.is_some(),
        "action_taken_at": r.action_taken_at.as_ref().map(iso),
        "category": crate::model::reports::category_name(r.category),
        "comment": r.comment,
        "forwarded": r.forwarded.unwrap_or(false),
        "created_at": iso(&r.created_at),
        "updated_at": iso(&r.updated_at),
        "account": account(Some(r.account_id)),
        "target_account": account(Some(r.target_account_id)),
        "assigned_account": account(r.assigned_account_id),
        "action_taken_by_account": account(r.action_taken_by_account_id),
        "statuses": statuses,
        "rules": [],
    })
}

/// A size as Rails' `number_to_human_size` writes it (`12.3 MB`).
fn human_size(bytes: i64) -> String {
    let units = ["Bytes", "KB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1024.0 && unit < units.len() - 1 {
        value /= 1024.0;
        unit += 1;
    }
    if unit == 0 {
        return format!("{bytes} Bytes");
    }
    let shown = format!("{value:.2}");
    format!("{} {}", shown.trim_end_matches('0').trim_end_matches('.'), units[unit])
}

/// `Admin::Metrics::Measure` output: numbers as strings, days at UTC midnight.
pub fn admin_measure(
    key: &str,
    unit: Option<&str>,
    total: i64,
    previous_total: Option<i64>,
    days: &[(chrono::NaiveDate, i64)],
) -> Value {
    let data: Vec<Value> =
        days.iter().map(|(day, n)| json!({ "date": format!("{day}T00:00:00Z"), "value": n.to_string() })).collect();
    let mut value = json!({ "key": key, "unit": unit, "total": total.to_string(), "data": data });
    if unit == Some("bytes") {
        value["human_value"] = json!(human_size(total));
    }
    if let Some(previous) = previous_total {
        value["previous_total"] = json!(previous.to_string());
    }
    value
}

/// One item of an `Admin::Metrics::Dimension`; sizes also get a `human_value`.
pub fn admin_dimension_item(key: &str, human_key: &str, value: i64, bytes: bool) -> Value {
    let mut item = json!({ "key": key, "human_key": human_key, "value": value.to_string() });
    if bytes {
        item["human_value"] = json!(human_size(value));
    }
    item
}

/// One cohort of `Admin::Metrics::Retention`.
pub fn admin_cohort(c: &crate::model::metrics::Cohort, frequency: &str) -> Value {
    let at = |t: &chrono::NaiveDateTime| format!("{}T00:00:00Z", t.date());
    let data: Vec<Value> = c
        .retained
        .iter()
        .map(|(date, n)| {
            let rate = if c.size == 0 { 0.0 } else { *n as f64 / c.size as f64 };
            json!({ "date": at(date), "rate": rate, "value": n.to_string() })
        })
        .collect();
    json!({ "period": at(&c.period), "frequency": frequency, "data": data })
}

/// `REST::Admin::TagSerializer`: the tag with the flags staff review.
pub fn admin_tag(t: &crate::model::tags::ReviewedTag, config: &Config) -> Value {
    let mut value = tag(&t.tag, config, None);
    value["trendable"] = json!(t.trendable.unwrap_or(false));
    value["usable"] = json!(t.usable.unwrap_or(true));
    value["listable"] = json!(t.listable.unwrap_or(true));
    value["requires_review"] = json!(t.reviewed_at.is_none());
    value
}

/// `REST::Admin::DomainAllowSerializer`.
pub fn admin_domain_allow(a: &crate::model::domain_blocks::DomainAllow) -> Value {
    json!({ "id": a.id.to_string(), "domain": a.domain, "created_at": iso(&a.created_at) })
}

/// `REST::Admin::DomainBlockSerializer`.
fn domain_block_severity(b: &crate::model::domain_blocks::DomainBlock) -> &'static str {
    match b.severity.unwrap_or(0) {
        1 => "suspend",
        2 => "noop",
        _ => "silence",
    }
}

fn domain_digest(domain: &str) -> String {
    use sha2::Digest;
    hex::encode(sha2::Sha256::digest(domain.as_bytes()))
}

/// A domain block as the public sees it (`/api/v1/instance/domain_blocks`): an obfuscated
/// domain keeps its dots and its first and last quarter, the rest is `*`.
pub fn public_domain_block(b: &crate::model::domain_blocks::DomainBlock, with_comment: bool) -> Value {
    let domain = if b.obfuscate {
        let chars: Vec<char> = b.domain.chars().collect();
        let visible = chars.len() / 4;
        let hidden = |i: usize, c: char| i > visible && i < chars.len() - visible && c != '.';
        chars.iter().enumerate().map(|(i, c)| if hidden(i, *c) { '*' } else { *c }).collect()
    } else {
        b.domain.clone()
    };
    json!({
        "domain": domain,
        "digest": domain_digest(&b.domain),
        "severity": domain_block_severity(b),
        "comment": if with_comment { b.public_comment.clone() } else { None },
    })
}

pub fn admin_domain_block(b: &crate::model::domain_blocks::DomainBlock) -> Value {
    json!({
        "id": b.id.to_string(),
        "domain": b.domain,
        "digest": domain_digest(&b.domain),
        "created_at": iso(&b.created_at),
        "severity": domain_block_severity(b),
        "reject_media": b.reject_media,
        "reject_reports": b.reject_reports,
        "private_comment": b.private_comment,
        "public_comment": b.public_comment,
        "obfuscate": b.obfuscate,
    })
}

/// `REST::Admin::EmailDomainBlockSerializer` (no sign-up attempts are counted yet: `history` is empty).
pub fn admin_email_domain_block(b: &crate::model::sign_up_blocks::EmailDomainBlock) -> Value {
    json!({
        "id": b.id.to_string(),
        "domain": b.domain,
        "created_at": iso(&b.created_at),
        "history": [],
        "allow_with_approval": b.allow_with_approval,
    })
}

/// `REST::Admin::IpBlockSerializer`.
pub fn admin_ip_block(b: &crate::model::sign_up_blocks::IpBlock) -> Value {
    use crate::model::sign_up_blocks::{SIGN_UP_BLOCK, SIGN_UP_REQUIRES_APPROVAL};
    let severity = match b.severity {
        SIGN_UP_REQUIRES_APPROVAL => "sign_up_requires_approval",
        SIGN_UP_BLOCK => "sign_up_block",
        _ => "no_access",
    };
    json!({
        "id": b.id.to_string(),
        "ip": b.ip,
        "severity": severity,
        "comment": b.comment,
        "created_at": iso(&b.created_at),
        "expires_at": b.expires_at.as_ref().map(iso),
    })
}

/// `REST::ListSerializer`.
pub fn list(l: &crate::model::lists::List) -> Value {
    json!({
        "id": l.id.to_string(),
        "title": l.title,
        "replies_policy": crate::model::lists::replies_policy_name(l.replies_policy),
        "exclusive": l.exclusive,
    })
}

/// `Filter` (v2); with its `keywords` and `statuses` when `rules` (the filters API), without
/// them inside a status's `filtered`.
pub fn filter(f: &crate::model::filters::Filter, rules: Option<&crate::model::filters::FilterWithRules>) -> Value {
    let mut value = json!({
        "id": f.id.to_string(),
        "title": f.title,
        "context": f.context,
        "expires_at": f.expires_at.as_ref().map(iso),
        "filter_action": f.action_name(),
    });
    if let Some(rules) = rules {
        value["keywords"] = rules.keywords.iter().map(filter_keyword).collect();
        value["statuses"] = rules.statuses.iter().map(filter_status).collect();
    }
    value
}

pub fn filter_keyword(k: &crate::model::filters::Keyword) -> Value {
    json!({ "id": k.id.to_string(), "keyword": k.keyword, "whole_word": k.whole_word })
}

pub fn filter_status(s: &crate::model::filters::FilteredStatus) -> Value {
    json!({ "id": s.id.to_string(), "status_id": s.status_id.to_string() })
}

/// The v1 filter API's view: one filter per keyword.
pub fn filter_v1(k: &crate::model::filters::Keyword, f: &crate::model::filters::Filter) -> Value {
    json!({
        "id": k.id.to_string(),
        "phrase": k.keyword,
        "context": f.context,
        "whole_word": k.whole_word,
        "expires_at": f.expires_at.as_ref().map(iso),
        "irreversible": f.action_name() == "hide",
    })
}

fn filter_result(m: &crate::model::filters::FilterMatch) -> Value {
    json!({
        "filter": filter(&m.filter, None),
        "keyword_matches": m.keyword_matches,
        "status_matches": m.status_matches.as_ref().map(|ids| ids.iter().map(i64::to_string).collect::<Vec<_>>()),
    })
}

/// The policy as the API shows it.
pub fn notification_policy(p: &crate::model::notification_policies::Policy, pending: (i64, i64)) -> Value {
    let name = |v: i32| crate::model::notification_policies::OUTCOMES.get(v as usize).copied().unwrap_or("accept");
    json!({
        "for_not_following": name(p.for_not_following),
        "for_not_followers": name(p.for_not_followers),
        "for_new_accounts": name(p.for_new_accounts),
        "for_private_mentions": name(p.for_private_mentions),
        "for_limited_accounts": name(p.for_limited_accounts),
        "summary": { "pending_requests_count": pending.0, "pending_notifications_count": pending.1 },
    })
}
