//! Sign-up and profile changes of local accounts (Mastodon's AppSignUpService and
//! UpdateAccountService).

use serde_json::json;
use sqlx::{AssertSqlSafe, PgConnection, PgPool};

use crate::core::Core;
use crate::core::config::Config;
use crate::core::error::{Error, Result, is_unique_violation};
use crate::core::queue;
use crate::core::secrets;
use crate::core::time;
use crate::domain::events::{self, Event};
use crate::domain::{deferred, notifications, relationships};
use crate::model::accounts::{
    self as accounts, Field, MAX_DISPLAY_NAME, MAX_FIELD_LENGTH, MAX_FIELDS, MAX_NOTE, MAX_USERNAME,
    RESERVED_USERNAMES, User, UserSettings, find_local, generate_keypair,
};
use crate::model::invites::{self, Invite};
use crate::model::notifications::NotificationType;
use crate::model::roles::{self, permission};
use crate::model::settings::{self as site_settings, RegistrationsMode};
use crate::model::sign_up_blocks;

pub struct Registration<'a> {
    pub username: &'a str,
    pub email: &'a str,
    pub password: &'a str,
    pub agreement: bool,
    pub locale: Option<&'a str>,
    pub display_name: Option<&'a str>,
    pub application_id: Option<i64>,
    pub by: MadeBy<'a>,
}

/// Who makes an account, which decides the rules it is made under.
pub enum MadeBy<'a> {
    /// Someone signing up through the API: the site's registration mode, invites and sign-up
    /// blocks apply, and the address is confirmed by mail.
    Visitor {
        /// Where the sign-up comes from (checked against the IP blocks, kept as `sign_up_ip`).
        ip: Option<&'a str>,
        /// Why they want to join, for staff to read (required where the site asks for it).
        reason: Option<&'a str>,
        invite_code: Option<&'a str>,
    },
    /// The server's administrator (CLI, seeds): no registration checks.
    Administrator { confirmed: bool, approved: bool },
}

fn detail(errors: &mut serde_json::Map<String, serde_json::Value>, attr: &str, code: &str, description: &str) {
    let entry = errors.entry(attr.to_string()).or_insert_with(|| json!([]));
    if let Some(list) = entry.as_array_mut() {
        list.push(json!({ "error": code, "description": description }));
    }
}

fn invalid(errors: serde_json::Map<String, serde_json::Value>) -> Error {
    let message = errors
        .iter()
        .flat_map(|(attr, list)| {
            let label = match attr.as_str() {
                "agreement" => "Agreement".to_string(),
                other => {
                    let mut c = other.chars();
                    c.next().map(|f| f.to_uppercase().collect::<String>() + c.as_str()).unwrap_or_default()
                }
            };
            list.as_array()
                .into_iter()
                .flatten()
                .filter_map(|d| d.get("description").and_then(|v| v.as_str()))
                .map(move |d| format!("{label} {d}"))
                .collect::<Vec<_>>()
        })
        .collect::<Vec<_>>()
        .join(", ");
    Error::Invalid { message: format!("Validation failed: {message}"), details: serde_json::Value::Object(errors) }
}

pub(crate) fn valid_email(email: &str) -> bool {
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty() && !domain.is_empty() && !domain.starts_with('.') && !email.contains(char::is_whitespace)
}

/// What the site's rules make of a visitor's sign-up.
struct Admission {
    /// The invite it uses, when that invite is still good.
    invite: Option<Invite>,
    /// Staff must let the sign-up in (`approved = false`).
    pending: bool,
    /// The sign-up must say why (`require_invite_text`, for sign-ups awaiting approval).
    reason_required: bool,
}

/// Applies the registration mode, invites and IP blocks to a visitor's sign-up (Mastodon's
/// `allowed_registration?` and `set_approved`): 403 `Forbidden` where sign-ups are not taken.
async fn admit(db: &PgPool, config: &Config, ip: Option<&str>, invite_code: Option<&str>) -> Result<Admission> {
    let settings = site_settings::load(db).await?;
    let mode = settings.registrations_mode();
    let invite = match invite_code.filter(|code| !code.is_empty()) {
        Some(code) => invites::find_by_code(db, code).await?,
        None => None,
    };
    let invite = match invite {
        Some(invite) if invites::usable(db, &invite).await? => Some(invite),
        _ => None,
    };
    let ip_severity = match ip {
        Some(ip) => sign_up_blocks::ip_severity(db, ip).await?,
        None => None,
    };
    let refused = config.single_user_mode
        || (mode == RegistrationsMode::Closed && invite.is_none())
        || ip_severity.is_some_and(|s| s >= sign_up_blocks::SIGN_UP_BLOCK);
    if refused {
        return Err(Error::Forbidden("Forbidden".into()));
    }
    let invited_past_approval = match &invite {
        Some(invite) => roles::permissions_of(db, invite.user_id).await? & permission::INVITE_BYPASS_APPROVAL != 0,
        None => false,
    };
    let pending = ip_severity == Some(sign_up_blocks::SIGN_UP_REQUIRES_APPROVAL)
        || !(mode == RegistrationsMode::Open || invited_past_approval);
    let reason_required = settings.flag("require_invite_text") && mode != RegistrationsMode::Open && invite.is_none();
    Ok(Admission { invite, pending, reason_required })
}

/// An invite someone is about to sign up with: 404 for an unknown code, 401 for one that
/// can no longer be used, 403 where no sign-up is taken at all.
pub async fn invite_for_sign_up(db: &PgPool, config: &Config, code: &str) -> Result<Invite> {
    let invite = invites::find_by_code(db, code).await?.ok_or(Error::NotFound)?;
    if !invites::usable(db, &invite).await? {
        return Err(Error::Unauthorized("This invite is not valid".into()));
    }
    if config.single_user_mode {
        return Err(Error::Forbidden("This action is not allowed".into()));
    }
    Ok(invite)
}

/// Creates a local account and its user. A visitor's sign-up goes through the site's rules
/// (see [`MadeBy`]) and must confirm the e-mail address: the confirmation mail is queued with
/// the account. Validation errors come back with Mastodon's `details`.
pub async fn register(db: &PgPool, config: &Config, reg: Registration<'_>) -> Result<User> {
    let username = reg.username.trim();
    let email = reg.email.trim();
    let (admission, reason, confirmed, ip) = match reg.by {
        MadeBy::Visitor { ip, reason, invite_code } => {
            let admission = admit(db, config, ip, invite_code).await?;
            (admission, reason.map(str::trim).filter(|r| !r.is_empty()), false, ip)
        }
        MadeBy::Administrator { confirmed, approved } => {
            (Admission { invite: None, pending: !approved, reason_required: false }, None, confirmed, None)
        }
    };
    let mut pending = admission.pending;
    // Whoever brings a good invite gets past the e-mail blocks.
    let invited = admission.invite.is_some();
    // In Mastodon's order: Devise's e-mail and password checks, then the account's username.
    let mut errors = serde_json::Map::new();
    if email.is_empty() {
        detail(&mut errors, "email", "ERR_BLANK", "can't be blank");
    } else if !valid_email(email) {
        detail(&mut errors, "email", "ERR_INVALID", "is invalid");
    } else if sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM users WHERE lower(email) = lower($1))")
        .bind(email)
        .fetch_one(db)
        .await?
        // A blocked canonical address reads as taken, as in Mastodon; an invite gets past it.
        || (!invited && sign_up_blocks::canonical_email_blocked(db, email).await?)
    {
        detail(&mut errors, "email", "ERR_TAKEN", "has already been taken");
    } else if let Some(with_approval) = match invited {
        true => None,
        false => sign_up_blocks::email_domain_rule(db, email.rsplit_once('@').map_or("", |(_, d)| d)).await?,
    } {
        if with_approval {
            pending = true;
        } else {
            detail(&mut errors, "email", "ERR_BLOCKED", "uses a disallowed e-mail provider");
        }
    }
    let password_len = reg.password.chars().count();
    if password_len == 0 {
        detail(&mut errors, "password", "ERR_BLANK", "can't be blank");
    } else if password_len < 8 {
        detail(&mut errors, "password", "ERR_TOO_SHORT", "is too short (minimum is 8 characters)");
    } else if reg.password.len() > 72 {
        detail(&mut errors, "password", "ERR_TOO_LONG", "is too long (maximum is 72 characters)");
    }
    if username.is_empty() {
        detail(&mut errors, "username", "ERR_BLANK", "can't be blank");
    } else if !username.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        detail(&mut errors, "username", "ERR_INVALID", "must contain only letters, numbers and underscores");
    } else if username.len() > MAX_USERNAME {
        detail(&mut errors, "username", "ERR_TOO_LONG", "is too long (maximum is 30 characters)");
    } else if RESERVED_USERNAMES.contains(&username.to_ascii_lowercase().as_str()) {
        detail(&mut errors, "username", "ERR_RESERVED", "is reserved");
    } else if find_local(db, username).await?.is_some() {
        detail(&mut errors, "username", "ERR_TAKEN", "has already been taken");
    }
    if admission.reason_required && reason.is_none() {
        detail(&mut errors, "reason", "ERR_BLANK", "can't be blank");
    }
    if !reg.agreement {
        detail(&mut errors, "agreement", "ERR_ACCEPTED", "must be accepted");
    }
    if let Some(locale) = reg.locale
        && !(locale.len() <= 10 && locale.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'))
    {
        detail(&mut errors, "locale", "ERR_INCLUSION", "is not included in the list");
    }
    if !errors.is_empty() {
        return Err(invalid(errors));
    }

    let password = reg.password.to_string();
    let (hash, keys) = tokio::task::spawn_blocking(move || (bcrypt::hash(password, 10), generate_keypair()))
        .await
        .map_err(Error::internal)?;
    let hash = hash.map_err(Error::internal)?;
    let (private_key, public_key) = keys?;

    let mut tx = db.begin().await?;
    let now = time::now();
    let base = config.base_url();
    let created = sqlx::query_scalar::<_, i64>(
        "INSERT INTO accounts (username, display_name, private_key, public_key, created_at, updated_at, url,
                inbox_url, outbox_url, shared_inbox_url, followers_url, following_url, actor_type, discoverable, indexable,
                id_scheme)
         VALUES ($1, $2, $3, $4, $5, $5, $6, $7, $8, $9, $10, $11, 'Person', true, false, 0) RETURNING id",
    )
    .bind(username)
    .bind(reg.display_name.unwrap_or(""))
    .bind(&private_key)
    .bind(&public_key)
    .bind(now)
    .bind(format!("{base}/@{username}"))
    .bind(format!("{base}/users/{username}/inbox"))
    .bind(format!("{base}/users/{username}/outbox"))
    .bind(format!("{base}/inbox"))
    .bind(format!("{base}/users/{username}/followers"))
    .bind(format!("{base}/users/{username}/following"))
    .fetch_one(&mut *tx)
    .await;
    let account_id = match created {
        Ok(id) => id,
        Err(e) if is_unique_violation(&e) => {
            let mut errors = serde_json::Map::new();
            detail(&mut errors, "username", "ERR_TAKEN", "has already been taken");
            return Err(invalid(errors));
        }
        Err(e) => return Err(e.into()),
    };
    sqlx::query("INSERT INTO account_stats (account_id, created_at, updated_at) VALUES ($1, $2, $2)")
        .bind(account_id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    let user = sqlx::query_as::<_, User>(AssertSqlSafe(format!(
        "INSERT INTO users (email, encrypted_password, account_id, created_at, updated_at, confirmed_at, approved,
                locale, created_by_application_id, settings, confirmation_token, confirmation_sent_at, sign_up_ip,
                invite_id)
         VALUES ($1, $2, $3, $4, $4, CASE WHEN $7 IS NULL THEN $4 END, NOT $8, $5, $6, '{{}}', $7,
                 CASE WHEN $7 IS NOT NULL THEN $4 END, $9::inet, $10)
         RETURNING {}",
        accounts::USER_COLUMNS
    )))
    .bind(email)
    .bind(hash)
    .bind(account_id)
    .bind(now)
    .bind(reg.locale)
    .bind(reg.application_id)
    .bind(if confirmed { None } else { Some(crate::domain::email::new_token()) })
    .bind(pending)
    .bind(ip)
    .bind(admission.invite.as_ref().map(|i| i.id))
    .fetch_one(&mut *tx)
    .await;
    let user = match user {
        Ok(u) => u,
        Err(e) if is_unique_violation(&e) => {
            let mut errors = serde_json::Map::new();
            detail(&mut errors, "email", "ERR_TAKEN", "has already been taken");
            return Err(invalid(errors));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(invite) = &admission.invite
        && !invites::count_use(&mut tx, invite.id).await?
    {
        return Err(Error::Forbidden("Forbidden".into()));
    }
    if let Some(reason) = reason {
        sqlx::query("INSERT INTO user_invite_requests (user_id, text, created_at, updated_at) VALUES ($1, $2, $3, $3)")
            .bind(user.id)
            .bind(reason)
            .bind(now)
            .execute(&mut *tx)
            .await?;
    }
    if !confirmed {
        events::emit(&mut *tx, Event::ConfirmationRequested { user_id: user.id }).await?;
    } else if user.approved {
        welcome_later(&mut tx, user.id).await?;
    }
    events::emit(&mut *tx, Event::ProfileUpdated { account_id: user.account_id }).await?;
    tx.commit().await?;
    Ok(user)
}

/// Queues [`welcome`] for a user who has just become able to use the server.
pub(crate) async fn welcome_later(conn: &mut PgConnection, user_id: i64) -> Result<()> {
    queue::enqueue(conn, &deferred::Job::Welcome { user_id }).await
}

/// What follows a user's becoming able to use the server (Mastodon's `prepare_new_user!`):
/// they follow whoever invited them when the invite says so, and staff who manage users get
/// an `admin.sign_up` notification.
pub async fn welcome(core: &Core, user_id: i64) -> Result<()> {
    let db = &core.db.primary;
    let (account_id, inviter): (i64, Option<i64>) = sqlx::query_as(
        "SELECT u.account_id, (SELECT iu.account_id FROM invites i JOIN users iu ON iu.id = i.user_id
                                WHERE i.id = u.invite_id AND i.autofollow)
           FROM users u WHERE u.id = $1",
    )
    .bind(user_id)
    .fetch_one(db)
    .await?;
    if let Some(inviter) = inviter {
        match relationships::follow(core, account_id, inviter, relationships::FollowOptions::default()).await {
            // The inviter may have gone or blocked them since: nothing to follow then.
            Ok(()) | Err(Error::NotFound | Error::Forbidden(_)) => {}
            Err(e) => return Err(e),
        }
    }
    let mut tx = db.begin().await?;
    for staff in roles::accounts_permitted(&mut tx, permission::MANAGE_USERS).await? {
        notifications::notify(&mut tx, staff, account_id, NotificationType::AdminSignUp, account_id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Changes from `PATCH /api/v1/accounts/update_credentials`; `None` leaves a value alone.
#[derive(Debug, Default)]
pub struct ProfileChanges {
    pub display_name: Option<String>,
    pub note: Option<String>,
    pub locked: Option<bool>,
    pub bot: Option<bool>,
    pub discoverable: Option<bool>,
    pub indexable: Option<bool>,
    pub hide_collections: Option<bool>,
    pub fields: Option<Vec<Field>>,
    pub privacy: Option<String>,
    pub sensitive: Option<bool>,
    pub language: Option<String>,
}

pub async fn update_profile(db: &PgPool, account_id: i64, changes: ProfileChanges) -> Result<()> {
    if let Some(name) = &changes.display_name
        && name.chars().count() > MAX_DISPLAY_NAME
    {
        return Err(Error::validation(format!("Display name is too long (maximum is {MAX_DISPLAY_NAME} characters)")));
    }
    if let Some(note) = &changes.note
        && note.chars().count() > MAX_NOTE
    {
        return Err(Error::validation(format!("Note is too long (maximum is {MAX_NOTE} characters)")));
    }
    if let Some(fields) = &changes.fields {
        if fields.len() > MAX_FIELDS {
            return Err(Error::validation(format!("Fields is too long (maximum is {MAX_FIELDS} fields)")));
        }
        if fields
            .iter()
            .any(|f| f.name.chars().count() > MAX_FIELD_LENGTH || f.value.chars().count() > MAX_FIELD_LENGTH)
        {
            return Err(Error::validation("Fields is invalid"));
        }
    }
    if let Some(p) = &changes.privacy
        && !matches!(p.as_str(), "public" | "unlisted" | "private")
    {
        return Err(Error::validation("Default privacy is not included in the list"));
    }
    let mut tx = db.begin().await?;
    let fields_json = changes.fields.as_ref().map(|f| serde_json::to_value(f).unwrap_or_default());
    sqlx::query(
        "UPDATE accounts SET display_name = COALESCE($2, display_name), note = COALESCE($3, note),
                locked = COALESCE($4, locked),
                actor_type = CASE WHEN $5::boolean IS NULL THEN actor_type WHEN $5 THEN 'Service' ELSE 'Person' END,
                discoverable = COALESCE($6, discoverable), indexable = COALESCE($7, indexable),
                hide_collections = COALESCE($8, hide_collections), fields = COALESCE($9, fields),
                updated_at = $10
          WHERE id = $1",
    )
    .bind(account_id)
    .bind(&changes.display_name)
    .bind(&changes.note)
    .bind(changes.locked)
    .bind(changes.bot)
    .bind(changes.discoverable)
    .bind(changes.indexable)
    .bind(changes.hide_collections)
    .bind(fields_json)
    .bind(time::now())
    .execute(&mut *tx)
    .await?;
    if changes.privacy.is_some() || changes.sensitive.is_some() || changes.language.is_some() {
        let user =
            sqlx::query_scalar::<_, Option<String>>("SELECT settings FROM users WHERE account_id = $1 FOR UPDATE")
                .bind(account_id)
                .fetch_optional(&mut *tx)
                .await?
                .flatten();
        let mut settings: UserSettings = user.as_deref().and_then(|s| serde_json::from_str(s).ok()).unwrap_or_default();
        if changes.privacy.is_some() {
            settings.default_privacy = changes.privacy;
        }
        if changes.sensitive.is_some() {
            settings.default_sensitive = changes.sensitive;
        }
        if let Some(lang) = changes.language {
            settings.default_language = (!lang.is_empty()).then_some(lang);
        }
        sqlx::query("UPDATE users SET settings = $2, updated_at = $3 WHERE account_id = $1")
            .bind(account_id)
            .bind(serde_json::to_string(&settings).map_err(Error::internal)?)
            .bind(time::now())
            .execute(&mut *tx)
            .await?;
    }
    events::emit_once_in(&mut *tx, Event::ProfileUpdated { account_id }, 0).await?;
    tx.commit().await?;
    Ok(())
}

/// What an admin changes about a user from the command line (`tootctl accounts modify`).
#[derive(Debug, Default)]
pub struct UserChanges {
    /// A new role; `Some(None)` takes the role away.
    pub role_id: Option<Option<i64>>,
    pub email: Option<String>,
    pub confirm: bool,
    pub approve: bool,
    pub disabled: Option<bool>,
    pub disable_two_factor: bool,
    pub password: Option<String>,
}

/// Applies `changes` in one transaction. Like tootctl it bypasses the role rules the admin
/// API applies: whoever runs the command administers the server.
pub async fn change_user(db: &PgPool, user_id: i64, changes: &UserChanges) -> Result<()> {
    let hash = match &changes.password {
        Some(password) => {
            let password = password.clone();
            Some(
                tokio::task::spawn_blocking(move || bcrypt::hash(password, 10))
                    .await
                    .map_err(Error::internal)?
                    .map_err(Error::internal)?,
            )
        }
        None => None,
    };
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE users SET
            role_id = CASE WHEN $2 THEN $3 ELSE role_id END,
            email = COALESCE($4, email),
            confirmed_at = CASE WHEN $5 THEN COALESCE(confirmed_at, now() AT TIME ZONE 'UTC') ELSE confirmed_at END,
            approved = approved OR $6,
            disabled = COALESCE($7, disabled),
            otp_required_for_login = otp_required_for_login AND NOT $8,
            otp_secret = CASE WHEN $8 THEN NULL ELSE otp_secret END,
            otp_backup_codes = CASE WHEN $8 THEN NULL ELSE otp_backup_codes END,
            encrypted_password = COALESCE($9, encrypted_password),
            updated_at = now() AT TIME ZONE 'UTC'
          WHERE id = $1",
    )
    .bind(user_id)
    .bind(changes.role_id.is_some())
    .bind(changes.role_id.flatten())
    .bind(&changes.email)
    .bind(changes.confirm)
    .bind(changes.approve)
    .bind(changes.disabled)
    .bind(changes.disable_two_factor)
    .bind(hash)
    .execute(&mut *tx)
    .await;
    match updated {
        Err(e) if is_unique_violation(&e) => return Err(Error::bad_request("that e-mail address is taken")),
        other => other?,
    };
    if changes.disable_two_factor && has_security_keys(db, user_id).await? {
        sqlx::query(AssertSqlSafe("DELETE FROM webauthn_credentials WHERE user_id = $1"))
            .bind(user_id)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The `_session_id` cookie name, shared with Mastodon.
pub const SESSION_COOKIE: &str = "_session_id";

/// The user a browser is signed in as: its `_session_id` cookie, signed with
/// `SECRET_KEY_BASE`, names a sign-in that Mastodon or ferrodon recorded. Disabled users and
/// suspended accounts are not signed in.
pub async fn session_user(db: &PgPool, config: &Config, cookie: &str) -> Result<Option<(User, String)>> {
    let now = time::now().and_utc().timestamp();
    let Some(session_id) = config.signed_cookies.verify(SESSION_COOKIE, cookie, now) else { return Ok(None) };
    let Some(user_id) = crate::model::sessions::user_of(db, &session_id).await? else { return Ok(None) };
    let Some(user) = accounts::user_by_id(db, user_id).await? else { return Ok(None) };
    let usable = !user.disabled && accounts::find(db, user.account_id).await?.is_some_and(|a| a.suspended_at.is_none());
    Ok(usable.then_some((user, session_id)))
}

/// Records a browser's sign-in; returns the `_session_id` cookie value (Mastodon reads it too)
/// and when it expires, a year from now.
pub async fn start_session(
    db: &PgPool,
    config: &Config,
    user_id: i64,
    user_agent: &str,
    ip: Option<&str>,
) -> Result<(String, chrono::DateTime<chrono::Utc>)> {
    let session_id = crate::model::sessions::activate(db, user_id, user_agent, ip).await?;
    let expires = chrono::Utc::now() + chrono::Duration::days(365);
    Ok((config.signed_cookies.sign(SESSION_COOKIE, &session_id, expires), expires))
}

/// The outcome of a sign-in with a password and, for two-factor accounts, a code.
#[derive(Debug)]
pub enum SignIn {
    Signed(Box<User>),
    /// The password is right; the account also needs a TOTP or backup code.
    CodeNeeded,
    Refused,
}

/// Checks a sign-in as Mastodon does: the bcrypt password, then for accounts with
/// two-factor sign-in a TOTP code (each time step taken once, the replay guard in
/// `users.consumed_timestep`) or one of the backup codes (each used once).
pub async fn sign_in(db: &PgPool, config: &Config, login: &str, password: &str, code: Option<&str>) -> Result<SignIn> {
    let Some(user) = accounts::authenticate_user(db, login, password).await? else { return Ok(SignIn::Refused) };
    if !user.otp_required_for_login && !has_security_keys(db, user.id).await? {
        return Ok(SignIn::Signed(Box::new(user)));
    }
    let Some(code) = code.map(str::trim).filter(|c| !c.is_empty()) else { return Ok(SignIn::CodeNeeded) };
    let secret = match (&config.record_encryption, &user.otp_secret) {
        (Some(keys), Some(stored)) => keys.decrypt(stored),
        _ => None,
    };
    let now = time::now().and_utc().timestamp();
    if let Some(step) = secret.and_then(|s| secrets::totp_step(&s, code, now, user.consumed_timestep.map(i64::from))) {
        // Taken only if no other sign-in took this step (or a later one) meanwhile.
        let taken = sqlx::query(
            "UPDATE users SET consumed_timestep = $2 WHERE id = $1 AND (consumed_timestep IS NULL OR consumed_timestep < $2)",
        )
        .bind(user.id)
        .bind(step as i32)
        .execute(db)
        .await?;
        return Ok(if taken.rows_affected() == 1 { SignIn::Signed(Box::new(user)) } else { SignIn::Refused });
    }
    let hashes = user.otp_backup_codes.clone().unwrap_or_default();
    let typed = code.to_string();
    let matched = tokio::task::spawn_blocking(move || {
        hashes.into_iter().find(|hash| bcrypt::verify(&typed, hash).unwrap_or(false))
    })
    .await
    .map_err(Error::internal)?;
    let Some(hash) = matched else { return Ok(SignIn::Refused) };
    let used = sqlx::query(
        "UPDATE users SET otp_backup_codes = array_remove(otp_backup_codes, $2) WHERE id = $1 AND $2 = ANY(otp_backup_codes)",
    )
    .bind(user.id)
    .bind(&hash)
    .execute(db)
    .await?;
    Ok(if used.rows_affected() == 1 { SignIn::Signed(Box::new(user)) } else { SignIn::Refused })
}

/// Whether the user signs in with a security key (WebAuthn), which ferrodon cannot check
/// yet: such accounts need a TOTP or backup code too, never the password alone. The table
/// is Mastodon's and exists only on adopted databases.
async fn has_security_keys(db: &PgPool, user_id: i64) -> Result<bool> {
    let exists: bool =
        sqlx::query_scalar("SELECT to_regclass('public.webauthn_credentials') IS NOT NULL").fetch_one(db).await?;
    if !exists {
        return Ok(false);
    }
    Ok(sqlx::query_scalar(AssertSqlSafe("SELECT EXISTS (SELECT 1 FROM webauthn_credentials WHERE user_id = $1)"))
        .bind(user_id)
        .fetch_one(db)
        .await?)
}

/// `tootctl accounts rotate`: a new key pair for a local account, announced to its servers
/// by an `Update` of the actor (signed with the new key: a server that cannot verify it
/// fetches the actor again, as Mastodon's do).
pub async fn rotate_keys(db: &PgPool, account_id: i64) -> Result<()> {
    let (private, public) = accounts::generate_keypair()?;
    let mut tx = db.begin().await?;
    if !accounts::set_keypair(&mut tx, account_id, &private, &public).await? {
        return Err(Error::NotFound);
    }
    events::emit(&mut *tx, Event::ProfileUpdated { account_id }).await?;
    tx.commit().await?;
    Ok(())
}
