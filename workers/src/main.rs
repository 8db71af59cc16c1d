//! `ferrodon-worker -q default -q push -c 25`: runs jobs from the named queues, earlier
//! queues first, with `-c` concurrent jobs.

use clap::Parser;

#[derive(Parser)]
#[command(name = "ferrodon-worker", version, about = "Runs ferrodon's background jobs")]
struct Args {
    /// Queue to serve (repeatable; earlier ones take priority). Default: all queues.
    #[arg(short = 'q', long = "queue")]
    queues: Vec<String>,
    /// Jobs run at the same time.
    #[arg(short = 'c', long = "concurrency", default_value_t = 5)]
    concurrency: usize,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ferrodon::init_logging();
    let args = Args::parse();
    let config = match ferrodon::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let queues: Vec<String> = if args.queues.is_empty() {
        ferrodon::jobs::QUEUES.iter().map(|q| q.to_string()).collect()
    } else {
        args.queues
    };
    if let Some(unknown) = queues.iter().find(|q| !ferrodon::jobs::QUEUES.contains(&q.as_str())) {
        eprintln!("unknown queue {unknown:?}; known queues: {}", ferrodon::jobs::QUEUES.join(", "));
        return std::process::ExitCode::from(2);
    }
    let state = match ferrodon::AppState::connect(config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!(queues = ?queues, concurrency = args.concurrency, "worker started");
    tokio::select! {
        result = ferrodon::jobs::run_workers(state, queues, args.concurrency) => match result {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        _ = tokio::signal::ctrl_c() => std::process::ExitCode::SUCCESS,
    }
}
