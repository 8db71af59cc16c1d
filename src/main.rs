//! `ferrodon`: the web process and the admin CLI.

use clap::Parser;

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    ferrodon::init_logging("info");
    let cli = ferrodon::cli::Cli::parse();
    let config = match ferrodon::core::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    match ferrodon::cli::run(cli, config).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
