//! Mastodon's REST entities and ActivityPub documents.

pub mod activitypub;
pub mod conversations;
pub mod entities;
