//! `ferrodon-streaming`: the streaming API process, listening on BIND:STREAMING_PORT
//! (default 127.0.0.1:4000).

#[tokio::main]
async fn main() -> std::process::ExitCode {
    ferrodon::init_logging("info");
    let mut config = match ferrodon::core::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    // Mastodon's streaming server defaults to 10 database connections.
    config.db_pool = config.db_pool.or(Some(10));
    let address = format!("{}:{}", config.bind, config.streaming_port);
    let listener = match tokio::net::TcpListener::bind(&address).await {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {address}: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let streaming = match ferrodon_streaming::Streaming::connect(&config).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    tracing::info!("streaming listening on http://{address}");
    tokio::select! {
        result = ferrodon_streaming::serve(streaming, listener) => match result {
            Ok(()) => std::process::ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::ExitCode::FAILURE
            }
        },
        _ = tokio::signal::ctrl_c() => std::process::ExitCode::SUCCESS,
    }
}
