//! `ferrodon-bench`: benchmarks that print ferrodon's figures next to the stock-Mastodon
//! pattern and the machine's raw limit, measured in one run. Not part of the test suite.
//!
//!     cargo build --release -p ferrodon-streaming -p ferrodon-bench
//!     target/release/ferrodon-bench streaming --clients 10000
//!     target/release/ferrodon-bench fanout [--quick] [--reuse-graph] [--home-only]
//!     target/release/ferrodon-bench limits [--requests 10000] [--rounds 5]

mod fanout;
mod limits;
mod setup;
mod stats;
mod streaming;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "ferrodon-bench", about = "ferrodon's benchmarks")]
struct Cli {
    #[command(subcommand)]
    command: Bench,
}

#[derive(Subcommand)]
enum Bench {
    /// The home-feed hot path: raw ZADD vs the stock-Mastodon pattern vs ferrodon, delivery
    /// latency during a 1M-follower fan-out, home reads, feed memory.
    Fanout {
        /// Accounts in the generated graph (at least 1,000,001 unless --quick).
        #[arg(long, default_value_t = 1_000_001)]
        accounts: i64,
        /// A 100,000-account graph that runs in a few minutes.
        #[arg(long)]
        quick: bool,
        /// Reuse the graph an earlier run of the same size left in the database.
        #[arg(long)]
        reuse_graph: bool,
        /// Only the home-timeline reads (measure 5), to try read-path changes quickly.
        #[arg(long)]
        home_only: bool,
        #[arg(long, default_value = "target/bench")]
        out: std::path::PathBuf,
    },
    /// Web requests per second with and without the rate limiter, next to Rack::Attack's
    /// pattern and a fixed answer.
    Limits {
        /// Requests per measurement.
        #[arg(long, default_value_t = 10_000)]
        requests: usize,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Concurrent keep-alive connections.
        #[arg(long, default_value_t = 32)]
        connections: usize,
    },
    /// (Used by `streaming`: the bare broadcast server of the raw-limit measurement.)
    #[command(hide = true)]
    RawWsServer,
    /// Concurrent WebSocket clients, memory per connection, and delivery latency.
    Streaming {
        #[arg(long, default_value_t = 10_000)]
        clients: usize,
        #[arg(long, default_value_t = 5)]
        rounds: usize,
        /// Where plots are written.
        #[arg(long, default_value = "target/bench")]
        out: std::path::PathBuf,
    },
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    // Warnings and errors only, so the server under test does not drown the progress lines.
    ferrodon::init_logging("warn");
    let result = match cli.command {
        Bench::Fanout { accounts, quick, reuse_graph, home_only, out } => {
            fanout::run(fanout::Args { accounts, quick, reuse_graph, home_only, out_dir: out }).await
        }
        Bench::Limits { requests, rounds, connections } => {
            limits::run(limits::Args { requests, rounds, connections }).await
        }
        Bench::RawWsServer => streaming::raw_ws_server().await,
        Bench::Streaming { clients, rounds, out } => {
            streaming::run(streaming::Args { clients, rounds, out_dir: out }).await
        }
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
