//! Mastodon's `Conversation` entity, read and rendered for its owner: the API lists them and
//! the `direct` stream sends each change.

use serde_json::{Value, json};
use sqlx::PgPool;

use crate::core::config::Config;
use crate::core::error::Result;
use crate::model::conversations::AccountConversation;
use crate::model::{accounts, hydrate};
use crate::render::entities;

/// `conversations` of one viewer, each with its other participants (the viewer alone when
/// there are none) and its latest status as the viewer sees it (null if it is gone).
pub async fn render(
    db: &PgPool,
    config: &Config,
    viewer: i64,
    conversations: &[AccountConversation],
) -> Result<Vec<Value>> {
    let status_ids: Vec<i64> = conversations.iter().filter_map(|c| c.last_status_id).collect();
    let bundle = hydrate::load(db, &status_ids, Some(viewer)).await?;
    let mut account_ids: Vec<i64> = conversations.iter().flat_map(|c| c.participant_account_ids.clone()).collect();
    account_ids.push(viewer);
    let people = accounts::find_many(db, &account_ids).await?;
    let account = |id: &i64| people.iter().find(|a| a.id == *id).map(|a| entities::account(a, config));
    Ok(conversations
        .iter()
        .map(|c| {
            let mut participants: Vec<Value> = c.participant_account_ids.iter().filter_map(account).collect();
            if participants.is_empty() {
                participants.extend(account(&viewer));
            }
            let last_status = c.last_status_id.and_then(|id| entities::status(id, &bundle, config));
            json!({
                "id": c.id.to_string(),
                "unread": c.unread,
                "accounts": participants,
                "last_status": last_status,
            })
        })
        .collect())
}
