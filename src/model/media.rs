//! Media attachment rows (Mastodon's `media_attachments`, with its Paperclip paths) and the
//! rules for attaching them to statuses. Files are stored and processed by
//! `effects::media`.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use serde_json::{Value, json};
use sqlx::{FromRow, PgExecutor, PgPool};

use crate::core::error::{Error, Result};

/// Mastodon's `type` column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MediaType {
    Image = 0,
    Gifv = 1,
    Video = 2,
    Unknown = 3,
    Audio = 4,
}

impl MediaType {
    pub fn from_db(value: i32) -> Self {
        match value {
            0 => MediaType::Image,
            1 => MediaType::Gifv,
            2 => MediaType::Video,
            4 => MediaType::Audio,
            _ => MediaType::Unknown,
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            MediaType::Image => "image",
            MediaType::Gifv => "gifv",
            MediaType::Video => "video",
            MediaType::Audio => "audio",
            MediaType::Unknown => "unknown",
        }
    }
    /// Video, gifv and audio: processed on a queue after a v2 upload.
    pub fn is_large(self) -> bool {
        matches!(self, MediaType::Video | MediaType::Gifv | MediaType::Audio)
    }
}

/// `media_attachments.processing`.
pub const QUEUED: i32 = 0;
pub const IN_PROGRESS: i32 = 1;
pub const COMPLETE: i32 = 2;
pub const FAILED: i32 = 3;

pub const DESCRIPTION_LIMIT: usize = 1500;

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

/// Paperclip's `:id_partition`: the id zero-padded to nine digits (twelve from 10^9 on), in
/// groups of three.
pub fn id_partition(id: i64) -> String {
    let digits = if id < 1_000_000_000 { format!("{id:09}") } else { format!("{id:012}") };
    // Like Ruby's `scan(/\d{3}/)`, a shorter tail is left out.
    let groups: Vec<&str> = digits.as_bytes().chunks_exact(3).filter_map(|c| std::str::from_utf8(c).ok()).collect();
    groups.join("/")
}

pub fn with_extension(file_name: &str, extension: &str) -> String {
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

    pub fn meta(&self) -> Value {
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

/// `description` and `focus` as the API takes them.
#[derive(Debug, Default, Clone)]
pub struct MediaEdit {
    pub description: Option<String>,
    pub focus: Option<String>,
}

pub fn check_description(description: &Option<String>) -> Result<()> {
    if description.as_ref().is_some_and(|d| d.chars().count() > DESCRIPTION_LIMIT) {
        return Err(Error::validation(format!("Description is too long (maximum is {DESCRIPTION_LIMIT} characters)")));
    }
    Ok(())
}

/// `"x,y"` with each in -1.0..=1.0 (clamped, as the client's crosshair can overshoot).
pub fn parse_focus(focus: &str) -> Result<Value> {
    let parts: Vec<f64> = focus.split(',').filter_map(|p| p.trim().parse::<f64>().ok()).collect();
    match parts[..] {
        [x, y] if x.is_finite() && y.is_finite() => Ok(json!({ "x": x.clamp(-1.0, 1.0), "y": y.clamp(-1.0, 1.0) })),
        _ => Err(Error::validation("Focus must be two numbers between -1.0 and 1.0, separated by a comma")),
    }
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

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProfileImage {
    Avatar,
    Header,
}

impl ProfileImage {
    pub fn column(self) -> &'static str {
        match self {
            ProfileImage::Avatar => "avatar",
            ProfileImage::Header => "header",
        }
    }
    pub fn label(self) -> &'static str {
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

/// An attachment of a remote post, as its Note describes it; its file stays at `url` until
/// copied into our storage.
#[derive(Debug, Clone, PartialEq)]
pub struct RemoteMedia {
    pub url: String,
    pub kind: MediaType,
    pub meta: Value,
    pub description: Option<String>,
    pub blurhash: Option<String>,
}

/// Stores the attachments of a remote status; returns their ids in order.
pub async fn insert_remote(
    conn: &mut sqlx::PgConnection,
    account_id: i64,
    status_id: i64,
    media: &[RemoteMedia],
) -> Result<Vec<i64>> {
    let mut ids = Vec::with_capacity(media.len());
    for m in media {
        let id: i64 = sqlx::query_scalar(
            "INSERT INTO media_attachments (id, account_id, status_id, type, remote_url, file_meta, description, blurhash,
                                            processing, created_at, updated_at)
             VALUES (timestamp_id('media_attachments'), $1, $2, $3, $4, $5, $6, $7, $8, now(), now())
             RETURNING id",
        )
        .bind(account_id)
        .bind(status_id)
        .bind(m.kind as i32)
        .bind(&m.url)
        .bind(sqlx::types::Json(&m.meta))
        .bind(&m.description)
        .bind(&m.blurhash)
        .bind(COMPLETE)
        .fetch_one(&mut *conn)
        .await?;
        ids.push(id);
    }
    Ok(ids)
}
