//! The shipped nginx config (nginx/nginx.conf) in front of a real web and streaming
//! process: `nginx -t` accepts it with a certificate in place, and a copy listening on
//! plain HTTP routes an API call to web and a WebSocket stream to streaming.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::TestApp;
use futures_util::StreamExt;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

fn nginx_binary() -> PathBuf {
    for candidate in ["/usr/sbin/nginx", "/usr/bin/nginx"] {
        if Path::new(candidate).exists() {
            return candidate.into();
        }
    }
    panic!("nginx is not installed (script/test installs it with apt-get install nginx)");
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn shipped_config() -> String {
    std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/nginx/nginx.conf")).unwrap()
}

/// The site file adapted to this test: our ports, a scratch cache, the repo's public/.
fn adapt(site: &str, dir: &Path, web: u16, streaming: u16) -> String {
    site.replace("127.0.0.1:3000", &format!("127.0.0.1:{web}"))
        .replace("127.0.0.1:4000", &format!("127.0.0.1:{streaming}"))
        .replace("/var/lib/nginx/ferrodon-cache", &dir.join("cache").display().to_string())
        .replace("/home/ferrodon/ferrodon/public", concat!(env!("CARGO_MANIFEST_DIR"), "/public"))
}

/// A top-level nginx.conf that includes the site, with every path inside `dir`.
fn main_config(dir: &Path, site: &Path) -> PathBuf {
    let d = dir.display();
    let conf = format!(
        "worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\nuser root;\n\
         events {{ worker_connections 1024; }}\n\
         http {{\n  access_log off;\n  client_body_temp_path {d}/body;\n  proxy_temp_path {d}/proxy;\n\
           fastcgi_temp_path {d}/fastcgi;\n  uwsgi_temp_path {d}/uwsgi;\n  scgi_temp_path {d}/scgi;\n\
           include {};\n}}\n",
        site.display()
    );
    let path = dir.join("nginx.conf");
    std::fs::write(&path, conf).unwrap();
    path
}

fn self_signed_certificate(dir: &Path) -> (PathBuf, PathBuf) {
    let (cert, key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let status = Command::new("openssl")
        .args(["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=example.com"])
        .arg("-keyout")
        .arg(&key)
        .arg("-out")
        .arg(&cert)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("openssl");
    assert!(status.success());
    (cert, key)
}

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ferrodon-nginx-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn shipped_config_passes_nginx_t() {
    let dir = scratch_dir("syntax");
    let (cert, key) = self_signed_certificate(&dir);
    let site = adapt(&shipped_config(), &dir, 3000, 4000)
        .replace("/etc/letsencrypt/live/example.com/fullchain.pem", &cert.display().to_string())
        .replace("/etc/letsencrypt/live/example.com/privkey.pem", &key.display().to_string());
    let site_path = dir.join("site.conf");
    std::fs::write(&site_path, site).unwrap();
    let conf = main_config(&dir, &site_path);
    let output = Command::new(nginx_binary()).arg("-t").arg("-c").arg(&conf).arg("-p").arg(&dir).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    assert!(output.status.success(), "nginx -t: {}", String::from_utf8_lossy(&output.stderr));
}

struct Nginx(Child);

impl Drop for Nginx {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn routes_api_and_streaming_through_nginx() {
    let app = TestApp::spawn().await;
    let web_port: u16 = app.base.rsplit(':').next().unwrap().parse().unwrap();
    let streaming = ferrodon_streaming::Streaming::connect(&app.state.config).await.unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let streaming_port = listener.local_addr().unwrap().port();
    tokio::spawn(ferrodon_streaming::serve(streaming, listener));

    let dir = scratch_dir("routing");
    let (http_port, front_port) = (free_port(), free_port());
    // The TLS server block, served on plain HTTP here (reqwest in the tests speaks no TLS).
    let site = adapt(&shipped_config(), &dir, web_port, streaming_port)
        .replace("listen [::]:80;", "")
        .replace("listen [::]:443 ssl http2;", "")
        .replace("listen 80;", &format!("listen 127.0.0.1:{http_port};"))
        .replace("listen 443 ssl http2;", &format!("listen 127.0.0.1:{front_port};"))
        .lines()
        .filter(|l| !l.trim_start().starts_with("ssl_"))
        .collect::<Vec<_>>()
        .join("\n");
    let site_path = dir.join("site.conf");
    std::fs::write(&site_path, site).unwrap();
    let conf = main_config(&dir, &site_path);
    let _nginx = Nginx(
        Command::new(nginx_binary())
            .arg("-c")
            .arg(&conf)
            .arg("-p")
            .arg(&dir)
            .args(["-g", "daemon off;"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let front = format!("127.0.0.1:{front_port}");
    let client = reqwest::Client::new();
    let mut instance = None;
    for _ in 0..50 {
        if let Ok(res) = client.get(format!("http://{front}/api/v1/instance")).send().await {
            instance = Some(res);
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let res = instance.expect("nginx answers");
    assert_eq!(res.status(), 200);
    assert!(res.headers().contains_key("strict-transport-security"));
    let body: Value = res.json().await.unwrap();
    assert!(body["uri"].is_string());

    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.follow(&bob, &alice).await;
    let (mut ws, _) = tokio_tungstenite::connect_async(format!(
        "ws://{front}/api/v1/streaming?stream=user&access_token={}",
        bob.token
    ))
    .await
    .expect("websocket through nginx");
    let status = app.post_status(&alice, json!({ "status": "through the proxy" })).await;
    app.drain_jobs().await;
    let frame = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            if let Some(Ok(Message::Text(text))) = ws.next().await {
                return serde_json::from_str::<Value>(text.as_str()).unwrap();
            }
        }
    })
    .await
    .expect("an event through nginx");
    assert_eq!(frame["event"], "update");
    let payload: Value = serde_json::from_str(frame["payload"].as_str().unwrap()).unwrap();
    assert_eq!(payload["id"], status["id"]);

    let health = client.get(format!("http://{front}/api/v1/streaming/health")).send().await.unwrap();
    assert_eq!(health.text().await.unwrap(), "OK");
    let _ = std::fs::remove_dir_all(&dir);
}
