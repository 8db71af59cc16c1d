//! ferrodon: a Mastodon-compatible server. This library is shared by every process (web,
//! streaming, workers, CLI). Its modules are layers that import downward only: `core`,
//! `model`, `domain` and `render`, `effects`, then the entry points `api`, `inbox`, `cli`
//! and `worker` (docs/ARCHITECTURE.md).

pub mod api;
pub mod cli;
pub mod core;
pub mod domain;
pub mod effects;
pub mod inbox;
pub mod model;
pub mod render;
pub mod worker;

/// mimalloc instead of the system allocator, for every process that links ferrodon: a home
/// timeline page allocates thousands of small strings, and glibc's malloc and free were
/// about a fifth of the web workers' CPU (README, performance section).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

pub use crate::core::error::{Error, Result};
pub use crate::effects::AppState;

/// Logs to stderr, filtered by `RUST_LOG` (default: `default_filter`, such as `info`).
pub fn init_logging(default_filter: &str) {
    // PostgreSQL's notices ("relation … already exists, skipping") are not news.
    let default_filter = format!("{default_filter},sqlx::postgres::notice=warn");
    let filter = tracing_subscriber::EnvFilter::try_from_env("RUST_LOG").unwrap_or_else(|_| default_filter.into());
    use std::io::IsTerminal;
    let colors = std::io::stderr().is_terminal();
    tracing_subscriber::fmt().with_env_filter(filter).with_ansi(colors).with_writer(std::io::stderr).init();
}
