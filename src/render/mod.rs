//! Mastodon's REST entities and ActivityPub documents.

pub mod activitypub;
pub mod entities;
