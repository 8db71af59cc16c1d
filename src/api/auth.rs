//! Bearer-token authentication for API requests, and scope checks.
//! `Auth` requires a valid token; `MaybeAuth` accepts anonymous requests but still
//! rejects a token that is present and invalid, as Doorkeeper does.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpMessage, HttpRequest, web};
use futures_util::future::LocalBoxFuture;

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::domain::oauth;
use crate::model::oauth::AccessToken;

/// A request made with a valid access token.
pub struct Auth {
    pub token: AccessToken,
}

/// The signed-in account behind a user token.
#[derive(Debug, Clone, Copy)]
pub struct Viewer {
    pub account_id: i64,
    pub user_id: i64,
    pub token_id: i64,
    pub application_id: Option<i64>,
}

impl Auth {
    /// Checks that the token permits `scope` (403 otherwise).
    pub fn require(&self, scope: &str) -> Result<()> {
        if self.token.scopes().permits(scope) { Ok(()) } else { Err(Error::outside_scopes()) }
    }

    /// Like `require`, accepting any of several scopes.
    pub fn require_any(&self, scopes: &[&str]) -> Result<()> {
        let held = self.token.scopes();
        if scopes.iter().any(|s| held.permits(s)) { Ok(()) } else { Err(Error::outside_scopes()) }
    }

    /// The user behind the token, if that user may act, as Mastodon's `require_user!` decides:
    /// app-only tokens get 422; unconfirmed, unapproved, disabled, suspended, moved and
    /// memorialized users 403, in that order of reasons.
    pub fn viewer(&self) -> Result<Viewer> {
        let viewer = self.unconfirmed_viewer()?;
        let token = &self.token;
        let refusal = if token.user_confirmed == Some(false) {
            "Your login is missing a confirmed e-mail address"
        } else if token.user_approved == Some(false) {
            "Your login is currently pending approval"
        } else if token.user_disabled == Some(true)
            || token.account_suspended == Some(true)
            || token.account_retired == Some(true)
        {
            "Your login is currently disabled"
        } else {
            return Ok(viewer);
        };
        Err(Error::Forbidden(refusal.into()))
    }

    /// The user behind the token, confirmed or not (the e-mail confirmation endpoints).
    pub fn unconfirmed_viewer(&self) -> Result<Viewer> {
        match (self.token.account_id, self.token.resource_owner_id) {
            (Some(account_id), Some(user_id)) => {
                Ok(Viewer { account_id, user_id, token_id: self.token.id, application_id: self.token.application_id })
            }
            _ => Err(Error::user_required()),
        }
    }

    /// Scope check plus user: the usual preamble of an authenticated endpoint.
    pub fn user(&self, scope: &str) -> Result<Viewer> {
        self.require(scope)?;
        self.viewer()
    }
}

/// The bearer token of a request: the `Authorization` header, else `access_token` or
/// `bearer_token` in the query.
pub(super) fn bearer(req: &HttpRequest) -> Option<String> {
    if let Some(value) = req.headers().get(AUTHORIZATION).and_then(|v| v.to_str().ok()) {
        let mut parts = value.splitn(2, ' ');
        if parts.next().is_some_and(|s| s.eq_ignore_ascii_case("bearer")) {
            return parts.next().map(|t| t.trim().to_string()).filter(|t| !t.is_empty());
        }
    }
    url::form_urlencoded::parse(req.query_string().as_bytes())
        .find(|(k, _)| k == "access_token" || k == "bearer_token")
        .map(|(_, v)| v.into_owned())
        .filter(|t| !t.is_empty())
}

/// The token a request was authenticated with, looked up once per request (by the rate
/// limiter when it runs first) and kept in the request's extensions.
#[derive(Clone)]
struct Authenticated(Option<AccessToken>);

/// The live token behind the request's bearer, if it has one.
pub(super) async fn token_of(state: &AppState, req: &HttpRequest) -> Result<Option<AccessToken>> {
    if let Some(Authenticated(found)) = req.extensions().get::<Authenticated>() {
        return Ok(found.clone());
    }
    let token = match bearer(req) {
        Some(bearer) => crate::model::oauth::authenticate(&state.db.primary, &bearer).await?,
        None => None,
    };
    req.extensions_mut().insert(Authenticated(token.clone()));
    Ok(token)
}

async fn load(state: web::Data<AppState>, req: HttpRequest) -> Result<Auth> {
    let token = token_of(&state, &req).await?.ok_or_else(Error::invalid_token)?;
    if token.resource_owner_id.is_some() {
        let stale =
            token.current_sign_in_at.is_none_or(|at| crate::core::time::now() - at > chrono::Duration::hours(24));
        if let (true, Some(user_id), Some(account_id)) = (stale, token.resource_owner_id, token.account_id) {
            crate::effects::activity::record_login(&state, user_id).await?;
            if oauth::touch_user(&state.db.primary, user_id, state.config.user_active_days).await? {
                // Back after the active window: the feed was not kept up to date meanwhile.
                crate::effects::feeds::regenerate(&state, account_id).await?;
            }
        }
    }
    Ok(Auth { token })
}

fn state_of(req: &HttpRequest) -> Result<web::Data<AppState>> {
    req.app_data::<web::Data<AppState>>().cloned().ok_or_else(|| Error::internal("application state missing"))
}

impl FromRequest for Auth {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state_of(req);
        let req = req.clone();
        Box::pin(async move { load(state?, req).await })
    }
}

/// An optional token: `None` for anonymous requests.
pub struct MaybeAuth(pub Option<Auth>);

impl MaybeAuth {
    /// The viewer's account id if signed in with a user token permitting `scope`.
    pub fn viewer(&self, scope: &str) -> Result<Option<i64>> {
        match &self.0 {
            None => Ok(None),
            Some(auth) if auth.token.account_id.is_none() => Ok(None),
            Some(auth) => Ok(Some(auth.user(scope)?.account_id)),
        }
    }
}

impl FromRequest for MaybeAuth {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let state = state_of(req);
        let req = req.clone();
        Box::pin(async move {
            match bearer(&req) {
                None => Ok(MaybeAuth(None)),
                Some(_) => Ok(MaybeAuth(Some(load(state?, req).await?))),
            }
        })
    }
}
