//! The hot path: a status written into the home feeds of every active local follower.
//!
//! Mastodon runs one job per follower with several filter queries each. Here the
//! filters are applied to sets: what can exclude a receiver regardless of the follow
//! (blocks and mutes of the author or of accounts the status mentions or reblogs, the
//! author blocking them, domain blocks, exclusive lists) is read once per status into a
//! set; what depends on the follow row (languages, `show_reblogs`, replies to accounts
//! the receiver does not follow) is part of the keyset query that reads followers in
//! batches. Each batch is then one Redis round trip.

use std::collections::HashSet;

use sqlx::PgPool;

use super::Job;
use super::{push_to_homes, store};
use crate::AppState;
use crate::core::error::Result;
use crate::core::queue;
use crate::domain::notifications;
use crate::effects::streaming;
use crate::model::notifications::NotificationType;
use crate::model::statuses::{self, Status, Visibility};

/// Followers read (and feeds written) per round trip.
const BATCH: i64 = 1000;

/// Batches of followers read ahead of the Redis writes.
const READ_AHEAD: usize = 2;

/// What one status's fan-out needs to know, computed once.
struct Audience {
    /// Receivers Mastodon's `filter_from_home` rejects whatever their follow says.
    excluded: HashSet<i64>,
    /// Receivers who list the author in an exclusive list: not in home (lists still get it).
    exclusive_list_owners: HashSet<i64>,
    /// A reply to someone else reaches only followers of that someone (or them).
    reply_target: Option<i64>,
    is_reblog: bool,
    /// Mastodon filters replies without a parent and reblogs without an original for everyone.
    nobody: bool,
    /// An original nobody has reblogged yet: no feed's reblog index can name it.
    fresh: bool,
    /// Direct (and limited) statuses reach only the followers they mention.
    mentioned_only: bool,
}

async fn audience(db: &PgPool, status: &Status) -> Result<Audience> {
    let original = match status.reblog_of_id {
        Some(id) => statuses::find_many(db, &[id]).await?.into_iter().next(),
        None => None,
    };
    let nobody = (status.reply && (status.in_reply_to_id.is_none() || status.in_reply_to_account_id.is_none()))
        || (status.reblog_of_id.is_some() && original.is_none());
    let shown: Vec<i64> = std::iter::once(status.id).chain(original.as_ref().map(|o| o.id)).collect();
    let excluded: Vec<i64> = sqlx::query_scalar(
        "WITH targets AS (
            SELECT $1::bigint AS id UNION SELECT $2::bigint WHERE $2 IS NOT NULL
            UNION SELECT account_id FROM mentions WHERE status_id = ANY($3))
         SELECT account_id FROM blocks WHERE target_account_id IN (SELECT id FROM targets)
         UNION SELECT account_id FROM mutes WHERE target_account_id IN (SELECT id FROM targets)
                AND (expires_at IS NULL OR expires_at > now() AT TIME ZONE 'UTC')
         UNION SELECT target_account_id FROM blocks WHERE account_id = $1
         UNION SELECT target_account_id FROM blocks WHERE $4 AND account_id = $2
         UNION SELECT d.account_id FROM account_domain_blocks d JOIN accounts a ON a.domain = d.domain
                WHERE $4 AND a.id = $2",
    )
    .bind(status.account_id)
    .bind(original.as_ref().map(|o| o.account_id))
    .bind(&shown)
    .bind(original.is_some())
    .fetch_all(db)
    .await?;
    let reply_to_other = status.reply && status.in_reply_to_account_id != Some(status.account_id);
    let reblogged: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM statuses WHERE reblog_of_id = $1)")
        .bind(status.id)
        .fetch_one(db)
        .await?;
    // Home only: the author is in one of the receiver's exclusive lists.
    let exclusive: Vec<i64> = sqlx::query_scalar(
        "SELECT l.account_id FROM list_accounts la JOIN lists l ON l.id = la.list_id WHERE la.account_id = $1 AND l.exclusive",
    )
    .bind(status.account_id)
    .fetch_all(db)
    .await?;
    Ok(Audience {
        exclusive_list_owners: exclusive.into_iter().collect(),
        mentioned_only: status.visibility() >= Visibility::Direct,
        fresh: status.reblog_of_id.is_none() && !reblogged,
        excluded: excluded.into_iter().collect(),
        reply_target: if reply_to_other { status.in_reply_to_account_id } else { None },
        is_reblog: status.reblog_of_id.is_some(),
        nobody,
    })
}

/// The next `limit` active followers after follow row `after`, with whether the
/// follow-dependent filters (languages, `show_reblogs`, replies) let the status through.
async fn followers_after(
    state: &AppState,
    status: &Status,
    audience: &Audience,
    after: i64,
    limit: i64,
) -> Result<Vec<Follower>> {
    Ok(sqlx::query_as(
        "SELECT f.id AS follow_id, f.account_id, f.notify,
                (f.languages IS NULL OR $7::text IS NULL OR $7 = ANY(f.languages))
                AND (NOT $8 OR f.show_reblogs)
                AND ($9::bigint IS NULL OR f.account_id = $9
                     OR EXISTS (SELECT 1 FROM follows r WHERE r.account_id = f.account_id AND r.target_account_id = $9))
                AS passes
           FROM follows f JOIN users u ON u.account_id = f.account_id
          WHERE f.target_account_id = $1 AND f.id > $2 AND NOT u.disabled
            AND u.current_sign_in_at >= (now() AT TIME ZONE 'UTC') - make_interval(days => $3::int)
            AND (NOT $4 OR EXISTS (SELECT 1 FROM mentions m WHERE m.status_id = $5 AND m.account_id = f.account_id))
          ORDER BY f.id LIMIT $6",
    )
    .bind(status.account_id)
    .bind(after)
    .bind(state.config.user_active_days as i32)
    .bind(audience.mentioned_only)
    .bind(status.id)
    .bind(limit)
    .bind(&status.language)
    .bind(audience.is_reblog)
    .bind(audience.reply_target)
    .fetch_all(&state.db.replica)
    .await?)
}

/// Mastodon's `push_to_list` for every list containing the author whose owner is active:
/// the home filters for the owner, then the list's replies policy (`list`: replies to
/// members only, `followed`: to accounts the owner follows, `none`: no replies to others).
async fn to_lists(state: &AppState, status: &Status, audience: &Audience, update: bool) -> Result<()> {
    let lists: Vec<(i64, i64)> = sqlx::query_as(
        "SELECT l.id, l.account_id FROM list_accounts la
           JOIN lists l ON l.id = la.list_id
           JOIN users u ON u.account_id = l.account_id
           LEFT JOIN follows f ON f.account_id = l.account_id AND f.target_account_id = $1
          WHERE la.account_id = $1 AND NOT u.disabled
            AND u.current_sign_in_at >= (now() AT TIME ZONE 'UTC') - make_interval(days => $2::int)
            AND (f.languages IS NULL OR $3::text IS NULL OR $3 = ANY(f.languages))
            AND (NOT $4 OR COALESCE(f.show_reblogs, true))
            AND ($5::bigint IS NULL
                 OR (l.replies_policy = 0 AND EXISTS (SELECT 1 FROM list_accounts m WHERE m.list_id = l.id AND m.account_id = $5))
                 OR (l.replies_policy = 1 AND (l.account_id = $5 OR EXISTS (
                        SELECT 1 FROM follows r WHERE r.account_id = l.account_id AND r.target_account_id = $5))))",
    )
    .bind(status.account_id)
    .bind(state.config.user_active_days as i32)
    .bind(&status.language)
    .bind(audience.is_reblog)
    .bind(audience.reply_target)
    .fetch_all(&state.db.replica)
    .await?;
    let lists: Vec<i64> =
        lists.into_iter().filter(|(_, owner)| !audience.excluded.contains(owner)).map(|(id, _)| id).collect();
    store::add_to_lists(state, status.id, status.reblog_of_id, &lists).await?;
    streaming::status_to_lists(state, status, &lists, update).await
}

/// Public originals reach the home feeds of active local accounts following one of their
/// hashtags (Mastodon's `:tags` feed inserts, with `filter_from_tags?`).
async fn to_tag_followers(state: &AppState, status: &Status, audience: &Audience, update: bool) -> Result<()> {
    if status.visibility() != Visibility::Public || audience.is_reblog {
        return Ok(());
    }
    let followers: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT tf.account_id FROM statuses_tags st
           JOIN tag_follows tf ON tf.tag_id = st.tag_id
           JOIN users u ON u.account_id = tf.account_id
           JOIN accounts author ON author.id = $2
          WHERE st.status_id = $1 AND tf.account_id <> $2 AND NOT u.disabled AND author.silenced_at IS NULL
            AND u.current_sign_in_at >= (now() AT TIME ZONE 'UTC') - make_interval(days => $3::int)",
    )
    .bind(status.id)
    .bind(status.account_id)
    .bind(state.config.user_active_days as i32)
    .fetch_all(&state.db.replica)
    .await?;
    let receivers: Vec<i64> = followers.into_iter().filter(|r| !audience.excluded.contains(r)).collect();
    store::add_for_fanout(state, status.id, status.reblog_of_id, &receivers, audience.fresh).await?;
    let listening = streaming::listening_among(state, &receivers).await?;
    streaming::status_to_listeners(state, status, &listening, update).await
}

#[derive(sqlx::FromRow)]
struct Follower {
    follow_id: i64,
    account_id: i64,
    notify: bool,
    /// Whether the follow-dependent filters let the status through.
    passes: bool,
}

/// Fan-out on write: the author's own feed and every active local follower's feed
/// (only mentioned followers for direct statuses). Followers who asked to be notified
/// (`follows.notify`) get a `status` notification for new original posts.
///
/// A large audience is written `fanout_chunk` followers per job: the job ends by queueing
/// the rest at a lower priority, so ordinary posts queued meanwhile are delivered first
/// instead of waiting behind a celebrity's millions of followers.
pub async fn distribute(state: &AppState, status_id: i64, update: bool, after_follow_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let Some(status) = statuses::find_many(db, &[status_id]).await?.into_iter().next() else { return Ok(()) };
    if after_follow_id == 0 {
        let author_local: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM users WHERE account_id = $1)")
            .bind(status.account_id)
            .fetch_one(db)
            .await?;
        if author_local {
            push_to_homes(state, &status, &[status.account_id]).await?;
            streaming::status_to_homes(state, &status, &[status.account_id], update).await?;
        }
        streaming::status_to_public(state, &status, update).await?;
    }
    let audience = audience(&state.db.replica, &status).await?;
    if audience.nobody {
        return Ok(());
    }
    if after_follow_id == 0 && !audience.mentioned_only {
        to_lists(state, &status, &audience, update).await?;
        to_tag_followers(state, &status, &audience, update).await?;
    }
    let notifies_followers = !audience.is_reblog && audience.reply_target.is_none();
    let batch_size = BATCH.min(state.config.fanout_chunk);
    let chunk = state.config.fanout_chunk;
    // PostgreSQL reads batches of followers while Redis writes the ones read before, each
    // at its own pace: waiting for both at every batch left a third of the CPU idle.
    let (batches, read_batches) = tokio::sync::mpsc::channel::<Vec<Follower>>(READ_AHEAD);
    let (status, audience) = (&status, &audience);
    let read = async move {
        let (mut after, mut read) = (after_follow_id, 0);
        loop {
            let batch = followers_after(state, status, audience, after, batch_size).await?;
            let Some(last) = batch.last() else { return Ok(None) };
            after = last.follow_id;
            read += batch.len() as i64;
            let full = batch.len() as i64 == batch_size;
            if batches.send(batch).await.is_err() || !full {
                return Ok(None);
            }
            if read >= chunk {
                // The rest is another job's, queued behind ordinary posts.
                return Ok(Some(after));
            }
        }
    };
    // Two writers, so Redis runs one batch's script while the next one is being built.
    let read_batches = tokio::sync::Mutex::new(read_batches);
    let write = || async {
        loop {
            let next = read_batches.lock().await.recv().await;
            let Some(batch) = next else { return Ok::<_, crate::Error>(()) };
            write_batch(state, status, audience, batch, notifies_followers && !update, update).await?;
        }
    };
    let (rest, (), ()) = tokio::try_join!(read, write(), write())?;
    match rest {
        Some(after_follow_id) => queue::enqueue(db, &Job::DistributeMore { status_id, update, after_follow_id }).await,
        None => Ok(()),
    }
}

/// One batch of followers: their feeds, their open streams, their notifications.
async fn write_batch(
    state: &AppState,
    status: &Status,
    audience: &Audience,
    batch: Vec<Follower>,
    notify: bool,
    update: bool,
) -> Result<()> {
    let receivers: Vec<&Follower> = batch
        .iter()
        .filter(|f| {
            f.passes
                && !audience.excluded.contains(&f.account_id)
                && !audience.exclusive_list_owners.contains(&f.account_id)
        })
        .collect();
    let ids: Vec<i64> = receivers.iter().map(|f| f.account_id).collect();
    let (stored, listening) = tokio::join!(
        store::add_for_fanout(state, status.id, status.reblog_of_id, &ids, audience.fresh),
        streaming::listening_among(state, &ids),
    );
    stored?;
    streaming::status_to_listeners(state, status, &listening?, update).await?;
    if notify {
        let mut tx = state.db.primary.begin().await?;
        for follower in receivers.iter().filter(|f| f.notify) {
            notifications::notify(&mut tx, follower.account_id, status.account_id, NotificationType::Status, status.id)
                .await?;
        }
        tx.commit().await?;
    }
    Ok(())
}
