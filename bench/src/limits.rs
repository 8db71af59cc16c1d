//! `ferrodon-bench limits`: what the rate limiter costs per API request, as web requests per
//! second through four servers built from the same routes and measured in one run:
//!
//! * raw limit: a server answering every request with a fixed body — what this machine's
//!   HTTP stack and the load generator can do at all;
//! * no limiter: ferrodon's routes alone;
//! * ferrodon: the routes behind `api::rate_limits::limit` (the token looked up once and
//!   shared with the handler, every throttle counted in one Redis round trip);
//! * stock-Mastodon pattern: the routes behind Rack::Attack's way of counting — its own
//!   token lookup (the handler then looks the token up again), the IP block list read from
//!   the Rails cache, and a Redis round trip per throttle.
//!
//! Two requests are measured: an authenticated `verify_credentials` and an anonymous
//! `/api/v1/instance`. Tokens and client addresses (`X-Forwarded-For`, trusted from
//! loopback) rotate so that no request is refused; the counters are cleared between runs.

use std::time::{Duration, Instant};

use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::middleware::{Next, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use ferrodon::AppState;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use crate::setup;
use crate::stats::median;

pub struct Args {
    pub requests: usize,
    pub rounds: usize,
    pub connections: usize,
}

#[derive(Clone, Copy, PartialEq)]
enum Server {
    Raw,
    NoLimiter,
    Ferrodon,
    StockPattern,
}

impl Server {
    const ALL: [Server; 4] = [Server::Raw, Server::NoLimiter, Server::Ferrodon, Server::StockPattern];

    fn label(self) -> &'static str {
        match self {
            Server::Raw => "raw limit (fixed answer)",
            Server::NoLimiter => "no limiter",
            Server::Ferrodon => "ferrodon limiter",
            Server::StockPattern => "stock pattern",
        }
    }
}

/// Rack::Attack's counting as Mastodon runs it, for comparison: its own Doorkeeper lookup of
/// the token, `IpBlock.blocked?` reading the cached block list from Redis, then one
/// INCRBY+EXPIRE round trip per throttle that applies (per user and per token, or per address).
async fn stock_pattern_limiter(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let Some(state) = req.app_data::<web::Data<AppState>>().cloned() else {
        return Err(actix_web::error::ErrorInternalServerError("application state missing"));
    };
    let bearer = req
        .headers()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let token = match bearer {
        Some(bearer) => ferrodon::model::oauth::authenticate(&state.db.primary, &bearer).await?,
        None => None,
    };
    let mut conn = state.redis.conn().await?;
    let _: Option<String> = redis::cmd("GET")
        .arg(state.redis.key("cache:blocked_ips"))
        .query_async(&mut conn)
        .await
        .map_err(ferrodon::Error::from)?;
    let address = req.headers().get("x-forwarded-for").and_then(|v| v.to_str().ok()).unwrap_or("127.0.0.1").to_string();
    let counted: Vec<String> = match &token {
        Some(token) => vec![
            format!("throttle_authenticated_api:{}", token.resource_owner_id.unwrap_or_default()),
            format!("throttle_per_token_api:{}", token.id),
        ],
        None => vec![format!("throttle_unauthenticated_api:{address}")],
    };
    let window = ferrodon::core::time::now().and_utc().timestamp() / 300;
    for name in counted {
        let key = state.redis.key(format!("stock:{window}:{name}"));
        let (hits,): (i64,) = redis::pipe()
            .incr(&key, 1)
            .expire(&key, 300)
            .ignore()
            .query_async(&mut conn)
            .await
            .map_err(ferrodon::Error::from)?;
        if hits > 300 {
            return Err(ferrodon::Error::Forbidden("over the benchmark's limit".into()).into());
        }
    }
    next.call(req).await
}

/// Runs the server `build` makes from a free loopback port on its own thread; returns its
/// address and handle.
fn start(
    build: impl FnOnce(std::net::TcpListener) -> std::io::Result<actix_web::dev::Server> + Send + 'static,
) -> std::io::Result<(String, actix_web::dev::ServerHandle)> {
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?.to_string();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        actix_web::rt::System::new().block_on(async move {
            match build(listener) {
                Ok(server) => {
                    let _ = tx.send(Ok(server.handle()));
                    let _ = server.await;
                }
                Err(e) => {
                    let _ = tx.send(Err(e));
                }
            }
        });
    });
    let handle = rx.recv().map_err(std::io::Error::other)??;
    Ok((address, handle))
}

/// `kind` on two workers. The three that serve ferrodon's routes differ only in the
/// limiter around them.
fn serve(kind: Server, state: AppState) -> std::io::Result<(String, actix_web::dev::ServerHandle)> {
    let worker = move || web::Data::new(state.for_worker(2).unwrap_or_else(|_| state.clone()));
    start(move |listener| {
        Ok(match kind {
            Server::Raw => HttpServer::new(|| {
                App::new().default_service(web::to(|| async {
                    HttpResponse::Ok().content_type("application/json").body(FIXED_ANSWER)
                }))
            })
            .workers(2)
            .listen(listener)?
            .run(),
            Server::NoLimiter => {
                HttpServer::new(move || App::new().app_data(worker()).configure(ferrodon::api::configure))
                    .workers(2)
                    .listen(listener)?
                    .run()
            }
            Server::Ferrodon => HttpServer::new(move || {
                App::new()
                    .app_data(worker())
                    .configure(ferrodon::api::configure)
                    .wrap(from_fn(ferrodon::api::rate_limits::limit))
            })
            .workers(2)
            .listen(listener)?
            .run(),
            Server::StockPattern => HttpServer::new(move || {
                App::new().app_data(worker()).configure(ferrodon::api::configure).wrap(from_fn(stock_pattern_limiter))
            })
            .workers(2)
            .listen(listener)?
            .run(),
        })
    })
}

const FIXED_ANSWER: &str = r#"{"id":"1","username":"poster","acct":"poster","display_name":"Poster"}"#;

/// One keep-alive HTTP/1.1 connection making `requests` GETs of `path`, each with the header
/// `header(i)` (a token or a client address). Returns how many answered 200.
async fn client(
    address: String,
    path: &'static str,
    requests: usize,
    header: impl Fn(usize) -> String,
) -> std::io::Result<usize> {
    let mut stream = TcpStream::connect(&address).await?;
    stream.set_nodelay(true)?;
    let mut buffer = Vec::with_capacity(16 * 1024);
    let mut ok = 0;
    for i in 0..requests {
        let request = format!("GET {path} HTTP/1.1\r\nHost: {address}\r\n{}\r\n\r\n", header(i));
        stream.write_all(request.as_bytes()).await?;
        buffer.clear();
        let head_end = loop {
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::Error::other("the server closed the connection"));
            }
            buffer.extend_from_slice(&chunk[..n]);
            if let Some(at) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
                break at + 4;
            }
        };
        let head = String::from_utf8_lossy(&buffer[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:"))
            .and_then(|v| v.trim().parse().ok())
            .ok_or_else(|| std::io::Error::other("an answer without content-length"))?;
        while buffer.len() < head_end + length {
            let mut chunk = [0u8; 8192];
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                return Err(std::io::Error::other("the server closed the connection"));
            }
            buffer.extend_from_slice(&chunk[..n]);
        }
        if head.starts_with("http/1.1 200") {
            ok += 1;
        }
    }
    Ok(ok)
}

/// Requests per second for `requests` GETs of `path` over `connections` connections.
async fn measure(
    address: &str,
    path: &'static str,
    args: &Args,
    tokens: &[String],
    round: usize,
) -> Result<f64, Box<dyn std::error::Error>> {
    let per_connection = args.requests / args.connections;
    let start = Instant::now();
    let mut running = Vec::new();
    for c in 0..args.connections {
        let tokens = tokens.to_vec();
        let header = move |i: usize| {
            let n = c * per_connection + i;
            if path.contains("verify_credentials") {
                format!("Authorization: Bearer {}", tokens[n % tokens.len()])
            } else {
                // A new address every 100 requests keeps each under its 300.
                let a = round * 1_000_000 + n / 100;
                format!("X-Forwarded-For: 10.{}.{}.{}", (a >> 16) & 255, (a >> 8) & 255, a & 255)
            }
        };
        running.push(tokio::spawn(client(address.to_string(), path, per_connection, header)));
    }
    let mut ok = 0;
    for task in running {
        ok += task.await??;
    }
    let elapsed = start.elapsed();
    if ok != per_connection * args.connections {
        return Err(format!("{address}{path}: {ok} of {} answered 200", per_connection * args.connections).into());
    }
    Ok(ok as f64 / elapsed.as_secs_f64())
}

pub async fn run(args: Args) -> Result<(), Box<dyn std::error::Error>> {
    let instance = setup::instance(false).await?;
    let (poster, _) = setup::poster(&instance.state).await?;
    // One token per user, 250 requests each per run: under the 300 a token may make.
    let users = (args.requests / 250).max(1) as i64;
    let tokens: Vec<String> =
        setup::followers(&instance.state, poster.id, users).await?.into_iter().map(|(_, token)| token).collect();
    let web = |limits: bool| {
        let mut vars = instance.vars.clone();
        vars.insert("FERRODON_RATE_LIMITS".into(), limits.to_string());
        vars.remove("DB_POOL");
        ferrodon::core::config::Config::from_map(&vars)
    };
    let mut servers = Vec::new();
    for kind in Server::ALL {
        let state = AppState::connect(web(kind == Server::Ferrodon)?).await?;
        servers.push((kind, serve(kind, state)?));
    }
    let paths: [&'static str; 2] = ["/api/v1/accounts/verify_credentials", "/api/v1/instance"];
    let mut rates: Vec<Vec<Vec<f64>>> = vec![vec![Vec::new(); Server::ALL.len()]; paths.len()];
    for round in 0..args.rounds {
        for (p, path) in paths.iter().enumerate() {
            for (s, (kind, (address, _))) in servers.iter().enumerate() {
                instance.state.redis.delete_matching("*rack::attack*").await?;
                instance.state.redis.delete_matching("*stock:*").await?;
                let rate = measure(address, path, &args, &tokens, round).await?;
                eprintln!("  round {}/{} {path} {}: {rate:.0} requests/s", round + 1, args.rounds, kind.label());
                rates[p][s].push(rate);
            }
        }
    }
    println!(
        "\nRate limiter: {} requests over {} connections, {} rounds; medians",
        args.requests, args.connections, args.rounds
    );
    for (p, path) in paths.iter().enumerate() {
        let medians: Vec<f64> = rates[p].iter().map(|r| median(r)).collect();
        let bare = medians[1];
        println!("\n{path}");
        println!("  {:<28} {:>12} {:>16} {:>20}", "server", "requests/s", "vs no limiter", "limiter cost/request");
        for (s, kind) in Server::ALL.iter().enumerate() {
            let cost = match kind {
                Server::Ferrodon | Server::StockPattern => {
                    format!("{:.0} µs", (1.0 / medians[s] - 1.0 / bare) * 1e6)
                }
                _ => String::new(),
            };
            println!("  {:<28} {:>12.0} {:>15.2}x {:>20}", kind.label(), medians[s], medians[s] / bare, cost);
        }
    }
    for (_, (_, handle)) in servers {
        handle.stop(true).await;
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}
