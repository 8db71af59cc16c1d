//! Media on S3 (`S3_ENABLED=true`), against a real S3 server: s3s-fs from crates.io, which
//! checks SigV4 signatures and keeps objects in a local directory, started on a loopback
//! port by the test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::Cursor;
use std::path::{Path, PathBuf};

use common::TestApp;
use image::{DynamicImage, ImageFormat, RgbImage};
use reqwest::Method;

const ACCESS_KEY: &str = "ferrodon-test-access";
const SECRET_KEY: &str = "ferrodon-test-secret";

/// Starts s3s-fs on 127.0.0.1 with one bucket, `media`; returns its URL and data root.
async fn start_s3() -> (String, PathBuf) {
    let root = std::env::temp_dir().join(format!("ferrodon-s3-{}-{}", std::process::id(), rand_suffix()));
    std::fs::create_dir_all(root.join("media")).unwrap();
    let fs = s3s_fs::FileSystem::new(&root).unwrap();
    let mut builder = s3s::service::S3ServiceBuilder::new(fs);
    builder.set_auth(s3s::auth::SimpleAuth::from_single(ACCESS_KEY, SECRET_KEY));
    let service = builder.build();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
        rt.block_on(async move {
            let listener = tokio::net::TcpListener::from_std(listener.into_std().unwrap()).unwrap();
            let http = hyper_util::server::conn::auto::Builder::new(hyper_util::rt::TokioExecutor::new());
            loop {
                let Ok((socket, _)) = listener.accept().await else { continue };
                let conn = http.serve_connection(hyper_util::rt::TokioIo::new(socket), service.clone()).into_owned();
                tokio::spawn(conn);
            }
        });
    });
    (format!("http://127.0.0.1:{port}"), root)
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let image = DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| image::Rgb([x as u8, y as u8, 9])));
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, ImageFormat::Png).unwrap();
    out.into_inner()
}

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(d) = pending.pop() {
        for entry in std::fs::read_dir(&d).into_iter().flatten().flatten() {
            let path = entry.path();
            if path.is_dir() {
                pending.push(path);
            } else {
                found.push(path);
            }
        }
    }
    found
}

#[tokio::test]
async fn media_live_in_the_bucket() {
    let (endpoint, root) = start_s3().await;
    let s3_vars = [
        ("S3_ENABLED", "true"),
        ("S3_BUCKET", "media"),
        ("S3_ENDPOINT", endpoint.as_str()),
        ("S3_KEY_PREFIX", "instance-a"),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("S3_PERMISSION", ""),
    ];
    let app = TestApp::spawn_with(&s3_vars).await;
    let alice = app.register("alice").await;
    let media = app
        .multipart(
            Method::POST,
            "/api/v2/media",
            Some(&alice.token),
            &[],
            &[("file", "a.png", "image/png", &png(900, 700))],
        )
        .await
        .expect(200);
    let url = media["url"].as_str().unwrap();
    let prefix = format!("{endpoint}/media/instance-a/media_attachments/files/");
    assert!(url.starts_with(&prefix), "{url} starts with {prefix}");

    // The objects are in the bucket (on the S3 server's disk) and read back through S3.
    let path = url.strip_prefix(&format!("{endpoint}/media/instance-a/")).unwrap();
    let stored = files_under(&root.join("media/instance-a"));
    assert_eq!(stored.len(), 2, "original and small: {stored:?}");
    let bytes = app.state.storage.get(path).await.unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (900, 700));
    // Nothing was written locally.
    assert!(!app.state.config.media.root_path.exists());

    // Avatars too; and an orphan in the bucket is found by listing and removed.
    let account = app
        .multipart(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&alice.token),
            &[],
            &[("avatar", "me.png", "image/png", &png(500, 500))],
        )
        .await
        .expect(200);
    assert!(account["avatar"].as_str().unwrap().starts_with(&format!("{endpoint}/media/instance-a/accounts/avatars/")));
    app.state
        .storage
        .put("media_attachments/files/000/000/007/original/stray.png", b"x".to_vec(), "image/png")
        .await
        .unwrap();
    let out = app
        .ferrodon_command()
        .envs(s3_vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .args(["ctl", "media", "remove-orphans"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("Removed 1 orphans"),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(files_under(&root.join("media/instance-a")).len(), 3, "attachment styles and avatar stay");

    // Deleting the unattached media deletes its objects.
    app.delete(&format!("/api/v1/media/{}", media["id"].as_str().unwrap()), Some(&alice.token)).await.expect(200);
    assert_eq!(files_under(&root.join("media/instance-a/media_attachments")).len(), 0);

    // A wrong secret is refused by the server (SigV4 is checked): the upload fails and
    // leaves no row behind.
    let mut wrong = s3_vars.to_vec();
    wrong.retain(|(k, _)| *k != "AWS_SECRET_ACCESS_KEY");
    wrong.push(("AWS_SECRET_ACCESS_KEY", "not-the-secret"));
    let bad = TestApp::spawn_with(&wrong).await;
    let bob = bad.register("bob").await;
    let failed = bad
        .multipart(
            Method::POST,
            "/api/v2/media",
            Some(&bob.token),
            &[],
            &[("file", "a.png", "image/png", &png(10, 10))],
        )
        .await;
    assert_eq!(failed.status.as_u16(), 500, "{}", failed.text);
    assert!(failed.body["error"].is_string());
    let rows: i64 =
        sqlx::query_scalar("SELECT count(*) FROM media_attachments").fetch_one(&bad.state.db.primary).await.unwrap();
    assert_eq!(rows, 0);
}

/// Copies the files under `from` to `to`, keeping their relative paths.
fn copy_tree(from: &Path, to: &Path) {
    for file in files_under(from) {
        let target = to.join(file.strip_prefix(from).unwrap());
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(&file, &target).unwrap();
    }
}

#[tokio::test]
async fn an_adopted_instance_serves_the_media_mastodon_put_in_its_bucket() {
    let (endpoint, root) = start_s3().await;
    let s3_vars = [
        ("S3_ENABLED", "true"),
        ("S3_BUCKET", "media"),
        ("S3_ENDPOINT", endpoint.as_str()),
        ("AWS_ACCESS_KEY_ID", ACCESS_KEY),
        ("AWS_SECRET_ACCESS_KEY", SECRET_KEY),
        ("S3_PERMISSION", ""),
    ];
    let app = crate::adoption::adopted_release("4.5", &s3_vars).await;
    // Mastodon's objects sit in the bucket under their Paperclip paths, as the fixture's files.
    copy_tree(&app.state.config.media.root_path, &root.join("media"));
    let bearer = format!("{:0<43}", "fxAliceFullToken_");
    let status = app.get("/api/v1/statuses/117540606443520000", Some(&bearer)).await.ok();
    let url = status["media_attachments"][0]["url"].as_str().unwrap();
    let key = "media_attachments/files/117/540/606/443/519/000/original/a1b2c3d4e5f60718.png";
    assert_eq!(url, format!("{endpoint}/media/{key}"));
    let bytes = app.state.storage.get(key).await.unwrap();
    assert!(bytes.starts_with(b"\x89PNG"));
    // Listing the bucket finds them all referred to, the 2017 attachment's included.
    let out = app
        .ferrodon_command()
        .envs(s3_vars.iter().map(|(k, v)| (k.to_string(), v.to_string())))
        .args(["ctl", "media", "remove-orphans"])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && stdout.contains("Removed 0 orphans"),
        "{stdout} {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
