//! What remote actors do to themselves: move to another account (`Move`, Mastodon's Move
//! activity and MoveWorker), get deleted (`Delete` of the actor), and change their
//! featured posts (`Add`/`Remove` on their featured collection). Also the outgoing side
//! of featuring and of profile changes: a local pin, unpin or profile edit is sent to
//! followers' servers.

use serde_json::{Value, json};

use crate::core::error::{Error, Result};
use crate::domain::posting;
use crate::domain::relationships::{self, FollowOptions};
use crate::effects::federation::activities::{CONTEXT, id_of};
use crate::effects::federation::remote;
use crate::model::accounts::{self, Account};
use crate::worker::{self, Job};
use crate::{AppState, model::statuses};

/// Statuses of a deleted account are removed this many at a time.
const PURGE_BATCH: i64 = 100;

/// `Move` from `signer` (the old account) to `target`, which must list the old account
/// among its `alsoKnownAs`. Local followers then follow the new account.
pub async fn moved(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
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
    let mut tx = state.db.primary.begin().await?;
    sqlx::query("UPDATE accounts SET moved_to_account_id = $2, updated_at = now() AT TIME ZONE 'UTC' WHERE id = $1")
        .bind(signer.id)
        .bind(target_id)
        .execute(&mut *tx)
        .await?;
    worker::enqueue(&mut *tx, Job::MoveFollowers { origin_id: signer.id, target_id }).await?;
    tx.commit().await?;
    Ok(())
}

/// The `MoveFollowers` job: each local follower of the old account follows the new one
/// (asking, if it is locked) and stops following the old one; local blocks and mutes of
/// the old account carry over, and lists that held it hold the new one.
pub async fn move_followers(state: &AppState, origin_id: i64, target_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let followers: Vec<(i64, bool, bool)> = sqlx::query_as(
        "SELECT f.account_id, f.show_reblogs, f.notify FROM follows f JOIN users u ON u.account_id = f.account_id
          WHERE f.target_account_id = $1",
    )
    .bind(origin_id)
    .fetch_all(db)
    .await?;
    // Lists first: their entries for the old account go with its follows.
    sqlx::query(
        "INSERT INTO list_accounts (list_id, account_id)
         SELECT la.list_id, $2 FROM list_accounts la WHERE la.account_id = $1
         ON CONFLICT DO NOTHING",
    )
    .bind(origin_id)
    .bind(target_id)
    .execute(db)
    .await?;
    for (follower, show_reblogs, notify) in followers {
        let options = FollowOptions { reblogs: Some(show_reblogs), notify: Some(notify), languages: None };
        match relationships::follow(state, follower, target_id, options).await {
            // Blocked either way: the old follow still ends.
            Err(Error::Forbidden(_)) => {}
            other => other?,
        }
        relationships::unfollow(state, follower, origin_id).await?;
    }
    for table in ["blocks", "mutes"] {
        sqlx::query(sqlx::AssertSqlSafe(format!(
            "INSERT INTO {table} (account_id, target_account_id, created_at, updated_at)
             SELECT b.account_id, $2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
               FROM {table} b JOIN users u ON u.account_id = b.account_id
              WHERE b.target_account_id = $1
             ON CONFLICT DO NOTHING"
        )))
        .bind(origin_id)
        .bind(target_id)
        .execute(db)
        .await?;
    }
    // The copied list entries point at the new follows.
    sqlx::query(
        "UPDATE list_accounts la SET follow_id = f.id
           FROM lists l, follows f
          WHERE la.account_id = $1 AND la.follow_id IS NULL AND l.id = la.list_id
            AND f.account_id = l.account_id AND f.target_account_id = $1",
    )
    .bind(target_id)
    .execute(db)
    .await?;
    Ok(())
}

/// `Delete` of the signer itself: its content is purged on the `default` queue.
pub async fn actor_deleted(state: &AppState, signer: &Account) -> Result<()> {
    worker::enqueue(&state.db.primary, Job::PurgeAccount { account_id: signer.id }).await
}

/// The `PurgeAccount` job: removes a deleted remote account's statuses (from feeds and
/// counters too), ends the follows to and from it, and then the account itself.
pub async fn purge_account(state: &AppState, account_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let Some(account) = accounts::find_many(db, &[account_id]).await?.pop() else { return Ok(()) };
    if account.is_local() {
        return Ok(());
    }
    sqlx::query("UPDATE accounts SET suspended_at = COALESCE(suspended_at, now() AT TIME ZONE 'UTC') WHERE id = $1")
        .bind(account_id)
        .execute(db)
        .await?;
    loop {
        let batch: Vec<i64> = sqlx::query_scalar(
            "SELECT id FROM statuses WHERE account_id = $1 AND deleted_at IS NULL ORDER BY id LIMIT $2",
        )
        .bind(account_id)
        .bind(PURGE_BATCH)
        .fetch_all(db)
        .await?;
        if batch.is_empty() {
            break;
        }
        for status in statuses::find_many(db, &batch).await? {
            posting::remove(state, &status).await?;
        }
    }
    let followed: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT account_id, target_account_id FROM follows WHERE account_id = $1 OR target_account_id = $1
         UNION SELECT account_id, target_account_id FROM follow_requests WHERE account_id = $1 OR target_account_id = $1",
    )
    .bind(account_id)
    .fetch_all(db)
    .await?;
    for (source, target) in followed {
        relationships::unfollow(state, source, target).await?;
    }
    sqlx::query("DELETE FROM accounts WHERE id = $1").bind(account_id).execute(db).await?;
    Ok(())
}

/// `Add` (or `Remove`) of one of the signer's statuses to its featured collection: the
/// status is pinned (or unpinned) on its profile here too.
pub async fn featured(state: &AppState, signer: &Account, activity: &Value, add: bool) -> Result<()> {
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
    let sql = if add {
        "INSERT INTO status_pins (account_id, status_id, created_at, updated_at)
         SELECT $1, $2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC'
          WHERE EXISTS (SELECT 1 FROM statuses WHERE id = $2 AND account_id = $1)
         ON CONFLICT DO NOTHING"
    } else {
        "DELETE FROM status_pins WHERE account_id = $1 AND status_id = $2"
    };
    sqlx::query(sql).bind(signer.id).bind(status_id).execute(&state.db.primary).await?;
    Ok(())
}

/// A local account pinned (or unpinned) one of its statuses: `Add` (or `Remove`) to the
/// servers its followers are on.
pub async fn pinned(state: &AppState, account_id: i64, status_id: i64, pinned: bool) -> Result<()> {
    let account = accounts::get(&state.db.primary, account_id).await?;
    let uri: Option<String> = sqlx::query_scalar("SELECT uri FROM statuses WHERE id = $1")
        .bind(status_id)
        .fetch_optional(&state.db.primary)
        .await?
        .flatten();
    let (Some(uri), true) = (uri, account.is_local()) else { return Ok(()) };
    let actor = account.actor_uri(&state.config);
    let activity = json!({
        "@context": CONTEXT,
        "id": format!("{actor}#{}/{status_id}/{}", if pinned { "pins" } else { "unpins" }, crate::core::time::now().and_utc().timestamp()),
        "type": if pinned { "Add" } else { "Remove" },
        "actor": actor,
        "object": uri,
        "target": format!("{actor}/collections/featured"),
    });
    crate::effects::federation::activities::deliver_to_followers(state, &account, &activity).await
}

/// A local account changed its profile: `Update` of its actor to its followers' servers
/// (and the search index, when Meilisearch is the backend).
pub async fn profile_updated(state: &AppState, account_id: i64) -> Result<()> {
    crate::domain::search::reindex_later(
        state,
        &state.db.primary,
        crate::effects::search::meili::Kind::Account,
        account_id,
    )
    .await?;
    let account = accounts::get(&state.db.primary, account_id).await?;
    let (_, key) = crate::render::activitypub::actors::local_actor(&state.db.primary, &account.username).await?;
    let mut actor = crate::render::activitypub::actors::actor(&account, &key, &state.config);
    if let Some(fields) = actor.as_object_mut() {
        fields.remove("@context");
    }
    let id = account.actor_uri(&state.config);
    let activity = json!({
        "@context": CONTEXT,
        "id": format!("{id}#updates/{}", crate::core::time::now().and_utc().timestamp_millis()),
        "type": "Update",
        "actor": id,
        "to": ["https://www.w3.org/ns/activitystreams#Public"],
        "object": actor,
    });
    crate::effects::federation::activities::deliver_to_followers(state, &account, &activity).await
}
