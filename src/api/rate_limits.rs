//! Mastodon's Rack::Attack: the blocklist of `no_access` IP blocks, and the throttles, counted
//! in Redis so that every web process shares them: fixed windows per user, per token or per
//! client address (IPv6 by /64). Every API response says where its most limited throttle
//! stands (`X-RateLimit-Limit`, `-Remaining`, `-Reset`); past the limit the answer is 429
//! `{"error":"Too many requests"}`.

use actix_web::body::{EitherBody, MessageBody};
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header::HeaderValue};
use actix_web::middleware::Next;
use actix_web::{HttpResponse, web};

use crate::AppState;
use crate::core::error::Result;

/// One throttle that applies to a request: its name, limit and window, and whose requests
/// it counts.
struct Throttle {
    name: &'static str,
    limit: i64,
    period: i64,
    counted: String,
}

/// The client address as throttles count it: IPv6 addresses by their /64.
fn address_key(ip: &str) -> String {
    match ip.parse::<std::net::IpAddr>() {
        Ok(std::net::IpAddr::V6(v6)) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
        _ => ip.to_string(),
    }
}

/// Whether a request asks for a page past the first, which the paging throttles count.
fn paging(req: &ServiceRequest) -> bool {
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .any(|(k, v)| matches!(&*k, "page" | "min_id" | "max_id" | "since_id") && !v.trim().is_empty())
}

/// `/api/v1/statuses/<id>` followed by `tail`.
fn status_path(path: &str, tail: &str) -> bool {
    path.strip_prefix("/api/v1/statuses/")
        .and_then(|rest| rest.strip_suffix(tail))
        .is_some_and(|id| !id.is_empty() && id.bytes().all(|b| b.is_ascii_digit()))
}

/// The throttles of a request, as Mastodon's `rack_attack.rb` sets them up. `user` and
/// `token` are the ids behind a live bearer token; a request without a user counts against
/// its address.
fn throttles(req: &ServiceRequest, user: Option<i64>, token: Option<i64>) -> Vec<Throttle> {
    let path = req.path();
    let method = req.method();
    let ip = address_key(&super::client_ip(req.request()).unwrap_or_default());
    let throttle = |name, limit, period, counted: String| Throttle { name, limit, period, counted };
    let by_ip = |name, limit, period| throttle(name, limit, period, ip.clone());
    let by_user = |name, limit, period| user.map(|user| throttle(name, limit, period, user.to_string()));
    let mut found = Vec::new();
    if path.starts_with("/api") {
        found.extend(by_user("throttle_authenticated_api", 1500, 300));
        found.extend(token.map(|token| throttle("throttle_per_token_api", 300, 300, token.to_string())));
        if user.is_none() {
            found.push(by_ip("throttle_unauthenticated_api", 300, 300));
        }
    }
    if paging(req) {
        found.extend(by_user("throttle_authenticated_paging", 300, 900));
        if user.is_none() {
            found.push(by_ip("throttle_unauthenticated_paging", 300, 900));
        }
    }
    let post = method == Method::POST;
    let media_upload = path
        .strip_prefix("/api/v")
        .and_then(|rest| rest.strip_suffix("/media"))
        .is_some_and(|version| !version.is_empty() && version.bytes().all(|b| b.is_ascii_digit()));
    if post && media_upload {
        found.extend(by_user("throttle_api_media", 30, 1800));
    }
    if post && path == "/api/v1/accounts" {
        found.push(by_ip("throttle_api_sign_up", 5, 1800));
    }
    if (post && status_path(path, "/unreblog")) || (method == Method::DELETE && status_path(path, "")) {
        found.extend(by_user("throttle_api_delete", 30, 1800));
    }
    if post && path == "/api/v1/apps" {
        found.push(by_ip("throttle_oauth_application_registrations/ip", 5, 600));
    }
    if post && path == "/api/v1/emails/confirmations" {
        found.push(by_ip("throttle_email_confirmations/ip", 25, 300));
        found.extend(by_user("throttle_email_confirmations/email", 5, 1800));
    }
    found
}

/// Where each throttle stands after counting this request: (limit, remaining, window end).
/// All counters are bumped in one round trip to Redis (Rack::Attack makes one per throttle).
async fn count(state: &AppState, throttles: &[Throttle], now: i64) -> Result<Vec<(i64, i64, i64)>> {
    if throttles.is_empty() {
        return Ok(Vec::new());
    }
    let mut pipe = redis::pipe();
    for throttle in throttles {
        let window = now / throttle.period;
        let key = state.redis.key(format!("rack::attack:{window}:{}:{}", throttle.name, throttle.counted));
        pipe.incr(&key, 1).expire(&key, throttle.period).ignore();
    }
    let mut conn = state.redis.conn().await?;
    let hits: Vec<i64> = pipe.query_async(&mut conn).await?;
    Ok(throttles.iter().zip(hits).map(|(t, hits)| (t.limit, t.limit - hits, (now / t.period + 1) * t.period)).collect())
}

fn set_headers(headers: &mut actix_web::http::header::HeaderMap, (limit, remaining, reset): (i64, i64, i64)) {
    let reset = chrono::DateTime::from_timestamp(reset, 0).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.6fZ").to_string());
    let pairs = [
        ("x-ratelimit-limit", limit.to_string()),
        ("x-ratelimit-remaining", remaining.max(0).to_string()),
        ("x-ratelimit-reset", reset.unwrap_or_default()),
    ];
    for (name, value) in pairs {
        if let Ok(value) = HeaderValue::from_str(&value) {
            headers.insert(actix_web::http::header::HeaderName::from_static(name), value);
        }
    }
}

/// The middleware that refuses every request from a `no_access` IP block: 403 `Forbidden`, as
/// Rack::Attack's blocklist answers.
pub async fn refuse_blocked(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let ip = super::client_ip(req.request()).and_then(|ip| ip.parse().ok());
    if let (Some(state), Some(ip)) = (state, ip)
        && state.no_access.contains(&state.db.primary, ip).await?
    {
        let refused = HttpResponse::Forbidden().content_type("text/plain").body("Forbidden\n");
        return Ok(req.into_response(refused).map_into_right_body());
    }
    Ok(next.call(req).await?.map_into_left_body())
}

/// The middleware: counts the request against its throttles, refuses it past a limit.
pub async fn limit(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<EitherBody<impl MessageBody>>, actix_web::Error> {
    let state = req.app_data::<web::Data<AppState>>().cloned();
    let Some(state) = state.filter(|s| s.config.rate_limits) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let token = super::auth::token_of(&state, req.request()).await?;
    let now = crate::core::time::now().and_utc().timestamp();
    let api = req.path().starts_with("/api");
    let throttles = throttles(&req, token.as_ref().and_then(|t| t.resource_owner_id), token.as_ref().map(|t| t.id));
    let standings = count(&state, &throttles, now).await?;
    if let Some(&over) = standings.iter().find(|s| s.1 < 0) {
        let mut refused = HttpResponse::TooManyRequests().json(serde_json::json!({ "error": "Too many requests" }));
        set_headers(refused.headers_mut(), over);
        return Ok(req.into_response(refused).map_into_right_body());
    }
    let tightest = standings.into_iter().min_by_key(|s| s.1);
    let mut res = next.call(req).await?;
    if let Some(standing) = tightest.filter(|_| api) {
        set_headers(res.headers_mut(), standing);
    }
    Ok(res.map_into_left_body())
}
