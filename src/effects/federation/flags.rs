//! A local report about a remote account, when the reporter asks to forward it, is sent to
//! that account's server as a `Flag` from the instance actor, so the reporter stays
//! anonymous there (Mastodon's rules). Incoming Flags are the inbox's.

use serde_json::json;

use crate::AppState;
use crate::core::error::Result;
use crate::core::queue;
use crate::effects::federation::Job;
use crate::effects::federation::instance_actor;
use crate::model::accounts;
use crate::render::activitypub::CONTEXT;

/// Sends a local report about a remote account to its server, from the instance actor.
pub async fn forward(state: &AppState, report_id: i64) -> Result<()> {
    let report = crate::model::reports::find(&state.db.primary, report_id).await?;
    let target = accounts::get(&state.db.primary, report.target_account_id).await?;
    if target.is_local() {
        return Ok(());
    }
    let actor = instance_actor::account(state).await?;
    let statuses: Vec<String> = sqlx::query_scalar("SELECT uri FROM statuses WHERE id = ANY($1) AND uri IS NOT NULL")
        .bind(&report.status_ids)
        .fetch_all(&state.db.primary)
        .await?;
    let mut objects = vec![target.actor_uri(&state.config)];
    objects.extend(statuses);
    let inbox: (String, String) = sqlx::query_as("SELECT inbox_url, shared_inbox_url FROM accounts WHERE id = $1")
        .bind(target.id)
        .fetch_one(&state.db.primary)
        .await?;
    let inbox = if inbox.0.is_empty() { inbox.1 } else { inbox.0 };
    if inbox.is_empty() {
        return Ok(());
    }
    let activity = json!({
        "@context": CONTEXT,
        "id": report.uri.clone().unwrap_or_else(|| format!("{}/reports/{}", state.config.base_url(), report.id)),
        "type": "Flag",
        "actor": actor.actor_uri(&state.config),
        "content": report.comment,
        "object": objects,
    });
    queue::enqueue(&state.db.primary, &Job::Deliver { account_id: actor.id, inbox, activity }).await
}
