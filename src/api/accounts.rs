//! `/api/v1/accounts` and the relationship endpoints (follow requests, blocks, mutes).

use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::{Map, Value, json};

use super::auth::{Auth, MaybeAuth};
use super::links::json_page_limited;
use super::params::{Form, Params, hash_list, opt_bool, opt_i64, opt_string, path_id, string_list};
use super::{render_account_list, render_statuses_in};
use crate::AppState;
use crate::api::params::PageParams;
use crate::core::error::{Error, Result};
use crate::domain::accounts::ProfileChanges;
use crate::domain::accounts::{MadeBy, Registration};
use crate::domain::limits::{self, Family};
use crate::domain::oauth;
use crate::domain::relationships::{self, FollowOptions};
use crate::domain::timelines::{self, AccountStatusOptions};
use crate::effects::media;
use crate::model::accounts::{self, Field};
use crate::model::media::ProfileImage;
use crate::model::relationships::AccountList;
use crate::render::entities;

type State = web::Data<AppState>;

#[derive(Deserialize)]
pub struct RegisterParams {
    #[serde(default, deserialize_with = "opt_string")]
    username: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    password: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    agreement: Option<bool>,
    #[serde(default, deserialize_with = "opt_string")]
    locale: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    reason: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    invite_code: Option<String>,
}

/// `POST /api/v1/accounts`: sign up with an app token; returns a user token at once.
pub async fn register(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(p): Params<RegisterParams>,
) -> Result<HttpResponse> {
    auth.require("write:accounts")?;
    let client_ip = super::client_ip(&req);
    let Some(application_id) = auth.token.application_id else {
        return Err(Error::Forbidden("This action is not allowed".into()));
    };
    let app = crate::model::oauth::application_by_id(&state.db.primary, application_id)
        .await?
        .ok_or_else(Error::invalid_token)?;
    let user = crate::domain::accounts::register(
        &state.db.primary,
        &state.config,
        Registration {
            username: p.username.as_deref().unwrap_or(""),
            email: p.email.as_deref().unwrap_or(""),
            password: p.password.as_deref().unwrap_or(""),
            agreement: p.agreement.unwrap_or(false),
            locale: p.locale.as_deref(),
            display_name: None,
            application_id: Some(application_id),
            by: MadeBy::Visitor {
                ip: client_ip.as_deref(),
                reason: p.reason.as_deref(),
                invite_code: p.invite_code.as_deref(),
            },
        },
    )
    .await?;
    let token = oauth::issue_token(&state.db.primary, Some(app.id), Some(user.id), &app.scopes()).await?;
    crate::effects::activity::record_login(&state, user.id).await?;
    Ok(HttpResponse::Ok().json(entities::token(&token.token, &app.scopes().to_db(), &token.created_at)))
}

/// `GET /invite/:code` as JSON: the code is good, and where apps read about the server.
pub async fn invite(state: State, code: web::Path<String>) -> Result<HttpResponse> {
    let invite = crate::domain::accounts::invite_for_sign_up(&state.db.primary, &state.config, &code).await?;
    Ok(HttpResponse::Ok().json(json!({
        "invite_code": invite.code,
        "instance_api_url": format!("{}/api/v2/instance", state.config.base_url()),
    })))
}

async fn credential_json(state: &AppState, account_id: i64) -> Result<Value> {
    let db = &state.db.primary;
    let account = accounts::get(db, account_id).await?;
    let user = accounts::user_by_account(db, account_id).await?.ok_or(Error::NotFound)?;
    let requests = accounts::follow_requests_count(db, account_id).await?;
    let role = crate::model::roles::of_user(db, user.id).await?;
    let everyone = crate::model::roles::everyone(db).await?;
    Ok(entities::credential_account(&account, &user, &entities::role(&role, &everyone), requests, &state.config))
}

pub async fn verify_credentials(state: State, auth: Auth) -> Result<HttpResponse> {
    auth.require_any(&["read:accounts", "profile"])?;
    let viewer = auth.viewer()?;
    Ok(HttpResponse::Ok().json(credential_json(&state, viewer.account_id).await?))
}

#[derive(Deserialize, Default)]
pub struct SourceParams {
    #[serde(default, deserialize_with = "opt_string")]
    privacy: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    sensitive: Option<bool>,
    #[serde(default, deserialize_with = "opt_string")]
    language: Option<String>,
}

#[derive(Deserialize)]
pub struct UpdateParams {
    #[serde(default, deserialize_with = "opt_string")]
    display_name: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    note: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    locked: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    bot: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    discoverable: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    indexable: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    hide_collections: Option<bool>,
    #[serde(default, deserialize_with = "hash_list")]
    fields_attributes: Option<Vec<Map<String, Value>>>,
    #[serde(default)]
    source: Option<SourceParams>,
}

fn field_text(map: &Map<String, Value>, key: &str) -> String {
    match map.get(key) {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => String::new(),
        Some(other) => other.to_string(),
    }
}

pub async fn update_credentials(
    state: State,
    auth: Auth,
    Form(p, mut files): Form<UpdateParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:accounts")?;
    for (field, kind) in [("avatar", ProfileImage::Avatar), ("header", ProfileImage::Header)] {
        if let Some(file) = files.remove(field).filter(|f| !f.bytes.is_empty()) {
            media::set_profile_image(&state, viewer.account_id, kind, Some(file)).await?;
        }
    }
    let source = p.source.unwrap_or_default();
    let fields = p.fields_attributes.map(|list| {
        list.iter()
            .map(|f| Field { name: field_text(f, "name"), value: field_text(f, "value"), verified_at: None })
            .filter(|f| !(f.name.is_empty() && f.value.is_empty()))
            .collect()
    });
    let changes = ProfileChanges {
        display_name: p.display_name,
        note: p.note,
        locked: p.locked,
        bot: p.bot,
        discoverable: p.discoverable,
        indexable: p.indexable,
        hide_collections: p.hide_collections,
        fields,
        privacy: source.privacy,
        sensitive: source.sensitive,
        language: source.language,
    };
    crate::domain::accounts::update_profile(&state.db.primary, viewer.account_id, changes).await?;
    Ok(HttpResponse::Ok().json(credential_json(&state, viewer.account_id).await?))
}

/// `DELETE /api/v1/profile/avatar` and `/header`.
pub async fn delete_profile_image(state: State, auth: Auth, req: HttpRequest) -> Result<HttpResponse> {
    let viewer = auth.user("write:accounts")?;
    let kind = if req.path().ends_with("/header") { ProfileImage::Header } else { ProfileImage::Avatar };
    media::set_profile_image(&state, viewer.account_id, kind, None).await?;
    Ok(HttpResponse::Ok().json(credential_json(&state, viewer.account_id).await?))
}

/// Accounts as profiles show them: with the account each moved to, if any.
pub(super) async fn render_profiles(state: &AppState, found: &[accounts::Account]) -> Result<Vec<Value>> {
    let moved = accounts::moved_targets(&state.db.primary, found).await?;
    Ok(found.iter().map(|a| entities::account_with_move(a, &moved, &state.config)).collect())
}

pub async fn show(state: State, auth: MaybeAuth, id: web::Path<String>) -> Result<HttpResponse> {
    auth.viewer("read:accounts")?;
    let account = accounts::get(&state.db.primary, path_id(&id)?).await?;
    render_profiles(&state, &[account]).await.map(|mut r| HttpResponse::Ok().json(r.remove(0)))
}

#[derive(Deserialize)]
pub struct IdsParams {
    #[serde(default, deserialize_with = "string_list")]
    id: Vec<String>,
}

/// `GET /api/v1/accounts?id[]=…`.
pub async fn index(state: State, auth: MaybeAuth, Params(p): Params<IdsParams>) -> Result<HttpResponse> {
    auth.viewer("read:accounts")?;
    let ids: Vec<i64> = p.id.iter().filter_map(|s| s.parse().ok()).take(40).collect();
    let mut found = accounts::find_ordered(&state.db.primary, &ids).await?;
    found.retain(|a| a.suspended_at.is_none());
    Ok(HttpResponse::Ok().json(render_profiles(&state, &found).await?))
}

#[derive(Deserialize)]
pub struct LookupParams {
    #[serde(default, deserialize_with = "opt_string")]
    acct: Option<String>,
}

pub async fn lookup(state: State, auth: MaybeAuth, Params(p): Params<LookupParams>) -> Result<HttpResponse> {
    auth.viewer("read:accounts")?;
    let acct = p.acct.filter(|a| !a.trim().is_empty()).ok_or(Error::NotFound)?;
    let account = accounts::lookup_acct(&state.db.primary, &state.config, &acct)
        .await?
        .filter(|a| a.suspended_at.is_none())
        .ok_or(Error::NotFound)?;
    render_profiles(&state, &[account]).await.map(|mut r| HttpResponse::Ok().json(r.remove(0)))
}

#[derive(Deserialize)]
pub struct StatusListParams {
    #[serde(flatten)]
    page: PageParams,
    #[serde(default, deserialize_with = "opt_bool")]
    only_media: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    exclude_replies: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    exclude_reblogs: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    pinned: Option<bool>,
    #[serde(default, deserialize_with = "opt_string")]
    tagged: Option<String>,
}

pub async fn statuses(
    state: State,
    auth: MaybeAuth,
    req: HttpRequest,
    id: web::Path<String>,
    Params(p): Params<StatusListParams>,
) -> Result<HttpResponse> {
    let viewer = auth.viewer("read:statuses")?;
    let account = accounts::get(&state.db.primary, path_id(&id)?).await?;
    let opts = AccountStatusOptions {
        only_media: p.only_media.unwrap_or(false),
        exclude_replies: p.exclude_replies.unwrap_or(false),
        exclude_reblogs: p.exclude_reblogs.unwrap_or(false),
        pinned: p.pinned.unwrap_or(false),
        tagged: p.tagged.filter(|t| !t.is_empty()).map(|t| crate::core::text::normalize_hashtag(&t)),
    };
    let page = p.page.page(20, 40);
    let ids = timelines::account(&state.db.primary, viewer, account.id, &opts, &page).await?;
    Ok(json_page_limited(&state, &req, &ids, page.limit, render_statuses_in(&state, &ids, viewer, "account").await?))
}

async fn account_list(
    state: &AppState,
    req: &HttpRequest,
    list: AccountList,
    page: PageParams,
) -> Result<HttpResponse> {
    let page = page.page(40, 80);
    let rows = crate::model::relationships::list_accounts(&state.db.primary, list, &page).await?;
    let cursors: Vec<i64> = rows.iter().map(|(c, _)| *c).collect();
    Ok(json_page_limited(state, req, &cursors, page.limit, render_account_list(state, &rows)))
}

/// Followers or following: hidden from others when the account hides its collections.
async fn collection(
    state: State,
    auth: MaybeAuth,
    req: HttpRequest,
    id: String,
    page: PageParams,
    followers: bool,
) -> Result<HttpResponse> {
    let viewer = auth.viewer("read:accounts")?;
    let account = accounts::get(&state.db.primary, path_id(&id)?).await?;
    if account.hide_collections == Some(true) && viewer != Some(account.id) {
        return Ok(HttpResponse::Ok().json(Vec::<Value>::new()));
    }
    if let Some(v) = viewer
        && crate::model::relationships::blocked_either_way(&state.db.primary, v, account.id).await?
    {
        return Ok(HttpResponse::Ok().json(Vec::<Value>::new()));
    }
    let list = if followers { AccountList::Followers(account.id) } else { AccountList::Following(account.id) };
    account_list(&state, &req, list, page).await
}

pub async fn followers(
    state: State,
    auth: MaybeAuth,
    req: HttpRequest,
    id: web::Path<String>,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    collection(state, auth, req, id.into_inner(), page, true).await
}

pub async fn following(
    state: State,
    auth: MaybeAuth,
    req: HttpRequest,
    id: web::Path<String>,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    collection(state, auth, req, id.into_inner(), page, false).await
}

async fn relationship_json(state: &AppState, viewer: i64, target: i64) -> Result<HttpResponse> {
    let r = crate::model::relationships::relationship(&state.db.primary, viewer, target).await?;
    Ok(HttpResponse::Ok().json(entities::relationship(&r)))
}

#[derive(Deserialize)]
pub struct FollowParams {
    #[serde(default, deserialize_with = "opt_bool")]
    reblogs: Option<bool>,
    #[serde(default, deserialize_with = "opt_bool")]
    notify: Option<bool>,
    #[serde(default)]
    languages: Option<Value>,
}

pub async fn follow(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<FollowParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:follows")?;
    let target = path_id(&id)?;
    let languages = p.languages.map(|v| match v {
        Value::Array(items) => items.into_iter().filter_map(|i| i.as_str().map(str::to_string)).collect(),
        Value::String(s) if !s.is_empty() => vec![s],
        _ => Vec::new(),
    });
    let opts = FollowOptions { reblogs: p.reblogs, notify: p.notify, languages, uri: None };
    limits::check(&state.db.primary, viewer.account_id, Family::Follows).await?;
    relationships::follow(&state, viewer.account_id, target, opts).await?;
    relationship_json(&state, viewer.account_id, target).await
}

pub async fn unfollow(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:follows")?;
    let target = accounts::get(&state.db.primary, path_id(&id)?).await?;
    relationships::unfollow(&state, viewer.account_id, target.id).await?;
    relationship_json(&state, viewer.account_id, target.id).await
}

pub async fn block(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:blocks")?;
    let target = path_id(&id)?;
    relationships::block(&state, viewer.account_id, target).await?;
    relationship_json(&state, viewer.account_id, target).await
}

pub async fn unblock(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:blocks")?;
    let target = path_id(&id)?;
    relationships::unblock(&state, viewer.account_id, target).await?;
    relationship_json(&state, viewer.account_id, target).await
}

#[derive(Deserialize)]
pub struct MuteParams {
    #[serde(default, deserialize_with = "opt_bool")]
    notifications: Option<bool>,
    #[serde(default, deserialize_with = "opt_i64")]
    duration: Option<i64>,
}

pub async fn mute(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<MuteParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:mutes")?;
    let target = path_id(&id)?;
    relationships::mute(&state, viewer.account_id, target, p.notifications.unwrap_or(true), p.duration).await?;
    relationship_json(&state, viewer.account_id, target).await
}

pub async fn unmute(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:mutes")?;
    let target = path_id(&id)?;
    relationships::unmute(&state, viewer.account_id, target).await?;
    relationship_json(&state, viewer.account_id, target).await
}

pub async fn relationships(state: State, auth: Auth, Params(p): Params<IdsParams>) -> Result<HttpResponse> {
    let viewer = auth.user("read:follows")?;
    let ids: Vec<i64> = p.id.iter().filter_map(|s| s.parse().ok()).collect();
    let existing: Vec<i64> = accounts::find_many(&state.db.primary, &ids).await?.iter().map(|a| a.id).collect();
    let ids: Vec<i64> = ids.into_iter().filter(|id| existing.contains(id)).collect();
    let rels = crate::model::relationships::relationships(&state.db.primary, viewer.account_id, &ids).await?;
    Ok(HttpResponse::Ok().json(rels.iter().map(entities::relationship).collect::<Vec<_>>()))
}

pub async fn follow_requests(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:follows")?;
    account_list(&state, &req, AccountList::FollowRequests(viewer.account_id), page).await
}

pub async fn authorize_follow_request(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:follows")?;
    let requester = path_id(&id)?;
    relationships::authorize_follow_request(&state, viewer.account_id, requester).await?;
    relationship_json(&state, viewer.account_id, requester).await
}

pub async fn reject_follow_request(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:follows")?;
    let requester = path_id(&id)?;
    relationships::reject_follow_request(&state, viewer.account_id, requester).await?;
    relationship_json(&state, viewer.account_id, requester).await
}

pub async fn blocks(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:blocks")?;
    account_list(&state, &req, AccountList::Blocks(viewer.account_id), page).await
}

pub async fn mutes(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:mutes")?;
    account_list(&state, &req, AccountList::Mutes(viewer.account_id), page).await
}

#[derive(Deserialize)]
pub struct NoteParams {
    #[serde(default, deserialize_with = "opt_string")]
    comment: Option<String>,
}

/// `POST /api/v1/accounts/:id/note`: the viewer's private note (blank removes it).
pub async fn note(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<NoteParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:accounts")?;
    let target = path_id(&id)?;
    relationships::set_note(&state, viewer.account_id, target, p.comment.as_deref().unwrap_or_default()).await?;
    relationship_json(&state, viewer.account_id, target).await
}

/// `POST /api/v1/accounts/:id/endorse` (and the older `/pin`).
pub async fn endorse(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:accounts")?;
    let target = path_id(&id)?;
    relationships::endorse(&state, viewer.account_id, target).await?;
    relationship_json(&state, viewer.account_id, target).await
}

/// `POST /api/v1/accounts/:id/unendorse` (and the older `/unpin`).
pub async fn unendorse(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:accounts")?;
    let target = path_id(&id)?;
    relationships::unendorse(&state, viewer.account_id, target).await?;
    relationship_json(&state, viewer.account_id, target).await
}

/// `GET /api/v1/endorsements`: the accounts the viewer endorses.
pub async fn endorsements(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:accounts")?;
    account_list(&state, &req, AccountList::Endorsements(viewer.account_id), page).await
}

/// `GET /api/v1/accounts/:id/endorsements`: anyone's endorsements (none for a suspended account).
pub async fn account_endorsements(
    state: State,
    auth: MaybeAuth,
    req: HttpRequest,
    id: web::Path<String>,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    auth.viewer("read:accounts")?;
    let account = accounts::get(&state.db.primary, path_id(&id)?).await?;
    if account.suspended_at.is_some() {
        return Ok(HttpResponse::Ok().json(Vec::<Value>::new()));
    }
    account_list(&state, &req, AccountList::Endorsements(account.id), page).await
}

/// `POST /api/v1/accounts/:id/remove_from_followers`.
pub async fn remove_from_followers(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:follows")?;
    let follower = path_id(&id)?;
    relationships::remove_from_followers(&state, viewer.account_id, follower).await?;
    relationship_json(&state, viewer.account_id, follower).await
}

/// `GET /api/v1/accounts/familiar_followers?id[]=`: who among the viewer's follows follows each.
pub async fn familiar_followers(state: State, auth: Auth, Params(p): Params<IdsParams>) -> Result<HttpResponse> {
    let viewer = auth.user("read:follows")?;
    let ids: Vec<i64> = p.id.iter().filter_map(|id| id.parse().ok()).collect();
    let found = crate::model::relationships::familiar_followers(&state.db.primary, viewer.account_id, &ids).await?;
    let rendered: Vec<Value> = found
        .iter()
        .map(|(id, followers)| {
            let accounts: Vec<Value> = followers.iter().map(|a| entities::account(a, &state.config)).collect();
            json!({ "id": id.to_string(), "accounts": accounts })
        })
        .collect();
    Ok(HttpResponse::Ok().json(rendered))
}

/// `GET /api/v1/accounts/:id/identity_proofs`: Mastodon dropped identity proofs and answers
/// an empty list to any signed-in user, whatever the token's scopes.
pub async fn identity_proofs(auth: Auth) -> Result<HttpResponse> {
    auth.viewer()?;
    Ok(HttpResponse::Ok().json(Vec::<Value>::new()))
}

#[derive(Deserialize)]
pub struct DomainParams {
    #[serde(default, deserialize_with = "opt_string")]
    domain: Option<String>,
}

/// `GET /api/v1/domain_blocks`: the domains the viewer hides.
pub async fn domain_blocks(
    state: State,
    auth: Auth,
    req: HttpRequest,
    Params(page): Params<PageParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("read:blocks")?;
    let page = page.page(100, 200);
    let rows = crate::model::relationships::blocked_domains(&state.db.primary, viewer.account_id, &page).await?;
    let cursors: Vec<i64> = rows.iter().map(|(c, _)| *c).collect();
    let domains: Vec<Value> = rows.into_iter().map(|(_, d)| Value::String(d)).collect();
    Ok(json_page_limited(&state, &req, &cursors, page.limit, domains))
}

/// `POST /api/v1/domain_blocks` (`domain`).
pub async fn block_domain(state: State, auth: Auth, Params(p): Params<DomainParams>) -> Result<HttpResponse> {
    let viewer = auth.user("write:blocks")?;
    relationships::block_domain(&state, viewer.account_id, p.domain.as_deref()).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `DELETE /api/v1/domain_blocks` (`domain`).
pub async fn unblock_domain(state: State, auth: Auth, Params(p): Params<DomainParams>) -> Result<HttpResponse> {
    let viewer = auth.user("write:blocks")?;
    relationships::unblock_domain(&state, viewer.account_id, p.domain.as_deref()).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}
