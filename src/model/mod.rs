//! Rows and their queries, one module per entity. No side effects.

pub mod accounts;
pub mod hydrate;
pub mod instance;
pub mod markers;
pub mod media;
pub mod notifications;
pub mod statuses;
