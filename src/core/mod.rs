//! The bottom layer: configuration, the PostgreSQL and Redis pools, ids and time, the error
//! type, pagination, the job table, and Mastodon's text rules. It uses nothing of ours.

pub mod config;
pub mod db;
pub mod error;
pub mod pagination;
pub mod queue;
pub mod redis;
pub mod text;
pub mod time;
