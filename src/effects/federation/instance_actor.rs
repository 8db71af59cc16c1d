//! The instance actor (Mastodon's `Account.representative`, id -99, at `/actor`): the
//! server's own account, which signs what the server fetches and what it sends on nobody's
//! behalf (forwarded reports). Created on first use with its own key pair.

use rsa::RsaPrivateKey;
use rsa::pkcs1::DecodeRsaPrivateKey;
use serde_json::{Value, json};

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::effects::federation::http::Signer;
use crate::model::accounts::{self, Account};
use crate::render::activitypub::actors;

pub const ID: i64 = -99;
pub const PATH: &str = "/actor";

pub async fn account(state: &AppState) -> Result<Account> {
    let db = &state.db.primary;
    if let Some(actor) = accounts::find_many(db, &[ID]).await?.pop() {
        return Ok(actor);
    }
    let (private_pem, public_pem) =
        tokio::task::spawn_blocking(accounts::generate_keypair).await.map_err(Error::internal)??;
    sqlx::query(
        "INSERT INTO accounts (id, username, uri, url, actor_type, locked, private_key, public_key, created_at, updated_at)
         VALUES ($1, $2, $3, $4, 'Application', true, $5, $6, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT DO NOTHING",
    )
    .bind(ID)
    .bind(&state.config.local_domain)
    .bind(format!("{}{PATH}", state.config.base_url()))
    .bind(format!("{}/about/more?instance_actor=true", state.config.base_url()))
    .bind(private_pem)
    .bind(public_pem)
    .execute(db)
    .await?;
    accounts::find_many(db, &[ID]).await?.pop().ok_or(Error::NotFound)
}

/// `GET /actor`: the instance actor as ActivityPub JSON (no collections).
pub async fn json(state: &AppState) -> Result<Value> {
    let account = account(state).await?;
    let key: String = sqlx::query_scalar("SELECT public_key FROM accounts WHERE id = $1")
        .bind(account.id)
        .fetch_one(&state.db.primary)
        .await?;
    let mut actor = actors::actor(&account, &key, &state.config);
    if let Some(fields) = actor.as_object_mut() {
        for unused in ["following", "followers", "featured", "featuredTags"] {
            fields.remove(unused);
        }
    }
    actor["url"] = json!(account.url);
    Ok(actor)
}

/// The key a local account (or the instance actor) signs requests with.
pub async fn signer_of(state: &AppState, account: &Account) -> Result<Signer> {
    let pem: Option<String> = sqlx::query_scalar("SELECT private_key FROM accounts WHERE id = $1 AND domain IS NULL")
        .bind(account.id)
        .fetch_optional(&state.db.primary)
        .await?
        .ok_or(Error::NotFound)?;
    let key = RsaPrivateKey::from_pkcs1_pem(pem.as_deref().unwrap_or_default())
        .map_err(|e| Error::internal(format!("private key of account {}: {e}", account.id)))?;
    Ok(Signer { key_id: format!("{}#main-key", account.actor_uri(&state.config)), key })
}

/// The instance actor's signer, for fetches.
pub async fn signer(state: &AppState) -> Result<Signer> {
    signer_of(state, &account(state).await?).await
}
