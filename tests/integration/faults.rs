//! Faults in the middle of work, with real PostgreSQL, Redis and servers: Redis stopped while
//! actions happen, a worker killed in the middle of a fan-out, a job that runs twice. Every
//! effect (notification, delivery, feed insertion, streaming event) happens exactly once.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use serde_json::{Value, json};

use crate::common::{self, TestApp, User};
use crate::federation_peers::{follow_across, resolve, settle};
use ferrodon::core::pagination::Page;
use ferrodon::core::queue;
use ferrodon::effects::feeds::store;

/// A Redis server of the test's own, which it can stop and start again on the same port
/// (without persistence: a restart starts empty, as after a crash).
struct OwnRedis {
    port: u16,
    server: Option<Child>,
}

impl OwnRedis {
    fn start() -> OwnRedis {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let mut redis = OwnRedis { port, server: None };
        redis.restart();
        redis
    }

    fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/0", self.port)
    }

    fn restart(&mut self) {
        let server = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .spawn()
            .expect("redis-server (script/services installs it)");
        self.server = Some(server);
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "redis-server did not start");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    fn stop(&mut self) {
        if let Some(mut server) = self.server.take() {
            let _ = server.kill();
            let _ = server.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

/// Retries that are waiting run now (instead of after Sidekiq's backoff).
async fn retries_due_now(app: &TestApp) {
    sqlx::query("UPDATE ferrodon_jobs SET run_at = now() WHERE dead_at IS NULL AND attempts > 0")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
}

fn id_of(user: &User) -> i64 {
    user.id.parse().unwrap()
}

/// How often `status_id` is in `account_id`'s home feed.
async fn times_in_home(app: &TestApp, account_id: i64, status_id: i64) -> usize {
    let feed = store::all(&app.state, account_id).await.unwrap().unwrap_or_default();
    feed.iter().filter(|id| **id == status_id).count()
}

/// Subscribes to `channels` on `app`'s Redis, after marking them as listened to as the
/// streaming server would (`subscribed:<channel>`, and the home listeners' sorted set).
async fn listen(app: &TestApp, redis_url: &str, home_of: &[i64], channels: &[String]) -> redis::aio::PubSub {
    let mut conn = app.state.redis.conn().await.unwrap();
    for channel in channels {
        let _: () =
            redis::AsyncCommands::set_ex(&mut conn, app.state.redis.key(format!("subscribed:{channel}")), 1, 600)
                .await
                .unwrap();
    }
    let until = chrono::Utc::now().timestamp() + 600;
    for account in home_of {
        let key = app.state.redis.key(ferrodon::effects::streaming::LISTENING_KEY);
        let _: () = redis::AsyncCommands::zadd(&mut conn, key, account, until).await.unwrap();
    }
    let client = redis::Client::open(redis_url).unwrap();
    let mut pubsub = client.get_async_pubsub().await.unwrap();
    for channel in channels {
        pubsub.subscribe(app.state.redis.key(channel)).await.unwrap();
    }
    pubsub
}

/// The messages received so far, as (channel without the prefix, event).
async fn received(app: &TestApp, pubsub: &mut redis::aio::PubSub) -> Vec<(String, String)> {
    let prefix = &app.state.config.redis_key_prefix;
    let mut messages = Vec::new();
    let mut stream = pubsub.on_message();
    while let Ok(Some(message)) = tokio::time::timeout(Duration::from_millis(500), stream.next()).await {
        let payload: Value = serde_json::from_str(&message.get_payload::<String>().unwrap()).unwrap();
        let channel = message.get_channel_name().trim_start_matches(prefix.as_str()).to_string();
        messages.push((channel, payload["event"].as_str().unwrap_or_default().to_string()));
    }
    messages
}

/// Redis stops while carol favourites alice's post, dave follows alice and alice posts (and
/// favourites bob's post on another server). Every request still succeeds; once Redis is
/// back, each notification, delivery, feed insertion and streaming event happens once.
#[tokio::test]
async fn redis_down_during_a_favourite_a_follow_and_a_post() {
    let mut own = OwnRedis::start();
    let allow = ("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8");
    let a = TestApp::spawn_at("127.0.0.1", &[allow, ("REDIS_URL", &own.url())]).await;
    let b = TestApp::spawn_at("127.0.0.2", &[allow]).await;
    let (alice, carol, dave) = (a.register("alice").await, a.register("carol").await, a.register("dave").await);
    let bob = b.register("bob").await;
    follow_across(&b, &bob, &a, "alice").await;
    a.follow(&carol, &alice).await;
    let earlier = a.post_status(&alice, json!({ "status": "from before" })).await;
    let bobs = b.post_status(&bob, json!({ "status": "bob's post" })).await;
    let bobs_uri = bobs["uri"].as_str().unwrap().replace('/', "%2F").replace(':', "%3A");
    let found = a.get(&format!("/api/v2/search?type=statuses&resolve=true&q={bobs_uri}"), Some(&alice.token)).await;
    let bobs_here = found.ok()["statuses"][0]["id"].as_str().unwrap().to_string();
    settle(&a, &b).await;

    own.stop();
    let favourite = format!("/api/v1/statuses/{}/favourite", earlier["id"].as_str().unwrap());
    a.post(&favourite, Some(&carol.token), json!({})).await.expect(200);
    a.post(&format!("/api/v1/accounts/{}/follow", alice.id), Some(&dave.token), json!({})).await.expect(200);
    let post = a.post_status(&alice, json!({ "status": "posted while Redis was down" })).await;
    a.post(&format!("/api/v1/statuses/{bobs_here}/favourite"), Some(&alice.token), json!({})).await.expect(200);
    // The effects run and fail: Redis refuses.
    a.drain_jobs().await;
    let waiting: i64 = sqlx::query_scalar("SELECT count(*) FROM ferrodon_jobs WHERE attempts > 0 AND dead_at IS NULL")
        .fetch_one(&a.state.db.primary)
        .await
        .unwrap();
    assert!(waiting > 0, "the effects that need Redis wait for a retry");

    own.restart();
    let alice_notifications = format!("timeline:{}:notifications", alice.id);
    let carol_home = format!("timeline:{}", carol.id);
    let mut pubsub = listen(&a, &own.url(), &[id_of(&carol)], &[alice_notifications.clone(), carol_home.clone()]).await;
    retries_due_now(&a).await;
    settle(&a, &b).await;
    retries_due_now(&a).await;
    settle(&a, &b).await;

    let post_id: i64 = post["id"].as_str().unwrap().parse().unwrap();
    let mut events = received(&a, &mut pubsub).await;
    events.sort();
    let expected = vec![
        (alice_notifications.clone(), "notification".to_string()),
        (alice_notifications, "notification".to_string()),
        (carol_home, "update".to_string()),
    ];
    assert_eq!(events, expected, "a favourite and a follow notification for alice, the post for carol, once each");
    let favourites = a.get("/api/v1/notifications?types[]=favourite", Some(&alice.token)).await.ids();
    assert_eq!(favourites.len(), 1, "carol's favourite, notified once");
    let follows =
        a.get(&format!("/api/v1/notifications?types[]=follow&account_id={}", dave.id), Some(&alice.token)).await;
    assert_eq!(follows.ids().len(), 1, "dave's follow, notified once");
    assert_eq!(times_in_home(&a, id_of(&carol), post_id).await, 1, "carol's feed");
    assert_eq!(times_in_home(&a, id_of(&dave), post_id).await, 1, "dave's feed (merged when he followed)");

    // The other server got the post and the favourite, once.
    let home = b.get("/api/v1/timelines/home", Some(&bob.token)).await.ok();
    let copies =
        home.as_array().unwrap().iter().filter(|s| s["content"] == "<p>posted while Redis was down</p>").count();
    assert_eq!(copies, 1, "bob's home on B: {home}");
    let bobs_now = b.get(&format!("/api/v1/statuses/{}", bobs["id"].as_str().unwrap()), Some(&bob.token)).await.ok();
    assert_eq!(bobs_now["favourites_count"], 1);
    let on_b = b.get("/api/v1/notifications?types[]=favourite", Some(&bob.token)).await.ok();
    assert_eq!(on_b.as_array().unwrap().len(), 1, "{on_b}");

    // Nothing more is left to happen.
    settle(&a, &b).await;
    assert!(received(&a, &mut pubsub).await.is_empty());
}

/// A worker started as its own process (`ferrodon worker`), with `extra` settings; its log
/// goes to `log`.
fn worker(app: &TestApp, extra: &[(&str, &str)], log: &std::path::Path) -> Child {
    let mut command = app.ferrodon_command();
    let log = std::fs::OpenOptions::new().create(true).append(true).open(log).unwrap();
    command.args(["worker", "-q", "default", "-c", "2"]).env("RUST_LOG", "warn").stdout(Stdio::null()).stderr(log);
    for (k, v) in extra {
        command.env(k, v);
    }
    command.spawn().unwrap()
}

/// The jobs left, for a failure's message.
async fn jobs_left(app: &TestApp) -> Vec<(String, i32, Option<String>)> {
    sqlx::query_as("SELECT kind || '/' || (payload->>'type'), attempts, last_error FROM ferrodon_jobs ORDER BY id")
        .fetch_all(&app.state.db.primary)
        .await
        .unwrap()
}

async fn fanout_jobs_left(app: &TestApp) -> i64 {
    sqlx::query_scalar(
        "SELECT count(*) FROM ferrodon_jobs WHERE (kind = 'Feeds' AND payload->>'type' LIKE 'Distribute%') OR kind = 'Event'",
    )
    .fetch_one(&app.state.db.primary)
    .await
    .unwrap()
}

/// `kill -9` of the worker in the middle of a fan-out (20,000 followers, 500 per job), then a
/// new worker: every follower's feed holds the post, once.
#[tokio::test]
async fn a_worker_killed_in_the_middle_of_a_fanout() {
    let settings = [("FERRODON_FANOUT_CHUNK", "500"), ("FERRODON_JOB_LEASE_SECONDS", "2"), ("DB_POOL", "5")];
    let app = TestApp::spawn_with(&settings).await;
    let author = app.register("author").await;
    let fans = 800_000_001_i64..=800_020_000;
    app.add_local_followers(id_of(&author), fans.clone()).await;
    let post = app.post_status(&author, json!({ "status": "to 20,000 followers" })).await;
    let post_id: i64 = post["id"].as_str().unwrap().parse().unwrap();

    let log = std::env::temp_dir().join(format!("ferrodon-fanout-kill-{}.log", std::process::id()));
    let mut first = worker(&app, &settings, &log);
    // Killed once a part of the fan-out is written and the rest is still queued.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let continued: bool =
            sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM ferrodon_jobs WHERE payload->>'type' = 'DistributeMore')")
                .fetch_one(&app.state.db.primary)
                .await
                .unwrap();
        if continued {
            break;
        }
        assert!(Instant::now() < deadline, "the fan-out never started");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    first.kill().unwrap();
    first.wait().unwrap();
    assert!(fanout_jobs_left(&app).await > 0, "the worker was killed before the fan-out ended");

    let mut second = worker(&app, &settings, &log);
    let deadline = Instant::now() + Duration::from_secs(300);
    while fanout_jobs_left(&app).await > 0 {
        if Instant::now() > deadline {
            let _ = second.kill();
            let worker_log = std::fs::read_to_string(&log).unwrap_or_default();
            panic!("the fan-out did not finish after the restart: {:?}\n{worker_log}", jobs_left(&app).await);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    second.kill().unwrap();
    second.wait().unwrap();

    let page = Page { max_id: None, since_id: None, min_id: None, limit: 5 };
    for fan in fans {
        let feed = store::page_of(&app.state, store::Kind::Home, fan, &page).await.unwrap();
        assert_eq!(feed, Some(vec![post_id]), "the feed of follower {fan}");
    }
}

/// Runs `app`'s jobs until none is left; those whose `family/type` is in `twice` are run a
/// second time before they are recorded as done (as when a worker dies after the work and
/// before the end, and the job's lease runs out).
async fn drain_running_twice(app: &TestApp, twice: &[&str]) -> Vec<String> {
    let queues: Vec<String> = queue::QUEUES.iter().map(|q| q.to_string()).collect();
    let mut repeated = Vec::new();
    while let Some(job) = queue::claim(&app.state.db.primary, &queues, "twice", 60).await.unwrap() {
        if twice.contains(&job.name().as_str()) {
            ferrodon::worker::registry::perform(&app.state, &job).await.unwrap();
            repeated.push(job.name());
        }
        ferrodon::worker::runner::run_claimed(&app.state, job).await.unwrap();
    }
    repeated
}

/// The same job run twice: a fan-out, a delivery and an incoming activity each do their
/// work once (no second feed entry, delivery or notification).
#[tokio::test]
async fn the_same_job_run_twice_does_its_work_once() {
    let allow = [("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8")];
    let a = TestApp::spawn_at("127.0.0.1", &allow).await;
    let b = TestApp::spawn_at("127.0.0.2", &allow).await;
    let (alice, carol) = (a.register("alice").await, a.register("carol").await);
    let bob = b.register("bob").await;
    follow_across(&b, &bob, &a, "alice").await;
    a.follow(&carol, &alice).await;

    let post = a.post_status(&alice, json!({ "status": "said once" })).await;
    let post_id: i64 = post["id"].as_str().unwrap().parse().unwrap();
    let repeated = drain_running_twice(&a, &["Feeds/Distribute", "Federation/Deliver"]).await;
    assert!(repeated.contains(&"Feeds/Distribute".to_string()) && repeated.contains(&"Federation/Deliver".to_string()));
    assert_eq!(times_in_home(&a, id_of(&carol), post_id).await, 1, "carol's feed");
    let received: i64 = sqlx::query_scalar("SELECT count(*) FROM ferrodon_jobs WHERE kind = 'Ingress'")
        .fetch_one(&b.state.db.primary)
        .await
        .unwrap();
    assert_eq!(received, 1, "one delivery reached B");
    drain_running_twice(&b, &[]).await;

    // Bob favourites it from B; A processes the Like twice.
    let remote = resolve(&b, &bob, &format!("alice@{}", a.state.config.local_domain)).await;
    let statuses =
        b.get(&format!("/api/v1/accounts/{}/statuses", remote["id"].as_str().unwrap()), Some(&bob.token)).await;
    let on_b = statuses.ok()[0]["id"].as_str().unwrap().to_string();
    b.post(&format!("/api/v1/statuses/{on_b}/favourite"), Some(&bob.token), json!({})).await.expect(200);
    drain_running_twice(&b, &[]).await;
    let repeated = drain_running_twice(&a, &["Ingress/Process"]).await;
    assert_eq!(repeated, vec!["Ingress/Process".to_string()]);
    let notifications = a.get("/api/v1/notifications?types[]=favourite", Some(&alice.token)).await.ok();
    assert_eq!(notifications.as_array().unwrap().len(), 1, "{notifications}");
    let status = a.get(&format!("/api/v1/statuses/{post_id}"), Some(&alice.token)).await.ok();
    assert_eq!(status["favourites_count"], 1);
}

/// An inbox on a loopback port that answers every POST with `status` and `extra` headers.
async fn answering_inbox(status: &'static str, extra: &'static str) -> String {
    use tokio::io::AsyncWriteExt;
    let listener = tokio::net::TcpListener::bind("127.0.0.3:0").await.unwrap();
    let address = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                if common::read_http_message(&mut socket).await.is_none() {
                    return;
                }
                let answer = format!("HTTP/1.1 {status}\r\n{extra}Content-Length: 0\r\nConnection: close\r\n\r\n");
                let _ = socket.write_all(answer.as_bytes()).await;
            });
        }
    });
    format!("http://{address}/inbox")
}

/// One queued delivery from `sender` to `inbox`, run; returns the job's row after the run
/// (seconds until its next try, and whether it is dead), if any is left.
async fn deliver_once(app: &TestApp, sender: &User, inbox: &str) -> Option<(i64, bool)> {
    let job = ferrodon::effects::federation::Job::Deliver {
        account_id: id_of(sender),
        inbox: inbox.to_string(),
        activity: json!({ "type": "Create", "id": "https://example.test/activity", "actor": "x" }),
    };
    queue::enqueue(&app.state.db.primary, &job).await.unwrap();
    app.drain_jobs().await;
    sqlx::query_as(
        "SELECT extract(epoch FROM run_at - now())::bigint, dead_at IS NOT NULL FROM ferrodon_jobs
          WHERE payload->>'type' = 'Deliver'",
    )
    .fetch_optional(&app.state.db.primary)
    .await
    .unwrap()
}

async fn failed_days(app: &TestApp, inbox: &str) -> usize {
    let host = inbox.trim_start_matches("http://").split('/').next().unwrap().to_string();
    let mut conn = app.state.redis.conn().await.unwrap();
    redis::AsyncCommands::scard(&mut conn, app.state.redis.key(format!("exhausted_deliveries:{host}"))).await.unwrap()
}

/// Mastodon's delivery policy against a real server: a refusal (4xx) is final and counts
/// against the server; a 429 waits as long as `Retry-After` says; a 5xx retries with the
/// backoff.
#[tokio::test]
async fn deliveries_follow_the_answer_they_get() {
    let app = TestApp::spawn_with(&[("ALLOWED_PRIVATE_ADDRESSES", "127.0.0.0/8")]).await;
    let alice = app.register("alice").await;

    let refusing = answering_inbox("403 Forbidden", "").await;
    assert_eq!(deliver_once(&app, &alice, &refusing).await, None, "a refusal is not retried");
    assert_eq!(failed_days(&app, &refusing).await, 1, "and counts as a failed day");

    let busy = answering_inbox("429 Too Many Requests", "Retry-After: 600\r\n").await;
    let (retry_in, dead) = deliver_once(&app, &alice, &busy).await.unwrap();
    assert!(!dead && (590..=600).contains(&retry_in), "Retry-After honoured: {retry_in} s");
    sqlx::query("DELETE FROM ferrodon_jobs").execute(&app.state.db.primary).await.unwrap();

    let failing = answering_inbox("503 Service Unavailable", "").await;
    let (retry_in, dead) = deliver_once(&app, &alice, &failing).await.unwrap();
    // Sidekiq's first retry: 1⁴ + 15 seconds, and up to 18 of jitter.
    assert!(!dead && (14..=34).contains(&retry_in), "backoff: {retry_in} s");
}
