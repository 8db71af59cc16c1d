//! Who used the server each day, as Mastodon's ActivityTracker keeps it in Redis: one
//! HyperLogLog of user ids per day (`activity:logins:<day start, epoch seconds>`), kept six
//! months. The admin dashboard's active users are counted from it.

use chrono::NaiveDate;

use crate::AppState;
use crate::core::error::Result;

const KEPT_SECONDS: i64 = 183 * 24 * 3600;

fn key(state: &AppState, day: NaiveDate) -> String {
    let start = day.and_hms_opt(0, 0, 0).map_or(0, |t| t.and_utc().timestamp());
    state.redis.key(format!("activity:logins:{start}"))
}

/// Counts `user_id` among today's users.
pub async fn record_login(state: &AppState, user_id: i64) -> Result<()> {
    let key = key(state, crate::core::time::now().date());
    let mut conn = state.redis.conn().await?;
    let _: () =
        redis::pipe().pfadd(&key, user_id).ignore().expire(&key, KEPT_SECONDS).ignore().query_async(&mut conn).await?;
    Ok(())
}

/// The users of each day, and of all the days together.
pub async fn logins(state: &AppState, days: &[NaiveDate]) -> Result<(Vec<i64>, i64)> {
    let keys: Vec<String> = days.iter().map(|d| key(state, *d)).collect();
    let mut conn = state.redis.conn().await?;
    let mut each = Vec::with_capacity(keys.len());
    for key in &keys {
        each.push(redis::cmd("PFCOUNT").arg(key).query_async(&mut conn).await?);
    }
    let total = if keys.is_empty() { 0 } else { redis::cmd("PFCOUNT").arg(&keys).query_async(&mut conn).await? };
    Ok((each, total))
}

/// The memory Redis uses and its version (`INFO`).
pub async fn redis_info(state: &AppState) -> Result<(i64, String)> {
    let mut conn = state.redis.conn().await?;
    let info: String = redis::cmd("INFO").query_async(&mut conn).await?;
    let field = |name: &str| info.lines().find_map(|l| l.strip_prefix(name)).unwrap_or("").trim().to_string();
    Ok((field("used_memory:").parse().unwrap_or(0), field("redis_version:")))
}
