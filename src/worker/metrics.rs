//! Per-queue metrics in Prometheus's text format, served by a worker started with
//! `--metrics-bind` (keep it on a private address, as Mastodon's exporter).

use std::fmt::Write;

use actix_web::{App, HttpResponse, HttpServer, web};

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::core::queue::{self, QueueStats};

/// A metric's name, help text, and how to read it from a queue's figures.
type Gauge = (&'static str, &'static str, fn(&QueueStats) -> f64);

pub fn render(stats: &[QueueStats]) -> String {
    let gauges: [Gauge; 6] = [
        ("ready", "Jobs ready to run.", |q| q.ready as f64),
        ("scheduled", "Jobs waiting for their run time (retries included).", |q| q.scheduled as f64),
        ("running", "Jobs held by a worker.", |q| q.running as f64),
        ("retrying", "Jobs that failed at least once and will run again.", |q| q.retrying as f64),
        ("dead", "Jobs out of attempts (the dead set).", |q| q.dead as f64),
        ("latency_seconds", "How long the oldest ready job has waited.", |q| q.latency_seconds),
    ];
    let mut out = String::new();
    for (name, help, value) in gauges {
        let _ = writeln!(out, "# HELP ferrodon_queue_{name} {help}\n# TYPE ferrodon_queue_{name} gauge");
        for q in stats {
            let _ = writeln!(out, "ferrodon_queue_{name}{{queue=\"{}\"}} {}", q.queue, value(q));
        }
    }
    out
}

async fn metrics(state: web::Data<AppState>) -> HttpResponse {
    match queue::stats(&state.db.primary).await {
        Ok(stats) => HttpResponse::Ok().content_type("text/plain; version=0.0.4").body(render(&stats)),
        Err(e) => {
            tracing::error!(error = %e, "queue metrics failed");
            HttpResponse::ServiceUnavailable().finish()
        }
    }
}

/// The `GET /metrics` server on `address` (spawn it to run it).
pub fn server(state: AppState, address: &str) -> Result<actix_web::dev::Server> {
    let data = web::Data::new(state);
    Ok(HttpServer::new(move || App::new().app_data(data.clone()).route("/metrics", web::get().to(metrics)))
        .workers(1)
        .disable_signals()
        .bind(address)
        .map_err(|e| Error::internal(format!("{address}: {e}")))?
        .run())
}
