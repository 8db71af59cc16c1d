//! Following (and asking to), blocking and muting, for local and remote accounts alike (Mastodon's
//! FollowService, AuthorizeFollowService, BlockService, MuteService). Each change keeps the
//! counters and notifications in its transaction; home feeds and other servers follow from
//! its event.

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::time;
use crate::domain::events::{self, Event};
use crate::domain::notifications::notify;
use crate::model::accounts::{self, Counter};
use crate::model::notifications::{self, NotificationType};
use crate::model::relationships::blocked_either_way;

#[derive(Debug, Default, Clone)]
pub struct FollowOptions {
    pub reblogs: Option<bool>,
    pub notify: Option<bool>,
    pub languages: Option<Vec<String>>,
    /// The id of the Follow activity, when a remote account follows from its server.
    pub uri: Option<String>,
}

/// A new id for an activity or relationship of ours, as Mastodon's `generate_uri_for` makes them.
fn new_uri(config: &crate::core::config::Config) -> String {
    format!("{}/{}", config.base_url(), uuid_v4())
}

/// A random (version 4) UUID in its usual text form.
fn uuid_v4() -> String {
    let mut bytes: [u8; 16] = rand::random();
    bytes[6] = (bytes[6] & 0x0f) | 0x40;
    bytes[8] = (bytes[8] & 0x3f) | 0x80;
    let hex = hex::encode(bytes);
    format!("{}-{}-{}-{}-{}", &hex[..8], &hex[8..12], &hex[12..16], &hex[16..20], &hex[20..])
}

fn not_allowed() -> Error {
    Error::Forbidden("This action is not allowed".into())
}

/// Follows `target` (or asks to, if it is locked or remote). Repeating a follow updates its
/// options.
pub async fn follow(state: &Core, source: i64, target_id: i64, opts: FollowOptions) -> Result<()> {
    let db = &state.db.primary;
    let target = accounts::get(db, target_id).await?;
    if target.id == source || blocked_either_way(db, source, target.id).await? {
        return Err(not_allowed());
    }
    let languages = opts.languages.clone().filter(|l| !l.is_empty());
    let mut tx = db.begin().await?;
    let updated = sqlx::query(
        "UPDATE follows SET show_reblogs = COALESCE($3, show_reblogs), notify = COALESCE($4, notify),
                languages = CASE WHEN $6 THEN $5 ELSE languages END, uri = COALESCE($7, uri),
                updated_at = now() AT TIME ZONE 'UTC'
          WHERE account_id = $1 AND target_account_id = $2",
    )
    .bind(source)
    .bind(target.id)
    .bind(opts.reblogs)
    .bind(opts.notify)
    .bind(&languages)
    .bind(opts.languages.is_some())
    .bind(&opts.uri)
    .execute(&mut *tx)
    .await?;
    if updated.rows_affected() > 0 {
        // A remote server repeating its Follow is told again that it stands.
        if opts.uri.is_some() {
            events::emit(&mut *tx, Event::Followed { account_id: source, target_account_id: target.id }).await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    // Every follow and request is named, as Mastodon names them (`https://LOCAL_DOMAIN/<uuid>`)
    // unless the remote Follow brought its id.
    let opts = FollowOptions { uri: Some(opts.uri.clone().unwrap_or_else(|| new_uri(&state.config))), ..opts };
    // A silenced account asks, whoever it follows.
    let source_silenced = accounts::get(db, source).await?.silenced_at.is_some();
    if target.locked || !target.is_local() || source_silenced {
        let request_id: Option<i64> = sqlx::query_scalar(
            "INSERT INTO follow_requests (account_id, target_account_id, show_reblogs, notify, languages, uri,
                                          created_at, updated_at)
             VALUES ($1, $2, COALESCE($3, true), COALESCE($4, false), $5, $6, $7, $7)
             ON CONFLICT (account_id, target_account_id) DO UPDATE
                SET show_reblogs = COALESCE($3, follow_requests.show_reblogs),
                    notify = COALESCE($4, follow_requests.notify), uri = COALESCE($6, follow_requests.uri),
                    updated_at = $7
             RETURNING (CASE WHEN xmax = 0 THEN id END)",
        )
        .bind(source)
        .bind(target.id)
        .bind(opts.reblogs)
        .bind(opts.notify)
        .bind(&languages)
        .bind(&opts.uri)
        .bind(time::now())
        .fetch_one(&mut *tx)
        .await?;
        if let Some(id) = request_id {
            notify(&mut tx, target.id, source, NotificationType::FollowRequest, id).await?;
            events::emit(&mut *tx, Event::FollowRequested { account_id: source, target_account_id: target.id }).await?;
        }
        tx.commit().await?;
        return Ok(());
    }
    if let Some(follow_id) = create_follow(&mut tx, source, target.id, &opts).await? {
        notify(&mut tx, target.id, source, NotificationType::Follow, follow_id).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Inserts the follow with its counters and event; `None` if it existed.
async fn create_follow(
    tx: &mut sqlx::PgConnection,
    source: i64,
    target: i64,
    opts: &FollowOptions,
) -> Result<Option<i64>> {
    let id: Option<i64> = sqlx::query_scalar(
        "INSERT INTO follows (account_id, target_account_id, show_reblogs, notify, languages, uri, created_at, updated_at)
         VALUES ($1, $2, COALESCE($3, true), COALESCE($4, false), $5, $6, $7, $7)
         ON CONFLICT (account_id, target_account_id) DO NOTHING RETURNING id",
    )
    .bind(source)
    .bind(target)
    .bind(opts.reblogs)
    .bind(opts.notify)
    .bind(opts.languages.clone().filter(|l| !l.is_empty()))
    .bind(&opts.uri)
    .bind(time::now())
    .fetch_optional(&mut *tx)
    .await?;
    if id.is_some() {
        accounts::bump_stat(tx, source, Counter::Following, 1).await?;
        accounts::bump_stat(tx, target, Counter::Followers, 1).await?;
        events::emit(&mut *tx, Event::Followed { account_id: source, target_account_id: target }).await?;
    }
    Ok(id)
}

/// Removes a follow (and any pending request) from `source` to `target`.
pub async fn unfollow(state: &Core, source: i64, target: i64) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    // The id of the Follow (or request) being undone, for servers that match on it.
    let follow_uri: Option<Option<String>> = sqlx::query_scalar(
        "SELECT uri FROM follows WHERE account_id = $1 AND target_account_id = $2
         UNION ALL SELECT uri FROM follow_requests WHERE account_id = $1 AND target_account_id = $2",
    )
    .bind(source)
    .bind(target)
    .fetch_optional(&mut *tx)
    .await?;
    remove_follow(&mut tx, source, target).await?;
    sqlx::query("DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2")
        .bind(source)
        .bind(target)
        .execute(&mut *tx)
        .await?;
    if let Some(follow_uri) = follow_uri {
        events::emit(&mut *tx, Event::Unfollowed { account_id: source, target_account_id: target, follow_uri }).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `target` stops `follower` following it (Mastodon's RemoveFromFollowersService).
pub async fn remove_from_followers(state: &Core, target: i64, follower: i64) -> Result<()> {
    accounts::get(&state.db.primary, follower).await?;
    let mut tx = state.db.primary.begin().await?;
    let follow_uri: Option<Option<String>> =
        sqlx::query_scalar("SELECT uri FROM follows WHERE account_id = $1 AND target_account_id = $2")
            .bind(follower)
            .bind(target)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(follow_uri) = follow_uri {
        remove_follow(&mut tx, follower, target).await?;
        let removed = Event::FollowerRemoved { account_id: follower, target_account_id: target, follow_uri };
        events::emit(&mut *tx, removed).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// How long a private note may be (Mastodon's `AccountNote::COMMENT_SIZE_LIMIT`).
pub const MAX_NOTE: usize = 2_000;

/// `source`'s private note about `target` (blank: none).
pub async fn set_note(state: &Core, source: i64, target: i64, comment: &str) -> Result<()> {
    accounts::get(&state.db.primary, target).await?;
    if comment.chars().count() > MAX_NOTE {
        return Err(Error::validation(format!("Comment is too long (maximum is {MAX_NOTE} characters)")));
    }
    crate::model::relationships::set_note(&state.db.primary, source, target, comment).await
}

/// Shows `target` among `source`'s endorsed accounts; only a followed account can be.
pub async fn endorse(state: &Core, source: i64, target: i64) -> Result<()> {
    accounts::get(&state.db.primary, target).await?;
    let added = sqlx::query(
        "INSERT INTO account_pins (account_id, target_account_id, created_at, updated_at)
         SELECT $1, $2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
          WHERE EXISTS (SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2)
         ON CONFLICT (account_id, target_account_id) DO NOTHING",
    )
    .bind(source)
    .bind(target)
    .execute(&state.db.primary)
    .await?
    .rows_affected();
    let endorsed =
        added > 0 || crate::model::relationships::relationship(&state.db.primary, source, target).await?.endorsed;
    if !endorsed {
        return Err(Error::validation("You must be already following the person you want to endorse"));
    }
    Ok(())
}

pub async fn unendorse(state: &Core, source: i64, target: i64) -> Result<()> {
    accounts::get(&state.db.primary, target).await?;
    sqlx::query("DELETE FROM account_pins WHERE account_id = $1 AND target_account_id = $2")
        .bind(source)
        .bind(target)
        .execute(&state.db.primary)
        .await?;
    Ok(())
}

/// Deletes the follow with its counters and its `follow` notification (Mastodon destroys
/// the notification with the follow).
async fn remove_follow(tx: &mut sqlx::PgConnection, source: i64, target: i64) -> Result<bool> {
    let removed: Option<i64> =
        sqlx::query_scalar("DELETE FROM follows WHERE account_id = $1 AND target_account_id = $2 RETURNING id")
            .bind(source)
            .bind(target)
            .fetch_optional(&mut *tx)
            .await?;
    if let Some(id) = removed {
        // An endorsement needs the follow (Mastodon's Follow#remove_endorsements).
        sqlx::query("DELETE FROM account_pins WHERE account_id = $1 AND target_account_id = $2")
            .bind(source)
            .bind(target)
            .execute(&mut *tx)
            .await?;
        accounts::bump_stat(tx, source, Counter::Following, -1).await?;
        accounts::bump_stat(tx, target, Counter::Followers, -1).await?;
        notifications::remove_for_activity(tx, "Follow", &[id]).await?;
    }
    Ok(removed.is_some())
}

/// `show_reblogs`, `notify`, `languages` and the remote Follow's `uri` of a request.
type StoredFollowRequest = (Option<bool>, Option<bool>, Option<Vec<String>>, Option<String>);

/// Accepts a pending follow request from `requester` to `target`.
pub async fn authorize_follow_request(state: &Core, target: i64, requester: i64) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    let request: Option<StoredFollowRequest> = sqlx::query_as(
        "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2
         RETURNING show_reblogs, notify, languages, uri",
    )
    .bind(requester)
    .bind(target)
    .fetch_optional(&mut *tx)
    .await?;
    let Some((reblogs, notify, languages, uri)) = request else { return Err(Error::NotFound) };
    // A remote requester's Follow id stays with the follow, for the Accept and a later Undo.
    let opts = FollowOptions { reblogs, notify, languages, uri };
    create_follow(&mut tx, requester, target, &opts).await?;
    remove_request_notification(&mut tx, target, requester).await?;
    tx.commit().await?;
    Ok(())
}

async fn remove_request_notification(tx: &mut sqlx::PgConnection, target: i64, requester: i64) -> Result<()> {
    sqlx::query("DELETE FROM notifications WHERE account_id = $1 AND from_account_id = $2 AND type = 'follow_request'")
        .bind(target)
        .bind(requester)
        .execute(tx)
        .await?;
    Ok(())
}

pub async fn reject_follow_request(state: &Core, target: i64, requester: i64) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    let removed: Option<Option<String>> = sqlx::query_scalar(
        "DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2 RETURNING uri",
    )
    .bind(requester)
    .bind(target)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(follow_uri) = removed else { return Err(Error::NotFound) };
    remove_request_notification(&mut tx, target, requester).await?;
    let rejected = Event::FollowRequestRejected { account_id: requester, target_account_id: target, follow_uri };
    events::emit(&mut *tx, rejected).await?;
    tx.commit().await?;
    Ok(())
}

/// Blocks `target`: ends follows and requests both ways and clears the home feeds.
pub async fn block(state: &Core, source: i64, target_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let target = accounts::get(db, target_id).await?;
    if target.id == source {
        return Err(not_allowed());
    }
    let mut tx = db.begin().await?;
    remove_follow(&mut tx, source, target.id).await?;
    remove_follow(&mut tx, target.id, source).await?;
    sqlx::query(
        "DELETE FROM follow_requests WHERE (account_id = $1 AND target_account_id = $2)
                                        OR (account_id = $2 AND target_account_id = $1)",
    )
    .bind(source)
    .bind(target.id)
    .execute(&mut *tx)
    .await?;
    let added = sqlx::query(
        "INSERT INTO blocks (account_id, target_account_id, created_at, updated_at) VALUES ($1, $2, $3, $3)
         ON CONFLICT (account_id, target_account_id) DO NOTHING",
    )
    .bind(source)
    .bind(target.id)
    .bind(time::now())
    .execute(&mut *tx)
    .await?
    .rows_affected();
    if added > 0 {
        events::emit(&mut *tx, Event::Blocked { account_id: source, target_account_id: target.id }).await?;
    }
    tx.commit().await?;
    Ok(())
}

pub async fn unblock(state: &Core, source: i64, target: i64) -> Result<()> {
    accounts::get(&state.db.primary, target).await?;
    let mut tx = state.db.primary.begin().await?;
    let removed = sqlx::query("DELETE FROM blocks WHERE account_id = $1 AND target_account_id = $2")
        .bind(source)
        .bind(target)
        .execute(&mut *tx)
        .await?;
    if removed.rows_affected() > 0 {
        events::emit(&mut *tx, Event::Unblocked { account_id: source, target_account_id: target }).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Mutes `target` (optionally hiding notifications, optionally for `duration` seconds).
pub async fn mute(state: &Core, source: i64, target_id: i64, notifications: bool, duration: Option<i64>) -> Result<()> {
    let db = &state.db.primary;
    let target = accounts::get(db, target_id).await?;
    if target.id == source {
        return Err(not_allowed());
    }
    let expires_at = duration.filter(|d| *d > 0).map(|d| time::now() + chrono::Duration::seconds(d));
    let mut tx = db.begin().await?;
    sqlx::query(
        "INSERT INTO mutes (account_id, target_account_id, hide_notifications, expires_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $5)
         ON CONFLICT (account_id, target_account_id) DO UPDATE
            SET hide_notifications = $3, expires_at = $4, updated_at = $5",
    )
    .bind(source)
    .bind(target.id)
    .bind(notifications)
    .bind(expires_at)
    .bind(time::now())
    .execute(&mut *tx)
    .await?;
    events::emit(&mut *tx, Event::Muted { account_id: source, target_account_id: target.id }).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn unmute(state: &Core, source: i64, target: i64) -> Result<()> {
    let db = &state.db.primary;
    accounts::get(db, target).await?;
    let mut tx = db.begin().await?;
    let removed = sqlx::query("DELETE FROM mutes WHERE account_id = $1 AND target_account_id = $2")
        .bind(source)
        .bind(target)
        .execute(&mut *tx)
        .await?
        .rows_affected();
    let following: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM follows WHERE account_id = $1 AND target_account_id = $2)")
            .bind(source)
            .bind(target)
            .fetch_one(&mut *tx)
            .await?;
    if removed > 0 && following {
        events::emit(&mut *tx, Event::Unmuted { account_id: source, target_account_id: target }).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// A domain as a user's block stores it (Mastodon's `DomainValidator` messages).
fn user_blocked_domain(domain: Option<&str>) -> Result<String> {
    let domain = domain.map(str::trim).filter(|d| !d.is_empty());
    let domain = domain.ok_or_else(|| Error::validation("Domain can't be blank"))?;
    crate::domain::domain_blocks::normalize(domain)
        .ok()
        .filter(|d| d.split('.').all(|label| !label.is_empty()))
        .ok_or_else(|| Error::validation("Domain is not a valid domain name"))
}

/// `account_id` hides `domain` (Mastodon's `block_domain!` and AfterBlockDomainFromAccountService):
/// its notifications to the account go, follows end both ways (remote followers are sent a
/// Reject) and pending requests from it are rejected, in one transaction.
pub async fn block_domain(state: &Core, account_id: i64, domain: Option<&str>) -> Result<()> {
    let domain = user_blocked_domain(domain)?;
    let mut tx = state.db.primary.begin().await?;
    sqlx::query(
        "INSERT INTO account_domain_blocks (account_id, domain, created_at, updated_at)
         VALUES ($1, $2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT (account_id, domain) DO NOTHING",
    )
    .bind(account_id)
    .bind(&domain)
    .execute(&mut *tx)
    .await?;
    sqlx::query(
        "DELETE FROM notifications n USING accounts a
          WHERE n.account_id = $1 AND a.id = n.from_account_id AND lower(a.domain) = $2",
    )
    .bind(account_id)
    .bind(&domain)
    .execute(&mut *tx)
    .await?;
    // (follower, followed, the Follow's uri, whether it is still a request)
    let ended: Vec<(i64, i64, Option<String>, bool)> = sqlx::query_as(
        "SELECT f.account_id, f.target_account_id, f.uri, false FROM follows f JOIN accounts a
             ON a.id = CASE WHEN f.account_id = $1 THEN f.target_account_id ELSE f.account_id END
          WHERE (f.account_id = $1 OR f.target_account_id = $1) AND lower(a.domain) = $2
         UNION ALL
         SELECT r.account_id, r.target_account_id, r.uri, true FROM follow_requests r JOIN accounts a
             ON a.id = CASE WHEN r.account_id = $1 THEN r.target_account_id ELSE r.account_id END
          WHERE (r.account_id = $1 OR r.target_account_id = $1) AND lower(a.domain) = $2",
    )
    .bind(account_id)
    .bind(&domain)
    .fetch_all(&mut *tx)
    .await?;
    for (follower, followed, follow_uri, request) in ended {
        if request {
            sqlx::query("DELETE FROM follow_requests WHERE account_id = $1 AND target_account_id = $2")
                .bind(follower)
                .bind(followed)
                .execute(&mut *tx)
                .await?;
        } else {
            remove_follow(&mut tx, follower, followed).await?;
        }
        let event = if follower == account_id {
            Event::Unfollowed { account_id: follower, target_account_id: followed, follow_uri }
        } else if request {
            Event::FollowRequestRejected { account_id: follower, target_account_id: followed, follow_uri }
        } else {
            Event::FollowerRemoved { account_id: follower, target_account_id: followed, follow_uri }
        };
        events::emit(&mut *tx, event).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// `account_id` stops hiding `domain` (nothing to do when it was not hidden).
pub async fn unblock_domain(state: &Core, account_id: i64, domain: Option<&str>) -> Result<()> {
    let Some(domain) = domain.and_then(|d| user_blocked_domain(Some(d)).ok()) else { return Ok(()) };
    sqlx::query("DELETE FROM account_domain_blocks WHERE account_id = $1 AND domain = $2")
        .bind(account_id)
        .bind(domain)
        .execute(&state.db.primary)
        .await?;
    Ok(())
}
