//! A local account's changes to itself, sent to its followers' servers: pins and unpins
//! (`Add`/`Remove` on its featured collection) and profile edits (`Update` of the actor).

use serde_json::json;

use crate::AppState;
use crate::core::error::Result;
use crate::model::accounts;
use crate::render::activitypub::CONTEXT;

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

/// A local account changed its profile, or was suspended or let back: `Update` of its actor
/// to its followers' servers. A suspended actor is sent blanked, with `suspended: true`, as
/// Mastodon sends it.
pub async fn profile_updated(state: &AppState, account_id: i64) -> Result<()> {
    let Some(account) = accounts::find(&state.db.primary, account_id).await? else { return Ok(()) };
    if !account.is_local() {
        return Ok(());
    }
    let key: String = sqlx::query_scalar("SELECT public_key FROM accounts WHERE id = $1")
        .bind(account.id)
        .fetch_one(&state.db.primary)
        .await?;
    let mut actor = crate::render::activitypub::actors::actor(&account, &key, &state.config);
    if let Some(fields) = actor.as_object_mut() {
        fields.remove("@context");
        if account.suspended_at.is_some() {
            for blanked in ["icon", "image", "attachment", "tag"] {
                fields.remove(blanked);
            }
            fields.insert("name".into(), json!(""));
            fields.insert("summary".into(), json!(""));
            fields.insert("suspended".into(), json!(true));
        }
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
