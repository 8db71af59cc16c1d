//! Media files: uploads and their processing, thumbnails, avatars and headers, copies of
//! remote media, and deletion. Files go where Mastodon puts them (`model::media` has the
//! rows and paths), so an adopted instance's files are found. Images are processed during
//! the upload; video and audio after a v2 upload, on the `default` queue (Mastodon's
//! PostProcessMediaWorker).

pub mod process;
pub mod remote;
pub mod storage;

use rand::RngCore;
use serde_json::{Value, json};

use crate::AppState;
use crate::core::error::{Error, Result};
use crate::core::queue;
use crate::domain::events::{self, Event};
use crate::model::media::{
    COLUMNS, COMPLETE, FAILED, IN_PROGRESS, MediaAttachment, MediaEdit, MediaType, ProfileImage, QUEUED,
    check_description, find, find_own, id_partition, parse_focus, with_extension,
};
use process::{Sniffed, Style};
pub use storage::Storage;

/// Media jobs.
#[derive(Debug, Clone, serde::Serialize, serde::Deserialize, PartialEq, Eq)]
#[serde(tag = "type")]
pub enum Job {
    /// Metadata and a preview frame of an uploaded video or audio file (Mastodon's
    /// PostProcessMediaWorker).
    Process { media_id: i64 },
    /// Downloads the file of a remote media attachment into our storage.
    FetchRemote { media_id: i64 },
    /// The remote attachments of a status not copied yet.
    FetchRemoteOf { status_id: i64 },
    /// Copies a remote account's avatar and header into our storage.
    FetchProfileImages { account_id: i64 },
}

impl queue::Job for Job {
    const FAMILY: &'static str = "Media";
    fn queue(&self) -> &'static str {
        match self {
            Job::Process { .. } => "default",
            _ => "pull",
        }
    }
    fn max_attempts(&self) -> i32 {
        match self {
            // Mastodon's PostProcessMediaWorker: one retry.
            Job::Process { .. } => 2,
            _ => 3,
        }
    }
}

impl Job {
    pub async fn perform(self, state: &AppState) -> Result<()> {
        match self {
            Job::Process { media_id } => process_queued(state, media_id).await,
            Job::FetchRemote { media_id } => remote::fetch(state, media_id).await,
            Job::FetchRemoteOf { status_id } => {
                let waiting: Vec<i64> = sqlx::query_scalar(
                    "SELECT id FROM media_attachments
                      WHERE status_id = $1 AND file_file_name IS NULL AND remote_url <> '' ORDER BY id",
                )
                .bind(status_id)
                .fetch_all(&state.db.primary)
                .await?;
                for media_id in waiting {
                    remote::fetch(state, media_id).await?;
                }
                Ok(())
            }
            Job::FetchProfileImages { account_id } => remote::fetch_profile_images(state, account_id).await,
        }
    }
}

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

/// A fresh stored file name: 16 random hex digits and the extension (Mastodon's rule).
fn random_file_name(extension: &str) -> String {
    let mut bytes = [0u8; 8];
    rand::rng().fill_bytes(&mut bytes);
    format!("{}.{extension}", hex::encode(bytes))
}

fn too_large(limit: usize) -> Error {
    let mb = limit / (1024 * 1024);
    Error::validation(format!("File must be less than {mb} MB, File file size must be less than {mb} MB"))
}

fn invalid_type() -> Error {
    Error::validation("File content type is invalid, File is invalid")
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
    thumbnail: Option<Upload>,
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
    let thumbnail = match thumbnail {
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
        queue::enqueue(&mut *tx, &Job::Process { media_id: id }).await?;
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

/// `PUT /api/v1/media/:id`: description, focus and thumbnail of an attachment not yet
/// posted (posted ones change through a status edit, as in Mastodon).
pub async fn update(
    state: &AppState,
    account_id: i64,
    id: i64,
    edit: MediaEdit,
    thumbnail: Option<Upload>,
) -> Result<MediaAttachment> {
    let media = find_own(&state.db.primary, account_id, id).await?;
    if media.status_id.is_some() {
        return Err(Error::NotFound);
    }
    check_description(&edit.description)?;
    let mut meta = media.meta();
    if let Some(focus) = edit.focus.as_deref().filter(|f| !f.is_empty()) {
        meta["focus"] = parse_focus(focus)?;
    }
    let thumbnail = match thumbnail {
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

/// Deletes up to `limit` attachments that were never attached to a status (nor to a
/// scheduled one) and are older than `days`, with their files; returns how many went. With
/// `dry_run` only counts them.
pub async fn remove_unattached(state: &AppState, days: i64, limit: i64, dry_run: bool) -> Result<usize> {
    const UNATTACHED: &str = "m.status_id IS NULL AND m.scheduled_status_id IS NULL
                              AND m.created_at < (now() AT TIME ZONE 'UTC') - make_interval(days => $1::int)";
    if dry_run {
        let count: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
            "SELECT count(*) FROM media_attachments m WHERE {UNATTACHED}"
        )))
        .bind(days)
        .fetch_one(&state.db.primary)
        .await?;
        return Ok(count as usize);
    }
    let removed: Vec<MediaAttachment> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "DELETE FROM media_attachments m WHERE m.id IN (SELECT id FROM media_attachments m WHERE {UNATTACHED} LIMIT $2)
         RETURNING {COLUMNS}"
    )))
    .bind(days)
    .bind(limit)
    .fetch_all(&state.db.primary)
    .await?;
    for media in &removed {
        remove_files(state, media).await?;
    }
    Ok(removed.len())
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
    let mut tx = state.db.primary.begin().await?;
    let updated: Option<(Option<String>, bool)> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "UPDATE accounts a SET {column}_file_name = $2, {column}_content_type = $3, {column}_file_size = $4,
                {column}_updated_at = CASE WHEN $2 IS NULL THEN NULL ELSE now() END, updated_at = now()
           FROM (SELECT {column}_file_name AS old FROM accounts WHERE id = $1 FOR UPDATE) previous
          WHERE a.id = $1
         RETURNING previous.old, a.domain IS NULL"
    )))
    .bind(account_id)
    .bind(name)
    .bind(content_type)
    .bind(size)
    .fetch_optional(&mut *tx)
    .await?;
    let (old, local) = updated.unwrap_or_default();
    // A local profile goes to other servers again (once for a burst of changes).
    if local {
        events::emit_once_in(&mut *tx, Event::ProfileUpdated { account_id }, 0).await?;
    }
    tx.commit().await?;
    if let Some(old) = old.filter(|old| Some(old.as_str()) != name) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_partitions_are_paperclips() {
        assert_eq!(id_partition(1), "000/000/001");
        assert_eq!(id_partition(1_234_567_890), "001/234/567/890");
        // Seventeen digits: Paperclip drops the last two.
        assert_eq!(id_partition(12_345_678_901_234_567), "123/456/789/012/345");
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
