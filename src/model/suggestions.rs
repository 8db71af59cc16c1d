//! Accounts to suggest following, from Mastodon's sources: those the admin features
//! (`bootstrap_timeline_accounts`), those the people one follows follow, and the most
//! followed local accounts; minus what one follows, blocks, mutes, hides or dismissed.

use sqlx::PgPool;

use crate::core::error::Result;

/// Who may be suggested to `$1` (Mastodon's `base_account_scope`), on accounts `a`.
const SUGGESTIBLE: &str = "a.id <> $1 AND a.discoverable AND a.suspended_at IS NULL AND a.silenced_at IS NULL
    AND a.moved_to_account_id IS NULL AND NOT a.memorial
    AND (a.domain IS NOT NULL OR EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id AND u.approved
                                          AND u.confirmed_at IS NOT NULL AND NOT u.disabled))
    AND NOT EXISTS (SELECT 1 FROM follows f WHERE f.account_id = $1 AND f.target_account_id = a.id)
    AND NOT EXISTS (SELECT 1 FROM follow_requests r WHERE r.account_id = $1 AND r.target_account_id = a.id)
    AND NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = $1 AND b.target_account_id = a.id)
                                             OR (b.account_id = a.id AND b.target_account_id = $1))
    AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = $1 AND m.target_account_id = a.id)
    AND NOT EXISTS (SELECT 1 FROM account_domain_blocks d WHERE d.account_id = $1 AND d.domain = a.domain)
    AND NOT EXISTS (SELECT 1 FROM follow_recommendation_mutes x WHERE x.account_id = $1 AND x.target_account_id = a.id)";

/// Suggested account ids for `account_id` with the source of each (`featured`,
/// `friends_of_friends`, `most_followed`), each account once, at most `limit`.
pub async fn for_account(
    db: &PgPool,
    account_id: i64,
    featured: &[(String, Option<String>)],
    limit: i64,
) -> Result<Vec<(i64, &'static str)>> {
    let usernames: Vec<String> = featured.iter().map(|(u, _)| u.to_lowercase()).collect();
    let domains: Vec<String> = featured.iter().map(|(_, d)| d.clone().unwrap_or_default().to_lowercase()).collect();
    let featured_ids: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT a.id FROM accounts a JOIN unnest($2::text[], $3::text[]) AS f(username, domain)
             ON lower(a.username) = f.username AND lower(COALESCE(a.domain, '')) = f.domain
          WHERE {SUGGESTIBLE} LIMIT $4"
    )))
    .bind(account_id)
    .bind(&usernames)
    .bind(&domains)
    .bind(limit)
    .fetch_all(db)
    .await?;
    let friends_of_friends: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT a.id FROM accounts a
           JOIN follows f ON f.target_account_id = a.id
           JOIN follows mine ON mine.account_id = $1 AND mine.target_account_id = f.account_id
           JOIN accounts friend ON friend.id = mine.target_account_id AND NOT COALESCE(friend.hide_collections, false)
           LEFT JOIN account_stats st ON st.account_id = a.id
          WHERE {SUGGESTIBLE}
          GROUP BY a.id, st.followers_count
          ORDER BY count(*) DESC, COALESCE(st.followers_count, 0) ASC LIMIT $2"
    )))
    .bind(account_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    // Mastodon's global recommendations rank local accounts active in the last month.
    let most_followed: Vec<i64> = sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT a.id FROM accounts a JOIN account_stats st ON st.account_id = a.id
          WHERE a.domain IS NULL AND st.followers_count > 0
            AND st.last_status_at > now() AT TIME ZONE 'UTC' - interval '30 days' AND {SUGGESTIBLE}
          ORDER BY st.followers_count DESC, a.id LIMIT $2"
    )))
    .bind(account_id)
    .bind(limit)
    .fetch_all(db)
    .await?;
    let mut found: Vec<(i64, &'static str)> = Vec::new();
    let sources =
        [(featured_ids, "featured"), (friends_of_friends, "friends_of_friends"), (most_followed, "most_followed")];
    for (ids, source) in sources {
        for id in ids {
            if !found.iter().any(|(known, _)| *known == id) {
                found.push((id, source));
            }
        }
    }
    found.truncate(limit.max(0) as usize);
    Ok(found)
}

/// `account_id` does not want `target` suggested again.
pub async fn dismiss(db: &PgPool, account_id: i64, target: i64) -> Result<()> {
    sqlx::query(
        "INSERT INTO follow_recommendation_mutes (account_id, target_account_id, created_at, updated_at)
         VALUES ($1, $2, now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT (account_id, target_account_id) DO NOTHING",
    )
    .bind(account_id)
    .bind(target)
    .execute(db)
    .await?;
    Ok(())
}

/// The profile directory (Mastodon's `/api/v1/directory`): discoverable accounts, most
/// recently posting first (`new`: newest accounts first), only local ones if asked, without
/// those `viewer` blocks, mutes or (for remote ones) hides by domain.
pub async fn directory(
    db: &PgPool,
    viewer: Option<i64>,
    newest: bool,
    local: bool,
    limit: i64,
    offset: i64,
) -> Result<Vec<i64>> {
    let order = if newest { "a.id DESC" } else { "st.last_status_at DESC NULLS LAST, a.id DESC" };
    Ok(sqlx::query_scalar(sqlx::AssertSqlSafe(format!(
        "SELECT a.id FROM accounts a JOIN account_stats st ON st.account_id = a.id
          WHERE a.discoverable AND a.suspended_at IS NULL AND a.silenced_at IS NULL AND a.moved_to_account_id IS NULL
            AND (a.domain IS NOT NULL OR EXISTS (SELECT 1 FROM users u WHERE u.account_id = a.id AND u.approved
                                                  AND u.confirmed_at IS NOT NULL AND NOT u.disabled))
            AND (NOT $2 OR a.domain IS NULL)
            AND ($1::bigint IS NULL OR (
                 NOT EXISTS (SELECT 1 FROM blocks b WHERE (b.account_id = $1 AND b.target_account_id = a.id)
                                                      OR (b.account_id = a.id AND b.target_account_id = $1))
                 AND NOT EXISTS (SELECT 1 FROM mutes m WHERE m.account_id = $1 AND m.target_account_id = a.id)
                 AND NOT EXISTS (SELECT 1 FROM account_domain_blocks d WHERE d.account_id = $1 AND d.domain = a.domain)))
          ORDER BY {order} LIMIT $3 OFFSET $4"
    )))
    .bind(viewer)
    .bind(local)
    .bind(limit)
    .bind(offset)
    .fetch_all(db)
    .await?)
}
