//! `ferrodon-bench streaming`: how many WebSocket clients the streaming process holds,
//! what each costs in memory, and how long a post takes to reach all of them — measured
//! for three publishers in one run:
//!
//! * raw limit: an in-process WebSocket broadcast (no Redis, no database) to the same
//!   number of clients — what this machine can do at all;
//! * ferrodon: one shared rendering of the status, the per-viewer flags for all
//!   followers in four queries, all PUBLISHes pipelined (`streaming::status_to_homes`);
//! * stock-Mastodon pattern: per follower, an EXISTS on `subscribed:`, a full per-viewer
//!   hydration and a PUBLISH, 25 at a time (PushUpdateWorker under `sidekiq -c 25`).
//!
//! Plus ferrodon's whole fan-out (home feeds and streams) from the same starting point.

use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use ferrodon::domain::posting::{self, NewStatus};
use ferrodon::{AppState, effects::feeds, effects::streaming, render::entities};
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, broadcast, mpsc};
use tokio_tungstenite::tungstenite::Message;

use crate::setup::{self, rss_bytes};
use crate::stats::{self, ms, percentile};

type Receipts = mpsc::UnboundedReceiver<(usize, Instant)>;

pub struct Args {
    pub clients: usize,
    pub rounds: usize,
    pub out_dir: std::path::PathBuf,
}

struct ServerProcess(Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

/// Opens `n` WebSocket clients to `url(i)`; each reports when it receives a text frame
/// containing `marker`. Returns the tasks (abort them to disconnect).
async fn open_clients(
    n: usize,
    url: impl Fn(usize) -> String,
    marker: &'static str,
) -> Result<(Vec<tokio::task::JoinHandle<()>>, Receipts), Box<dyn std::error::Error>> {
    let (tx, rx) = mpsc::unbounded_channel();
    let gate = Arc::new(Semaphore::new(64));
    let mut connecting = Vec::with_capacity(n);
    for i in 0..n {
        let gate = gate.clone();
        let address = url(i);
        connecting.push(tokio::spawn(async move {
            let _permit = gate.acquire().await.ok()?;
            for attempt in 0..5u64 {
                if let Ok((ws, _)) = tokio_tungstenite::connect_async(address.as_str()).await {
                    return Some(ws);
                }
                tokio::time::sleep(Duration::from_millis(100 * (attempt + 1))).await;
            }
            None
        }));
    }
    let mut tasks = Vec::with_capacity(n);
    for (i, handle) in connecting.into_iter().enumerate() {
        let mut ws = handle.await?.ok_or("a client could not connect")?;
        let tx = tx.clone();
        tasks.push(tokio::spawn(async move {
            while let Some(Ok(frame)) = ws.next().await {
                if let Message::Text(text) = frame
                    && text.as_str().contains(marker)
                    && tx.send((i, Instant::now())).is_err()
                {
                    break;
                }
            }
        }));
        if (i + 1) % 1000 == 0 {
            eprint!("\r  connected {}/{n}", i + 1);
        }
    }
    eprintln!("\r  connected {n}/{n}     ");
    Ok((tasks, rx))
}

/// Waits for one receipt per client after `start`; returns the latencies.
async fn collect(rx: &mut Receipts, n: usize, start: Instant) -> Vec<Duration> {
    let mut seen = vec![false; n];
    let mut latencies = Vec::with_capacity(n);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while latencies.len() < n {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some((i, at))) if !seen[i] => {
                seen[i] = true;
                latencies.push(at.saturating_duration_since(start));
            }
            Ok(Some(_)) => {}
            _ => break,
        }
    }
    latencies
}

fn drain(rx: &mut Receipts) {
    while rx.try_recv().is_ok() {}
}

#[derive(Clone, Copy)]
enum Publisher {
    Ferrodon,
    StockPattern,
    FerrodonFullFanout,
}

impl Publisher {
    fn label(self) -> &'static str {
        match self {
            Publisher::Ferrodon => "ferrodon streams",
            Publisher::StockPattern => "stock pattern",
            Publisher::FerrodonFullFanout => "ferrodon fan-out+streams",
        }
    }
}

/// Per viewer: EXISTS, hydrate, render, PUBLISH — as many jobs, 25 running at once.
async fn stock_pattern_publish(state: &AppState, status_id: i64, viewers: &[i64]) -> ferrodon::Result<()> {
    let results: Vec<ferrodon::Result<()>> = futures_util::stream::iter(viewers.iter().copied())
        .map(|viewer| async move {
            let channel = streaming::user_channel(viewer);
            if !streaming::subscribed(state, std::slice::from_ref(&channel)).await?.first().copied().unwrap_or(false) {
                return Ok(());
            }
            let bundle = ferrodon::model::hydrate::load(&state.db.primary, &[status_id], Some(viewer)).await?;
            if let Some(payload) = entities::status(status_id, &bundle, &state.config) {
                streaming::publish(state, &channel, "update", payload).await?;
            }
            Ok(())
        })
        .buffer_unordered(25)
        .collect()
        .await;
    results.into_iter().collect()
}

async fn wait_for_health(port: u16) -> Result<(), Box<dyn std::error::Error>> {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    for _ in 0..100 {
        if let Ok(mut s) = tokio::net::TcpStream::connect(("127.0.0.1", port)).await {
            s.write_all(b"GET /api/v1/streaming/health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").await?;
            let mut buf = Vec::new();
            s.read_to_end(&mut buf).await?;
            if buf.ends_with(b"OK") {
                return Ok(());
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err("the streaming server did not start".into())
}

/// A minimal WebSocket broadcast server, run as its own process (`ferrodon-bench
/// raw-ws-server`): any client sending `go` makes it send one frame to every connection.
/// The raw cost of delivering one frame to everyone.
pub async fn raw_ws_server() -> Result<(), Box<dyn std::error::Error>> {
    setup::raise_open_files(65_536);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    println!("{}", listener.local_addr()?.port());
    let (sender, _) = broadcast::channel::<Arc<str>>(16);
    let sample: Arc<str> =
        Arc::from(format!("{{\"stream\":[\"user\"],\"event\":\"raw\",\"payload\":{:?}}}", "x".repeat(2500)).as_str());
    while let Ok((stream, _)) = listener.accept().await {
        let mut rx = sender.subscribe();
        let (sender, sample) = (sender.clone(), sample.clone());
        tokio::spawn(async move {
            let Ok(ws) = tokio_tungstenite::accept_async(stream).await else { return };
            let (mut sink, mut incoming) = ws.split();
            loop {
                tokio::select! {
                    frame = incoming.next() => match frame {
                        Some(Ok(Message::Text(t))) if t.as_str() == "go" => { let _ = sender.send(sample.clone()); }
                        Some(Ok(_)) => {}
                        _ => break,
                    },
                    text = rx.recv() => match text {
                        Ok(text) => if sink.send(Message::text(text.to_string())).await.is_err() { break },
                        Err(_) => break,
                    },
                }
            }
        });
    }
    Ok(())
}

type Row = (String, Vec<Duration>, Vec<Duration>, usize);

/// The raw limit: one frame broadcast to `n` WebSocket clients by a minimal server in
/// another process, `rounds` times.
async fn raw_limit(n: usize, rounds: usize) -> Result<(Row, Vec<Duration>), Box<dyn std::error::Error>> {
    use std::io::BufRead;
    eprintln!("raw limit: a bare WebSocket broadcast server to {n} clients");
    let mut server =
        ServerProcess(Command::new(std::env::current_exe()?).arg("raw-ws-server").stdout(Stdio::piped()).spawn()?);
    let stdout = server.0.stdout.take().ok_or("no stdout from the raw server")?;
    let mut line = String::new();
    std::io::BufReader::new(stdout).read_line(&mut line)?;
    let raw_port: u16 = line.trim().parse()?;
    let (raw_clients, mut raw_receipts) = open_clients(n, |_| format!("ws://127.0.0.1:{raw_port}/"), "raw").await?;
    let (mut trigger, _) = tokio_tungstenite::connect_async(format!("ws://127.0.0.1:{raw_port}/")).await?;
    tokio::time::sleep(Duration::from_secs(1)).await;
    let (mut p50s, mut p99s, mut all, mut delivered) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for _ in 0..rounds {
        drain(&mut raw_receipts);
        let start = Instant::now();
        trigger.send(Message::text("go")).await?;
        let mut latencies = collect(&mut raw_receipts, n, start).await;
        latencies.sort();
        delivered += latencies.len();
        p50s.push(percentile(&latencies, 50.0));
        p99s.push(percentile(&latencies, 99.0));
        all.extend(latencies);
    }
    for task in raw_clients {
        task.abort();
    }
    drop(server);
    Ok((("raw limit (bare broadcast server)".to_string(), p50s, p99s, delivered / rounds.max(1)), all))
}

pub async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let n = args.clients;
    setup::raise_open_files((n as u64) * 3 + 4096);
    let (raw_row, raw_series) = raw_limit(n, args.rounds).await?;
    // Let the closed sockets leave TIME_WAIT before opening as many again.
    tokio::time::sleep(Duration::from_secs(2)).await;
    eprintln!("setting up: {n} followers with tokens");
    let instance = setup::instance(false).await?;
    let state = &instance.state;
    let (poster, poster_user) = setup::poster(state).await?;
    let followers = setup::followers(state, poster.id, n as i64).await?;
    let follower_ids: Vec<i64> = followers.iter().map(|(id, _)| *id).collect();

    let port = free_port()?;
    let binary = std::env::current_exe()?.with_file_name("ferrodon-streaming");
    if !binary.exists() {
        return Err(format!("{} is missing: cargo build --release -p ferrodon-streaming", binary.display()).into());
    }
    let server = ServerProcess(
        Command::new(&binary)
            .envs(&instance.vars)
            .env("STREAMING_PORT", port.to_string())
            .env("BIND", "127.0.0.1")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()?,
    );
    wait_for_health(port).await?;
    let pid = server.0.id();
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rss_idle = rss_bytes(pid);

    eprintln!("opening {n} WebSocket connections (user stream)");
    let tokens: Vec<String> = followers.iter().map(|(_, t)| t.clone()).collect();
    let (clients, mut receipts) = open_clients(
        n,
        |i| format!("ws://127.0.0.1:{port}/api/v1/streaming?stream=user&access_token={}", tokens[i]),
        "\"update\"",
    )
    .await?;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let rss_connected = rss_bytes(pid);
    let subscribed: usize =
        streaming::subscribed(state, &follower_ids.iter().map(|id| streaming::user_channel(*id)).collect::<Vec<_>>())
            .await?
            .into_iter()
            .filter(|s| *s)
            .count();

    let mut series: Vec<(String, Vec<Duration>)> = vec![("raw limit".to_string(), raw_series)];
    let mut rows: Vec<Row> = vec![raw_row];
    for publisher in [Publisher::Ferrodon, Publisher::StockPattern, Publisher::FerrodonFullFanout] {
        let (mut p50s, mut p99s, mut all, mut delivered) = (Vec::new(), Vec::new(), Vec::new(), 0);
        for round in 0..args.rounds {
            let text = format!("{} round {round}", publisher.label());
            let new = NewStatus { text, ..Default::default() };
            let status_id = posting::post(state, &poster, &poster_user, new).await?;
            let status = ferrodon::model::statuses::find_many(&state.db.primary, &[status_id]).await?.remove(0);
            drain(&mut receipts);
            let start = Instant::now();
            let publish_state = state.clone();
            let viewers = follower_ids.clone();
            let publishing = tokio::spawn(async move {
                match publisher {
                    Publisher::Ferrodon => streaming::status_to_homes(&publish_state, &status, &viewers, false).await,
                    Publisher::StockPattern => stock_pattern_publish(&publish_state, status.id, &viewers).await,
                    Publisher::FerrodonFullFanout => feeds::distribute(&publish_state, status.id, false, 0).await,
                }
            });
            let mut latencies = collect(&mut receipts, n, start).await;
            publishing.await??;
            latencies.sort();
            delivered += latencies.len();
            p50s.push(percentile(&latencies, 50.0));
            p99s.push(percentile(&latencies, 99.0));
            eprintln!(
                "  {:<26} round {round}: {} clients, p50 {:.1} ms, p99 {:.1} ms",
                publisher.label(),
                latencies.len(),
                ms(percentile(&latencies, 50.0)),
                ms(percentile(&latencies, 99.0))
            );
            all.extend(latencies);
        }
        series.push((publisher.label().to_string(), all.clone()));
        rows.push((publisher.label().to_string(), p50s, p99s, delivered / args.rounds.max(1)));
    }
    for task in clients {
        task.abort();
    }
    drop(server);

    println!(
        "\nstreaming: {n} WebSocket clients on the user stream, {} rounds each (medians over rounds)\n",
        args.rounds
    );
    println!("| publisher | clients reached | p50 latency | p99 latency |");
    println!("|---|---:|---:|---:|");
    for (label, p50s, p99s, reached) in &rows {
        let p50: Vec<f64> = p50s.iter().map(|d| ms(*d)).collect();
        let p99: Vec<f64> = p99s.iter().map(|d| ms(*d)).collect();
        println!("| {label} | {reached}/{n} | {:.1} ms | {:.1} ms |", stats::median(&p50), stats::median(&p99));
    }
    let per_connection = rss_connected.saturating_sub(rss_idle) as f64 / n.max(1) as f64;
    println!(
        "\nstreaming process memory: {:.1} MB idle, {:.1} MB holding {n} connections ({subscribed} subscribed channels) \
         → {:.1} KB per connection",
        rss_idle as f64 / 1e6,
        rss_connected as f64 / 1e6,
        per_connection / 1024.0
    );
    std::fs::create_dir_all(&args.out_dir)?;
    let plot = args.out_dir.join("streaming-latency.svg");
    std::fs::write(
        &plot,
        stats::cdf_svg(
            &format!("Delivery latency to {n} WebSocket clients (CDF)"),
            "latency from publish to client (ms)",
            "clients that received the event",
            &series,
        ),
    )?;
    println!("plot: {}", plot.display());
    Ok(())
}
