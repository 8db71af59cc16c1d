//! `/api/v1/suggestions` and `/api/v2/suggestions`: accounts to follow, and dismissing one.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Auth;
use super::params::{Params, opt_i64, path_id};
use crate::AppState;
use crate::core::error::Result;
use crate::model::{accounts, settings, suggestions};
use crate::render::entities;

type State = web::Data<AppState>;

#[derive(Deserialize)]
pub struct SuggestionParams {
    #[serde(default, deserialize_with = "opt_i64")]
    limit: Option<i64>,
}

/// The accounts the admin features (`bootstrap_timeline_accounts`: `user` or `user@domain`,
/// comma-separated), as (username, domain; none for this server).
fn featured(state: &AppState, setting: &str) -> Vec<(String, Option<String>)> {
    setting
        .split(',')
        .filter_map(|entry| {
            let entry = entry.trim().trim_start_matches('@');
            let (username, domain) = entry.split_once('@').map_or((entry, None), |(u, d)| (u, Some(d.to_string())));
            let domain = domain.filter(|d| !d.eq_ignore_ascii_case(&state.config.local_domain));
            (!username.is_empty()).then(|| (username.to_string(), domain))
        })
        .collect()
}

/// Suggested accounts with their source, rendered.
async fn suggested(state: &AppState, viewer: i64, limit: Option<i64>) -> Result<Vec<(Value, &'static str)>> {
    let limit = limit.filter(|l| *l > 0).unwrap_or(40).min(80);
    let setting = settings::load(&state.db.replica).await?.text("bootstrap_timeline_accounts");
    let found = suggestions::for_account(&state.db.replica, viewer, &featured(state, &setting), limit).await?;
    let ids: Vec<i64> = found.iter().map(|(id, _)| *id).collect();
    let people = accounts::find_many(&state.db.replica, &ids).await?;
    Ok(found
        .iter()
        .filter_map(|(id, source)| {
            people.iter().find(|a| a.id == *id).map(|a| (entities::account(a, &state.config), *source))
        })
        .collect())
}

/// `GET /api/v1/suggestions`: the accounts.
pub async fn v1(state: State, auth: Auth, Params(p): Params<SuggestionParams>) -> Result<HttpResponse> {
    let viewer = auth.user("read:accounts")?;
    let found = suggested(&state, viewer.account_id, p.limit).await?;
    Ok(HttpResponse::Ok().json(found.into_iter().map(|(account, _)| account).collect::<Vec<_>>()))
}

/// `GET /api/v2/suggestions`: each account with why (`sources`, and the older `source`).
pub async fn v2(state: State, auth: Auth, Params(p): Params<SuggestionParams>) -> Result<HttpResponse> {
    let viewer = auth.user("read:accounts")?;
    let found = suggested(&state, viewer.account_id, p.limit).await?;
    let rendered: Vec<Value> = found
        .into_iter()
        .map(|(account, source)| {
            let older = match source {
                "featured" => "staff",
                "friends_of_friends" => "past_interactions",
                _ => "global",
            };
            json!({ "source": older, "sources": [source], "account": account })
        })
        .collect();
    Ok(HttpResponse::Ok().json(rendered))
}

/// `DELETE /api/v1/suggestions/:account_id`: not to be suggested again.
pub async fn dismiss(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:accounts")?;
    let target = accounts::get(&state.db.primary, path_id(&id)?).await?;
    suggestions::dismiss(&state.db.primary, viewer.account_id, target.id).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

#[derive(Deserialize)]
pub struct DirectoryParams {
    #[serde(default, deserialize_with = "opt_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    offset: Option<i64>,
    #[serde(default, deserialize_with = "super::params::opt_string")]
    order: Option<String>,
    #[serde(default, deserialize_with = "super::params::opt_bool")]
    local: Option<bool>,
}

/// `GET /api/v1/directory` (404 when the admin turned the directory off).
pub async fn directory(
    state: State,
    auth: super::auth::MaybeAuth,
    Params(p): Params<DirectoryParams>,
) -> Result<HttpResponse> {
    let viewer = auth.viewer("read:accounts")?;
    if !settings::load(&state.db.replica).await?.flag("profile_directory") {
        return Err(crate::Error::NotFound);
    }
    let limit = p.limit.filter(|l| *l > 0).unwrap_or(40).min(80);
    let newest = p.order.as_deref() == Some("new");
    let ids = suggestions::directory(
        &state.db.replica,
        viewer,
        newest,
        p.local == Some(true),
        limit,
        p.offset.unwrap_or(0).max(0),
    )
    .await?;
    let people = accounts::find_many(&state.db.replica, &ids).await?;
    let rendered: Vec<Value> = ids
        .iter()
        .filter_map(|id| people.iter().find(|a| a.id == *id))
        .map(|a| entities::account(a, &state.config))
        .collect();
    Ok(HttpResponse::Ok().json(rendered))
}
