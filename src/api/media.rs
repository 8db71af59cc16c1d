//! `/api/v1/media` and `/api/v2/media`: uploads, their state, edits and deletion.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::auth::Auth;
use super::params::{Files, Form, opt_string, path_id};
use crate::AppState;
use crate::core::error::{Error, Result};
use crate::effects::media;
use crate::model::media::{MediaAttachment, MediaEdit};
use crate::render::entities;

type State = web::Data<AppState>;

#[derive(Deserialize)]
pub struct MediaParams {
    #[serde(default, deserialize_with = "opt_string")]
    description: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    focus: Option<String>,
}

fn edit(p: MediaParams) -> MediaEdit {
    MediaEdit { description: p.description, focus: p.focus }
}

async fn create(
    state: &AppState,
    auth: &Auth,
    p: MediaParams,
    mut files: Files,
    wait: bool,
) -> Result<MediaAttachment> {
    let viewer = auth.user("write:media")?;
    let file =
        files.remove("file").filter(|f| !f.bytes.is_empty()).ok_or_else(|| Error::validation("File can't be blank"))?;
    let thumbnail = files.remove("thumbnail");
    media::upload(state, viewer.account_id, file, edit(p), thumbnail, wait).await
}

/// `POST /api/v1/media`: processed before the answer.
pub async fn create_v1(state: State, auth: Auth, Form(p, files): Form<MediaParams>) -> Result<HttpResponse> {
    let attachment = create(&state, &auth, p, files, true).await?;
    Ok(HttpResponse::Ok().json(entities::media_attachment(&attachment, &state.config)))
}

/// `POST /api/v2/media`: 200 for images, 202 while video or audio is still processed.
pub async fn create_v2(state: State, auth: Auth, Form(p, files): Form<MediaParams>) -> Result<HttpResponse> {
    let attachment = create(&state, &auth, p, files, false).await?;
    let mut response = if attachment.processed() { HttpResponse::Ok() } else { HttpResponse::Accepted() };
    Ok(response.json(entities::media_attachment(&attachment, &state.config)))
}

/// `GET /api/v1/media/:id`: 206 until processing is done.
pub async fn show(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:media")?;
    let attachment = crate::model::media::find_own(&state.db.primary, viewer.account_id, path_id(&id)?).await?;
    let mut response = if attachment.processed() { HttpResponse::Ok() } else { HttpResponse::PartialContent() };
    Ok(response.json(entities::media_attachment(&attachment, &state.config)))
}

pub async fn update(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Form(p, mut files): Form<MediaParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:media")?;
    let thumbnail = files.remove("thumbnail");
    let attachment = media::update(&state, viewer.account_id, path_id(&id)?, edit(p), thumbnail).await?;
    let mut response = if attachment.processed() { HttpResponse::Ok() } else { HttpResponse::PartialContent() };
    Ok(response.json(entities::media_attachment(&attachment, &state.config)))
}

pub async fn destroy(state: State, auth: Auth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.user("write:media")?;
    media::delete(&state, viewer.account_id, path_id(&id)?).await?;
    Ok(HttpResponse::Ok().json(serde_json::json!({})))
}

/// `GET /system/...`: local media files, for instances without nginx in front (nginx
/// serves the same directory itself). Not found when media are on S3.
pub async fn serve_local(state: State, path: web::Path<String>) -> Result<HttpResponse> {
    let media::Storage::Local { .. } = state.storage else { return Err(Error::NotFound) };
    let bytes = state.storage.get(&path).await.map_err(|_| Error::NotFound)?;
    let content_type = match path.rsplit('.').next().unwrap_or_default() {
        "png" => "image/png",
        "jpeg" | "jpg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "mp4" | "m4a" => "video/mp4",
        "webm" => "video/webm",
        "mov" => "video/quicktime",
        "ogg" | "ogv" => "audio/ogg",
        "mp3" => "audio/mpeg",
        "wav" => "audio/wave",
        "flac" => "audio/flac",
        _ => "application/octet-stream",
    };
    Ok(HttpResponse::Ok()
        .content_type(content_type)
        .insert_header(("Cache-Control", "public, max-age=2419200, must-revalidate"))
        .insert_header(("X-Content-Type-Options", "nosniff"))
        .body(bytes))
}
