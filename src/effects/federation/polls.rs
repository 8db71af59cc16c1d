//! Polls over ActivityPub. A poll is a `Question`: its options, under `oneOf` (single
//! choice) or `anyOf` (multiple), are Notes whose `replies.totalItems` is the tally. A
//! vote is a `Create` of a Note whose `name` is the chosen option, in reply to the poll
//! and addressed to its author only. New tallies travel as an `Update` of the Question.

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use crate::core::error::Result;
use crate::core::queue;
use crate::effects::federation::Job;
use crate::model::accounts::Account;
use crate::render::activitypub::{CONTEXT, id_of};
use crate::{AppState, core::time};
use crate::{domain::polls, model::polls::Poll};

/// Turns a local status's Note into the Question of its poll.
pub fn as_question(note: &mut Value, poll: &Poll) {
    let options: Vec<Value> = poll
        .options
        .iter()
        .zip(poll.tallies())
        .map(|(title, votes)| {
            json!({ "type": "Note", "name": title, "replies": { "type": "Collection", "totalItems": votes } })
        })
        .collect();
    note["type"] = json!("Question");
    note[if poll.multiple { "anyOf" } else { "oneOf" }] = json!(options);
    let end = poll.expires_at.as_ref().map(time::iso);
    note["endTime"] = json!(end);
    if poll.expired() {
        note["closed"] = json!(end);
    }
    note["votersCount"] = json!(poll.voters_count.unwrap_or(poll.votes_count));
}

/// The poll a remote Question describes.
struct RemotePoll {
    options: Vec<String>,
    tallies: Vec<i64>,
    multiple: bool,
    expires_at: Option<NaiveDateTime>,
    voters_count: Option<i64>,
}

fn parse(object: &Value) -> Option<RemotePoll> {
    if object["type"] != "Question" {
        return None;
    }
    let (items, multiple) = match (&object["anyOf"], &object["oneOf"]) {
        (Value::Array(items), _) => (items, true),
        (_, Value::Array(items)) => (items, false),
        _ => return None,
    };
    let options: Vec<String> = items
        .iter()
        .filter_map(|o| o["name"].as_str().filter(|n| !n.is_empty()).or_else(|| o["content"].as_str()))
        .map(str::to_string)
        .collect();
    if options.is_empty() {
        return None;
    }
    let tallies = items.iter().map(|o| o["replies"]["totalItems"].as_i64().unwrap_or(0)).collect();
    let when = |key: &str| {
        object[key].as_str().and_then(|t| chrono::DateTime::parse_from_rfc3339(t).ok()).map(|d| d.naive_utc())
    };
    Some(RemotePoll {
        options,
        tallies,
        multiple,
        // A closed poll's end is when it closed.
        expires_at: when("closed").or_else(|| when("endTime")),
        voters_count: object["votersCount"].as_i64(),
    })
}

/// Stores the poll of a remote Question for its new status.
pub async fn store_remote(
    conn: &mut sqlx::PgConnection,
    account_id: i64,
    status_id: i64,
    object: &Value,
) -> Result<()> {
    let Some(poll) = parse(object) else { return Ok(()) };
    let poll_id: i64 = sqlx::query_scalar(
        "INSERT INTO polls (account_id, status_id, expires_at, options, cached_tallies, multiple, votes_count,
                            voters_count, last_fetched_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), now(), now())
         RETURNING id",
    )
    .bind(account_id)
    .bind(status_id)
    .bind(poll.expires_at)
    .bind(&poll.options)
    .bind(&poll.tallies)
    .bind(poll.multiple)
    .bind(poll.tallies.iter().sum::<i64>())
    .bind(poll.voters_count)
    .fetch_one(&mut *conn)
    .await?;
    polls::attach(conn, status_id, poll_id).await
}

/// New tallies (or a new end) of a remote poll, from an Update of its Question. Changed
/// options replace the poll and its votes, as an edit of a local poll does.
pub async fn update_remote(
    conn: &mut sqlx::PgConnection,
    account_id: i64,
    status_id: i64,
    object: &Value,
) -> Result<()> {
    let Some(poll) = parse(object) else { return Ok(()) };
    let updated = sqlx::query(
        "UPDATE polls p SET cached_tallies = $3, votes_count = $4, voters_count = $5, expires_at = $6,
                last_fetched_at = now(), updated_at = now()
           FROM statuses s
          WHERE s.id = $1 AND p.id = s.poll_id AND p.options = $2::varchar[]",
    )
    .bind(status_id)
    .bind(&poll.options)
    .bind(&poll.tallies)
    .bind(poll.tallies.iter().sum::<i64>())
    .bind(poll.voters_count)
    .bind(poll.expires_at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        polls::detach(conn, status_id).await?;
        store_remote(conn, account_id, status_id, object).await?;
    }
    Ok(())
}

/// A remote account's vote in one of our polls, if `object` is one (Mastodon's
/// `poll_vote?`: a Note named after an option, replying to a local poll). Returns
/// whether it was a vote.
pub async fn vote_received(state: &AppState, voter: &Account, object: &Value) -> Result<bool> {
    let (Some(name), Some(parent)) = (object["name"].as_str(), object["inReplyTo"].as_str()) else {
        return Ok(false);
    };
    let poll: Option<(i64, i64)> = sqlx::query_as(
        "SELECT p.id, s.id FROM statuses s JOIN polls p ON p.id = s.poll_id
          WHERE s.uri = $1 AND s.local AND s.deleted_at IS NULL",
    )
    .bind(parent)
    .fetch_optional(&state.db.primary)
    .await?;
    let Some((poll_id, _)) = poll else { return Ok(false) };
    let poll = polls::find_visible(&state.db.primary, poll_id, Some(voter.id)).await?;
    let Some(choice) = poll.options.iter().position(|o| o == name) else { return Ok(false) };
    let uri = id_of(object).map(str::to_string);
    let known: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM poll_votes WHERE uri = $1)")
        .bind(&uri)
        .fetch_one(&state.db.primary)
        .await?;
    if !known {
        match polls::record(state, voter.id, &poll, &[choice as i32], &[uri]).await {
            // A vote Mastodon's rules refuse (ended, repeated) is dropped, not retried.
            Err(crate::core::error::Error::Unprocessable(reason)) => {
                tracing::info!(poll_id, reason, "remote vote refused")
            }
            other => other?,
        }
    }
    Ok(true)
}

/// A local account voted in a remote poll: one Create per choice, to the poll's author.
pub async fn voted(state: &AppState, voter: &Account, poll: &Poll, choices: &[i32]) -> Result<()> {
    let Some(status_id) = poll.status_id else { return Ok(()) };
    let target: Option<(String, String, String)> = sqlx::query_as(
        "SELECT s.uri, a.uri, COALESCE(NULLIF(a.shared_inbox_url, ''), a.inbox_url)
           FROM statuses s JOIN accounts a ON a.id = s.account_id
          WHERE s.id = $1 AND a.domain IS NOT NULL AND a.inbox_url <> ''",
    )
    .bind(status_id)
    .fetch_optional(&state.db.primary)
    .await?;
    let Some((poll_uri, author_uri, inbox)) = target else { return Ok(()) };
    let actor = voter.actor_uri(&state.config);
    for choice in choices {
        let Some(name) = poll.options.get(*choice as usize) else { continue };
        let id = format!("{actor}#votes/{}/{choice}", poll.id);
        let activity = json!({
            "@context": CONTEXT,
            "id": format!("{id}/activity"),
            "type": "Create",
            "actor": actor,
            "to": author_uri,
            "object": {
                "id": id, "type": "Note", "name": name, "attributedTo": actor, "inReplyTo": poll_uri, "to": author_uri,
            },
        });
        queue::enqueue(&state.db.primary, &Job::Deliver { account_id: voter.id, inbox: inbox.clone(), activity })
            .await?;
    }
    Ok(())
}

/// Inboxes of the remote accounts that voted in a local status's poll (they get its new
/// tallies even when they do not follow the author).
pub async fn voter_inboxes(state: &AppState, status_id: i64) -> Result<Vec<String>> {
    Ok(sqlx::query_scalar(
        "SELECT DISTINCT COALESCE(NULLIF(a.shared_inbox_url, ''), a.inbox_url)
           FROM statuses s JOIN poll_votes v ON v.poll_id = s.poll_id JOIN accounts a ON a.id = v.account_id
          WHERE s.id = $1 AND a.domain IS NOT NULL AND a.inbox_url <> ''",
    )
    .bind(status_id)
    .fetch_all(&state.db.primary)
    .await?)
}
