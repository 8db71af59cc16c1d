//! Outgoing requests to other servers: fetches of actors and objects, and signed POSTs to
//! inboxes. Every address a host name resolves to is checked before connecting, so a
//! remote document cannot make this server reach loopback or private networks (SSRF),
//! unless `ALLOWED_PRIVATE_ADDRESSES` names them (development, tests). Responses are
//! limited in size and time, like Mastodon's `Request` class.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use rsa::RsaPrivateKey;
use serde_json::Value;

use crate::core::error::{Error, Result};
use crate::effects::federation::signatures;
use crate::render::activitypub::actors::ACTIVITY_JSON;

/// Largest remote JSON document accepted (Mastodon: 1 MB).
const MAX_JSON_BYTES: usize = 1024 * 1024;
const TIMEOUT: Duration = Duration::from_secs(10);
/// Media files may be large: a longer limit for the whole download.
const FILE_TIMEOUT: Duration = Duration::from_secs(60);
/// Idle pooled connections are closed after this, before a peer would close them.
const POOL_IDLE: Duration = Duration::from_secs(10);
const USER_AGENT: &str = concat!("ferrodon/", env!("CARGO_PKG_VERSION"), " (Mastodon-compatible)");

/// Whether `ip` is reachable from the public internet (not loopback, private, link-local, …).
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let [a, b, ..] = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || a == 0
                || (a == 100 && (64..128).contains(&b))
                || (a == 198 && (b == 18 || b == 19))
                || a >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let first = v6.segments()[0];
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (first & 0xfe00) == 0xfc00
                || (first & 0xffc0) == 0xfe80
                || first == 0x2001 && v6.segments()[1] == 0x0db8)
        }
    }
}

/// The address rule: public, or inside an allowed network.
#[derive(Debug, Clone, Default)]
pub struct AddressPolicy {
    allowed: Vec<(IpAddr, u8)>,
}

impl AddressPolicy {
    pub fn new(allowed: Vec<(IpAddr, u8)>) -> Self {
        AddressPolicy { allowed }
    }
    pub fn permits(&self, ip: IpAddr) -> bool {
        is_public(ip) || self.allowed.iter().any(|n| crate::core::config::in_network(ip, *n))
    }
}

/// A resolver that drops the addresses the policy refuses.
struct GuardedResolver(Arc<AddressPolicy>);

impl Resolve for GuardedResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let policy = self.0.clone();
        Box::pin(async move {
            let found: Vec<SocketAddr> = tokio::net::lookup_host((name.as_str(), 0)).await?.collect();
            let permitted: Vec<SocketAddr> = found.into_iter().filter(|a| policy.permits(a.ip())).collect();
            if permitted.is_empty() {
                return Err(format!("{} resolves only to refused addresses", name.as_str()).into());
            }
            let addrs: Addrs = Box::new(permitted.into_iter());
            Ok(addrs)
        })
    }
}

/// The HTTP client for federation (one per process; cheap to clone).
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    policy: Arc<AddressPolicy>,
}

fn refused(url: &str) -> Error {
    Error::Forbidden(format!("Refusing to reach {url}: a private or loopback address"))
}

impl Client {
    pub fn new(allowed_private: Vec<(IpAddr, u8)>) -> Result<Client> {
        let policy = Arc::new(AddressPolicy::new(allowed_private));
        let redirect_policy = policy.clone();
        let http = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(TIMEOUT)
            .connect_timeout(Duration::from_secs(5))
            // A pooled connection is reused only while the other server surely keeps it open
            // (Mastodon's Puma: 20 s, nginx: 75 s); reusing one the server has just closed
            // fails the request (hyper's IncompleteMessage).
            .pool_idle_timeout(POOL_IDLE)
            .dns_resolver(Arc::new(GuardedResolver(policy.clone())))
            // Host names in redirects go through the resolver; IP literals are checked here.
            .redirect(reqwest::redirect::Policy::custom(move |attempt| {
                let literal = attempt.url().host_str().and_then(|h| h.trim_matches(['[', ']']).parse::<IpAddr>().ok());
                match literal {
                    _ if attempt.previous().len() >= 3 => attempt.stop(),
                    Some(ip) if !redirect_policy.permits(ip) => attempt.stop(),
                    _ => attempt.follow(),
                }
            }))
            .build()
            .map_err(|e| Error::internal(format!("federation client: {e}")))?;
        Ok(Client { http, policy })
    }

    /// Refuses URLs that are not http(s) or name a refused IP address directly (host
    /// names are checked when resolved).
    fn check(&self, url: &str) -> Result<reqwest::Url> {
        let parsed = reqwest::Url::parse(url).map_err(|_| Error::Unprocessable(format!("Invalid URL: {url}")))?;
        if !matches!(parsed.scheme(), "http" | "https") {
            return Err(Error::Unprocessable(format!("Unsupported URL scheme: {url}")));
        }
        match parsed.host() {
            Some(url::Host::Ipv4(ip)) if !self.policy.permits(IpAddr::V4(ip)) => Err(refused(url)),
            Some(url::Host::Ipv6(ip)) if !self.policy.permits(IpAddr::V6(ip)) => Err(refused(url)),
            None => Err(Error::Unprocessable(format!("Invalid URL: {url}"))),
            _ => Ok(parsed),
        }
    }

    /// GETs an ActivityPub document (or any JSON, e.g. WebFinger) as a JSON value.
    pub async fn get_json(&self, url: &str, accept: &str) -> Result<Value> {
        let target = self.check(url)?;
        let response = self.http.get(target).header("Accept", accept).send().await.map_err(|e| fetch_error(url, &e))?;
        if !response.status().is_success() {
            return Err(Error::Unprocessable(format!("{url} answered {}", response.status().as_u16())));
        }
        let body = read_limited(response, url, MAX_JSON_BYTES).await?;
        serde_json::from_slice(&body).map_err(|_| Error::Unprocessable(format!("{url} did not return JSON")))
    }

    /// The status a HEAD of `url` answers with (an unsigned request, as Mastodon's cull makes).
    pub async fn head_status(&self, url: &str) -> Result<u16> {
        let target = self.check(url)?;
        let response = self.http.head(target).send().await.map_err(|e| fetch_error(url, &e))?;
        Ok(response.status().as_u16())
    }

    /// GETs a file (remote media) of at most `limit` bytes, with its declared content type.
    pub async fn get_file(&self, url: &str, limit: usize) -> Result<(Vec<u8>, String)> {
        let target = self.check(url)?;
        let response = self.http.get(target).timeout(FILE_TIMEOUT).send().await.map_err(|e| fetch_error(url, &e))?;
        if !response.status().is_success() {
            return Err(Error::Unprocessable(format!("{url} answered {}", response.status().as_u16())));
        }
        let content_type = response
            .headers()
            .get(reqwest::header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        Ok((read_limited(response, url, limit).await?, content_type))
    }

    /// GETs an ActivityPub document with a signed request (`(request-target) host date`,
    /// as Mastodon signs its fetches), so servers that require signed fetches answer.
    pub async fn get_signed_json(&self, url: &str, accept: &str, signer: &Signer) -> Result<Value> {
        let target = self.check(url)?;
        let mut request = self.http.get(target.clone()).header("Accept", accept);
        for (name, value) in signer.headers("GET", &target, None)? {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| fetch_error(url, &e))?;
        if !response.status().is_success() {
            return Err(Error::Unprocessable(format!("{url} answered {}", response.status().as_u16())));
        }
        let body = read_limited(response, url, MAX_JSON_BYTES).await?;
        serde_json::from_slice(&body).map_err(|_| Error::Unprocessable(format!("{url} did not return JSON")))
    }

    /// POSTs an activity to an inbox, signed by `signer` (draft-cavage, rsa-sha256,
    /// `(request-target) host date digest`). Returns the response status.
    /// POSTs `body` signed by `signer`; the answer's status and, with a 429 or 503, how long
    /// the server asked to wait (`Retry-After`, in seconds or as a date).
    pub async fn post_signed(&self, url: &str, body: &[u8], signer: &Signer) -> Result<(u16, Option<i64>)> {
        let target = self.check(url)?;
        let mut request = self.http.post(target.clone()).header("Content-Type", ACTIVITY_JSON).body(body.to_vec());
        for (name, value) in signer.headers("POST", &target, Some(body))? {
            request = request.header(name, value);
        }
        let response = request.send().await.map_err(|e| fetch_error(url, &e))?;
        let retry_after = response
            .headers()
            .get(reqwest::header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| retry_after_seconds(v, chrono::Utc::now()));
        Ok((response.status().as_u16(), retry_after))
    }
}

/// `Retry-After` as seconds from `now`: a number of seconds, or an HTTP date.
fn retry_after_seconds(value: &str, now: chrono::DateTime<chrono::Utc>) -> Option<i64> {
    let value = value.trim();
    if let Ok(seconds) = value.parse::<i64>() {
        return Some(seconds.max(0));
    }
    let at = chrono::DateTime::parse_from_rfc2822(value).ok()?;
    Some((at.with_timezone(&chrono::Utc) - now).num_seconds().max(0))
}

/// A key that signs requests: an account's, named by its key id.
pub struct Signer {
    pub key_id: String,
    pub key: RsaPrivateKey,
}

impl Signer {
    /// `Host`, `Date`, (`Digest` with a body) and `Signature` for a request to `target`.
    fn headers(&self, method: &str, target: &reqwest::Url, body: Option<&[u8]>) -> Result<Vec<(&'static str, String)>> {
        let host = match target.port() {
            Some(port) => format!("{}:{port}", target.host_str().unwrap_or_default()),
            None => target.host_str().unwrap_or_default().to_string(),
        };
        let path = match target.query() {
            Some(q) => format!("{}?{q}", target.path()),
            None => target.path().to_string(),
        };
        let date = chrono::Utc::now().format("%a, %d %b %Y %H:%M:%S GMT").to_string();
        let digest = body.map(signatures::digest);
        let mut signed: Vec<String> = ["(request-target)", "host", "date"].iter().map(|s| s.to_string()).collect();
        if digest.is_some() {
            signed.push("digest".into());
        }
        let string = signatures::signing_string(&method.to_ascii_lowercase(), &path, &signed, |name| match name {
            "host" => Some(host.clone()),
            "date" => Some(date.clone()),
            "digest" => digest.clone(),
            _ => None,
        })
        .map_err(|e| Error::internal(e.to_string()))?;
        let signature = signatures::header_value(&self.key_id, &signed, &signatures::sign(&self.key, &string));
        let mut headers = vec![("Host", host), ("Date", date)];
        headers.extend(digest.map(|d| ("Digest", d)));
        headers.push(("Signature", signature));
        Ok(headers)
    }
}

fn fetch_error(url: &str, err: &reqwest::Error) -> Error {
    let message = crate::core::error::with_causes(err);
    if message.contains("refused addresses") {
        return refused(url);
    }
    Error::Unprocessable(format!("Could not fetch {url}: {message}"))
}

async fn read_limited(mut response: reqwest::Response, url: &str, limit: usize) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(|e| fetch_error(url, &e))? {
        body.extend_from_slice(&chunk);
        if body.len() > limit {
            return Err(Error::Unprocessable(format!("{url} sent more than {limit} bytes")));
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_is_seconds_or_a_date() -> std::result::Result<(), chrono::ParseError> {
        let now = chrono::DateTime::parse_from_rfc3339("2026-12-07T10:00:00Z")?.with_timezone(&chrono::Utc);
        assert_eq!(retry_after_seconds("120", now), Some(120));
        assert_eq!(retry_after_seconds("Mon, 07 Dec 2026 10:05:00 GMT", now), Some(300));
        assert_eq!(retry_after_seconds("Mon, 07 Dec 2026 09:00:00 GMT", now), Some(0));
        assert_eq!(retry_after_seconds("soon", now), None);
        Ok(())
    }

    #[test]
    fn private_and_special_addresses_are_refused() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "0.0.0.0",
            "100.64.0.1",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
        ] {
            assert!(!is_public(ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))), "{ip}");
        }
        for ip in ["8.8.8.8", "1.1.1.1", "2606:4700::1111"] {
            assert!(is_public(ip.parse().unwrap_or(IpAddr::from([0, 0, 0, 0]))), "{ip}");
        }
        let policy = AddressPolicy::new(vec![(IpAddr::from([127, 0, 0, 0]), 8)]);
        assert!(policy.permits(IpAddr::from([127, 0, 0, 2])));
        assert!(!policy.permits(IpAddr::from([10, 0, 0, 1])));
    }
}
