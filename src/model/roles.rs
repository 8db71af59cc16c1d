//! Staff roles: Mastodon's `user_roles`, with its permission bits and position rules. A user
//! without a role (`users.role_id` NULL) has the `everyone` role (id -99).

use sqlx::{FromRow, PgPool};

use crate::core::error::Result;

/// Mastodon's permission bits (`UserRole::FLAGS`).
pub mod permission {
    pub const ADMINISTRATOR: i64 = 1 << 0;
    pub const VIEW_DEVOPS: i64 = 1 << 1;
    pub const VIEW_AUDIT_LOG: i64 = 1 << 2;
    pub const VIEW_DASHBOARD: i64 = 1 << 3;
    pub const MANAGE_REPORTS: i64 = 1 << 4;
    pub const MANAGE_FEDERATION: i64 = 1 << 5;
    pub const MANAGE_SETTINGS: i64 = 1 << 6;
    pub const MANAGE_BLOCKS: i64 = 1 << 7;
    pub const MANAGE_TAXONOMIES: i64 = 1 << 8;
    pub const MANAGE_APPEALS: i64 = 1 << 9;
    pub const MANAGE_USERS: i64 = 1 << 10;
    pub const MANAGE_INVITES: i64 = 1 << 11;
    pub const MANAGE_RULES: i64 = 1 << 12;
    pub const MANAGE_ANNOUNCEMENTS: i64 = 1 << 13;
    pub const MANAGE_CUSTOM_EMOJIS: i64 = 1 << 14;
    pub const MANAGE_WEBHOOKS: i64 = 1 << 15;
    pub const INVITE_USERS: i64 = 1 << 16;
    pub const MANAGE_ROLES: i64 = 1 << 17;
    pub const MANAGE_USER_ACCESS: i64 = 1 << 18;
    pub const DELETE_USER_DATA: i64 = 1 << 19;
    pub const VIEW_FEEDS: i64 = 1 << 20;
    pub const INVITE_BYPASS_APPROVAL: i64 = 1 << 21;
    pub const MANAGE_EMAIL_SUBSCRIPTIONS: i64 = 1 << 22;
    /// Every bit Mastodon knows.
    pub const ALL: i64 = (1 << 23) - 1;
}

/// The id of the `everyone` role.
pub const EVERYONE_ID: i64 = -99;

#[derive(Debug, Clone, FromRow, PartialEq, Eq)]
pub struct Role {
    pub id: i64,
    pub name: String,
    pub color: String,
    pub position: i32,
    pub permissions: i64,
    pub highlighted: bool,
}

impl Role {
    /// `everyone` as Mastodon makes it when the row is missing: may invite, nothing more.
    fn default_everyone() -> Role {
        Role {
            id: EVERYONE_ID,
            name: String::new(),
            color: String::new(),
            position: -1,
            permissions: permission::INVITE_USERS,
            highlighted: false,
        }
    }

    /// The bits in effect (`computed_permissions`): everyone's plus the role's own, every bit
    /// for administrators.
    pub fn computed_permissions(&self, everyone: &Role) -> i64 {
        if self.id == EVERYONE_ID {
            return self.permissions;
        }
        let own = everyone.permissions | self.permissions;
        if own & permission::ADMINISTRATOR != 0 { permission::ALL } else { own }
    }

    /// Whether this role ranks above `other` (equal positions do not).
    pub fn overrides(&self, other: &Role) -> bool {
        self.position > other.position
    }
}

const COLUMNS: &str = "id, name, color, position, permissions, highlighted";

pub async fn everyone(db: &PgPool) -> Result<Role> {
    let found =
        sqlx::query_as::<_, Role>(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM user_roles WHERE id = $1")))
            .bind(EVERYONE_ID)
            .fetch_optional(db)
            .await?;
    Ok(found.unwrap_or_else(Role::default_everyone))
}

/// The role of a user: the one assigned, else `everyone`.
pub async fn of_user(db: &PgPool, user_id: i64) -> Result<Role> {
    let assigned = sqlx::query_as::<_, Role>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM user_roles WHERE id = (SELECT role_id FROM users WHERE id = $1)"
    )))
    .bind(user_id)
    .fetch_optional(db)
    .await?;
    match assigned {
        Some(role) => Ok(role),
        None => everyone(db).await,
    }
}

/// The permission bits in effect for a user.
pub async fn permissions_of(db: &PgPool, user_id: i64) -> Result<i64> {
    Ok(of_user(db, user_id).await?.computed_permissions(&everyone(db).await?))
}

/// The accounts of the users whose permissions include `needed` (administrators have them
/// all): whom staff notifications go to.
pub async fn accounts_permitted(conn: &mut sqlx::PgConnection, needed: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT u.account_id FROM users u LEFT JOIN user_roles r ON r.id = u.role_id
          WHERE ((COALESCE(r.permissions, 0) | COALESCE((SELECT permissions FROM user_roles WHERE id = $2), 0))
                 & ($1 | 1)) <> 0
          ORDER BY u.id",
    )
    .bind(needed)
    .bind(EVERYONE_ID)
    .fetch_all(conn)
    .await?)
}

/// The assigned roles of several users (those without one are left out: they have `everyone`).
pub async fn of_users(db: &PgPool, user_ids: &[i64]) -> Result<std::collections::HashMap<i64, Role>> {
    let rows: Vec<(i64, i64, String, String, i32, i64, bool)> = sqlx::query_as(
        "SELECT u.id, r.id, r.name, r.color, r.position, r.permissions, r.highlighted
           FROM users u JOIN user_roles r ON r.id = u.role_id WHERE u.id = ANY($1)",
    )
    .bind(user_ids)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(user, id, name, color, position, permissions, highlighted)| {
            (user, Role { id, name, color, position, permissions, highlighted })
        })
        .collect())
}

/// A role by its name, case-insensitively.
pub async fn find_by_name(db: &PgPool, name: &str) -> Result<Option<Role>> {
    Ok(sqlx::query_as::<_, Role>(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM user_roles WHERE lower(name) = lower($1) AND id <> $2 ORDER BY id LIMIT 1"
    )))
    .bind(name)
    .bind(EVERYONE_ID)
    .fetch_optional(db)
    .await?)
}

/// Gives a user a role; `everyone` is stored as no role, as Mastodon does.
pub async fn assign(db: &PgPool, user_id: i64, role: &Role) -> Result<()> {
    let role_id = (role.id != EVERYONE_ID).then_some(role.id);
    sqlx::query("UPDATE users SET role_id = $2, updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1")
        .bind(user_id)
        .bind(role_id)
        .execute(db)
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn role(id: i64, position: i32, permissions: i64) -> Role {
        Role { id, name: String::new(), color: String::new(), position, permissions, highlighted: true }
    }

    #[test]
    fn permissions_and_positions_follow_mastodon() {
        let everyone = Role::default_everyone();
        let owner = role(1, 1000, permission::ADMINISTRATOR);
        let moderator = role(3, 10, 1_049_884);
        assert_eq!(owner.computed_permissions(&everyone), permission::ALL);
        assert_eq!(moderator.computed_permissions(&everyone), 1_049_884 | permission::INVITE_USERS);
        assert_eq!(everyone.computed_permissions(&everyone), permission::INVITE_USERS);
        assert!(moderator.computed_permissions(&everyone) & permission::MANAGE_USERS != 0);
        assert!(moderator.computed_permissions(&everyone) & permission::MANAGE_USER_ACCESS == 0);
        assert!(owner.overrides(&moderator) && !moderator.overrides(&owner));
        assert!(!moderator.overrides(&role(9, 10, 0)), "equal positions do not override");
        assert_eq!(permission::ALL, 8_388_607);
    }
}
