//! Media of remote posts and accounts: the attachments a Note lists are stored with their
//! remote address (`model::media::insert_remote`) and copied into our storage on the `pull` queue (Mastodon downloads them
//! when it processes the post), and so are avatars and headers. Until then, or when the
//! server's media are rejected by a domain block, clients are given the remote address.

use super::process::{self, Sniffed};
use super::{PROFILE_IMAGE_SIZE_LIMIT, Upload, random_file_name, set_profile_image, store_image};
use crate::AppState;
use crate::core::error::Result;
use crate::domain::domain_blocks;
use crate::effects::federation::remote::authority;
use crate::model::accounts;
use crate::model::media::{ProfileImage, find, id_partition};

/// Copies a remote attachment's file (images processed into our styles, with
/// a blurhash when the Document had none). A server whose media are rejected is skipped.
pub async fn fetch(state: &AppState, id: i64) -> Result<()> {
    let Some(media) = find(&state.db.primary, id).await? else { return Ok(()) };
    if media.file_file_name.is_some() || media.remote_url.is_empty() {
        return Ok(());
    }
    if domain_blocks::rejects_media(state, &authority(&media.remote_url).unwrap_or_default()).await? {
        return Ok(());
    }
    let limit = if media.media_type().is_large() { process::VIDEO_SIZE_LIMIT } else { process::IMAGE_SIZE_LIMIT };
    let (bytes, content_type) = state.http.get_file(&media.remote_url, limit).await?;
    let Some(sniffed) = process::sniff(&bytes, &content_type) else {
        tracing::info!(media = id, "remote media of an unsupported type: left at its remote address");
        return Ok(());
    };
    let (name, content_type, meta, blurhash) = match sniffed {
        Sniffed::Image(format) => {
            let image = store_image(state, id, bytes, format).await?;
            let mut meta = image.meta;
            if let Some(focus) = media.api_meta().get("focus") {
                meta["focus"] = focus.clone();
            }
            (image.name, image.content_type, meta, Some(image.blurhash))
        }
        Sniffed::Video(..) | Sniffed::Audio(..) => {
            let (mime, extension) = sniffed.mime_and_extension();
            let name = random_file_name(extension);
            let path = format!("media_attachments/files/{}/original/{name}", id_partition(id));
            state.storage.put(&path, bytes, mime).await?;
            (name, mime, media.api_meta(), None)
        }
    };
    sqlx::query(
        "UPDATE media_attachments SET file_file_name = $2, file_content_type = $3, file_meta = $4,
                blurhash = COALESCE(blurhash, $5), file_updated_at = now(), file_storage_schema_version = 1,
                updated_at = now()
          WHERE id = $1",
    )
    .bind(id)
    .bind(&name)
    .bind(content_type)
    .bind(sqlx::types::Json(&meta))
    .bind(blurhash)
    .execute(&state.db.primary)
    .await?;
    Ok(())
}

/// The `FetchProfileImages` job: copies a remote account's avatar and header (processed
/// like uploaded ones), and drops our copy of one its server no longer has.
pub async fn fetch_profile_images(state: &AppState, account_id: i64) -> Result<()> {
    let Some(account) = accounts::find_many(&state.db.primary, &[account_id]).await?.pop() else { return Ok(()) };
    let Some(domain) = account.domain.as_deref() else { return Ok(()) };
    if domain_blocks::rejects_media(state, domain).await? {
        return Ok(());
    }
    let images = [
        (ProfileImage::Avatar, account.avatar_remote_url.clone().unwrap_or_default()),
        (ProfileImage::Header, account.header_remote_url.clone()),
    ];
    for (kind, url) in images {
        let file = if url.is_empty() {
            None
        } else {
            let (bytes, content_type) = state.http.get_file(&url, PROFILE_IMAGE_SIZE_LIMIT).await?;
            let file_name = url.rsplit('/').next().unwrap_or("image").to_string();
            Some(Upload { file_name, content_type, bytes })
        };
        set_profile_image(state, account_id, kind, file).await?;
    }
    Ok(())
}
