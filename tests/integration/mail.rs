//! E-mail against a real SMTP server: aiosmtpd (PyPI), started by each test on a loopback
//! port, storing what it receives in a maildir. Sign-up confirmation, password reset,
//! notification mails, retries while the server is down, and the file delivery used when
//! no SMTP server is configured.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::TestApp;
use serde_json::json;

/// The Python with aiosmtpd: `FERRODON_TEST_PYTHON` (script/test sets it to its venv).
fn python() -> Option<String> {
    let configured = std::env::var("FERRODON_TEST_PYTHON").ok();
    let python = configured.clone().unwrap_or_else(|| "python3".into());
    let usable = Command::new(&python).args(["-c", "import aiosmtpd"]).output().is_ok_and(|o| o.status.success());
    match (usable, configured) {
        (true, _) => Some(python),
        (false, Some(p)) => panic!("FERRODON_TEST_PYTHON={p} cannot import aiosmtpd"),
        (false, None) => {
            eprintln!("SKIPPED: no python3 with aiosmtpd (script/test provides one; or pip install aiosmtpd)");
            None
        }
    }
}

struct SmtpServer {
    child: Child,
    port: u16,
    maildir: PathBuf,
}

impl SmtpServer {
    fn start(python: &str, port: u16, maildir: &Path) -> SmtpServer {
        for sub in ["cur", "new", "tmp"] {
            std::fs::create_dir_all(maildir.join(sub)).unwrap();
        }
        let child = Command::new(python)
            .args(["-m", "aiosmtpd", "-n", "-l", &format!("127.0.0.1:{port}"), "-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let deadline = Instant::now() + Duration::from_secs(15);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "aiosmtpd did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        SmtpServer { child, port, maildir: maildir.to_path_buf() }
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// Every message received so far, oldest first, with quoted-printable soft breaks undone.
    fn messages(&self) -> Vec<String> {
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .flat_map(|d| std::fs::read_dir(self.maildir.join(d)).unwrap().flatten().map(|e| e.path()))
            .collect();
        files.sort_by_key(|p| std::fs::metadata(p).and_then(|m| m.modified()).ok());
        files
            .iter()
            .map(|p| std::fs::read_to_string(p).unwrap().replace("=\r\n", "").replace("=\n", "").replace("=3D", "="))
            .collect()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

fn temp_dir(name: &str) -> PathBuf {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    std::env::temp_dir().join(format!("ferrodon-{name}-{}-{nanos}", std::process::id()))
}

async fn app_with_smtp(port: u16) -> TestApp {
    let port = port.to_string();
    TestApp::spawn_with(&[
        ("SMTP_SERVER", "127.0.0.1"),
        ("SMTP_PORT", &port),
        ("SMTP_FROM_ADDRESS", "Ferrodon <notifications@ferrodon.test>"),
    ])
    .await
}

fn header<'a>(message: &'a str, name: &str) -> &'a str {
    message
        .lines()
        .find_map(|l| l.strip_prefix(&format!("{name}: ")))
        .unwrap_or_else(|| panic!("no {name} header in {message}"))
}

/// The first `https?://…` link in a message that contains `path`.
fn link(message: &str, path: &str) -> String {
    let start = message.find(path).unwrap_or_else(|| panic!("no {path} link in {message}"));
    let begin = message[..start].rfind("http").unwrap();
    let end = message[begin..].find(|c: char| c.is_whitespace() || c == '"' || c == '<').unwrap() + begin;
    message[begin..end].replace("&amp;", "&")
}

async fn sign_up(app: &TestApp, username: &str) -> String {
    let app_token = app.app_token("read write follow").await;
    let body = json!({ "username": username, "email": format!("{username}@example.test"), "password": "correct horse battery",
                       "agreement": true, "locale": "en" });
    let token = app.post("/api/v1/accounts", Some(&app_token), body).await.expect(200);
    token["access_token"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn sign_up_is_confirmed_through_the_mailed_link() {
    let Some(python) = python() else { return };
    let smtp = SmtpServer::start(&python, free_port(), &temp_dir("maildir"));
    let app = app_with_smtp(smtp.port).await;
    let token = sign_up(&app, "newcomer").await;

    let unconfirmed = app.get("/api/v1/accounts/verify_credentials", Some(&token)).await.expect(403);
    assert_eq!(unconfirmed["error"], "Your login is missing a confirmed e-mail address");
    app.post("/api/v1/statuses", Some(&token), json!({ "status": "hi" })).await.expect(403);
    assert_eq!(app.get("/api/v1/emails/check_confirmation", Some(&token)).await.expect(200), json!(false));
    assert!(smtp.messages().is_empty(), "sent from the queue, not the request");

    app.drain_jobs().await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1);
    let first = &mails[0];
    assert_eq!(header(first, "To"), "newcomer@example.test");
    assert!(header(first, "From").contains("notifications@ferrodon.test"));
    let instance = &app.state.config.local_domain;
    assert_eq!(header(first, "Subject"), format!("Mastodon: Confirmation instructions for {instance}"));
    let first_link = link(first, "/auth/confirmation?confirmation_token=");
    assert!(first_link.starts_with(&app.base) && first_link.ends_with("&redirect_to_app=true"), "{first_link}");

    // A new mail on request, with a new token; the old link stops working.
    app.post("/api/v1/emails/confirmations", Some(&token), json!({})).await.expect(200);
    app.drain_jobs().await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), 2);
    let second_link = link(&mails[1], "/auth/confirmation?confirmation_token=");
    assert_ne!(first_link, second_link);
    let stale = app.client.get(&first_link).send().await.unwrap();
    assert_eq!(stale.status().as_u16(), 422);

    let confirmed = app.client.get(&second_link).send().await.unwrap();
    assert_eq!(confirmed.status().as_u16(), 200);
    app.get("/api/v1/accounts/verify_credentials", Some(&token)).await.expect(200);
    assert_eq!(app.get("/api/v1/emails/check_confirmation", Some(&token)).await.expect(200), json!(true));
    let again = app.post("/api/v1/emails/confirmations", Some(&token), json!({})).await.expect(403);
    assert_eq!(again["error"], "This method is only available while the e-mail is awaiting confirmation");
}

#[tokio::test]
async fn passwords_are_reset_through_the_mailed_link() {
    let Some(python) = python() else { return };
    let smtp = SmtpServer::start(&python, free_port(), &temp_dir("maildir"));
    let app = app_with_smtp(smtp.port).await;
    app.register("alice").await;
    app.drain_jobs().await;
    let before = smtp.messages().len();

    let asked = app.post_form("/auth/password", None, &[("user[email]", "alice@example.test")]).await;
    assert_eq!(asked.status.as_u16(), 200);
    let unknown = app.post_form("/auth/password", None, &[("user[email]", "nobody@example.test")]).await;
    assert_eq!((unknown.status.as_u16(), unknown.text.clone()), (200, asked.text.clone()), "no probing");
    app.drain_jobs().await;
    let mails = smtp.messages();
    assert_eq!(mails.len(), before + 1, "one mail, to the known address");
    let mail = mails.last().unwrap();
    assert_eq!(header(mail, "To"), "alice@example.test");
    assert_eq!(header(mail, "Subject"), "Mastodon: Reset password instructions");
    let reset = link(mail, "/auth/password/edit?reset_password_token=");
    let form = app.client.get(&reset).send().await.unwrap();
    assert_eq!(form.status().as_u16(), 200);
    let token = reset.split("reset_password_token=").nth(1).unwrap().to_string();

    let mismatch = app
        .post_form(
            "/auth/password",
            None,
            &[
                ("user[reset_password_token]", &token),
                ("user[password]", "new password 1"),
                ("user[password_confirmation]", "other"),
            ],
        )
        .await;
    assert_eq!(mismatch.status.as_u16(), 422);
    let changed = app
        .post_form(
            "/auth/password",
            None,
            &[
                ("user[reset_password_token]", &token),
                ("user[password]", "new password 1"),
                ("user[password_confirmation]", "new password 1"),
            ],
        )
        .await;
    assert_eq!(changed.status.as_u16(), 200, "{}", changed.text);

    let (client_id, client_secret) = app.app("read").await;
    let login = |password: &'static str| {
        let (app, id, secret) = (&app, client_id.clone(), client_secret.clone());
        async move {
            app.post_form(
                "/oauth/token",
                None,
                &[
                    ("grant_type", "password"),
                    ("username", "alice@example.test"),
                    ("password", password),
                    ("client_id", &id),
                    ("client_secret", &secret),
                    ("scope", "read"),
                ],
            )
            .await
            .status
            .as_u16()
        }
    };
    assert_eq!(login("new password 1").await, 200);
    assert_ne!(login("correct horse battery").await, 200);
    let reused = app.client.get(&reset).send().await.unwrap();
    assert_eq!(reused.status().as_u16(), 422, "a reset link works once");
}

#[tokio::test]
async fn notification_mails_follow_mastodons_defaults_and_survive_an_smtp_outage() {
    let Some(python) = python() else { return };
    let maildir = temp_dir("maildir");
    let port = free_port();
    let mut smtp = SmtpServer::start(&python, port, &maildir);
    let app = app_with_smtp(port).await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;
    app.drain_jobs().await;
    let before = smtp.messages().len();

    app.follow(&bob, &alice).await;
    let post = app.post_status(&alice, json!({ "status": "hello" })).await;
    app.post(&format!("/api/v1/statuses/{}/favourite", post["id"].as_str().unwrap()), Some(&bob.token), json!({}))
        .await
        .ok();
    app.post_status(&bob, json!({ "status": "@alice see you at the mail server" })).await;
    app.drain_jobs().await;
    assert_eq!(smtp.messages().len(), before, "notification mails wait two minutes");

    // The mail server goes down before the two minutes are up.
    smtp.stop();
    sqlx::query("UPDATE ferrodon_jobs SET run_at = now() WHERE queue = 'mailers'")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    app.drain_jobs().await;
    let waiting: Vec<(i32, bool)> =
        sqlx::query_as("SELECT attempts, dead_at IS NULL FROM ferrodon_jobs WHERE queue = 'mailers' ORDER BY id")
            .fetch_all(&app.state.db.primary)
            .await
            .unwrap();
    assert_eq!(waiting, vec![(1, true), (1, true)], "follow and mention mails wait for a retry; favourites are off");

    // Back up: the retries deliver both.
    let smtp = SmtpServer::start(&python, port, &maildir);
    sqlx::query("UPDATE ferrodon_jobs SET run_at = now() WHERE queue = 'mailers'")
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    app.drain_jobs().await;
    let mails = smtp.messages();
    let subjects: Vec<&str> = mails[before..].iter().map(|m| header(m, "Subject")).collect();
    assert_eq!(subjects, vec!["bob is now following you", "You were mentioned by bob"]);
    assert!(mails[before..].iter().all(|m| header(m, "To") == "alice@example.test"));
    assert!(mails.last().unwrap().contains("see you at the mail server"));
}

#[tokio::test]
async fn without_smtp_mails_are_files() {
    let app = TestApp::spawn().await;
    sign_up(&app, "offline").await;
    app.drain_jobs().await;
    let dir = &app.state.config.mail.mail_dir;
    let files: Vec<PathBuf> = std::fs::read_dir(dir).unwrap().flatten().map(|e| e.path()).collect();
    assert_eq!(files.len(), 1, "{files:?}");
    let mail = std::fs::read_to_string(&files[0]).unwrap();
    assert!(mail.contains("To: offline@example.test"), "{mail}");
    assert!(mail.contains("Subject: Mastodon: Confirmation instructions for"));
}
