//! What staff may do. Every admin operation asks `authorize` for the permission Mastodon's
//! policy wants, acts, and records itself in `admin_action_logs` as Mastodon does.

use sqlx::PgPool;

use crate::core::error::{Error, Result};
use crate::model::accounts;
use crate::model::reports;
use crate::model::roles::{self, Role, permission};

/// A user acting with their role's permissions.
#[derive(Debug, Clone)]
pub struct Staff {
    pub account_id: i64,
    pub user_id: i64,
    pub role: Role,
    pub permissions: i64,
}

fn not_allowed() -> Error {
    Error::Forbidden("This action is not allowed".into())
}

/// The user as staff, if their role grants any of `needed` (403 otherwise). Like Mastodon's
/// admin controllers this does not ask for a confirmed or enabled user, only an account
/// that is not suspended.
pub async fn authorize(db: &PgPool, user_id: i64, account_id: i64, needed: i64) -> Result<Staff> {
    let account = accounts::get(db, account_id).await?;
    if account.suspended_at.is_some() {
        return Err(Error::Forbidden("Your login is currently disabled".into()));
    }
    let role = roles::of_user(db, user_id).await?;
    let permissions = role.computed_permissions(&roles::everyone(db).await?);
    if permissions & needed == 0 {
        return Err(not_allowed());
    }
    Ok(Staff { account_id, user_id, role, permissions })
}

/// A row of the audit log: who did `action` to what (`User` or `Account` and its id), with the
/// account's handle and id as Mastodon records them.
async fn log(
    db: impl sqlx::PgExecutor<'_>,
    staff: &Staff,
    action: &str,
    target_type: &str,
    target_id: i64,
    account_id: i64,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO admin_action_logs (account_id, action, target_type, target_id, human_identifier, route_param,
                                        created_at, updated_at)
         SELECT $1, $2, $3, $4, CASE WHEN a.domain IS NULL THEN a.username ELSE a.username || '@' || a.domain END,
                a.id::text, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
           FROM accounts a WHERE a.id = $5",
    )
    .bind(staff.account_id)
    .bind(action)
    .bind(target_type)
    .bind(target_id)
    .bind(account_id)
    .execute(db)
    .await?;
    Ok(())
}

/// A row of the audit log about a report (Mastodon names a report by its id).
async fn log_report(db: impl sqlx::PgExecutor<'_>, staff: &Staff, action: &str, report_id: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO admin_action_logs (account_id, action, target_type, target_id, human_identifier, route_param,
                                        created_at, updated_at)
         VALUES ($1, $2, 'Report', $3, $3::text, $3::text, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')",
    )
    .bind(staff.account_id)
    .bind(action)
    .bind(report_id)
    .execute(db)
    .await?;
    Ok(())
}

/// What staff change about a report (`manage_reports`); each change is logged.
#[derive(Debug, Clone, Copy)]
pub enum ReportChange<'a> {
    AssignToSelf,
    Unassign,
    Resolve,
    Reopen,
    Categorize { category: i32, rule_ids: &'a [i64] },
}

pub async fn change_report(db: &PgPool, staff: &Staff, report_id: i64, change: ReportChange<'_>) -> Result<()> {
    require(staff, permission::MANAGE_REPORTS)?;
    crate::model::reports::find(db, report_id).await?;
    let mut tx = db.begin().await?;
    let action = match change {
        ReportChange::AssignToSelf => {
            reports::set_assignee(&mut *tx, report_id, Some(staff.account_id)).await?;
            "assigned_to_self"
        }
        ReportChange::Unassign => {
            reports::set_assignee(&mut *tx, report_id, None).await?;
            "unassigned"
        }
        ReportChange::Resolve => {
            reports::set_resolved(&mut *tx, report_id, Some(staff.account_id)).await?;
            "resolve"
        }
        ReportChange::Reopen => {
            reports::set_resolved(&mut *tx, report_id, None).await?;
            "reopen"
        }
        ReportChange::Categorize { category, rule_ids } => {
            // Rules belong to violations only, and ferrodon has no instance rules yet.
            if !rule_ids.is_empty() {
                return Err(Error::Unprocessable("Validation failed: Rule ids are not valid".into()));
            }
            reports::set_category(&mut *tx, report_id, category, rule_ids).await?;
            "update"
        }
    };
    log_report(&mut *tx, staff, action, report_id).await?;
    tx.commit().await?;
    Ok(())
}

/// The local user of an account, for the operations that only apply to local accounts
/// (403 `Forbidden` otherwise, as Mastodon answers).
async fn local_user(db: &PgPool, account_id: i64) -> Result<accounts::User> {
    accounts::get(db, account_id).await?;
    accounts::user_by_account(db, account_id).await?.ok_or_else(|| Error::Forbidden("Forbidden".into()))
}

/// Lets a pending sign-up in (`manage_users`).
pub async fn approve(db: &PgPool, staff: &Staff, account_id: i64) -> Result<()> {
    require(staff, permission::MANAGE_USERS)?;
    let user = local_user(db, account_id).await?;
    if user.approved {
        return Err(not_allowed());
    }
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET approved = true, updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    log(&mut *tx, staff, "approve", "User", user.id, account_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Turns a pending sign-up away: its user and account are deleted (`manage_users`).
pub async fn reject(db: &PgPool, staff: &Staff, account_id: i64) -> Result<()> {
    require(staff, permission::MANAGE_USERS)?;
    let user = local_user(db, account_id).await?;
    if user.approved {
        return Err(not_allowed());
    }
    let mut tx = db.begin().await?;
    log(&mut *tx, staff, "reject", "User", user.id, account_id).await?;
    sqlx::query("DELETE FROM users WHERE id = $1").bind(user.id).execute(&mut *tx).await?;
    sqlx::query("DELETE FROM accounts WHERE id = $1").bind(account_id).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(())
}

/// Lets a disabled user sign in again (`manage_users`, whatever their role).
pub async fn enable(db: &PgPool, staff: &Staff, account_id: i64) -> Result<()> {
    require(staff, permission::MANAGE_USERS)?;
    let user = local_user(db, account_id).await?;
    let mut tx = db.begin().await?;
    sqlx::query("UPDATE users SET disabled = false, updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1")
        .bind(user.id)
        .execute(&mut *tx)
        .await?;
    log(&mut *tx, staff, "enable", "User", user.id, account_id).await?;
    tx.commit().await?;
    Ok(())
}

fn require(staff: &Staff, needed: i64) -> Result<()> {
    if staff.permissions & needed == 0 { Err(not_allowed()) } else { Ok(()) }
}
