//! Outgoing e-mail, sent from the `mailers` queue as Mastodon's ActionMailer jobs are:
//! address confirmation, password reset and the notification mails a user keeps on. Each
//! job names what to send and the mail is rendered when it runs, so a retried job sends
//! what is true then. Delivery is SMTP (Mastodon's `SMTP_*` variables) or, without an
//! SMTP server, an `.eml` file per mail in `FERRODON_MAIL_DIR`.

use std::time::Duration;

use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::transport::smtp::client::{Tls, TlsParameters};
use lettre::transport::smtp::extension::ClientId;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use redis::AsyncCommands;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::core::config::{Config, SmtpConfig, SmtpSecurity};
use crate::core::error::{Error, Result};
use crate::core::queue;
use crate::core::text::escape_html;
use crate::model::notifications::NotificationType;

/// The mail jobs (the `mailers` queue).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type")]
pub enum Job {
    Confirmation {
        user_id: i64,
    },
    /// Carries the raw token: only its digest is stored.
    PasswordReset {
        user_id: i64,
        token: String,
    },
    /// A new notification: decides now whether it is mailed (two minutes later).
    NotificationCreated {
        notification_id: i64,
    },
    Notification {
        notification_id: i64,
    },
    /// Staff acted on the user's account.
    Warning {
        warning_id: i64,
    },
    /// A sign-up was confirmed and awaits approval: queues a `Staff` mail for each holder of
    /// `manage_users` who keeps that mail on.
    PendingAccount {
        account_id: i64,
    },
    /// One staff member's mail about something awaiting them.
    Staff {
        recipient_user_id: i64,
        about: StaffAlert,
    },
}

/// What a staff mail is about (Mastodon's AdminMailer).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "kind")]
pub enum StaffAlert {
    PendingAccount { account_id: i64 },
    Report { report_id: i64 },
}

impl queue::Job for Job {
    const FAMILY: &'static str = "Mail";
    fn queue(&self) -> &'static str {
        "mailers"
    }
    /// A mail server may be down for a while: about four days of retries.
    fn max_attempts(&self) -> i32 {
        12
    }
}

impl Job {
    /// Renders and sends one mail (nothing when it no longer applies). `job_id` marks a sent
    /// mail, so a job that runs again after its worker died does not send it twice.
    pub async fn perform(self, state: &AppState, job_id: i64) -> Result<()> {
        let mail = match self {
            Job::Confirmation { user_id } => confirmation(state, user_id).await?,
            Job::PasswordReset { user_id, token } => password_reset(state, user_id, &token).await?,
            Job::NotificationCreated { notification_id } => return queue_notification(state, notification_id).await,
            Job::Notification { notification_id } => notification(state, notification_id).await?,
            Job::Warning { warning_id } => warning(state, warning_id).await?,
            Job::PendingAccount { account_id } => return queue_pending_account(state, account_id).await,
            Job::Staff { recipient_user_id, about } => staff_alert(state, recipient_user_id, about).await?,
        };
        let Some(mail) = mail else { return Ok(()) };
        let sent = state.redis.key(format!("ferrodon:mailed:{job_id}"));
        let mut redis = state.redis.conn().await?;
        if redis.exists(&sent).await? {
            return Ok(());
        }
        send(&state.config, mail).await?;
        let _: () = redis.set_ex(&sent, 1, 7 * 86_400).await?;
        Ok(())
    }
}

/// A rendered mail.
#[derive(Debug, Clone)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Mastodon sends notification mails two minutes after the notification.
const NOTIFICATION_DELAY_SECONDS: i64 = 120;

fn build(config: &Config, mail: Mail) -> Result<lettre::Message> {
    let from: Mailbox = config.mail.from.parse().map_err(|e| Error::internal(format!("SMTP_FROM_ADDRESS: {e}")))?;
    let to: Mailbox = mail.to.parse().map_err(|e| Error::internal(format!("recipient {:?}: {e}", mail.to)))?;
    let mut builder = lettre::Message::builder().from(from).to(to).subject(mail.subject);
    if let Some(reply_to) = &config.mail.reply_to {
        builder = builder.reply_to(reply_to.parse().map_err(|e| Error::internal(format!("SMTP_REPLY_TO: {e}")))?);
    }
    builder
        .multipart(MultiPart::alternative_plain_html(mail.text, mail.html))
        .map_err(|e| Error::internal(format!("building a mail: {e}")))
}

fn transport(smtp: &SmtpConfig) -> Result<AsyncSmtpTransport<Tokio1Executor>> {
    let tls_parameters = || {
        TlsParameters::builder(smtp.server.clone())
            .dangerous_accept_invalid_certs(!smtp.verify_certificates)
            .build_rustls()
            .map_err(|e| Error::internal(format!("SMTP TLS: {e}")))
    };
    let tls = match smtp.security {
        SmtpSecurity::None => Tls::None,
        SmtpSecurity::StartTlsIfOffered => Tls::Opportunistic(tls_parameters()?),
        SmtpSecurity::StartTls => Tls::Required(tls_parameters()?),
        SmtpSecurity::Tls => Tls::Wrapper(tls_parameters()?),
    };
    let mut builder = AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(&smtp.server)
        .port(smtp.port)
        .tls(tls)
        .hello_name(ClientId::Domain(smtp.helo_domain.clone()))
        .timeout(Some(Duration::from_secs(20)));
    if let Some((login, password)) = &smtp.credentials {
        builder = builder.credentials(Credentials::new(login.clone(), password.clone()));
    }
    Ok(builder.build())
}

/// Sends over SMTP, or writes the mail to the mail folder when no server is configured.
pub async fn send(config: &Config, mail: Mail) -> Result<()> {
    let message = build(config, mail)?;
    match &config.mail.smtp {
        Some(smtp) => {
            transport(smtp)?.send(message).await.map_err(|e| Error::internal(format!("SMTP {}: {e}", smtp.server)))?;
        }
        None => {
            let dir = &config.mail.mail_dir;
            tokio::fs::create_dir_all(dir).await.map_err(|e| Error::internal(format!("{}: {e}", dir.display())))?;
            let mut suffix = [0u8; 4];
            rand::RngCore::fill_bytes(&mut rand::rng(), &mut suffix);
            let name = format!("{}-{}.eml", chrono::Utc::now().format("%Y%m%dT%H%M%S%.6f"), hex::encode(suffix));
            tokio::fs::write(dir.join(name), message.formatted())
                .await
                .map_err(|e| Error::internal(format!("{}: {e}", dir.display())))?;
        }
    }
    Ok(())
}

/// A plain-text and an HTML body with one call to action.
fn body(greeting: &str, lines: &[&str], action: Option<(&str, &str)>) -> (String, String) {
    let mut text = format!("{greeting}\n\n");
    let mut html = format!("<p>{}</p>", escape_html(greeting));
    for line in lines {
        text.push_str(line);
        text.push_str("\n\n");
        html.push_str(&format!("<p>{}</p>", escape_html(line)));
    }
    if let Some((label, url)) = action {
        text.push_str(&format!("{label}: {url}\n"));
        html.push_str(&format!("<p><a href=\"{}\">{}</a></p>", escape_html(url), escape_html(label)));
    }
    (text, html)
}

#[derive(sqlx::FromRow)]
struct Recipient {
    email: String,
    unconfirmed_email: Option<String>,
    confirmation_token: Option<String>,
    confirmed_at: Option<chrono::NaiveDateTime>,
    created_by_application_id: Option<i64>,
    username: String,
}

async fn recipient(state: &AppState, user_id: i64) -> Result<Option<Recipient>> {
    Ok(sqlx::query_as(
        "SELECT u.email, u.unconfirmed_email, u.confirmation_token, u.confirmed_at, u.created_by_application_id,
                a.username
           FROM users u JOIN accounts a ON a.id = u.account_id
          WHERE u.id = $1 AND NOT u.disabled",
    )
    .bind(user_id)
    .fetch_optional(&state.db.primary)
    .await?)
}

async fn confirmation(state: &AppState, user_id: i64) -> Result<Option<Mail>> {
    let Some(user) = recipient(state, user_id).await? else { return Ok(None) };
    let Some(token) =
        user.confirmation_token.filter(|_| user.confirmed_at.is_none() || user.unconfirmed_email.is_some())
    else {
        return Ok(None);
    };
    let instance = &state.config.local_domain;
    let mut link = format!("{}/auth/confirmation?confirmation_token={token}", state.config.base_url());
    if user.created_by_application_id.is_some() {
        link.push_str("&redirect_to_app=true");
    }
    let (text, html) = body(
        &format!("Welcome, @{}!", user.username),
        &[&format!("To finish signing up on {instance}, confirm this e-mail address. The link is valid for two days.")],
        Some(("Verify email address", &link)),
    );
    Ok(Some(Mail {
        to: user.unconfirmed_email.unwrap_or(user.email),
        subject: format!("Mastodon: Confirmation instructions for {instance}"),
        text,
        html,
    }))
}

/// What staff did, as Mastodon's warning mail says it: a subject and an explanation.
fn warning_words(action: &str, acct: &str) -> (String, &'static str) {
    match action {
        "disable" => (
            format!("Your account {acct} has been frozen"),
            "You can no longer use your account, but your profile and other data remain intact.",
        ),
        "sensitive" => (
            format!("Your account {acct} posting media has been marked as sensitive"),
            "From now on, the media you post will be marked as sensitive and hidden behind a warning.",
        ),
        "silence" => (
            format!("Your account {acct} has been limited"),
            "You can still use your account, but only people who already follow you will see your posts here.",
        ),
        "suspend" => (
            format!("Your account {acct} has been suspended"),
            "You can no longer use your account, and your profile and other data are no longer accessible.",
        ),
        _ => (format!("Your account {acct} has received a warning"), "A moderator has sent you a warning."),
    }
}

async fn warning(state: &AppState, warning_id: i64) -> Result<Option<Mail>> {
    let found: Option<(String, String, i32, String)> = sqlx::query_as(
        "SELECT u.email, a.username, w.action, w.text FROM account_warnings w
           JOIN accounts a ON a.id = w.target_account_id JOIN users u ON u.account_id = a.id
          WHERE w.id = $1",
    )
    .bind(warning_id)
    .fetch_optional(&state.db.primary)
    .await?;
    let Some((email, username, action, reason)) = found else { return Ok(None) };
    let acct = format!("@{username}@{}", state.config.local_domain);
    let (subject, explanation) = warning_words(crate::model::warnings::action_name(action), &acct);
    let mut lines = vec![explanation];
    if !reason.is_empty() {
        lines.push(&reason);
    }
    let link = format!("{}/disputes/strikes/{warning_id}", state.config.base_url());
    let (text, html) = body(&format!("Hello @{username},"), &lines, Some(("Review the decision", &link)));
    Ok(Some(Mail { to: email, subject, text, html }))
}

async fn password_reset(state: &AppState, user_id: i64, token: &str) -> Result<Option<Mail>> {
    let Some(user) = recipient(state, user_id).await? else { return Ok(None) };
    let link = format!("{}/auth/password/edit?reset_password_token={token}", state.config.base_url());
    let (text, html) = body(
        &format!("Hello @{},", user.username),
        &[
            "Someone asked to change the password of your account. If that was not you, ignore this mail.",
            "The link is valid for six hours.",
        ],
        Some(("Change password", &link)),
    );
    Ok(Some(Mail { to: user.email, subject: "Mastodon: Reset password instructions".into(), text, html }))
}

#[derive(sqlx::FromRow)]
struct NotificationRow {
    kind: String,
    email: String,
    recipient: String,
    from_username: String,
    from_domain: Option<String>,
    status_id: Option<i64>,
    status_text: Option<String>,
}

async fn notification(state: &AppState, notification_id: i64) -> Result<Option<Mail>> {
    let row: Option<NotificationRow> = sqlx::query_as(
        "SELECT n.type AS kind, u.email, r.username AS recipient, f.username AS from_username, f.domain AS from_domain,
                s.id AS status_id, s.text AS status_text
           FROM notifications n
           JOIN users u ON u.account_id = n.account_id AND NOT u.disabled AND u.confirmed_at IS NOT NULL
           JOIN accounts r ON r.id = n.account_id
           JOIN accounts f ON f.id = n.from_account_id
           LEFT JOIN mentions m ON n.activity_type = 'Mention' AND m.id = n.activity_id
           LEFT JOIN favourites fav ON n.activity_type = 'Favourite' AND fav.id = n.activity_id
           LEFT JOIN statuses s ON s.id = COALESCE(m.status_id, fav.status_id,
                                   CASE WHEN n.activity_type = 'Status' THEN
                                     (SELECT COALESCE(x.reblog_of_id, x.id) FROM statuses x WHERE x.id = n.activity_id) END)
          WHERE n.id = $1",
    )
    .bind(notification_id)
    .fetch_optional(&state.db.primary)
    .await?;
    let Some(n) = row else { return Ok(None) };
    let name = match &n.from_domain {
        Some(domain) => format!("{}@{domain}", n.from_username),
        None => n.from_username.clone(),
    };
    let base = state.config.base_url();
    let (subject, line, link) = match n.kind.as_str() {
        "mention" => (format!("You were mentioned by {name}"), format!("{name} mentioned you in:"), None),
        "follow" => (format!("{name} is now following you"), format!("{name} is now following you!"), None),
        "follow_request" => (
            format!("Pending follower: {name}"),
            format!("{name} has requested to follow you"),
            Some(format!("{base}/follow_requests")),
        ),
        "favourite" => (format!("{name} favorited your post"), format!("{name} favorited your post:"), None),
        "reblog" => (format!("{name} boosted your post"), format!("{name} boosted your post:"), None),
        _ => return Ok(None),
    };
    let link = link.unwrap_or_else(|| match n.status_id {
        Some(id) => format!("{base}/@{}/{id}", n.recipient),
        None => format!("{base}/@{name}"),
    });
    let quoted = n.status_text.unwrap_or_default();
    let mut lines = vec![line.as_str()];
    if !quoted.is_empty() {
        lines.push(&quoted);
    }
    let (text, html) = body(&format!("Hello @{},", n.recipient), &lines, Some(("View on Mastodon", &link)));
    Ok(Some(Mail { to: n.email, subject, text, html }))
}

/// The notification types that can be mailed, with Mastodon's defaults for new users.
fn mailed_by_default(kind: NotificationType) -> Option<bool> {
    match kind {
        NotificationType::Mention | NotificationType::Follow | NotificationType::FollowRequest => Some(true),
        NotificationType::Favourite | NotificationType::Reblog => Some(false),
        _ => None,
    }
}

/// After a notification: queues its mail (two minutes later) when the recipient keeps that
/// kind of mail on and is not reading along on a streaming connection, unless they asked
/// for mail always (Mastodon's NotifyService rules).
async fn queue_notification(state: &AppState, notification_id: i64) -> Result<()> {
    let found: Option<(i64, String, i64)> =
        sqlx::query_as("SELECT account_id, type, activity_id FROM notifications WHERE id = $1")
            .bind(notification_id)
            .fetch_optional(&state.db.primary)
            .await?;
    let Some((recipient, kind, activity_id)) = found else { return Ok(()) };
    if kind == NotificationType::AdminReport.as_str() {
        // Staff hear of a report by the admin mail, at once, whether or not they are online.
        let Some(user) = staff_member(state, recipient, "notification_emails.report").await? else { return Ok(()) };
        let about = StaffAlert::Report { report_id: activity_id };
        return queue::enqueue(&state.db.primary, &Job::Staff { recipient_user_id: user.id, about }).await;
    }
    let Some(default) = NotificationType::parse(&kind).and_then(mailed_by_default) else { return Ok(()) };
    let user = crate::model::accounts::user_by_account(&state.db.primary, recipient).await?;
    let Some(user) = user.filter(|u| u.confirmed_at.is_some()) else { return Ok(()) };
    let setting = |key: &str| user_setting(&user, key);
    if !setting(&format!("notification_emails.{kind}")).unwrap_or(default) {
        return Ok(());
    }
    if !setting("always_send_emails").unwrap_or(false) {
        let mut redis = state.redis.conn().await?;
        let online: bool = redis.exists(state.redis.key(format!("subscribed:timeline:{recipient}"))).await?;
        if online {
            return Ok(());
        }
    }
    let job = Job::Notification { notification_id };
    queue::enqueue_in(&state.db.primary, &job, NOTIFICATION_DELAY_SECONDS).await
}

/// A user's boolean setting, if they set it.
fn user_setting(user: &crate::model::accounts::User, key: &str) -> Option<bool> {
    user.settings().other.get(key).and_then(serde_json::Value::as_bool)
}

/// The staff member behind `account_id` if they keep the staff mail `setting` on (the
/// default).
async fn staff_member(
    state: &AppState,
    account_id: i64,
    setting: &str,
) -> Result<Option<crate::model::accounts::User>> {
    let user = crate::model::accounts::user_by_account(&state.db.primary, account_id).await?;
    Ok(user.filter(|u| user_setting(u, setting).unwrap_or(true)))
}

async fn queue_pending_account(state: &AppState, account_id: i64) -> Result<()> {
    use crate::model::roles::{self, permission};
    let mut tx = state.db.primary.begin().await?;
    for staff in roles::accounts_permitted(&mut tx, permission::MANAGE_USERS).await? {
        let Some(user) = staff_member(state, staff, "notification_emails.pending_account").await? else { continue };
        let about = StaffAlert::PendingAccount { account_id };
        queue::enqueue_once_in(&mut *tx, &Job::Staff { recipient_user_id: user.id, about }, 0).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Mastodon's AdminMailer mails: a sign-up up for review (while it still is), a new report.
async fn staff_alert(state: &AppState, recipient_user_id: i64, about: StaffAlert) -> Result<Option<Mail>> {
    let Some(staff) = recipient(state, recipient_user_id).await? else { return Ok(None) };
    let (domain, base) = (&state.config.local_domain, state.config.base_url());
    let greeting = format!("Hello @{},", staff.username);
    let (subject, lines, link) = match about {
        StaffAlert::PendingAccount { account_id } => {
            let pending: Option<(String, String, Option<String>, Option<String>)> = sqlx::query_as(
                "SELECT a.username, u.email, host(u.sign_up_ip), r.text
                   FROM accounts a JOIN users u ON u.account_id = a.id
                   LEFT JOIN user_invite_requests r ON r.user_id = u.id
                  WHERE a.id = $1 AND NOT u.approved",
            )
            .bind(account_id)
            .fetch_optional(&state.db.primary)
            .await?;
            let Some((username, email, ip, reason)) = pending else { return Ok(None) };
            let mut lines = vec![
                "The details of the new account are below. You can approve or reject this application.".to_string(),
                format!("{email} (@{username})"),
            ];
            lines.extend(ip);
            lines.extend(reason.filter(|r| !r.trim().is_empty()));
            let subject = format!("New account up for review on {domain} ({username})");
            (subject, lines, format!("{base}/admin/accounts/{account_id}"))
        }
        StaffAlert::Report { report_id } => {
            let report: Option<(String, Option<String>, String, Option<String>)> = sqlx::query_as(
                "SELECT f.username, f.domain, t.username, t.domain
                   FROM reports r JOIN accounts f ON f.id = r.account_id JOIN accounts t ON t.id = r.target_account_id
                  WHERE r.id = $1",
            )
            .bind(report_id)
            .fetch_optional(&state.db.primary)
            .await?;
            let Some((reporter, reporter_domain, target, target_domain)) = report else { return Ok(None) };
            let target = match target_domain {
                Some(d) => format!("{target}@{d}"),
                None => target,
            };
            let line = match reporter_domain {
                None => format!("{reporter} has reported {target}"),
                Some(d) => format!("Someone from {d} has reported {target}"),
            };
            (format!("New report for {domain} (#{report_id})"), vec![line], format!("{base}/admin/reports/{report_id}"))
        }
    };
    let lines: Vec<&str> = lines.iter().map(String::as_str).collect();
    let (text, html) = body(&greeting, &lines, Some(("View", &link)));
    Ok(Some(Mail { to: staff.email, subject, text, html }))
}
