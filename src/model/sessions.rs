//! Web sign-ins: Mastodon's `session_activations`, each named by the `_session_id` cookie of
//! one browser. Mastodon signs a browser in from that cookie alone, and so does ferrodon.

use sqlx::PgPool;

use crate::core::error::Result;
use crate::core::time;

/// Sign-ins kept per user, newest first (Mastodon's `MAX_SESSION_ACTIVATIONS`).
const KEPT_PER_USER: i64 = 10;

/// The user a browser's session id belongs to.
pub async fn user_of(db: &PgPool, session_id: &str) -> Result<Option<i64>> {
    Ok(sqlx::query_scalar("SELECT user_id FROM session_activations WHERE session_id = $1")
        .bind(session_id)
        .fetch_optional(db)
        .await?)
}

/// Records a new sign-in as Mastodon does (32 hex characters) and forgets the user's oldest
/// beyond the kept number; returns the session id.
pub async fn activate(db: &PgPool, user_id: i64, user_agent: &str, ip: Option<&str>) -> Result<String> {
    let session_id = hex::encode(rand::random::<[u8; 16]>());
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO session_activations (session_id, user_id, user_agent, ip, created_at, updated_at)
         VALUES ($1, $2, $3, $4::inet, $5, $5)",
    )
    .bind(&session_id)
    .bind(user_id)
    .bind(user_agent)
    .bind(ip)
    .bind(time::now())
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM session_activations WHERE user_id = $1 AND id NOT IN
           (SELECT id FROM session_activations WHERE user_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2)",
    )
    .bind(user_id)
    .bind(KEPT_PER_USER)
    .execute(&mut *tx)
    .await?;
    tx.commit().await?;
    Ok(session_id)
}
