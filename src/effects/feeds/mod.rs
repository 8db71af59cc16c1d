//! Home feeds in Redis with Mastodon's layout (`feed:home:<id>` sorted sets, reblog
//! aggregation, 800 items) and the straightforward fan-out that writes them: followers
//! in keyset batches, Mastodon's push-time filters applied set-wise in SQL, one pipeline
//! of script calls per batch. PostgreSQL stays the truth; a missing feed is rebuilt.

use serde::{Deserialize, Serialize};
use sqlx::AssertSqlSafe;
use sqlx::PgPool;

use crate::AppState;
use crate::core::error::Result;
use crate::core::pagination::Page;
use crate::core::queue;
use crate::effects::streaming;
use crate::model::statuses::{self, Status};

mod fanout;
pub mod store;

pub use fanout::distribute;

/// The feeds' jobs (Mastodon's DistributionWorker, MergeWorker, FeedInsertWorker …).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type")]
pub enum Job {
    /// Fan-out of a new or edited status to home feeds.
    Distribute {
        status_id: i64,
        update: bool,
    },
    /// The rest of a large fan-out, after follow row `after_follow_id` (lower priority).
    DistributeMore {
        status_id: i64,
        update: bool,
        after_follow_id: i64,
    },
    MergeIntoHome {
        from_account_id: i64,
        into_account_id: i64,
    },
    UnmergeFromHome {
        from_account_id: i64,
        into_account_id: i64,
    },
    ClearFromHome {
        account_id: i64,
        target_account_id: i64,
    },
    RemoveFromFeeds {
        status_id: i64,
        account_id: i64,
        reblog_of_id: Option<i64>,
    },
    RegenerateHome {
        account_id: i64,
    },
    /// After a hashtag unfollow: its statuses leave the home feed unless there for another reason.
    UnmergeTagFromHome {
        account_id: i64,
        tag_id: i64,
    },
    /// Rebuilds a list's feed after its members changed.
    RegenerateList {
        list_id: i64,
    },
    /// Drops a deleted list's feed.
    DeleteList {
        list_id: i64,
    },
    /// Daily: drop the feeds of users who have not been active (Mastodon's FeedsVacuum).
    Vacuum,
    /// An account's statuses leave (or, `include`, come back into) its local followers' home
    /// feeds: after a suspension is imposed or lifted.
    FollowersOf {
        account_id: i64,
        include: bool,
    },
}

impl queue::Job for Job {
    const FAMILY: &'static str = "Feeds";
    fn queue(&self) -> &'static str {
        match self {
            Job::Vacuum => "scheduler",
            _ => "default",
        }
    }
    /// The continuation of a huge fan-out yields to everything else.
    fn priority(&self) -> i32 {
        match self {
            Job::DistributeMore { .. } => -10,
            _ => 0,
        }
    }
    /// Feeds are a cache and cheap to redo: a few tries.
    fn max_attempts(&self) -> i32 {
        match self {
            Job::Vacuum => 1,
            _ => 5,
        }
    }
}

impl Job {
    pub async fn perform(self, state: &AppState) -> Result<()> {
        match self {
            Job::Distribute { status_id, update } => distribute(state, status_id, update, 0).await,
            Job::DistributeMore { status_id, update, after_follow_id } => {
                distribute(state, status_id, update, after_follow_id).await
            }
            Job::MergeIntoHome { from_account_id, into_account_id } => {
                merge_into_home(state, from_account_id, into_account_id).await
            }
            Job::UnmergeFromHome { from_account_id, into_account_id } => {
                unmerge_from_home(state, from_account_id, into_account_id).await
            }
            Job::ClearFromHome { account_id, target_account_id } => {
                clear_from_home(state, account_id, target_account_id).await
            }
            Job::RemoveFromFeeds { status_id, account_id, reblog_of_id } => {
                remove_status(state, status_id, account_id, reblog_of_id).await
            }
            Job::RegenerateHome { account_id } => regenerate_now(state, account_id).await,
            Job::RegenerateList { list_id } => populate_list(state, list_id).await,
            Job::DeleteList { list_id } => store::delete_of(state, store::Kind::List, &[list_id]).await.map(|_| ()),
            Job::UnmergeTagFromHome { account_id, tag_id } => unmerge_tag_from_home(state, account_id, tag_id).await,
            Job::Vacuum => vacuum(state).await.map(|_| ()),
            Job::FollowersOf { account_id, include } => {
                let followers: Vec<i64> = sqlx::query_scalar(
                    "SELECT f.account_id FROM follows f JOIN users u ON u.account_id = f.account_id
                      WHERE f.target_account_id = $1 ORDER BY f.account_id",
                )
                .bind(account_id)
                .fetch_all(&state.db.primary)
                .await?;
                for follower in followers {
                    if include {
                        merge_into_home(state, account_id, follower).await?;
                    } else {
                        clear_from_home(state, follower, account_id).await?;
                    }
                }
                Ok(())
            }
        }
    }
}

pub use store::{MAX_ITEMS, REBLOG_FALLOFF};
/// Statuses taken from one account when merging it into a feed (`MAX_ITEMS / 4`).
const MERGE_LIMIT: i64 = MAX_ITEMS / 4;
/// Statuses a regenerated feed starts with (`MAX_ITEMS / 2`).
const POPULATE_LIMIT: i64 = MAX_ITEMS / 2;
/// Receivers per Redis round trip when removing a status from feeds.
const REMOVE_BATCH: usize = 1000;

/// Pushes `status` into the home feeds of `receivers`.
pub async fn push_to_homes(state: &AppState, status: &Status, receivers: &[i64]) -> Result<()> {
    store::add(state, status.id, status.reblog_of_id, receivers).await
}

/// Removes a status from the home feeds of `receivers`.
pub async fn unpush_from_homes(
    state: &AppState,
    status_id: i64,
    reblog_of_id: Option<i64>,
    receivers: &[i64],
) -> Result<()> {
    store::remove(state, status_id, reblog_of_id, receivers).await
}

/// Mastodon's `filter_from_home` for many (status, receiver) pairs at once: returns the
/// pairs that should be pushed. `$1` status ids, `$2` receiver account ids.
const HOME_FILTER: &str = "
SELECT s.id, r.id
  FROM statuses s
 CROSS JOIN unnest($2::bigint[]) AS r(id)
  LEFT JOIN statuses o ON o.id = s.reblog_of_id
  LEFT JOIN follows f ON f.account_id = r.id AND f.target_account_id = s.account_id
 WHERE s.id = ANY($1) AND s.deleted_at IS NULL
   AND (s.account_id = r.id OR (
        NOT (s.reply AND (s.in_reply_to_id IS NULL OR s.in_reply_to_account_id IS NULL))
    AND (f.languages IS NULL OR s.language IS NULL OR s.language = ANY(f.languages))
    AND NOT (s.reblog_of_id IS NOT NULL AND o.id IS NULL)
    AND NOT EXISTS (
          SELECT 1 FROM (SELECT target_account_id AS t FROM blocks WHERE account_id = r.id
                         UNION ALL
                         SELECT target_account_id FROM mutes WHERE account_id = r.id
                            AND (expires_at IS NULL OR expires_at > now() AT TIME ZONE 'UTC')) x
           WHERE x.t = s.account_id OR x.t = o.account_id
              OR x.t IN (SELECT m.account_id FROM mentions m WHERE m.status_id IN (s.id, o.id)))
    AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = s.account_id AND b.target_account_id = r.id)
    AND (NOT s.reply OR s.in_reply_to_account_id = s.account_id OR s.in_reply_to_account_id = r.id
         OR EXISTS (SELECT 1 FROM follows f2 WHERE f2.account_id = r.id AND f2.target_account_id = s.in_reply_to_account_id))
    AND (s.reblog_of_id IS NULL OR (
             COALESCE(f.show_reblogs, true)
         AND NOT EXISTS (SELECT 1 FROM blocks b WHERE b.account_id = o.account_id AND b.target_account_id = r.id)
         AND NOT EXISTS (SELECT 1 FROM account_domain_blocks d JOIN accounts oa ON oa.id = o.account_id
                          WHERE d.account_id = r.id AND d.domain = oa.domain)))
   ))";

async fn passing_pairs(db: &PgPool, status_ids: &[i64], receivers: &[i64]) -> Result<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(HOME_FILTER).bind(status_ids).bind(receivers).fetch_all(db).await?)
}

/// Pushes the statuses that pass the home filter, oldest first (so aggregation sees
/// originals before their reblogs).
async fn push_statuses(state: &AppState, receiver: i64, status_ids: &[i64]) -> Result<()> {
    let db = &state.db.primary;
    let pairs = passing_pairs(db, status_ids, &[receiver]).await?;
    let passing: Vec<i64> = pairs.into_iter().map(|(s, _)| s).collect();
    let mut found = statuses::find_many(db, &passing).await?;
    found.sort_unstable_by_key(|s| s.id);
    for status in found {
        push_to_homes(state, &status, &[receiver]).await?;
    }
    Ok(())
}

/// On follow (or unmute): the followed account's recent statuses join the follower's feed.
pub async fn merge_into_home(state: &AppState, from_account: i64, into_account: i64) -> Result<()> {
    // Remote followers have no home feed here.
    let local: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE account_id = $1)")
        .bind(into_account)
        .fetch_one(&state.db.primary)
        .await?;
    if !local {
        return Ok(());
    }
    let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT s.id FROM statuses s WHERE s.account_id = $1 AND s.visibility IN (0, 1, 2) AND {}
          ORDER BY s.id DESC LIMIT $3",
        statuses::visible_sql("s", "$2")
    )))
    .bind(from_account)
    .bind(into_account)
    .bind(MERGE_LIMIT)
    .fetch_all(&state.db.replica)
    .await?;
    push_statuses(state, into_account, &ids).await?;
    // The feed now exists even when nothing was merged, so reading it is not a rebuild.
    store::ensure_exists(state, into_account).await
}

/// Status ids in a feed authored by (or reblogging) `account`, or mentioning it when
/// `with_mentions` (block and mute clear those too).
async fn feed_entries_involving(
    state: &AppState,
    receiver: i64,
    account: i64,
    with_mentions: bool,
) -> Result<Vec<(i64, Option<i64>)>> {
    let members: Vec<i64> = store::all(state, receiver).await?.unwrap_or_default();
    if members.is_empty() {
        return Ok(Vec::new());
    }
    Ok(sqlx::query_as(
        "SELECT s.id, s.reblog_of_id FROM statuses s LEFT JOIN statuses o ON o.id = s.reblog_of_id
          WHERE s.id = ANY($1) AND (s.account_id = $2 OR o.account_id = $2
             OR ($3 AND EXISTS (SELECT 1 FROM mentions m WHERE m.status_id IN (s.id, o.id) AND m.account_id = $2)))",
    )
    .bind(&members)
    .bind(account)
    .bind(with_mentions)
    .fetch_all(&state.db.primary)
    .await?)
}

/// On unfollow: the unfollowed account's statuses (and its reblogs) leave the feed.
pub async fn unmerge_from_home(state: &AppState, from_account: i64, into_account: i64) -> Result<()> {
    for (id, original) in feed_entries_involving(state, into_account, from_account, false).await? {
        unpush_from_homes(state, id, original, &[into_account]).await?;
    }
    Ok(())
}

/// On hashtag unfollow (Mastodon's `unmerge_tag_from_home`): statuses with the tag leave
/// the feed, except the account's own, those by accounts it follows, and those with
/// another tag it still follows.
pub async fn unmerge_tag_from_home(state: &AppState, account: i64, tag_id: i64) -> Result<()> {
    let members = store::all(state, account).await?.unwrap_or_default();
    if members.is_empty() {
        return Ok(());
    }
    let leaving: Vec<(i64, Option<i64>)> = sqlx::query_as(
        "SELECT s.id, s.reblog_of_id FROM statuses s
          WHERE s.id = ANY($1) AND s.account_id <> $2
            AND EXISTS (SELECT 1 FROM statuses_tags st WHERE st.status_id = s.id AND st.tag_id = $3)
            AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.account_id = $2 AND f.target_account_id = s.account_id)
            AND NOT EXISTS (SELECT 1 FROM statuses_tags st JOIN tag_follows tf ON tf.tag_id = st.tag_id
                             WHERE st.status_id = s.id AND tf.account_id = $2)",
    )
    .bind(&members)
    .bind(account)
    .bind(tag_id)
    .fetch_all(&state.db.primary)
    .await?;
    for (id, original) in leaving {
        unpush_from_homes(state, id, original, &[account]).await?;
    }
    Ok(())
}

/// On block or mute: statuses by, reblogging, or mentioning the target leave the feed.
pub async fn clear_from_home(state: &AppState, account: i64, target: i64) -> Result<()> {
    for (id, original) in feed_entries_involving(state, account, target, true).await? {
        unpush_from_homes(state, id, original, &[account]).await?;
    }
    Ok(())
}

/// On delete: remove from the author's and every local follower's feed. The status row is
/// already gone, so the caller passes what it was.
pub async fn remove_status(state: &AppState, status_id: i64, account_id: i64, reblog_of_id: Option<i64>) -> Result<()> {
    let mut receivers: Vec<i64> = sqlx::query_scalar(
        "SELECT f.account_id FROM follows f JOIN users u ON u.account_id = f.account_id WHERE f.target_account_id = $1",
    )
    .bind(account_id)
    .fetch_all(&state.db.primary)
    .await?;
    receivers.push(account_id);
    for chunk in receivers.chunks(REMOVE_BATCH) {
        unpush_from_homes(state, status_id, reblog_of_id, chunk).await?;
    }
    let lists: Vec<i64> = sqlx::query_scalar("SELECT list_id FROM list_accounts WHERE account_id = $1")
        .bind(account_id)
        .fetch_all(&state.db.primary)
        .await?;
    store::remove_from_lists(state, status_id, reblog_of_id, &lists).await?;
    streaming::status_removed_from_feeds(state, status_id, &receivers, &lists).await
}

/// Rebuilds a home feed from PostgreSQL: the account's own and followed accounts'
/// recent statuses, through the same filters as fan-out.
pub async fn populate_home(state: &AppState, account_id: i64) -> Result<()> {
    let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT s.id FROM statuses s
          WHERE (s.account_id = $1 OR s.account_id IN (SELECT target_account_id FROM follows WHERE account_id = $1))
            AND (s.visibility IN (0, 1, 2) OR s.account_id = $1
                 OR EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = s.id AND m.account_id = $1))
            AND {}
          ORDER BY s.id DESC LIMIT $2",
        statuses::visible_sql("s", "$1")
    )))
    .bind(account_id)
    .bind(POPULATE_LIMIT)
    .fetch_all(&state.db.replica)
    .await?;
    // Starting from nothing also converts a feed left in the other layout.
    store::delete(state, &[account_id]).await?;
    push_statuses(state, account_id, &ids).await?;
    store::ensure_exists(state, account_id).await
}

/// Regeneration markers, as Mastodon's AsyncRefresh: `account:<id>:regeneration` is a hash
/// whose `status` is `running` (kept a day at most) or `finished` (kept an hour).
fn regeneration_key(state: &AppState, account_id: i64) -> String {
    state.redis.key(format!("account:{account_id}:regeneration"))
}

/// Starts rebuilding a home feed in the background, unless that is already under way.
pub async fn regenerate(state: &AppState, account_id: i64) -> Result<()> {
    let key = regeneration_key(state, account_id);
    let mut conn = state.redis.conn().await?;
    let status: Option<String> = redis::cmd("HGET").arg(&key).arg("status").query_async(&mut conn).await?;
    if status.as_deref() == Some("running") {
        return Ok(());
    }
    let _: () = redis::pipe()
        .hset(&key, "status", "running")
        .ignore()
        .expire(&key, 86_400)
        .ignore()
        .query_async(&mut conn)
        .await?;
    queue::enqueue(&state.db.primary, &Job::RegenerateHome { account_id }).await
}

/// The background job: rebuilds the feed, then marks the regeneration finished.
pub async fn regenerate_now(state: &AppState, account_id: i64) -> Result<()> {
    populate_home(state, account_id).await?;
    let key = regeneration_key(state, account_id);
    let mut conn = state.redis.conn().await?;
    let _: () = redis::pipe()
        .hset(&key, "status", "finished")
        .ignore()
        .expire(&key, 3600)
        .ignore()
        .query_async(&mut conn)
        .await?;
    Ok(())
}

/// Whether the home feed is being rebuilt (then the home endpoint answers 206).
pub async fn regenerating(state: &AppState, account_id: i64) -> Result<bool> {
    let mut conn = state.redis.conn().await?;
    let status: Option<String> =
        redis::cmd("HGET").arg(regeneration_key(state, account_id)).arg("status").query_async(&mut conn).await?;
    Ok(status.as_deref() == Some("running"))
}

/// A page of a home feed: status ids, newest first, and whether the feed is being rebuilt
/// meanwhile. A feed that is missing (never built, vacuumed, or Redis flushed) is rebuilt
/// from PostgreSQL in the background. Rendering re-checks visibility
/// (`statuses::hydrate::load`) and drops what the owner may no longer see.
pub async fn read_home(state: &AppState, account_id: i64, page: &Page) -> Result<(Vec<i64>, bool)> {
    let (ids, status) =
        store::home_page_and_field(state, account_id, page, &regeneration_key(state, account_id), "status").await?;
    if let Some(ids) = ids {
        return Ok((ids, status.as_deref() == Some("running")));
    }
    // Rebuilt within the hour and still empty (a sorted set cannot exist empty): nothing to show.
    if status.as_deref() == Some("finished") {
        return Ok((Vec::new(), false));
    }
    // A new account that follows nobody and has not posted has nothing to rebuild.
    let has_sources: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM follows WHERE account_id = $1) OR EXISTS (SELECT 1 FROM statuses WHERE account_id = $1)",
    )
    .bind(account_id)
    .fetch_one(&state.db.replica)
    .await?;
    if !has_sources {
        store::ensure_exists(state, account_id).await?;
        return Ok((Vec::new(), false));
    }
    regenerate(state, account_id).await?;
    Ok((Vec::new(), true))
}

/// Rebuilds a list's feed from PostgreSQL: its members' recent statuses that the owner's
/// home filters and the list's replies policy let through.
pub async fn populate_list(state: &AppState, list_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let list: Option<(i64, i32)> = sqlx::query_as("SELECT account_id, replies_policy FROM lists WHERE id = $1")
        .bind(list_id)
        .fetch_optional(db)
        .await?;
    let Some((owner, policy)) = list else { return Ok(()) };
    let ids: Vec<i64> = sqlx::query_scalar(AssertSqlSafe(format!(
        "SELECT s.id FROM statuses s
          WHERE s.account_id IN (SELECT account_id FROM list_accounts WHERE list_id = $1)
            AND s.visibility IN (0, 1, 2) AND {}
            AND (NOT s.reply OR s.in_reply_to_account_id = s.account_id
                 OR ($3 = 0 AND s.in_reply_to_account_id IN (SELECT account_id FROM list_accounts WHERE list_id = $1))
                 OR ($3 = 1 AND (s.in_reply_to_account_id = $2 OR EXISTS (
                        SELECT 1 FROM follows r WHERE r.account_id = $2 AND r.target_account_id = s.in_reply_to_account_id))))
          ORDER BY s.id DESC LIMIT $4",
        statuses::visible_sql("s", "$2")
    )))
    .bind(list_id)
    .bind(owner)
    .bind(policy)
    .bind(POPULATE_LIMIT)
    .fetch_all(&state.db.replica)
    .await?;
    let passing: Vec<i64> = passing_pairs(db, &ids, &[owner]).await?.into_iter().map(|(s, _)| s).collect();
    let mut found = statuses::find_many(db, &passing).await?;
    found.sort_unstable_by_key(|s| s.id);
    store::delete_of(state, store::Kind::List, &[list_id]).await?;
    for status in found {
        store::add_to_lists(state, status.id, status.reblog_of_id, &[list_id]).await?;
    }
    store::ensure_exists_of(state, store::Kind::List, list_id).await
}

/// A page of one of the owner's lists (404 for anyone else's); built on first read.
pub async fn read_list(state: &AppState, owner: i64, list_id: i64, page: &Page) -> Result<Vec<i64>> {
    crate::model::lists::get(&state.db.primary, owner, list_id).await?;
    if let Some(ids) = store::page_of(state, store::Kind::List, list_id, page).await? {
        return Ok(ids);
    }
    populate_list(state, list_id).await?;
    Ok(store::page_of(state, store::Kind::List, list_id, page).await?.unwrap_or_default())
}

/// Drops the home feeds of users who have not signed in within the active window
/// (Mastodon's daily FeedsVacuum); they are rebuilt when the user comes back.
pub async fn vacuum(state: &AppState) -> Result<u64> {
    let inactive: Vec<i64> = sqlx::query_scalar(
        "SELECT account_id FROM users
          WHERE current_sign_in_at IS NULL
             OR current_sign_in_at < (now() AT TIME ZONE 'UTC') - make_interval(days => $1::int)",
    )
    .bind(state.config.user_active_days as i32)
    .fetch_all(&state.db.replica)
    .await?;
    store::delete(state, &inactive).await
}

/// Deletes every feed key (for `ferrodon ctl feeds clear`).
pub async fn clear_all(state: &AppState) -> Result<u64> {
    let mut deleted = 0;
    for pattern in [state.redis.key("feed:*"), state.redis.key("cfeed:*")] {
        deleted += state.redis.delete_matching(&pattern).await?;
    }
    Ok(deleted)
}
