//! Media over HTTP: uploads (v1, v2), processing, EXIF stripping, files served back,
//! attaching to statuses, edits, deletion, avatars and headers, the error answers, and
//! `ferrodon ctl media`.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::common;

use std::io::Cursor;

use common::TestApp;
use image::{DynamicImage, ImageFormat, RgbImage};
use reqwest::Method;
use serde_json::json;

fn encode(image: &DynamicImage, format: ImageFormat) -> Vec<u8> {
    let mut out = Cursor::new(Vec::new());
    image.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A `width`×`height` gradient, so resizing and orientation are visible.
fn picture(width: u32, height: u32) -> DynamicImage {
    DynamicImage::ImageRgb8(RgbImage::from_fn(width, height, |x, y| {
        image::Rgb([(x * 255 / width) as u8, (y * 255 / height) as u8, 128])
    }))
}

/// A JPEG with an EXIF block: orientation 6 (rotate 90° clockwise to display) and an
/// image description holding `marker`, which must not survive processing.
fn jpeg_with_exif(width: u32, height: u32, marker: &str) -> Vec<u8> {
    let jpeg = encode(&picture(width, height), ImageFormat::Jpeg);
    let text = format!("{marker}\0");
    // TIFF, little endian: IFD0 at 8 with two entries, then the description's text.
    let mut tiff = b"II*\0\x08\0\0\0".to_vec();
    tiff.extend_from_slice(&2u16.to_le_bytes());
    let text_offset = 8 + 2 + 2 * 12 + 4;
    // ImageDescription (0x010e), ASCII.
    tiff.extend_from_slice(&0x010eu16.to_le_bytes());
    tiff.extend_from_slice(&2u16.to_le_bytes());
    tiff.extend_from_slice(&(text.len() as u32).to_le_bytes());
    tiff.extend_from_slice(&(text_offset as u32).to_le_bytes());
    // Orientation (0x0112), SHORT, value 6.
    tiff.extend_from_slice(&0x0112u16.to_le_bytes());
    tiff.extend_from_slice(&3u16.to_le_bytes());
    tiff.extend_from_slice(&1u32.to_le_bytes());
    tiff.extend_from_slice(&[6, 0, 0, 0]);
    tiff.extend_from_slice(&0u32.to_le_bytes());
    tiff.extend_from_slice(text.as_bytes());
    let mut app1 = b"Exif\0\0".to_vec();
    app1.extend_from_slice(&tiff);
    let mut out = jpeg[..2].to_vec();
    out.extend_from_slice(&[0xff, 0xe1]);
    out.extend_from_slice(&((app1.len() + 2) as u16).to_be_bytes());
    out.extend_from_slice(&app1);
    out.extend_from_slice(&jpeg[2..]);
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xffff_ffffu32;
    for byte in bytes {
        crc ^= u32::from(*byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xedb8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

/// A PNG whose header claims `width`×`height` (a decompression bomb's first bytes).
fn png_claiming(width: u32, height: u32) -> Vec<u8> {
    let mut png = b"\x89PNG\r\n\x1a\n".to_vec();
    let mut header = width.to_be_bytes().to_vec();
    header.extend_from_slice(&height.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    // A few bytes of a zlib stream: enough to reach the pixel data, far from all of it.
    for (kind, data) in [(&b"IHDR"[..], header), (b"IDAT", vec![0x78, 0x9c, 0x62, 0x60]), (b"IEND", Vec::new())] {
        let mut chunk = kind.to_vec();
        chunk.extend_from_slice(&data);
        png.extend_from_slice(&(data.len() as u32).to_be_bytes());
        png.extend_from_slice(&chunk);
        png.extend_from_slice(&crc32(&chunk).to_be_bytes());
    }
    png
}

/// One second of 8 kHz mono silence as a WAV file.
fn wav() -> Vec<u8> {
    let samples = vec![0u8; 16_000];
    let mut out = b"RIFF".to_vec();
    out.extend_from_slice(&(36 + samples.len() as u32).to_le_bytes());
    out.extend_from_slice(b"WAVEfmt ");
    out.extend_from_slice(&16u32.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&1u16.to_le_bytes());
    out.extend_from_slice(&8000u32.to_le_bytes());
    out.extend_from_slice(&16_000u32.to_le_bytes());
    out.extend_from_slice(&2u16.to_le_bytes());
    out.extend_from_slice(&16u16.to_le_bytes());
    out.extend_from_slice(b"data");
    out.extend_from_slice(&(samples.len() as u32).to_le_bytes());
    out.extend_from_slice(&samples);
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn ffprobe_installed() -> bool {
    std::process::Command::new("ffprobe").arg("-version").output().is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn images_are_processed_stripped_served_and_attached() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let bob = app.register("bob").await;

    // 600×300 stored sideways: orientation 6 makes it 300×600 upright.
    let jpeg = jpeg_with_exif(600, 300, "secret-location-52.37N");
    assert!(contains(&jpeg, b"secret-location"));
    let media = app
        .multipart(
            Method::POST,
            "/api/v2/media",
            Some(&alice.token),
            &[("description", "A gradient"), ("focus", "0.5,-0.25")],
            &[("file", "photo.jpg", "image/jpeg", &jpeg)],
        )
        .await
        .expect(200);
    assert_eq!(media["type"], "image");
    assert_eq!(media["description"], "A gradient");
    assert_eq!(media["meta"]["original"], json!({ "width": 300, "height": 600, "size": "300x600", "aspect": 0.5 }));
    assert_eq!(media["meta"]["focus"], json!({ "x": 0.5, "y": -0.25 }));
    assert_eq!(media["meta"]["small"]["width"], 300, "small images are not enlarged");
    assert_eq!(media["blurhash"].as_str().map(str::len), Some(36), "a 4×4 blurhash");
    let id = media["id"].as_str().unwrap().to_string();
    let url = media["url"].as_str().unwrap().to_string();
    let partition = format!("/system/media_attachments/files/{}", {
        let digits = format!("{id:0>9}");
        digits.as_bytes().chunks_exact(3).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("/")
    });
    assert!(url.starts_with(&format!("{}{partition}/original/", app.base)), "{url}");
    assert!(url.ends_with(".jpeg"));

    let (status, stored) = app.fetch_bytes(&url).await;
    assert_eq!(status, 200);
    assert!(!contains(&stored, b"secret-location"), "EXIF is stripped");
    assert!(!contains(&stored, b"Exif\0\0"), "no EXIF block at all");
    let decoded = image::load_from_memory(&stored).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (300, 600));
    let (status, _) = app.fetch_bytes(media["preview_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);

    // Only the owner sees and edits it.
    app.get(&format!("/api/v1/media/{id}"), Some(&alice.token)).await.expect(200);
    app.get(&format!("/api/v1/media/{id}"), Some(&bob.token)).await.expect(404);
    let edited = app
        .put(&format!("/api/v1/media/{id}"), Some(&alice.token), json!({ "description": "Edited", "focus": "0,0" }))
        .await
        .expect(200);
    assert_eq!(edited["description"], "Edited");
    assert_eq!(edited["meta"]["focus"], json!({ "x": 0.0, "y": 0.0 }));

    // A large image is scaled to the small style's 640×360 pixel budget.
    let big = encode(&picture(1600, 1200), ImageFormat::Png);
    let second = app
        .multipart(Method::POST, "/api/v1/media", Some(&alice.token), &[], &[("file", "big.png", "image/png", &big)])
        .await
        .expect(200);
    assert_eq!(second["meta"]["original"]["width"], 1600);
    assert_eq!(
        second["meta"]["small"],
        json!({ "width": 554, "height": 415, "size": "554x415", "aspect": 554.0 / 415.0 })
    );
    let second_id = second["id"].as_str().unwrap().to_string();

    // Posted with both, in the order given; visible in the status and the home feed.
    let status = app
        .post("/api/v1/statuses", Some(&alice.token), json!({ "status": "", "media_ids": [second_id, id] }))
        .await
        .expect(200);
    let attached: Vec<&str> =
        status["media_attachments"].as_array().unwrap().iter().map(|m| m["id"].as_str().unwrap()).collect();
    assert_eq!(attached, vec![second_id.as_str(), id.as_str()]);
    assert_eq!(status["media_attachments"][1]["description"], "Edited");
    app.drain_jobs().await;
    let home = app.get("/api/v1/timelines/home", Some(&alice.token)).await.expect(200);
    assert_eq!(home[0]["media_attachments"].as_array().map(Vec::len), Some(2));
    let status_id = status["id"].as_str().unwrap().to_string();

    // Attached media cannot be reused, edited through /media or deleted.
    let reuse = app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "again", "media_ids": [id] })).await;
    assert_eq!(reuse.expect(422)["error"], format!("Media {id} not found or already attached to another post"));
    app.put(&format!("/api/v1/media/{id}"), Some(&alice.token), json!({ "description": "x" })).await.expect(404);
    let in_use = app.delete(&format!("/api/v1/media/{id}"), Some(&alice.token)).await.expect(422);
    assert_eq!(in_use["error"], "Media attachment is currently used by a status");
    // Someone else's media is not found.
    let theft =
        app.post("/api/v1/statuses", Some(&bob.token), json!({ "status": "mine", "media_ids": [second_id] })).await;
    assert_eq!(theft.expect(422)["error"], format!("Media {second_id} not found or already attached to another post"));

    // An edit changes a description through media_attributes and drops one attachment.
    let edited = app
        .put(
            &format!("/api/v1/statuses/{status_id}"),
            Some(&alice.token),
            json!({ "status": "now with text", "media_ids": [id], "media_attributes": [{ "id": id, "description": "Via edit" }] }),
        )
        .await
        .expect(200);
    assert_eq!(edited["media_attachments"].as_array().map(Vec::len), Some(1));
    assert_eq!(edited["media_attachments"][0]["description"], "Via edit");
    // Search knows what the status carries.
    let search = |q: &'static str| {
        let app = &app;
        let token = alice.token.clone();
        async move {
            let found = app.get(&format!("/api/v2/search?type=statuses&q={q}"), Some(&token)).await.expect(200);
            found["statuses"].as_array().unwrap().len()
        }
    };
    assert_eq!(search("text+has%3Aimage").await, 1);
    assert_eq!(search("text+has%3Amedia").await, 1);
    assert_eq!(search("text+has%3Avideo").await, 0);
    assert_eq!(search("text+-has%3Amedia").await, 0);

    // The dropped one is free again, and can be deleted.
    app.delete(&format!("/api/v1/media/{second_id}"), Some(&alice.token)).await.expect(200);
    app.get(&format!("/api/v1/media/{second_id}"), Some(&alice.token)).await.expect(404);

    // Deleting the status with delete_media removes the file too.
    app.delete(&format!("/api/v1/statuses/{status_id}?delete_media=true"), Some(&alice.token)).await.expect(200);
    app.get(&format!("/api/v1/media/{id}"), Some(&alice.token)).await.expect(404);
    let (status, _) = app.fetch_bytes(&url).await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn bad_uploads_get_mastodons_errors() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let upload = |name: &'static str, content_type: &'static str, bytes: Vec<u8>| {
        let app = &app;
        let token = alice.token.clone();
        async move {
            app.multipart(Method::POST, "/api/v2/media", Some(&token), &[], &[("file", name, content_type, &bytes)])
                .await
        }
    };
    let pdf = upload("doc.pdf", "image/png", b"%PDF-1.7\n%...".to_vec()).await.expect(422);
    assert_eq!(pdf["error"], "Validation failed: File content type is invalid, File is invalid");
    let bomb = upload("bomb.png", "image/png", png_claiming(20_000, 20_000)).await.expect(422);
    assert_eq!(bomb["error"], "20000x20000 images are not supported");
    let mut huge = encode(&picture(8, 8), ImageFormat::Png);
    huge.resize(16 * 1024 * 1024 + 1, 0);
    let too_big = upload("huge.png", "image/png", huge).await.expect(422);
    assert_eq!(
        too_big["error"],
        "Validation failed: File must be less than 16 MB, File file size must be less than 16 MB"
    );
    let truncated = encode(&picture(64, 64), ImageFormat::Png)[..60].to_vec();
    upload("cut.png", "image/png", truncated).await.expect(422);
    let missing = app.multipart(Method::POST, "/api/v2/media", Some(&alice.token), &[("description", "x")], &[]).await;
    assert_eq!(missing.expect(422)["error"], "Validation failed: File can't be blank");
    let long = "d".repeat(1501);
    let png = encode(&picture(8, 8), ImageFormat::Png);
    let described = app
        .multipart(
            Method::POST,
            "/api/v2/media",
            Some(&alice.token),
            &[("description", &long)],
            &[("file", "a.png", "image/png", &png)],
        )
        .await;
    described.expect(422);
    // Five attachments are one too many.
    let five: Vec<String> = (0..5).map(|i| i.to_string()).collect();
    let many = app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "x", "media_ids": five })).await;
    assert_eq!(many.expect(422)["error"], "Cannot attach more than 4 files");
    // No token, or one without write:media.
    app.multipart(Method::POST, "/api/v2/media", None, &[], &[("file", "a.png", "image/png", &png)]).await.expect(401);
    let (read_only, _) = app.password_token("alice", "read").await;
    app.multipart(Method::POST, "/api/v2/media", Some(&read_only), &[], &[("file", "a.png", "image/png", &png)])
        .await
        .expect(403);
}

#[tokio::test]
async fn audio_is_processed_on_the_queue() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.drain_jobs().await;
    let audio = app
        .multipart(Method::POST, "/api/v2/media", Some(&alice.token), &[], &[("file", "tone.wav", "audio/wav", &wav())])
        .await
        .expect(202);
    assert_eq!(audio["type"], "audio");
    assert!(audio["url"].is_null(), "no URL until processed: {audio}");
    let id = audio["id"].as_str().unwrap().to_string();
    app.get(&format!("/api/v1/media/{id}"), Some(&alice.token)).await.expect(206);
    // Not attachable while processing.
    let early =
        app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "listen", "media_ids": [id] })).await;
    assert_eq!(
        early.expect(422)["error"],
        "Cannot attach files that have not finished processing. Try again in a moment!"
    );
    assert_eq!(app.drain_jobs().await, 1);
    let done = app.get(&format!("/api/v1/media/{id}"), Some(&alice.token)).await.expect(200);
    let url = done["url"].as_str().unwrap();
    assert!(url.ends_with(".wav"), "{url}");
    let (status, bytes) = app.fetch_bytes(url).await;
    assert_eq!((status, bytes.len()), (200, wav().len()));
    if ffprobe_installed() {
        assert_eq!(done["meta"]["original"]["duration"], 1.0, "{done}");
    } else {
        eprintln!("ffprobe is not installed: audio metadata is not checked");
    }
    app.post("/api/v1/statuses", Some(&alice.token), json!({ "status": "listen", "media_ids": [id] }))
        .await
        .expect(200);
}

/// A one-second 64×48 test-pattern MP4, made by ffmpeg (None without it).
fn mp4() -> Option<Vec<u8>> {
    let out = std::env::temp_dir().join(format!("ferrodon-test-{}.mp4", std::process::id()));
    let made = std::process::Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i", "testsrc=duration=1:size=64x48:rate=10"])
        .args(["-pix_fmt", "yuv420p"])
        .arg(&out)
        .status()
        .is_ok_and(|s| s.success());
    let bytes = made.then(|| std::fs::read(&out).ok()).flatten();
    let _ = std::fs::remove_file(&out);
    bytes
}

#[tokio::test]
async fn video_gets_metadata_and_a_preview_frame_from_ffmpeg() {
    let Some(video) = mp4() else {
        eprintln!("SKIPPED: ffmpeg is not installed (script/test installs it from apt)");
        return;
    };
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.drain_jobs().await;
    let uploaded = app
        .multipart(Method::POST, "/api/v2/media", Some(&alice.token), &[], &[("file", "clip.mp4", "video/mp4", &video)])
        .await
        .expect(202);
    assert_eq!(uploaded["type"], "video");
    app.drain_jobs().await;
    let done = app.get(&format!("/api/v1/media/{}", uploaded["id"].as_str().unwrap()), Some(&alice.token)).await;
    let done = done.expect(200);
    let original = &done["meta"]["original"];
    assert_eq!((original["width"].as_u64(), original["height"].as_u64()), (Some(64), Some(48)), "{done}");
    assert_eq!(original["duration"], 1.0);
    assert_eq!(done["meta"]["small"]["width"], 64);
    assert!(done["blurhash"].as_str().is_some_and(|b| !b.is_empty()), "{done}");
    let (status, frame) = app.fetch_bytes(done["preview_url"].as_str().unwrap()).await;
    assert_eq!(status, 200);
    let frame = image::load_from_memory(&frame).unwrap();
    assert_eq!((frame.width(), frame.height()), (64, 48));
}

/// A GIF of `frames` frames, 32×24.
fn gif(frames: usize) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut encoder = image::codecs::gif::GifEncoder::new(&mut out);
        for i in 0..frames {
            let shade = (i * 200 / frames.max(1)) as u8;
            let picture = image::RgbaImage::from_fn(32, 24, |x, _| image::Rgba([shade, (x * 8) as u8, 90, 255]));
            let delay = image::Delay::from_numer_denom_ms(100, 1);
            encoder.encode_frame(image::Frame::from_parts(picture, 0, 0, delay)).unwrap();
        }
    }
    out
}

#[tokio::test]
async fn animated_gifs_become_gifv_videos_with_ffmpeg() {
    if mp4().is_none() {
        eprintln!("SKIPPED: ffmpeg is not installed (script/test installs it from apt)");
        return;
    }
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    app.drain_jobs().await;
    let upload = |bytes: Vec<u8>| {
        let (app, token) = (&app, alice.token.clone());
        async move {
            app.multipart(Method::POST, "/api/v2/media", Some(&token), &[], &[("file", "a.gif", "image/gif", &bytes)])
                .await
        }
    };
    // A still GIF is an image (stored as PNG, as Mastodon converts it).
    let still = upload(gif(1)).await.expect(200);
    assert_eq!(still["type"], "image");
    assert!(still["url"].as_str().unwrap().ends_with(".png"), "{still}");
    // An animated one is converted to an MP4 on the queue.
    let animated = upload(gif(5)).await.expect(202);
    assert_eq!(animated["type"], "gifv");
    app.drain_jobs().await;
    let done = app.get(&format!("/api/v1/media/{}", animated["id"].as_str().unwrap()), Some(&alice.token)).await;
    let done = done.expect(200);
    let url = done["url"].as_str().unwrap();
    assert!(url.ends_with(".mp4"), "{done}");
    assert_eq!(
        (done["meta"]["original"]["width"].as_u64(), done["meta"]["original"]["height"].as_u64()),
        (Some(32), Some(24))
    );
    assert!(done["meta"]["original"]["duration"].as_f64().is_some_and(|d| d > 0.3), "{done}");
    let (status, video) = app.fetch_bytes(url).await;
    assert_eq!(status, 200);
    assert_eq!(video.get(4..8), Some(&b"ftyp"[..]), "an MP4 is served");
    assert_eq!(app.fetch_bytes(done["preview_url"].as_str().unwrap()).await.0, 200);
}

#[tokio::test]
async fn avatars_and_headers_are_cropped_and_removable() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let avatar = encode(&picture(800, 600), ImageFormat::Png);
    let header = encode(&picture(1800, 900), ImageFormat::Jpeg);
    let account = app
        .multipart(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&alice.token),
            &[("display_name", "Alice")],
            &[("avatar", "me.png", "image/png", &avatar), ("header", "bg.jpg", "image/jpeg", &header)],
        )
        .await
        .expect(200);
    assert_eq!(account["display_name"], "Alice");
    let avatar_url = account["avatar"].as_str().unwrap().to_string();
    assert!(avatar_url.contains("/system/accounts/avatars/"), "{avatar_url}");
    assert_eq!(account["avatar_static"], avatar_url.as_str());
    let (_, bytes) = app.fetch_bytes(&avatar_url).await;
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (400, 400));
    let (_, bytes) = app.fetch_bytes(account["header"].as_str().unwrap()).await;
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (1224, 612), "fit to 1500×500 pixels' worth, not cropped");
    // The public account shows the same.
    let public = app.get(&format!("/api/v1/accounts/{}", alice.id), None).await.expect(200);
    assert_eq!(public["avatar"], avatar_url.as_str());

    let bad = app
        .multipart(
            Method::PATCH,
            "/api/v1/accounts/update_credentials",
            Some(&alice.token),
            &[],
            &[("avatar", "x.pdf", "application/pdf", b"%PDF-1.4")],
        )
        .await;
    bad.expect(422);

    let cleared = app.delete("/api/v1/profile/avatar", Some(&alice.token)).await.expect(200);
    assert!(cleared["avatar"].as_str().unwrap().ends_with("/avatars/original/missing.png"));
    let (status, _) = app.fetch_bytes(&avatar_url).await;
    assert_eq!(status, 404, "the old file is deleted");
}

#[tokio::test]
async fn ctl_media_reports_usage_and_removes_orphans_and_cached_remote_media() {
    let app = TestApp::spawn().await;
    let alice = app.register("alice").await;
    let png = encode(&picture(64, 64), ImageFormat::Png);
    let kept = app
        .multipart(Method::POST, "/api/v2/media", Some(&alice.token), &[], &[("file", "a.png", "image/png", &png)])
        .await
        .expect(200);
    let root = app.state.config.media.root_path.clone();
    let stray = root.join("media_attachments/files/000/000/001/original/0123456789abcdef.png");
    std::fs::create_dir_all(stray.parent().unwrap()).unwrap();
    std::fs::write(&stray, b"orphan").unwrap();
    let stray_avatar = root.join(format!("accounts/avatars/{}/original/old.png", {
        let digits = format!("{:0>9}", alice.id);
        digits.as_bytes().chunks_exact(3).map(|c| std::str::from_utf8(c).unwrap()).collect::<Vec<_>>().join("/")
    }));
    std::fs::create_dir_all(stray_avatar.parent().unwrap()).unwrap();
    std::fs::write(&stray_avatar, b"old avatar").unwrap();

    let run = |args: &[&str]| {
        let mut cmd = app.ferrodon_command();
        cmd.env("PAPERCLIP_ROOT_PATH", &root).args(["ctl", "media"]).args(args);
        let out = cmd.output().unwrap();
        assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let usage = run(&["usage"]);
    assert!(usage.contains("Attachments"), "{usage}");

    let dry = run(&["remove-orphans", "--dry-run"]);
    assert!(dry.contains("Removed 2 orphans") && dry.contains("DRY RUN"), "{dry}");
    assert!(stray.exists());
    let out = run(&["remove-orphans"]);
    assert!(out.contains("Removed 2 orphans"), "{out}");
    assert!(!stray.exists() && !stray_avatar.exists());
    let (status, _) = app.fetch_bytes(kept["url"].as_str().unwrap()).await;
    assert_eq!(status, 200, "files with rows stay");

    // A cached copy of remote media, older than a week, is removed; the row stays.
    let remote_id = kept["id"].as_str().unwrap().parse::<i64>().unwrap();
    sqlx::query("UPDATE media_attachments SET remote_url = 'https://remote.example/a.png', created_at = now() - interval '8 days' WHERE id = $1")
        .bind(remote_id)
        .execute(&app.state.db.primary)
        .await
        .unwrap();
    let out = run(&["remove", "--days", "7"]);
    assert!(out.contains("Removed 1 media attachments"), "{out}");
    let (status, _) = app.fetch_bytes(kept["url"].as_str().unwrap()).await;
    assert_eq!(status, 404);
    let file: Option<String> = sqlx::query_scalar("SELECT file_file_name FROM media_attachments WHERE id = $1")
        .bind(remote_id)
        .fetch_one(&app.state.db.primary)
        .await
        .unwrap();
    assert_eq!(file, None);
}
