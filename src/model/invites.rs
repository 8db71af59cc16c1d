//! Invites: Mastodon's `invites`, codes that let someone sign up while registrations are
//! closed (and past approval, when the inviter's role allows it).

use chrono::NaiveDateTime;
use rand::seq::IndexedRandom;
use sqlx::{FromRow, PgConnection, PgPool};

use crate::core::error::Result;
use crate::core::time;

#[derive(Debug, Clone, FromRow)]
pub struct Invite {
    pub id: i64,
    pub user_id: i64,
    pub code: String,
    pub expires_at: Option<NaiveDateTime>,
    pub max_uses: Option<i32>,
    pub uses: i32,
    pub autofollow: bool,
    pub comment: Option<String>,
    pub created_at: NaiveDateTime,
}

const COLUMNS: &str = "id, user_id, code, expires_at, max_uses, uses, autofollow, comment, created_at";

/// Letters and digits, without those read alike (`0 1 I l O`), as Mastodon's codes.
const CODE_ALPHABET: &[u8] = b"23456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";

/// Eight distinct characters of the alphabet.
fn new_code() -> String {
    let mut rng = rand::rng();
    CODE_ALPHABET.choose_multiple(&mut rng, 8).map(|&c| c as char).collect()
}

pub async fn find_by_code(db: &PgPool, code: &str) -> Result<Option<Invite>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM invites WHERE code = $1")))
        .bind(code)
        .fetch_optional(db)
        .await?)
}

/// Whether `invite` may still be used: uses left, not expired, and its inviter's user
/// can still use the server (confirmed, approved, enabled, not suspended or moved).
pub async fn usable(db: &PgPool, invite: &Invite) -> Result<bool> {
    if invite.max_uses.is_some_and(|max| invite.uses >= max) || invite.expires_at.is_some_and(|at| at <= time::now()) {
        return Ok(false);
    }
    Ok(sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM users u JOIN accounts a ON a.id = u.account_id
                         WHERE u.id = $1 AND u.confirmed_at IS NOT NULL AND u.approved AND NOT u.disabled
                           AND a.suspended_at IS NULL AND a.moved_to_account_id IS NULL AND NOT a.memorial)",
    )
    .bind(invite.user_id)
    .fetch_one(db)
    .await?)
}

/// What an invite is made with.
#[derive(Debug, Default)]
pub struct NewInvite {
    pub max_uses: Option<i32>,
    pub expires_at: Option<NaiveDateTime>,
    pub autofollow: bool,
    pub comment: Option<String>,
}

pub async fn create(conn: &mut PgConnection, user_id: i64, new: &NewInvite) -> Result<Invite> {
    loop {
        let now = time::now();
        let made = sqlx::query_as::<_, Invite>(sqlx::AssertSqlSafe(format!(
            "INSERT INTO invites (user_id, code, expires_at, max_uses, autofollow, comment, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $7) ON CONFLICT (code) DO NOTHING RETURNING {COLUMNS}"
        )))
        .bind(user_id)
        .bind(new_code())
        .bind(new.expires_at)
        .bind(new.max_uses)
        .bind(new.autofollow)
        .bind(&new.comment)
        .bind(now)
        .fetch_optional(&mut *conn)
        .await?;
        if let Some(invite) = made {
            return Ok(invite);
        }
    }
}

/// Counts one sign-up against the invite (Mastodon's counter cache of `users.invite_id`);
/// false when its last use was taken meanwhile.
pub async fn count_use(conn: &mut PgConnection, invite_id: i64) -> Result<bool> {
    let counted = sqlx::query(
        "UPDATE invites SET uses = uses + 1, updated_at = $2 WHERE id = $1 AND (max_uses IS NULL OR uses < max_uses)",
    )
    .bind(invite_id)
    .bind(time::now())
    .execute(conn)
    .await?;
    Ok(counted.rows_affected() == 1)
}
