//! `/api/v1/notifications` and the grouped `/api/v2/notifications`.

use std::collections::{HashMap, HashSet};

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Value, json};

use super::auth::Auth;
use super::links::json_page;
use super::params::{Params, opt_i64, opt_string, path_id, string_list};
use crate::AppState;
use crate::api::params::PageParams;
use crate::core::error::{Error, Result};
use crate::core::time::iso;
use crate::model::accounts::{self, Account};
use crate::model::hydrate;
use crate::model::notifications::{self, Filter, Notification, NotificationType, REPORT_TYPE, WARNING_TYPE};
use crate::model::reports::Report;
use crate::model::warnings::Warning;
use crate::render::entities;
use crate::render::entities::Carried;

type State = web::Data<AppState>;

#[derive(Deserialize)]
pub struct ListParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "string_list")]
    types: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    exclude_types: Vec<String>,
    #[serde(default, deserialize_with = "opt_string")]
    account_id: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    grouped_types: Vec<String>,
}

impl ListParams {
    fn filter(&self) -> Result<Filter> {
        let from_account_id = match self.account_id.as_deref().filter(|s| !s.is_empty()) {
            Some(raw) => Some(path_id(raw)?),
            None => None,
        };
        let known = |list: &[String]| {
            list.iter().filter(|t| NotificationType::ALL.contains(&t.as_str())).cloned().collect::<Vec<_>>()
        };
        let types = known(&self.types);
        // Asking only for types we never create must not return every notification.
        let types = if !self.types.is_empty() && types.is_empty() { vec!["__none__".to_string()] } else { types };
        Ok(Filter { types, exclude_types: self.exclude_types.clone(), from_account_id })
    }
}

/// Notifications with their accounts and statuses loaded, dropping those whose status the
/// recipient can no longer see.
struct Loaded {
    items: Vec<Notification>,
    accounts: Vec<Account>,
    bundle: hydrate::StatusBundle,
    /// The reports of `admin.report` notifications and the strikes of `moderation_warning`
    /// ones, by id.
    reports: HashMap<i64, Report>,
    warnings: HashMap<i64, Warning>,
}

async fn load(state: &AppState, viewer: i64, items: Vec<Notification>) -> Result<Loaded> {
    let db = &state.db.primary;
    let status_ids: Vec<i64> = items.iter().filter_map(|n| n.status_id).collect();
    let mut bundle = hydrate::load(db, &status_ids, Some(viewer)).await?;
    hydrate::apply_filters(db, &mut bundle, "notifications").await?;
    let ids_of = |kind: &str| items.iter().filter(|n| n.kind == kind).map(|n| n.activity_id).collect::<Vec<_>>();
    let reports: HashMap<i64, Report> =
        crate::model::reports::find_many(db, &ids_of(REPORT_TYPE)).await?.into_iter().map(|r| (r.id, r)).collect();
    let warnings: HashMap<i64, Warning> =
        crate::model::warnings::find_many(db, &ids_of(WARNING_TYPE)).await?.into_iter().map(|w| (w.id, w)).collect();
    let items: Vec<Notification> = items
        .into_iter()
        .filter(|n| !n.needs_status() || n.status_id.is_some_and(|id| bundle.statuses.contains_key(&id)))
        .filter(|n| n.kind != REPORT_TYPE || reports.contains_key(&n.activity_id))
        .filter(|n| n.kind != WARNING_TYPE || warnings.contains_key(&n.activity_id))
        .collect();
    let account_ids: Vec<i64> = items
        .iter()
        .map(|n| n.from_account_id)
        .chain(reports.values().map(|r| r.target_account_id))
        .chain(warnings.values().map(|w| w.target_account_id))
        .collect::<HashSet<_>>()
        .into_iter()
        .collect();
    let accounts = accounts::find_many(db, &account_ids).await?;
    Ok(Loaded { items, accounts, bundle, reports, warnings })
}

/// The report or strike a notification (or group) carries, with its target.
fn carried<'a>(loaded: &'a Loaded, n: &Notification) -> Carried<'a> {
    let account = |id: i64| loaded.accounts.iter().find(|a| a.id == id);
    let found = match n.kind.as_str() {
        REPORT_TYPE => {
            loaded.reports.get(&n.activity_id).and_then(|r| Some(Carried::Report(r, account(r.target_account_id)?)))
        }
        WARNING_TYPE => {
            loaded.warnings.get(&n.activity_id).and_then(|w| Some(Carried::Warning(w, account(w.target_account_id)?)))
        }
        _ => None,
    };
    found.unwrap_or(Carried::Nothing)
}

fn render_one(state: &AppState, loaded: &Loaded, n: &Notification) -> Option<Value> {
    let from = loaded.accounts.iter().find(|a| a.id == n.from_account_id)?;
    entities::notification(n, from, &loaded.bundle, carried(loaded, n), &state.config)
}

pub async fn index(state: State, auth: Auth, req: HttpRequest, Params(p): Params<ListParams>) -> Result<HttpResponse> {
    let viewer = auth.user("read:notifications")?;
    let page = p.page.page(40, 80);
    let items = notifications::list(&state.db.primary, viewer.account_id, &p.filter()?, &page).await?;
    let cursors: Vec<i64> = items.iter().map(|n| n.id).collect();
    let loaded = load(&state, viewer.account_id, items).await?;
    let rendered: Vec<Value> = loaded.items.iter().filter_map(|n| render_one(&state, &loaded, n)).collect();
    Ok(json_page(&state, &req, &cursors, rendered))
}

pub async fn show(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:notifications")?;
    let n = notifications::get(&state.db.primary, viewer.account_id, path_id(&id)?).await?;
    let loaded = load(&state, viewer.account_id, vec![n]).await?;
    let rendered = loaded.items.first().and_then(|n| render_one(&state, &loaded, n)).ok_or(Error::NotFound)?;
    Ok(HttpResponse::Ok().json(rendered))
}

pub async fn dismiss(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:notifications")?;
    notifications::dismiss(&state.db.primary, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

pub async fn clear(state: State, auth: Auth) -> Result<HttpResponse> {
    let viewer = auth.user("write:notifications")?;
    notifications::clear(&state.db.primary, viewer.account_id).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

#[derive(Deserialize)]
pub struct UnreadParams {
    #[serde(default, deserialize_with = "opt_i64")]
    limit: Option<i64>,
}

pub async fn unread_count(state: State, auth: Auth, Params(p): Params<UnreadParams>) -> Result<HttpResponse> {
    let viewer = auth.user("read:notifications")?;
    let limit = p.limit.filter(|l| *l > 0).unwrap_or(100).min(1000);
    let count = notifications::unread_count(&state.db.primary, viewer.user_id, viewer.account_id, limit).await?;
    Ok(HttpResponse::Ok().json(json!({ "count": count })))
}

/// `GET /api/v2/notifications`: a page of notifications folded into groups by group key
/// (favourites, reblogs and follows of the same target within an hour), with the
/// accounts and statuses they reference listed once.
pub async fn grouped(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(p): Params<ListParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:notifications")?;
    let page = p.page.page(40, 80);
    let items = notifications::list(&state.db.primary, viewer.account_id, &p.filter()?, &page).await?;
    let cursors: Vec<i64> = items.iter().map(|n| n.id).collect();
    let loaded = load(&state, viewer.account_id, items).await?;
    let body = grouped_json(&state, &loaded, &grouped_types(&p.grouped_types));
    Ok(json_page(&state, &req, &cursors, body))
}

/// The types folded into groups: those asked for, else all Mastodon groups.
fn grouped_types(asked: &[String]) -> Vec<String> {
    if asked.is_empty() {
        ["favourite", "reblog", "follow", "admin.sign_up"].map(String::from).to_vec()
    } else {
        asked.to_vec()
    }
}

/// `GroupedNotificationsResults`: the groups of `loaded` with their accounts and statuses.
fn grouped_json(state: &AppState, loaded: &Loaded, grouped_types: &[String]) -> Value {
    let mut groups: Vec<(String, Vec<&Notification>)> = Vec::new();
    for n in &loaded.items {
        let key = if grouped_types.contains(&n.kind) && NotificationType::groupable(&n.kind) {
            n.group_key()
        } else {
            format!("ungrouped-{}", n.id)
        };
        match groups.iter_mut().find(|(k, _)| *k == key) {
            Some((_, members)) => members.push(n),
            None => groups.push((key, vec![n])),
        }
    }
    let mut account_ids: Vec<i64> = Vec::new();
    let mut status_ids: Vec<i64> = Vec::new();
    let rendered_groups: Vec<Value> = groups
        .iter()
        .filter_map(|(key, members)| {
            let newest = members.first()?;
            let oldest = members.last()?;
            let mut sample: Vec<i64> = Vec::new();
            for m in members.iter() {
                if !sample.contains(&m.from_account_id) && sample.len() < 8 {
                    sample.push(m.from_account_id);
                }
            }
            for a in &sample {
                if !account_ids.contains(a) {
                    account_ids.push(*a);
                }
            }
            if let Some(s) = newest.status_id.filter(|_| newest.needs_status())
                && !status_ids.contains(&s)
            {
                status_ids.push(s);
            }
            let mut group = json!({
                "group_key": key,
                "notifications_count": members.len(),
                "type": newest.kind,
                // An integer, unlike every other id: Mastodon's serializer quirk, documented.
                "most_recent_notification_id": newest.id,
                "page_min_id": oldest.id.to_string(),
                "page_max_id": newest.id.to_string(),
                "latest_page_notification_at": iso(&newest.created_at),
                "sample_account_ids": sample.iter().map(|a| a.to_string()).collect::<Vec<_>>(),
            });
            if newest.needs_status() {
                group["status_id"] = json!(newest.status_id.map(|s| s.to_string()));
            }
            if let Some((field, shown)) = carried(loaded, newest).field(&state.config) {
                group[field] = shown;
            }
            Some(group)
        })
        .collect();
    let accounts: Vec<Value> = account_ids
        .iter()
        .filter_map(|id| loaded.accounts.iter().find(|a| a.id == *id))
        .map(|a| entities::account(a, &state.config))
        .collect();
    let statuses = entities::statuses(&status_ids, &loaded.bundle, &state.config);
    json!({ "accounts": accounts, "statuses": statuses, "notification_groups": rendered_groups })
}

/// `GET /api/v2/notifications/:group_key`: that group alone, shaped as the list.
pub async fn group(state: State, auth: Auth, key: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("read:notifications")?;
    let page = crate::core::pagination::Page::new([None, None, None], None, 1000, 1000);
    let items = notifications::in_group(&state.db.primary, viewer.account_id, &key, &page).await?;
    if items.is_empty() {
        return Err(Error::NotFound);
    }
    let loaded = load(&state, viewer.account_id, items).await?;
    Ok(HttpResponse::Ok().json(grouped_json(&state, &loaded, &grouped_types(&[]))))
}

/// `GET /api/v2/notifications/:group_key/accounts`: who is behind a group, newest first.
pub async fn group_accounts(
    state: State,
    auth: Auth,
    req: HttpRequest,
    key: web::Path<String>,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:notifications")?;
    let page = page.page(40, 80);
    let items = notifications::in_group(&state.db.primary, viewer.account_id, &key, &page).await?;
    let cursors: Vec<i64> = items.iter().map(|n| n.id).collect();
    let ids: Vec<i64> = items.iter().map(|n| n.from_account_id).collect();
    let found = accounts::find_many(&state.db.primary, &ids).await?;
    let accounts: Vec<Value> = ids
        .iter()
        .filter_map(|id| found.iter().find(|a| a.id == *id))
        .map(|a| entities::account(a, &state.config))
        .collect();
    Ok(json_page(&state, &req, &cursors, accounts))
}

#[derive(Deserialize)]
pub struct GroupedUnreadParams {
    #[serde(default, deserialize_with = "opt_i64")]
    limit: Option<i64>,
    #[serde(default, deserialize_with = "string_list")]
    grouped_types: Vec<String>,
}

/// `GET /api/v2/notifications/unread_count`: unread groups, at most `limit` (100, up to 1,000).
pub async fn unread_group_count(
    state: State,
    auth: Auth,
    Params(p): Params<GroupedUnreadParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:notifications")?;
    let limit = p.limit.filter(|l| *l > 0).unwrap_or(100).min(1000);
    let grouped = grouped_types(&p.grouped_types);
    let count =
        notifications::unread_group_count(&state.db.primary, viewer.user_id, viewer.account_id, &grouped, limit)
            .await?;
    Ok(HttpResponse::Ok().json(json!({ "count": count })))
}

pub async fn dismiss_group(state: State, auth: Auth, key: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:notifications")?;
    notifications::dismiss_group(&state.db.primary, viewer.account_id, &key).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}
