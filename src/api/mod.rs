//! HTTP handlers, grouped as Mastodon groups its API. Handlers stay thin: parse
//! parameters, check scopes, call a domain function, render an entity.

pub mod accounts;
pub mod admin;
pub mod auth;
pub mod conversations;
pub mod dashboard;
pub mod emails;
pub mod federation;
pub mod filters;
pub mod instance;
pub mod links;
pub mod lists;
pub mod markers;
pub mod media;
pub mod notification_requests;
pub mod notifications;
pub mod oauth;
pub mod params;
pub mod polls;
pub mod rate_limits;
pub mod reports;
pub mod scheduled_statuses;
pub mod search;
pub mod statuses;
pub mod suggestions;
pub mod tags;
pub mod timelines;

use actix_web::dev::ServiceResponse;
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::{DefaultHeaders, ErrorHandlerResponse, ErrorHandlers, NormalizePath, TrailingSlash};
use actix_web::{HttpRequest, HttpResponse, web};
use serde_json::{Value, json};

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::model::accounts::Account;
use crate::model::hydrate;
use crate::render::entities;

/// One rendered status for `viewer` (404 if it cannot be rendered).
pub async fn render_status(state: &AppState, id: i64, viewer: Option<i64>) -> Result<Value> {
    let bundle = hydrate::load(&state.db.primary, &[id], viewer).await?;
    entities::status(id, &bundle, &state.config).ok_or(Error::NotFound)
}

/// The address a request comes from, as Rails finds it: walking back from the peer through
/// `X-Forwarded-For`, the first address that is not a trusted proxy (`TRUSTED_PROXY_IP`,
/// loopback by default). A client cannot pass itself off as another by sending the header.
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    let state = req.app_data::<web::Data<AppState>>();
    let trusted = state.map_or(&[][..], |s| s.config.trusted_proxies.as_slice());
    let is_trusted = |ip: std::net::IpAddr| trusted.iter().any(|n| crate::core::config::in_network(ip, *n));
    if !is_trusted(peer) {
        return Some(peer.to_string());
    }
    let forwarded: Vec<std::net::IpAddr> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .filter_map(|v| v.trim().parse().ok())
        .collect();
    let client = forwarded.iter().rev().find(|ip| !is_trusted(**ip)).or(forwarded.first()).copied().unwrap_or(peer);
    Some(client.to_string())
}

/// Statuses already authorized for `viewer`, rendered in the given order.
pub async fn render_statuses(state: &AppState, ids: &[i64], viewer: Option<i64>) -> Result<Vec<entities::StatusJson>> {
    let bundle = hydrate::load(&state.db.replica, ids, viewer).await?;
    Ok(entities::statuses(ids, &bundle, &state.config))
}

/// `render_statuses` for a timeline of filter context `context` (`home`, `public`, `thread`,
/// `account`, `notifications`): each status carries the viewer's filters it matches.
pub async fn render_statuses_in(
    state: &AppState,
    ids: &[i64],
    viewer: Option<i64>,
    context: &str,
) -> Result<Vec<entities::StatusJson>> {
    let mut bundle = hydrate::load(&state.db.replica, ids, viewer).await?;
    hydrate::apply_filters(&state.db.replica, &mut bundle, context).await?;
    Ok(entities::statuses(ids, &bundle, &state.config))
}

pub fn render_account_list(state: &AppState, rows: &[(i64, Account)]) -> Vec<Value> {
    rows.iter().map(|(_, a)| entities::account(a, &state.config)).collect()
}

/// Response headers browsers may read, as Mastodon's CORS setup exposes them.
const CORS_EXPOSE_HEADERS: &str = "Link, X-RateLimit-Reset, X-RateLimit-Limit, X-RateLimit-Remaining, X-Request-Id";

/// A CORS preflight answer (rack-cors in Mastodon): any origin, the API's methods, the
/// headers asked for. Browser clients (Elk, Phanpy) send one before most API calls.
fn preflight(req: &HttpRequest) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    response
        .insert_header(("Access-Control-Allow-Methods", "POST, PUT, DELETE, GET, PATCH, OPTIONS"))
        .insert_header(("Access-Control-Max-Age", "7200"));
    if let Some(asked) = req.headers().get("Access-Control-Request-Headers") {
        response.insert_header(("Access-Control-Allow-Headers", asked.clone()));
    }
    response.finish()
}

/// Unknown routes: 404 with a JSON error (or a CORS preflight answer for OPTIONS).
async fn not_found(req: HttpRequest) -> HttpResponse {
    if req.method() == Method::OPTIONS {
        return preflight(&req);
    }
    HttpResponse::NotFound().json(json!({ "error": "Record not found" }))
}

/// HEAD is answered as GET, as Rails answers it (the server leaves the body out): a HEAD of
/// an actor is how Mastodon's `tootctl accounts cull` asks whether an account still exists.
async fn head_as_get(
    mut req: actix_web::dev::ServiceRequest,
    next: actix_web::middleware::Next<impl actix_web::body::MessageBody>,
) -> actix_web::Result<ServiceResponse<impl actix_web::body::MessageBody>> {
    if req.method() == actix_web::http::Method::HEAD {
        req.head_mut().method = actix_web::http::Method::GET;
    }
    next.call(req).await
}

/// A known path with a method it does not take: Mastodon's catch-all route answers 404,
/// with the same JSON body as any unknown route (actix would send an empty 405);
/// OPTIONS is a CORS preflight.
fn method_not_allowed<B>(res: ServiceResponse<B>) -> actix_web::Result<ErrorHandlerResponse<B>> {
    let (req, _) = res.into_parts();
    let response = if req.method() == Method::OPTIONS {
        preflight(&req)
    } else {
        HttpResponse::NotFound().json(json!({ "error": "Record not found" }))
    };
    Ok(ErrorHandlerResponse::Response(ServiceResponse::new(req, response).map_into_right_body()))
}

/// Request bodies of upload endpoints: a video at the size limit plus form overhead
/// (Mastodon's nginx allows 99 MB; other endpoints keep actix's small default).
fn upload_limit() -> web::PayloadConfig {
    web::PayloadConfig::new(crate::effects::media::process::VIDEO_SIZE_LIMIT + 1024 * 1024)
}

/// Every route of the web process.
pub fn configure(cfg: &mut web::ServiceConfig) {
    use web::{delete, get, patch, post, put, resource as r};
    cfg.service(r("/health").route(get().to(instance::health)))
        .service(r("/system/{path:.*}").route(get().to(media::serve_local)))
        .service(r("/auth/confirmation").route(get().to(emails::confirm)))
        .service(r("/auth/password/new").route(get().to(emails::new_password)))
        .service(r("/auth/password/edit").route(get().to(emails::edit_password)))
        .service(r("/auth/password").route(post().to(emails::password)).route(put().to(emails::password)))
        .service(r("/avatars/original/missing.png").route(get().to(instance::missing_avatar)))
        .service(r("/headers/original/missing.png").route(get().to(instance::missing_header)))
        .service(r(instance::DEFAULT_THUMBNAIL_PATH).route(get().to(instance::default_thumbnail)))
        .service(r("/.well-known/nodeinfo").route(get().to(instance::nodeinfo_index)))
        .service(r("/invite/{code}").route(get().to(accounts::invite)))
        .service(r("/.well-known/webfinger").route(get().to(federation::webfinger)))
        .service(r("/.well-known/host-meta").route(get().to(federation::host_meta)))
        .service(r("/users/{username}").route(get().to(federation::user)))
        .service(r("/users/{username}/inbox").route(post().to(federation::inbox)))
        .service(r("/users/{username}/statuses/{id}").route(get().to(federation::status)))
        .service(r("/users/{username}/statuses/{id}/replies").route(get().to(federation::replies)))
        .service(r("/users/{username}/statuses/{id}/activity").route(get().to(federation::status_activity)))
        .service(r("/users/{username}/outbox").route(get().to(federation::outbox)))
        .service(r("/users/{username}/followers").route(get().to(federation::follows)))
        .service(r("/users/{username}/following").route(get().to(federation::follows)))
        .service(r("/users/{username}/collections/featured").route(get().to(federation::featured)))
        .service(r("/ap/users/{account_id}").route(get().to(federation::user)))
        .service(r("/ap/users/{account_id}/inbox").route(post().to(federation::inbox)))
        .service(r("/ap/users/{account_id}/statuses/{id}").route(get().to(federation::status)))
        .service(r("/ap/users/{account_id}/statuses/{id}/replies").route(get().to(federation::replies)))
        .service(r("/ap/users/{account_id}/statuses/{id}/activity").route(get().to(federation::status_activity)))
        .service(r("/ap/users/{account_id}/outbox").route(get().to(federation::outbox)))
        .service(r("/ap/users/{account_id}/followers").route(get().to(federation::follows)))
        .service(r("/ap/users/{account_id}/following").route(get().to(federation::follows)))
        .service(r("/ap/users/{account_id}/collections/featured").route(get().to(federation::featured)))
        .service(r("/inbox").route(post().to(federation::inbox)))
        .service(r("/actor").route(get().to(federation::instance_actor)))
        .service(r("/actor/inbox").route(post().to(federation::inbox)))
        .service(r("/@{username}").route(get().to(federation::profile)))
        .service(r("/nodeinfo/2.0").route(get().to(instance::nodeinfo)))
        .service(r("/.well-known/oauth-authorization-server").route(get().to(oauth::server_metadata)))
        .service(r("/oauth/authorize").route(get().to(oauth::authorize_page)).route(post().to(oauth::authorize)))
        .service(r("/oauth/token").route(post().to(oauth::token)))
        .service(r("/oauth/revoke").route(post().to(oauth::revoke)))
        .service(r("/oauth/userinfo").route(get().to(oauth::userinfo)).route(post().to(oauth::userinfo)))
        .service(
            web::scope("/api/v1")
                .service(r("/admin/accounts").route(get().to(admin::accounts_v1)))
                .service(
                    r("/admin/accounts/{id}").route(get().to(admin::account)).route(delete().to(admin::delete_account)),
                )
                .service(r("/admin/accounts/{id}/approve").route(post().to(admin::approve)))
                .service(r("/admin/accounts/{id}/reject").route(post().to(admin::reject)))
                .service(r("/admin/accounts/{id}/enable").route(post().to(admin::enable)))
                .service(r("/admin/accounts/{id}/action").route(post().to(admin::action)))
                .service(r("/admin/accounts/{id}/unsilence").route(post().to(admin::unsilence)))
                .service(r("/admin/accounts/{id}/unsensitive").route(post().to(admin::unsensitive)))
                .service(r("/admin/accounts/{id}/unsuspend").route(post().to(admin::unsuspend)))
                .service(
                    r("/admin/domain_blocks")
                        .route(get().to(admin::domain_blocks))
                        .route(post().to(admin::create_domain_block)),
                )
                .service(
                    r("/admin/domain_blocks/{id}")
                        .route(get().to(admin::domain_block))
                        .route(put().to(admin::update_domain_block))
                        .route(delete().to(admin::delete_domain_block)),
                )
                .service(
                    r("/admin/domain_allows")
                        .route(get().to(admin::domain_allows))
                        .route(post().to(admin::create_domain_allow)),
                )
                .service(
                    r("/admin/domain_allows/{id}")
                        .route(get().to(admin::domain_allow))
                        .route(delete().to(admin::delete_domain_allow)),
                )
                .service(
                    r("/admin/email_domain_blocks")
                        .route(get().to(admin::email_domain_blocks))
                        .route(post().to(admin::create_email_domain_block)),
                )
                .service(
                    r("/admin/email_domain_blocks/{id}")
                        .route(get().to(admin::email_domain_block))
                        .route(delete().to(admin::delete_email_domain_block)),
                )
                .service(
                    r("/admin/ip_blocks").route(get().to(admin::ip_blocks)).route(post().to(admin::create_ip_block)),
                )
                .service(
                    r("/admin/ip_blocks/{id}")
                        .route(get().to(admin::ip_block))
                        .route(put().to(admin::update_ip_block))
                        .route(delete().to(admin::delete_ip_block)),
                )
                .service(
                    r("/admin/canonical_email_blocks")
                        .route(get().to(admin::canonical_email_blocks))
                        .route(post().to(admin::create_canonical_email_block)),
                )
                .service(r("/admin/canonical_email_blocks/test").route(post().to(admin::test_canonical_email)))
                .service(
                    r("/admin/canonical_email_blocks/{id}")
                        .route(get().to(admin::canonical_email_block))
                        .route(delete().to(admin::delete_canonical_email_block)),
                )
                .service(r("/admin/tags").route(get().to(admin::tags)))
                .service(r("/admin/tags/{id}").route(get().to(admin::tag)).route(put().to(admin::update_tag)))
                .service(r("/admin/measures").route(post().to(dashboard::measures)))
                .service(r("/admin/dimensions").route(post().to(dashboard::dimensions)))
                .service(r("/admin/retention").route(post().to(dashboard::retention)))
                .service(r("/admin/reports").route(get().to(admin::reports)))
                .service(r("/admin/reports/{id}").route(get().to(admin::report)).route(put().to(admin::update_report)))
                .service(r("/admin/reports/{id}/assign_to_self").route(post().to(admin::assign_report)))
                .service(r("/admin/reports/{id}/unassign").route(post().to(admin::unassign_report)))
                .service(r("/admin/reports/{id}/resolve").route(post().to(admin::resolve_report)))
                .service(r("/admin/reports/{id}/reopen").route(post().to(admin::reopen_report)))
                .service(r("/instance").route(get().to(instance::v1)))
                .service(r("/instance/peers").route(get().to(instance::peers)))
                .service(r("/instance/activity").route(get().to(instance::activity)))
                .service(r("/instance/rules").route(get().to(instance::rules)))
                .service(r("/instance/extended_description").route(get().to(instance::extended_description)))
                .service(r("/instance/privacy_policy").route(get().to(instance::privacy_policy)))
                .service(r("/instance/terms_of_service").route(get().to(instance::terms_of_service)))
                .service(r("/instance/terms_of_service/{date}").route(get().to(instance::terms_of_service_on)))
                .service(r("/instance/translation_languages").route(get().to(instance::translation_languages)))
                .service(r("/instance/domain_blocks").route(get().to(instance::domain_blocks)))
                .service(r("/custom_emojis").route(get().to(instance::empty_list)))
                .service(r("/preferences").route(get().to(instance::preferences)))
                .service(r("/apps").route(post().to(oauth::create_app)))
                .service(r("/apps/verify_credentials").route(get().to(oauth::verify_app)))
                .service(r("/accounts").route(post().to(accounts::register)).route(get().to(accounts::index)))
                .service(r("/accounts/verify_credentials").route(get().to(accounts::verify_credentials)))
                .service(
                    r("/accounts/update_credentials")
                        .app_data(upload_limit())
                        .route(patch().to(accounts::update_credentials)),
                )
                .service(r("/emails/confirmations").route(post().to(emails::resend)))
                .service(r("/emails/check_confirmation").route(get().to(emails::check)))
                .service(r("/profile/avatar").route(delete().to(accounts::delete_profile_image)))
                .service(r("/profile/header").route(delete().to(accounts::delete_profile_image)))
                .service(r("/media").app_data(upload_limit()).route(post().to(media::create_v1)))
                .service(
                    r("/media/{id}")
                        .app_data(upload_limit())
                        .route(get().to(media::show))
                        .route(put().to(media::update))
                        .route(delete().to(media::destroy)),
                )
                .service(r("/accounts/lookup").route(get().to(accounts::lookup)))
                .service(r("/accounts/search").route(get().to(search::accounts)))
                .service(r("/accounts/relationships").route(get().to(accounts::relationships)))
                .service(r("/accounts/familiar_followers").route(get().to(accounts::familiar_followers)))
                .service(r("/accounts/{id}").route(get().to(accounts::show)))
                .service(r("/accounts/{id}/statuses").route(get().to(accounts::statuses)))
                .service(r("/accounts/{id}/followers").route(get().to(accounts::followers)))
                .service(r("/accounts/{id}/following").route(get().to(accounts::following)))
                .service(r("/accounts/{id}/follow").route(post().to(accounts::follow)))
                .service(r("/accounts/{id}/unfollow").route(post().to(accounts::unfollow)))
                .service(r("/accounts/{id}/block").route(post().to(accounts::block)))
                .service(r("/accounts/{id}/note").route(post().to(accounts::note)))
                .service(r("/accounts/{id}/endorse").route(post().to(accounts::endorse)))
                .service(r("/accounts/{id}/pin").route(post().to(accounts::endorse)))
                .service(r("/accounts/{id}/unendorse").route(post().to(accounts::unendorse)))
                .service(r("/accounts/{id}/unpin").route(post().to(accounts::unendorse)))
                .service(r("/accounts/{id}/endorsements").route(get().to(accounts::account_endorsements)))
                .service(r("/accounts/{id}/featured_tags").route(get().to(tags::account_featured_tags)))
                .service(r("/accounts/{id}/identity_proofs").route(get().to(accounts::identity_proofs)))
                .service(r("/accounts/{id}/remove_from_followers").route(post().to(accounts::remove_from_followers)))
                .service(r("/endorsements").route(get().to(accounts::endorsements)))
                .service(r("/suggestions").route(get().to(suggestions::v1)))
                .service(r("/directory").route(get().to(suggestions::directory)))
                .service(r("/suggestions/{account_id}").route(delete().to(suggestions::dismiss)))
                .service(r("/scheduled_statuses").route(get().to(scheduled_statuses::index)))
                .service(
                    r("/scheduled_statuses/{id}")
                        .route(get().to(scheduled_statuses::show))
                        .route(put().to(scheduled_statuses::update))
                        .route(delete().to(scheduled_statuses::destroy)),
                )
                .service(r("/filters").route(get().to(filters::v1_index)).route(post().to(filters::v1_create)))
                .service(
                    r("/filters/{id}")
                        .route(get().to(filters::v1_show))
                        .route(put().to(filters::v1_update))
                        .route(delete().to(filters::v1_destroy)),
                )
                .service(r("/conversations").route(get().to(conversations::index)))
                .service(r("/conversations/{id}").route(delete().to(conversations::destroy)))
                .service(r("/conversations/{id}/read").route(post().to(conversations::read)))
                .service(r("/conversations/{id}/unread").route(post().to(conversations::unread)))
                .service(
                    r("/domain_blocks")
                        .route(get().to(accounts::domain_blocks))
                        .route(post().to(accounts::block_domain))
                        .route(delete().to(accounts::unblock_domain)),
                )
                .service(r("/accounts/{id}/unblock").route(post().to(accounts::unblock)))
                .service(r("/accounts/{id}/mute").route(post().to(accounts::mute)))
                .service(r("/accounts/{id}/unmute").route(post().to(accounts::unmute)))
                .service(r("/follow_requests").route(get().to(accounts::follow_requests)))
                .service(r("/follow_requests/{id}/authorize").route(post().to(accounts::authorize_follow_request)))
                .service(r("/follow_requests/{id}/reject").route(post().to(accounts::reject_follow_request)))
                .service(r("/blocks").route(get().to(accounts::blocks)))
                .service(r("/mutes").route(get().to(accounts::mutes)))
                .service(r("/statuses").route(post().to(statuses::create)).route(get().to(statuses::index)))
                .service(
                    r("/statuses/{id}")
                        .route(get().to(statuses::show))
                        .route(delete().to(statuses::destroy))
                        .route(put().to(statuses::update)),
                )
                .service(r("/statuses/{id}/context").route(get().to(statuses::context)))
                .service(r("/statuses/{id}/history").route(get().to(statuses::history)))
                .service(r("/statuses/{id}/source").route(get().to(statuses::source)))
                .service(r("/statuses/{id}/favourite").route(post().to(statuses::favourite)))
                .service(r("/statuses/{id}/unfavourite").route(post().to(statuses::unfavourite)))
                .service(r("/statuses/{id}/reblog").route(post().to(statuses::reblog)))
                .service(r("/statuses/{id}/unreblog").route(post().to(statuses::unreblog)))
                .service(r("/statuses/{id}/bookmark").route(post().to(statuses::bookmark)))
                .service(r("/statuses/{id}/mute").route(post().to(statuses::mute)))
                .service(r("/statuses/{id}/unmute").route(post().to(statuses::unmute)))
                .service(r("/statuses/{id}/translate").route(post().to(statuses::translate)))
                .service(r("/statuses/{id}/unbookmark").route(post().to(statuses::unbookmark)))
                .service(r("/statuses/{id}/pin").route(post().to(statuses::pin)))
                .service(r("/statuses/{id}/unpin").route(post().to(statuses::unpin)))
                .service(r("/statuses/{id}/favourited_by").route(get().to(statuses::favourited_by)))
                .service(r("/statuses/{id}/reblogged_by").route(get().to(statuses::reblogged_by)))
                .service(r("/polls/{id}").route(get().to(polls::show)))
                .service(r("/reports").route(post().to(reports::create)))
                .service(r("/polls/{id}/votes").route(post().to(polls::vote)))
                .service(r("/favourites").route(get().to(statuses::favourites)))
                .service(r("/bookmarks").route(get().to(statuses::bookmarks)))
                .service(r("/timelines/home").route(get().to(timelines::home)))
                .service(r("/timelines/public").route(get().to(timelines::public)))
                .service(r("/timelines/tag/{hashtag}").route(get().to(timelines::tag)))
                .service(r("/lists").route(get().to(lists::index)).route(post().to(lists::create)))
                .service(
                    r("/lists/{id}")
                        .route(get().to(lists::show))
                        .route(put().to(lists::update))
                        .route(delete().to(lists::destroy)),
                )
                .service(
                    r("/lists/{id}/accounts")
                        .route(get().to(lists::members))
                        .route(post().to(lists::add_members))
                        .route(delete().to(lists::remove_members)),
                )
                .service(r("/accounts/{id}/lists").route(get().to(lists::of_account)))
                .service(r("/timelines/list/{id}").route(get().to(lists::timeline)))
                .service(r("/tags/{name}").route(get().to(tags::show)))
                .service(r("/tags/{name}/follow").route(post().to(tags::follow)))
                .service(r("/tags/{name}/unfollow").route(post().to(tags::unfollow)))
                .service(r("/followed_tags").route(get().to(tags::followed)))
                .service(r("/tags/{name}/feature").route(post().to(tags::feature)))
                .service(r("/tags/{name}/unfeature").route(post().to(tags::unfeature)))
                .service(
                    r("/featured_tags")
                        .route(get().to(tags::featured_tags))
                        .route(post().to(tags::create_featured_tag)),
                )
                .service(r("/featured_tags/suggestions").route(get().to(tags::featured_tag_suggestions)))
                .service(r("/featured_tags/{id}").route(delete().to(tags::delete_featured_tag)))
                .service(r("/markers").route(get().to(markers::index)).route(post().to(markers::save)))
                .service(r("/notifications").route(get().to(notifications::index)))
                .service(r("/notifications/clear").route(post().to(notifications::clear)))
                .service(r("/notifications/unread_count").route(get().to(notifications::unread_count)))
                .service(r("/notifications/requests").route(get().to(notification_requests::index)))
                .service(r("/notifications/requests/accept").route(post().to(notification_requests::accept_many)))
                .service(r("/notifications/requests/dismiss").route(post().to(notification_requests::dismiss_many)))
                .service(r("/notifications/requests/merged").route(get().to(notification_requests::merged)))
                .service(r("/notifications/requests/{id}").route(get().to(notification_requests::show)))
                .service(r("/notifications/requests/{id}/accept").route(post().to(notification_requests::accept)))
                .service(r("/notifications/requests/{id}/dismiss").route(post().to(notification_requests::dismiss)))
                .service(r("/notifications/{id}").route(get().to(notifications::show)))
                .service(r("/notifications/{id}/dismiss").route(post().to(notifications::dismiss))),
        )
        .service(
            web::scope("/api/v2")
                .service(r("/filters").route(get().to(filters::index)).route(post().to(filters::create)))
                .service(
                    r("/filters/keywords/{id}")
                        .route(get().to(filters::show_keyword))
                        .route(put().to(filters::update_keyword))
                        .route(delete().to(filters::delete_keyword)),
                )
                .service(
                    r("/filters/statuses/{id}")
                        .route(get().to(filters::show_status))
                        .route(delete().to(filters::delete_status)),
                )
                .service(
                    r("/filters/{id}/keywords")
                        .route(get().to(filters::keywords))
                        .route(post().to(filters::add_keyword)),
                )
                .service(
                    r("/filters/{id}/statuses")
                        .route(get().to(filters::statuses))
                        .route(post().to(filters::add_status)),
                )
                .service(
                    r("/filters/{id}")
                        .route(get().to(filters::show))
                        .route(put().to(filters::update))
                        .route(delete().to(filters::destroy)),
                )
                .service(r("/admin/accounts").route(get().to(admin::accounts_v2)))
                .service(r("/instance").route(get().to(instance::v2)))
                .service(r("/search").route(get().to(search::v2)))
                .service(r("/media").app_data(upload_limit()).route(post().to(media::create_v2)))
                .service(r("/notifications").route(get().to(notifications::grouped)))
                .service(r("/notifications/unread_count").route(get().to(notifications::unread_group_count)))
                .service(
                    r("/notifications/policy")
                        .route(get().to(notification_requests::policy))
                        .route(patch().to(notification_requests::update_policy)),
                )
                .service(r("/suggestions").route(get().to(suggestions::v2)))
                .service(r("/notifications/{group_key}").route(get().to(notifications::group)))
                .service(r("/notifications/{group_key}/accounts").route(get().to(notifications::group_accounts)))
                .service(r("/notifications/{group_key}/dismiss").route(post().to(notifications::dismiss_group))),
        )
        .service(r("/api/v1_alpha/async_refreshes/{id}").route(get().to(timelines::async_refresh)))
        .default_service(web::to(not_found));
}

/// The web process's server: routes plus Mastodon's conventions (trailing slashes
/// accepted, API responses not cached by proxies, JSON errors for malformed input).
/// Await the returned server to run it.
pub fn server(state: AppState, listener: std::net::TcpListener) -> std::io::Result<actix_web::dev::Server> {
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get());
    let keep_alive = state.config.persistent_timeout_seconds;
    // Each worker thread gets its own pools (see `AppState::for_worker`).
    let worker_state = move || match state.for_worker(workers) {
        Ok(state) => state,
        Err(e) => {
            tracing::error!(error = %e, "could not set up a web worker's pools; sharing the process's");
            state.clone()
        }
    };
    Ok(actix_web::HttpServer::new(move || {
        actix_web::App::new()
            .app_data(web::Data::new(worker_state()))
            .app_data(web::PathConfig::default().error_handler(|_, _| Error::NotFound.into()))
            .app_data(web::QueryConfig::default().error_handler(|e, _| Error::bad_request(e.to_string()).into()))
            // Inside DefaultHeaders, so the responses it makes get the default headers too.
            .wrap(actix_web::middleware::from_fn(rate_limits::limit))
            .wrap(actix_web::middleware::from_fn(rate_limits::refuse_blocked))
            .wrap(ErrorHandlers::new().handler(StatusCode::METHOD_NOT_ALLOWED, method_not_allowed))
            .wrap(
                DefaultHeaders::new()
                    .add(("Cache-Control", "private, no-store"))
                    .add(("Vary", "Authorization, Origin"))
                    .add(("Access-Control-Allow-Origin", "*"))
                    .add(("Access-Control-Expose-Headers", CORS_EXPOSE_HEADERS)),
            )
            .wrap(NormalizePath::new(TrailingSlash::Trim))
            .wrap(actix_web::middleware::from_fn(head_as_get))
            .configure(configure)
    })
    .workers(workers)
    .keep_alive(std::time::Duration::from_secs(keep_alive))
    .listen(listener)?
    .run())
}
