//! Inboxes (`/users/:username/inbox` and the shared `/inbox`): a signed POST is verified
//! and accepted at once (202); the activity is processed later on the `ingress` queue.
//!
//! Verification follows Mastodon's `SignatureVerification`: a draft-cavage signature must
//! cover `(request-target)`, `host` and `date` with a matching `Digest`; an RFC 9421 one
//! (`Signature-Input`, `rsa-v1_5-sha256`) `@method`, `@target-uri` and a matching
//! `Content-Digest` (the digests only for POSTs: signed fetches, see `verify_fetch`,
//! have no body). Either must be recent, and the key is the actor's published key (fetched when unknown, fetched again
//! once when it does not verify, for keys that were rotated). The activity's `actor` must
//! be the signer, so a signature from one server can never act for an actor of another.

use rsa::RsaPublicKey;
use rsa::pkcs8::DecodePublicKey;
use serde_json::Value;

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::core::queue;
use crate::effects::federation::signatures::{self, MessageSignature, SignatureError, SignatureHeader};

mod activities;
use crate::domain::domain_blocks;
use crate::effects::federation::{availability, remote};

/// Why an inbox POST was refused: 401 with Mastodon's message.
fn unauthorized(err: SignatureError) -> Error {
    Error::Unauthorized(err.to_string())
}

/// What the handler passes in: the request line and headers it needs, and the raw body.
pub struct SignedRequest<'a> {
    pub method: &'a str,
    pub path_and_query: &'a str,
    pub header: &'a dyn Fn(&str) -> Option<String>,
    pub body: &'a [u8],
}

async fn key_of(state: &AppState, account_id: i64) -> Result<Option<RsaPublicKey>> {
    let pem: String = sqlx::query_scalar("SELECT public_key FROM accounts WHERE id = $1")
        .bind(account_id)
        .fetch_one(&state.db.primary)
        .await?;
    Ok(RsaPublicKey::from_public_key_pem(&pem).ok())
}

/// What a checked signature leaves to verify with the signer's key.
struct Signed {
    key_id: String,
    string: String,
    signature: Vec<u8>,
}

/// draft-cavage (`Signature`) or, when `Signature-Input` is present, RFC 9421.
fn signed_string(state: &AppState, request: &SignedRequest<'_>) -> Result<Signed> {
    let Some(input) = (request.header)("signature-input") else { return cavage(request) };
    let raw = (request.header)("signature").ok_or(SignatureError::Missing).map_err(unauthorized)?;
    let signature = MessageSignature::parse(&input, &raw).map_err(unauthorized)?;
    let post = request.method.eq_ignore_ascii_case("POST");
    signature.check_coverage(post).map_err(unauthorized)?;
    signature.check_created(chrono::Utc::now()).map_err(unauthorized)?;
    if post {
        let digest = (request.header)("content-digest")
            .ok_or(SignatureError::MissingHeader("content-digest".into()))
            .map_err(unauthorized)?;
        signatures::check_content_digest(&digest, request.body).map_err(unauthorized)?;
    }
    let host = (request.header)("host").unwrap_or_else(|| state.config.web_domain.clone());
    let scheme = if state.config.https { "https" } else { "http" };
    let (path, query) = match request.path_and_query.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (request.path_and_query, None),
    };
    let string = signature
        .base(|name| match name {
            "@method" => Some(request.method.to_ascii_uppercase()),
            "@target-uri" => Some(format!("{scheme}://{host}{}", request.path_and_query)),
            "@authority" => Some(host.to_ascii_lowercase()),
            "@scheme" => Some(scheme.to_string()),
            "@path" => Some(path.to_string()),
            "@query" => Some(format!("?{}", query.unwrap_or_default())),
            "@request-target" => Some(request.path_and_query.to_string()),
            header if !header.starts_with('@') => (request.header)(header).map(|v| v.trim().to_string()),
            _ => None,
        })
        .map_err(unauthorized)?;
    Ok(Signed { key_id: signature.key_id, string, signature: signature.signature })
}

fn cavage(request: &SignedRequest<'_>) -> Result<Signed> {
    let raw = (request.header)("signature").ok_or(SignatureError::Missing).map_err(unauthorized)?;
    let header = SignatureHeader::parse(&raw).map_err(unauthorized)?;
    signatures::check_coverage(&header).map_err(unauthorized)?;
    let date = (request.header)("date").ok_or(SignatureError::MissingHeader("date".into())).map_err(unauthorized)?;
    signatures::check_date(&date, chrono::Utc::now()).map_err(unauthorized)?;
    if request.method.eq_ignore_ascii_case("POST") || header.headers.iter().any(|h| h == "digest") {
        let digest =
            (request.header)("digest").ok_or(SignatureError::MissingHeader("digest".into())).map_err(unauthorized)?;
        signatures::check_digest(&digest, request.body).map_err(unauthorized)?;
    }
    let string = signatures::signing_string(request.method, request.path_and_query, &header.headers, |name| {
        (request.header)(name)
    })
    .map_err(unauthorized)?;
    Ok(Signed { key_id: header.key_id, string, signature: header.signature })
}

/// Checks the signature and returns the signing account's id.
pub async fn verify(state: &AppState, request: &SignedRequest<'_>) -> Result<(i64, String)> {
    let Signed { key_id, string, signature } = signed_string(state, request)?;
    let actor_uri = key_id.split('#').next().unwrap_or_default().to_string();
    let account_id = remote::account_by_uri(state, &actor_uri)
        .await
        .map_err(|e| Error::Unauthorized(format!("Could not fetch the signing key {key_id}: {e}")))?;
    let verified = match key_of(state, account_id).await? {
        Some(key) => signatures::verify(&key, &string, &signature),
        None => false,
    };
    if !verified {
        // Perhaps a rotated key: fetch the actor again, once.
        remote::fetch_actor(state, &actor_uri).await.map_err(|_| unauthorized(SignatureError::Invalid))?;
        let key = key_of(state, account_id).await?.ok_or_else(|| unauthorized(SignatureError::Invalid))?;
        if !signatures::verify(&key, &string, &signature) {
            return Err(unauthorized(SignatureError::Invalid));
        }
    }
    Ok((account_id, actor_uri))
}

/// The actor an activity claims, as a URI.
pub fn actor_of(activity: &Value) -> Option<&str> {
    match &activity["actor"] {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

/// Under `AUTHORIZED_FETCH`: the account that signed a GET of one of our ActivityPub
/// documents (401 when unsigned or badly signed, 403 for a suspended server).
pub async fn verify_fetch(state: &AppState, request: &SignedRequest<'_>) -> Result<i64> {
    let key_id = (request.header)("signature-input")
        .zip((request.header)("signature"))
        .and_then(|(input, signature)| MessageSignature::parse(&input, &signature).ok().map(|s| s.key_id))
        .or_else(|| (request.header)("signature").and_then(|s| SignatureHeader::parse(&s).ok().map(|h| h.key_id)));
    if let Some(host) = key_id.as_deref().and_then(remote::authority)
        && domain_blocks::is_suspended(state, &host).await?
    {
        return Err(Error::Forbidden("Your server is blocked".into()));
    }
    Ok(verify(state, request).await?.0)
}

/// Verifies, checks that the signer is the activity's actor, and queues the activity.
pub async fn receive(state: &AppState, request: SignedRequest<'_>) -> Result<()> {
    // A suspended server's activities are dropped unread (and its keys never fetched).
    let key_id = match ((request.header)("signature-input"), (request.header)("signature")) {
        (Some(input), Some(signature)) => MessageSignature::parse(&input, &signature).ok().map(|s| s.key_id),
        (None, Some(signature)) => SignatureHeader::parse(&signature).ok().map(|h| h.key_id),
        _ => None,
    };
    if let Some(host) = key_id.as_deref().and_then(remote::authority)
        && domain_blocks::is_suspended(state, &host).await?
    {
        return Ok(());
    }
    let (account_id, actor_uri) = verify(state, &request).await?;
    let activity: Value =
        serde_json::from_slice(request.body).map_err(|_| Error::bad_request("Error parsing the activity"))?;
    if actor_of(&activity) != Some(actor_uri.as_str()) {
        return Err(Error::Unauthorized("The activity's actor is not the signer".into()));
    }
    // A server that talks to us is reachable again.
    if let Some(host) = remote::authority(&actor_uri) {
        availability::heard_from(state, &host).await?;
    }
    queue::enqueue(&state.db.primary, &Job::Process { account_id, activity }).await
}

/// The inbox's job: an activity whose signature checked out, processed on the `ingress`
/// queue (Mastodon's ActivityPub::ProcessingWorker).
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq)]
#[serde(tag = "type")]
pub enum Job {
    Process { account_id: i64, activity: Value },
}

impl queue::Job for Job {
    const FAMILY: &'static str = "Ingress";
    fn queue(&self) -> &'static str {
        "ingress"
    }
    fn max_attempts(&self) -> i32 {
        8
    }
}

impl Job {
    pub async fn perform(self, state: &AppState) -> Result<()> {
        let Job::Process { account_id, activity } = self;
        activities::process(state, account_id, &activity).await
    }
}
