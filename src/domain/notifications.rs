//! Creating notifications (Mastodon's NotifyService filters), in the transaction of the
//! operation that causes them, with the event that streams and mails them.

use sqlx::PgConnection;

use crate::core::error::Result;
use crate::core::time;
use crate::domain::events::{self, Event};
use crate::model::notification_policies as policies;
use crate::model::notifications::NotificationType;

/// Creates a notification unless the recipient would not want it: from themselves, from an
/// account they block or mute with notifications hidden, from one that blocks them, from a
/// muted conversation. Only local accounts (with a user) are notified. The recipient's
/// notification policy then accepts it, drops it, or keeps it aside (`filtered`: neither
/// listed, streamed nor mailed; a filtered mention opens a notification request). The end
/// of a poll is the one notification authors get about their own activity. An activity
/// notifies each recipient once, so an operation that runs again (a delivery received twice)
/// does not notify twice; edits notify at each edit. Returns the id of a notification shown.
pub async fn notify(
    conn: &mut PgConnection,
    recipient: i64,
    from: i64,
    kind: NotificationType,
    activity_id: i64,
) -> Result<Option<i64>> {
    // Authors hear of their own poll's end, and of staff acting on their account (staff stay
    // anonymous: the strike comes from the account itself).
    if recipient == from && !matches!(kind, NotificationType::Poll | NotificationType::ModerationWarning) {
        return Ok(None);
    }
    let now = time::now();
    let status_id = target_status_of(conn, kind, activity_id).await?;
    let group_key = match kind {
        NotificationType::Favourite | NotificationType::Reblog => {
            Some(format!("{}-{}-{}", kind.as_str(), status_id.unwrap_or(0), now.and_utc().timestamp() / 3600))
        }
        NotificationType::Follow | NotificationType::AdminSignUp => {
            Some(format!("{}-{}", kind.as_str(), now.and_utc().timestamp() / 3600))
        }
        _ => None,
    };
    let once_per_activity = !matches!(kind, NotificationType::Update | NotificationType::Poll);
    let filterable = !matches!(
        kind,
        NotificationType::Update
            | NotificationType::Poll
            | NotificationType::AdminSignUp
            | NotificationType::AdminReport
            | NotificationType::ModerationWarning
    );
    // The recipient's policy for this sender: accept, filter (into a request) or drop.
    let outcome = if filterable {
        let private_mention = match (kind, status_id) {
            (NotificationType::Mention, Some(status)) => {
                policies::unsolicited_private_mention(conn, status, recipient, from).await?
            }
            _ => false,
        };
        policies::outcome(conn, recipient, from, private_mention).await?
    } else {
        0
    };
    if outcome >= 2 {
        return Ok(None);
    }
    let created: Option<(i64, bool)> = sqlx::query_as(
        "INSERT INTO notifications (activity_id, activity_type, created_at, updated_at, account_id, from_account_id, type,
                                    group_key, filtered)
         SELECT $1, $2, $3, $3, $4, $5, $6, $7, $9
          WHERE EXISTS (SELECT 1 FROM users WHERE account_id = $4 AND (NOT disabled OR $6 = 'moderation_warning'))
            AND NOT EXISTS (SELECT 1 FROM accounts WHERE id = $4 AND suspended_at IS NOT NULL)
            AND NOT EXISTS (SELECT 1 FROM blocks WHERE (account_id = $4 AND target_account_id = $5)
                                                  OR (account_id = $5 AND target_account_id = $4))
            AND NOT EXISTS (SELECT 1 FROM mutes WHERE account_id = $4 AND target_account_id = $5 AND hide_notifications
                              AND (expires_at IS NULL OR expires_at > $3))
            AND NOT EXISTS (SELECT 1 FROM account_domain_blocks d JOIN accounts a ON lower(a.domain) = d.domain
                             WHERE d.account_id = $4 AND a.id = $5
                               AND NOT EXISTS (SELECT 1 FROM follows WHERE account_id = $4 AND target_account_id = $5))
            AND NOT EXISTS (SELECT 1 FROM conversation_mutes cm JOIN statuses ts ON ts.conversation_id = cm.conversation_id
                             WHERE cm.account_id = $4 AND ts.id = $10)
            AND NOT ($8 AND EXISTS (SELECT 1 FROM notifications WHERE activity_id = $1 AND activity_type = $2
                                                                  AND account_id = $4 AND type = $6))
         RETURNING id, filtered",
    )
    .bind(activity_id)
    .bind(kind.activity_type())
    .bind(now)
    .bind(recipient)
    .bind(from)
    .bind(kind.as_str())
    .bind(group_key)
    .bind(once_per_activity)
    .bind(outcome == 1)
    .bind(status_id)
    .fetch_optional(&mut *conn)
    .await?;
    match created {
        Some((notification_id, false)) => {
            events::emit(&mut *conn, Event::Notified { account_id: recipient, notification_id }).await?;
        }
        Some((_, true)) if kind == NotificationType::Mention => {
            policies::record_request(conn, recipient, from, status_id).await?;
        }
        _ => {}
    }
    Ok(created.filter(|(_, filtered)| !filtered).map(|(id, _)| id))
}

/// The status a notification is about (favourite and reblog notifications are grouped by
/// it; none are sent from a conversation the recipient muted).
async fn target_status_of(conn: &mut PgConnection, kind: NotificationType, activity_id: i64) -> Result<Option<i64>> {
    use NotificationType::*;
    let sql = match kind {
        Favourite => "SELECT status_id FROM favourites WHERE id = $1",
        Reblog => "SELECT reblog_of_id FROM statuses WHERE id = $1",
        Mention => "SELECT status_id FROM mentions WHERE id = $1",
        Poll => "SELECT id FROM statuses WHERE poll_id = $1",
        Status | Update => return Ok(Some(activity_id)),
        Follow | FollowRequest | AdminSignUp | AdminReport | ModerationWarning => return Ok(None),
    };
    Ok(sqlx::query_scalar::<_, Option<i64>>(sql).bind(activity_id).fetch_optional(conn).await?.flatten())
}
