//! The integration tests: one binary (modules of one crate), each test against its own copy of a
//! migrated template database, its own Redis key prefix and real servers on loopback ports.

mod common;

mod accounts;
mod admin;
mod adoption;
mod api_smoke;
mod connections;
mod conversations;
mod cors;
mod dashboard;
mod errors;
mod faults;
mod federation;
mod federation_peers;
mod feeds;
mod filters;
mod instance;
mod layers;
mod lists;
mod mail;
mod media;
mod media_s3;
mod migrations;
mod nginx;
mod notification_requests;
mod oauth;
mod polls;
mod profiles;
mod queues;
mod registrations;
mod scheduled_statuses;
mod search;
mod search_meili;
mod statuses;
mod streaming;
mod tags;
mod timelines;
mod tootctl;
mod visibility;
