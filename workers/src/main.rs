//! `ferrodon-worker -q default -q push -c 25`: runs jobs from the named queues, earlier
//! queues first, with `-c` concurrent jobs. SIGTERM or Ctrl-C stops it gracefully: no new
//! jobs are taken, running ones finish (or are handed back to the queue).

use clap::Parser;

#[derive(Parser)]
#[command(name = "ferrodon-worker", version, about = "Runs ferrodon's background jobs")]
struct Args {
    #[command(flatten)]
    worker: ferrodon::worker::runner::WorkerArgs,
}

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ferrodon::init_logging("info");
    let args = Args::parse();
    let config = match ferrodon::core::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match ferrodon::worker::runner::process_main(config, args.worker).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
