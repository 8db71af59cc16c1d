//! OAuth 2 as Mastodon runs it (Doorkeeper): registering applications, authorization codes
//! with PKCE, issuing and revoking access tokens (stored in plaintext, `model::oauth`).

use base64::Engine;
use chrono::NaiveDateTime;
use rand::RngCore;
use sha2::{Digest, Sha256};
use sqlx::{FromRow, PgPool};

use crate::core::error::{Error, Result};
use crate::core::time;
use crate::domain::events::{self, Event};
use crate::model::oauth::{Application, Scopes};

pub const OOB_REDIRECT: &str = "urn:ietf:wg:oauth:2.0:oob";
/// Authorization codes live ten minutes, as Doorkeeper's default.
const GRANT_EXPIRES_IN: i32 = 600;

/// Doorkeeper's token shape: 32 random bytes, URL-safe base64 without padding (43 chars).
pub fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub struct NewApplication<'a> {
    pub name: &'a str,
    pub redirect_uris: Vec<String>,
    pub scopes: &'a str,
    pub website: Option<&'a str>,
}

fn valid_redirect_uri(uri: &str) -> bool {
    if uri == OOB_REDIRECT {
        return true;
    }
    url::Url::parse(uri).is_ok_and(|u| u.scheme() != "javascript" && u.fragment().is_none())
}

pub async fn create_application(db: &PgPool, new: NewApplication<'_>) -> Result<Application> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(Error::validation("Application name can't be blank"));
    }
    if name.chars().count() > 60 {
        return Err(Error::validation("Application name is too long (maximum is 60 characters)"));
    }
    if new.redirect_uris.is_empty() {
        return Err(Error::validation("Redirect URI can't be blank"));
    }
    if !new.redirect_uris.iter().all(|u| valid_redirect_uri(u)) {
        return Err(Error::validation("Redirect URI must be an absolute URI."));
    }
    let scopes =
        Scopes::parse(new.scopes).ok_or_else(|| Error::validation("Scopes must be one of the supported scopes"))?;
    let website = new.website.map(str::trim).filter(|w| !w.is_empty());
    if let Some(w) = website
        && url::Url::parse(w).is_err()
    {
        return Err(Error::validation("Website is invalid"));
    }
    let app = sqlx::query_as::<_, Application>(
        "INSERT INTO oauth_applications (name, uid, secret, redirect_uri, scopes, website, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, now(), now())
         RETURNING id, name, uid, secret, redirect_uri, scopes, website",
    )
    .bind(name)
    .bind(random_token())
    .bind(random_token())
    .bind(new.redirect_uris.join("\n"))
    .bind(scopes.to_db())
    .bind(website)
    .fetch_one(db)
    .await?;
    Ok(app)
}

/// Marks the user as seen: at most once a day, as Mastodon's `UserTrackingConcern`.
/// Returns true when the user had been away longer than the active window.
pub async fn touch_user(db: &PgPool, user_id: i64, active_days: i64) -> Result<bool> {
    let returning: Option<bool> = sqlx::query_scalar(
        "UPDATE users SET last_sign_in_at = current_sign_in_at, current_sign_in_at = now() AT TIME ZONE 'UTC',
                sign_in_count = sign_in_count + 1
          WHERE id = $1 AND (current_sign_in_at IS NULL OR current_sign_in_at < (now() AT TIME ZONE 'UTC') - interval '1 day')
          RETURNING last_sign_in_at IS NULL OR last_sign_in_at < (now() AT TIME ZONE 'UTC') - make_interval(days => $2::int)",
    )
    .bind(user_id)
    .bind(active_days as i32)
    .fetch_optional(db)
    .await?;
    Ok(returning.unwrap_or(false))
}

#[derive(Debug, Clone, FromRow)]
pub struct IssuedToken {
    pub id: i64,
    pub token: String,
    pub scopes: Option<String>,
    pub created_at: NaiveDateTime,
    /// The user signed in with it (none for an app's own token).
    pub resource_owner_id: Option<i64>,
}

pub async fn issue_token(
    db: &PgPool,
    application_id: Option<i64>,
    user_id: Option<i64>,
    scopes: &Scopes,
) -> Result<IssuedToken> {
    let token = sqlx::query_as::<_, IssuedToken>(
        "INSERT INTO oauth_access_tokens (token, scopes, application_id, resource_owner_id, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING id, token, scopes, created_at, resource_owner_id",
    )
    .bind(random_token())
    .bind(scopes.to_db())
    .bind(application_id)
    .bind(user_id)
    .bind(time::now())
    .fetch_one(db)
    .await?;
    if let Some(user_id) = user_id {
        sqlx::query(
            "UPDATE users SET current_sign_in_at = now() AT TIME ZONE 'UTC', sign_in_count = sign_in_count + 1 WHERE id = $1",
        )
        .bind(user_id)
        .execute(db)
        .await?;
    }
    Ok(token)
}

/// Revokes a token; returns its id when something was revoked (so streams can be killed).
pub async fn revoke_token(db: &PgPool, application_id: i64, token: &str) -> Result<Option<i64>> {
    let owner: Option<(i64, Option<i64>)> =
        sqlx::query_as("SELECT id, application_id FROM oauth_access_tokens WHERE token = $1")
            .bind(token)
            .fetch_optional(db)
            .await?;
    match owner {
        None => Ok(None),
        Some((_, app)) if app != Some(application_id) => {
            Err(Error::Forbidden("You are not authorized to revoke this token".into()))
        }
        Some((id, _)) => {
            // The token's open streams are closed (an effect of the event).
            let mut tx = db.begin().await?;
            let revoked = sqlx::query(
                "UPDATE oauth_access_tokens SET revoked_at = now() AT TIME ZONE 'UTC' WHERE id = $1 AND revoked_at IS NULL",
            )
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if revoked > 0 {
                events::emit(&mut *tx, Event::TokenRevoked { token_id: id }).await?;
            }
            tx.commit().await?;
            Ok(Some(id))
        }
    }
}

pub struct NewGrant<'a> {
    pub application_id: i64,
    pub user_id: i64,
    pub redirect_uri: &'a str,
    pub scopes: &'a Scopes,
    pub code_challenge: Option<&'a str>,
    pub code_challenge_method: Option<&'a str>,
}

pub async fn create_grant(db: &PgPool, grant: NewGrant<'_>) -> Result<String> {
    let code = random_token();
    sqlx::query(
        "INSERT INTO oauth_access_grants (token, expires_in, redirect_uri, created_at, scopes, application_id,
                resource_owner_id, code_challenge, code_challenge_method)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(&code)
    .bind(GRANT_EXPIRES_IN)
    .bind(grant.redirect_uri)
    .bind(time::now())
    .bind(grant.scopes.to_db())
    .bind(grant.application_id)
    .bind(grant.user_id)
    .bind(grant.code_challenge)
    .bind(grant.code_challenge_method)
    .execute(db)
    .await?;
    Ok(code)
}

/// An OAuth protocol error (`{"error": "invalid_grant", "error_description": ...}`).
#[derive(Debug)]
pub struct OAuthError {
    pub status: u16,
    pub error: &'static str,
    pub description: &'static str,
}

impl OAuthError {
    pub const INVALID_GRANT: OAuthError = OAuthError {
        status: 400,
        error: "invalid_grant",
        description: "The provided authorization grant is invalid, expired, revoked, does not match the redirection URI used in the authorization request, or was issued to another client.",
    };
    pub const INVALID_CLIENT: OAuthError = OAuthError {
        status: 401,
        error: "invalid_client",
        description: "Client authentication failed due to unknown client, no client authentication included, or unsupported authentication method.",
    };
    pub const INVALID_SCOPE: OAuthError = OAuthError {
        status: 400,
        error: "invalid_scope",
        description: "The requested scope is invalid, unknown, or malformed.",
    };
    pub const UNSUPPORTED_GRANT_TYPE: OAuthError = OAuthError {
        status: 400,
        error: "unsupported_grant_type",
        description: "The authorization grant type is not supported by the authorization server.",
    };
    pub const INVALID_REQUEST: OAuthError = OAuthError {
        status: 400,
        error: "invalid_request",
        description: "The request is missing a required parameter, includes an unsupported parameter value, or is otherwise malformed.",
    };
}

#[derive(FromRow)]
struct GrantRow {
    id: i64,
    application_id: i64,
    resource_owner_id: i64,
    redirect_uri: String,
    scopes: Option<String>,
    code_challenge: Option<String>,
    code_challenge_method: Option<String>,
    expired: bool,
    revoked: bool,
}

/// Exchanges an authorization code (once) for a token, checking client, redirect URI and PKCE.
pub async fn redeem_grant(
    db: &PgPool,
    app: &Application,
    code: &str,
    redirect_uri: Option<&str>,
    code_verifier: Option<&str>,
) -> Result<std::result::Result<IssuedToken, OAuthError>> {
    let mut tx = db.begin().await?;
    let grant = sqlx::query_as::<_, GrantRow>(
        "SELECT id, application_id, resource_owner_id, redirect_uri, scopes, code_challenge, code_challenge_method,
                created_at + make_interval(secs => expires_in) < now() AT TIME ZONE 'UTC' AS expired,
                revoked_at IS NOT NULL AS revoked
           FROM oauth_access_grants WHERE token = $1 FOR UPDATE",
    )
    .bind(code)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(grant) = grant else { return Ok(Err(OAuthError::INVALID_GRANT)) };
    if grant.revoked || grant.expired || grant.application_id != app.id {
        return Ok(Err(OAuthError::INVALID_GRANT));
    }
    if redirect_uri.is_some_and(|r| r != grant.redirect_uri) {
        return Ok(Err(OAuthError::INVALID_GRANT));
    }
    if let Some(challenge) = &grant.code_challenge {
        let Some(verifier) = code_verifier else { return Ok(Err(OAuthError::INVALID_GRANT)) };
        let method = grant.code_challenge_method.as_deref().unwrap_or("S256");
        let computed = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
        if method != "S256" || &computed != challenge {
            return Ok(Err(OAuthError::INVALID_GRANT));
        }
    }
    sqlx::query("UPDATE oauth_access_grants SET revoked_at = now() AT TIME ZONE 'UTC' WHERE id = $1")
        .bind(grant.id)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    let scopes = Scopes::from_stored(grant.scopes.as_deref().unwrap_or("read"));
    Ok(Ok(issue_token(db, Some(app.id), Some(grant.resource_owner_id), &scopes).await?))
}
