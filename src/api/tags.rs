//! `/api/v1/tags/:name` (with follow/unfollow and feature/unfeature), `/api/v1/followed_tags`
//! and featured tags (`/api/v1/featured_tags`, `/api/v1/accounts/:id/featured_tags`).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use super::auth::{Auth, MaybeAuth};
use super::links::json_page;
use super::params::{Params, opt_string, path_id};
use crate::AppState;
use crate::api::params::PageParams;
use crate::core::error::{Error, Result};
use crate::core::text;
use crate::domain::limits::{self, Family};
use crate::domain::tags::{self, MAX_FEATURED};
use crate::model::{self, accounts::Account, tags::Tag, tags::TagFlags};
use crate::render::entities;

type State = web::Data<AppState>;

pub async fn show(state: State, auth: MaybeAuth, name: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.viewer("read")?;
    let tag = match crate::model::tags::find(&state.db.primary, &name).await? {
        Some(tag) => tag,
        // Like Mastodon, an unused but valid name is shown as a tag nobody follows yet.
        None if text::extract_hashtags(&format!("#{name}")) == [name.to_string()] => {
            Tag { id: 0, name: text::normalize_hashtag(&name), display_name: Some(name.to_string()) }
        }
        None => return Err(Error::NotFound),
    };
    let flags = match viewer {
        Some(v) if tag.id != 0 => Some(model::tags::flags(&state.db.primary, v, tag.id).await?),
        Some(_) => Some(TagFlags::default()),
        None => None,
    };
    Ok(HttpResponse::Ok().json(entities::tag(&tag, &state.config, flags)))
}

/// A tag as the viewer now sees it, after a change.
async fn tag_json(state: &AppState, viewer: i64, tag: &Tag) -> Result<HttpResponse> {
    let flags = model::tags::flags(&state.db.primary, viewer, tag.id).await?;
    Ok(HttpResponse::Ok().json(entities::tag(tag, &state.config, Some(flags))))
}

pub async fn follow(state: State, auth: Auth, name: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:follows")?;
    limits::check(&state.db.primary, viewer.account_id, Family::Follows).await?;
    let tag = tags::find_or_create(&state.db.primary, &name).await?;
    tags::follow(&state.db.primary, viewer.account_id, &tag).await?;
    tag_json(&state, viewer.account_id, &tag).await
}

pub async fn unfollow(state: State, auth: Auth, name: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:follows")?;
    let tag = crate::model::tags::find(&state.db.primary, &name).await?.ok_or(Error::NotFound)?;
    tags::unfollow(&state, viewer.account_id, &tag).await?;
    tag_json(&state, viewer.account_id, &tag).await
}

pub async fn followed(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:follows")?;
    let page = page.page(100, 200);
    let rows = model::tags::followed(&state.db.primary, viewer.account_id, &page).await?;
    let cursors: Vec<i64> = rows.iter().map(|(c, _)| *c).collect();
    let tags: Vec<Tag> = rows.into_iter().map(|(_, t)| t).collect();
    let rendered = tags_json(&state, viewer.account_id, &tags).await?;
    Ok(json_page(&state, &req, &cursors, rendered))
}

/// Tags with the viewer's `following` and `featuring`, read in one query.
async fn tags_json(state: &AppState, viewer: i64, tags: &[Tag]) -> Result<Vec<Value>> {
    let ids: Vec<i64> = tags.iter().map(|t| t.id).collect();
    let flags = model::tags::flags_of(&state.db.primary, viewer, &ids).await?;
    Ok(tags
        .iter()
        .map(|t| entities::tag(t, &state.config, Some(flags.get(&t.id).copied().unwrap_or_default())))
        .collect())
}

/// `POST /api/v1/tags/:name/feature`.
pub async fn feature(state: State, auth: Auth, name: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:accounts")?;
    let (tag, _) = tags::feature(&state.db.primary, viewer.account_id, &name).await?;
    tag_json(&state, viewer.account_id, &tag).await
}

/// `POST /api/v1/tags/:name/unfeature`.
pub async fn unfeature(state: State, auth: Auth, name: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:accounts")?;
    let tag = model::tags::find(&state.db.primary, &name).await?.ok_or(Error::NotFound)?;
    model::tags::unfeature(&state.db.primary, viewer.account_id, None, Some(tag.id)).await?;
    tag_json(&state, viewer.account_id, &tag).await
}

/// Featured tags of `account`, most used first, as Mastodon lists them.
async fn featured_json(state: &AppState, account: &Account) -> Result<Vec<Value>> {
    let mut featured = model::tags::featured(&state.db.primary, account.id, None).await?;
    featured.sort_by_key(|f| std::cmp::Reverse(f.statuses_count));
    Ok(featured.iter().map(|f| entities::featured_tag(f, account, &state.config)).collect())
}

/// `GET /api/v1/featured_tags`: the viewer's own.
pub async fn featured_tags(state: State, auth: Auth) -> Result<HttpResponse> {
    let viewer = auth.user("read:accounts")?;
    let account = model::accounts::get(&state.db.primary, viewer.account_id).await?;
    Ok(HttpResponse::Ok().json(featured_json(&state, &account).await?))
}

/// `GET /api/v1/accounts/:id/featured_tags`: anyone's, nothing for a suspended account.
pub async fn account_featured_tags(state: State, auth: MaybeAuth, id: web::Path<String>) -> Result<HttpResponse> {
    auth.viewer("read:accounts")?;
    let account = model::accounts::get(&state.db.primary, path_id(&id)?).await?;
    if account.suspended_at.is_some() {
        return Ok(HttpResponse::Ok().json(Vec::<Value>::new()));
    }
    Ok(HttpResponse::Ok().json(featured_json(&state, &account).await?))
}

#[derive(Deserialize)]
pub struct FeatureParams {
    #[serde(default, deserialize_with = "opt_string")]
    name: Option<String>,
}

/// `POST /api/v1/featured_tags` (`name`).
pub async fn create_featured_tag(state: State, auth: Auth, Params(p): Params<FeatureParams>) -> Result<HttpResponse> {
    let viewer = auth.user("write:accounts")?;
    let name = p.name.filter(|n| !n.trim().is_empty()).ok_or_else(|| Error::missing_param("name"))?;
    let (_, id) = tags::feature(&state.db.primary, viewer.account_id, name.trim()).await?;
    let account = model::accounts::get(&state.db.primary, viewer.account_id).await?;
    let featured = model::tags::featured(&state.db.primary, account.id, Some(id)).await?;
    let featured = featured.first().ok_or(Error::NotFound)?;
    Ok(HttpResponse::Ok().json(entities::featured_tag(featured, &account, &state.config)))
}

/// `DELETE /api/v1/featured_tags/:id`.
pub async fn delete_featured_tag(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:accounts")?;
    model::tags::unfeature(&state.db.primary, viewer.account_id, Some(path_id(&id)?), None)
        .await?
        .ok_or(Error::NotFound)?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `GET /api/v1/featured_tags/suggestions`: tags the viewer used lately and does not feature.
pub async fn featured_tag_suggestions(state: State, auth: Auth) -> Result<HttpResponse> {
    let viewer = auth.user("read:accounts")?;
    let tags = model::tags::feature_suggestions(&state.db.primary, viewer.account_id, MAX_FEATURED).await?;
    Ok(HttpResponse::Ok().json(tags_json(&state, viewer.account_id, &tags).await?))
}
