//! Instance metadata: `/api/v1/instance`, `/api/v2/instance` and friends, NodeInfo,
//! `/api/v1/preferences` and `/health`.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::auth::Auth;
use crate::AppState;
use crate::core::error::Result;
use crate::domain::polls;
use crate::effects::media;
use crate::model::accounts;
use crate::model::instance::{self, MASTODON_API_VERSION, SOFTWARE_VERSION};
use crate::model::statuses::{CHARACTERS_RESERVED_PER_URL, MAX_CHARACTERS, MAX_MEDIA_ATTACHMENTS, MAX_PINNED};

type State = web::Data<AppState>;

fn media_configuration(v2: bool) -> Value {
    let mut value = json!({
        "supported_mime_types": media::SUPPORTED_MIME_TYPES,
        "image_size_limit": media::process::IMAGE_SIZE_LIMIT,
        "image_matrix_limit": 33_177_600,
        "video_size_limit": media::process::VIDEO_SIZE_LIMIT,
        "video_frame_rate_limit": 120,
        "video_matrix_limit": 8_294_400,
    });
    if v2 {
        value["description_limit"] = json!(crate::model::media::DESCRIPTION_LIMIT);
    }
    value
}

fn status_configuration() -> Value {
    json!({
        "max_characters": MAX_CHARACTERS,
        "max_media_attachments": MAX_MEDIA_ATTACHMENTS,
        "characters_reserved_per_url": CHARACTERS_RESERVED_PER_URL,
    })
}

fn poll_configuration() -> Value {
    json!({
        "max_options": polls::MAX_OPTIONS,
        "max_characters_per_option": polls::MAX_CHARACTERS_PER_OPTION,
        "min_expiration": polls::MIN_EXPIRATION_SECONDS,
        "max_expiration": polls::MAX_EXPIRATION_SECONDS,
    })
}

pub async fn v1(state: State) -> Result<HttpResponse> {
    let counts = instance::counts(&state.db.replica).await?;
    let config = &state.config;
    Ok(HttpResponse::Ok().json(json!({
        "uri": config.local_domain,
        "title": config.local_domain,
        "short_description": "",
        "description": "",
        "email": "",
        "version": instance::version_string(),
        "urls": { "streaming_api": config.streaming_url() },
        "stats": { "user_count": counts.user_count, "status_count": counts.status_count, "domain_count": counts.domain_count },
        "thumbnail": null,
        "languages": ["en"],
        "registrations": config.registrations_open,
        "approval_required": false,
        "invites_enabled": false,
        "configuration": {
            "accounts": { "max_featured_tags": 10 },
            "statuses": status_configuration(),
            "media_attachments": media_configuration(false),
            "polls": poll_configuration(),
        },
        "contact_account": null,
        "rules": [],
    })))
}

pub async fn v2(state: State) -> Result<HttpResponse> {
    let counts = instance::counts(&state.db.replica).await?;
    let config = &state.config;
    let base = config.base_url();
    Ok(HttpResponse::Ok().json(json!({
        "domain": config.local_domain,
        "title": config.local_domain,
        "version": instance::version_string(),
        "source_url": "https://github.com/ferrodon/ferrodon",
        "description": "",
        "usage": { "users": { "active_month": counts.active_month } },
        "thumbnail": { "url": format!("{base}/packs/media/images/preview.png") },
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {
                "streaming": config.streaming_url(),
                "status": null,
                "about": format!("{base}/about"),
                "privacy_policy": format!("{base}/privacy-policy"),
                "terms_of_service": null,
            },
            "vapid": { "public_key": "" },
            "accounts": {
                "max_featured_tags": 10,
                "max_pinned_statuses": MAX_PINNED,
                "max_display_name_length": accounts::MAX_DISPLAY_NAME,
                "max_note_length": accounts::MAX_NOTE,
                "max_profile_fields": accounts::MAX_FIELDS,
                "profile_field_name_limit": accounts::MAX_FIELD_LENGTH,
                "profile_field_value_limit": accounts::MAX_FIELD_LENGTH,
            },
            "statuses": status_configuration(),
            "media_attachments": media_configuration(true),
            "polls": poll_configuration(),
            "translation": { "enabled": false },
            "limited_federation": false,
        },
        "registrations": {
            "enabled": config.registrations_open,
            "approval_required": false,
            "reason_required": false,
            "message": null,
            "min_age": null,
            "url": null,
        },
        "api_versions": { "mastodon": MASTODON_API_VERSION },
        "contact": { "email": "", "account": null },
        "rules": [],
    })))
}

pub async fn peers(state: State) -> Result<HttpResponse> {
    let domains: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT domain FROM accounts WHERE domain IS NOT NULL ORDER BY domain")
            .fetch_all(&state.db.replica)
            .await?;
    Ok(HttpResponse::Ok().json(domains))
}

pub async fn activity(state: State) -> Result<HttpResponse> {
    let weeks = instance::activity(&state.db.replica).await?;
    let rendered: Vec<Value> = weeks
        .iter()
        .map(|w| {
            json!({
                "week": w.start.and_hms_opt(0, 0, 0).map(|t| t.and_utc().timestamp().to_string()),
                "statuses": w.statuses.to_string(),
                "logins": w.logins.to_string(),
                "registrations": w.registrations.to_string(),
            })
        })
        .collect();
    Ok(HttpResponse::Ok().json(rendered))
}

pub async fn empty_list() -> HttpResponse {
    HttpResponse::Ok().json(Vec::<Value>::new())
}

pub async fn preferences(state: State, auth: Auth) -> Result<HttpResponse> {
    let viewer = auth.user("read:accounts")?;
    let user = accounts::user_by_account(&state.db.primary, viewer.account_id).await?.ok_or(crate::Error::NotFound)?;
    let settings = user.settings();
    Ok(HttpResponse::Ok().json(json!({
        "posting:default:visibility": user.default_privacy(),
        "posting:default:sensitive": settings.default_sensitive.unwrap_or(false),
        "posting:default:language": settings.default_language,
        "posting:default:quote_policy": "public",
        "reading:expand:media": settings.display_media.unwrap_or_else(|| "default".into()),
        "reading:expand:spoilers": settings.expand_spoilers.unwrap_or(false),
        "reading:autoplay:gifs": false,
    })))
}

pub async fn nodeinfo_index(state: State) -> HttpResponse {
    HttpResponse::Ok().json(json!({
        "links": [{
            "rel": "http://nodeinfo.diaspora.software/ns/schema/2.0",
            "href": format!("{}/nodeinfo/2.0", state.config.base_url()),
        }]
    }))
}

/// NodeInfo 2.0. The software name is ours; the version string carries the Mastodon
/// version we are compatible with, which is what client libraries check.
pub async fn nodeinfo(state: State) -> Result<HttpResponse> {
    let counts = instance::counts(&state.db.replica).await?;
    Ok(HttpResponse::Ok()
        .content_type("application/json; profile=\"http://nodeinfo.diaspora.software/ns/schema/2.0#\"")
        .json(json!({
            "version": "2.0",
            "software": { "name": "ferrodon", "version": format!("{}+ferrodon.{SOFTWARE_VERSION}", instance::MASTODON_COMPATIBLE_VERSION) },
            "protocols": ["activitypub"],
            "services": { "outbound": [], "inbound": [] },
            "usage": {
                "users": { "total": counts.user_count, "activeMonth": counts.active_month, "activeHalfyear": counts.active_halfyear },
                "localPosts": counts.status_count,
            },
            "openRegistrations": state.config.registrations_open,
            "metadata": { "nodeName": state.config.local_domain, "nodeDescription": "", "upstream": "mastodon" },
        })))
}

pub async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("OK")
}

/// The default avatar and header images (nginx serves `public/` directly in production).
pub async fn missing_avatar() -> HttpResponse {
    static PNG: &[u8] = include_bytes!("../../public/avatars/original/missing.png");
    HttpResponse::Ok().content_type("image/png").insert_header(("Cache-Control", "public, max-age=2419200")).body(PNG)
}

pub async fn missing_header() -> HttpResponse {
    static PNG: &[u8] = include_bytes!("../../public/headers/original/missing.png");
    HttpResponse::Ok().content_type("image/png").insert_header(("Cache-Control", "public, max-age=2419200")).body(PNG)
}
