//! Scheduled posts (Mastodon's ScheduledStatus and PublishScheduledStatusWorker): checked
//! as a post is when scheduled, kept with Mastodon's parameters, and posted once when due.

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::queue;
use crate::core::time;
use crate::domain::deferred;
use crate::domain::polls::NewPoll;
use crate::domain::posting::{self, NewStatus};
use crate::model::accounts::{self, Account, User};
use crate::model::scheduled_statuses;

/// How far ahead a post must be scheduled (Mastodon's `MINIMUM_OFFSET`).
pub const MIN_OFFSET_SECONDS: i64 = 5 * 60;
const TOTAL_LIMIT: i64 = 300;
const DAILY_LIMIT: i64 = 25;

fn check_time(at: NaiveDateTime) -> Result<()> {
    if at <= time::now() + chrono::Duration::seconds(MIN_OFFSET_SECONDS) {
        return Err(Error::validation("Scheduled at date must be in the future"));
    }
    Ok(())
}

/// The parameters Mastodon stores, from which the post is made when due.
fn params(new: &NewStatus, poll: Option<&Value>) -> Value {
    json!({
        "text": new.text,
        "spoiler_text": new.spoiler_text,
        "visibility": new.visibility,
        "sensitive": new.sensitive,
        "language": new.language,
        "in_reply_to_id": new.in_reply_to_id,
        "media_ids": new.media_ids.iter().map(i64::to_string).collect::<Vec<_>>(),
        "poll": poll,
        "application_id": new.application_id,
        "allowed_mentions": new.allowed_mentions,
        "idempotency": null,
        "scheduled_at": null,
        "with_rate_limit": false,
    })
}

/// Schedules `new` for `at` (at least five minutes ahead); the scheduled status's id.
/// `poll` is the poll as the client sent it.
pub async fn schedule(
    state: &Core,
    author: &Account,
    user: &User,
    new: NewStatus,
    poll: Option<&Value>,
    at: NaiveDateTime,
) -> Result<i64> {
    check_time(at)?;
    let params = params(&new, poll);
    let media_ids = new.media_ids.clone();
    posting::prepare(state, author, user, new).await?;
    let mut tx = state.db.primary.begin().await?;
    sqlx::query("SELECT id FROM accounts WHERE id = $1 FOR UPDATE").bind(author.id).execute(&mut *tx).await?;
    let (total, that_day) = scheduled_statuses::counts(&mut tx, author.id, at).await?;
    if total >= TOTAL_LIMIT {
        return Err(Error::validation(format!("You have exceeded the limit of {TOTAL_LIMIT} scheduled posts")));
    }
    if that_day >= DAILY_LIMIT {
        return Err(Error::validation(format!(
            "You have exceeded the limit of {DAILY_LIMIT} scheduled posts for today"
        )));
    }
    crate::model::media::attachable(&mut tx, author.id, &media_ids, None).await?;
    let id = scheduled_statuses::insert(&mut tx, author.id, at, &params, &media_ids).await?;
    let delay = (at - time::now()).num_seconds().max(0);
    queue::enqueue_in(&mut *tx, &deferred::Job::PublishScheduledStatus { id }, delay).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn reschedule(state: &Core, account_id: i64, id: i64, at: NaiveDateTime) -> Result<()> {
    scheduled_statuses::find(&state.db.primary, account_id, id).await?;
    check_time(at)?;
    let mut tx = state.db.primary.begin().await?;
    scheduled_statuses::reschedule(&mut tx, id, at).await?;
    let delay = (at - time::now()).num_seconds().max(0);
    queue::enqueue_in(&mut *tx, &deferred::Job::PublishScheduledStatus { id }, delay).await?;
    tx.commit().await?;
    Ok(())
}

/// Posts a scheduled status whose time has come, once: the post carries an idempotency key
/// of the scheduled status, so a second run finds the first one's post. A post that can no
/// longer be made (its reply gone, its author disabled) is dropped, as Mastodon drops it.
pub async fn publish(state: &Core, id: i64) -> Result<()> {
    let db = &state.db.primary;
    let row: Option<scheduled_statuses::ScheduledStatus> =
        sqlx::query_as("SELECT id, account_id, scheduled_at, params FROM scheduled_statuses WHERE id = $1")
            .bind(id)
            .fetch_optional(db)
            .await?;
    let Some(row) = row else { return Ok(()) };
    if row.scheduled_at.is_some_and(|at| at > time::now()) {
        return Ok(());
    }
    let author = accounts::get(db, row.account_id).await?;
    let user = accounts::user_by_account(db, row.account_id).await?;
    if let Some(user) = user.filter(|u| !u.disabled) {
        let params = row.params.clone().unwrap_or(Value::Null);
        match new_status(&params, id) {
            Ok(new) => match posting::post(state, &author, &user, new).await {
                Ok(_) | Err(Error::NotFound | Error::Unprocessable(_) | Error::UnexpectedMentions(_)) => {}
                Err(other) => return Err(other),
            },
            Err(e) => {
                tracing::info!(scheduled_status = id, error = %e, "dropping a scheduled post that is no longer valid")
            }
        }
    }
    scheduled_statuses::delete(db, row.account_id, id).await?;
    Ok(())
}

/// The post stored in Mastodon's parameters.
fn new_status(params: &Value, id: i64) -> Result<NewStatus> {
    let text = |key: &str| params[key].as_str().map(str::to_string);
    let number = |v: &Value| v.as_i64().or_else(|| v.as_str().and_then(|s| s.parse().ok()));
    let ids = |key: &str| params[key].as_array().map(|a| a.iter().filter_map(number).collect::<Vec<i64>>());
    Ok(NewStatus {
        text: text("text").unwrap_or_default(),
        spoiler_text: text("spoiler_text").unwrap_or_default(),
        visibility: text("visibility"),
        sensitive: params["sensitive"].as_bool(),
        language: text("language"),
        in_reply_to_id: number(&params["in_reply_to_id"]),
        media_ids: ids("media_ids").unwrap_or_default(),
        poll: NewPoll::from_param(Some(&params["poll"]).filter(|p| p.is_object()))?,
        idempotency_key: Some(format!("scheduled_status:{id}")),
        application_id: number(&params["application_id"]),
        allowed_mentions: ids("allowed_mentions"),
    })
}

/// Every scheduled post that is due, for the periodic sweep (posts adopted from Mastodon
/// have no job of their own).
pub async fn publish_due(state: &Core) -> Result<()> {
    for id in scheduled_statuses::due(&state.db.primary, 100).await? {
        publish(state, id).await?;
    }
    Ok(())
}
