//! E-mail confirmation and password reset: `/api/v1/emails/*` for apps, and the pages the
//! mailed links open (`/auth/confirmation`, `/auth/password/*`).

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use super::auth::Auth;
use super::oauth::page;
use super::params::{Params, opt_string};
use crate::AppState;
use crate::core::error::{Error, Result};
use crate::core::text::escape_html;
use crate::domain::email;

type State = web::Data<AppState>;

#[derive(Deserialize)]
pub struct ResendParams {
    #[serde(default, deserialize_with = "opt_string")]
    email: Option<String>,
}

/// `POST /api/v1/emails/confirmations`.
pub async fn resend(state: State, auth: Auth, Params(p): Params<ResendParams>) -> Result<HttpResponse> {
    auth.require_any(&["write", "write:accounts"])?;
    let viewer = auth.unconfirmed_viewer()?;
    email::resend_confirmation(&state, viewer.user_id, viewer.application_id, p.email.as_deref()).await?;
    Ok(HttpResponse::Ok().json(json!({})))
}

/// `GET /api/v1/emails/check_confirmation`: `true` once the address is confirmed.
pub async fn check(auth: Auth) -> Result<HttpResponse> {
    auth.require_any(&["read", "read:accounts"])?;
    auth.unconfirmed_viewer()?;
    Ok(HttpResponse::Ok().json(auth.token.user_confirmed == Some(true)))
}

#[derive(Deserialize)]
pub struct ConfirmParams {
    #[serde(default, deserialize_with = "opt_string")]
    confirmation_token: Option<String>,
}

fn failed(title: &str, error: &Error) -> HttpResponse {
    let mut response =
        page(title, &format!("<h1>{title}</h1><p class=\"error\">{}</p>", escape_html(&error.to_string())));
    *response.status_mut() = actix_web::http::StatusCode::UNPROCESSABLE_ENTITY;
    response
}

/// `GET /auth/confirmation?confirmation_token=…`: the link in the confirmation mail.
pub async fn confirm(state: State, Params(p): Params<ConfirmParams>) -> Result<HttpResponse> {
    let token = p.confirmation_token.unwrap_or_default();
    match email::confirm(&state.db.primary, &token).await {
        Ok(_) => Ok(page(
            "Address confirmed",
            "<h1>Address confirmed</h1><p>Your e-mail address has been confirmed. You can sign in now.</p>",
        )),
        Err(e @ Error::Unprocessable(_)) => Ok(failed("Confirmation failed", &e)),
        Err(e) => Err(e),
    }
}

#[derive(Deserialize)]
pub struct PasswordParams {
    #[serde(default)]
    user: Option<PasswordUser>,
    #[serde(default, deserialize_with = "opt_string")]
    reset_password_token: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct PasswordUser {
    #[serde(default, deserialize_with = "opt_string")]
    email: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    reset_password_token: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    password: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    password_confirmation: Option<String>,
}

const REQUEST_FORM: &str = "<h1>Forgot your password?</h1><form method=\"post\" action=\"/auth/password\">\
    <label>E-mail address<input type=\"email\" name=\"user[email]\" required></label>\
    <button>Send reset instructions</button></form>";

/// `GET /auth/password/new`.
pub async fn new_password() -> HttpResponse {
    page("Forgot your password?", REQUEST_FORM)
}

/// `GET /auth/password/edit?reset_password_token=…`: the form the reset mail links to.
pub async fn edit_password(state: State, Params(p): Params<PasswordParams>) -> Result<HttpResponse> {
    let token = p.reset_password_token.unwrap_or_default();
    if !email::reset_token_valid(&state, &token).await? {
        return Ok(failed("Reset password", &Error::validation("Reset password token is invalid")));
    }
    Ok(page(
        "Set a new password",
        &format!(
            "<h1>Set a new password</h1><form method=\"post\" action=\"/auth/password\">\
             <input type=\"hidden\" name=\"_method\" value=\"put\">\
             <input type=\"hidden\" name=\"user[reset_password_token]\" value=\"{}\">\
             <label>New password<input type=\"password\" name=\"user[password]\" minlength=\"8\" required></label>\
             <label>Confirm new password<input type=\"password\" name=\"user[password_confirmation]\" required></label>\
             <button>Change password</button></form>",
            escape_html(&token)
        ),
    ))
}

/// `POST /auth/password` asks for a reset mail; with a reset token (the form above, or
/// `PUT /auth/password`) it sets the new password.
pub async fn password(state: State, Params(p): Params<PasswordParams>) -> Result<HttpResponse> {
    let user = p.user.unwrap_or_default();
    if let Some(token) = user.reset_password_token.as_deref() {
        let password = user.password.unwrap_or_default();
        let confirmation = user.password_confirmation.unwrap_or_default();
        return match email::reset_password(&state, token, &password, &confirmation).await {
            Ok(()) => Ok(page(
                "Password changed",
                "<h1>Password changed</h1><p>Your password has been changed. You can sign in with it now.</p>",
            )),
            Err(e @ Error::Unprocessable(_)) => Ok(failed("Reset password", &e)),
            Err(e) => Err(e),
        };
    }
    let address = user.email.unwrap_or_default();
    if !address.trim().is_empty() {
        email::request_password_reset(&state, &address).await?;
    }
    Ok(page(
        "Check your inbox",
        "<h1>Check your inbox</h1><p>If your e-mail address exists in our database, you will receive a password \
         recovery link at your e-mail address in a few minutes.</p>",
    ))
}
