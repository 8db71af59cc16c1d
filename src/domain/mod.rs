//! Every write operation, with authorization and visibility.

pub mod accounts;
pub mod conversations;
pub mod deferred;
pub mod deletion;
pub mod domain_blocks;
pub mod email;
pub mod events;
pub mod filters;
pub mod interactions;
pub mod limits;
pub mod lists;
pub mod moves;
pub mod notification_requests;
pub mod notifications;
pub mod oauth;
pub mod polls;
pub mod posting;
pub mod relationships;
pub mod reports;
pub mod scheduled;
pub mod staff;
pub mod tags;
pub mod timelines;
