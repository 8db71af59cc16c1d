//! `ferrodon-streaming`: the streaming API process. This first version answers the health
//! check on STREAMING_PORT; the WebSocket and SSE streams arrive with the streaming issue.

use actix_web::{App, HttpResponse, HttpServer, web};

async fn health() -> HttpResponse {
    HttpResponse::Ok().content_type("text/plain; charset=utf-8").body("OK")
}

#[actix_web::main]
async fn main() -> std::process::ExitCode {
    ferrodon::init_logging();
    let config = match ferrodon::config::Config::from_env() {
        Ok(c) => c,
        Err(e) => {
            eprintln!("configuration error: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let address = format!("{}:{}", config.bind, config.streaming_port);
    let server =
        match HttpServer::new(|| App::new().route("/api/v1/streaming/health", web::get().to(health))).bind(&address) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("error: {address}: {e}");
                return std::process::ExitCode::FAILURE;
            }
        };
    tracing::info!("streaming listening on http://{address}");
    match server.run().await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}
