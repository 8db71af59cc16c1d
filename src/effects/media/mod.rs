//! Media attachments: uploads, their processing, description and focus edits, attaching
//! to statuses, and deletion. Rows and paths are Mastodon's, so an adopted instance's
//! files are found where Mastodon put them (`media_attachments/files/<id partition>/
//! <style>/<name>`). Images are processed during the upload; video and audio after a v2
//! upload, on the `default` queue (Mastodon's PostProcessMediaWorker).

pub mod process;
pub mod remote;
pub mod storage;

use std::collections::HashMap;

use chrono::NaiveDateTime;
use rand::RngCore;
use serde_json::{Value, json};
use sqlx::{FromRow, PgExecutor, PgPool};

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::worker::{self, Job};
pub use process::MediaType;
use process::{Sniffed, Style};
pub use storage::Storage;

/// `media_attachments.processing`.
pub const QUEUED: i32 = 0;
pub const IN_PROGRESS: i32 = 1;
pub const COMPLETE: i32 = 2;
pub const FAILED: i32 = 3;

pub const DESCRIPTION_LIMIT: usize = 1500;
/// Avatar and header uploads (Mastodon's `LIMIT` for account images).
pub const PROFILE_IMAGE_SIZE_LIMIT: usize = 8 * 1024 * 1024;

/// What this server accepts, as `/api/v2/instance` reports it.
pub const SUPPORTED_MIME_TYPES: &[&str] = &[
    "image/jpeg",
    "image/png",
    "image/gif",
    "image/webp",
    "video/webm",
    "video/mp4",
    "video/quicktime",
    "video/ogg",
    "audio/wave",
    "audio/wav",
    "audio/x-wav",
    "audio/x-pn-wave",
    "audio/vnd.wave",
    "audio/ogg",
    "audio/vorbis",
    "audio/mpeg",
    "audio/mp3",
    "audio/webm",
    "audio/flac",
    "audio/aac",
    "audio/m4a",
    "audio/x-m4a",
    "audio/mp4",
    "audio/3gpp",
    "video/x-ms-asf",
];

/// A file from a multipart form.
#[derive(Debug, Clone)]
pub struct Upload {
    pub file_name: String,
    pub content_type: String,
    pub bytes: Vec<u8>,
}

#[derive(Debug, Clone, FromRow)]
pub struct MediaAttachment {
    pub id: i64,
    pub account_id: Option<i64>,
    pub status_id: Option<i64>,
    #[sqlx(rename = "type")]
    pub kind: i32,
    pub file_file_name: Option<String>,
    pub file_content_type: Option<String>,
    pub file_file_size: Option<i32>,
    pub thumbnail_file_name: Option<String>,
    pub remote_url: String,
    pub file_meta: Option<sqlx::types::Json<Value>>,
    pub description: Option<String>,
    pub blurhash: Option<String>,
    pub processing: Option<i32>,
    pub created_at: NaiveDateTime,
}

pub const COLUMNS: &str = "m.id, m.account_id, m.status_id, m.type, m.file_file_name, m.file_content_type,
    m.file_file_size, m.thumbnail_file_name, m.remote_url, m.file_meta, m.description, m.blurhash, m.processing,
    m.created_at";

/// Paperclip's `:id_partition`: the id zero-padded to nine digits, in groups of three.
pub fn id_partition(id: i64) -> String {
    let digits = format!("{id:09}");
    // Like Ruby's `scan(/\d{3}/)`, a shorter tail is left out.
    let groups: Vec<&str> = digits.as_bytes().chunks_exact(3).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    groups.join("/")
}

/// A fresh stored file name: 16 random hex digits and the extension (Mastodon's rule).
fn random_file_name(extension: &str) -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    format!("{}.{extension}", hex::encode(bytes))
}

fn with_extension(file_name: &str, extension: &str) -> String {
    let stem = file_name.rsplit_once('.').map_or(file_name, |(stem, _)| stem);
    format!("{stem}.{extension}")
}

impl MediaAttachment {
    pub fn media_type(&self) -> MediaType {
        MediaType::from_db(self.kind)
    }

    /// Done processing (rows from Mastodon without the column count as done).
    pub fn processed(&self) -> bool {
        matches!(self.processing, None | Some(COMPLETE))
    }

    fn meta(&self) -> Value {
        self.file_meta.as_ref().map(|m| m.0.clone()).unwrap_or_else(|| json!({}))
    }

    /// The media path of a style of the file (`original`, `small`).
    pub fn path(&self, style: &str) -> Option<String> {
        let name = self.file_file_name.as_deref()?;
        let name = match (style, self.media_type()) {
            ("original", _) | (_, MediaType::Image) => name.to_string(),
            _ => with_extension(name, "png"),
        };
        Some(format!("media_attachments/files/{}/{style}/{name}", id_partition(self.id)))
    }

    pub fn thumbnail_path(&self) -> Option<String> {
        let name = self.thumbnail_file_name.as_deref()?;
        Some(format!("media_attachments/thumbnails/{}/original/{name}", id_partition(self.id)))
    }

    /// The original and preview paths a client is given, once processed.
    pub fn urls(&self) -> (Option<String>, Option<String>) {
        if !self.processed() {
            return (None, self.thumbnail_path());
        }
        let has_small = self.media_type() == MediaType::Image || self.meta().get("small").is_some();
        let preview = self.thumbnail_path().or_else(|| if has_small { self.path("small") } else { None });
        (self.path("original"), preview)
    }

    /// Every stored path of this attachment (for deletion and orphan checks).
    pub fn stored_paths(&self) -> Vec<String> {
        let mut paths: Vec<String> = ["original", "small"].iter().filter_map(|s| self.path(s)).collect();
        paths.extend(self.thumbnail_path());
        paths
    }

    /// `meta` as the API shows it.
    pub fn api_meta(&self) -> Value {
        self.meta()
    }
}

fn too_large(limit: usize) -> Error {
    let mb = limit / (1024 * 1024);
    Error::validation(format!("File must be less than {mb} MB, File file size must be less than {mb} MB"))
}

fn invalid_type() -> Error {
    Error::validation("File content type is invalid, File is invalid")
}

/// `description` and `focus` as the API takes them.
#[derive(Debug, Default, Clone)]
pub struct MediaEdit {
    pub description: Option<String>,
    pub focus: Option<String>,
    pub thumbnail: Option<Upload>,
}

fn check_description(description: &Option<String>) -> Result<()> {
    if description.as_ref().is_some_and(|d| d.chars().count() > DESCRIPTION_LIMIT) {
        return Err(Error::validation(format!("Description is too long (maximum is {DESCRIPTION_LIMIT} characters)")));
    }
    Ok(())
}

/// `"x,y"` with each in -1.0..=1.0 (clamped, as the client's crosshair can overshoot).
fn parse_focus(focus: &str) -> Result<Value> {
    let parts: Vec<f64> = focus.split(',').filter_map(|p| p.trim().parse::<f64>().ok()).collect();
    match parts[..] {
        [x, y] if x.is_finite() && y.is_finite() => Ok(json!({ "x": x.clamp(-1.0, 1.0), "y": y.clamp(-1.0, 1.0) })),
        _ => Err(Error::validation("Focus must be two numbers between -1.0 and 1.0, separated by a comma")),
    }
}

async fn store(state: &AppState, path: &str, style: Style) -> Result<()> {
    state.storage.put(path, style.bytes, style.content_type).await
}

/// An image processed into its `original` and `small` styles, stored under a fresh name.
struct StoredImage {
    name: String,
    content_type: &'static str,
    size: i32,
    meta: Value,
    blurhash: String,
}

async fn store_image(state: &AppState, id: i64, bytes: Vec<u8>, format: image::ImageFormat) -> Result<StoredImage> {
    let processed = tokio::task::spawn_blocking(move || process::image(&bytes, format))
        .await
        .map_err(|e| Error::internal(format!("image processing: {e}")))??;
    let name = random_file_name(processed.original.extension);
    let content_type = processed.original.content_type;
    let size = processed.original.bytes.len() as i32;
    let partition = id_partition(id);
    store(state, &format!("media_attachments/files/{partition}/original/{name}"), processed.original).await?;
    store(state, &format!("media_attachments/files/{partition}/small/{name}"), processed.small).await?;
    Ok(StoredImage { name, content_type, size, meta: processed.meta, blurhash: processed.blurhash })
}

/// A custom preview image for video and audio (`thumbnail`): a small style of its own.
async fn store_thumbnail(state: &AppState, id: i64, upload: Upload) -> Result<(String, String, i32)> {
    let format = match process::sniff(&upload.bytes, &upload.content_type) {
        Some(Sniffed::Image(format)) => format,
        _ => return Err(Error::validation("Thumbnail content type is invalid")),
    };
    let style = tokio::task::spawn_blocking(move || -> Result<Style> {
        let decoded = process::decode(&upload.bytes, format)?;
        process::encode(&decoded.thumbnail(640, 640), format)
    })
    .await
    .map_err(|e| Error::internal(format!("thumbnail: {e}")))??;
    let name = random_file_name(style.extension);
    let content_type = style.content_type.to_string();
    let size = style.bytes.len() as i32;
    store(state, &format!("media_attachments/thumbnails/{}/original/{name}", id_partition(id)), style).await?;
    Ok((name, content_type, size))
}

/// `POST /api/v1/media` and `/api/v2/media`. Images are processed now; video and audio
/// are processed now when `wait`, otherwise queued (the v2 endpoint then answers 202).
pub async fn upload(
    state: &AppState,
    account_id: i64,
    file: Upload,
    edit: MediaEdit,
    wait: bool,
) -> Result<MediaAttachment> {
    check_description(&edit.description)?;
    let focus = edit.focus.as_deref().filter(|f| !f.is_empty()).map(parse_focus).transpose()?;
    let sniffed = process::sniff(&file.bytes, &file.content_type).ok_or_else(invalid_type)?;
    // An animated GIF becomes a `gifv` video when ffmpeg is there to convert it (on the
    // queue, like other video); without ffmpeg it is kept as a still image.
    let gifv = matches!(sniffed, Sniffed::Image(image::ImageFormat::Gif))
        && process::is_animated_gif(&file.bytes)
        && process::ffmpeg_available(&state.config.media.ffmpeg).await;
    let kind = if gifv { MediaType::Gifv } else { sniffed.media_type() };
    let limit = if kind.is_large() { process::VIDEO_SIZE_LIMIT } else { process::IMAGE_SIZE_LIMIT };
    if file.bytes.len() > limit {
        return Err(too_large(limit));
    }
    let id: i64 = sqlx::query_scalar("SELECT timestamp_id('media_attachments')").fetch_one(&state.db.primary).await?;
    let (mime, extension) = sniffed.mime_and_extension();
    let (file_name, content_type, size, mut meta, blurhash, processing) = match sniffed {
        Sniffed::Image(_) if gifv => {
            let name = random_file_name("gif");
            let size = file.bytes.len() as i32;
            let path = format!("media_attachments/files/{}/original/{name}", id_partition(id));
            state.storage.put(&path, file.bytes, "image/gif").await?;
            (name, "image/gif".to_string(), size, json!({}), None, QUEUED)
        }
        Sniffed::Image(format) => {
            let image = store_image(state, id, file.bytes, format).await?;
            (image.name, image.content_type.to_string(), image.size, image.meta, Some(image.blurhash), COMPLETE)
        }
        Sniffed::Video(..) | Sniffed::Audio(..) => {
            let name = random_file_name(extension);
            let size = file.bytes.len() as i32;
            let path = format!("media_attachments/files/{}/original/{name}", id_partition(id));
            state.storage.put(&path, file.bytes, mime).await?;
            (name, mime.to_string(), size, json!({}), None, QUEUED)
        }
    };
    if let Some(focus) = focus {
        meta["focus"] = focus;
    }
    let thumbnail = match edit.thumbnail {
        Some(t) if kind.is_large() => Some(store_thumbnail(state, id, t).await?),
        _ => None,
    };
    let mut tx = state.db.primary.begin().await?;
    sqlx::query(
        "INSERT INTO media_attachments (id, account_id, type, file_file_name, file_content_type, file_file_size,
                file_updated_at, file_meta, description, blurhash, processing, file_storage_schema_version,
                thumbnail_file_name, thumbnail_content_type, thumbnail_file_size, thumbnail_updated_at,
                created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, now(), $7, $8, $9, $10, 1, $11, $12, $13, CASE WHEN $11 IS NULL THEN NULL ELSE now() END,
                 now(), now())",
    )
    .bind(id)
    .bind(account_id)
    .bind(kind as i32)
    .bind(&file_name)
    .bind(&content_type)
    .bind(size)
    .bind(sqlx::types::Json(&meta))
    .bind(edit.description.filter(|d| !d.is_empty()))
    .bind(blurhash)
    .bind(processing)
    .bind(thumbnail.as_ref().map(|t| &t.0))
    .bind(thumbnail.as_ref().map(|t| &t.1))
    .bind(thumbnail.as_ref().map(|t| t.2))
    .execute(&mut *tx)
    .await?;
    if processing == QUEUED && !wait {
        worker::enqueue(&mut *tx, Job::ProcessMedia { media_id: id }).await?;
    }
    tx.commit().await?;
    if processing == QUEUED && wait {
        process_queued(state, id).await?;
    }
    find(&state.db.primary, id).await?.ok_or(Error::NotFound)
}

/// The queued processing of a video or audio upload: metadata and a preview frame.
pub async fn process_queued(state: &AppState, id: i64) -> Result<()> {
    let Some(media) = find(&state.db.primary, id).await? else { return Ok(()) };
    if media.processed() {
        return Ok(());
    }
    let Some(path) = media.path("original") else { return Ok(()) };
    sqlx::query("UPDATE media_attachments SET processing = $2 WHERE id = $1")
        .bind(id)
        .bind(IN_PROGRESS)
        .execute(&state.db.primary)
        .await?;
    let bytes = state.storage.get(&path).await?;
    let dir = tempdir(id)?;
    let mut local = dir.join(media.file_file_name.as_deref().unwrap_or("upload"));
    tokio::fs::write(&local, &bytes).await.map_err(|e| Error::internal(format!("media scratch file: {e}")))?;
    let mut media = media;
    if media.media_type() == MediaType::Gifv && media.file_content_type.as_deref() == Some("image/gif") {
        let converted = convert_gif(state, &media, &local, &dir).await;
        let converted = match converted {
            Ok(converted) => converted,
            Err(e) => {
                let _ = tokio::fs::remove_dir_all(&dir).await;
                return Err(e);
            }
        };
        (media, local) = converted;
    }
    let video = matches!(media.media_type(), MediaType::Video | MediaType::Gifv);
    let info = process::audio_video(&state.config.media.ffprobe, &state.config.media.ffmpeg, &local, video).await;
    let _ = tokio::fs::remove_dir_all(&dir).await;
    let info = match info {
        Ok(info) => info,
        Err(e) => {
            sqlx::query("UPDATE media_attachments SET processing = $2, updated_at = now() WHERE id = $1")
                .bind(id)
                .bind(FAILED)
                .execute(&state.db.primary)
                .await?;
            return Err(e);
        }
    };
    let mut meta = media.meta();
    let mut blurhash = None;
    if let Some(info) = info {
        if let Some(focus) = meta.get("focus").cloned() {
            meta = info.meta;
            meta["focus"] = focus;
        } else {
            meta = info.meta;
        }
        if let (Some((style, hash)), Some(small)) = (info.preview, media.path("small")) {
            store(state, &small, style).await?;
            blurhash = Some(hash);
        }
    } else {
        tracing::info!(media = id, "ffprobe is not installed: video and audio keep empty metadata and no preview");
    }
    sqlx::query(
        "UPDATE media_attachments SET processing = $2, file_meta = $3, blurhash = COALESCE($4, blurhash), updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(COMPLETE)
    .bind(sqlx::types::Json(&meta))
    .bind(blurhash)
    .execute(&state.db.primary)
    .await?;
    Ok(())
}

/// Replaces a gifv's uploaded GIF by its MP4 conversion (stored, and recorded on the row).
/// Returns the row and the local MP4 as they are now.
async fn convert_gif(
    state: &AppState,
    media: &MediaAttachment,
    gif: &std::path::Path,
    dir: &std::path::Path,
) -> Result<(MediaAttachment, std::path::PathBuf)> {
    let name = with_extension(media.file_file_name.as_deref().unwrap_or("upload.gif"), "mp4");
    let mp4 = dir.join(&name);
    process::gif_to_mp4(&state.config.media.ffmpeg, gif, &mp4).await?;
    let bytes = tokio::fs::read(&mp4).await.map_err(|e| Error::internal(format!("converted gif: {e}")))?;
    let size = bytes.len() as i32;
    let partition = id_partition(media.id);
    state.storage.put(&format!("media_attachments/files/{partition}/original/{name}"), bytes, "video/mp4").await?;
    if let Some(old) = media.path("original") {
        state.storage.delete(&old).await?;
    }
    sqlx::query(
        "UPDATE media_attachments SET file_file_name = $2, file_content_type = 'video/mp4', file_file_size = $3
          WHERE id = $1",
    )
    .bind(media.id)
    .bind(&name)
    .bind(size)
    .execute(&state.db.primary)
    .await?;
    let media = find(&state.db.primary, media.id).await?.ok_or(Error::NotFound)?;
    Ok((media, mp4))
}

fn tempdir(id: i64) -> Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("ferrodon-media-{id}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Error::internal(format!("media scratch dir: {e}")))?;
    Ok(dir)
}

pub async fn find<'e, E: PgExecutor<'e>>(db: E, id: i64) -> Result<Option<MediaAttachment>> {
    Ok(sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM media_attachments m WHERE m.id = $1")))
        .bind(id)
        .fetch_optional(db)
        .await?)
}

/// One of the account's own attachments; anyone else's is not found.
pub async fn find_own(db: &PgPool, account_id: i64, id: i64) -> Result<MediaAttachment> {
    find(db, id).await?.filter(|m| m.account_id == Some(account_id)).ok_or(Error::NotFound)
}

/// `PUT /api/v1/media/:id`: description, focus and thumbnail of an attachment not yet
/// posted (posted ones change through a status edit, as in Mastodon).
pub async fn update(state: &AppState, account_id: i64, id: i64, edit: MediaEdit) -> Result<MediaAttachment> {
    let media = find_own(&state.db.primary, account_id, id).await?;
    if media.status_id.is_some() {
        return Err(Error::NotFound);
    }
    check_description(&edit.description)?;
    let mut meta = media.meta();
    if let Some(focus) = edit.focus.as_deref().filter(|f| !f.is_empty()) {
        meta["focus"] = parse_focus(focus)?;
    }
    let thumbnail = match edit.thumbnail {
        Some(t) if media.media_type().is_large() => Some(store_thumbnail(state, id, t).await?),
        _ => None,
    };
    sqlx::query(
        "UPDATE media_attachments SET description = COALESCE($2, description), file_meta = $3,
                thumbnail_file_name = COALESCE($4, thumbnail_file_name),
                thumbnail_content_type = COALESCE($5, thumbnail_content_type),
                thumbnail_file_size = COALESCE($6, thumbnail_file_size),
                thumbnail_updated_at = CASE WHEN $4 IS NULL THEN thumbnail_updated_at ELSE now() END,
                updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(edit.description)
    .bind(sqlx::types::Json(&meta))
    .bind(thumbnail.as_ref().map(|t| &t.0))
    .bind(thumbnail.as_ref().map(|t| &t.1))
    .bind(thumbnail.as_ref().map(|t| t.2))
    .execute(&state.db.primary)
    .await?;
    if let (Some(old), Some(_)) = (media.thumbnail_path(), &thumbnail) {
        state.storage.delete(&old).await?;
    }
    find(&state.db.primary, id).await?.ok_or(Error::NotFound)
}

/// `DELETE /api/v1/media/:id`: only while not attached to a status.
pub async fn delete(state: &AppState, account_id: i64, id: i64) -> Result<()> {
    let media = find_own(&state.db.primary, account_id, id).await?;
    if media.status_id.is_some() {
        return Err(Error::Unprocessable("Media attachment is currently used by a status".into()));
    }
    let deleted = sqlx::query("DELETE FROM media_attachments WHERE id = $1 AND status_id IS NULL")
        .bind(id)
        .execute(&state.db.primary)
        .await?;
    if deleted.rows_affected() == 1 {
        remove_files(state, &media).await?;
    }
    Ok(())
}

pub async fn remove_files(state: &AppState, media: &MediaAttachment) -> Result<()> {
    for path in media.stored_paths() {
        state.storage.delete(&path).await?;
    }
    Ok(())
}

/// Checks the media a status is posted (or edited) with, as Mastodon's PostStatusService
/// does, and returns them in the given order. `status_id` names the status being edited,
/// whose own attachments may stay.
pub async fn attachable(
    tx: &mut sqlx::PgConnection,
    account_id: i64,
    ids: &[i64],
    status_id: Option<i64>,
) -> Result<Vec<MediaAttachment>> {
    if ids.len() > crate::model::statuses::MAX_MEDIA_ATTACHMENTS {
        return Err(Error::Unprocessable(format!(
            "Cannot attach more than {} files",
            crate::model::statuses::MAX_MEDIA_ATTACHMENTS
        )));
    }
    let found: Vec<MediaAttachment> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM media_attachments m
          WHERE m.id = ANY($1) AND m.account_id = $2 AND (m.status_id IS NULL OR m.status_id = $3)
          FOR UPDATE"
    )))
    .bind(ids)
    .bind(account_id)
    .bind(status_id)
    .fetch_all(&mut *tx)
    .await?;
    let missing: Vec<String> =
        ids.iter().filter(|id| !found.iter().any(|m| m.id == **id)).map(|id| id.to_string()).collect();
    if !missing.is_empty() {
        return Err(Error::Unprocessable(format!(
            "Media {} not found or already attached to another post",
            missing.join(", ")
        )));
    }
    if found.len() > 1 && found.iter().any(|m| m.media_type().is_large()) {
        return Err(Error::Unprocessable("Cannot attach a video to a post that already contains images".into()));
    }
    if found.iter().any(|m| !m.processed()) {
        return Err(Error::Unprocessable(
            "Cannot attach files that have not finished processing. Try again in a moment!".into(),
        ));
    }
    let mut ordered = Vec::with_capacity(ids.len());
    for id in ids {
        if !ordered.iter().any(|m: &MediaAttachment| m.id == *id)
            && let Some(m) = found.iter().find(|m| m.id == *id)
        {
            ordered.push(m.clone());
        }
    }
    Ok(ordered)
}

/// Points the given attachments at `status_id` and detaches the ones it no longer has.
pub async fn attach(tx: &mut sqlx::PgConnection, status_id: i64, media: &[MediaAttachment]) -> Result<Vec<i64>> {
    let ids: Vec<i64> = media.iter().map(|m| m.id).collect();
    sqlx::query(
        "UPDATE media_attachments SET status_id = NULL, updated_at = now() WHERE status_id = $1 AND id <> ALL($2)",
    )
    .bind(status_id)
    .bind(&ids)
    .execute(&mut *tx)
    .await?;
    sqlx::query("UPDATE media_attachments SET status_id = $1, updated_at = now() WHERE id = ANY($2)")
        .bind(status_id)
        .bind(&ids)
        .execute(&mut *tx)
        .await?;
    Ok(ids)
}

/// `media_attributes[]` of a status edit: description and focus of one of its attachments.
pub async fn edit_attached(tx: &mut sqlx::PgConnection, status_id: i64, media_id: i64, edit: &MediaEdit) -> Result<()> {
    check_description(&edit.description)?;
    let focus = edit.focus.as_deref().filter(|f| !f.is_empty()).map(parse_focus).transpose()?;
    sqlx::query(
        "UPDATE media_attachments
            SET description = COALESCE($3, description),
                file_meta = CASE WHEN $4::jsonb IS NULL THEN file_meta
                                 ELSE (COALESCE(file_meta::jsonb, '{}') || jsonb_build_object('focus', $4::jsonb))::json END,
                updated_at = now()
          WHERE id = $1 AND status_id = $2",
    )
    .bind(media_id)
    .bind(status_id)
    .bind(&edit.description)
    .bind(focus.map(sqlx::types::Json))
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Deletes the account's unattached attachments among `ids` and their files (after a
/// status is deleted with `delete_media=true`).
pub async fn destroy_unattached(state: &AppState, account_id: i64, ids: &[i64]) -> Result<()> {
    let removed: Vec<MediaAttachment> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "DELETE FROM media_attachments m WHERE m.id = ANY($1) AND m.account_id = $2 AND m.status_id IS NULL
         RETURNING {COLUMNS}"
    )))
    .bind(ids)
    .bind(account_id)
    .fetch_all(&state.db.primary)
    .await?;
    for media in &removed {
        remove_files(state, media).await?;
    }
    Ok(())
}

/// The attachments of many statuses, in each status's order.
pub async fn for_statuses(db: &PgPool, ordered: &[(i64, Vec<i64>)]) -> Result<HashMap<i64, Vec<MediaAttachment>>> {
    let ids: Vec<i64> = ordered.iter().flat_map(|(_, ids)| ids.iter().copied()).collect();
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    let rows: Vec<MediaAttachment> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {COLUMNS} FROM media_attachments m WHERE m.id = ANY($1)")))
            .bind(&ids)
            .fetch_all(db)
            .await?;
    let by_id: HashMap<i64, MediaAttachment> = rows.into_iter().map(|m| (m.id, m)).collect();
    Ok(ordered
        .iter()
        .map(|(status, ids)| (*status, ids.iter().filter_map(|id| by_id.get(id).cloned()).collect()))
        .collect())
}

/// Replaces an account's avatar or header (`None` removes it), deleting the old file.
pub async fn set_profile_image(
    state: &AppState,
    account_id: i64,
    kind: ProfileImage,
    file: Option<Upload>,
) -> Result<()> {
    let stored = match file {
        Some(file) => Some(store_profile_image(state, account_id, kind, file).await?),
        None => None,
    };
    let column = kind.column();
    let (name, content_type, size) = match &stored {
        Some((n, c, s)) => (Some(n.as_str()), Some(c.as_str()), Some(*s)),
        None => (None, None, None),
    };
    let old: Option<Option<String>> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "UPDATE accounts a SET {column}_file_name = $2, {column}_content_type = $3, {column}_file_size = $4,
                {column}_updated_at = CASE WHEN $2 IS NULL THEN NULL ELSE now() END, updated_at = now()
           FROM (SELECT {column}_file_name AS old FROM accounts WHERE id = $1 FOR UPDATE) previous
          WHERE a.id = $1
         RETURNING previous.old"
    )))
    .bind(account_id)
    .bind(name)
    .bind(content_type)
    .bind(size)
    .fetch_optional(&state.db.primary)
    .await?;
    if let Some(old) = old.flatten().filter(|old| Some(old.as_str()) != name) {
        state.storage.delete(&kind.path(account_id, &old)).await?;
    }
    Ok(())
}

/// Stores a new avatar (400×400) or header (1500×500 pixels' worth): name, type and size.
async fn store_profile_image(
    state: &AppState,
    account_id: i64,
    kind: ProfileImage,
    file: Upload,
) -> Result<(String, String, i32)> {
    if file.bytes.len() > PROFILE_IMAGE_SIZE_LIMIT {
        let label = kind.label();
        return Err(Error::validation(format!(
            "{label} must be less than 8 MB, {label} file size must be less than 8 MB"
        )));
    }
    let style = tokio::task::spawn_blocking(move || match kind {
        ProfileImage::Avatar => process::avatar(&file.bytes),
        ProfileImage::Header => process::header(&file.bytes),
    })
    .await
    .map_err(|e| Error::internal(format!("profile image: {e}")))??;
    let name = random_file_name(style.extension);
    let content_type = style.content_type.to_string();
    let size = style.bytes.len() as i32;
    let path = kind.path(account_id, &name);
    state.storage.put(&path, style.bytes, &content_type).await?;
    Ok((name, content_type, size))
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileImage {
    Avatar,
    Header,
}

impl ProfileImage {
    fn column(self) -> &'static str {
        match self {
            ProfileImage::Avatar => "avatar",
            ProfileImage::Header => "header",
        }
    }
    fn label(self) -> &'static str {
        match self {
            ProfileImage::Avatar => "Avatar",
            ProfileImage::Header => "Header",
        }
    }
    /// `accounts/avatars/<id partition>/original/<name>`.
    pub fn path(self, account_id: i64, file_name: &str) -> String {
        let folder = match self {
            ProfileImage::Avatar => "avatars",
            ProfileImage::Header => "headers",
        };
        format!("accounts/{folder}/{}/original/{file_name}", id_partition(account_id))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_partitions_are_paperclips() {
        assert_eq!(id_partition(1), "000/000/001");
        assert_eq!(id_partition(113_456_789_012_345_678), "113/456/789/012/345/678");
    }

    #[test]
    fn focus_is_two_clamped_numbers() -> Result<()> {
        assert_eq!(parse_focus("0.5,-0.25")?, json!({ "x": 0.5, "y": -0.25 }));
        assert_eq!(parse_focus("2,-3")?, json!({ "x": 1.0, "y": -1.0 }));
        assert!(parse_focus("left").is_err());
        assert!(parse_focus("1").is_err());
        Ok(())
    }
}
