//! ActivityPub documents: actors, WebFinger, collections.

pub mod actors;
pub mod collections;
