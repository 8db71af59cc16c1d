//! `/api/v1/statuses`: post, read, edit, delete and interact.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value};

use super::auth::{Auth, MaybeAuth};
use super::links::json_page_limited;
use super::params::{Params, hash_list, opt_bool, opt_string, opt_string_list, path_id, string_list};
use super::{render_account_list, render_status, render_statuses};
use crate::AppState;
use crate::api::params::PageParams;
use crate::core::error::{Error, Result};
use crate::domain::interactions;
use crate::domain::limits::{self, Family};
use crate::domain::polls::NewPoll;
use crate::domain::posting::{self, NewStatus, StatusChanges};
use crate::domain::timelines;
use crate::effects::media;
use crate::model::accounts;
use crate::model::hydrate;
use crate::model::media::MediaEdit;
use crate::model::statuses;
use crate::render::entities;

type State = web::Data<AppState>;

#[derive(Deserialize)]
pub struct StatusParams {
    #[serde(default, deserialize_with = "opt_string")]
    status: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    spoiler_text: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    visibility: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    sensitive: Option<bool>,
    #[serde(default, deserialize_with = "opt_string")]
    language: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    in_reply_to_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string_list")]
    media_ids: Option<Vec<String>>,
    #[serde(default, deserialize_with = "hash_list")]
    media_attributes: Option<Vec<Map<String, Value>>>,
    #[serde(default)]
    poll: Option<Value>,
    #[serde(default, deserialize_with = "opt_string")]
    scheduled_at: Option<String>,
    #[serde(default, deserialize_with = "opt_string_list")]
    allowed_mentions: Option<Vec<String>>,
}

fn media_ids(raw: &[String]) -> Result<Vec<i64>> {
    raw.iter()
        .filter(|s| !s.is_empty())
        .map(|s| s.parse().map_err(|_| Error::validation("Media attachments are invalid")))
        .collect()
}

/// `media_attributes[][id]`, `[description]`, `[focus]` of a status edit.
fn media_attributes(list: Vec<Map<String, Value>>) -> Result<Vec<(i64, MediaEdit)>> {
    let text = |m: &Map<String, Value>, key: &str| match m.get(key) {
        Some(Value::String(s)) => Some(s.clone()),
        Some(Value::Number(n)) => Some(n.to_string()),
        _ => None,
    };
    list.iter()
        .map(|m| {
            let id = text(m, "id")
                .and_then(|id| id.parse().ok())
                .ok_or_else(|| Error::validation("Media attributes are invalid"))?;
            Ok((id, MediaEdit { description: text(m, "description"), focus: text(m, "focus") }))
        })
        .collect()
}

pub async fn create(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(p): Params<StatusParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:statuses")?;
    let scheduled_at = match p.scheduled_at.as_deref().filter(|s| !s.trim().is_empty()) {
        Some(raw) => Some(super::scheduled_statuses::parse_time(raw)?),
        None => None,
    };
    let author = accounts::get(&state.db.primary, viewer.account_id).await?;
    let user =
        accounts::user_by_account(&state.db.primary, viewer.account_id).await?.ok_or_else(Error::invalid_token)?;
    let in_reply_to_id = match p.in_reply_to_id.as_deref().filter(|s| !s.is_empty()) {
        Some(raw) => Some(path_id(raw)?),
        None => None,
    };
    let new = NewStatus {
        text: p.status.unwrap_or_default(),
        spoiler_text: p.spoiler_text.unwrap_or_default(),
        visibility: p.visibility,
        sensitive: p.sensitive,
        language: p.language,
        in_reply_to_id,
        media_ids: media_ids(p.media_ids.as_deref().unwrap_or_default())?,
        poll: NewPoll::from_param(p.poll.as_ref())?,
        idempotency_key: req.headers().get("Idempotency-Key").and_then(|v| v.to_str().ok()).map(str::to_string),
        application_id: viewer.application_id,
        // Ids that are not numbers name no account, so they allow nothing.
        allowed_mentions: p.allowed_mentions.map(|ids| ids.iter().filter_map(|id| id.parse().ok()).collect()),
    };
    // A time already past posts at once, as Mastodon does.
    if let Some(at) = scheduled_at.filter(|at| *at > crate::core::time::now()) {
        let id = crate::domain::scheduled::schedule(&state, &author, &user, new, p.poll.as_ref(), at).await?;
        let row = crate::model::scheduled_statuses::find(&state.db.primary, viewer.account_id, id).await?;
        return Ok(HttpResponse::Ok().json(super::scheduled_statuses::render(&state, &[row]).await?.pop()));
    }
    limits::check(&state.db.primary, viewer.account_id, Family::Statuses).await?;
    let id = match posting::post(&state, &author, &user, new).await {
        Err(Error::UnexpectedMentions(ids)) => return unexpected_mentions(&state, &ids).await,
        other => other?,
    };
    Ok(HttpResponse::Ok().json(render_status(&state, id, Some(viewer.account_id)).await?))
}

/// Mastodon's 422 for `allowed_mentions`: the message and the accounts that were not allowed.
async fn unexpected_mentions(state: &AppState, ids: &[i64]) -> Result<HttpResponse> {
    let accounts = accounts::find_many(&state.db.primary, ids).await?;
    Ok(HttpResponse::UnprocessableEntity().json(serde_json::json!({
        "error": Error::UnexpectedMentions(Vec::new()).to_string(),
        "unexpected_accounts": accounts.iter().map(|a| entities::account(a, &state.config)).collect::<Vec<_>>(),
    })))
}

pub async fn show(state: State, auth: MaybeAuth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.viewer("read:statuses")?;
    let status = statuses::find_visible(&state.db.primary, path_id(&id)?, viewer).await?;
    Ok(HttpResponse::Ok().json(render_status(&state, status.id, viewer).await?))
}

#[derive(Deserialize)]
pub struct IdsParams {
    #[serde(default, deserialize_with = "string_list")]
    id: Vec<String>,
}

/// `GET /api/v1/statuses?id[]=…`: the visible ones, in the order asked.
pub async fn index(state: State, auth: MaybeAuth, Params(p): Params<IdsParams>) -> Result<HttpResponse> {
    let viewer = auth.viewer("read:statuses")?;
    let ids: Vec<i64> = p.id.iter().filter_map(|s| s.parse().ok()).take(20).collect();
    // Rendering drops the ones the viewer may not see.
    Ok(HttpResponse::Ok().json(render_statuses(&state, &ids, viewer).await?))
}

#[derive(Deserialize)]
pub struct DestroyParams {
    #[serde(default, deserialize_with = "opt_bool")]
    delete_media: Option<bool>,
}

/// Deletes a status. Its media stay for a redraft unless `delete_media=true`.
pub async fn destroy(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<DestroyParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:statuses")?;
    let status = statuses::find_own(&state.db.primary, path_id(&id)?, viewer.account_id).await?;
    let mut body = render_status(&state, status.id, Some(viewer.account_id)).await?;
    body["text"] = Value::String(status.text.clone());
    posting::remove(&state, &status).await?;
    if p.delete_media == Some(true) {
        let ids = status.ordered_media_attachment_ids.clone().unwrap_or_default();
        media::destroy_unattached(&state, viewer.account_id, &ids).await?;
    }
    Ok(HttpResponse::Ok().json(body))
}

pub async fn update(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<StatusParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:statuses")?;
    let author = accounts::get(&state.db.primary, viewer.account_id).await?;
    let changes = StatusChanges {
        text: p.status.unwrap_or_default(),
        spoiler_text: p.spoiler_text.unwrap_or_default(),
        sensitive: p.sensitive,
        language: p.language,
        media_ids: p.media_ids.as_deref().map(media_ids).transpose()?,
        media_attributes: media_attributes(p.media_attributes.unwrap_or_default())?,
        poll: NewPoll::from_param(p.poll.as_ref())?,
    };
    let id = path_id(&id)?;
    limits::check(&state.db.primary, viewer.account_id, Family::Statuses).await?;
    posting::edit(&state, &author, id, changes).await?;
    Ok(HttpResponse::Ok().json(render_status(&state, id, Some(viewer.account_id)).await?))
}

pub async fn history(state: State, auth: MaybeAuth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.viewer("read:statuses")?;
    let status = statuses::find_visible(&state.db.primary, path_id(&id)?, viewer).await?;
    let edits = statuses::history(&state.db.primary, &status).await?;
    let bundle = hydrate::load(&state.db.primary, &[status.id], viewer).await?;
    Ok(HttpResponse::Ok().json(entities::status_edits(&status, &edits, &bundle, &state.config)))
}

/// `GET /api/v1/statuses/:id/source`: any status the token may see, as in Mastodon.
pub async fn source(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    auth.require("read:statuses")?;
    let status = statuses::find_visible(&state.db.primary, path_id(&id)?, auth.token.account_id).await?;
    Ok(HttpResponse::Ok().json(entities::status_source(&status)))
}

pub async fn context(state: State, auth: MaybeAuth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.viewer("read:statuses")?;
    let status = statuses::find_visible(&state.db.primary, path_id(&id)?, viewer).await?;
    let (ancestors, descendants) = timelines::context(&state.db.primary, viewer, &status).await?;
    let all: Vec<i64> = ancestors.iter().chain(descendants.iter()).copied().collect();
    let mut bundle = hydrate::load(&state.db.primary, &all, viewer).await?;
    hydrate::apply_filters(&state.db.primary, &mut bundle, "thread").await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "ancestors": entities::statuses(&ancestors, &bundle, &state.config),
        "descendants": entities::statuses(&descendants, &bundle, &state.config),
    })))
}

/// The status after an interaction, rendered for the acting viewer.
async fn after(state: &AppState, id: i64, viewer: i64) -> Result<HttpResponse> {
    Ok(HttpResponse::Ok().json(render_status(state, id, Some(viewer)).await?))
}

/// `POST /api/v1/statuses/:id/mute`: no more notifications from its conversation.
pub async fn mute(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:mutes")?;
    let id = path_id(&id)?;
    interactions::mute_conversation(&state, viewer.account_id, id, true).await?;
    after(&state, id, viewer.account_id).await
}

pub async fn unmute(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:mutes")?;
    let id = path_id(&id)?;
    interactions::mute_conversation(&state, viewer.account_id, id, false).await?;
    after(&state, id, viewer.account_id).await
}

/// `POST /api/v1/statuses/:id/translate`: ferrodon has no translation backend, and
/// Mastodon without one answers 404 for a status the viewer can see.
pub async fn translate(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:statuses")?;
    statuses::find_visible(&state.db.primary, path_id(&id)?, Some(viewer.account_id)).await?;
    Err(Error::NotFound)
}

pub async fn favourite(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:favourites")?;
    let id = path_id(&id)?;
    interactions::favourite(&state, viewer.account_id, id).await?;
    after(&state, id, viewer.account_id).await
}

pub async fn unfavourite(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:favourites")?;
    let id = path_id(&id)?;
    interactions::unfavourite(&state, viewer.account_id, id).await?;
    after(&state, id, viewer.account_id).await
}

pub async fn bookmark(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:bookmarks")?;
    let id = path_id(&id)?;
    interactions::bookmark(&state, viewer.account_id, id).await?;
    after(&state, id, viewer.account_id).await
}

pub async fn unbookmark(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:bookmarks")?;
    let id = path_id(&id)?;
    interactions::unbookmark(&state, viewer.account_id, id).await?;
    after(&state, id, viewer.account_id).await
}

pub async fn pin(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:accounts")?;
    let id = path_id(&id)?;
    interactions::pin(&state, viewer.account_id, id).await?;
    after(&state, id, viewer.account_id).await
}

pub async fn unpin(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:accounts")?;
    let id = path_id(&id)?;
    interactions::unpin(&state, viewer.account_id, id).await?;
    after(&state, id, viewer.account_id).await
}

#[derive(Deserialize)]
pub struct ReblogParams {
    #[serde(default, deserialize_with = "opt_string")]
    visibility: Option<String>,
}

pub async fn reblog(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<ReblogParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:statuses")?;
    let account = accounts::get(&state.db.primary, viewer.account_id).await?;
    let user =
        accounts::user_by_account(&state.db.primary, viewer.account_id).await?.ok_or_else(Error::invalid_token)?;
    let reblog_id = posting::reblog(&state, &account, &user, path_id(&id)?, p.visibility.as_deref()).await?;
    let mut wrapper = render_status(&state, reblog_id, Some(viewer.account_id)).await?;
    // Mastodon answers with the viewer's flags on the reblogged status, the wrapper included.
    for flag in ["favourited", "reblogged", "bookmarked", "muted"] {
        wrapper[flag] = wrapper["reblog"][flag].clone();
    }
    Ok(HttpResponse::Ok().json(wrapper))
}

pub async fn unreblog(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:statuses")?;
    let account = accounts::get(&state.db.primary, viewer.account_id).await?;
    let id = path_id(&id)?;
    posting::unreblog(&state, &account, id).await?;
    after(&state, id, viewer.account_id).await
}

async fn interacted_by(
    state: State,
    auth: MaybeAuth,
    req: HttpRequest,
    id: String,
    page: PageParams,
    reblogs: bool,
) -> Result<HttpResponse> {
    let viewer = auth.viewer("read:accounts")?;
    let page = page.page(40, 80);
    let rows = interactions::interacted_by(&state.db.primary, path_id(&id)?, viewer, reblogs, &page).await?;
    let cursors: Vec<i64> = rows.iter().map(|(c, _)| *c).collect();
    Ok(json_page_limited(&state, &req, &cursors, page.limit, render_account_list(&state, &rows)))
}

pub async fn favourited_by(
    state: State,
    auth: MaybeAuth,
    req: HttpRequest,
    id: web::Path<String>,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    interacted_by(state, auth, req, id.into_inner(), page, false).await
}

pub async fn reblogged_by(
    state: State,
    auth: MaybeAuth,
    req: HttpRequest,
    id: web::Path<String>,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    interacted_by(state, auth, req, id.into_inner(), page, true).await
}

async fn saved(state: State, auth: Auth, req: HttpRequest, page: PageParams, bookmarks: bool) -> Result<HttpResponse> {
    let viewer = auth.user(if bookmarks { "read:bookmarks" } else { "read:favourites" })?;
    let page = page.page(20, 40);
    let rows = interactions::saved_statuses(&state.db.primary, viewer.account_id, bookmarks, &page).await?;
    let ids: Vec<i64> = rows.iter().map(|(_, s)| *s).collect();
    let cursors: Vec<i64> = rows.iter().map(|(c, _)| *c).collect();
    Ok(json_page_limited(
        &state,
        &req,
        &cursors,
        page.limit,
        render_statuses(&state, &ids, Some(viewer.account_id)).await?,
    ))
}

pub async fn favourites(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    saved(state, auth, req, page, false).await
}

pub async fn bookmarks(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    saved(state, auth, req, page, true).await
}
