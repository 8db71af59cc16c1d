//! Instance metadata: `/api/v1/instance`, `/api/v2/instance` and friends, NodeInfo,
//! `/api/v1/preferences` and `/health`.

use actix_web::{HttpResponse, web};
use serde_json::{Value, json};

use super::auth::{Auth, MaybeAuth};
use crate::AppState;
use crate::core::error::Result;
use crate::core::text;
use crate::domain::polls;
use crate::effects::media;
use crate::model::accounts;
use crate::model::instance::{self, MASTODON_API_VERSION, SOFTWARE_VERSION};
use crate::model::settings::{self as site_settings, RegistrationsMode, SiteSettings};
use crate::model::statuses::{CHARACTERS_RESERVED_PER_URL, MAX_CHARACTERS, MAX_MEDIA_ATTACHMENTS, MAX_PINNED};
use crate::model::terms_of_service::{self, TermsOfService};
use crate::render::entities;

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

/// What both versions say from the site settings: who to contact and who may sign up.
struct About {
    settings: SiteSettings,
    contact_account: Value,
    rules: Vec<Value>,
    registrations_enabled: bool,
}

async fn about(state: &AppState) -> Result<About> {
    let db = &state.db.replica;
    let settings = site_settings::load(db).await?;
    let contact = settings.text("site_contact_username");
    let contact_account = match accounts::find_local(db, &contact).await? {
        Some(account) if !contact.is_empty() => entities::account(&account, &state.config),
        _ => Value::Null,
    };
    let rules = instance::rules(db).await?.iter().map(entities::rule).collect();
    let registrations_enabled =
        settings.registrations_mode() != RegistrationsMode::Closed && !state.config.single_user_mode;
    Ok(About { settings, contact_account, rules, registrations_enabled })
}

pub async fn v1(state: State) -> Result<HttpResponse> {
    let counts = instance::counts(&state.db.replica).await?;
    let config = &state.config;
    let About { settings, contact_account, rules, registrations_enabled } = about(&state).await?;
    let everyone = crate::model::roles::everyone(&state.db.replica).await?;
    Ok(HttpResponse::Ok().json(json!({
        "uri": config.local_domain,
        "title": settings.text("site_title"),
        "short_description": settings.text("site_short_description"),
        "description": settings.text("site_description"),
        "email": settings.text("site_contact_email"),
        "version": instance::version_string(),
        "urls": { "streaming_api": config.streaming_url() },
        "stats": { "user_count": counts.user_count, "status_count": counts.status_count, "domain_count": counts.domain_count },
        "thumbnail": format!("{}{DEFAULT_THUMBNAIL_PATH}", config.base_url()),
        "languages": ["en"],
        "registrations": registrations_enabled,
        "approval_required": settings.registrations_mode() == RegistrationsMode::Approved,
        "invites_enabled": everyone.permissions & crate::model::roles::permission::INVITE_USERS != 0,
        "configuration": {
            "accounts": { "max_featured_tags": 10 },
            "statuses": status_configuration(),
            "media_attachments": media_configuration(false),
            "polls": poll_configuration(),
        },
        "contact_account": contact_account,
        "rules": rules,
    })))
}

pub async fn v2(state: State) -> Result<HttpResponse> {
    let counts = instance::counts(&state.db.replica).await?;
    let config = &state.config;
    let base = config.base_url();
    let About { settings, contact_account, rules, registrations_enabled } = about(&state).await?;
    let approval_required = settings.registrations_mode() == RegistrationsMode::Approved;
    let closed_message = settings.text("closed_registrations_message");
    let has_terms = terms_of_service::current(&state.db.replica).await?.is_some();
    Ok(HttpResponse::Ok().json(json!({
        "domain": config.local_domain,
        "title": settings.text("site_title"),
        "version": instance::version_string(),
        "source_url": "https://github.com/ferrodon/ferrodon",
        "description": settings.text("site_short_description"),
        "usage": { "users": { "active_month": if config.limited_federation { 0 } else { counts.active_month } } },
        "thumbnail": {
            "url": format!("{base}{DEFAULT_THUMBNAIL_PATH}"),
            "description": "A blue gradient, the default picture of an instance that has not chosen one.",
        },
        "icon": [],
        "languages": ["en"],
        "configuration": {
            "urls": {
                "streaming": config.streaming_url(),
                "status": Some(settings.text("status_page_url")).filter(|url| !url.is_empty()),
                "about": format!("{base}/about"),
                "privacy_policy": format!("{base}/privacy-policy"),
                "terms_of_service": has_terms.then(|| format!("{base}/terms-of-service")),
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
            "limited_federation": config.limited_federation,
        },
        "registrations": {
            "enabled": registrations_enabled,
            "approval_required": approval_required,
            "reason_required": approval_required && settings.flag("require_invite_text"),
            "message": (!registrations_enabled && !closed_message.is_empty()).then(|| paragraphs(&closed_message)),
            "min_age": settings.integer("min_age"),
            "url": null,
        },
        "api_versions": { "mastodon": MASTODON_API_VERSION },
        "contact": { "email": settings.text("site_contact_email"), "account": contact_account },
        "rules": rules,
        // Mastodon's annual-report campaign: ferrodon does not make annual reports yet.
        "wrapstodon": null,
    })))
}

/// Text an admin wrote, as HTML paragraphs (blank lines part them, newlines break lines).
fn paragraphs(text: &str) -> String {
    text.split("\n\n")
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(|p| format!("<p>{}</p>", crate::core::text::escape_html(p).replace('\n', "<br>")))
        .collect()
}

/// `{updated_at, content}` of a text an admin wrote (`%{domain}` stands for this server).
fn admin_text(
    text: &str,
    updated_at: Option<chrono::NaiveDateTime>,
    config: &crate::core::config::Config,
    untrusted: bool,
) -> Value {
    let updated_at = updated_at.map(|t| t.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Secs, true));
    let text = text.replace("%{domain}", &config.local_domain);
    let content = if text.trim().is_empty() { String::new() } else { text::markdown_html(&text, untrusted) };
    json!({ "updated_at": updated_at, "content": content })
}

/// `GET /api/v1/instance/extended_description`: the about page's text.
pub async fn extended_description(state: State) -> Result<HttpResponse> {
    let db = &state.db.replica;
    let text = site_settings::load(db).await?.text("site_extended_description");
    let updated_at = site_settings::updated_at(db, "site_extended_description").await?;
    Ok(HttpResponse::Ok().json(admin_text(&text, updated_at, &state.config, false)))
}

/// The privacy policy of a server whose admin wrote none.
const DEFAULT_PRIVACY_POLICY: &str = include_str!("default_privacy_policy.md");

/// `GET /api/v1/instance/privacy_policy`: the admin's (`site_terms`), else ferrodon's default.
pub async fn privacy_policy(state: State) -> Result<HttpResponse> {
    let db = &state.db.replica;
    let custom = site_settings::load(db).await?.text("site_terms");
    let (text, updated_at) = if custom.trim().is_empty() {
        (
            DEFAULT_PRIVACY_POLICY.to_string(),
            chrono::NaiveDate::from_ymd_opt(2026, 12, 7).and_then(|d| d.and_hms_opt(0, 0, 0)),
        )
    } else {
        (custom, site_settings::updated_at(db, "site_terms").await?)
    };
    Ok(HttpResponse::Ok().json(admin_text(&text, updated_at, &state.config, true)))
}

/// `GET /api/v1/instance/terms_of_service`: the terms in force (404 when there are none).
pub async fn terms_of_service(state: State) -> Result<HttpResponse> {
    let terms = terms_of_service::current(&state.db.replica).await?.ok_or(crate::Error::NotFound)?;
    Ok(HttpResponse::Ok().json(terms_json(&state, &terms).await?))
}

/// `GET /api/v1/instance/terms_of_service/{date}`: the published terms of that day.
pub async fn terms_of_service_on(state: State, date: web::Path<String>) -> Result<HttpResponse> {
    let date = chrono::NaiveDate::parse_from_str(&date, "%Y-%m-%d").map_err(|_| crate::Error::NotFound)?;
    let terms = terms_of_service::effective_on(&state.db.replica, date).await?.ok_or(crate::Error::NotFound)?;
    Ok(HttpResponse::Ok().json(terms_json(&state, &terms).await?))
}

/// A `TermsOfService` entity: the admin's Markdown (HTML escaped, `%{domain}` filled in), the
/// day it takes effect (the publication time for terms without one), and what replaces it.
async fn terms_json(state: &AppState, terms: &TermsOfService) -> Result<Value> {
    let today = crate::core::time::now().date();
    let effective_date = match (terms.effective_date, terms.published_at) {
        (Some(date), _) => Some(date.to_string()),
        (None, published) => published.as_ref().map(crate::core::time::iso),
    };
    let succeeded_by = terms_of_service::succeeded_by(&state.db.replica, terms).await?;
    Ok(json!({
        "effective_date": effective_date,
        "effective": terms.published_at.is_some() && terms.effective_date.is_some_and(|d| d < today),
        "content": text::markdown_html(&terms.text.replace("%{domain}", &state.config.local_domain), true),
        "succeeded_by": succeeded_by.map(|d| d.to_string()),
    }))
}

/// `GET /api/v1/instance/translation_languages`: none, as Mastodon without a translation backend.
pub async fn translation_languages() -> HttpResponse {
    HttpResponse::Ok().json(json!({}))
}

/// `GET /api/v1/instance/domain_blocks`: the servers this one limits, when the admin shows them
/// (`show_domain_blocks`: to everyone, or to signed-in users; otherwise 404), with the public
/// reason when `show_domain_blocks_rationale` allows it. Obfuscated domains are partly hidden.
pub async fn domain_blocks(state: State, auth: MaybeAuth) -> Result<HttpResponse> {
    let db = &state.db.replica;
    let settings = site_settings::load(db).await?;
    let signed_in = auth.0.as_ref().is_some_and(|a| a.viewer().is_ok());
    let shown_to = |setting: &str| match settings.text(setting).as_str() {
        "all" => true,
        "users" => signed_in,
        _ => false,
    };
    if !shown_to("show_domain_blocks") {
        return Err(crate::Error::NotFound);
    }
    let with_comment = shown_to("show_domain_blocks_rationale");
    let mut blocks = crate::model::domain_blocks::all(db).await?;
    blocks.retain(|b| matches!(b.severity, Some(0 | 1)) || b.reject_media);
    blocks.sort_by(|a, b| (a.severity, &a.domain).cmp(&(b.severity, &b.domain)));
    let rendered: Vec<Value> = blocks.iter().map(|b| entities::public_domain_block(b, with_comment)).collect();
    Ok(HttpResponse::Ok().json(rendered))
}

/// `GET /api/v1/instance/rules`.
pub async fn rules(state: State) -> Result<HttpResponse> {
    let rules: Vec<Value> = instance::rules(&state.db.replica).await?.iter().map(entities::rule).collect();
    Ok(HttpResponse::Ok().json(rules))
}

/// 404 where the admin turned an API off (`peers_api_enabled`, `activity_api_enabled`).
async fn require_enabled(state: &AppState, setting: &str) -> Result<()> {
    if site_settings::load(&state.db.replica).await?.flag(setting) { Ok(()) } else { Err(crate::Error::NotFound) }
}

pub async fn peers(state: State) -> Result<HttpResponse> {
    require_enabled(&state, "peers_api_enabled").await?;
    let domains: Vec<String> =
        sqlx::query_scalar("SELECT DISTINCT domain FROM accounts WHERE domain IS NOT NULL ORDER BY domain")
            .fetch_all(&state.db.replica)
            .await?;
    Ok(HttpResponse::Ok().json(domains))
}

pub async fn activity(state: State) -> Result<HttpResponse> {
    require_enabled(&state, "activity_api_enabled").await?;
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
        // The language a post gets when the app names none, as Mastodon's preferred_posting_language.
        "posting:default:language": crate::domain::posting::post_language(None, &user),
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
    let settings = site_settings::load(&state.db.replica).await?;
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
            "openRegistrations": settings.registrations_mode() == RegistrationsMode::Open && !state.config.single_user_mode,
            "metadata": {
                "nodeName": settings.text("site_title"),
                "nodeDescription": settings.text("site_short_description"),
                "upstream": "mastodon",
            },
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

/// The instance's picture where the admin set none (`thumbnail` in `/api/v1/instance`).
pub async fn default_thumbnail() -> HttpResponse {
    static PNG: &[u8] = include_bytes!("../../public/packs/media/images/preview.png");
    HttpResponse::Ok().content_type("image/png").insert_header(("Cache-Control", "public, max-age=2419200")).body(PNG)
}

/// Where `default_thumbnail` is served.
pub const DEFAULT_THUMBNAIL_PATH: &str = "/packs/media/images/preview.png";

pub async fn missing_header() -> HttpResponse {
    static PNG: &[u8] = include_bytes!("../../public/headers/original/missing.png");
    HttpResponse::Ok().content_type("image/png").insert_header(("Cache-Control", "public, max-age=2419200")).body(PNG)
}
