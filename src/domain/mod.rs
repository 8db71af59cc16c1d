//! Every write operation, with authorization and visibility.

pub mod domain_blocks;
pub mod email;
pub mod interactions;
pub mod lists;
pub mod oauth;
pub mod polls;
pub mod posting;
pub mod relationships;
pub mod reports;
pub mod search;
pub mod tags;
pub mod timelines;
