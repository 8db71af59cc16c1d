//! The job queue: order, retries, the dead set, leases that survive a killed worker,
//! graceful shutdown, and the scheduler firing once across processes.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestApp;
use ferrodon::core::queue;
use ferrodon::effects::feeds;
use ferrodon::worker::{self, Probe};

fn queues(names: &[&str]) -> Vec<String> {
    names.iter().map(|q| q.to_string()).collect()
}

async fn probe_done(app: &TestApp, key: &str) -> bool {
    let mut conn = app.state.redis.conn().await.unwrap();
    redis::cmd("EXISTS").arg(app.state.redis.key(format!("probe:{key}"))).query_async(&mut conn).await.unwrap()
}

async fn wait_until(what: &str, timeout: Duration, mut check: impl AsyncFnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("timed out waiting for {what}");
}

/// A worker process (`ferrodon worker`) for this app's database and Redis prefix.
fn worker_process(app: &TestApp, queue_names: &[&str]) -> Child {
    let mut cmd = app.ferrodon_command();
    cmd.arg("worker").arg("-c").arg("2");
    for q in queue_names {
        cmd.arg("-q").arg(q);
    }
    cmd.env("FERRODON_JOB_LEASE_SECONDS", "2")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start ferrodon worker")
}

async fn claimed_by_someone(app: &TestApp) -> bool {
    sqlx::query_scalar::<_, bool>("SELECT EXISTS (SELECT 1 FROM ferrodon_jobs WHERE locked_by IS NOT NULL)")
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap()
}

#[tokio::test]
async fn earlier_queues_first_then_oldest_first() {
    let app = TestApp::spawn().await;
    let db = &app.state.db.primary;
    queue::enqueue(db, &Probe { key: "a".into(), hold_ms: 0 }).await.unwrap();
    queue::enqueue(db, &Probe { key: "b".into(), hold_ms: 0 }).await.unwrap();
    queue::enqueue(db, &feeds::Job::Vacuum).await.unwrap();
    let order = queues(&["scheduler", "default"]);
    let first = queue::claim(&app.state.db.primary, &order, "test", 60).await.unwrap().unwrap();
    assert_eq!(first.name(), "Feeds/Vacuum");
    let second = queue::claim(&app.state.db.primary, &order, "test", 60).await.unwrap().unwrap();
    assert_eq!(second.payload["key"], "a");
    let third = queue::claim(&app.state.db.primary, &order, "test", 60).await.unwrap().unwrap();
    assert_eq!(third.payload["key"], "b");
    assert!(
        queue::claim(&app.state.db.primary, &order, "test", 60).await.unwrap().is_none(),
        "leased jobs are not claimed twice"
    );
    let only_push = queue::claim(&app.state.db.primary, &queues(&["push"]), "test", 60).await.unwrap();
    assert!(only_push.is_none(), "a worker only takes jobs of its queues");
}

#[tokio::test]
async fn failures_retry_later_then_land_in_the_dead_set() {
    let app = TestApp::spawn().await;
    let db = &app.state.db.primary;
    queue::enqueue(db, &Probe { key: "x".into(), hold_ms: 0 }).await.unwrap();
    let all = queues(&["default"]);
    let job = queue::claim(&app.state.db.primary, &all, "test", 60).await.unwrap().unwrap();
    queue::fail(&app.state.db.primary, &job, "boom", Some(60)).await.unwrap();
    assert!(
        queue::claim(&app.state.db.primary, &all, "test", 60).await.unwrap().is_none(),
        "a retry waits for its backoff"
    );
    let stats = queue::stats(&app.state.db.primary).await.unwrap();
    let default = stats.iter().find(|q| q.queue == "default").unwrap();
    assert_eq!((default.scheduled, default.dead), (1, 0));

    // A payload no worker understands is dead at once, and an admin can put it back.
    sqlx::query(
        "INSERT INTO ferrodon_jobs (queue, kind, payload) VALUES ('default', 'Bogus', '{\"type\": \"Bogus\"}')",
    )
    .execute(db)
    .await
    .unwrap();
    assert_eq!(worker::drain(&app.state, &all).await.unwrap(), 1);
    let dead = queue::dead(&app.state.db.primary, Some("default"), 10).await.unwrap();
    assert_eq!(dead.len(), 1);
    assert!(dead[0].last_error.as_deref().unwrap().contains("unreadable job payload"));
    assert_eq!(queue::retry_dead(&app.state.db.primary, Some("default"), None).await.unwrap(), 1);
    assert!(queue::dead(&app.state.db.primary, None, 10).await.unwrap().is_empty());
    let again = queue::claim(&app.state.db.primary, &all, "test", 60).await.unwrap().unwrap();
    assert_eq!(again.kind, "Bogus");
    // Dead once more, it can also be dropped for good from the CLI.
    worker::runner::run_claimed(&app.state, again).await.unwrap();
    let out = app.ferrodon_command().args(["ctl", "queues", "drop", "--queue", "default"]).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("1 dead jobs deleted"));
    assert!(queue::dead(&app.state.db.primary, None, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_killed_worker_loses_nothing() {
    let app = TestApp::spawn().await;
    queue::enqueue(&app.state.db.primary, &Probe { key: "survivor".into(), hold_ms: 3000 }).await.unwrap();
    let mut first = worker_process(&app, &["default"]);
    wait_until("the first worker to claim the job", Duration::from_secs(20), async || claimed_by_someone(&app).await)
        .await;
    first.kill().unwrap(); // SIGKILL, mid-job
    first.wait().unwrap();
    assert!(!probe_done(&app, "survivor").await);
    let mut second = worker_process(&app, &["default"]);
    wait_until("the job to run again on the second worker", Duration::from_secs(20), async || {
        probe_done(&app, "survivor").await
    })
    .await;
    second.kill().unwrap();
    second.wait().unwrap();
}

#[tokio::test]
async fn sigterm_lets_the_running_job_finish() {
    let app = TestApp::spawn().await;
    queue::enqueue(&app.state.db.primary, &Probe { key: "finishes".into(), hold_ms: 1500 }).await.unwrap();
    let mut worker = worker_process(&app, &["default"]);
    wait_until("the worker to claim the job", Duration::from_secs(20), async || claimed_by_someone(&app).await).await;
    let status = Command::new("kill").arg("-TERM").arg(worker.id().to_string()).status().unwrap();
    assert!(status.success());
    let exit = tokio::task::spawn_blocking(move || worker.wait()).await.unwrap().unwrap();
    assert!(exit.success(), "clean exit on SIGTERM");
    assert!(probe_done(&app, "finishes").await, "the running job finished before the exit");
    let left: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ferrodon_jobs").fetch_one(&app.state.db.primary).await.unwrap();
    assert_eq!(left, 0);
}

#[tokio::test]
async fn a_schedule_fires_once_however_many_schedulers_run() {
    let app = TestApp::spawn().await;
    let db = &app.state.db.primary;
    sqlx::query("UPDATE ferrodon_schedules SET next_run_at = now() - interval '1 second' WHERE name = 'feeds_vacuum'")
        .execute(db)
        .await
        .unwrap();
    let ticks = (0..4).map(|_| {
        let state = app.state.clone();
        tokio::spawn(async move { worker::scheduler::tick(&state).await.unwrap() })
    });
    // Other schedules may come due meanwhile (the deletion check runs every minute).
    let fired: usize = futures_util::future::join_all(ticks)
        .await
        .into_iter()
        .map(|r| r.unwrap().iter().filter(|name| *name == "feeds_vacuum").count())
        .sum();
    assert_eq!(fired, 1);
    let queued: i64 = sqlx::query_scalar("SELECT count(*) FROM ferrodon_jobs WHERE payload->>'type' = 'Vacuum'")
        .fetch_one(db)
        .await
        .unwrap();
    assert_eq!(queued, 1);
    let next_in_a_day: bool = sqlx::query_scalar(
        "SELECT next_run_at > now() + interval '23 hours' FROM ferrodon_schedules WHERE name = 'feeds_vacuum'",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert!(next_in_a_day);

    // Two real worker processes serving `scheduler`: still one run per period.
    sqlx::query("DELETE FROM ferrodon_jobs").execute(db).await.unwrap();
    sqlx::query("UPDATE ferrodon_schedules SET next_run_at = now() - interval '1 second' WHERE name = 'feeds_vacuum'")
        .execute(db)
        .await
        .unwrap();
    let mut a = worker_process(&app, &["scheduler"]);
    let mut b = worker_process(&app, &["scheduler"]);
    wait_until("a scheduler to fire", Duration::from_secs(20), async || {
        sqlx::query_scalar::<_, bool>("SELECT next_run_at > now() FROM ferrodon_schedules WHERE name = 'feeds_vacuum'")
            .fetch_one(db)
            .await
            .unwrap()
    })
    .await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    for w in [&mut a, &mut b] {
        w.kill().unwrap();
        w.wait().unwrap();
    }
    let runs: i64 = sqlx::query_scalar(
        "SELECT count(*) FROM ferrodon_schedules WHERE name = 'feeds_vacuum' AND last_run_at > now() - interval '1 minute'",
    )
    .fetch_one(db)
    .await
    .unwrap();
    assert_eq!(runs, 1);
    let leftover: i64 =
        sqlx::query_scalar("SELECT count(*) FROM ferrodon_jobs WHERE payload->>'type' = 'Vacuum' AND dead_at IS NULL")
            .fetch_one(db)
            .await
            .unwrap();
    assert_eq!(leftover, 0, "the vacuum job ran");
}

#[tokio::test]
async fn workers_serve_per_queue_metrics() {
    let app = TestApp::spawn().await;
    queue::enqueue(&app.state.db.primary, &feeds::Job::Vacuum).await.unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let mut worker = app
        .ferrodon_command()
        .args(["worker", "-q", "push", "--metrics-bind", &format!("127.0.0.1:{port}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut body = String::new();
    for _ in 0..100 {
        if let Ok(res) = reqwest::get(format!("http://127.0.0.1:{port}/metrics")).await {
            body = res.text().await.unwrap();
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    worker.kill().unwrap();
    worker.wait().unwrap();
    assert!(body.contains("# TYPE ferrodon_queue_ready gauge"), "{body}");
    assert!(body.contains("ferrodon_queue_ready{queue=\"scheduler\"} 1"), "{body}");
    assert!(body.contains("ferrodon_queue_dead{queue=\"default\"} 0"), "{body}");
}
