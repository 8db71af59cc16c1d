//! Reports across servers. An incoming `Flag` becomes a report about the local accounts
//! and statuses it names (nothing is fetched); a local report about a remote account,
//! when the reporter asks to forward it, is sent to that account's server as a `Flag`
//! from the instance actor, so the reporter stays anonymous there (Mastodon's rules).

use serde_json::{Value, json};

use crate::core::error::Result;
use crate::domain::reports::{self, Filed, Report};
use crate::effects::federation::activities::{CONTEXT, id_of};
use crate::effects::federation::remote::authority;
use crate::model::accounts::Account;
use crate::worker::{self, Job};
use crate::{AppState, model::accounts};
use crate::{domain::domain_blocks, effects::federation::instance_actor};

/// An incoming `Flag` from `signer`: one report per local account it names, with the
/// named statuses of that account. Servers whose reports are rejected are ignored.
pub async fn flagged(state: &AppState, signer: &Account, activity: &Value) -> Result<()> {
    if domain_blocks::rejects_reports(state, signer.domain.as_deref().unwrap_or_default()).await? {
        return Ok(());
    }
    let uris: Vec<String> = match &activity["object"] {
        Value::Array(items) => items.iter().filter_map(id_of).map(str::to_string).collect(),
        other => id_of(other).map(str::to_string).into_iter().collect(),
    };
    let db = &state.db.primary;
    let targets: Vec<i64> = sqlx::query_scalar(
        "SELECT id FROM accounts WHERE uri = ANY($1) OR (domain IS NULL AND $2 || username = ANY($1))",
    )
    .bind(&uris)
    .bind(format!("{}/users/", state.config.base_url()))
    .fetch_all(db)
    .await?;
    let local_targets = accounts::find_many(db, &targets).await?;
    let statuses: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, account_id FROM statuses WHERE uri = ANY($1) AND local AND visibility IN (0, 1)")
            .bind(&uris)
            .fetch_all(db)
            .await?;
    let comment: String =
        activity["content"].as_str().unwrap_or_default().chars().take(reports::REMOTE_COMMENT_LIMIT).collect();
    let flag_id = id_of(activity).filter(|id| authority(id) == signer.domain);
    for target in local_targets.iter().filter(|a| a.is_local() && a.suspended_at.is_none() && a.id > 0) {
        let status_ids: Vec<i64> =
            statuses.iter().filter(|(_, owner)| *owner == target.id).map(|(id, _)| *id).collect();
        let filed = Filed {
            reporter: signer.id,
            target: target.id,
            status_ids: &status_ids,
            comment: &comment,
            category: 0,
            forwarded: false,
            uri: flag_id,
        };
        reports::insert(db, &filed).await?;
    }
    Ok(())
}

/// Sends a local report about a remote account to its server, from the instance actor.
pub async fn forward(state: &AppState, report: &Report, target: &Account) -> Result<()> {
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
    worker::enqueue(&state.db.primary, Job::Deliver { account_id: actor.id, inbox, activity }).await
}
