//! OAuth endpoints: app registration, the sign-in and consent page, tokens, revocation,
//! and the server metadata document.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use base64::Engine;
use serde::Deserialize;
use serde_json::json;

use super::auth::Auth;
use super::params::{Params, opt_string, string_list};
use crate::AppState;
use crate::core::error::{Error, Result};
use crate::core::text::escape_html;
use crate::domain::accounts::{SESSION_COOKIE, SignIn, session_user, sign_in, start_session};
use crate::domain::oauth::{self, NewApplication, NewGrant, OAuthError, OOB_REDIRECT};
use crate::model::accounts;
use crate::model::oauth::Application;
use crate::model::oauth::Scopes;
use crate::render::entities;

type State = web::Data<AppState>;

#[derive(Deserialize)]
pub struct AppParams {
    #[serde(default, deserialize_with = "opt_string")]
    client_name: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    redirect_uris: Vec<String>,
    #[serde(default, deserialize_with = "opt_string")]
    scopes: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    website: Option<String>,
}

pub async fn create_app(state: State, Params(p): Params<AppParams>) -> Result<HttpResponse> {
    let redirect_uris: Vec<String> =
        p.redirect_uris.iter().flat_map(|u| u.split_whitespace()).map(str::to_string).collect();
    let app = oauth::create_application(
        &state.db.primary,
        NewApplication {
            name: p.client_name.as_deref().unwrap_or(""),
            redirect_uris,
            scopes: p.scopes.as_deref().unwrap_or("read"),
            website: p.website.as_deref(),
        },
    )
    .await?;
    Ok(HttpResponse::Ok().json(entities::application(&app, true)))
}

pub async fn verify_app(state: State, auth: Auth) -> Result<HttpResponse> {
    let app_id = auth.token.application_id.ok_or_else(Error::invalid_token)?;
    let app =
        crate::model::oauth::application_by_id(&state.db.primary, app_id).await?.ok_or_else(Error::invalid_token)?;
    Ok(HttpResponse::Ok().json(entities::application(&app, false)))
}

fn oauth_error(e: OAuthError) -> HttpResponse {
    HttpResponse::build(
        actix_web::http::StatusCode::from_u16(e.status).unwrap_or(actix_web::http::StatusCode::BAD_REQUEST),
    )
    .json(json!({ "error": e.error, "error_description": e.description }))
}

#[derive(Deserialize)]
pub struct TokenParams {
    #[serde(default, deserialize_with = "opt_string")]
    grant_type: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    client_secret: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    redirect_uri: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    code: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    code_verifier: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    scope: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    username: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    password: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    token: Option<String>,
}

/// Client credentials from HTTP Basic auth or the body.
fn client_credentials(req: &HttpRequest, p: &TokenParams) -> Option<(String, Option<String>)> {
    if let Some(basic) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b.trim()).ok())
        .and_then(|b| String::from_utf8(b).ok())
    {
        let (id, secret) = basic.split_once(':').unwrap_or((&basic, ""));
        return Some((id.to_string(), Some(secret.to_string())));
    }
    p.client_id.clone().map(|id| (id, p.client_secret.clone()))
}

/// The application, if the client id exists and the secret (when given, or required for
/// the grant) matches.
async fn authenticate_client(
    state: &AppState,
    req: &HttpRequest,
    p: &TokenParams,
    secret_required: bool,
) -> Result<Option<Application>> {
    let Some((id, secret)) = client_credentials(req, p) else { return Ok(None) };
    let Some(app) = crate::model::oauth::find_application(&state.db.primary, &id).await? else { return Ok(None) };
    match secret {
        Some(s) if s == app.secret => Ok(Some(app)),
        None if !secret_required => Ok(Some(app)),
        _ => Ok(None),
    }
}

fn requested_scopes(p: &TokenParams, app: &Application) -> std::result::Result<Scopes, OAuthError> {
    let requested = Scopes::parse(p.scope.as_deref().unwrap_or("")).ok_or(OAuthError::INVALID_SCOPE)?;
    if requested.is_subset_of(&app.scopes()) { Ok(requested) } else { Err(OAuthError::INVALID_SCOPE) }
}

pub async fn token(state: State, req: HttpRequest, Params(p): Params<TokenParams>) -> Result<HttpResponse> {
    let grant_type = p.grant_type.clone().unwrap_or_default();
    let known = matches!(grant_type.as_str(), "authorization_code" | "client_credentials")
        || (grant_type == "password" && state.config.password_grant);
    if !known {
        return Ok(oauth_error(if grant_type.is_empty() {
            OAuthError::INVALID_REQUEST
        } else {
            OAuthError::UNSUPPORTED_GRANT_TYPE
        }));
    }
    let Some(app) = authenticate_client(&state, &req, &p, grant_type != "authorization_code").await? else {
        return Ok(oauth_error(OAuthError::INVALID_CLIENT));
    };
    let issued = match grant_type.as_str() {
        "authorization_code" => {
            let Some(code) = p.code.as_deref() else { return Ok(oauth_error(OAuthError::INVALID_REQUEST)) };
            match oauth::redeem_grant(
                &state.db.primary,
                &app,
                code,
                p.redirect_uri.as_deref(),
                p.code_verifier.as_deref(),
            )
            .await?
            {
                Ok(token) => token,
                Err(e) => return Ok(oauth_error(e)),
            }
        }
        "client_credentials" => {
            let scopes = match requested_scopes(&p, &app) {
                Ok(s) => s,
                Err(e) => return Ok(oauth_error(e)),
            };
            oauth::issue_token(&state.db.primary, Some(app.id), None, &scopes).await?
        }
        _ => {
            let scopes = match requested_scopes(&p, &app) {
                Ok(s) => s,
                Err(e) => return Ok(oauth_error(e)),
            };
            let login = p.username.as_deref().unwrap_or("");
            let password = p.password.as_deref().unwrap_or("");
            // As Mastodon's password grant did: two-factor accounts get no token this way.
            let user = match sign_in(&state.db.primary, &state.config, login, password, None).await? {
                SignIn::Signed(user) => user,
                SignIn::CodeNeeded | SignIn::Refused => return Ok(oauth_error(OAuthError::INVALID_GRANT)),
            };
            oauth::issue_token(&state.db.primary, Some(app.id), Some(user.id), &scopes).await?
        }
    };
    if let Some(user_id) = issued.resource_owner_id {
        crate::effects::activity::record_login(&state, user_id).await?;
    }
    let scope = issued.scopes.clone().unwrap_or_default();
    Ok(HttpResponse::Ok().json(entities::token(&issued.token, &scope, &issued.created_at)))
}

pub async fn revoke(state: State, req: HttpRequest, Params(p): Params<TokenParams>) -> Result<HttpResponse> {
    let Some(app) = authenticate_client(&state, &req, &p, true).await? else {
        return Ok(oauth_error(OAuthError::INVALID_CLIENT));
    };
    if let Some(token) = p.token.as_deref() {
        match oauth::revoke_token(&state.db.primary, app.id, token).await {
            Ok(_) => {}
            Err(Error::Forbidden(_)) => {
                return Ok(HttpResponse::Forbidden().json(json!({
                    "error": "unauthorized_client",
                    "error_description": "You are not authorized to revoke this token",
                })));
            }
            Err(e) => return Err(e),
        }
    }
    Ok(HttpResponse::Ok().json(json!({})))
}

#[derive(Deserialize, Clone)]
pub struct AuthorizeParams {
    #[serde(default, deserialize_with = "opt_string")]
    response_type: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    client_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    redirect_uri: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    scope: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    state: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    code_challenge: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    code_challenge_method: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    username: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    password: Option<String>,
    /// The TOTP or backup code of a two-factor account (Mastodon's `user[otp_attempt]`).
    #[serde(default, deserialize_with = "opt_string")]
    otp_attempt: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    decision: Option<String>,
    /// Proves the form was served to this browser's session (when signed in by cookie).
    #[serde(default, deserialize_with = "opt_string")]
    authenticity_token: Option<String>,
}

/// The browser's web sign-in (Mastodon's or ferrodon's `_session_id` cookie): the user and
/// the session id.
async fn signed_in(state: &AppState, req: &HttpRequest) -> Result<Option<(crate::model::accounts::User, String)>> {
    let Some(cookie) = req.cookie(SESSION_COOKIE) else { return Ok(None) };
    session_user(&state.db.primary, &state.config, cookie.value()).await
}

/// The `_session_id` cookie of a new sign-in, as Mastodon sets it: a year, HttpOnly, Lax.
async fn new_session_cookie(
    state: &AppState,
    req: &HttpRequest,
    user_id: i64,
) -> Result<actix_web::cookie::Cookie<'static>> {
    let user_agent = req.headers().get(header::USER_AGENT).and_then(|v| v.to_str().ok()).unwrap_or("");
    let ip = req.peer_addr().map(|a| a.ip().to_string());
    let (value, expires) = start_session(&state.db.primary, &state.config, user_id, user_agent, ip.as_deref()).await?;
    let expires =
        actix_web::cookie::time::OffsetDateTime::from_unix_timestamp(expires.timestamp()).map_err(Error::internal)?;
    Ok(actix_web::cookie::Cookie::build(SESSION_COOKIE, value)
        .path("/")
        .expires(expires)
        .http_only(true)
        .secure(state.config.https)
        .same_site(actix_web::cookie::SameSite::Lax)
        .finish())
}

pub(super) fn page(title: &str, body: &str) -> HttpResponse {
    HttpResponse::Ok().content_type("text/html; charset=utf-8").body(format!(
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width\">\
         <title>{} - ferrodon</title><style>body{{font-family:sans-serif;max-width:28em;margin:3em auto;padding:0 1em}}\
         input,button{{font-size:1em;margin:.3em 0;padding:.4em;width:100%;box-sizing:border-box}}\
         .error{{color:#b00}}code{{font-size:1.2em;word-break:break-all}}</style></head><body>{body}</body></html>",
        escape_html(title)
    ))
}

fn error_page(message: &str) -> HttpResponse {
    let mut response = page(
        "Authorization error",
        &format!("<h1>Authorization error</h1><p class=\"error\">{}</p>", escape_html(message)),
    );
    *response.status_mut() = actix_web::http::StatusCode::BAD_REQUEST;
    response
}

/// Validates client, redirect URI, response type, scopes and PKCE method.
async fn check_request(
    state: &AppState,
    p: &AuthorizeParams,
) -> Result<std::result::Result<(Application, String, Scopes), String>> {
    let Some(app) =
        crate::model::oauth::find_application(&state.db.primary, p.client_id.as_deref().unwrap_or("")).await?
    else {
        return Ok(Err("Client authentication failed due to unknown client.".into()));
    };
    let redirect = match p.redirect_uri.as_deref() {
        Some(r) => r.to_string(),
        None if app.redirect_uris().len() == 1 => app.redirect_uris()[0].to_string(),
        None => return Ok(Err("The redirect URI is missing.".into())),
    };
    if !app.redirect_uris().contains(&redirect.as_str()) {
        return Ok(Err("The redirect URI included is not valid.".into()));
    }
    if p.response_type.as_deref() != Some("code") {
        return Ok(Err("The authorization server does not support this response type.".into()));
    }
    let Some(scopes) = Scopes::parse(p.scope.as_deref().unwrap_or("")).filter(|s| s.is_subset_of(&app.scopes())) else {
        return Ok(Err("The requested scope is invalid, unknown, or malformed.".into()));
    };
    if p.code_challenge.is_some() && p.code_challenge_method.as_deref().unwrap_or("S256") != "S256" {
        return Ok(Err("The code challenge method must be S256.".into()));
    }
    Ok(Ok((app, redirect, scopes)))
}

/// Who fills in the consent form: someone to sign in (with a code field for two-factor
/// accounts), or a browser already signed in (with its form token).
enum Signer<'a> {
    Password { ask_code: bool },
    Session { email: &'a str, form_token: String },
}

fn consent_form(
    p: &AuthorizeParams,
    app: &Application,
    redirect: &str,
    scopes: &Scopes,
    error: Option<&str>,
    signer: Signer<'_>,
) -> HttpResponse {
    let form_token = match &signer {
        Signer::Session { form_token, .. } => Some(form_token.as_str()),
        Signer::Password { .. } => None,
    };
    let hidden = [
        ("response_type", Some("code")),
        ("client_id", Some(app.uid.as_str())),
        ("redirect_uri", Some(redirect)),
        ("scope", Some(&*scopes.to_db())),
        ("state", p.state.as_deref()),
        ("code_challenge", p.code_challenge.as_deref()),
        ("code_challenge_method", p.code_challenge_method.as_deref()),
        ("authenticity_token", form_token),
    ]
    .iter()
    .filter_map(|(name, value)| {
        value.map(|v| format!("<input type=\"hidden\" name=\"{name}\" value=\"{}\">", escape_html(v)))
    })
    .collect::<String>();
    let scope_list: String = scopes.as_slice().iter().map(|s| format!("<li>{}</li>", escape_html(s))).collect();
    let error = error.map(|e| format!("<p class=\"error\">{}</p>", escape_html(e))).unwrap_or_default();
    let credentials = match signer {
        Signer::Session { email, .. } => format!("<p>Signed in as {}</p>", escape_html(email)),
        Signer::Password { ask_code } => {
            // The code is asked once the password showed the account has two-factor sign-in.
            let code_field = if ask_code {
                "<label>Two-factor code<input type=\"text\" name=\"otp_attempt\" autocomplete=\"one-time-code\" \
                 inputmode=\"numeric\" required></label>"
            } else {
                ""
            };
            format!(
                "<label>E-mail or username<input type=\"text\" name=\"username\" autocomplete=\"username\" required></label>\
                 <label>Password<input type=\"password\" name=\"password\" autocomplete=\"current-password\" required></label>\
                 {code_field}"
            )
        }
    };
    page(
        "Authorize",
        &format!(
            "<h1>Authorize {}</h1><p>This application asks for:</p><ul>{scope_list}</ul>{error}\
             <form method=\"post\" action=\"/oauth/authorize\">{hidden}{credentials}\
             <button type=\"submit\" name=\"decision\" value=\"approve\">Authorize</button>\
             <button type=\"submit\" name=\"decision\" value=\"deny\" formnovalidate>Deny</button></form>",
            escape_html(&app.name)
        ),
    )
}

/// `GET /oauth/authorize`: the sign-in and consent page.
pub async fn authorize_page(
    state: State,
    req: HttpRequest,
    Params(p): Params<AuthorizeParams>,
) -> Result<HttpResponse> {
    let (app, redirect, scopes) = match check_request(&state, &p).await? {
        Err(message) => return Ok(error_page(&message)),
        Ok(checked) => checked,
    };
    let signer = match signed_in(&state, &req).await? {
        Some((user, session_id)) => {
            let form_token = state.config.signed_cookies.form_token(&session_id);
            return Ok(consent_form(
                &p,
                &app,
                &redirect,
                &scopes,
                None,
                Signer::Session { email: &user.email, form_token },
            ));
        }
        None => Signer::Password { ask_code: false },
    };
    Ok(consent_form(&p, &app, &redirect, &scopes, None, signer))
}

fn redirect_with(redirect: &str, pairs: &[(&str, Option<&str>)]) -> HttpResponse {
    let mut url = match url::Url::parse(redirect) {
        Ok(u) => u,
        Err(_) => return error_page("The redirect URI included is not valid."),
    };
    {
        let mut query = url.query_pairs_mut();
        for (k, v) in pairs {
            if let Some(v) = v {
                query.append_pair(k, v);
            }
        }
    }
    HttpResponse::Found().insert_header((header::LOCATION, url.to_string())).finish()
}

/// `POST /oauth/authorize`: checks the password and issues the code.
pub async fn authorize(state: State, req: HttpRequest, Params(p): Params<AuthorizeParams>) -> Result<HttpResponse> {
    let (app, redirect, scopes) = match check_request(&state, &p).await? {
        Err(message) => return Ok(error_page(&message)),
        Ok(checked) => checked,
    };
    if p.decision.as_deref() == Some("deny") {
        if redirect == OOB_REDIRECT {
            return Ok(page("Denied", "<h1>Authorization denied</h1>"));
        }
        return Ok(redirect_with(&redirect, &[("error", Some("access_denied")), ("state", p.state.as_deref())]));
    }
    let refused = |message: &str, ask_code: bool| {
        let mut response = consent_form(&p, &app, &redirect, &scopes, Some(message), Signer::Password { ask_code });
        *response.status_mut() = actix_web::http::StatusCode::UNAUTHORIZED;
        response
    };
    // A browser signed in already approves with the form it was given; anyone else signs in.
    let session = match (signed_in(&state, &req).await?, p.authenticity_token.as_deref()) {
        (Some((user, session_id)), Some(token))
            if state.config.signed_cookies.form_token_matches(&session_id, token) =>
        {
            Some(user)
        }
        _ => None,
    };
    let (user, cookie) = match session {
        Some(user) => (user, None),
        None => {
            let login = p.username.as_deref().unwrap_or("");
            let password = p.password.as_deref().unwrap_or("");
            let user =
                match sign_in(&state.db.primary, &state.config, login, password, p.otp_attempt.as_deref()).await? {
                    SignIn::Signed(user) => *user,
                    SignIn::CodeNeeded => {
                        return Ok(refused("Enter the two-factor code from your app, or a recovery code.", true));
                    }
                    SignIn::Refused if p.otp_attempt.is_some() => {
                        return Ok(refused("Invalid two-factor authentication code.", true));
                    }
                    SignIn::Refused => return Ok(refused("Invalid e-mail or password.", false)),
                };
            let cookie = new_session_cookie(&state, &req, user.id).await?;
            (user, Some(cookie))
        }
    };
    let code = oauth::create_grant(
        &state.db.primary,
        NewGrant {
            application_id: app.id,
            user_id: user.id,
            redirect_uri: &redirect,
            scopes: &scopes,
            code_challenge: p.code_challenge.as_deref(),
            code_challenge_method: p
                .code_challenge
                .as_ref()
                .map(|_| p.code_challenge_method.as_deref().unwrap_or("S256")),
        },
    )
    .await?;
    let mut response = if redirect == OOB_REDIRECT {
        page(
            "Authorization code",
            &format!(
                "<h1>Authorization code</h1><p>Copy this code and paste it into the application:</p>\
                 <p><code id=\"authorization-code\">{}</code></p>",
                escape_html(&code)
            ),
        )
    } else {
        redirect_with(&redirect, &[("code", Some(&code)), ("state", p.state.as_deref())])
    };
    if let Some(cookie) = cookie {
        response.add_cookie(&cookie).map_err(Error::internal)?;
    }
    Ok(response)
}

/// RFC 8414 metadata, listing exactly the grants this server accepts.
pub async fn server_metadata(state: State) -> HttpResponse {
    let base = state.config.base_url();
    let mut grants = vec!["authorization_code", "client_credentials"];
    if state.config.password_grant {
        grants.push("password");
    }
    HttpResponse::Ok().json(json!({
        "issuer": format!("{base}/"),
        "service_documentation": "https://docs.joinmastodon.org/",
        "authorization_endpoint": format!("{base}/oauth/authorize"),
        "token_endpoint": format!("{base}/oauth/token"),
        "app_registration_endpoint": format!("{base}/api/v1/apps"),
        "revocation_endpoint": format!("{base}/oauth/revoke"),
        "userinfo_endpoint": format!("{base}/oauth/userinfo"),
        "scopes_supported": crate::model::oauth::scopes::ALL,
        "response_types_supported": ["code"],
        "response_modes_supported": ["query", "fragment", "form_post"],
        "code_challenge_methods_supported": ["S256"],
        "grant_types_supported": grants,
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
    }))
}

/// `GET /oauth/userinfo` (OpenID Connect): who the token belongs to.
pub async fn userinfo(state: State, auth: Auth) -> Result<HttpResponse> {
    auth.require_any(&["profile", "read:accounts"])?;
    let viewer = auth.viewer()?;
    let account = accounts::get(&state.db.primary, viewer.account_id).await?;
    let rendered = entities::account(&account, &state.config);
    Ok(HttpResponse::Ok().json(json!({
        "iss": format!("{}/", state.config.base_url()),
        "sub": rendered["uri"],
        "name": account.display_name,
        "preferred_username": account.username,
        "profile": rendered["url"],
        "picture": rendered["avatar"],
    })))
}
