//! `ferrodon ctl accounts …`, as tootctl's: an admin at the command line is not held to the
//! role rules of the admin API.

use clap::Args;
use rand::RngCore;

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::domain::accounts::{MadeBy, UserChanges, change_user, register};
use crate::model::{accounts, roles};

#[derive(Args)]
pub struct CreateAccount {
    pub username: String,
    #[arg(long)]
    pub email: String,
    /// The role to give (Owner, Admin, Moderator or one the admins made).
    #[arg(long)]
    pub role: Option<String>,
    /// The e-mail address is taken as confirmed (otherwise a confirmation mail goes to it).
    #[arg(long)]
    pub confirmed: bool,
    /// Let the account in now, whatever the registration mode (otherwise only when sign-ups are open).
    #[arg(long)]
    pub approve: bool,
}

#[derive(Args)]
pub struct ModifyAccount {
    pub username: String,
    /// Give this role.
    #[arg(long, conflicts_with = "remove_role")]
    pub role: Option<String>,
    /// Take the role away (the user has everyone's permissions only).
    #[arg(long)]
    pub remove_role: bool,
    #[arg(long)]
    pub email: Option<String>,
    /// Mark the e-mail address confirmed.
    #[arg(long)]
    pub confirm: bool,
    /// Let a pending sign-up in.
    #[arg(long)]
    pub approve: bool,
    #[arg(long, conflicts_with = "enable")]
    pub disable: bool,
    #[arg(long)]
    pub enable: bool,
    /// Turn two-factor sign-in off (TOTP, backup codes and security keys).
    #[arg(long)]
    pub disable_2fa: bool,
    /// Set a new random password and print it.
    #[arg(long)]
    pub reset_password: bool,
}

#[derive(Args)]
pub struct ApproveAccounts {
    /// The sign-up to approve.
    #[arg(conflicts_with_all = ["all", "number"])]
    pub username: Option<String>,
    /// Approve every pending sign-up.
    #[arg(long)]
    pub all: bool,
    /// Approve the N oldest pending sign-ups.
    #[arg(long)]
    pub number: Option<i64>,
}

fn new_password() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

async fn role_named(state: &AppState, name: &str) -> Result<roles::Role> {
    roles::find_by_name(&state.db.primary, name)
        .await?
        .ok_or_else(|| Error::bad_request(format!("no role named {name:?}")))
}

pub async fn create(state: &AppState, args: CreateAccount) -> Result<()> {
    // The role is checked first: a typo leaves no account behind.
    let role = match &args.role {
        Some(name) => Some(role_named(state, name).await?),
        None => None,
    };
    let password = new_password();
    let open = crate::model::settings::load(&state.db.primary).await?.registrations_mode()
        == crate::model::settings::RegistrationsMode::Open;
    let mut registration = super::registration(&args.username, &args.email, &password);
    registration.by = MadeBy::Administrator { confirmed: args.confirmed, approved: args.approve || open };
    let user = register(&state.db.primary, &state.config, registration).await?;
    if let Some(role) = role {
        roles::assign(&state.db.primary, user.id, &role).await?;
    }
    crate::effects::search::index_later(
        state,
        &state.db.primary,
        crate::effects::search::meili::Kind::Account,
        user.account_id,
    )
    .await?;
    println!("OK\nNew password: {password}");
    Ok(())
}

pub async fn modify(state: &AppState, args: ModifyAccount) -> Result<()> {
    let db = &state.db.primary;
    let account =
        accounts::find_local(db, &args.username).await?.ok_or_else(|| Error::bad_request("no such local account"))?;
    let user = accounts::user_by_account(db, account.id)
        .await?
        .ok_or_else(|| Error::bad_request("the account has no user"))?;
    let role_id = match (&args.role, args.remove_role) {
        (Some(name), _) => Some(Some(role_named(state, name).await?.id).filter(|id| *id != roles::EVERYONE_ID)),
        (None, true) => Some(None),
        (None, false) => None,
    };
    let password = args.reset_password.then(new_password);
    let changes = UserChanges {
        role_id,
        email: args.email,
        confirm: args.confirm,
        approve: args.approve,
        disabled: if args.disable {
            Some(true)
        } else if args.enable {
            Some(false)
        } else {
            None
        },
        disable_two_factor: args.disable_2fa,
        password: password.clone(),
    };
    change_user(db, user.id, &changes).await?;
    println!("OK");
    if let Some(password) = password {
        println!("New password: {password}");
    }
    Ok(())
}

/// `accounts approve`: pending sign-ups let in, as the admin API's approve does.
pub async fn approve(state: &AppState, args: ApproveAccounts) -> Result<()> {
    let db = &state.db.primary;
    let accounts: Vec<i64> = match (&args.username, args.all, args.number) {
        (Some(name), _, _) => {
            vec![accounts::find_local(db, name).await?.ok_or_else(|| Error::bad_request("no such local account"))?.id]
        }
        (None, true, _) | (None, false, Some(_)) => {
            let limit = if args.all { None } else { args.number.filter(|n| *n > 0) };
            if !args.all && limit.is_none() {
                return Err(Error::bad_request("--number must be a positive number"));
            }
            accounts::pending_sign_ups(db, limit).await?
        }
        (None, false, None) => return Err(Error::bad_request("give a username, --all or --number N")),
    };
    let console = crate::domain::staff::Staff::console();
    for account_id in &accounts {
        crate::domain::staff::approve(db, &console, *account_id).await?;
    }
    println!("OK, approved {}", accounts.len());
    Ok(())
}

#[derive(Args)]
pub struct DeleteAccount {
    #[arg(required_unless_present = "email", conflicts_with = "email")]
    pub username: Option<String>,
    /// The account of the user with this e-mail address.
    #[arg(long)]
    pub email: Option<String>,
    #[arg(long)]
    pub dry_run: bool,
}

#[derive(Args)]
pub struct ResetRelationships {
    pub username: String,
    /// Stop following everyone it follows.
    #[arg(long)]
    pub follows: bool,
    /// Make everyone who follows it stop.
    #[arg(long)]
    pub followers: bool,
    #[arg(long)]
    pub dry_run: bool,
}

fn dry(dry_run: bool) -> &'static str {
    if dry_run { " (dry run)" } else { "" }
}

async fn local_account(state: &AppState, username: &str) -> Result<accounts::Account> {
    accounts::find_local(&state.db.primary, username)
        .await?
        .ok_or_else(|| Error::bad_request(format!("no local account named {username:?}")))
}

/// `accounts delete`: suspends the account and deletes its data at once, as the deletion
/// after a suspension's 30 days does.
pub async fn delete(state: &AppState, args: DeleteAccount) -> Result<()> {
    let db = &state.db.primary;
    let account_id = match (&args.username, &args.email) {
        (Some(name), _) => local_account(state, name).await?.id,
        (None, Some(email)) => {
            accounts::user_by_email(db, email)
                .await?
                .ok_or_else(|| Error::bad_request(format!("no user with the e-mail address {email:?}")))?
                .account_id
        }
        (None, None) => return Err(Error::bad_request("give a username or --email")),
    };
    if !args.dry_run {
        crate::domain::deletion::delete_at_once(state, account_id).await?;
    }
    println!("OK{}", dry(args.dry_run));
    Ok(())
}

/// The ids of every local account with a user that can use the server, but `except`.
async fn local_followers_to_be(state: &AppState, except: i64) -> Result<Vec<i64>> {
    Ok(sqlx::query_scalar(
        "SELECT a.id FROM accounts a JOIN users u ON u.account_id = a.id
          WHERE a.domain IS NULL AND a.suspended_at IS NULL AND NOT u.disabled AND a.id <> $1 ORDER BY a.id",
    )
    .bind(except)
    .fetch_all(&state.db.primary)
    .await?)
}

/// Which remote accounts a command is for: named ones, one server's, or all.
pub struct Remote {
    pub accts: Vec<String>,
    pub domain: Option<String>,
    pub all: bool,
}

async fn remote_accounts(state: &AppState, which: Remote) -> Result<Vec<i64>> {
    let db = &state.db.primary;
    match which {
        Remote { accts, domain: None, all: false } if !accts.is_empty() => {
            let mut ids = Vec::new();
            for acct in &accts {
                let found = accounts::lookup_acct(db, &state.config, acct).await?.filter(|a| !a.is_local());
                ids.push(found.ok_or_else(|| Error::bad_request(format!("No such account: {acct}")))?.id);
            }
            Ok(ids)
        }
        Remote { accts, domain, all } if accts.is_empty() && (all || domain.is_some()) => {
            accounts::remote_ids(db, domain.as_deref()).await
        }
        _ => Err(Error::bad_request("give USER@DOMAIN…, --domain DOMAIN or --all")),
    }
}

/// `accounts refresh`: remote avatars and headers fetched again, a few accounts at a time;
/// an account whose server fails is reported and the rest go on.
pub async fn refresh(state: &AppState, which: Remote, concurrency: usize, dry_run: bool) -> Result<()> {
    use futures_util::StreamExt;
    let ids = remote_accounts(state, which).await?;
    if dry_run {
        println!("OK, refreshed {} accounts{}", ids.len(), dry(dry_run));
        return Ok(());
    }
    let mut fetches = futures_util::stream::iter(ids.iter().copied())
        .map(|id| async move { (id, crate::effects::media::remote::fetch_profile_images(state, id).await) })
        .buffer_unordered(concurrency.max(1));
    let (mut done, mut failed) = (0, Vec::new());
    while let Some((id, fetched)) = fetches.next().await {
        done += 1;
        if let Err(e) = fetched {
            failed.push(format!("account {id}: {e}"));
        }
        super::progress("accounts", done, ids.len());
    }
    println!("\nOK, refreshed {} accounts", ids.len() - failed.len());
    for failure in &failed {
        println!("Account failed: {failure}");
    }
    Ok(())
}

/// `accounts cull`: each remote account not seen for a week is asked for (HEAD of its
/// actor); those answered 404 or 410 are removed, the others marked as seen. A server that
/// cannot be reached is skipped for the rest of the run and listed.
pub async fn cull(state: &AppState, domains: &[String], concurrency: usize, dry_run: bool) -> Result<()> {
    use futures_util::StreamExt;
    let candidates = accounts::cull_candidates(&state.db.primary, domains).await?;
    let unreachable = std::cell::RefCell::new(std::collections::BTreeSet::new());
    let check = |(id, domain, uri): (i64, String, String)| {
        let unreachable = &unreachable;
        async move {
            if unreachable.borrow().contains(&domain) {
                return Ok(false);
            }
            let gone = match state.http.head_status(&uri).await {
                Ok(status) => matches!(status, 404 | 410),
                Err(_) => {
                    unreachable.borrow_mut().insert(domain);
                    return Ok(false);
                }
            };
            if !gone {
                accounts::touch(&state.db.primary, id).await?;
            } else if !dry_run {
                crate::domain::moves::purge(state, id).await?;
            }
            Ok::<bool, Error>(gone)
        }
    };
    let total = candidates.len();
    let mut checks = futures_util::stream::iter(candidates).map(check).buffer_unordered(concurrency.max(1));
    let (mut visited, mut culled) = (0, 0);
    while let Some(gone) = checks.next().await {
        visited += 1;
        culled += usize::from(gone?);
        super::progress("accounts", visited, total);
    }
    drop(checks);
    println!("\nVisited {visited} accounts, removed {culled}{}", dry(dry_run));
    let unreachable = unreachable.into_inner();
    if !unreachable.is_empty() {
        println!("The following domains were not available during the check:");
        for domain in unreachable {
            println!("  {domain}");
        }
    }
    Ok(())
}

/// `accounts prune`: remote accounts nobody here ever dealt with go, with their files.
pub async fn prune(state: &AppState, dry_run: bool) -> Result<()> {
    let ids = accounts::prunable_remote(&state.db.primary).await?;
    for (i, id) in ids.iter().enumerate() {
        if !dry_run {
            crate::domain::moves::purge(state, *id).await?;
        }
        super::progress("accounts", i + 1, ids.len());
    }
    println!("\nOK, pruned {} accounts{}", ids.len(), dry(dry_run));
    Ok(())
}

/// `accounts rotate USERNAME | --all`: new key pairs, each announced by an actor `Update`.
pub async fn rotate(state: &AppState, username: Option<&str>, all: bool, dry_run: bool) -> Result<()> {
    let ids = match (username, all) {
        (Some(username), false) => vec![local_account(state, username).await?.id],
        (None, true) => accounts::local_signing_ids(&state.db.primary).await?,
        _ => return Err(Error::bad_request("give a USERNAME or --all")),
    };
    for (i, id) in ids.iter().enumerate() {
        if !dry_run {
            crate::domain::accounts::rotate_keys(&state.db.primary, *id).await?;
        }
        super::progress("accounts", i + 1, ids.len());
    }
    println!("\nOK, rotated the keys of {} accounts{}", ids.len(), dry(dry_run));
    Ok(())
}

/// `accounts follow USERNAME`: every local account follows it.
pub async fn follow_by_everyone(state: &AppState, username: &str, dry_run: bool) -> Result<()> {
    use crate::domain::relationships::{FollowOptions, follow};
    let target = local_account(state, username).await?;
    let sources = local_followers_to_be(state, target.id).await?;
    for (i, source) in sources.iter().enumerate() {
        if !dry_run {
            // One who blocks the account (or is blocked by it) is left out.
            match follow(state, *source, target.id, FollowOptions::default()).await {
                Ok(()) | Err(Error::Forbidden(_)) => {}
                Err(e) => return Err(e),
            }
        }
        super::progress("accounts", i + 1, sources.len());
    }
    println!("\nOK, followed target from {} accounts{}", sources.len(), dry(dry_run));
    Ok(())
}

/// `accounts unfollow ACCT`: every local account stops following it.
pub async fn unfollow_by_everyone(state: &AppState, acct: &str, dry_run: bool) -> Result<()> {
    let target = accounts::lookup_acct(&state.db.primary, &state.config, acct)
        .await?
        .ok_or_else(|| Error::bad_request(format!("no known account {acct:?}")))?;
    let sources: Vec<i64> = sqlx::query_scalar(
        "SELECT f.account_id FROM follows f JOIN accounts a ON a.id = f.account_id
          WHERE f.target_account_id = $1 AND a.domain IS NULL ORDER BY f.account_id",
    )
    .bind(target.id)
    .fetch_all(&state.db.primary)
    .await?;
    for (i, source) in sources.iter().enumerate() {
        if !dry_run {
            crate::domain::relationships::unfollow(state, *source, target.id).await?;
        }
        super::progress("accounts", i + 1, sources.len());
    }
    println!("\nOK, unfollowed target from {} accounts{}", sources.len(), dry(dry_run));
    Ok(())
}

/// `accounts reset-relationships USERNAME --follows --followers`.
pub async fn reset_relationships(state: &AppState, args: ResetRelationships) -> Result<()> {
    if !args.follows && !args.followers {
        return Err(Error::bad_request("give --follows, --followers or both"));
    }
    let account = local_account(state, &args.username).await?;
    let mut pairs: Vec<(i64, i64)> = Vec::new();
    if args.follows {
        pairs.extend(
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT account_id, target_account_id FROM follows WHERE account_id = $1 ORDER BY id",
            )
            .bind(account.id)
            .fetch_all(&state.db.primary)
            .await?,
        );
    }
    if args.followers {
        pairs.extend(
            sqlx::query_as::<_, (i64, i64)>(
                "SELECT account_id, target_account_id FROM follows WHERE target_account_id = $1 ORDER BY id",
            )
            .bind(account.id)
            .fetch_all(&state.db.primary)
            .await?,
        );
    }
    for (i, (source, target)) in pairs.iter().enumerate() {
        if !args.dry_run {
            crate::domain::relationships::unfollow(state, *source, *target).await?;
        }
        super::progress("relationships", i + 1, pairs.len());
    }
    println!("\nOK, {} relationships ended{}", pairs.len(), dry(args.dry_run));
    Ok(())
}
