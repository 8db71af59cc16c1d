//! Deciding on notification requests: accepting lets the sender's notifications through
//! (and the user's streams are told to reload them), dismissing drops them.

use crate::core::Core;
use crate::core::error::Result;
use crate::domain::events::{self, Event};
use crate::model::notification_policies as policies;

/// Accepts `ids` (those of other users are left alone).
pub async fn accept(state: &Core, account_id: i64, ids: &[i64]) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    for id in ids {
        if let Ok(request) = policies::request(&state.db.primary, account_id, *id).await {
            policies::accept(&mut tx, account_id, &request).await?;
        }
    }
    events::emit(&mut *tx, Event::NotificationsMerged { account_id }).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn dismiss(state: &Core, account_id: i64, ids: &[i64]) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    for id in ids {
        if let Ok(request) = policies::request(&state.db.primary, account_id, *id).await {
            policies::dismiss(&mut tx, account_id, &request).await?;
        }
    }
    tx.commit().await?;
    Ok(())
}
