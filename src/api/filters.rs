//! Filters: `/api/v2/filters` with their keywords and statuses, and the older
//! `/api/v1/filters`, where each keyword shows as a filter of its own.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::auth::Auth;
use super::params::{Params, hash_list, opt_bool, opt_string, opt_string_list, path_id};
use crate::AppState;
use crate::core::error::{Error, Result};
use crate::domain::filters::{self, FilterInput, KeywordInput};
use crate::model::filters as model;
use crate::render::entities;

type State = web::Data<AppState>;

/// `expires_in`: absent leaves the expiry alone; blank or null removes it.
fn expires_in(raw: &Option<Value>) -> Result<Option<Option<i64>>> {
    match raw {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::Number(n)) => Ok(Some(n.as_i64())),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(Some(None)),
        Some(Value::String(s)) => {
            s.trim().parse().map(|n| Some(Some(n))).map_err(|_| Error::validation("Expires in is not a number"))
        }
        Some(_) => Err(Error::validation("Expires in is not a number")),
    }
}

fn flag(map: &Map<String, Value>, key: &str) -> Option<bool> {
    match map.get(key)? {
        Value::Bool(b) => Some(*b),
        Value::String(s) => Some(matches!(s.as_str(), "true" | "1" | "on")),
        Value::Number(n) => Some(n.as_i64() != Some(0)),
        _ => None,
    }
}

fn text(map: &Map<String, Value>, key: &str) -> Option<String> {
    match map.get(key)? {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

#[derive(Deserialize)]
pub struct FilterParams {
    #[serde(default, deserialize_with = "opt_string")]
    title: Option<String>,
    #[serde(default, deserialize_with = "opt_string_list")]
    context: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_string")]
    filter_action: Option<String>,
    #[serde(default)]
    expires_in: Option<Value>,
    #[serde(default, deserialize_with = "hash_list")]
    keywords_attributes: Option<Vec<Map<String, Value>>>,
}

impl FilterParams {
    fn input(&self) -> Result<FilterInput> {
        let keywords = self.keywords_attributes.iter().flatten().map(|k| KeywordInput {
            id: text(k, "id").and_then(|id| id.parse().ok()),
            keyword: text(k, "keyword"),
            whole_word: flag(k, "whole_word"),
            destroy: flag(k, "_destroy").unwrap_or(false),
        });
        Ok(FilterInput {
            title: self.title.clone(),
            context: self.context.clone(),
            action: self.filter_action.clone(),
            expires_in: expires_in(&self.expires_in)?,
            keywords: keywords.collect(),
        })
    }
}

async fn filter_json(state: &AppState, account_id: i64, id: i64) -> Result<HttpResponse> {
    let rules = model::find(&state.db.primary, account_id, id).await?;
    Ok(HttpResponse::Ok().json(entities::filter(&rules.filter, Some(&rules))))
}

/// `GET /api/v2/filters`.
pub async fn index(state: State, auth: Auth) -> Result<HttpResponse> {
    let viewer = auth.user("read:filters")?;
    let all = model::of_account(&state.db.primary, viewer.account_id, None).await?;
    Ok(HttpResponse::Ok().json(all.iter().map(|r| entities::filter(&r.filter, Some(r))).collect::<Vec<_>>()))
}

pub async fn show(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:filters")?;
    filter_json(&state, viewer.account_id, path_id(&id)?).await
}

pub async fn create(state: State, auth: Auth, Params(p): Params<FilterParams>) -> Result<HttpResponse> {
    let viewer = auth.user("write:filters")?;
    let id = filters::create(&state, viewer.account_id, &p.input()?).await?;
    filter_json(&state, viewer.account_id, id).await
}

pub async fn update(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<FilterParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:filters")?;
    let id = path_id(&id)?;
    filters::update(&state, viewer.account_id, id, &p.input()?).await?;
    filter_json(&state, viewer.account_id, id).await
}

pub async fn destroy(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:filters")?;
    filters::delete(&state, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

#[derive(Deserialize)]
pub struct KeywordParams {
    #[serde(default, deserialize_with = "opt_string")]
    keyword: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    whole_word: Option<bool>,
}

/// `GET /api/v2/filters/:filter_id/keywords`.
pub async fn keywords(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:filters")?;
    let rules = model::find(&state.db.primary, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(rules.keywords.iter().map(entities::filter_keyword).collect::<Vec<_>>()))
}

pub async fn add_keyword(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<KeywordParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:filters")?;
    let filter_id = path_id(&id)?;
    let id = filters::add_keyword(&state, viewer.account_id, filter_id, p.keyword.as_deref(), p.whole_word).await?;
    keyword_json(&state, viewer.account_id, id).await
}

async fn keyword_json(state: &AppState, account_id: i64, id: i64) -> Result<HttpResponse> {
    let keyword = model::find_keyword(&state.db.primary, account_id, id).await?;
    Ok(HttpResponse::Ok().json(entities::filter_keyword(&keyword)))
}

pub async fn show_keyword(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:filters")?;
    keyword_json(&state, viewer.account_id, path_id(&id)?).await
}

pub async fn update_keyword(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<KeywordParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:filters")?;
    let id = path_id(&id)?;
    filters::update_keyword(&state, viewer.account_id, id, p.keyword.as_deref(), p.whole_word).await?;
    keyword_json(&state, viewer.account_id, id).await
}

pub async fn delete_keyword(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:filters")?;
    filters::delete_keyword(&state, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

#[derive(Deserialize)]
pub struct StatusParams {
    #[serde(default, deserialize_with = "opt_string")]
    status_id: Option<String>,
}

/// `GET /api/v2/filters/:filter_id/statuses`.
pub async fn statuses(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:filters")?;
    let rules = model::find(&state.db.primary, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(rules.statuses.iter().map(entities::filter_status).collect::<Vec<_>>()))
}

pub async fn add_status(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<StatusParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:filters")?;
    let status_id = p.status_id.ok_or_else(|| Error::missing_param("status_id"))?;
    let id = filters::add_status(&state, viewer.account_id, path_id(&id)?, path_id(&status_id)?).await?;
    let rule = model::find_status(&state.db.primary, viewer.account_id, id).await?;
    Ok(HttpResponse::Ok().json(entities::filter_status(&rule)))
}

pub async fn show_status(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:filters")?;
    let rule = model::find_status(&state.db.primary, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(entities::filter_status(&rule)))
}

pub async fn delete_status(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:filters")?;
    filters::delete_status(&state, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

// ---- v1: one filter per keyword ---------------------------------------------------------

#[derive(Deserialize)]
pub struct V1Params {
    #[serde(default, deserialize_with = "opt_string")]
    phrase: Option<String>,
    #[serde(default, deserialize_with = "opt_string_list")]
    context: Option<Vec<String>>,
    #[serde(default, deserialize_with = "opt_bool")]
    irreversible: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    whole_word: Option<bool>,
    #[serde(default)]
    expires_in: Option<Value>,
}

impl V1Params {
    fn input(&self) -> Result<FilterInput> {
        Ok(FilterInput {
            title: self.phrase.clone(),
            context: self.context.clone(),
            action: self.irreversible.map(|hide| if hide { "hide" } else { "warn" }.to_string()),
            expires_in: expires_in(&self.expires_in)?,
            keywords: Vec::new(),
        })
    }
}

async fn v1_json(state: &AppState, account_id: i64, keyword_id: i64) -> Result<HttpResponse> {
    let keyword = model::find_keyword(&state.db.primary, account_id, keyword_id).await?;
    let rules = model::find(&state.db.primary, account_id, keyword.custom_filter_id).await?;
    Ok(HttpResponse::Ok().json(entities::filter_v1(&keyword, &rules.filter)))
}

/// `GET /api/v1/filters`: every keyword of every filter.
pub async fn v1_index(state: State, auth: Auth) -> Result<HttpResponse> {
    let viewer = auth.user("read:filters")?;
    let all = model::of_account(&state.db.primary, viewer.account_id, None).await?;
    let listed: Vec<Value> =
        all.iter().flat_map(|r| r.keywords.iter().map(|k| entities::filter_v1(k, &r.filter))).collect();
    Ok(HttpResponse::Ok().json(listed))
}

pub async fn v1_show(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:filters")?;
    v1_json(&state, viewer.account_id, path_id(&id)?).await
}

/// `POST /api/v1/filters`: a filter titled with the phrase, holding it as its keyword.
pub async fn v1_create(state: State, auth: Auth, Params(p): Params<V1Params>) -> Result<HttpResponse> {
    let viewer = auth.user("write:filters")?;
    let mut input = p.input()?;
    input.keywords = vec![KeywordInput { keyword: p.phrase.clone(), whole_word: p.whole_word, ..Default::default() }];
    let id = filters::create(&state, viewer.account_id, &input).await?;
    let rules = model::find(&state.db.primary, viewer.account_id, id).await?;
    let keyword = rules.keywords.first().ok_or(Error::NotFound)?;
    Ok(HttpResponse::Ok().json(entities::filter_v1(keyword, &rules.filter)))
}

/// `PUT /api/v1/filters/:id`: the keyword, and its filter unless other keywords share it.
pub async fn v1_update(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<V1Params>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:filters")?;
    let keyword_id = path_id(&id)?;
    let keyword = model::find_keyword(&state.db.primary, viewer.account_id, keyword_id).await?;
    let rules = model::find(&state.db.primary, viewer.account_id, keyword.custom_filter_id).await?;
    let mut input = p.input()?;
    input.title = None;
    let changes_filter = input.context.is_some() || input.action.is_some() || input.expires_in.is_some();
    if changes_filter && rules.keywords.len() > 1 {
        return Err(Error::validation(
            "you cannot change the context, expiry or irreversibility of a filter with several keywords through this API",
        ));
    }
    input.keywords = vec![KeywordInput {
        id: Some(keyword_id),
        keyword: p.phrase.clone(),
        whole_word: p.whole_word,
        destroy: false,
    }];
    filters::update(&state, viewer.account_id, keyword.custom_filter_id, &input).await?;
    v1_json(&state, viewer.account_id, keyword_id).await
}

/// `DELETE /api/v1/filters/:id`: the keyword.
pub async fn v1_destroy(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:filters")?;
    filters::delete_keyword(&state, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}
