//! The one error policy: domain code returns `Error`; the HTTP layer turns it into
//! Mastodon's status code and `{"error": "..."}` body. Internal failures are logged and
//! never leak details to the client.

use actix_web::{HttpResponse, ResponseError, http::StatusCode};

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// 404: unknown records and records the viewer may not see (never reveal which).
    #[error("Record not found")]
    NotFound,
    /// 401: missing, unknown or revoked token.
    #[error("{0}")]
    Unauthorized(String),
    /// 403: outside the token's scopes, or forbidden for this account.
    #[error("{0}")]
    Forbidden(String),
    /// 422: validation failures ("Validation failed: Text can't be blank").
    #[error("{0}")]
    Unprocessable(String),
    /// 422 with Mastodon's per-attribute `details` (registration).
    #[error("{message}")]
    Invalid { message: String, details: serde_json::Value },
    /// 422: a post would mention accounts outside its `allowed_mentions` (the API answers
    /// with those accounts rendered).
    #[error("Post would be sent to unexpected accounts")]
    UnexpectedMentions(Vec<i64>),
    /// 400: malformed parameters.
    #[error("{0}")]
    BadRequest(String),
    /// 410: gone (disabled features).
    #[error("{0}")]
    Gone(String),
    #[error("Too many requests")]
    TooManyRequests,
    /// A job to run again no sooner than this (the other side asked to wait).
    #[error("{reason} (retry in {after_seconds} s)")]
    RetryLater { after_seconds: i64, reason: String },
    #[error("database error: {0}")]
    Database(sqlx::Error),
    #[error("redis error: {0}")]
    Redis(#[from] redis::RedisError),
    #[error("internal error: {0}")]
    Internal(String),
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub fn validation(message: impl std::fmt::Display) -> Self {
        Error::Unprocessable(format!("Validation failed: {message}"))
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Error::BadRequest(message.into())
    }
    /// Rails' 400 for a required parameter that is absent or blank.
    pub fn missing_param(name: &str) -> Self {
        Error::BadRequest(format!("param is missing or the value is empty: {name}"))
    }
    pub fn invalid_token() -> Self {
        Error::Unauthorized("The access token is invalid".into())
    }
    pub fn outside_scopes() -> Self {
        Error::Forbidden("This action is outside the authorized scopes".into())
    }
    pub fn user_required() -> Self {
        Error::Unprocessable("This method requires an authenticated user".into())
    }
    pub fn internal(message: impl std::fmt::Display) -> Self {
        Error::Internal(message.to_string())
    }
}

/// An error with every cause it wraps (`outer: inner: innermost`), for client libraries
/// whose top-level message says little (`service error`, `error sending request`).
pub fn with_causes(err: &dyn std::error::Error) -> String {
    let mut message = err.to_string();
    let mut source = err.source();
    while let Some(inner) = source {
        message.push_str(": ");
        message.push_str(&inner.to_string());
        source = inner.source();
    }
    message
}

impl From<sqlx::Error> for Error {
    /// A row that refers to one deleted meanwhile (a reply to, or a favourite of, a status
    /// removed by a concurrent request) is a record not found, not a server error.
    fn from(err: sqlx::Error) -> Self {
        match &err {
            sqlx::Error::Database(db) if db.code().as_deref() == Some("23503") => Error::NotFound,
            _ => Error::Database(err),
        }
    }
}

/// True when a database error is a unique-constraint violation (a concurrent duplicate).
pub fn is_unique_violation(err: &sqlx::Error) -> bool {
    matches!(err, sqlx::Error::Database(db) if db.code().as_deref() == Some("23505"))
}

impl ResponseError for Error {
    fn status_code(&self) -> StatusCode {
        match self {
            Error::NotFound => StatusCode::NOT_FOUND,
            Error::Unauthorized(_) => StatusCode::UNAUTHORIZED,
            Error::Forbidden(_) => StatusCode::FORBIDDEN,
            Error::Unprocessable(_) | Error::Invalid { .. } | Error::UnexpectedMentions(_) => {
                StatusCode::UNPROCESSABLE_ENTITY
            }
            Error::BadRequest(_) => StatusCode::BAD_REQUEST,
            Error::Gone(_) => StatusCode::GONE,
            Error::TooManyRequests => StatusCode::TOO_MANY_REQUESTS,
            Error::RetryLater { .. } => StatusCode::SERVICE_UNAVAILABLE,
            Error::Database(_) | Error::Redis(_) | Error::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        let status = self.status_code();
        let message = if status.is_server_error() {
            tracing::error!(error = %self, "request failed");
            "There was a server error".to_string()
        } else {
            self.to_string()
        };
        match self {
            Error::Invalid { details, .. } => {
                HttpResponse::build(status).json(serde_json::json!({ "error": message, "details": details }))
            }
            _ => HttpResponse::build(status).json(serde_json::json!({ "error": message })),
        }
    }
}
