//! What staff may do. Every admin operation asks `authorize` for the permission Mastodon's
//! policy wants, acts, and records itself in `admin_action_logs` as Mastodon does.

use sqlx::PgPool;

use crate::core::error::{Error, Result};
use crate::domain::domain_blocks;
use crate::domain::events::{self, Event};
use crate::domain::notifications;
use crate::model::accounts;
use crate::model::notifications::NotificationType;
use crate::model::reports;
use crate::model::roles::{self, Role, permission};
use crate::model::settings::{self as site_settings, RegistrationsMode};

/// A user acting with their role's permissions.
#[derive(Debug, Clone)]
pub struct Staff {
    pub account_id: i64,
    pub user_id: i64,
    pub role: Role,
    pub permissions: i64,
    /// False for the command line, which (like tootctl) may do everything and is not logged.
    pub logged: bool,
}

impl Staff {
    /// Whoever runs `ferrodon ctl`: the server's administrator.
    pub fn console() -> Staff {
        let role = Role {
            id: 0,
            name: "console".into(),
            color: String::new(),
            position: i32::MAX,
            permissions: permission::ALL,
            highlighted: false,
        };
        Staff { account_id: 0, user_id: 0, role, permissions: permission::ALL, logged: false }
    }
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
    Ok(Staff { account_id, user_id, role, permissions, logged: true })
}

/// A row of the audit log: who did `action` to what (`User` or `Account` and its id), with the
/// account's handle and id as Mastodon records them.
async fn log_target(
    db: impl sqlx::PgExecutor<'_>,
    staff: &Staff,
    action: &str,
    target_type: &str,
    target_id: i64,
    account_id: i64,
) -> Result<()> {
    if !staff.logged {
        return Ok(());
    }
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
    log_named(db, staff, action, "Report", report_id, &report_id.to_string()).await
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
    log_target(&mut *tx, staff, "approve", "User", user.id, account_id).await?;
    if user.confirmed_at.is_some() {
        crate::domain::accounts::welcome_later(&mut tx, user.id).await?;
    }
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
    log_target(&mut *tx, staff, "reject", "User", user.id, account_id).await?;
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
    log_target(&mut *tx, staff, "enable", "User", user.id, account_id).await?;
    tx.commit().await?;
    Ok(())
}

fn require(staff: &Staff, needed: i64) -> Result<()> {
    if staff.permissions & needed == 0 { Err(not_allowed()) } else { Ok(()) }
}

/// What `POST /api/v1/admin/accounts/:id/action` does, as Mastodon's `Admin::AccountAction`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountAction {
    /// A warning only.
    None,
    Disable,
    Sensitive,
    Silence,
    Suspend,
}

impl AccountAction {
    pub fn parse(name: &str) -> Option<AccountAction> {
        Some(match name {
            "none" => AccountAction::None,
            "disable" => AccountAction::Disable,
            "sensitive" => AccountAction::Sensitive,
            "silence" => AccountAction::Silence,
            "suspend" => AccountAction::Suspend,
            _ => return None,
        })
    }

    /// `account_warnings.action`.
    fn strike(self) -> i32 {
        match self {
            AccountAction::None => 0,
            AccountAction::Disable => 1000,
            AccountAction::Sensitive => 2000,
            AccountAction::Silence => 3000,
            AccountAction::Suspend => 4000,
        }
    }

    fn name(self) -> &'static str {
        match self {
            AccountAction::None => "none",
            AccountAction::Disable => "disable",
            AccountAction::Sensitive => "sensitive",
            AccountAction::Silence => "silence",
            AccountAction::Suspend => "suspend",
        }
    }
}

/// The role of an account's user, `everyone` for accounts without one (remote ones).
async fn role_of_account(db: &PgPool, account_id: i64) -> Result<Role> {
    match accounts::user_by_account(db, account_id).await? {
        Some(user) => roles::of_user(db, user.id).await,
        None => roles::everyone(db).await,
    }
}

/// Acts on an account, in one transaction: the effect, a strike with `text`, the log, and
/// the resolution of its reports (`report_id`'s only for a warning, all open ones otherwise).
/// Staff cannot act on someone whose role is at or above theirs.
pub async fn act(
    db: &PgPool,
    staff: &Staff,
    account_id: i64,
    action: AccountAction,
    text: &str,
    report_id: Option<i64>,
    tell_user: bool,
) -> Result<()> {
    require(staff, permission::MANAGE_USERS)?;
    let target = accounts::find(db, account_id).await?.filter(|a| a.id > 0).ok_or(Error::NotFound)?;
    if action != AccountAction::None && !staff.role.overrides(&role_of_account(db, account_id).await?) {
        return Err(not_allowed());
    }
    let user = accounts::user_by_account(db, account_id).await?;
    let mut tx = db.begin().await?;
    match action {
        AccountAction::None => {}
        AccountAction::Disable => {
            let user = user.as_ref().ok_or_else(|| Error::Forbidden("Forbidden".into()))?;
            sqlx::query("UPDATE users SET disabled = true, updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1")
                .bind(user.id)
                .execute(&mut *tx)
                .await?;
            events::emit(&mut *tx, Event::UserDisabled { account_id }).await?;
        }
        AccountAction::Sensitive | AccountAction::Silence => {
            let column = if action == AccountAction::Sensitive { "sensitized_at" } else { "silenced_at" };
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "UPDATE accounts SET {column} = now() AT TIME ZONE 'UTC', updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1"
            )))
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
        }
        AccountAction::Suspend => {
            sqlx::query(
                "UPDATE accounts SET suspended_at = now() AT TIME ZONE 'UTC', suspension_origin = 0,
                        updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1",
            )
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
            // Its data goes after Mastodon's 30 days unless the suspension is lifted.
            sqlx::query(
                "INSERT INTO account_deletion_requests (account_id, created_at, updated_at)
                 VALUES ($1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')",
            )
            .bind(account_id)
            .execute(&mut *tx)
            .await?;
            events::emit(&mut *tx, Event::AccountSuspended { account_id, suspended: true }).await?;
        }
    }
    let status_ids: Option<Vec<String>> = match report_id {
        Some(id) => Some(reports::find(db, id).await?.status_ids.iter().map(i64::to_string).collect()),
        None => None,
    };
    let warning: i64 = sqlx::query_scalar(
        "INSERT INTO account_warnings (account_id, target_account_id, action, text, report_id, status_ids, created_at,
                                       updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC') RETURNING id",
    )
    .bind(staff.account_id)
    .bind(target.id)
    .bind(action.strike())
    .bind(text)
    .bind(report_id)
    .bind(&status_ids)
    .fetch_one(&mut *tx)
    .await?;
    // The user hears of it (Mastodon's `send_email_notification`): a notification from their
    // own account, staff staying anonymous, and an e-mail.
    if tell_user && user.is_some() {
        notifications::notify(&mut tx, account_id, account_id, NotificationType::ModerationWarning, warning).await?;
        events::emit(&mut *tx, Event::AccountWarned { warning_id: warning }).await?;
    }
    match action {
        AccountAction::None if !text.is_empty() => {
            log_target(&mut *tx, staff, "create", "AccountWarning", warning, account_id).await?
        }
        AccountAction::None => {}
        AccountAction::Disable => {
            let user_id = user.as_ref().map_or(account_id, |u| u.id);
            log_target(&mut *tx, staff, "disable", "User", user_id, account_id).await?;
        }
        other => log_target(&mut *tx, staff, other.name(), "Account", account_id, account_id).await?,
    }
    let resolved: Vec<i64> = if action == AccountAction::None {
        report_id.into_iter().collect()
    } else {
        sqlx::query_scalar("SELECT id FROM reports WHERE target_account_id = $1 AND action_taken_at IS NULL")
            .bind(account_id)
            .fetch_all(&mut *tx)
            .await?
    };
    if !resolved.is_empty() {
        require(staff, permission::MANAGE_REPORTS)?;
    }
    for id in resolved {
        reports::set_resolved(&mut *tx, id, Some(staff.account_id)).await?;
        log_report(&mut *tx, staff, "resolve", id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// What `unsilence`, `unsensitive` and `unsuspend` lift.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lift {
    Silence,
    Sensitive,
    Suspension,
}

/// Lifts a limit (`manage_users`); a suspension only if it was imposed here.
pub async fn lift(db: &PgPool, staff: &Staff, account_id: i64, lift: Lift) -> Result<()> {
    require(staff, permission::MANAGE_USERS)?;
    let origin: Option<Option<i32>> =
        sqlx::query_scalar("SELECT suspension_origin FROM accounts WHERE id = $1 AND id > 0")
            .bind(account_id)
            .fetch_optional(db)
            .await?;
    let Some(origin) = origin else { return Err(Error::NotFound) };
    let mut tx = db.begin().await?;
    let (sql, action) = match lift {
        Lift::Silence => ("UPDATE accounts SET silenced_at = NULL WHERE id = $1", "unsilence"),
        Lift::Sensitive => ("UPDATE accounts SET sensitized_at = NULL WHERE id = $1", "unsensitive"),
        Lift::Suspension => {
            if origin.is_some_and(|o| o != 0) {
                return Err(not_allowed());
            }
            sqlx::query("DELETE FROM account_deletion_requests WHERE account_id = $1")
                .bind(account_id)
                .execute(&mut *tx)
                .await?;
            events::emit(&mut *tx, Event::AccountSuspended { account_id, suspended: false }).await?;
            ("UPDATE accounts SET suspended_at = NULL, suspension_origin = NULL WHERE id = $1", "unsuspend")
        }
    };
    sqlx::query(sqlx::AssertSqlSafe(sql)).bind(account_id).execute(&mut *tx).await?;
    log_target(&mut *tx, staff, action, "Account", account_id, account_id).await?;
    tx.commit().await?;
    Ok(())
}

/// A row of the audit log about a block, named by what it blocks (a domain, an address).
async fn log_named(
    db: impl sqlx::PgExecutor<'_>,
    staff: &Staff,
    action: &str,
    target_type: &str,
    id: i64,
    name: &str,
) -> Result<()> {
    if !staff.logged {
        return Ok(());
    }
    sqlx::query(
        "INSERT INTO admin_action_logs (account_id, action, target_type, target_id, human_identifier, route_param,
                                        created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $4::text, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')",
    )
    .bind(staff.account_id)
    .bind(action)
    .bind(target_type)
    .bind(id)
    .bind(name)
    .execute(db)
    .await?;
    Ok(())
}

async fn log_domain_block(
    db: impl sqlx::PgExecutor<'_>,
    staff: &Staff,
    action: &str,
    id: i64,
    domain: &str,
) -> Result<()> {
    log_named(db, staff, action, "DomainBlock", id, domain).await
}

/// Blocks a domain (`manage_federation`).
pub async fn create_domain_block(
    db: &PgPool,
    staff: &Staff,
    domain: &str,
    settings: &domain_blocks::Settings,
) -> Result<domain_blocks::Created> {
    require(staff, permission::MANAGE_FEDERATION)?;
    let mut tx = db.begin().await?;
    let created = domain_blocks::create(&mut tx, domain, settings).await?;
    if let domain_blocks::Created::Id(id) = created {
        log_domain_block(&mut *tx, staff, "create", id, &domain_blocks::normalize(domain)?).await?;
        tx.commit().await?;
    }
    Ok(created)
}

/// Changes a domain block (`manage_federation`).
pub async fn update_domain_block(
    db: &PgPool,
    staff: &Staff,
    id: i64,
    settings: &domain_blocks::Settings,
) -> Result<()> {
    require(staff, permission::MANAGE_FEDERATION)?;
    let block = crate::model::domain_blocks::find(db, id).await?;
    let mut tx = db.begin().await?;
    domain_blocks::update(&mut tx, &block, settings).await?;
    log_domain_block(&mut *tx, staff, "update", id, &block.domain).await?;
    tx.commit().await?;
    Ok(())
}

/// Lifts a domain block (`manage_federation`).
pub async fn delete_domain_block(db: &PgPool, staff: &Staff, id: i64) -> Result<()> {
    require(staff, permission::MANAGE_FEDERATION)?;
    let block = crate::model::domain_blocks::find(db, id).await?;
    let mut tx = db.begin().await?;
    domain_blocks::delete(&mut tx, &block).await?;
    log_domain_block(&mut *tx, staff, "destroy", id, &block.domain).await?;
    tx.commit().await?;
    Ok(())
}

/// Deletes row `id` of one of the sign-up block tables, logged under `target_type` and `name`.
async fn remove_sign_up_block(
    db: &PgPool,
    staff: &Staff,
    table: &'static str,
    target_type: &str,
    id: i64,
    name: &str,
) -> Result<()> {
    let mut tx = db.begin().await?;
    sqlx::query(sqlx::AssertSqlSafe(format!("DELETE FROM {table} WHERE id = $1"))).bind(id).execute(&mut *tx).await?;
    log_named(&mut *tx, staff, "destroy", target_type, id, name).await?;
    tx.commit().await?;
    Ok(())
}

/// Refuses (or, `allow_with_approval`, holds for approval) sign-ups with addresses at a domain
/// or its subdomains (`manage_blocks`). A domain already blocked is 422.
pub async fn create_email_domain_block(
    db: &PgPool,
    staff: &Staff,
    domain: &str,
    allow_with_approval: bool,
) -> Result<i64> {
    require(staff, permission::MANAGE_BLOCKS)?;
    let domain = domain_blocks::normalize(domain)?;
    let mut tx = db.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO email_domain_blocks (domain, allow_with_approval, created_at, updated_at)
         VALUES ($1, $2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT (domain) DO NOTHING RETURNING id",
    )
    .bind(&domain)
    .bind(allow_with_approval)
    .fetch_optional(&mut *tx)
    .await?;
    let id = id.ok_or_else(|| Error::validation("Domain has already been taken"))?;
    log_named(&mut *tx, staff, "create", "EmailDomainBlock", id, &domain).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete_email_domain_block(db: &PgPool, staff: &Staff, id: i64) -> Result<()> {
    require(staff, permission::MANAGE_BLOCKS)?;
    let block = crate::model::sign_up_blocks::email_domain_block(db, id).await?;
    remove_sign_up_block(db, staff, "email_domain_blocks", "EmailDomainBlock", id, &block.domain).await
}

/// What an IP block says: the range, its severity, a comment and how long it lasts.
#[derive(Debug, Clone)]
pub struct IpRule {
    pub ip: String,
    pub severity: i32,
    pub comment: String,
    pub expires_in: Option<i64>,
}

fn check_ip_rule(rule: &IpRule) -> Result<()> {
    use crate::model::sign_up_blocks::{NO_ACCESS, SIGN_UP_BLOCK, SIGN_UP_REQUIRES_APPROVAL};
    if ![SIGN_UP_REQUIRES_APPROVAL, SIGN_UP_BLOCK, NO_ACCESS].contains(&rule.severity) {
        return Err(Error::validation("Severity is not included in the list"));
    }
    let (address, prefix) = rule.ip.split_once('/').unwrap_or((&rule.ip, ""));
    let parsed = address.parse::<std::net::IpAddr>().ok();
    let bits = if parsed.is_some_and(|a| a.is_ipv4()) { 32 } else { 128 };
    if parsed.is_none() || !(prefix.is_empty() || prefix.parse::<u8>().is_ok_and(|p| p <= bits)) {
        return Err(Error::validation("Ip is invalid"));
    }
    Ok(())
}

/// Blocks an address range (`manage_blocks`); the same range twice is 422.
pub async fn create_ip_block(db: &PgPool, staff: &Staff, rule: &IpRule) -> Result<i64> {
    require(staff, permission::MANAGE_BLOCKS)?;
    check_ip_rule(rule)?;
    let mut tx = db.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO ip_blocks (ip, severity, comment, expires_at, created_at, updated_at)
         VALUES (network($1::inet), $2, $3, now() AT TIME ZONE 'UTC' + make_interval(secs => $4),
                 now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT (ip) DO NOTHING RETURNING id",
    )
    .bind(&rule.ip)
    .bind(rule.severity)
    .bind(&rule.comment)
    .bind(rule.expires_in.map(|s| s as f64))
    .fetch_optional(&mut *tx)
    .await?;
    let id = id.ok_or_else(|| Error::validation("Ip has already been taken"))?;
    log_named(&mut *tx, staff, "create", "IpBlock", id, &rule.ip).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_ip_block(db: &PgPool, staff: &Staff, id: i64, rule: &IpRule) -> Result<()> {
    require(staff, permission::MANAGE_BLOCKS)?;
    check_ip_rule(rule)?;
    crate::model::sign_up_blocks::ip_block(db, id).await?;
    let mut tx = db.begin().await?;
    sqlx::query(
        "UPDATE ip_blocks SET ip = network($2::inet), severity = $3, comment = $4,
                expires_at = now() AT TIME ZONE 'UTC' + make_interval(secs => $5), updated_at = now() AT TIME ZONE 'UTC'
          WHERE id = $1",
    )
    .bind(id)
    .bind(&rule.ip)
    .bind(rule.severity)
    .bind(&rule.comment)
    .bind(rule.expires_in.map(|s| s as f64))
    .execute(&mut *tx)
    .await?;
    log_named(&mut *tx, staff, "update", "IpBlock", id, &rule.ip).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_ip_block(db: &PgPool, staff: &Staff, id: i64) -> Result<()> {
    require(staff, permission::MANAGE_BLOCKS)?;
    let block = crate::model::sign_up_blocks::ip_block(db, id).await?;
    remove_sign_up_block(db, staff, "ip_blocks", "IpBlock", id, &block.ip).await
}

/// Blocks an address, whatever its dots and `+tags` (`manage_blocks`): given as the address
/// or as its canonical hash. The same hash twice is 422.
pub async fn create_canonical_email_block(
    db: &PgPool,
    staff: &Staff,
    email: Option<&str>,
    hash: Option<&str>,
) -> Result<i64> {
    require(staff, permission::MANAGE_BLOCKS)?;
    let hash = match (email, hash) {
        (Some(email), _) => crate::model::sign_up_blocks::canonical_email_hash(email),
        (None, Some(hash)) if hash.len() == 64 && hash.chars().all(|c| c.is_ascii_hexdigit()) => {
            hash.to_ascii_lowercase()
        }
        _ => return Err(Error::validation("Canonical email hash can't be blank")),
    };
    let mut tx = db.begin().await?;
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO canonical_email_blocks (canonical_email_hash, created_at, updated_at)
         VALUES ($1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT (canonical_email_hash) DO NOTHING RETURNING id",
    )
    .bind(&hash)
    .fetch_optional(&mut *tx)
    .await?;
    let id = id.ok_or_else(|| Error::validation("Canonical email hash has already been taken"))?;
    log_named(&mut *tx, staff, "create", "CanonicalEmailBlock", id, &hash).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete_canonical_email_block(db: &PgPool, staff: &Staff, id: i64) -> Result<()> {
    require(staff, permission::MANAGE_BLOCKS)?;
    let block = crate::model::sign_up_blocks::canonical_email_block(db, id).await?;
    remove_sign_up_block(db, staff, "canonical_email_blocks", "CanonicalEmailBlock", id, &block.canonical_email_hash)
        .await
}

/// Who may sign up, as `tootctl settings registrations` and the admin's settings form set it
/// (`manage_settings`); `require_reason` asks sign-ups awaiting approval to say why.
pub async fn change_registrations(
    db: &PgPool,
    staff: &Staff,
    mode: RegistrationsMode,
    require_reason: Option<bool>,
) -> Result<()> {
    require(staff, permission::MANAGE_SETTINGS)?;
    let mut tx = db.begin().await?;
    site_settings::store(&mut *tx, "registrations_mode", &serde_json::Value::from(mode.as_str())).await?;
    if let Some(required) = require_reason {
        site_settings::store(&mut *tx, "require_invite_text", &serde_json::Value::from(required)).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Puts a server on the allow list (`manage_federation`); allowing it again returns the
/// allow there is, unlogged, as Mastodon does.
pub async fn create_domain_allow(db: &PgPool, staff: &Staff, domain: &str) -> Result<i64> {
    require(staff, permission::MANAGE_FEDERATION)?;
    let domain = domain_blocks::normalize(domain)?;
    if let Some(existing) = crate::model::domain_blocks::find_allow_by_domain(db, &domain).await? {
        return Ok(existing.id);
    }
    let mut tx = db.begin().await?;
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO domain_allows (domain, created_at, updated_at)
         VALUES ($1, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT (domain) DO UPDATE SET domain = EXCLUDED.domain RETURNING id",
    )
    .bind(&domain)
    .fetch_one(&mut *tx)
    .await?;
    log_named(&mut *tx, staff, "create", "DomainAllow", id, &domain).await?;
    tx.commit().await?;
    Ok(id)
}

/// Takes a server off the allow list (`manage_federation`). In limited-federation mode its
/// accounts are suspended here at once, as Mastodon's purge after an unallow begins.
pub async fn delete_domain_allow(db: &PgPool, staff: &Staff, id: i64, limited_federation: bool) -> Result<()> {
    require(staff, permission::MANAGE_FEDERATION)?;
    let allow = crate::model::domain_blocks::find_allow(db, id).await?;
    let mut tx = db.begin().await?;
    sqlx::query("DELETE FROM domain_allows WHERE id = $1").bind(id).execute(&mut *tx).await?;
    log_named(&mut *tx, staff, "destroy", "DomainAllow", id, &allow.domain).await?;
    if limited_federation {
        let suspended: Vec<i64> = sqlx::query_scalar(
            "UPDATE accounts SET suspended_at = now() AT TIME ZONE 'UTC', suspension_origin = 0
              WHERE domain = $1 AND suspended_at IS NULL RETURNING id",
        )
        .bind(&allow.domain)
        .fetch_all(&mut *tx)
        .await?;
        for account_id in suspended {
            events::emit(&mut *tx, Event::AccountSuspended { account_id, suspended: true }).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}

/// Staff review a tag (`manage_taxonomies`): its spelling (the same letters, other case or
/// accents), and whether it may be used in posts, trend, and be listed in search.
pub async fn review_tag(db: &PgPool, staff: &Staff, id: i64, review: &crate::model::tags::TagReview) -> Result<()> {
    require(staff, permission::MANAGE_TAXONOMIES)?;
    let tag = crate::model::tags::reviewed(db, id).await?;
    if let Some(display) = &review.display_name
        && crate::core::text::normalize_hashtag(display) != crate::core::text::normalize_hashtag(&tag.tag.name)
    {
        return Err(Error::validation("Display name does not match the previous name"));
    }
    crate::model::tags::review(db, id, review).await
}
