//! How local accounts look to other servers: WebFinger (JRD), host-meta (XRD) and the
//! ActivityPub actor (JSON-LD), as Mastodon renders them.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::core::config::Config;
use crate::core::error::{Error, Result};
use crate::core::text;
use crate::core::time::iso_midnight;
use crate::model::accounts::{self, Account};
use crate::model::media::ProfileImage;

pub const ACTIVITY_JSON: &str = "application/activity+json; charset=utf-8";

/// The username a WebFinger `resource` names on this server: `acct:user@domain` (or
/// `user@domain`) for our domain, or one of our profile/actor URLs. `Err(BadRequest)` for
/// something that is neither, `Err(NotFound)` for another server's account.
pub fn resource_username(resource: &str, config: &Config) -> Result<String> {
    let ours =
        |host: &str| host.eq_ignore_ascii_case(&config.local_domain) || host.eq_ignore_ascii_case(&config.web_domain);
    let lower = resource.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        let url = url::Url::parse(resource).map_err(|_| Error::bad_request("invalid resource"))?;
        let host = match url.port() {
            Some(port) => format!("{}:{port}", url.host_str().unwrap_or_default()),
            None => url.host_str().unwrap_or_default().to_string(),
        };
        if !ours(&host) {
            return Err(Error::NotFound);
        }
        let segments: Vec<&str> = url.path_segments().map(|s| s.collect()).unwrap_or_default();
        return match segments.as_slice() {
            ["users", name] => Ok(name.to_string()),
            [at] if at.starts_with('@') && at.len() > 1 => Ok(at[1..].to_string()),
            _ => Err(Error::NotFound),
        };
    }
    let acct = resource.strip_prefix("acct:").unwrap_or(resource);
    match acct.rsplit_once('@') {
        Some((user, host)) if !user.is_empty() && ours(host) => Ok(user.trim_start_matches('@').to_string()),
        Some(_) => Err(Error::NotFound),
        None => Err(Error::bad_request("invalid resource")),
    }
}

/// `WebfingerSerializer`.
pub fn webfinger(account: &Account, config: &Config) -> Value {
    let base = config.base_url();
    json!({
        "subject": format!("acct:{}@{}", account.username, config.local_domain),
        "aliases": [account.profile_url(config), account.actor_uri(config)],
        "links": [
            { "rel": "http://webfinger.net/rel/profile-page", "type": "text/html", "href": account.profile_url(config) },
            { "rel": "self", "type": "application/activity+json", "href": account.actor_uri(config) },
            { "rel": "http://ostatus.org/schema/1.0/subscribe", "template": format!("{base}/authorize_interaction?uri={{uri}}") },
        ],
    })
}

/// `/.well-known/host-meta`: where WebFinger lives.
pub fn host_meta(config: &Config) -> String {
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<XRD xmlns=\"http://docs.oasis-open.org/ns/xri/xrd-1.0\">\n  \
         <Link rel=\"lrdd\" template=\"{}/.well-known/webfinger?resource={{uri}}\"/>\n</XRD>\n",
        config.base_url()
    )
}

/// `ActivityPub::ActorSerializer` for a local account.
pub fn actor(account: &Account, public_key_pem: &str, config: &Config) -> Value {
    let id = account.actor_uri(config);
    let summary = if account.note.is_empty() {
        String::new()
    } else {
        text::format_plain(&account.note, &config.base_url(), &|_| None).html
    };
    let kind = account
        .actor_type
        .as_deref()
        .filter(|kind| matches!(*kind, "Service" | "Application" | "Group" | "Organization"))
        .unwrap_or("Person");
    json!({
        "@context": [
            "https://www.w3.org/ns/activitystreams",
            "https://w3id.org/security/v1",
            {
                "manuallyApprovesFollowers": "as:manuallyApprovesFollowers",
                "toot": "http://joinmastodon.org/ns#",
                "featured": { "@id": "toot:featured", "@type": "@id" },
                "featuredTags": { "@id": "toot:featuredTags", "@type": "@id" },
                "alsoKnownAs": { "@id": "as:alsoKnownAs", "@type": "@id" },
                "movedTo": { "@id": "as:movedTo", "@type": "@id" },
                "schema": "http://schema.org#",
                "PropertyValue": "schema:PropertyValue",
                "value": "schema:value",
                "discoverable": "toot:discoverable",
                "suspended": "toot:suspended",
                "memorial": "toot:memorial",
                "indexable": "toot:indexable",
            },
        ],
        "id": id,
        "type": kind,
        "following": format!("{id}/following"),
        "followers": format!("{id}/followers"),
        "inbox": format!("{id}/inbox"),
        "outbox": format!("{id}/outbox"),
        "featured": format!("{id}/collections/featured"),
        "featuredTags": format!("{id}/collections/tags"),
        "preferredUsername": account.username,
        "name": account.display_name,
        "summary": summary,
        "url": account.profile_url(config),
        "manuallyApprovesFollowers": account.locked,
        "discoverable": account.discoverable.unwrap_or(false),
        "indexable": account.indexable,
        "published": iso_midnight(&account.created_at),
        "memorial": account.memorial,
        "publicKey": { "id": format!("{id}#main-key"), "owner": id, "publicKeyPem": public_key_pem },
        "tag": [],
        "attachment": [],
        "endpoints": { "sharedInbox": format!("{}/inbox", config.base_url()) },
        "icon": image(account.id, ProfileImage::Avatar, account.avatar_file_name.as_deref(), config),
        "image": image(account.id, ProfileImage::Header, account.header_file_name.as_deref(), config),
    })
}

/// The actor's `icon` (avatar) or `image` (header), when it has one.
fn image(account_id: i64, kind: ProfileImage, file_name: Option<&str>, config: &Config) -> Value {
    let Some(name) = file_name.filter(|n| !n.is_empty()) else { return Value::Null };
    let media_type = match name.rsplit('.').next() {
        Some("png") => "image/png",
        Some("gif") => "image/gif",
        Some("webp") => "image/webp",
        _ => "image/jpeg",
    };
    json!({ "type": "Image", "mediaType": media_type, "url": config.media_url(&kind.path(account_id, name)) })
}

/// The other accounts a local account says it also is (`alsoKnownAs`): where followers
/// may move from.
pub async fn aliases(db: &PgPool, account_id: i64) -> Result<Vec<String>> {
    let aliases: Option<Vec<String>> =
        sqlx::query_scalar("SELECT also_known_as FROM accounts WHERE id = $1").bind(account_id).fetch_one(db).await?;
    Ok(aliases.unwrap_or_default())
}

/// A local account by username with its public key; suspended ones are `Gone`.
pub async fn local_actor(db: &PgPool, username: &str) -> Result<(Account, String)> {
    let account = accounts::find_local(db, username).await?.ok_or(Error::NotFound)?;
    if account.suspended_at.is_some() {
        return Err(Error::Gone("account suspended".into()));
    }
    let public_key: String =
        sqlx::query_scalar("SELECT public_key FROM accounts WHERE id = $1").bind(account.id).fetch_one(db).await?;
    Ok((account, public_key))
}
