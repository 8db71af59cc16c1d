//! `/api/v1/admin` and `/api/v2/admin`: what staff do through the API. A handler checks the
//! token's scope; the domain (`domain::staff`) checks the role's permission.

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use super::auth::{Auth, Viewer};
use super::links::json_page_limited;
use super::params::{PageParams, Params, opt_bool, opt_i64, opt_id, opt_string, path_id, string_list};
use crate::AppState;
use crate::core::error::{Error, Result};
use crate::domain::domain_blocks::{Created, Settings, Severity};
use crate::domain::staff::{self, AccountAction, IpRule, Lift, ReportChange, Staff};
use crate::model::accounts;
use crate::model::admin_accounts::{self, AdminAccount, Filter, Origin, Status};
use crate::model::reports::{Report, Resolution};
use crate::model::roles::{self, permission};
use crate::model::sign_up_blocks;
use crate::render::entities;

pub(crate) type State = web::Data<AppState>;

/// Admin lists: 100 by default, at most 200.
const DEFAULT_LIMIT: i64 = 100;
const MAX_LIMIT: i64 = 200;

/// The staff member behind the token, once it holds `scope` and the role `needed`. Admin
/// routes do not ask for a confirmed or enabled user (Mastodon's have no `require_user!`).
pub(crate) async fn staff(state: &AppState, auth: &Auth, scope: &str, needed: i64) -> Result<Staff> {
    auth.require(scope)?;
    let Viewer { user_id, account_id, .. } = auth.unconfirmed_viewer()?;
    staff::authorize(&state.db.primary, user_id, account_id, needed).await
}

/// Admin accounts by id, rendered.
async fn accounts_by_id(state: &AppState, ids: &[i64]) -> Result<std::collections::HashMap<i64, Value>> {
    let rows = admin_accounts::find_many(&state.db.primary, ids).await?;
    let rendered = render(state, &rows).await?;
    Ok(rows.iter().map(|r| r.id).zip(rendered).collect())
}

/// Reports rendered for staff, with the statuses they point at whatever their visibility.
async fn reports_json(state: &AppState, list: &[Report]) -> Result<Vec<Value>> {
    let mut ids: Vec<i64> = list
        .iter()
        .flat_map(|r| {
            [Some(r.account_id), Some(r.target_account_id), r.assigned_account_id, r.action_taken_by_account_id]
        })
        .flatten()
        .collect();
    ids.sort_unstable();
    ids.dedup();
    let accounts = accounts_by_id(state, &ids).await?;
    let status_ids: Vec<i64> = list.iter().flat_map(|r| r.status_ids.iter().copied()).collect();
    let bundle = crate::model::hydrate::load_authorized(&state.db.primary, &status_ids).await?;
    Ok(list
        .iter()
        .map(|r| entities::admin_report(r, &accounts, entities::statuses(&r.status_ids, &bundle, &state.config)))
        .collect())
}

#[derive(Deserialize)]
pub struct ReportsParams {
    #[serde(default, deserialize_with = "opt_bool")]
    resolved: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    unresolved: Option<bool>,
    #[serde(default, deserialize_with = "opt_id")]
    account_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_id")]
    target_account_id: Option<i64>,
    #[serde(flatten)]
    page: PageParams,
}

/// `GET /api/v1/admin/reports`: unresolved ones unless `resolved=true` asks for the others
/// (with `unresolved=true` as well: all).
pub async fn reports(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(p): Params<ReportsParams>,
) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:reports", permission::MANAGE_REPORTS).await?;
    let resolution = match (p.resolved == Some(true), p.unresolved == Some(true)) {
        (true, true) => Resolution::Any,
        (true, false) => Resolution::Resolved,
        (false, _) => Resolution::Unresolved,
    };
    let page = p.page.page(DEFAULT_LIMIT, MAX_LIMIT);
    let list =
        crate::model::reports::list(&state.db.primary, resolution, p.account_id, p.target_account_id, &page).await?;
    let cursors: Vec<i64> = list.iter().map(|r| r.id).collect();
    Ok(json_page_limited(&state, &req, &cursors, page.limit, reports_json(&state, &list).await?))
}

async fn one_report(state: &AppState, id: i64) -> Result<HttpResponse> {
    let report = crate::model::reports::find(&state.db.primary, id).await?;
    let rendered = reports_json(state, std::slice::from_ref(&report)).await?;
    Ok(HttpResponse::Ok().json(rendered.into_iter().next().ok_or(Error::NotFound)?))
}

/// `GET /api/v1/admin/reports/:id`.
pub async fn report(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:reports", permission::MANAGE_REPORTS).await?;
    one_report(&state, path_id(&id)?).await
}

#[derive(Deserialize)]
pub struct UpdateReportParams {
    #[serde(default, deserialize_with = "opt_string")]
    category: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    rule_ids: Vec<String>,
}

/// `PUT /api/v1/admin/reports/:id`: its category (and rules, for violations).
pub async fn update_report(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<UpdateReportParams>,
) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:reports", permission::MANAGE_REPORTS).await?;
    let id = path_id(&id)?;
    let current = crate::model::reports::find(&state.db.primary, id).await?;
    let category = match p.category.as_deref() {
        None => current.category,
        Some(name) => crate::model::reports::CATEGORIES
            .iter()
            .find(|(known, _)| *known == name)
            .map(|(_, value)| *value)
            .ok_or_else(|| Error::Unprocessable(format!("Validation failed: '{name}' is not a valid category")))?,
    };
    let rule_ids: Vec<i64> = p.rule_ids.iter().filter_map(|r| r.parse().ok()).collect();
    staff::change_report(&state.db.primary, &staff, id, ReportChange::Categorize { category, rule_ids: &rule_ids })
        .await?;
    one_report(&state, id).await
}

async fn change(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    change: ReportChange<'static>,
) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:reports", permission::MANAGE_REPORTS).await?;
    let id = path_id(&id)?;
    staff::change_report(&state.db.primary, &staff, id, change).await?;
    one_report(&state, id).await
}

/// `POST /api/v1/admin/reports/:id/assign_to_self`.
pub async fn assign_report(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    change(state, auth, id, ReportChange::AssignToSelf).await
}

/// `POST /api/v1/admin/reports/:id/unassign`.
pub async fn unassign_report(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    change(state, auth, id, ReportChange::Unassign).await
}

/// `POST /api/v1/admin/reports/:id/resolve`.
pub async fn resolve_report(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    change(state, auth, id, ReportChange::Resolve).await
}

/// `POST /api/v1/admin/reports/:id/reopen`.
pub async fn reopen_report(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    change(state, auth, id, ReportChange::Reopen).await
}

/// Rows rendered with their accounts and roles.
async fn render(state: &AppState, rows: &[AdminAccount]) -> Result<Vec<Value>> {
    let db = &state.db.primary;
    let ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let found = accounts::find_many(db, &ids).await?;
    let users: Vec<i64> = rows.iter().filter_map(|r| r.user_id).collect();
    let assigned = roles::of_users(db, &users).await?;
    let everyone = roles::everyone(db).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            let account = found.iter().find(|a| a.id == row.id)?;
            let role = row.user_id.map(|user| entities::role(assigned.get(&user).unwrap_or(&everyone), &everyone));
            Some(entities::admin_account(row, account, role.as_ref(), &state.config))
        })
        .collect())
}

async fn list(state: &AppState, req: &HttpRequest, filter: Filter, page: PageParams) -> Result<HttpResponse> {
    let page = page.page(DEFAULT_LIMIT, MAX_LIMIT);
    // An address that is not one matches nobody.
    if filter.ip.as_deref().is_some_and(|ip| !is_network(ip)) {
        return Ok(HttpResponse::Ok().json(Vec::<Value>::new()));
    }
    let rows = admin_accounts::list(&state.db.primary, &filter, &page).await?;
    let cursors: Vec<i64> = rows.iter().map(|r| r.id).collect();
    Ok(json_page_limited(state, req, &cursors, page.limit, render(state, &rows).await?))
}

/// `203.0.113.7` or `203.0.113.0/24` (IPv6 too).
fn is_network(value: &str) -> bool {
    let (address, prefix) = value.split_once('/').unwrap_or((value, ""));
    let Ok(address) = address.parse::<std::net::IpAddr>() else { return false };
    let bits = if address.is_ipv4() { 32 } else { 128 };
    prefix.is_empty() || prefix.parse::<u8>().is_ok_and(|p| p <= bits)
}

#[derive(Deserialize)]
pub struct AccountsV1Params {
    #[serde(default, deserialize_with = "opt_bool")]
    remote: Option<bool>,
    #[serde(default, deserialize_with = "opt_string")]
    by_domain: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    active: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pending: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    disabled: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    silenced: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    suspended: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    staff: Option<bool>,
    #[serde(default, deserialize_with = "opt_string")]
    username: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    ip: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// `GET /api/v1/admin/accounts`: local, active accounts unless the flags say otherwise; of
/// the status flags, the last in Mastodon's order wins.
pub async fn accounts_v1(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(p): Params<AccountsV1Params>,
) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:accounts", permission::MANAGE_USERS).await?;
    let on = |flag: Option<bool>| flag == Some(true);
    let status = [
        (p.active, Status::Active),
        (p.pending, Status::Pending),
        (p.disabled, Status::Disabled),
        (p.silenced, Status::Silenced),
        (p.suspended, Status::Suspended),
    ]
    .into_iter()
    .rev()
    .find(|(flag, _)| on(*flag))
    .map_or(Status::Active, |(_, status)| status);
    let role_ids = if on(p.staff) { Some(admin_accounts::staff_role_ids(&state.db.primary).await?) } else { None };
    let filter = Filter {
        origin: Some(if on(p.remote) { Origin::Remote } else { Origin::Local }),
        status: Some(status),
        by_domain: p.by_domain,
        username: p.username,
        display_name: p.display_name,
        email: p.email,
        role_ids,
        ip: p.ip,
    };
    list(&state, &req, filter, p.page).await
}

#[derive(Deserialize)]
pub struct AccountsV2Params {
    #[serde(default, deserialize_with = "opt_string")]
    origin: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    status: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    permissions: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    role_ids: Vec<String>,
    #[serde(default, deserialize_with = "opt_string")]
    by_domain: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    username: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    ip: Option<String>,
    #[serde(flatten)]
    page: PageParams,
}

/// `GET /api/v2/admin/accounts`: every account unless filtered; unknown values are a 400.
pub async fn accounts_v2(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(p): Params<AccountsV2Params>,
) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:accounts", permission::MANAGE_USERS).await?;
    let origin = match p.origin.as_deref() {
        None => None,
        Some("local") => Some(Origin::Local),
        Some("remote") => Some(Origin::Remote),
        Some(other) => return Err(Error::bad_request(format!("Unknown origin: {other}"))),
    };
    let status = match p.status.as_deref() {
        None => None,
        Some("active") => Some(Status::Active),
        Some("pending") => Some(Status::Pending),
        Some("disabled") => Some(Status::Disabled),
        Some("silenced") => Some(Status::Silenced),
        Some("suspended") => Some(Status::Suspended),
        Some("sensitized") => Some(Status::Sensitized),
        Some(other) => return Err(Error::bad_request(format!("Unknown status: {other}"))),
    };
    let mut role_ids: Option<Vec<i64>> =
        (!p.role_ids.is_empty()).then(|| p.role_ids.iter().filter_map(|id| id.parse().ok()).collect());
    match p.permissions.as_deref() {
        None => {}
        Some("staff") => role_ids = Some(admin_accounts::staff_role_ids(&state.db.primary).await?),
        Some(other) => return Err(Error::bad_request(format!("Unknown permissions: {other}"))),
    }
    let filter = Filter {
        origin,
        status,
        by_domain: p.by_domain,
        username: p.username,
        display_name: p.display_name,
        email: p.email,
        role_ids,
        ip: p.ip,
    };
    list(&state, &req, filter, p.page).await
}

async fn one(state: &AppState, id: i64) -> Result<HttpResponse> {
    let row = admin_accounts::find(&state.db.primary, id).await?.ok_or(Error::NotFound)?;
    let rendered = render(state, std::slice::from_ref(&row)).await?;
    Ok(HttpResponse::Ok().json(rendered.into_iter().next().ok_or(Error::NotFound)?))
}

/// `GET /api/v1/admin/accounts/:id`.
pub async fn account(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:accounts", permission::MANAGE_USERS).await?;
    one(&state, path_id(&id)?).await
}

/// `POST /api/v1/admin/accounts/:id/approve`.
pub async fn approve(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:accounts", permission::MANAGE_USERS).await?;
    let id = path_id(&id)?;
    staff::approve(&state.db.primary, &staff, id).await?;
    one(&state, id).await
}

/// `POST /api/v1/admin/accounts/:id/reject`: the sign-up is deleted; `{}`.
pub async fn reject(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:accounts", permission::MANAGE_USERS).await?;
    staff::reject(&state.db.primary, &staff, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `POST /api/v1/admin/accounts/:id/enable`.
pub async fn enable(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:accounts", permission::MANAGE_USERS).await?;
    let id = path_id(&id)?;
    staff::enable(&state.db.primary, &staff, id).await?;
    one(&state, id).await
}

#[derive(Deserialize)]
pub struct ActionParams {
    #[serde(default, deserialize_with = "opt_string", rename = "type")]
    kind: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    text: Option<String>,
    #[serde(default, deserialize_with = "opt_id")]
    report_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_bool")]
    send_email_notification: Option<bool>,
}

/// `POST /api/v1/admin/accounts/:id/action`: warn, disable, mark sensitive, silence or
/// suspend; `{}`.
pub async fn action(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<ActionParams>,
) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:accounts", permission::MANAGE_USERS).await?;
    let kind = p.kind.as_deref().unwrap_or("none");
    let action = AccountAction::parse(kind)
        .ok_or_else(|| Error::Unprocessable(format!("Validation failed: Type '{kind}' is not a valid action")))?;
    let text = p.text.as_deref().unwrap_or("");
    let tell_user = p.send_email_notification.unwrap_or(true);
    staff::act(&state.db.primary, &staff, path_id(&id)?, action, text, p.report_id, tell_user).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

async fn lift(state: State, auth: Auth, id: web::Path<String>, lift: Lift) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:accounts", permission::MANAGE_USERS).await?;
    let id = path_id(&id)?;
    staff::lift(&state.db.primary, &staff, id, lift).await?;
    one(&state, id).await
}

/// `POST /api/v1/admin/accounts/:id/unsilence`.
pub async fn unsilence(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    lift(state, auth, id, Lift::Silence).await
}

/// `POST /api/v1/admin/accounts/:id/unsensitive`.
pub async fn unsensitive(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    lift(state, auth, id, Lift::Sensitive).await
}

/// `DELETE /api/v1/admin/accounts/:id`: the data of a suspended account goes now rather than
/// after its 30 days; `{}`.
pub async fn delete_account(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:accounts", permission::DELETE_USER_DATA).await?;
    crate::domain::deletion::delete_now(&state, &staff, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `POST /api/v1/admin/accounts/:id/unsuspend`.
pub async fn unsuspend(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    lift(state, auth, id, Lift::Suspension).await
}

/// A page of blocks as JSON, with the `Link` header Mastodon sends after a full page.
fn block_page<T>(
    state: &AppState,
    req: &HttpRequest,
    limit: i64,
    blocks: &[T],
    id: impl Fn(&T) -> i64,
    render: impl Fn(&T) -> Value,
) -> HttpResponse {
    let cursors: Vec<i64> = blocks.iter().map(id).collect();
    let body: Vec<Value> = blocks.iter().map(render).collect();
    json_page_limited(state, req, &cursors, limit, body)
}

/// Domain block lists: 100 by default, at most 500.
const MAX_BLOCKS: i64 = 500;

/// `GET /api/v1/admin/domain_blocks`.
pub async fn domain_blocks(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(p): Params<PageParams>,
) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:domain_blocks", permission::MANAGE_FEDERATION).await?;
    let page = p.page(DEFAULT_LIMIT, MAX_BLOCKS);
    let blocks = crate::model::domain_blocks::page(&state.db.primary, &page).await?;
    Ok(block_page(&state, &req, page.limit, &blocks, |b| b.id, entities::admin_domain_block))
}

/// `GET /api/v1/admin/domain_blocks/:id`.
pub async fn domain_block(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:domain_blocks", permission::MANAGE_FEDERATION).await?;
    let block = crate::model::domain_blocks::find(&state.db.primary, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(entities::admin_domain_block(&block)))
}

#[derive(Deserialize)]
pub struct DomainBlockParams {
    #[serde(default, deserialize_with = "opt_string")]
    domain: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    severity: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    reject_media: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    reject_reports: Option<bool>,
    #[serde(default, deserialize_with = "opt_string")]
    private_comment: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    public_comment: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    obfuscate: Option<bool>,
}

impl DomainBlockParams {
    /// The settings asked for, over `current` ones (a new block: Mastodon's defaults).
    fn settings(&self, current: Option<&crate::model::domain_blocks::DomainBlock>) -> Result<Settings> {
        let severity = match self.severity.as_deref() {
            Some(name) => Severity::parse(name)
                .ok_or_else(|| Error::Unprocessable(format!("Validation failed: '{name}' is not a valid severity")))?,
            None => match current.and_then(|b| b.severity) {
                Some(1) => Severity::Suspend,
                Some(2) => Severity::Noop,
                _ => Severity::Silence,
            },
        };
        Ok(Settings {
            severity,
            reject_media: self.reject_media.or(current.map(|b| b.reject_media)).unwrap_or(false),
            reject_reports: self.reject_reports.or(current.map(|b| b.reject_reports)).unwrap_or(false),
            private_comment: self.private_comment.clone().or_else(|| current.and_then(|b| b.private_comment.clone())),
            public_comment: self.public_comment.clone().or_else(|| current.and_then(|b| b.public_comment.clone())),
            obfuscate: self.obfuscate.or(current.map(|b| b.obfuscate)).unwrap_or(false),
        })
    }
}

/// `POST /api/v1/admin/domain_blocks`: 422 with the block in the way when one already limits
/// the domain as much.
pub async fn create_domain_block(
    state: State,
    auth: Auth,
    Params(p): Params<DomainBlockParams>,
) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:domain_blocks", permission::MANAGE_FEDERATION).await?;
    let domain = p.domain.clone().ok_or_else(|| Error::missing_param("domain"))?;
    let settings = p.settings(None)?;
    match staff::create_domain_block(&state.db.primary, &staff, &domain, &settings).await? {
        Created::Id(id) => {
            let block = crate::model::domain_blocks::find(&state.db.primary, id).await?;
            Ok(HttpResponse::Ok().json(entities::admin_domain_block(&block)))
        }
        Created::AlreadyStricter(existing) => Ok(HttpResponse::UnprocessableEntity().json(serde_json::json!({
            "error": format!("You have already imposed stricter limits on {}.", existing.domain),
            "existing_domain_block": entities::admin_domain_block(&existing),
        }))),
    }
}

/// `PUT /api/v1/admin/domain_blocks/:id`: everything but the domain.
pub async fn update_domain_block(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<DomainBlockParams>,
) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:domain_blocks", permission::MANAGE_FEDERATION).await?;
    let id = path_id(&id)?;
    let current = crate::model::domain_blocks::find(&state.db.primary, id).await?;
    staff::update_domain_block(&state.db.primary, &staff, id, &p.settings(Some(&current))?).await?;
    let block = crate::model::domain_blocks::find(&state.db.primary, id).await?;
    Ok(HttpResponse::Ok().json(entities::admin_domain_block(&block)))
}

/// `DELETE /api/v1/admin/domain_blocks/:id`: `{}`.
pub async fn delete_domain_block(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:domain_blocks", permission::MANAGE_FEDERATION).await?;
    staff::delete_domain_block(&state.db.primary, &staff, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `GET /api/v1/admin/tags`: newest first, 100 a page.
pub async fn tags(state: State, auth: Auth, req: HttpRequest, Params(p): Params<PageParams>) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read", permission::MANAGE_TAXONOMIES).await?;
    let page = p.page(DEFAULT_LIMIT, MAX_LIMIT);
    let tags = crate::model::tags::reviewed_page(&state.db.primary, &page).await?;
    Ok(block_page(&state, &req, page.limit, &tags, |t| t.tag.id, |t| entities::admin_tag(t, &state.config)))
}

/// `GET /api/v1/admin/tags/:id`.
pub async fn tag(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read", permission::MANAGE_TAXONOMIES).await?;
    let tag = crate::model::tags::reviewed(&state.db.primary, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(entities::admin_tag(&tag, &state.config)))
}

#[derive(Deserialize)]
pub struct TagParams {
    #[serde(default, deserialize_with = "opt_string")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    usable: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    trendable: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    listable: Option<bool>,
}

/// `PUT /api/v1/admin/tags/:id`: its spelling and flags; the tag counts as reviewed.
pub async fn update_tag(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<TagParams>,
) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write", permission::MANAGE_TAXONOMIES).await?;
    let id = path_id(&id)?;
    let review = crate::model::tags::TagReview {
        display_name: p.display_name,
        usable: p.usable,
        trendable: p.trendable,
        listable: p.listable,
    };
    staff::review_tag(&state.db.primary, &staff, id, &review).await?;
    let tag = crate::model::tags::reviewed(&state.db.primary, id).await?;
    Ok(HttpResponse::Ok().json(entities::admin_tag(&tag, &state.config)))
}

/// `GET /api/v1/admin/domain_allows`.
pub async fn domain_allows(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(p): Params<PageParams>,
) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:domain_allows", permission::MANAGE_FEDERATION).await?;
    let page = p.page(DEFAULT_LIMIT, MAX_BLOCKS);
    let allows = crate::model::domain_blocks::allows_page(&state.db.primary, &page).await?;
    Ok(block_page(&state, &req, page.limit, &allows, |a| a.id, entities::admin_domain_allow))
}

/// `GET /api/v1/admin/domain_allows/:id`.
pub async fn domain_allow(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:domain_allows", permission::MANAGE_FEDERATION).await?;
    let allow = crate::model::domain_blocks::find_allow(&state.db.primary, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(entities::admin_domain_allow(&allow)))
}

#[derive(Deserialize)]
pub struct DomainAllowParams {
    #[serde(default, deserialize_with = "opt_string")]
    domain: Option<String>,
}

/// `POST /api/v1/admin/domain_allows`.
pub async fn create_domain_allow(
    state: State,
    auth: Auth,
    Params(p): Params<DomainAllowParams>,
) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:domain_allows", permission::MANAGE_FEDERATION).await?;
    let domain = p.domain.ok_or_else(|| Error::missing_param("domain"))?;
    let id = staff::create_domain_allow(&state.db.primary, &staff, &domain).await?;
    let allow = crate::model::domain_blocks::find_allow(&state.db.primary, id).await?;
    Ok(HttpResponse::Ok().json(entities::admin_domain_allow(&allow)))
}

/// `DELETE /api/v1/admin/domain_allows/:id`: `{}`.
pub async fn delete_domain_allow(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:domain_allows", permission::MANAGE_FEDERATION).await?;
    let limited = state.config.limited_federation;
    staff::delete_domain_allow(&state.db.primary, &staff, path_id(&id)?, limited).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `GET /api/v1/admin/email_domain_blocks`.
pub async fn email_domain_blocks(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(p): Params<PageParams>,
) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:email_domain_blocks", permission::MANAGE_BLOCKS).await?;
    let page = p.page(DEFAULT_LIMIT, MAX_LIMIT);
    let blocks = sign_up_blocks::email_domain_blocks(&state.db.primary, &page).await?;
    Ok(block_page(&state, &req, page.limit, &blocks, |b| b.id, entities::admin_email_domain_block))
}

/// `GET /api/v1/admin/email_domain_blocks/:id`.
pub async fn email_domain_block(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:email_domain_blocks", permission::MANAGE_BLOCKS).await?;
    let block = sign_up_blocks::email_domain_block(&state.db.primary, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(entities::admin_email_domain_block(&block)))
}

#[derive(Deserialize)]
pub struct EmailDomainBlockParams {
    #[serde(default, deserialize_with = "opt_string")]
    domain: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    allow_with_approval: Option<bool>,
}

/// `POST /api/v1/admin/email_domain_blocks`.
pub async fn create_email_domain_block(
    state: State,
    auth: Auth,
    Params(p): Params<EmailDomainBlockParams>,
) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:email_domain_blocks", permission::MANAGE_BLOCKS).await?;
    let domain = p.domain.ok_or_else(|| Error::missing_param("domain"))?;
    let id =
        staff::create_email_domain_block(&state.db.primary, &staff, &domain, p.allow_with_approval.unwrap_or(false))
            .await?;
    let block = sign_up_blocks::email_domain_block(&state.db.primary, id).await?;
    Ok(HttpResponse::Ok().json(entities::admin_email_domain_block(&block)))
}

/// `DELETE /api/v1/admin/email_domain_blocks/:id`: `{}`.
pub async fn delete_email_domain_block(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:email_domain_blocks", permission::MANAGE_BLOCKS).await?;
    staff::delete_email_domain_block(&state.db.primary, &staff, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `GET /api/v1/admin/ip_blocks`.
pub async fn ip_blocks(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(p): Params<PageParams>,
) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:ip_blocks", permission::MANAGE_BLOCKS).await?;
    let page = p.page(DEFAULT_LIMIT, MAX_LIMIT);
    let blocks = sign_up_blocks::ip_blocks(&state.db.primary, &page).await?;
    Ok(block_page(&state, &req, page.limit, &blocks, |b| b.id, entities::admin_ip_block))
}

/// `GET /api/v1/admin/ip_blocks/:id`.
pub async fn ip_block(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:ip_blocks", permission::MANAGE_BLOCKS).await?;
    let block = sign_up_blocks::ip_block(&state.db.primary, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(entities::admin_ip_block(&block)))
}

#[derive(Deserialize)]
pub struct IpBlockParams {
    #[serde(default, deserialize_with = "opt_string")]
    ip: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    severity: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    comment: Option<String>,
    #[serde(default, deserialize_with = "opt_i64")]
    expires_in: Option<i64>,
}

impl IpBlockParams {
    fn rule(self, current: Option<&sign_up_blocks::IpBlock>) -> Result<IpRule> {
        let severity = match self.severity.as_deref() {
            Some("sign_up_requires_approval") => sign_up_blocks::SIGN_UP_REQUIRES_APPROVAL,
            Some("sign_up_block") => sign_up_blocks::SIGN_UP_BLOCK,
            Some("no_access") => sign_up_blocks::NO_ACCESS,
            Some(other) => {
                return Err(Error::Unprocessable(format!("Validation failed: '{other}' is not a valid severity")));
            }
            None => current.map_or(0, |b| b.severity),
        };
        let ip = self.ip.or_else(|| current.map(|b| b.ip.clone())).unwrap_or_default();
        let comment = self.comment.or_else(|| current.map(|b| b.comment.clone())).unwrap_or_default();
        Ok(IpRule { ip, severity, comment, expires_in: self.expires_in })
    }
}

/// `POST /api/v1/admin/ip_blocks`.
pub async fn create_ip_block(state: State, auth: Auth, Params(p): Params<IpBlockParams>) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:ip_blocks", permission::MANAGE_BLOCKS).await?;
    let id = staff::create_ip_block(&state.db.primary, &staff, &p.rule(None)?).await?;
    state.no_access.forget().await;
    let block = sign_up_blocks::ip_block(&state.db.primary, id).await?;
    Ok(HttpResponse::Ok().json(entities::admin_ip_block(&block)))
}

/// `PUT /api/v1/admin/ip_blocks/:id`.
pub async fn update_ip_block(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<IpBlockParams>,
) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:ip_blocks", permission::MANAGE_BLOCKS).await?;
    let id = path_id(&id)?;
    let current = sign_up_blocks::ip_block(&state.db.primary, id).await?;
    staff::update_ip_block(&state.db.primary, &staff, id, &p.rule(Some(&current))?).await?;
    state.no_access.forget().await;
    let block = sign_up_blocks::ip_block(&state.db.primary, id).await?;
    Ok(HttpResponse::Ok().json(entities::admin_ip_block(&block)))
}

/// `DELETE /api/v1/admin/ip_blocks/:id`: `{}`.
pub async fn delete_ip_block(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:ip_blocks", permission::MANAGE_BLOCKS).await?;
    staff::delete_ip_block(&state.db.primary, &staff, path_id(&id)?).await?;
    state.no_access.forget().await;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

fn canonical_json(b: &sign_up_blocks::CanonicalEmailBlock) -> Value {
    serde_json::json!({ "id": b.id.to_string(), "canonical_email_hash": b.canonical_email_hash })
}

/// `GET /api/v1/admin/canonical_email_blocks`.
pub async fn canonical_email_blocks(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(p): Params<PageParams>,
) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:canonical_email_blocks", permission::MANAGE_BLOCKS).await?;
    let page = p.page(DEFAULT_LIMIT, MAX_LIMIT);
    let blocks = sign_up_blocks::canonical_email_blocks(&state.db.primary, &page).await?;
    Ok(block_page(&state, &req, page.limit, &blocks, |b| b.id, canonical_json))
}

/// `GET /api/v1/admin/canonical_email_blocks/:id`.
pub async fn canonical_email_block(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:canonical_email_blocks", permission::MANAGE_BLOCKS).await?;
    let block = sign_up_blocks::canonical_email_block(&state.db.primary, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(canonical_json(&block)))
}

#[derive(Deserialize)]
pub struct CanonicalParams {
    #[serde(default, deserialize_with = "opt_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    canonical_email_hash: Option<String>,
}

/// `POST /api/v1/admin/canonical_email_blocks` (`email` or `canonical_email_hash`).
pub async fn create_canonical_email_block(
    state: State,
    auth: Auth,
    Params(p): Params<CanonicalParams>,
) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:canonical_email_blocks", permission::MANAGE_BLOCKS).await?;
    let id = staff::create_canonical_email_block(
        &state.db.primary,
        &staff,
        p.email.as_deref(),
        p.canonical_email_hash.as_deref(),
    )
    .await?;
    let block = sign_up_blocks::canonical_email_block(&state.db.primary, id).await?;
    Ok(HttpResponse::Ok().json(canonical_json(&block)))
}

/// `POST /api/v1/admin/canonical_email_blocks/test` (`email`): the blocks it matches.
pub async fn test_canonical_email(
    state: State,
    auth: Auth,
    Params(p): Params<CanonicalParams>,
) -> Result<HttpResponse> {
    staff(&state, &auth, "admin:read:canonical_email_blocks", permission::MANAGE_BLOCKS).await?;
    let email = p.email.ok_or_else(|| Error::missing_param("email"))?;
    let found = sign_up_blocks::canonical_email_blocks_matching(&state.db.primary, &email).await?;
    Ok(HttpResponse::Ok().json(found.iter().map(canonical_json).collect::<Vec<_>>()))
}

/// `DELETE /api/v1/admin/canonical_email_blocks/:id`: `{}`.
pub async fn delete_canonical_email_block(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let staff = staff(&state, &auth, "admin:write:canonical_email_blocks", permission::MANAGE_BLOCKS).await?;
    staff::delete_canonical_email_block(&state.db.primary, &staff, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}
