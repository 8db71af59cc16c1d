//! The Redis side of home feeds, in either layout: ferrodon's compact strings
//! (`cfeed:home:<id>`, see compact.lua) or Mastodon's sorted sets (`feed:home:<id>`, see
//! add.lua and remove.lua). Everything above this module is layout-agnostic.

use std::sync::LazyLock;

use redis::Script;

use crate::AppState;
use crate::core::config::FeedEncoding;
use crate::core::error::Result;
use crate::core::pagination::Page;

pub const MAX_ITEMS: i64 = 800;
pub const REBLOG_FALLOFF: i64 = 80;
/// The compact layout's header: capacity, count, newest id (see compact.lua).
const COMPACT_HEADER: usize = 16;
/// Feeds written per script call / pipeline.
const BATCH: usize = 1000;

static COMPACT: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("compact.lua")));
static ZSET_ADD: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("add.lua")));
static ZSET_REMOVE: LazyLock<Script> = LazyLock::new(|| Script::new(include_str!("remove.lua")));

/// Home feeds belong to accounts, list feeds to lists (Mastodon's `feed:home:<account>`
/// and `feed:list:<list>`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Home,
    List,
}

impl Kind {
    fn name(self) -> &'static str {
        match self {
            Kind::Home => "home",
            Kind::List => "list",
        }
    }
}

/// The home feed key of an account and its reblog index key.
pub fn keys(state: &AppState, account_id: i64) -> (String, String) {
    keys_of(state, Kind::Home, account_id)
}

/// The key of a home or list feed and of its reblog index.
pub fn keys_of(state: &AppState, kind: Kind, id: i64) -> (String, String) {
    let kind = kind.name();
    let feed = match state.config.feed_encoding {
        FeedEncoding::Compact => state.redis.key(format!("cfeed:{kind}:{id}")),
        FeedEncoding::SortedSet => state.redis.key(format!("feed:{kind}:{id}")),
    };
    let index = match state.config.feed_encoding {
        FeedEncoding::Compact => format!("{feed}:r"),
        FeedEncoding::SortedSet => format!("{feed}:reblogs"),
    };
    (feed, index)
}

#[derive(Clone, Copy)]
enum Op {
    Add { fresh: bool },
    Remove,
}

/// Writes one status into (or out of) many feeds of one kind.
async fn write(
    state: &AppState,
    kind: Kind,
    op: Op,
    status_id: i64,
    reblog_of_id: Option<i64>,
    receivers: &[i64],
) -> Result<()> {
    if receivers.is_empty() {
        return Ok(());
    }
    let mut conn = state.redis.conn().await?;
    match state.config.feed_encoding {
        FeedEncoding::Compact => {
            let original = reblog_of_id.map(|o| o.to_be_bytes().to_vec()).unwrap_or_default();
            let (op_name, fresh) = match op {
                Op::Add { fresh } => ("add", fresh),
                Op::Remove => ("remove", false),
            };
            let mut pipe = redis::pipe();
            pipe.load_script(&COMPACT).ignore();
            for chunk in receivers.chunks(BATCH) {
                let mut call = COMPACT.prepare_invoke();
                for receiver in chunk {
                    call.key(keys_of(state, kind, *receiver).0);
                }
                call.arg(op_name)
                    .arg(&status_id.to_be_bytes()[..])
                    .arg(&original[..])
                    .arg(reblog_of_id.map(|o| o.to_string()).unwrap_or_default())
                    .arg(status_id.to_string())
                    .arg(if fresh { "1" } else { "0" });
                pipe.invoke_script(&call).ignore();
            }
            let _: () = pipe.query_async(&mut conn).await?;
        }
        FeedEncoding::SortedSet => {
            let script = match op {
                Op::Add { .. } => &*ZSET_ADD,
                Op::Remove => &*ZSET_REMOVE,
            };
            let original = reblog_of_id.map(|id| id.to_string()).unwrap_or_default();
            for chunk in receivers.chunks(BATCH) {
                let mut pipe = redis::pipe();
                pipe.load_script(script).ignore();
                for receiver in chunk {
                    let (feed, index) = keys_of(state, kind, *receiver);
                    let mut call = script.key(feed);
                    call.key(index).arg(status_id).arg(&original);
                    if let Op::Add { .. } = op {
                        call.arg(MAX_ITEMS).arg(REBLOG_FALLOFF);
                    }
                    pipe.invoke_script(&call).ignore();
                }
                let _: () = pipe.query_async(&mut conn).await?;
            }
        }
    }
    Ok(())
}

/// Adds a status to the home feeds of `receivers` (with reblog aggregation and trimming).
pub async fn add(state: &AppState, status_id: i64, reblog_of_id: Option<i64>, receivers: &[i64]) -> Result<()> {
    write(state, Kind::Home, Op::Add { fresh: false }, status_id, reblog_of_id, receivers).await
}

/// The fan-out's add: `fresh` says nothing has reblogged the status yet (so no reblog index
/// can name it, and the check is skipped).
pub async fn add_for_fanout(
    state: &AppState,
    status_id: i64,
    reblog_of_id: Option<i64>,
    receivers: &[i64],
    fresh: bool,
) -> Result<()> {
    write(state, Kind::Home, Op::Add { fresh }, status_id, reblog_of_id, receivers).await
}

pub async fn remove(state: &AppState, status_id: i64, reblog_of_id: Option<i64>, receivers: &[i64]) -> Result<()> {
    write(state, Kind::Home, Op::Remove, status_id, reblog_of_id, receivers).await
}

/// Adds a status to list feeds (`lists` are list ids).
pub async fn add_to_lists(state: &AppState, status_id: i64, reblog_of_id: Option<i64>, lists: &[i64]) -> Result<()> {
    write(state, Kind::List, Op::Add { fresh: false }, status_id, reblog_of_id, lists).await
}

pub async fn remove_from_lists(
    state: &AppState,
    status_id: i64,
    reblog_of_id: Option<i64>,
    lists: &[i64],
) -> Result<()> {
    write(state, Kind::List, Op::Remove, status_id, reblog_of_id, lists).await
}

/// Moves a home feed kept in Mastodon's sorted-set layout (`feed:home:<id>`, as an
/// adopted Mastodon instance left it) into the compact layout, entry for entry, with its
/// reblog aggregation: the shown reblog of each original (exact ids from PostgreSQL, as
/// sorted-set scores are rounded doubles) and the reblogs it suppressed. The sorted-set
/// keys are deleted. False when feeds are kept as sorted sets or there is none to convert.
pub async fn convert_from_sorted_set(state: &AppState, account_id: i64) -> Result<bool> {
    if state.config.feed_encoding != FeedEncoding::Compact {
        return Ok(false);
    }
    let sorted = state.redis.key(format!("feed:home:{account_id}"));
    let sorted_reblogs = format!("{sorted}:reblogs");
    let mut conn = state.redis.conn().await?;
    let (mut ids, originals): (Vec<i64>, Vec<i64>) =
        redis::pipe().zrange(&sorted, 0, -1).zrange(&sorted_reblogs, 0, -1).query_async(&mut conn).await?;
    if ids.is_empty() {
        return Ok(false);
    }
    ids.sort_unstable();
    ids.dedup();
    let ids = ids.split_off(ids.len().saturating_sub(MAX_ITEMS as usize));
    let shown: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT reblog_of_id, id FROM statuses WHERE id = ANY($1) AND reblog_of_id = ANY($2) ORDER BY id",
    )
    .bind(&ids)
    .bind(&originals)
    .fetch_all(&state.db.replica)
    .await?;
    let mut suppressed: Vec<Vec<i64>> = Vec::new();
    if !shown.is_empty() {
        let mut reads = redis::pipe();
        for (original, _) in &shown {
            reads.smembers(format!("{sorted_reblogs}:{original}"));
        }
        suppressed = reads.query_async(&mut conn).await?;
    }

    let (feed, index) = keys(state, account_id);
    let slots: Vec<u8> = ids.iter().flat_map(|id| id.to_be_bytes()).collect();
    let mut replace = COMPACT.prepare_invoke();
    replace.key(&feed).arg("replace").arg(slots);
    let mut pipe = redis::pipe();
    pipe.atomic().load_script(&COMPACT).ignore().del(&[&feed, &index]).ignore().invoke_script(&replace).ignore();
    for ((original, reblog), hidden) in shown.iter().zip(&suppressed) {
        pipe.hset(&index, &original.to_be_bytes()[..], &reblog.to_be_bytes()[..]).ignore();
        let set = format!("{index}:{original}");
        pipe.del(&set).ignore();
        for id in hidden {
            pipe.sadd(&set, &id.to_be_bytes()[..]).ignore();
        }
    }
    let old: Vec<String> = std::iter::once(sorted.clone())
        .chain(std::iter::once(sorted_reblogs.clone()))
        .chain(originals.iter().map(|o| format!("{sorted_reblogs}:{o}")))
        .collect();
    pipe.del(old).ignore();
    let _: () = pipe.query_async(&mut conn).await?;
    Ok(true)
}

/// Decodes a compact feed: ids newest first, at most MAX_ITEMS.
pub fn decode_compact(bytes: &[u8]) -> Vec<i64> {
    let Some(header) = bytes.get(0..COMPACT_HEADER) else { return Vec::new() };
    let count = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
    let slots = bytes.get(COMPACT_HEADER..COMPACT_HEADER + count * 8).unwrap_or(&[]);
    slots
        .chunks_exact(8)
        .rev()
        .take(MAX_ITEMS as usize)
        .map(|c| i64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]))
        .collect()
}

/// Every id in a feed, newest first (None when the feed does not exist).
pub async fn all(state: &AppState, account_id: i64) -> Result<Option<Vec<i64>>> {
    all_of(state, Kind::Home, account_id).await
}

pub async fn all_of(state: &AppState, kind: Kind, id: i64) -> Result<Option<Vec<i64>>> {
    let (feed, _) = keys_of(state, kind, id);
    let mut conn = state.redis.conn().await?;
    match state.config.feed_encoding {
        FeedEncoding::Compact => {
            let bytes: Option<Vec<u8>> = redis::cmd("GET").arg(&feed).query_async(&mut conn).await?;
            Ok(bytes.map(|b| decode_compact(&b)))
        }
        FeedEncoding::SortedSet => {
            let exists: bool = redis::cmd("EXISTS").arg(&feed).query_async(&mut conn).await?;
            if !exists {
                return Ok(None);
            }
            let ids: Vec<i64> =
                redis::cmd("ZREVRANGE").arg(&feed).arg(0).arg(MAX_ITEMS - 1).query_async(&mut conn).await?;
            Ok(Some(ids))
        }
    }
}

/// One page of a feed (Mastodon's `Feed#get`): newest first, or the oldest ones newer
/// than `min_id` when given. None when the feed does not exist.
pub async fn page_of(state: &AppState, kind: Kind, id: i64, page: &Page) -> Result<Option<Vec<i64>>> {
    Ok(page_and_field(state, kind, id, page, None).await?.0)
}

/// A page of a home feed, and the `field` of hash `key` read in the same round trip (the
/// feed's rebuild status: one Redis round trip per home timeline request).
pub async fn home_page_and_field(
    state: &AppState,
    account_id: i64,
    page: &Page,
    key: &str,
    field: &str,
) -> Result<(Option<Vec<i64>>, Option<String>)> {
    page_and_field(state, Kind::Home, account_id, page, Some((key, field))).await
}

async fn page_and_field(
    state: &AppState,
    kind: Kind,
    id: i64,
    page: &Page,
    field: Option<(&str, &str)>,
) -> Result<(Option<Vec<i64>>, Option<String>)> {
    let (feed, _) = keys_of(state, kind, id);
    let mut pipe = redis::pipe();
    match state.config.feed_encoding {
        FeedEncoding::Compact => {
            pipe.cmd("GET").arg(&feed);
        }
        FeedEncoding::SortedSet => {
            pipe.cmd("EXISTS").arg(&feed);
            pipe.add_command(sorted_set_range(&feed, page));
        }
    }
    if let Some((key, field)) = field {
        pipe.cmd("HGET").arg(key).arg(field);
    }
    let mut conn = state.redis.conn().await?;
    let mut replies = pipe.query_async::<Vec<redis::Value>>(&mut conn).await?.into_iter();
    let mut next = || replies.next().unwrap_or(redis::Value::Nil);
    let ids = match state.config.feed_encoding {
        FeedEncoding::Compact => {
            let bytes: Option<Vec<u8>> = parse(next())?;
            bytes.map(|b| select_page(decode_compact(&b), page))
        }
        FeedEncoding::SortedSet => {
            let exists: bool = parse(next())?;
            let mut ids: Vec<i64> = parse(next())?;
            ids.sort_unstable_by(|a, b| b.cmp(a));
            exists.then_some(ids)
        }
    };
    let value = if field.is_some() { parse(next())? } else { None };
    Ok((ids, value))
}

fn parse<T: redis::FromRedisValue>(value: redis::Value) -> Result<T> {
    Ok(redis::from_redis_value(value).map_err(redis::RedisError::from)?)
}

/// The ids of a page among all of a feed's ids (newest first), as `sorted_set_range`
/// selects them in Mastodon's layout.
fn select_page(ids: Vec<i64>, page: &Page) -> Vec<i64> {
    let within = |id: &i64| {
        page.max_id.is_none_or(|m| *id < m)
            && page.since_id.is_none_or(|s| *id > s)
            && page.min_id.is_none_or(|m| *id > m)
    };
    let limit = page.limit.max(0) as usize;
    if page.min_id.is_some() {
        let mut oldest_first: Vec<i64> = ids.into_iter().rev().filter(within).take(limit).collect();
        oldest_first.reverse();
        oldest_first
    } else {
        ids.into_iter().filter(within).take(limit).collect()
    }
}

/// The sorted-set range command for a page: scores are status ids.
fn sorted_set_range(feed: &str, page: &Page) -> redis::Cmd {
    let open = |id: Option<i64>, inf: &str| id.map(|i| format!("({i}")).unwrap_or_else(|| inf.to_string());
    let mut cmd = match page.min_id {
        Some(min) => {
            let mut cmd = redis::cmd("ZRANGEBYSCORE");
            cmd.arg(feed).arg(format!("({min}")).arg(open(page.max_id, "+inf"));
            cmd
        }
        None => {
            let mut cmd = redis::cmd("ZREVRANGEBYSCORE");
            cmd.arg(feed).arg(open(page.max_id, "+inf")).arg(open(page.since_id, "-inf"));
            cmd
        }
    };
    cmd.arg("LIMIT").arg(0).arg(page.limit);
    cmd
}

/// Marks a compact feed as built even when it holds nothing, so an empty home does not
/// trigger a rebuild on every read. (A sorted set cannot exist empty; Mastodon's layout
/// rebuilds such feeds when read.)
pub async fn ensure_exists(state: &AppState, account_id: i64) -> Result<()> {
    ensure_exists_of(state, Kind::Home, account_id).await
}

pub async fn ensure_exists_of(state: &AppState, kind: Kind, id: i64) -> Result<()> {
    if state.config.feed_encoding == FeedEncoding::Compact {
        let (feed, _) = keys_of(state, kind, id);
        let mut empty = vec![0u8; COMPACT_HEADER + 16 * 8];
        empty[3] = 16; // capacity: the smallest tier
        let mut conn = state.redis.conn().await?;
        let _: Option<String> = redis::cmd("SET").arg(&feed).arg(empty).arg("NX").query_async(&mut conn).await?;
    }
    Ok(())
}

/// Deletes the feeds of `accounts` in both layouts (their reblog indexes included);
/// returns how many feeds existed.
pub async fn delete(state: &AppState, accounts: &[i64]) -> Result<u64> {
    delete_of(state, Kind::Home, accounts).await
}

pub async fn delete_of(state: &AppState, kind: Kind, ids: &[i64]) -> Result<u64> {
    let kind = kind.name();
    let mut conn = state.redis.conn().await?;
    let mut removed = 0;
    for chunk in ids.chunks(BATCH) {
        let mut pipe = redis::pipe();
        for id in chunk {
            let compact = state.redis.key(format!("cfeed:{kind}:{id}"));
            let sorted = state.redis.key(format!("feed:{kind}:{id}"));
            pipe.del(&[compact.clone(), sorted.clone()]).del(&[format!("{compact}:r"), format!("{sorted}:reblogs")]);
        }
        let deleted: Vec<u64> = pipe.query_async(&mut conn).await?;
        removed += deleted.iter().step_by(2).sum::<u64>();
    }
    Ok(removed)
}
