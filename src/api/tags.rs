//! `/api/v1/tags/:name` (with follow/unfollow) and `/api/v1/followed_tags`.

use actix_web::{HttpRequest, HttpResponse, web};

use super::auth::{Auth, MaybeAuth};
use super::links::json_page;
use super::params::Params;
use crate::AppState;
use crate::api::params::PageParams;
use crate::core::error::{Error, Result};
use crate::core::text;
use crate::domain::limits::{self, Family};
use crate::domain::tags;
use crate::model::tags::Tag;
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
    let following = match viewer {
        Some(v) if tag.id != 0 => Some(crate::model::tags::is_following(&state.db.primary, v, tag.id).await?),
        Some(_) => Some(false),
        None => None,
    };
    Ok(HttpResponse::Ok().json(entities::tag(&tag, &state.config, following)))
}

pub async fn follow(state: State, auth: Auth, name: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:follows")?;
    limits::check(&state.db.primary, viewer.account_id, Family::Follows).await?;
    let tag = tags::find_or_create(&state.db.primary, &name).await?;
    tags::follow(&state.db.primary, viewer.account_id, &tag).await?;
    Ok(HttpResponse::Ok().json(entities::tag(&tag, &state.config, Some(true))))
}

pub async fn unfollow(state: State, auth: Auth, name: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:follows")?;
    let tag = crate::model::tags::find(&state.db.primary, &name).await?.ok_or(Error::NotFound)?;
    tags::unfollow(&state, viewer.account_id, &tag).await?;
    Ok(HttpResponse::Ok().json(entities::tag(&tag, &state.config, Some(false))))
}

pub async fn followed(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:follows")?;
    let page = page.page(100, 200);
    let rows = crate::model::tags::followed(&state.db.primary, viewer.account_id, &page).await?;
    let cursors: Vec<i64> = rows.iter().map(|(c, _)| *c).collect();
    let rendered: Vec<serde_json::Value> =
        rows.iter().map(|(_, t)| entities::tag(t, &state.config, Some(true))).collect();
    Ok(json_page(&state, &req, &cursors, rendered))
}
