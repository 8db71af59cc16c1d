//! Federation with other servers over ActivityPub: discovery and actors, HTTP signatures,
//! the SSRF-guarded client, remote accounts, inboxes, delivery, and what travels with
//! posts (polls, threads, account moves and deletions).

pub mod activities;
pub mod actor_changes;
pub mod availability;
pub mod flags;
pub mod http;
pub mod instance_actor;
pub mod polls;
pub mod remote;
pub mod sanitize;
pub mod signatures;
pub mod threads;
