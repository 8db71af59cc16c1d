//! Processing a verified activity (the `ingress` queue, Mastodon's
//! ActivityPub::ProcessingWorker): each type calls the same domain operation the REST API
//! calls, with the remote signer in place of a local user. Follow, Accept and Reject of
//! our follow requests, Create of a note (or of a vote in one of our polls), Update of a
//! note or of the signer, Announce, Like, Block, Delete of a status or of the signer,
//! Undo of a Follow, Announce, Like or Block, Move, Add and Remove on the featured
//! collection, and Flag. Other types are ignored, as Mastodon ignores what it does not
//! handle.

use serde_json::Value;

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::domain::posting;
use crate::domain::relationships::{self, FollowOptions};
use crate::domain::reports::{self, Filed};
use crate::domain::{domain_blocks, interactions, moves, polls};
use crate::effects::federation::activities;
use crate::effects::federation::notes::{self, local_account};
use crate::effects::federation::remote::{self, authority};
use crate::model::accounts::{self, Account};
use crate::model::statuses::{self, Visibility};
use crate::render::activitypub::id_of;

/// Processes one verified activity from `account_id` (the signer).
pub async fn process(state: &AppState, account_id: i64, activity: &Value) -> Result<()> {
    let signer = accounts::get(&state.db.primary, account_id).await?;
    let object = &activity["object"];
    match activity["type"].as_str().unwrap_or_default() {
        "Follow" => follow(state, &signer, activity).await,
        "Undo" => undo(state, &signer, object).await,
        "Accept" => answer(state, &signer, object, true).await,
        "Reject" => answer(state, &signer, object, false).await,
        "Create" => create(state, &signer, object).await,
        "Delete" => delete(state, &signer, object).await,
        "Update" => update(state, &signer, object).await,
        "Like" => match status_by_uri(state, id_of(object).unwrap_or_default(), signer.id).await? {
            Some(status) => interactions::favourite(state, signer.id, status.id).await,
            None => Ok(()),
        },
        "Block" => match local_account(state, id_of(object).unwrap_or_default()).await? {
            Some(target) => relationships::block(state, signer.id, target.id).await,
            None => Ok(()),
        },
        "Announce" => announce(state, &signer, activity).await,
        "Move" => moved(state, &signer, activity).await,
        "Add" => featured(state, &signer, activity, true).await,
        "Remove" => featured(state, &signer, activity, false).await,
        "Flag" => flagged(state, &signer, activity).await,
        other => {
            tracing::debug!(kind = other, "ignoring an activity type ferrodon does not handle yet");
            Ok(())
        }
    }
}

/// A Follow of a local account: followed (or requested, for a locked account) with the
/// Follow's id kept; a follow the domain refuses (a block) is answered with a Reject.
async fn follow(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
    let Some(target) = local_account(state, id_of(&activity["object"]).unwrap_or_default()).await? else {
        return Ok(());
    };
    let uri = id_of(activity).map(str::to_string);
    let options = FollowOptions { uri: uri.clone(), ..Default::default() };
    match relationships::follow(state, signer.id, target.id, options).await {
        Err(Error::Forbidden(_)) => activities::follow_rejected(state, target.id, signer.id, uri).await,
        other => other,
    }
}

/// A known status by URI, if `viewer` may see it.
async fn status_by_uri(state: &AppState, uri: &str, viewer: i64) -> Result<Option<statuses::Status>> {
    let id: Option<i64> = sqlx::query_scalar("SELECT id FROM statuses WHERE uri = $1 AND deleted_at IS NULL")
        .bind(uri)
        .fetch_optional(&state.db.primary)
        .await?;
    let Some(id) = id else { return Ok(None) };
    match statuses::find_visible(&state.db.primary, id, Some(viewer)).await {
        Ok(status) => Ok(Some(status)),
        Err(Error::NotFound) => Ok(None),
        Err(e) => Err(e),
    }
}

/// A boost: the signer's reblog (its URI the Announce's id), as a local reblog is made.
async fn announce(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
    let Some(uri) = id_of(activity).filter(|u| !u.is_empty()) else { return Ok(()) };
    let Some(original) = status_by_uri(state, id_of(&activity["object"]).unwrap_or_default(), signer.id).await? else {
        return Ok(());
    };
    let followers_url: String = sqlx::query_scalar("SELECT followers_url FROM accounts WHERE id = $1")
        .bind(signer.id)
        .fetch_one(&state.db.primary)
        .await?;
    let visibility = match notes::visibility(activity, &followers_url) {
        Visibility::Direct => Visibility::Private,
        v => v,
    };
    match posting::boost(state, signer, original.id, visibility, Some(uri)).await {
        // Not a status that may be boosted (followers-only, direct, a boost itself).
        Err(Error::Forbidden(_)) => Ok(()),
        other => other.map(|_| ()),
    }
}

async fn undo(state: &AppState, signer: &Account, object: &Value) -> Result<()> {
    match object["type"].as_str() {
        Some("Block") => {
            if let Some(target) = local_account(state, id_of(&object["object"]).unwrap_or_default()).await? {
                relationships::unblock(state, signer.id, target.id).await?;
            }
            return Ok(());
        }
        Some("Like") => {
            if let Some(status) = status_by_uri(state, id_of(&object["object"]).unwrap_or_default(), signer.id).await? {
                interactions::unfavourite(state, signer.id, status.id).await?;
            }
            return Ok(());
        }
        Some("Announce") => return remove_own_by_uri(state, signer, id_of(object).unwrap_or_default()).await,
        _ => {}
    }
    if object["type"] == "Follow" || object.is_string() {
        let target = match object["object"].as_str() {
            Some(uri) => local_account(state, uri).await?.map(|t| t.id),
            None => {
                // An Undo naming only the Follow's id: find the follow by its URI.
                sqlx::query_scalar(
                    "SELECT target_account_id FROM follows WHERE account_id = $1 AND uri = $2
                     UNION SELECT target_account_id FROM follow_requests WHERE account_id = $1 AND uri = $2",
                )
                .bind(signer.id)
                .bind(id_of(object).unwrap_or_default())
                .fetch_optional(&state.db.primary)
                .await?
            }
        };
        if let Some(target) = target {
            relationships::unfollow(state, signer.id, target).await?;
        }
    }
    Ok(())
}

/// Accept or Reject of one of our follow requests to the signer.
async fn answer(state: &AppState, signer: &Account, object: &Value, accepted: bool) -> Result<()> {
    let requester = match object["actor"].as_str() {
        Some(uri) => local_account(state, uri).await?.map(|a| a.id),
        None => {
            sqlx::query_scalar(
                "SELECT account_id FROM follow_requests WHERE target_account_id = $1 AND uri = $2
                 UNION SELECT account_id FROM follows WHERE target_account_id = $1 AND uri = $2",
            )
            .bind(signer.id)
            .bind(id_of(object).unwrap_or_default())
            .fetch_optional(&state.db.primary)
            .await?
        }
    };
    let Some(requester) = requester else { return Ok(()) };
    let outcome = if accepted {
        relationships::authorize_follow_request(state, signer.id, requester).await
    } else {
        // A Reject of a follow already accepted ends it (Mastodon's reject_follow_for_relationship).
        match relationships::reject_follow_request(state, signer.id, requester).await {
            Err(Error::NotFound) => relationships::remove_from_followers(state, signer.id, requester).await,
            other => other,
        }
    };
    match outcome {
        Err(Error::NotFound) => Ok(()),
        other => other,
    }
}

/// A Create: a vote in one of our polls, or a note.
async fn create(state: &AppState, signer: &Account, object: &Value) -> Result<()> {
    if vote_received(state, signer, object).await? {
        return Ok(());
    }
    notes::store_note(state, signer, object).await.map(|_| ())
}

/// A remote account's vote in one of our polls, if `object` is one (Mastodon's
/// `poll_vote?`: a Note named after an option, replying to a local poll). Returns whether
/// it was a vote.
async fn vote_received(state: &AppState, voter: &Account, object: &Value) -> Result<bool> {
    let (Some(name), Some(parent)) = (object["name"].as_str(), object["inReplyTo"].as_str()) else {
        return Ok(false);
    };
    let poll_id: Option<i64> = sqlx::query_scalar(
        "SELECT p.id FROM statuses s JOIN polls p ON p.id = s.poll_id
          WHERE s.uri = $1 AND s.local AND s.deleted_at IS NULL",
    )
    .bind(parent)
    .fetch_optional(&state.db.primary)
    .await?;
    let Some(poll_id) = poll_id else { return Ok(false) };
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
            Err(Error::Unprocessable(reason)) => tracing::info!(poll_id, reason, "remote vote refused"),
            other => other?,
        }
    }
    Ok(true)
}

/// An Update of one of the signer's notes (an edit), or of the signer (a profile change:
/// the actor is fetched again from its server).
async fn update(state: &AppState, signer: &Account, object: &Value) -> Result<()> {
    let signer_uri = signer.actor_uri(&state.config);
    if id_of(object) == Some(signer_uri.as_str()) {
        return remote::fetch_actor(state, &signer_uri).await.map(|_| ());
    }
    if !notes::is_note(object) {
        return Ok(());
    }
    let status_id: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM statuses WHERE uri = $1 AND account_id = $2 AND deleted_at IS NULL AND reblog_of_id IS NULL",
    )
    .bind(id_of(object).unwrap_or_default())
    .bind(signer.id)
    .fetch_optional(&state.db.primary)
    .await?;
    let Some(status) = statuses::find_many(&state.db.primary, &status_id.into_iter().collect::<Vec<_>>()).await?.pop()
    else {
        return Ok(());
    };
    let (revision, poll) = notes::revision(state, object).await?;
    posting::edit_remote(state, &status, &revision, poll.as_ref()).await
}

/// A Delete of one of the signer's statuses, or of the signer itself.
async fn delete(state: &AppState, signer: &Account, object: &Value) -> Result<()> {
    let uri = id_of(object).unwrap_or_default();
    if uri == signer.actor_uri(&state.config) {
        return moves::mark_deleted(state, signer.id).await;
    }
    remove_own_by_uri(state, signer, uri).await
}

/// Removes the signer's status (or boost) with this URI, if there is one.
async fn remove_own_by_uri(state: &AppState, signer: &Account, uri: &str) -> Result<()> {
    let status: Option<i64> = sqlx::query_scalar("SELECT id FROM statuses WHERE uri = $1 AND account_id = $2")
        .bind(uri)
        .bind(signer.id)
        .fetch_optional(&state.db.primary)
        .await?;
    if let Some(status) = statuses::find_many(&state.db.primary, &status.into_iter().collect::<Vec<_>>()).await?.pop() {
        posting::remove(state, &status).await?;
    }
    Ok(())
}

/// `Move` from `signer` (the old account) to `target`, which must list the old account
/// among its `alsoKnownAs`. Local followers then follow the new account.
async fn moved(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
    let origin = signer.actor_uri(&state.config);
    if id_of(&activity["object"]) != Some(origin.as_str()) {
        return Ok(());
    }
    let Some(target_uri) = id_of(&activity["target"]) else { return Ok(()) };
    // Fetched afresh: the alias is usually added just before the move.
    let target_id = remote::fetch_actor(state, target_uri).await?;
    let target: Option<(Option<Vec<String>>, bool)> = sqlx::query_as(
        "SELECT also_known_as, suspended_at IS NOT NULL FROM accounts WHERE id = $1 AND domain IS NOT NULL",
    )
    .bind(target_id)
    .fetch_optional(&state.db.primary)
    .await?;
    let Some((aliases, suspended)) = target else { return Ok(()) };
    if suspended || !aliases.unwrap_or_default().contains(&origin) {
        tracing::info!(origin, target = target_uri, "move refused: the target does not name the origin as an alias");
        return Ok(());
    }
    moves::mark_moved(state, signer.id, target_id).await
}

/// `Add` (or `Remove`) of one of the signer's statuses to its featured collection: the
/// status is pinned (or unpinned) on its profile here too.
async fn featured(state: &AppState, signer: &Account, activity: &Value, add: bool) -> Result<()> {
    let featured_url: Option<String> = sqlx::query_scalar("SELECT featured_collection_url FROM accounts WHERE id = $1")
        .bind(signer.id)
        .fetch_one(&state.db.primary)
        .await?;
    let target = id_of(&activity["target"]);
    if featured_url.is_none() || target != featured_url.as_deref() {
        return Ok(());
    }
    let Some(uri) = id_of(&activity["object"]) else { return Ok(()) };
    let mut status: Option<i64> =
        sqlx::query_scalar("SELECT id FROM statuses WHERE uri = $1 AND account_id = $2 AND deleted_at IS NULL")
            .bind(uri)
            .bind(signer.id)
            .fetch_optional(&state.db.primary)
            .await?;
    if status.is_none() && add {
        status = match remote::resolve_url(state, uri).await? {
            Some(remote::Resolved::Status(id)) => Some(id),
            _ => None,
        };
    }
    let Some(status_id) = status else { return Ok(()) };
    let changed = if add {
        interactions::pin(state, signer.id, status_id).await
    } else {
        interactions::unpin(state, signer.id, status_id).await
    };
    match changed {
        // Not the signer's status.
        Err(Error::Unprocessable(_)) => Ok(()),
        other => other,
    }
}

/// An incoming `Flag` from `signer`: one report per local account it names, with the
/// named statuses of that account. Servers whose reports are rejected are ignored.
async fn flagged(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
    if domain_blocks::rejects_reports(state, signer.domain.as_deref().unwrap_or_default()).await? {
        return Ok(());
    }
    let uris: Vec<String> = match &activity["object"] {
        Value::Array(items) => items.iter().filter_map(id_of).map(str::to_string).collect(),
        other => id_of(other).map(str::to_string).into_iter().collect(),
    };
    let db = &state.db.primary;
    let targets: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM accounts WHERE uri = ANY($1)
            OR (domain IS NULL AND ($2 || username = ANY($1) OR $3 || id = ANY($1)))",
    )
    .bind(&uris)
    .bind(format!("{}/users/", state.config.base_url()))
    .bind(format!("{}/ap/users/", state.config.base_url()))
    .fetch_all(db)
    .await?;
    let local_targets = accounts::find_many(db, &targets).await?;
    let statuses: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, account_id FROM statuses WHERE uri = ANY($1) AND local AND visibility IN (0, 1)")
            .bind(&uris)
            .fetch_all(db)
            .await?;
    let comment: String = activity["content"]
        .as_str()
        .unwrap_or_default()
        .chars()
        .take(crate::model::reports::REMOTE_COMMENT_LIMIT)
        .collect();
    let flag_id = id_of(activity).filter(|id| authority(id) == signer.domain);
    for target in local_targets.iter().filter(|a| a.is_local() && a.suspended_at.is_none() && a.id > 0) {
        let status_ids: Vec<i64> =
            statuses.iter().filter(|(_, owner)| *owner == target.id).map(|(id, _)| *id).collect();
        let filed = Filed {
            reporter: signer.id,
            target: target.id,
            status_ids: &status_ids,
            rule_ids: &[],
            comment: &comment,
            category: 0,
            forwarded: false,
            uri: flag_id,
        };
        reports::insert(db, &filed).await?;
    }
    Ok(())
}
