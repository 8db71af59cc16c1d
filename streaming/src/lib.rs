//! ferrodon's streaming server: Mastodon's `/api/v1/streaming` over WebSocket (with
//! subscribe/unsubscribe multiplexing) and server-sent events, fed by Redis pub/sub.
//! Runs as its own process (`ferrodon-streaming`); tests start it in-process.

pub mod hub;
pub mod streams;

use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use ferrodon::core::config::Config;
use ferrodon::core::redis::Redis;
use ferrodon::model::oauth::Scopes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::{BodyExt, Full, StreamBody, combinators::BoxBody};
use hyper::body::{Frame, Incoming};
use hyper::header::{self, HeaderValue};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::json;
use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::sync::{Notify, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role, WebSocketConfig};

use hub::{Client, Hub, Outgoing};
use streams::{StreamError, Viewer};

type Body = BoxBody<Bytes, Infallible>;

const WS_PING_INTERVAL: Duration = Duration::from_secs(30);
const SSE_HEARTBEAT: Duration = Duration::from_secs(15);
/// A client that cannot take a frame within this time is disconnected.
const WRITE_TIMEOUT: Duration = Duration::from_secs(10);

pub struct Streaming {
    db: PgPool,
    hub: Arc<Hub>,
}

impl Streaming {
    pub async fn connect(config: &Config) -> ferrodon::Result<Arc<Streaming>> {
        let db = ferrodon::core::db::Db::connect(config).await?.replica;
        let redis = Redis::connect(&config.redis_url, &config.redis_key_prefix)?;
        let hub = Hub::start(&config.redis_url, redis, db.clone()).await?;
        Ok(Arc::new(Streaming { db, hub }))
    }

    pub fn hub(&self) -> &Hub {
        &self.hub
    }
}

/// Accepts connections until the listener fails.
pub async fn serve(streaming: Arc<Streaming>, listener: TcpListener) -> std::io::Result<()> {
    loop {
        let (stream, _) = listener.accept().await?;
        let _ = stream.set_nodelay(true);
        let streaming = streaming.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |req| handle(streaming.clone(), req));
            let connection = hyper::server::conn::http1::Builder::new()
                .serve_connection(TokioIo::new(stream), service)
                .with_upgrades();
            if let Err(e) = connection.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
}

fn full(body: impl Into<Bytes>) -> Body {
    Full::new(body.into()).boxed()
}

fn json_response(status: u16, value: serde_json::Value) -> Response<Body> {
    let mut response = Response::new(full(value.to_string()));
    *response.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json; charset=utf-8"));
    response
}

fn error_response(e: &StreamError) -> Response<Body> {
    json_response(e.status, json!({ "error": e.message }))
}

fn query_param(req: &Request<Incoming>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(req.uri().query().unwrap_or("").as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The token from `Authorization: Bearer`, `?access_token=` or `Sec-WebSocket-Protocol`
/// (in that order of preference); the flag says whether it came from the protocol header.
fn token(req: &Request<Incoming>) -> Option<(String, bool)> {
    if let Some(bearer) = req
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("bearer ")))
    {
        return Some((bearer.trim().to_string(), false));
    }
    if let Some(t) = query_param(req, "access_token").filter(|t| !t.is_empty()) {
        return Some((t, false));
    }
    req.headers()
        .get(header::SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').next())
        .map(|t| (t.trim().to_string(), true))
        .filter(|(t, _)| !t.is_empty())
}

async fn authenticate(db: &PgPool, token: &str) -> Result<Viewer, StreamError> {
    #[derive(sqlx::FromRow)]
    struct TokenRow {
        id: i64,
        scopes: Option<String>,
        account_id: i64,
        chosen_languages: Option<Vec<String>>,
    }
    // Revoked and expired tokens are refused (Mastodon's streaming server checks only
    // revocation); a token revoked later closes its streams (`timeline:access_token:<id>`).
    let row: Option<TokenRow> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT t.id, t.scopes, u.account_id, u.chosen_languages
           FROM oauth_access_tokens t
           JOIN users u ON u.id = t.resource_owner_id
           JOIN accounts a ON a.id = u.account_id
          WHERE t.token = $1 AND {} AND NOT u.disabled AND a.suspended_at IS NULL",
        ferrodon::model::oauth::LIVE_TOKEN
    )))
    .bind(token)
    .fetch_optional(db)
    .await
    .map_err(|_| StreamError { status: 500, message: "An unexpected error occurred".into() })?;
    let TokenRow { id: token_id, scopes, account_id, chosen_languages } =
        row.ok_or(StreamError { status: 401, message: "Invalid access token".into() })?;
    let scopes = Scopes::from_stored(scopes.as_deref().unwrap_or(""));
    if !scopes.permits("read:statuses") && !scopes.permits("read:notifications") {
        return Err(StreamError { status: 401, message: "Access token does not have the required scopes".into() });
    }
    Ok(Viewer { token_id, account_id, scopes, chosen_languages })
}

async fn handle(streaming: Arc<Streaming>, req: Request<Incoming>) -> Result<Response<Body>, Infallible> {
    let path = req.uri().path().to_string();
    if path.trim_end_matches('/') == "/api/v1/streaming/health" {
        let mut response = Response::new(full("OK"));
        response.headers_mut().insert(header::CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        return Ok(response);
    }
    if !path.starts_with("/api/v1/streaming") {
        return Ok(json_response(404, json!({ "error": "Not found" })));
    }
    let upgrade = req
        .headers()
        .get(header::UPGRADE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.eq_ignore_ascii_case("websocket"));
    if upgrade {
        return Ok(websocket(streaming, req).await);
    }
    if req.method() != Method::GET {
        return Ok(json_response(404, json!({ "error": "Not found" })));
    }
    Ok(server_sent_events(streaming, req).await)
}

/// A connection's registration with the hub, and what it receives.
struct Session {
    streaming: Arc<Streaming>,
    client: Client,
    rx: mpsc::Receiver<Outgoing>,
}

impl Session {
    async fn open(streaming: Arc<Streaming>, viewer: Viewer) -> ferrodon::Result<Session> {
        let (tx, rx) = mpsc::channel(hub::CONNECTION_QUEUE);
        let client = Client {
            id: streaming.hub.next_client_id(),
            viewer: Arc::new(viewer),
            tx,
            dropped: Arc::new(Notify::new()),
        };
        let control = vec![
            ferrodon::effects::streaming::access_token_channel(client.viewer.token_id),
            ferrodon::effects::streaming::system_channel(client.viewer.account_id),
        ];
        streaming.hub.subscribe(&client, Vec::new(), &control, false, true).await?;
        Ok(Session { streaming, client, rx })
    }

    async fn subscribe(&self, stream: &str, tag: Option<&str>, list: Option<&str>) -> Result<(), StreamError> {
        let sub = streams::resolve(&self.streaming.db, &self.client.viewer, stream, tag, list).await?;
        self.streaming
            .hub
            .subscribe(&self.client, sub.label, &sub.channels, sub.filtered, false)
            .await
            .map_err(|_| StreamError { status: 500, message: "An unexpected error occurred".into() })
    }

    async fn unsubscribe(&self, stream: &str, tag: Option<&str>, list: Option<&str>) -> Result<(), StreamError> {
        let sub = streams::resolve(&self.streaming.db, &self.client.viewer, stream, tag, list).await?;
        self.streaming.hub.unsubscribe(self.client.id, Some(&sub.label)).await;
        Ok(())
    }

    async fn close(self) {
        self.streaming.hub.unsubscribe(self.client.id, None).await;
    }
}

/// `GET /api/v1/streaming/<stream>`: server-sent events.
async fn server_sent_events(streaming: Arc<Streaming>, req: Request<Incoming>) -> Response<Body> {
    let only_media = query_param(&req, "only_media").is_some_and(|v| matches!(v.as_str(), "1" | "true" | "True"));
    let Some(stream) = streams::stream_from_path(req.uri().path(), only_media) else {
        return json_response(404, json!({ "error": "Unknown stream type" }));
    };
    let Some((token, _)) = token(&req) else {
        return json_response(401, json!({ "error": "Missing access token" }));
    };
    let viewer = match authenticate(&streaming.db, &token).await {
        Ok(v) => v,
        Err(e) => return error_response(&e),
    };
    let session = match Session::open(streaming, viewer).await {
        Ok(s) => s,
        Err(_) => return json_response(500, json!({ "error": "An unexpected error occurred" })),
    };
    let tag = query_param(&req, "tag");
    let list = query_param(&req, "list");
    if let Err(e) = session.subscribe(&stream, tag.as_deref(), list.as_deref()).await {
        session.close().await;
        return error_response(&e);
    }
    let (body_tx, body_rx) = mpsc::channel::<Result<Frame<Bytes>, Infallible>>(16);
    tokio::spawn(pump_sse(session, body_tx));
    let body = BodyExt::boxed(StreamBody::new(tokio_stream_from(body_rx)));
    let mut response = Response::new(body);
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("private, no-store"));
    headers.insert(header::HeaderName::from_static("x-accel-buffering"), HeaderValue::from_static("no"));
    response
}

fn tokio_stream_from<T>(mut rx: mpsc::Receiver<T>) -> impl futures_util::Stream<Item = T> {
    futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx))
}

async fn pump_sse(mut session: Session, body: mpsc::Sender<Result<Frame<Bytes>, Infallible>>) {
    let send = |text: String| {
        let body = body.clone();
        async move {
            tokio::time::timeout(WRITE_TIMEOUT, body.send(Ok(Frame::data(Bytes::from(text)))))
                .await
                .is_ok_and(|r| r.is_ok())
        }
    };
    let mut heartbeat = tokio::time::interval(SSE_HEARTBEAT);
    heartbeat.tick().await;
    if send(":)\n".into()).await {
        let dropped = session.client.dropped.clone();
        loop {
            tokio::select! {
                out = session.rx.recv() => match out {
                    Some(Outgoing::Event { event, payload, .. }) => {
                        if !send(format!("event: {event}\ndata: {payload}\n\n")).await { break }
                    }
                    Some(Outgoing::Kill) | None => break,
                },
                _ = heartbeat.tick() => if !send(":thump\n\n".into()).await { break },
                _ = dropped.notified() => break,
                _ = body.closed() => break,
            }
        }
    }
    session.close().await;
}

/// A WebSocket upgrade on any `/api/v1/streaming` path, optionally subscribing to
/// `?stream=` at once.
async fn websocket(streaming: Arc<Streaming>, mut req: Request<Incoming>) -> Response<Body> {
    let Some(key) = req.headers().get(header::SEC_WEBSOCKET_KEY).cloned() else {
        return json_response(400, json!({ "error": "Missing Sec-WebSocket-Key" }));
    };
    let Some((token, via_protocol)) = token(&req) else {
        return rejected_upgrade(401, "Missing access token");
    };
    let viewer = match authenticate(&streaming.db, &token).await {
        Ok(v) => v,
        Err(e) => return rejected_upgrade(e.status, &e.message),
    };
    let session = match Session::open(streaming, viewer).await {
        Ok(s) => s,
        Err(_) => return rejected_upgrade(500, "An unexpected error occurred"),
    };
    // Subscribe before answering, so events published right after the handshake arrive.
    let mut initial_error = None;
    if let Some(stream) = query_param(&req, "stream")
        && let Err(e) =
            session.subscribe(&stream, query_param(&req, "tag").as_deref(), query_param(&req, "list").as_deref()).await
    {
        initial_error = Some(e);
    }
    let protocol = via_protocol.then(|| req.headers().get(header::SEC_WEBSOCKET_PROTOCOL).cloned()).flatten();
    let upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match upgrade.await {
            Ok(upgraded) => {
                let ws =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(ws_config())).await;
                run_websocket(session, ws, initial_error).await;
            }
            Err(e) => {
                tracing::debug!(error = %e, "websocket upgrade failed");
                session.close().await;
            }
        }
    });
    let mut response = Response::new(full(Bytes::new()));
    *response.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    let headers = response.headers_mut();
    headers.insert(header::UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        headers.insert(header::SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(protocol) = protocol {
        let first = protocol.to_str().ok().and_then(|p| p.split(',').next()).map(str::trim).map(str::to_string);
        if let Some(value) = first.and_then(|p| HeaderValue::from_str(&p).ok()) {
            headers.insert(header::SEC_WEBSOCKET_PROTOCOL, value);
        }
    }
    response
}

/// Small buffers: clients only send short subscribe frames, and 10,000 idle connections
/// must not cost 10,000 × 128 KiB of default read buffer.
fn ws_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0)
        .max_write_buffer_size(1 << 20)
        .max_message_size(Some(64 << 10))
        .max_frame_size(Some(64 << 10))
}

/// A refused upgrade: a plain HTTP error with Mastodon's `X-Error-Message` header.
fn rejected_upgrade(status: u16, message: &str) -> Response<Body> {
    let mut response = json_response(status, json!({ "error": message }));
    if let Ok(value) = HeaderValue::from_str(message) {
        response.headers_mut().insert("x-error-message", value);
    }
    response
}

#[derive(serde::Deserialize)]
struct ClientFrame {
    #[serde(rename = "type")]
    kind: String,
    stream: String,
    tag: Option<String>,
    list: Option<serde_json::Value>,
}

fn list_param(v: &Option<serde_json::Value>) -> Option<String> {
    match v {
        Some(serde_json::Value::String(s)) => Some(s.clone()),
        Some(serde_json::Value::Number(n)) => Some(n.to_string()),
        _ => None,
    }
}

async fn run_websocket<S>(mut session: Session, ws: WebSocketStream<S>, initial_error: Option<StreamError>)
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    let (mut sink, mut incoming) = ws.split();
    if let Some(e) = initial_error {
        let _ =
            send_frame(&mut sink, Message::text(json!({ "error": e.message, "status": e.status }).to_string())).await;
    }
    let dropped = session.client.dropped.clone();
    let mut ping = tokio::time::interval(WS_PING_INTERVAL);
    ping.tick().await;
    let mut alive = true;
    loop {
        tokio::select! {
            frame = incoming.next() => match frame {
                Some(Ok(Message::Text(text))) => {
                    let Ok(frame) = serde_json::from_str::<ClientFrame>(text.as_str()) else { continue };
                    let list = list_param(&frame.list);
                    let result = match frame.kind.as_str() {
                        "subscribe" => session.subscribe(&frame.stream, frame.tag.as_deref(), list.as_deref()).await,
                        "unsubscribe" => session.unsubscribe(&frame.stream, frame.tag.as_deref(), list.as_deref()).await,
                        _ => Ok(()),
                    };
                    if let Err(e) = result
                        && !send_frame(&mut sink, Message::text(json!({ "error": e.message, "status": e.status }).to_string())).await
                    {
                        break;
                    }
                }
                Some(Ok(Message::Binary(_))) => {
                    let close = CloseFrame { code: CloseCode::Unsupported, reason: "Binary messages are not supported".into() };
                    let _ = send_frame(&mut sink, Message::Close(Some(close))).await;
                    break;
                }
                Some(Ok(Message::Pong(_))) => alive = true,
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => break,
                Some(Ok(_)) => {}
            },
            out = session.rx.recv() => match out {
                Some(Outgoing::Event { frame, .. }) => {
                    if !send_frame(&mut sink, Message::Text(frame)).await { break }
                }
                Some(Outgoing::Kill) | None => {
                    let _ = send_frame(&mut sink, Message::Close(None)).await;
                    break;
                }
            },
            _ = dropped.notified() => {
                let close = CloseFrame { code: CloseCode::Again, reason: "Too slow".into() };
                let _ = send_frame(&mut sink, Message::Close(Some(close))).await;
                break;
            }
            _ = ping.tick() => {
                if !alive || !send_frame(&mut sink, Message::Ping(Bytes::new())).await { break }
                alive = false;
            }
        }
    }
    session.close().await;
}

/// Sends one frame, giving up on a client that does not take it in time.
async fn send_frame<S>(
    sink: &mut futures_util::stream::SplitSink<WebSocketStream<S>, Message>,
    message: Message,
) -> bool
where
    S: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin,
{
    tokio::time::timeout(WRITE_TIMEOUT, sink.send(message)).await.is_ok_and(|r| r.is_ok())
}
