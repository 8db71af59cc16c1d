//! Where media files live: a directory (Mastodon's `PAPERCLIP_ROOT_PATH`, served at
//! `PAPERCLIP_ROOT_URL`) or an S3 bucket (`S3_ENABLED=true`). Callers speak in media paths
//! (`media_attachments/files/.../original/x.png`); S3's key prefix is applied here.

use std::path::{Path, PathBuf};

use aws_sdk_s3::primitives::ByteStream;

use crate::core::config::{MediaConfig, S3Config};
use crate::core::error::{Error, Result};

#[derive(Clone)]
pub enum Storage {
    Local { root: PathBuf },
    S3 { client: aws_sdk_s3::Client, config: Box<S3Config>, media: Box<MediaConfig> },
}

/// One stored object, as listed by `list`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    pub path: String,
    pub size: u64,
}

fn storage_error(action: &str, path: &str, err: impl std::fmt::Display) -> Error {
    Error::internal(format!("media storage: {action} {path}: {err}"))
}

impl Storage {
    pub fn new(media: &MediaConfig) -> Self {
        let Some(s3) = &media.s3 else {
            return Storage::Local { root: media.root_path.clone() };
        };
        let credentials = aws_sdk_s3::config::Credentials::new(
            s3.access_key_id.clone(),
            s3.secret_access_key.clone(),
            None,
            None,
            "ferrodon",
        );
        let mut builder = aws_sdk_s3::config::Builder::new()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .region(aws_sdk_s3::config::Region::new(s3.region.clone()))
            .credentials_provider(credentials);
        if let Some(endpoint) = &s3.endpoint {
            builder = builder.endpoint_url(endpoint).force_path_style(true);
        }
        Storage::S3 {
            client: aws_sdk_s3::Client::from_conf(builder.build()),
            config: Box::new(s3.clone()),
            media: Box::new(media.clone()),
        }
    }

    fn local_path(root: &Path, path: &str) -> Result<PathBuf> {
        if path.split('/').any(|part| part.is_empty() || part == "." || part == "..") {
            return Err(Error::internal(format!("media storage: refusing path {path:?}")));
        }
        Ok(root.join(path))
    }

    pub async fn put(&self, path: &str, bytes: Vec<u8>, content_type: &str) -> Result<()> {
        match self {
            Storage::Local { root } => {
                let target = Self::local_path(root, path)?;
                if let Some(dir) = target.parent() {
                    tokio::fs::create_dir_all(dir).await.map_err(|e| storage_error("create", path, e))?;
                }
                // Written whole, then renamed: a reader never sees half a file.
                let partial = target.with_extension("partial");
                tokio::fs::write(&partial, bytes).await.map_err(|e| storage_error("write", path, e))?;
                tokio::fs::rename(&partial, &target).await.map_err(|e| storage_error("rename", path, e))
            }
            Storage::S3 { client, config, media } => {
                let mut request = client
                    .put_object()
                    .bucket(&config.bucket)
                    .key(media.object_key(path))
                    .content_type(content_type)
                    .cache_control("public, max-age=315576000, immutable")
                    .body(ByteStream::from(bytes));
                if !config.permission.is_empty() {
                    request = request.acl(config.permission.as_str().into());
                }
                request.send().await.map_err(|e| storage_error("upload", path, aws_error(e)))?;
                Ok(())
            }
        }
    }

    pub async fn get(&self, path: &str) -> Result<Vec<u8>> {
        match self {
            Storage::Local { root } => {
                tokio::fs::read(Self::local_path(root, path)?).await.map_err(|e| storage_error("read", path, e))
            }
            Storage::S3 { client, config, media } => {
                let object = client
                    .get_object()
                    .bucket(&config.bucket)
                    .key(media.object_key(path))
                    .send()
                    .await
                    .map_err(|e| storage_error("download", path, aws_error(e)))?;
                let body = object.body.collect().await.map_err(|e| storage_error("download", path, e))?;
                Ok(body.into_bytes().to_vec())
            }
        }
    }

    /// Removes an object; one that is already gone is not an error.
    pub async fn delete(&self, path: &str) -> Result<()> {
        match self {
            Storage::Local { root } => match tokio::fs::remove_file(Self::local_path(root, path)?).await {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(storage_error("delete", path, e)),
                _ => Ok(()),
            },
            Storage::S3 { client, config, media } => {
                client
                    .delete_object()
                    .bucket(&config.bucket)
                    .key(media.object_key(path))
                    .send()
                    .await
                    .map_err(|e| storage_error("delete", path, aws_error(e)))?;
                Ok(())
            }
        }
    }

    /// Every object under `prefix` (a directory-like media path), in path order.
    pub async fn list(&self, prefix: &str) -> Result<Vec<StoredObject>> {
        match self {
            Storage::Local { root } => {
                let root = root.clone();
                let prefix = prefix.trim_end_matches('/').to_string();
                tokio::task::spawn_blocking(move || list_local(&root, &prefix))
                    .await
                    .map_err(|e| Error::internal(format!("media storage: listing stopped: {e}")))?
            }
            Storage::S3 { client, config, media } => {
                let full_prefix = media.object_key(prefix.trim_end_matches('/'));
                let strip = full_prefix.len() - prefix.trim_end_matches('/').len();
                let mut objects = Vec::new();
                let mut pages = client
                    .list_objects_v2()
                    .bucket(&config.bucket)
                    .prefix(format!("{full_prefix}/"))
                    .into_paginator()
                    .send();
                while let Some(page) = pages.next().await {
                    let page = page.map_err(|e| storage_error("list", prefix, aws_error(e)))?;
                    for object in page.contents() {
                        if let Some(key) = object.key() {
                            let size = object.size().unwrap_or(0).max(0) as u64;
                            objects.push(StoredObject { path: key[strip..].to_string(), size });
                        }
                    }
                }
                objects.sort_by(|a, b| a.path.cmp(&b.path));
                Ok(objects)
            }
        }
    }
}

fn list_local(root: &Path, prefix: &str) -> Result<Vec<StoredObject>> {
    let mut objects = Vec::new();
    let mut pending = vec![root.join(prefix)];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
            Err(e) => return Err(storage_error("list", prefix, e)),
        };
        for entry in entries {
            let entry = entry.map_err(|e| storage_error("list", prefix, e))?;
            let meta = entry.metadata().map_err(|e| storage_error("list", prefix, e))?;
            if meta.is_dir() {
                pending.push(entry.path());
            } else if let Ok(relative) = entry.path().strip_prefix(root) {
                let path = relative.to_string_lossy().replace('\\', "/");
                if !path.ends_with(".partial") {
                    objects.push(StoredObject { path, size: meta.len() });
                }
            }
        }
    }
    objects.sort_by(|a, b| a.path.cmp(&b.path));
    Ok(objects)
}

/// The service's own message (e.g. `SignatureDoesNotMatch`), not just "service error".
fn aws_error<E: std::error::Error + 'static>(err: aws_sdk_s3::error::SdkError<E>) -> String {
    crate::core::error::with_causes(&err)
}
