//! Federation with other servers over ActivityPub: discovery and actors, HTTP signatures,
//! the SSRF-guarded client, remote accounts, inboxes, and delivery.

pub mod activities;
pub mod actors;
pub mod availability;
pub mod collections;
pub mod domain_blocks;
pub mod http;
pub mod inbox;
pub mod remote;
pub mod sanitize;
pub mod signatures;
