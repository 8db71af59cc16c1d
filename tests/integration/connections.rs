//! Pooled connections are handed out without a ping (a round trip per checkout on the hot
//! paths), so a connection whose server end went away must be replaced, not reused.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use common::TestApp;

#[tokio::test]
async fn a_redis_connection_whose_link_dropped_is_replaced() {
    let app = TestApp::spawn().await;
    let mut conn = app.state.redis.conn().await.unwrap();
    let id: i64 = redis::cmd("CLIENT").arg("ID").query_async(&mut conn).await.unwrap();
    let mut admin = redis::Client::open(common::redis_url()).unwrap().get_multiplexed_async_connection().await.unwrap();
    let killed: i64 = redis::cmd("CLIENT").arg("KILL").arg("ID").arg(id).query_async(&mut admin).await.unwrap();
    assert_eq!(killed, 1);

    let on_dead_link = redis::cmd("PING").query_async::<String>(&mut conn).await;
    assert!(on_dead_link.is_err(), "a killed connection cannot answer");
    drop(conn);

    let mut conn = app.state.redis.conn().await.unwrap();
    let pong: String = redis::cmd("PING").query_async(&mut conn).await.unwrap();
    assert_eq!(pong, "PONG");
    let new_id: i64 = redis::cmd("CLIENT").arg("ID").query_async(&mut conn).await.unwrap();
    assert_ne!(new_id, id, "the dropped connection was handed out again");
}

#[tokio::test]
async fn a_database_connection_terminated_by_the_server_is_replaced() {
    let app = TestApp::spawn_with(&[("DB_POOL", "1")]).await;
    let db = &app.state.db.primary;
    let pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(db).await.unwrap();
    let admin = sqlx::PgPool::connect(&common::database_url()).await.unwrap();
    let terminated: bool =
        sqlx::query_scalar("SELECT pg_terminate_backend($1)").bind(pid).fetch_one(&admin).await.unwrap();
    assert!(terminated);
    admin.close().await;

    // The first query may meet the closed connection; after it, the pool's one connection
    // must be a new, working one.
    let _ = sqlx::query_scalar::<_, i32>("SELECT 1").fetch_one(db).await;
    let new_pid: i32 = sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(db).await.unwrap();
    assert_ne!(new_pid, pid);

    // And the API still answers.
    let user = app.register("alice").await;
    app.get("/api/v1/timelines/home", Some(&user.token)).await.expect(200);
}

/// An idle keep-alive connection stays open for PERSISTENT_TIMEOUT (20 s, as Mastodon's
/// Puma), longer than actix's default of 5 s, which clients that keep connections for
/// longer (reqwest: 90 s) raced: a request sent just as the server closed failed.
#[tokio::test]
async fn an_idle_keep_alive_connection_outlives_five_seconds() {
    use tokio::io::AsyncWriteExt;
    let app = TestApp::spawn().await;
    let address = app.base.trim_start_matches("http://").to_string();
    let mut stream = tokio::net::TcpStream::connect(&address).await.unwrap();
    let request = format!("GET /health HTTP/1.1\r\nHost: {address}\r\n\r\n");
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = common::read_http_message(&mut stream).await.expect("the server closed the connection");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    tokio::time::sleep(std::time::Duration::from_secs(7)).await;
    stream.write_all(request.as_bytes()).await.unwrap();
    let answer = common::read_http_message(&mut stream).await.expect("the server closed the connection");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}
