//! Poll rows (`polls`, `poll_votes`): the poll of a status, its tallies and who voted.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use sqlx::{FromRow, PgPool};

use crate::core::error::{Error, Result};
use crate::core::time;

#[derive(Debug, Clone, FromRow)]
pub struct Poll {
    pub id: i64,
    pub account_id: Option<i64>,
    pub status_id: Option<i64>,
    pub expires_at: Option<NaiveDateTime>,
    pub options: Vec<String>,
    pub cached_tallies: Vec<i64>,
    pub multiple: bool,
    pub hide_totals: bool,
    pub votes_count: i64,
    pub voters_count: Option<i64>,
    /// A poll of this server's (its tallies are ours to announce).
    pub local: bool,
}

pub const POLL_COLUMNS: &str = "p.id, p.account_id, p.status_id, p.expires_at, p.options, p.cached_tallies, p.multiple,
    p.hide_totals, p.votes_count, p.voters_count,
    COALESCE((SELECT a.domain IS NULL FROM accounts a WHERE a.id = p.account_id), false) AS local";

impl Poll {
    pub fn expired(&self) -> bool {
        self.expires_at.is_some_and(|at| at <= time::now())
    }
    /// The votes of each option, or `None` while `hide_totals` hides them.
    pub fn tallies(&self) -> Vec<Option<i64>> {
        let shown = self.expired() || !self.hide_totals;
        (0..self.options.len()).map(|i| shown.then(|| self.cached_tallies.get(i).copied().unwrap_or(0))).collect()
    }
}

/// What a viewer has to do with a poll: whether they voted (authors count as having
/// voted) and their choices.
#[derive(Debug, Clone, Default)]
pub struct ViewerVotes {
    pub voted: bool,
    pub choices: Vec<i32>,
}

/// The polls with these ids, and `viewer`'s votes on them.
pub async fn load(db: &PgPool, ids: &[i64], viewer: Option<i64>) -> Result<HashMap<i64, (Poll, ViewerVotes)>> {
    if ids.is_empty() {
        return Ok(HashMap::new());
    }
    #[derive(FromRow)]
    struct Row {
        #[sqlx(flatten)]
        poll: Poll,
        own_votes: Vec<i32>,
    }
    let rows: Vec<Row> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {POLL_COLUMNS},
                ARRAY(SELECT v.choice FROM poll_votes v WHERE v.poll_id = p.id AND v.account_id = $2 ORDER BY v.id)
                  AS own_votes
           FROM polls p WHERE p.id = ANY($1)"
    )))
    .bind(ids)
    .bind(viewer)
    .fetch_all(db)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let voted = r.poll.account_id == viewer || !r.own_votes.is_empty();
            (r.poll.id, (r.poll, ViewerVotes { voted, choices: r.own_votes }))
        })
        .collect())
}

/// A poll by id, or 404.
pub async fn find(db: &PgPool, poll_id: i64) -> Result<Poll> {
    sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {POLL_COLUMNS} FROM polls p WHERE p.id = $1")))
        .bind(poll_id)
        .fetch_optional(db)
        .await?
        .ok_or(Error::NotFound)
}
