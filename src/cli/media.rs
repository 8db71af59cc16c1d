//! `ferrodon ctl media …`, tootctl's media commands: free the disk space of cached remote
//! media, report usage, and remove stored files no row refers to.

use std::collections::{HashMap, HashSet};

use super::progress;
use crate::AppState;
use crate::core::error::Result;
use crate::effects::media::remove_files;
use crate::model::media::COLUMNS;
use crate::model::media::MediaAttachment;
use crate::model::media::ProfileImage;
use crate::model::media::id_partition;

/// A remote account's id, cached avatar (name, size) and cached header (name, size).
type CachedProfile = (i64, Option<String>, Option<i32>, Option<String>, Option<i32>);

fn megabytes(bytes: i64) -> String {
    format!("{:.1} MB", bytes as f64 / 1_048_576.0)
}

/// `media remove --days N`: deletes the local copies of remote media older than `days`
/// (the rows stay, pointing at the remote original, as Mastodon does). With
/// `prune_profiles`, also the cached avatars and headers of remote accounts that did not
/// post in that time. Returns what was (or, dry, would be) removed.
pub async fn remove_cached(state: &AppState, days: i64, prune_profiles: bool, dry_run: bool) -> Result<(usize, i64)> {
    let db = &state.db.primary;
    let cached: Vec<MediaAttachment> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {COLUMNS} FROM media_attachments m
          WHERE m.remote_url <> '' AND m.file_file_name IS NOT NULL
            AND m.created_at < (now() AT TIME ZONE 'UTC') - make_interval(days => $1::int)
          ORDER BY m.id"
    )))
    .bind(days as i32)
    .fetch_all(db)
    .await?;
    let (mut removed, mut bytes) = (0, 0i64);
    for (i, media) in cached.iter().enumerate() {
        if !dry_run {
            remove_files(state, media).await?;
            sqlx::query(
                "UPDATE media_attachments SET file_file_name = NULL, file_content_type = NULL, file_file_size = NULL,
                        file_updated_at = NULL, thumbnail_file_name = NULL, updated_at = now()
                  WHERE id = $1",
            )
            .bind(media.id)
            .execute(db)
            .await?;
        }
        removed += 1;
        bytes += i64::from(media.file_file_size.unwrap_or(0));
        progress("media", i + 1, cached.len());
    }
    if prune_profiles {
        let profiles: Vec<CachedProfile> = sqlx::query_as(
            "SELECT a.id, a.avatar_file_name, a.avatar_file_size, a.header_file_name, a.header_file_size
               FROM accounts a LEFT JOIN account_stats s ON s.account_id = a.id
              WHERE a.domain IS NOT NULL AND (a.avatar_file_name IS NOT NULL OR a.header_file_name IS NOT NULL)
                AND a.updated_at < (now() AT TIME ZONE 'UTC') - make_interval(days => $1::int)
                AND (s.last_status_at IS NULL OR s.last_status_at < (now() AT TIME ZONE 'UTC') - make_interval(days => $1::int))
                AND NOT EXISTS (SELECT 1 FROM follows f JOIN accounts l ON l.id = f.account_id AND l.domain IS NULL
                                 WHERE f.target_account_id = a.id)",
        )
        .bind(days as i32)
        .fetch_all(db)
        .await?;
        for (i, (id, avatar, avatar_size, header, header_size)) in profiles.iter().enumerate() {
            for (kind, name, size) in
                [(ProfileImage::Avatar, avatar, avatar_size), (ProfileImage::Header, header, header_size)]
            {
                let Some(name) = name else { continue };
                if !dry_run {
                    state.storage.delete(&kind.path(*id, name)).await?;
                }
                removed += 1;
                bytes += i64::from(size.unwrap_or(0));
            }
            if !dry_run {
                sqlx::query("UPDATE accounts SET avatar_file_name = NULL, header_file_name = NULL WHERE id = $1")
                    .bind(id)
                    .execute(db)
                    .await?;
            }
            progress("profiles", i + 1, profiles.len());
        }
    }
    println!();
    Ok((removed, bytes))
}

/// `media usage`: sizes by kind, from the database, as tootctl reports them.
pub async fn usage(state: &AppState) -> Result<Vec<(String, i64)>> {
    let db = &state.db.primary;
    let (all, local): (i64, i64) = sqlx::query_as(
        "SELECT COALESCE(sum(COALESCE(file_file_size, 0) + COALESCE(thumbnail_file_size, 0)), 0)::bigint,
                COALESCE(sum(COALESCE(file_file_size, 0) + COALESCE(thumbnail_file_size, 0))
                         FILTER (WHERE remote_url = ''), 0)::bigint
           FROM media_attachments",
    )
    .fetch_one(db)
    .await?;
    let (avatars, local_avatars, headers, local_headers): (i64, i64, i64, i64) = sqlx::query_as(
        "SELECT COALESCE(sum(avatar_file_size), 0)::bigint,
                COALESCE(sum(avatar_file_size) FILTER (WHERE domain IS NULL), 0)::bigint,
                COALESCE(sum(header_file_size), 0)::bigint,
                COALESCE(sum(header_file_size) FILTER (WHERE domain IS NULL), 0)::bigint
           FROM accounts",
    )
    .fetch_one(db)
    .await?;
    Ok(vec![
        (format!("Attachments ({} of them local)", megabytes(local)), all),
        (format!("Avatars ({} of them local)", megabytes(local_avatars)), avatars),
        (format!("Headers ({} of them local)", megabytes(local_headers)), headers),
    ])
}

pub fn print_usage(rows: &[(String, i64)]) {
    for (label, bytes) in rows {
        println!("{:<44}{}", format!("{label}:"), megabytes(*bytes));
    }
}

/// The record id a stored path belongs to, from its id partition
/// (`media_attachments/files/113/456/789/012/345/678/original/x.png`).
/// The id partition of a stored path (`…/files/<partition>/<style>/<name>`).
fn partition_of(path: &str, depth: usize) -> Option<String> {
    let parts: Vec<&str> = path.split('/').collect();
    Some(parts.get(depth..parts.len().checked_sub(2)?)?.join("/"))
}

/// The number in a partition, and whether it is an id cut short: Paperclip drops the last
/// two digits of 17-digit ids (snowflakes of 2017–2018), leaving five groups.
fn partition_number(partition: &str) -> Option<(i64, bool)> {
    let digits = partition.replace('/', "");
    Some((digits.parse().ok()?, digits.len() == 15))
}

/// `media remove-orphans`: deletes stored files of attachments, avatars and headers that
/// no row refers to (left by failed uploads or deleted rows).
pub async fn remove_orphans(state: &AppState, dry_run: bool) -> Result<(usize, i64, usize)> {
    let db = &state.db.primary;
    let (mut removed, mut bytes, mut checked) = (0usize, 0i64, 0usize);
    for prefix in ["media_attachments/files", "media_attachments/thumbnails", "accounts/avatars", "accounts/headers"] {
        let objects = state.storage.list(prefix).await?;
        let depth = prefix.split('/').count();
        let numbers: HashSet<(i64, bool)> =
            objects.iter().filter_map(|o| partition_of(&o.path, depth)).filter_map(|p| partition_number(&p)).collect();
        let whole: Vec<i64> = numbers.iter().filter(|(_, cut)| !cut).map(|(n, _)| *n).collect();
        let cut: Vec<i64> = numbers.iter().filter(|(_, cut)| *cut).map(|(n, _)| *n).collect();
        let matching = "id = ANY($1) OR id / 100 = ANY($2)";
        // Keyed by partition: an id cannot always be read back from its path.
        let names: HashMap<String, Vec<String>> = if prefix.starts_with("accounts") {
            let column = if prefix.ends_with("avatars") { "avatar_file_name" } else { "header_file_name" };
            let rows: Vec<(i64, Option<String>)> =
                sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT id, {column} FROM accounts WHERE {matching}")))
                    .bind(&whole)
                    .bind(&cut)
                    .fetch_all(db)
                    .await?;
            rows.into_iter().map(|(id, name)| (id_partition(id), name.into_iter().collect())).collect()
        } else {
            let rows: Vec<MediaAttachment> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
                "SELECT {COLUMNS} FROM media_attachments m WHERE m.{matching}"
            )))
            .bind(&whole)
            .bind(&cut)
            .fetch_all(db)
            .await?;
            rows.into_iter().map(|m| (id_partition(m.id), m.stored_paths())).collect()
        };
        for (i, object) in objects.iter().enumerate() {
            checked += 1;
            let file_name = object.path.rsplit('/').next().unwrap_or_default();
            let known = partition_of(&object.path, depth)
                .and_then(|partition| names.get(&partition))
                .is_some_and(|known| known.iter().any(|k| k == &object.path || k == file_name));
            if !known {
                if !dry_run {
                    state.storage.delete(&object.path).await?;
                }
                removed += 1;
                bytes += object.size as i64;
            }
            progress(prefix, i + 1, objects.len());
        }
        if !objects.is_empty() {
            println!();
        }
    }
    Ok((removed, bytes, checked))
}

pub fn summary(verb: &str, count: usize, what: &str, bytes: i64, dry_run: bool) -> String {
    let dry = if dry_run { " (DRY RUN)" } else { "" };
    format!("{verb} {count} {what} (approx. {}){dry}", megabytes(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn partitions_are_read_from_paths() {
        let partition = partition_of("media_attachments/files/113/456/789/012/345/678/original/a.png", 2);
        assert_eq!(partition.as_deref(), Some("113/456/789/012/345/678"));
        assert_eq!(partition_number("113/456/789/012/345/678"), Some((113_456_789_012_345_678, false)));
        assert_eq!(partition_number("123/456/789/012/345"), Some((123_456_789_012_345, true)));
        assert_eq!(partition_number("000/000/042"), Some((42, false)));
        assert_eq!(partition_of("accounts/avatars/stray.png", 2), None);
    }
}
