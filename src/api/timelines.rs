//! `/api/v1/timelines/{home,public,tag/:hashtag}`.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;

use super::auth::{Auth, MaybeAuth};
use super::links::json_page;
use super::params::{Params, opt_bool, string_list};
use super::render_statuses_in;
use crate::AppState;
use crate::api::params::PageParams;
use crate::core::error::Result;
use crate::core::text::normalize_hashtag;
use crate::domain::timelines::{self, PublicOptions, TagOptions};
use crate::effects::feeds;

type State = web::Data<AppState>;

pub async fn home(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:statuses")?;
    let page = page.page(20, 40);
    let (ids, regenerating) = feeds::read_home(&state, viewer.account_id, &page).await?;
    let mut response =
        json_page(&state, &req, &ids, render_statuses_in(&state, &ids, Some(viewer.account_id), "home").await?);
    if regenerating {
        // Mastodon's answer while a feed is rebuilt: what there is so far, 206, and where
        // to poll for the end of the rebuild.
        *response.status_mut() = actix_web::http::StatusCode::PARTIAL_CONTENT;
        let value = format!("id=\"{}\", retry=5", home_refresh_id(viewer.account_id));
        if let Ok(header) = actix_web::http::header::HeaderValue::from_str(&value) {
            response
                .headers_mut()
                .insert(actix_web::http::header::HeaderName::from_static("mastodon-async-refresh"), header);
        }
    }
    Ok(response)
}

fn home_refresh_id(account_id: i64) -> String {
    format!("home-{account_id}")
}

/// `GET /api/v1_alpha/async_refreshes/:id`: whether a home feed rebuild has finished.
pub async fn async_refresh(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:statuses")?;
    if *id != home_refresh_id(viewer.account_id) {
        return Err(crate::Error::NotFound);
    }
    let status = if feeds::regenerating(&state, viewer.account_id).await? { "running" } else { "finished" };
    Ok(HttpResponse::Ok().json(serde_json::json!({
        "async_refresh": { "id": id.as_str(), "status": status, "result_count": null }
    })))
}

#[derive(Deserialize)]
pub struct PublicParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "opt_bool")]
    local: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    remote: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    only_media: Option<bool>,
}

impl PublicParams {
    fn options(&self) -> PublicOptions {
        PublicOptions {
            local: self.local.unwrap_or(false),
            remote: self.remote.unwrap_or(false),
            only_media: self.only_media.unwrap_or(false),
        }
    }
}

pub async fn public(
    state: State,
    auth: MaybeAuth,
    req: HttpRequest,
    Params(p): Params<PublicParams>,
) -> Result<HttpResponse> {
    let viewer = auth.viewer("read:statuses")?;
    let page = p.page.page(20, 40);
    let ids = timelines::public(&state.db.replica, viewer, &p.options(), &page).await?;
    Ok(json_page(&state, &req, &ids, render_statuses_in(&state, &ids, viewer, "public").await?))
}

#[derive(Deserialize)]
pub struct TagParams {
    #[serde(flatten)]
    public: PublicParams,
    #[serde(default, deserialize_with = "string_list")]
    any: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    all: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    none: Vec<String>,
}

pub async fn tag(
    state: State,
    auth: MaybeAuth,
    req: HttpRequest,
    hashtag: web::Path<String>,
    Params(p): Params<TagParams>,
) -> Result<HttpResponse> {
    let viewer = auth.viewer("read:statuses")?;
    let page = p.public.page.page(20, 40);
    let normalize = |list: &[String]| list.iter().map(|t| normalize_hashtag(t)).filter(|t| !t.is_empty()).collect();
    let opts = TagOptions {
        any: normalize(&p.any),
        all: normalize(&p.all),
        none: normalize(&p.none),
        public: p.public.options(),
    };
    let name = normalize_hashtag(&hashtag);
    let ids = timelines::tag(&state.db.replica, viewer, &name, &opts, &page).await?;
    Ok(json_page(&state, &req, &ids, render_statuses_in(&state, &ids, viewer, "public").await?))
}
