//! Our polls over ActivityPub. A poll is a `Question`: its options, under `oneOf` (single
//! choice) or `anyOf` (multiple), are Notes whose `replies.totalItems` is the tally. A
//! vote is a `Create` of a Note whose `name` is the chosen option, in reply to the poll
//! and addressed to its author only. New tallies travel as an `Update` of the Question.
//! (Remote Questions are read in `notes`; votes in our polls arrive in the inbox.)

use serde_json::{Value, json};

use crate::AppState;
use crate::core::error::Result;
use crate::core::queue;
use crate::core::time;
use crate::effects::federation::Job;
use crate::model::accounts::Account;
use crate::model::polls::Poll;
use crate::render::activitypub::CONTEXT;

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
