//! E-mail address confirmation and password reset (Devise's confirmable and recoverable,
//! as Mastodon configures them): a confirmation link is valid for two days and its token is
//! stored as is; a reset link for six hours, and only a keyed digest of its token is stored.

use sha2::{Digest, Sha256};
use sqlx::PgPool;

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::domain::accounts;
use crate::domain::events::{self, Event};

const CONFIRM_WITHIN_DAYS: i32 = 2;
const RESET_WITHIN_HOURS: i32 = 6;

/// A fresh token: 20 URL-safe characters, like Devise's `friendly_token`.
pub fn new_token() -> String {
    use rand::Rng;
    const ALPHABET: &[u8] = b"ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz23456789-_";
    let mut rng = rand::rng();
    (0..20).map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char).collect()
}

/// What is stored of a reset token.
fn reset_digest(secret_key_base: &str, token: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(secret_key_base.as_bytes());
    hasher.update(b"\0reset_password_token\0");
    hasher.update(token.as_bytes());
    hex::encode(hasher.finalize())
}

/// Follows a confirmation link. Returns the application the user signed up with. A first
/// confirmation of an approved user lets them in ([`accounts::welcome`]).
pub async fn confirm(db: &PgPool, token: &str) -> Result<Option<i64>> {
    let mut tx = db.begin().await?;
    let confirmed: Option<(i64, i64, Option<i64>, bool, bool, bool)> = sqlx::query_as(
        "UPDATE users u SET confirmed_at = now() AT TIME ZONE 'UTC', email = COALESCE(u.unconfirmed_email, u.email),
                unconfirmed_email = NULL, confirmation_token = NULL, updated_at = now() AT TIME ZONE 'UTC'
           FROM users before
          WHERE u.confirmation_token = $1 AND NOT u.disabled AND before.id = u.id
         RETURNING u.id, u.account_id, u.created_by_application_id,
                   u.confirmation_sent_at < (now() AT TIME ZONE 'UTC') - make_interval(days => $2),
                   u.approved AND before.confirmed_at IS NULL,
                   NOT u.approved AND before.confirmed_at IS NULL",
    )
    .bind(token)
    .bind(CONFIRM_WITHIN_DAYS)
    .fetch_optional(&mut *tx)
    .await?;
    match confirmed {
        None => Err(Error::validation("Confirmation token is invalid")),
        Some((_, _, _, true, _, _)) => {
            Err(Error::validation("Email needs to be confirmed within 2 days, please request a new one"))
        }
        Some((user_id, account_id, app, false, usable_now, pending_now)) => {
            if usable_now {
                accounts::welcome_later(&mut tx, user_id).await?;
            }
            if pending_now {
                events::emit(&mut *tx, Event::AccountPending { account_id }).await?;
            }
            tx.commit().await?;
            Ok(app)
        }
    }
}

/// `POST /api/v1/emails/confirmations`: a new confirmation mail, optionally to a corrected
/// address, for the app the user signed up with while the address awaits confirmation.
pub async fn resend_confirmation(
    state: &Core,
    user_id: i64,
    application_id: Option<i64>,
    email: Option<&str>,
) -> Result<()> {
    let db = &state.db.primary;
    let (created_by, confirmed, pending): (Option<i64>, bool, bool) = sqlx::query_as(
        "SELECT created_by_application_id, confirmed_at IS NOT NULL, unconfirmed_email IS NOT NULL FROM users WHERE id = $1",
    )
    .bind(user_id)
    .fetch_one(db)
    .await?;
    if created_by.is_none() || created_by != application_id {
        return Err(Error::Forbidden(
            "This method is only available to the application the user originally signed-up with".into(),
        ));
    }
    if confirmed && !pending {
        return Err(Error::Forbidden("This method is only available while the e-mail is awaiting confirmation".into()));
    }
    if let Some(email) = email.map(str::trim).filter(|e| !e.is_empty()) {
        if !crate::domain::accounts::valid_email(email) {
            return Err(Error::validation("Email is invalid"));
        }
        let taken: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1) AND id <> $2)")
                .bind(email)
                .bind(user_id)
                .fetch_one(db)
                .await?;
        if taken {
            return Err(Error::validation("Email has already been taken"));
        }
        sqlx::query("UPDATE users SET email = $2 WHERE id = $1").bind(user_id).bind(email).execute(db).await?;
    }
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE users SET confirmation_token = $2, confirmation_sent_at = now() AT TIME ZONE 'UTC' WHERE id = $1",
    )
    .bind(user_id)
    .bind(new_token())
    .execute(&mut *tx)
    .await?;
    events::emit(&mut *tx, Event::ConfirmationRequested { user_id }).await?;
    tx.commit().await?;
    Ok(())
}

/// `POST /auth/password`: mails a reset link if the address belongs to a user. The answer
/// is the same either way, so addresses cannot be probed.
pub async fn request_password_reset(state: &Core, email: &str) -> Result<()> {
    let db = &state.db.primary;
    let token = new_token();
    let mut tx = db.begin().await?;
    let user: Option<i64> = sqlx::query_scalar(
        "UPDATE users SET reset_password_token = $2, reset_password_sent_at = now() AT TIME ZONE 'UTC'
          WHERE lower(email) = lower($1) AND NOT disabled AND confirmed_at IS NOT NULL
         RETURNING id",
    )
    .bind(email.trim())
    .bind(reset_digest(&state.config.secret_key_base, &token))
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(user_id) = user {
        events::emit(&mut *tx, Event::PasswordResetRequested { user_id, token }).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Whether a reset link is still good (the form is shown only then).
pub async fn reset_token_valid(state: &Core, token: &str) -> Result<bool> {
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users WHERE reset_password_token = $1
                          AND reset_password_sent_at > (now() AT TIME ZONE 'UTC') - make_interval(hours => $2))",
    )
    .bind(reset_digest(&state.config.secret_key_base, token))
    .bind(RESET_WITHIN_HOURS)
    .fetch_one(&state.db.primary)
    .await?)
}

/// `PUT /auth/password`: sets the new password with a valid reset token (used once).
pub async fn reset_password(state: &Core, token: &str, password: &str, confirmation: &str) -> Result<()> {
    if password != confirmation {
        return Err(Error::validation("Password confirmation doesn't match Password"));
    }
    let length = password.chars().count();
    if length < 8 {
        return Err(Error::validation("Password is too short (minimum is 8 characters)"));
    }
    if password.len() > 72 {
        return Err(Error::validation("Password is too long (maximum is 72 characters)"));
    }
    let owned = password.to_string();
    let hash = tokio::task::spawn_blocking(move || bcrypt::hash(owned, 10))
        .await
        .map_err(Error::internal)?
        .map_err(Error::internal)?;
    let changed = sqlx::query(
        "UPDATE users SET encrypted_password = $2, reset_password_token = NULL, reset_password_sent_at = NULL,
                updated_at = now() AT TIME ZONE 'UTC'
          WHERE reset_password_token = $1
            AND reset_password_sent_at > (now() AT TIME ZONE 'UTC') - make_interval(hours => $3)",
    )
    .bind(reset_digest(&state.config.secret_key_base, token))
    .bind(hash)
    .bind(RESET_WITHIN_HOURS)
    .execute(&state.db.primary)
    .await?;
    if changed.rows_affected() == 0 {
        return Err(Error::validation("Reset password token is invalid"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_fresh_and_digests_keyed() {
        let (a, b) = (new_token(), new_token());
        assert_eq!(a.len(), 20);
        assert_ne!(a, b);
        assert_ne!(reset_digest("one", &a), reset_digest("two", &a));
        assert_eq!(reset_digest("one", &a), reset_digest("one", &a));
    }
}
