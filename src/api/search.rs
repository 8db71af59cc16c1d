//! `GET /api/v2/search` and `GET /api/v1/accounts/search`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::auth::{Auth, MaybeAuth};
use super::params::{Params, opt_bool, opt_i64, opt_id, opt_string};
use super::{render_account_list, render_statuses};
use crate::AppState;
use crate::core::error::{Error, Result};
use crate::effects::federation::remote;
use crate::effects::search::{self, StatusQuery, Window};
use crate::render::entities;

type State = web::Data<AppState>;

#[derive(Deserialize)]
pub struct SearchParams {
    #[serde(default, deserialize_with = "opt_string")]
    q: Option<String>,
    #[serde(default, deserialize_with = "opt_string", rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    resolve: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    following: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    exclude_unreviewed: Option<bool>,
    #[serde(default, deserialize_with = "opt_id")]
    account_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_id")]
    min_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_id")]
    max_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    offset: Option<i64>,
}

fn required_query(q: &Option<String>) -> Result<&str> {
    q.as_deref().ok_or_else(|| Error::bad_request("param is missing or the value is empty or invalid: q"))
}

/// Mastodon's limit: the default when absent, at most twice the default, and neither limit
/// nor offset negative.
fn window(limit: Option<i64>, offset: Option<i64>, default: i64) -> Result<Window> {
    let (limit, offset) = (limit.unwrap_or(default), offset.unwrap_or(0));
    if limit < 0 || offset < 0 {
        return Err(Error::bad_request("Pagination values for `offset` and `limit` must be positive"));
    }
    Ok(Window { limit: limit.min(default * 2), offset })
}

pub async fn v2(state: State, auth: MaybeAuth, Params(p): Params<SearchParams>) -> Result<HttpResponse> {
    let viewer = auth.viewer("read:search")?;
    let query = required_query(&p.q)?.trim();
    if viewer.is_none() && p.offset.is_some() {
        return Err(Error::Unauthorized("Search queries pagination is not supported without authentication".into()));
    }
    if viewer.is_none() && p.resolve == Some(true) {
        return Err(Error::Unauthorized(
            "Search queries that resolve remote resources are not supported without authentication".into(),
        ));
    }
    let mut window = window(p.limit, p.offset, 20)?;
    // Mastodon pages only within one type of result.
    if p.kind.is_none() {
        window.offset = 0;
    }
    let wants = |kind: &str| p.kind.as_deref().is_none_or(|k| k == kind);
    let db = &state.db.replica;
    // `resolve=true` with a URL of another server: fetch the account or status it names.
    let resolving = p.resolve == Some(true) && viewer.is_some();
    let is_url = query.starts_with("https://") || query.starts_with("http://");
    let resolved_url = if resolving && is_url && !query.starts_with(&state.config.base_url()) {
        remote::resolve_url(&state, query).await.unwrap_or_else(|e| {
            tracing::info!(query, error = %e, "could not resolve a URL");
            None
        })
    } else {
        None
    };
    let mut accounts = Vec::new();
    if wants("accounts") {
        // `resolve=true` with `user@other.server`: fetch that account first (WebFinger).
        let resolved = match (resolving && !is_url, query.trim_start_matches('@').split_once('@')) {
            (true, Some((_, host))) if !host.is_empty() => match remote::resolve_acct(&state, query).await {
                Ok(account) => Some(account),
                Err(e) => {
                    tracing::info!(query, error = %e, "could not resolve a remote account");
                    None
                }
            },
            _ => match &resolved_url {
                Some(remote::Resolved::Account(id)) => crate::model::accounts::find(&state.db.primary, *id).await?,
                _ => None,
            },
        };
        let found =
            search::accounts(&state, viewer, query, p.following == Some(true) && viewer.is_some(), window).await?;
        let resolved_id = resolved.as_ref().map(|a| a.id);
        let listed: Vec<crate::model::accounts::Account> =
            resolved.into_iter().chain(found.into_iter().filter(|a| Some(a.id) != resolved_id)).collect();
        accounts = super::accounts::render_profiles(&state, &listed).await?;
    }
    let mut hashtags = Vec::new();
    if wants("hashtags") {
        let found = search::hashtags(&state, query, p.exclude_unreviewed == Some(true), window).await?;
        let flags = match viewer {
            Some(v) => {
                Some(crate::model::tags::flags_of(db, v, &found.iter().map(|t| t.id).collect::<Vec<_>>()).await?)
            }
            None => None,
        };
        for tag in &found {
            let viewer_flags = flags.as_ref().map(|f| f.get(&tag.id).copied().unwrap_or_default());
            hashtags.push(entities::tag(tag, &state.config, viewer_flags));
        }
    }
    let mut statuses = Vec::new();
    if let (true, Some(viewer), Some(remote::Resolved::Status(id))) = (wants("statuses"), viewer, &resolved_url) {
        statuses = render_statuses(&state, &[*id], Some(viewer)).await?;
    } else if wants("statuses")
        && let Some(viewer) = viewer
        && !is_url
    {
        let parsed = StatusQuery::parse(query)?;
        let ids = search::statuses(&state, viewer, &parsed, p.account_id, (p.min_id, p.max_id), window).await?;
        statuses = render_statuses(&state, &ids, Some(viewer)).await?;
    }
    Ok(HttpResponse::Ok().json(json!({ "accounts": accounts, "statuses": statuses, "hashtags": hashtags })))
}

pub async fn accounts(state: State, auth: Auth, Params(p): Params<SearchParams>) -> Result<HttpResponse> {
    let viewer = auth.user("read:accounts")?;
    let query = required_query(&p.q)?;
    let window = window(p.limit, p.offset, 40)?;
    let found = search::accounts(&state, Some(viewer.account_id), query, p.following == Some(true), window).await?;
    let rows: Vec<(i64, crate::model::accounts::Account)> = found.into_iter().map(|a| (a.id, a)).collect();
    Ok(HttpResponse::Ok().json(render_account_list(&state, &rows)))
}
