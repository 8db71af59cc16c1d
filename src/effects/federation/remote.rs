//! Accounts of other servers: found by WebFinger (`user@domain`) or by actor URI, fetched
//! as ActivityPub actors and kept in `accounts` with their domain, inbox and public key
//! (Mastodon's ResolveAccountService and ActivityPub::ProcessAccountService).

use serde_json::Value;

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::core::queue;
use crate::domain::domain_blocks;
use crate::effects::federation::sanitize;
use crate::model::accounts::{self, Account};
use crate::render::activitypub::actors::ACTIVITY_JSON;

/// Remote profiles are fetched again after a day.
const REFRESH_AFTER_HOURS: i64 = 24;

/// `authority` (host with a non-default port) of a URL: the domain accounts are filed under.
pub fn authority(url: &str) -> Option<String> {
    let parsed = url::Url::parse(url).ok()?;
    let host = parsed.host_str()?.to_ascii_lowercase();
    Some(match parsed.port() {
        Some(port) => format!("{host}:{port}"),
        None => host,
    })
}

fn string_or_id(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Object(o) => o.get("id").and_then(Value::as_str).map(str::to_string),
        _ => None,
    }
}

/// Resolves `user@domain` (a leading `@` is fine) to an account, fetching it when unknown
/// or stale. Local handles return the local account.
pub async fn resolve_acct(state: &AppState, acct: &str) -> Result<Account> {
    let acct = acct.trim().trim_start_matches('@');
    let (username, domain) = acct.split_once('@').ok_or(Error::NotFound)?;
    let domain = domain.to_ascii_lowercase();
    if domain == state.config.local_domain.to_ascii_lowercase()
        || domain == state.config.web_domain.to_ascii_lowercase()
    {
        return accounts::find_local(&state.db.primary, username).await?.ok_or(Error::NotFound);
    }
    domain_blocks::ensure_not_suspended(state, &domain).await?;
    let known: Option<(i64, bool)> = sqlx::query_as(
        "SELECT id, last_webfingered_at > (now() AT TIME ZONE 'UTC') - make_interval(hours => $3)
           FROM accounts WHERE lower(username) = lower($1) AND lower(domain) = $2",
    )
    .bind(username)
    .bind(&domain)
    .bind(REFRESH_AFTER_HOURS as i32)
    .fetch_optional(&state.db.primary)
    .await?;
    if let Some((id, true)) = known {
        return accounts::get(&state.db.primary, id).await;
    }
    // Development instances without TLS federate over plain HTTP.
    let scheme = if state.config.https { "https" } else { "http" };
    let url = format!("{scheme}://{domain}/.well-known/webfinger?resource=acct:{username}@{domain}");
    let jrd = state.http.get_json(&url, "application/jrd+json, application/json").await?;
    let actor_uri = jrd["links"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|l| {
            l["rel"] == "self"
                && l["type"].as_str().is_some_and(|t| t.contains("activity+json") || t.contains("ld+json"))
        })
        .and_then(|l| l["href"].as_str())
        .ok_or_else(|| Error::Unprocessable(format!("{acct} has no ActivityPub actor")))?
        .to_string();
    let id = fetch_actor(state, &actor_uri).await?;
    sqlx::query("UPDATE accounts SET last_webfingered_at = now() AT TIME ZONE 'UTC' WHERE id = $1")
        .bind(id)
        .execute(&state.db.primary)
        .await?;
    accounts::get(&state.db.primary, id).await
}

/// The account of an actor URI: known ones from the database, others fetched.
pub async fn account_by_uri(state: &AppState, uri: &str) -> Result<i64> {
    let known: Option<i64> = sqlx::query_scalar("SELECT id FROM accounts WHERE uri = $1 AND domain IS NOT NULL")
        .bind(uri)
        .fetch_optional(&state.db.primary)
        .await?;
    match known {
        Some(id) => Ok(id),
        None => fetch_actor(state, uri).await,
    }
}

/// Fetches an actor document and stores (or updates) its account. The document must be
/// served from the host its `id` names.
pub async fn fetch_actor(state: &AppState, uri: &str) -> Result<i64> {
    domain_blocks::ensure_not_suspended(state, &authority(uri).unwrap_or_default()).await?;
    let actor = fetch_object(state, uri).await?;
    let id = actor["id"].as_str().ok_or_else(|| Error::Unprocessable(format!("{uri}: actor without id")))?;
    let domain = authority(id).ok_or_else(|| Error::Unprocessable(format!("{uri}: bad actor id")))?;
    if authority(uri).as_deref() != Some(domain.as_str()) {
        return Err(Error::Unprocessable(format!("{uri}: actor id {id} is on another host")));
    }
    if domain == state.config.local_domain.to_ascii_lowercase() {
        return Err(Error::Unprocessable(format!("{uri} is a local actor")));
    }
    let kind = actor["type"].as_str().unwrap_or_default();
    if !matches!(kind, "Person" | "Service" | "Application" | "Group" | "Organization") {
        return Err(Error::Unprocessable(format!("{uri} is not an actor ({kind})")));
    }
    let username = actor["preferredUsername"]
        .as_str()
        .filter(|u| !u.is_empty())
        .ok_or_else(|| Error::Unprocessable(format!("{uri}: actor without preferredUsername")))?;
    let inbox = actor["inbox"].as_str().ok_or_else(|| Error::Unprocessable(format!("{uri}: actor without inbox")))?;
    let key = &actor["publicKey"];
    let public_key = key["publicKeyPem"].as_str().unwrap_or_default();
    if string_or_id(&key["owner"]).is_some_and(|owner| owner != id) {
        return Err(Error::Unprocessable(format!("{uri}: public key of another actor")));
    }
    let same_host = |field: &Value| string_or_id(field).filter(|u| authority(u).as_deref() == Some(domain.as_str()));
    let shared_inbox = same_host(&actor["endpoints"]["sharedInbox"]).unwrap_or_default();
    let url = match &actor["url"] {
        Value::String(s) => Some(s.clone()),
        Value::Array(items) => items.iter().find_map(string_or_id),
        other => string_or_id(other),
    };
    let icon = |field: &str| match &actor[field] {
        Value::Object(o) => o.get("url").and_then(Value::as_str).map(str::to_string),
        Value::String(s) => Some(s.clone()),
        _ => None,
    };
    let also_known_as: Vec<String> = match &actor["alsoKnownAs"] {
        Value::Array(items) => items.iter().filter_map(string_or_id).collect(),
        other => string_or_id(other).into_iter().collect(),
    };
    let images_before: Option<(Option<String>, String)> = sqlx::query_as(
        "SELECT avatar_remote_url, header_remote_url FROM accounts
          WHERE lower(username) = lower($1) AND lower(domain) = lower($2)",
    )
    .bind(username)
    .bind(&domain)
    .fetch_optional(&state.db.primary)
    .await?;
    let images_now = (icon("icon"), icon("image").unwrap_or_default());
    let account_id: i64 = sqlx::query_scalar(
        "INSERT INTO accounts (username, domain, uri, url, display_name, note, locked, actor_type, inbox_url,
                outbox_url, shared_inbox_url, followers_url, following_url, public_key, discoverable, indexable,
                avatar_remote_url, header_remote_url, also_known_as, featured_collection_url,
                created_at, updated_at, last_webfingered_at, protocol)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20,
                 now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC', 1)
         ON CONFLICT (lower(username::text), COALESCE(lower(domain::text), '')) DO UPDATE
            SET uri = EXCLUDED.uri, url = EXCLUDED.url, display_name = EXCLUDED.display_name, note = EXCLUDED.note,
                locked = EXCLUDED.locked, actor_type = EXCLUDED.actor_type, inbox_url = EXCLUDED.inbox_url,
                outbox_url = EXCLUDED.outbox_url, shared_inbox_url = EXCLUDED.shared_inbox_url,
                followers_url = EXCLUDED.followers_url, following_url = EXCLUDED.following_url,
                public_key = EXCLUDED.public_key, discoverable = EXCLUDED.discoverable,
                indexable = EXCLUDED.indexable, avatar_remote_url = EXCLUDED.avatar_remote_url,
                header_remote_url = EXCLUDED.header_remote_url, also_known_as = EXCLUDED.also_known_as,
                featured_collection_url = EXCLUDED.featured_collection_url, updated_at = EXCLUDED.updated_at,
                last_webfingered_at = EXCLUDED.last_webfingered_at, protocol = 1
         RETURNING id",
    )
    .bind(username)
    .bind(&domain)
    .bind(id)
    .bind(url)
    .bind(actor["name"].as_str().unwrap_or_default())
    .bind(sanitize::html(actor["summary"].as_str().unwrap_or_default()))
    .bind(actor["manuallyApprovesFollowers"].as_bool().unwrap_or(false))
    .bind(kind)
    .bind(inbox)
    .bind(actor["outbox"].as_str().unwrap_or_default())
    .bind(shared_inbox)
    .bind(actor["followers"].as_str().unwrap_or_default())
    .bind(actor["following"].as_str().unwrap_or_default())
    .bind(public_key)
    .bind(actor["discoverable"].as_bool())
    .bind(actor["indexable"].as_bool().unwrap_or(false))
    .bind(&images_now.0)
    .bind(&images_now.1)
    .bind(also_known_as)
    .bind(same_host(&actor["featured"]))
    .fetch_one(&state.db.primary)
    .await?;
    crate::effects::search::index_later(
        state,
        &state.db.primary,
        crate::effects::search::meili::Kind::Account,
        account_id,
    )
    .await?;
    // New (or changed) images are copied on `pull`, as Mastodon keeps its own copies.
    let had_images = images_before.as_ref().is_some_and(|(avatar, header)| avatar.is_some() || !header.is_empty());
    let has_images = images_now.0.is_some() || !images_now.1.is_empty();
    if images_before.as_ref() != Some(&images_now) && (had_images || has_images) {
        queue::enqueue(&state.db.primary, &crate::effects::media::Job::FetchProfileImages { account_id }).await?;
    }
    if domain_blocks::severity(state, &domain).await? == Some(domain_blocks::Severity::Silence) {
        sqlx::query("UPDATE accounts SET silenced_at = COALESCE(silenced_at, now() AT TIME ZONE 'UTC') WHERE id = $1")
            .bind(account_id)
            .execute(&state.db.primary)
            .await?;
    }
    sqlx::query(
        "INSERT INTO account_stats (account_id, created_at, updated_at)
         VALUES ($1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') ON CONFLICT (account_id) DO NOTHING",
    )
    .bind(account_id)
    .execute(&state.db.primary)
    .await?;
    Ok(account_id)
}

/// GETs an ActivityPub object, the request signed by the instance actor (servers in
/// secure mode answer only signed fetches).
pub async fn fetch_object(state: &AppState, url: &str) -> Result<Value> {
    let signer = crate::effects::federation::instance_actor::signer(state).await?;
    state.http.get_signed_json(url, &format!("{ACTIVITY_JSON}, application/ld+json"), &signer).await
}

/// What a URL given to search stands for once fetched.
pub enum Resolved {
    Account(i64),
    Status(i64),
}

/// `resolve=true` with a URL: fetches the object and stores it (an actor as an account, a
/// note as a status of its author, who is fetched too). The object must come from the host
/// its id names.
pub async fn resolve_url(state: &AppState, url: &str) -> Result<Option<Resolved>> {
    domain_blocks::ensure_not_suspended(state, &authority(url).unwrap_or_default()).await?;
    let object = fetch_object(state, url).await?;
    let id = object["id"].as_str().unwrap_or_default();
    if authority(id).is_none() || authority(id) != authority(url) {
        return Err(Error::Unprocessable(format!("{url}: object id {id} is on another host")));
    }
    match object["type"].as_str().unwrap_or_default() {
        "Person" | "Service" | "Application" | "Group" | "Organization" => {
            Ok(Some(Resolved::Account(fetch_actor(state, id).await?)))
        }
        "Note" | "Question" | "Article" => {
            let author_uri = string_or_id(&object["attributedTo"]).unwrap_or_default();
            let author = accounts::get(&state.db.primary, account_by_uri(state, &author_uri).await?).await?;
            let known: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM statuses WHERE uri = $1)")
                .bind(id)
                .fetch_one(&state.db.primary)
                .await?;
            let status = crate::effects::federation::notes::store_note(state, &author, &object).await?;
            if let (Some(status_id), false) = (status, known) {
                crate::effects::federation::threads::queue_fetch(state, status_id, &object).await?;
            }
            Ok(status.map(Resolved::Status))
        }
        _ => Ok(None),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn authority_keeps_non_default_ports() {
        assert_eq!(authority("https://Example.com/users/a").as_deref(), Some("example.com"));
        assert_eq!(authority("http://127.0.0.2:3001/users/a").as_deref(), Some("127.0.0.2:3001"));
        assert_eq!(authority("https://example.com:443/x").as_deref(), Some("example.com"));
        assert_eq!(authority("not a url"), None);
    }
}
