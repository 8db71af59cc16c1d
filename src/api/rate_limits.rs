//! Mastodon's Rack::Attack: the blocklist of `no_access` IP blocks, and the throttles for the
//! API, counted in Redis so that every web process shares them: fixed windows per token or
//! per client address (IPv6 by /64). Every API response says where its most limited throttle
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

/// The throttles of a request, as Mastodon's `rack_attack.rb` sets them up.
fn throttles(req: &ServiceRequest) -> Vec<Throttle> {
    let path = req.path();
    let ip = address_key(&super::client_ip(req.request()).unwrap_or_default());
    let token = super::auth::bearer(req.request()).map(|t| {
        use sha2::Digest;
        hex::encode(sha2::Sha256::digest(t.as_bytes()))
    });
    let mut found = Vec::new();
    let throttle = |name, limit, period, counted: &str| Throttle { name, limit, period, counted: counted.to_string() };
    match &token {
        Some(token) => found.push(throttle("per_token_api", 300, 300, token)),
        None => found.push(throttle("unauthenticated_api", 300, 300, &ip)),
    }
    let method = req.method();
    if method == Method::POST && path == "/api/v1/accounts" {
        found.push(throttle("api_sign_up", 5, 1800, &ip));
    }
    if method == Method::POST && path == "/api/v1/apps" {
        found.push(throttle("oauth_application_registrations/ip", 5, 600, &ip));
    }
    if let Some(token) = &token {
        if method == Method::POST && (path == "/api/v1/media" || path == "/api/v2/media") {
            found.push(throttle("api_media", 30, 1800, token));
        }
        let deleting = (method == Method::DELETE && path.starts_with("/api/v1/statuses/"))
            || (method == Method::POST && path.starts_with("/api/v1/statuses/") && path.ends_with("/unreblog"));
        if deleting {
            found.push(throttle("api_delete", 30, 1800, token));
        }
    }
    found
}

/// Where a throttle stands after counting this request: (limit, remaining, window end).
async fn count(state: &AppState, throttle: &Throttle, now: i64) -> Result<(i64, i64, i64)> {
    let window = now / throttle.period;
    let key = state.redis.key(format!("rack::attack:{window}:{}:{}", throttle.name, throttle.counted));
    let mut conn = state.redis.conn().await?;
    let (hits,): (i64,) =
        redis::pipe().incr(&key, 1).expire(&key, throttle.period).ignore().query_async(&mut conn).await?;
    Ok((throttle.limit, throttle.limit - hits, (window + 1) * throttle.period))
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
    let Some(state) = state.filter(|s| s.config.rate_limits && req.path().starts_with("/api")) else {
        return Ok(next.call(req).await?.map_into_left_body());
    };
    let now = crate::core::time::now().and_utc().timestamp();
    let mut tightest: Option<(i64, i64, i64)> = None;
    for throttle in throttles(&req) {
        let standing = count(&state, &throttle, now).await?;
        if standing.1 < 0 {
            let mut refused = HttpResponse::TooManyRequests().json(serde_json::json!({ "error": "Too many requests" }));
            set_headers(refused.headers_mut(), standing);
            return Ok(req.into_response(refused).map_into_right_body());
        }
        if tightest.is_none_or(|t| standing.1 < t.1) {
            tightest = Some(standing);
        }
    }
    let mut res = next.call(req).await?;
    if let Some(standing) = tightest {
        set_headers(res.headers_mut(), standing);
    }
    Ok(res.map_into_left_body())
}
