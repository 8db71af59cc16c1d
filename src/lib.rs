//! ferrodon: a Mastodon-compatible server. This library is shared by every process
//! (web, streaming, workers, CLI); each domain lives in its own module.

pub mod accounts;
pub mod api;
pub mod app;
pub mod cli;
pub mod config;
pub mod db;
pub mod entities;
pub mod error;
pub mod events;
pub mod federation;
pub mod feeds;
pub mod instance;
pub mod jobs;
pub mod lists;
pub mod mail;
pub mod markers;
pub mod media;
pub mod notifications;
pub mod oauth;
pub mod pagination;
pub mod polls;
pub mod redis_pool;
pub mod reports;
pub mod search;
pub mod statuses;
pub mod tags;
pub mod time;

/// mimalloc instead of the system allocator, for every process that links ferrodon: a home
/// timeline page allocates thousands of small strings, and glibc's malloc and free were
/// about a fifth of the web workers' CPU (README, performance section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use app::AppState;
pub use error::{Error, Result};

/// Logs to stderr, filtered by `RUST_LOG` (default: `default_filter`, such as `info`).
pub fn init_logging(default_filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| default_filter.into());
    use std::io::IsTerminal;
    let colors = std::io::stderr().is_terminal();
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colors).with_writer(std::io::stderr).init();
}
