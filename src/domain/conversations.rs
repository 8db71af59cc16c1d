//! Reading direct conversations: marking one read (or unread again) tells the owner's
//! `direct` stream.

use crate::core::Core;
use crate::core::error::Result;
use crate::domain::events::{self, Event};
use crate::model::conversations;

pub async fn mark(state: &Core, account_id: i64, id: i64, unread: bool) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    conversations::set_unread(&mut tx, account_id, id, unread).await?;
    events::emit(&mut *tx, Event::ConversationChanged { account_id, account_conversation_id: id }).await?;
    tx.commit().await?;
    Ok(())
}
