//! Rows and their queries, one module per entity. No side effects.

pub mod accounts;
pub mod admin_accounts;
pub mod domain_blocks;
pub mod hydrate;
pub mod instance;
pub mod lists;
pub mod markers;
pub mod media;
pub mod notifications;
pub mod oauth;
pub mod polls;
pub mod relationships;
pub mod reports;
pub mod roles;
pub mod sessions;
pub mod sign_up_blocks;
pub mod statuses;
pub mod tags;
