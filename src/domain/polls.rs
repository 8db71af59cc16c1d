//! Polls: created with a status, voted on, tallied, and announced when they end
//! (Mastodon's Poll, VoteService and PollExpirationNotifyWorker). Remote polls keep the
//! tallies their server last reported; votes on them are sent to that server.

use chrono::NaiveDateTime;
use serde_json::Value;
use sqlx::PgPool;

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::queue;
use crate::core::time;
use crate::domain::deferred::Job;
use crate::domain::events::{self, Event};
use crate::domain::notifications::notify;
use crate::model::accounts::Account;
use crate::model::notifications::NotificationType;
use crate::model::polls::{POLL_COLUMNS, Poll, find};
use crate::model::statuses;

/// Mastodon's limits, also published in `/api/v2/instance`.
pub const MAX_OPTIONS: usize = 4;
pub const MAX_CHARACTERS_PER_OPTION: usize = 50;
pub const MIN_EXPIRATION_SECONDS: i64 = 300;
pub const MAX_EXPIRATION_SECONDS: i64 = 2_629_746;

/// Seconds Mastodon waits after a vote before sending a local poll's new tallies.
const TALLY_UPDATE_DELAY_SECONDS: i64 = 180;

/// The `poll` parameter of a new or edited status.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewPoll {
    /// Trimmed, without blank ones.
    pub options: Vec<String>,
    /// Seconds; `None` when not given (refused).
    pub expires_in: Option<i64>,
    pub multiple: bool,
    pub hide_totals: bool,
}

/// A poll flag as a client sends it: a JSON boolean, or a form value ("true", "1", "on").
pub fn is_set(flag: &Value) -> bool {
    match flag {
        Value::Bool(b) => *b,
        Value::String(s) => matches!(s.as_str(), "true" | "1" | "on"),
        Value::Number(n) => n.as_i64() == Some(1),
        _ => false,
    }
}

impl NewPoll {
    /// Reads `poll[options][]`, `poll[expires_in]`, `poll[multiple]`, `poll[hide_totals]`
    /// (form values arrive as strings, JSON ones typed). `None` when no poll was given.
    pub fn from_param(param: Option<&Value>) -> Result<Option<NewPoll>> {
        let Some(poll) = param.filter(|p| p.as_object().is_some_and(|o| !o.is_empty())) else { return Ok(None) };
        let text = |v: &Value| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            Value::Bool(b) => Some(b.to_string()),
            _ => None,
        };
        let flag = |key: &str| is_set(&poll[key]);
        let options: Vec<String> = match &poll["options"] {
            Value::Array(items) => items.iter().filter_map(text).map(|o| o.trim().to_string()).collect(),
            Value::Null => Vec::new(),
            other => text(other).into_iter().collect(),
        };
        let options = options.into_iter().filter(|o| !o.is_empty()).collect();
        let expires_in = text(&poll["expires_in"])
            .filter(|s| !s.trim().is_empty())
            .map(|s| s.trim().parse::<f64>().map(|f| f as i64).map_err(|_| Error::validation("Deadline is invalid")))
            .transpose()?;
        let new = NewPoll { options, expires_in, multiple: flag("multiple"), hide_totals: flag("hide_totals") };
        new.validate()?;
        Ok(Some(new))
    }

    /// Mastodon's PollOptionsValidator and PollExpirationValidator, with their messages
    /// (Rails names the attributes "Choices" and "Deadline"). Blank options are dropped
    /// first, as Mastodon strips them.
    fn validate(&self) -> Result<()> {
        let options: Vec<&str> = self.options.iter().map(|o| o.as_str()).collect();
        if options.is_empty() {
            return Err(Error::validation("Choices can't be blank, Choices must have more than one item"));
        }
        if options.len() < 2 {
            return Err(Error::validation("Choices must have more than one item"));
        }
        if options.len() > MAX_OPTIONS {
            return Err(Error::validation(format!("Choices can't contain more than {MAX_OPTIONS} items")));
        }
        if options.iter().any(|o| o.chars().count() > MAX_CHARACTERS_PER_OPTION) {
            return Err(Error::validation(format!(
                "Choices cannot be longer than {MAX_CHARACTERS_PER_OPTION} characters each"
            )));
        }
        if options.iter().enumerate().any(|(i, o)| options[..i].contains(o)) {
            return Err(Error::validation("Choices contain duplicate items"));
        }
        match self.expires_in {
            None => return Err(Error::validation("Deadline can't be blank")),
            Some(s) if s < MIN_EXPIRATION_SECONDS => return Err(Error::validation("Deadline is too soon")),
            Some(s) if s > MAX_EXPIRATION_SECONDS => {
                return Err(Error::validation("Deadline is too far into the future"));
            }
            Some(_) => {}
        }
        Ok(())
    }
}

/// The poll of a remote status, as its Question describes it: the tallies are its
/// server's.
#[derive(Debug, Clone, PartialEq)]
pub struct RemotePoll {
    pub options: Vec<String>,
    pub tallies: Vec<i64>,
    pub multiple: bool,
    pub expires_at: Option<NaiveDateTime>,
    pub voters_count: Option<i64>,
}

/// Stores the poll of a new remote status.
pub(crate) async fn store_remote(
    conn: &mut sqlx::PgConnection,
    account_id: i64,
    status_id: i64,
    poll: &RemotePoll,
) -> Result<()> {
    let poll_id: i64 = sqlx::query_scalar(
        "INSERT INTO polls (account_id, status_id, expires_at, options, cached_tallies, multiple, votes_count,
                            voters_count, last_fetched_at, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, now(), now(), now())
         RETURNING id",
    )
    .bind(account_id)
    .bind(status_id)
    .bind(poll.expires_at)
    .bind(&poll.options)
    .bind(&poll.tallies)
    .bind(poll.multiple)
    .bind(poll.tallies.iter().sum::<i64>())
    .bind(poll.voters_count)
    .fetch_one(&mut *conn)
    .await?;
    attach(conn, status_id, poll_id).await
}

/// New tallies (or a new end) of a remote poll. Changed options replace the poll and its
/// votes, as an edit of a local poll does.
pub(crate) async fn update_remote(
    conn: &mut sqlx::PgConnection,
    account_id: i64,
    status_id: i64,
    poll: &RemotePoll,
) -> Result<()> {
    let updated = sqlx::query(
        "UPDATE polls p SET cached_tallies = $3, votes_count = $4, voters_count = $5, expires_at = $6,
                last_fetched_at = now(), updated_at = now()
           FROM statuses s
          WHERE s.id = $1 AND p.id = s.poll_id AND p.options = $2::varchar[]",
    )
    .bind(status_id)
    .bind(&poll.options)
    .bind(&poll.tallies)
    .bind(poll.tallies.iter().sum::<i64>())
    .bind(poll.voters_count)
    .bind(poll.expires_at)
    .execute(&mut *conn)
    .await?
    .rows_affected();
    if updated == 0 {
        detach(conn, status_id).await?;
        store_remote(conn, account_id, status_id, poll).await?;
    }
    Ok(())
}

/// Stores a local poll for a new status and schedules its end. Call inside the status's
/// transaction.
pub(crate) async fn insert(
    conn: &mut sqlx::PgConnection,
    account_id: i64,
    status_id: i64,
    poll: &NewPoll,
) -> Result<i64> {
    let now = time::now();
    let expires_in = poll.expires_in.unwrap_or(MIN_EXPIRATION_SECONDS);
    let poll_id: i64 = sqlx::query_scalar(
        "INSERT INTO polls (account_id, status_id, expires_at, options, cached_tallies, multiple, hide_totals,
                            votes_count, voters_count, created_at, updated_at)
         VALUES ($1, $2, $3, $4, array_fill(0::bigint, ARRAY[cardinality($4::varchar[])]), $5, $6, 0, 0, $7, $7)
         RETURNING id",
    )
    .bind(account_id)
    .bind(status_id)
    .bind(now + chrono::Duration::seconds(expires_in))
    .bind(&poll.options)
    .bind(poll.multiple)
    .bind(poll.hide_totals)
    .bind(now)
    .fetch_one(&mut *conn)
    .await?;
    attach(conn, status_id, poll_id).await?;
    queue::enqueue_in(&mut *conn, &Job::EndPoll { poll_id }, expires_in).await?;
    Ok(poll_id)
}

/// Makes `poll_id` the poll of a status (`statuses.poll_id`, as Mastodon keeps it).
pub(crate) async fn attach(conn: &mut sqlx::PgConnection, status_id: i64, poll_id: i64) -> Result<()> {
    sqlx::query("UPDATE statuses SET poll_id = $2 WHERE id = $1").bind(status_id).bind(poll_id).execute(conn).await?;
    Ok(())
}

/// Removes a status's poll, with its votes.
pub(crate) async fn detach(conn: &mut sqlx::PgConnection, status_id: i64) -> Result<()> {
    sqlx::query("UPDATE statuses SET poll_id = NULL WHERE id = $1").bind(status_id).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM polls WHERE status_id = $1").bind(status_id).execute(&mut *conn).await?;
    Ok(())
}

/// Applies the `poll` of a status edit, as UpdateStatusService does: a changed poll is
/// reset (its votes dropped); no poll removes the old one.
pub(crate) async fn replace(
    conn: &mut sqlx::PgConnection,
    account_id: i64,
    status_id: i64,
    poll: Option<&NewPoll>,
) -> Result<()> {
    let current: Option<Poll> = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "SELECT {POLL_COLUMNS} FROM polls p JOIN statuses s ON s.poll_id = p.id WHERE s.id = $1"
    )))
    .bind(status_id)
    .fetch_optional(&mut *conn)
    .await?;
    let unchanged = match (&current, poll) {
        (Some(old), Some(new)) => old.options == new.options && old.multiple == new.multiple,
        _ => false,
    };
    if unchanged {
        if let (Some(old), Some(new)) = (&current, poll) {
            let expires_in = new.expires_in.unwrap_or(MIN_EXPIRATION_SECONDS);
            sqlx::query("UPDATE polls SET expires_at = $2, hide_totals = $3, updated_at = $4 WHERE id = $1")
                .bind(old.id)
                .bind(time::now() + chrono::Duration::seconds(expires_in))
                .bind(new.hide_totals)
                .bind(time::now())
                .execute(&mut *conn)
                .await?;
            queue::enqueue_in(&mut *conn, &Job::EndPoll { poll_id: old.id }, expires_in).await?;
        }
        return Ok(());
    }
    if current.is_some() {
        detach(conn, status_id).await?;
    }
    if let Some(new) = poll {
        insert(conn, account_id, status_id, new).await?;
    }
    Ok(())
}

/// A poll whose status `viewer` may see, or 404.
pub async fn find_visible(db: &PgPool, poll_id: i64, viewer: Option<i64>) -> Result<Poll> {
    let poll = find(db, poll_id).await?;
    statuses::find_visible(db, poll.status_id.ok_or(Error::NotFound)?, viewer).await?;
    Ok(poll)
}

/// Records `voter`'s choices (indexes into the options) on a poll they can see, with
/// Mastodon's rules. Votes on a remote poll are also sent to its server.
pub async fn vote(state: &Core, voter: &Account, poll_id: i64, choices: &[String]) -> Result<Poll> {
    let db = &state.db.primary;
    let poll = find_visible(db, poll_id, Some(voter.id)).await?;
    let mut picked: Vec<i32> = Vec::new();
    for choice in choices {
        let index: i32 =
            choice.trim().parse().map_err(|_| Error::validation("The chosen vote option does not exist"))?;
        if index < 0 || index as usize >= poll.options.len() {
            return Err(Error::validation("The chosen vote option does not exist"));
        }
        if !picked.contains(&index) {
            picked.push(index);
        }
    }
    if picked.is_empty() {
        return Err(Error::validation("The chosen vote option does not exist"));
    }
    record(state, voter.id, &poll, &picked, &[]).await?;
    find_visible(db, poll_id, Some(voter.id)).await
}

/// Stores votes (with their ActivityPub ids, for remote voters) and updates the tallies,
/// under a lock on the poll so that two requests cannot both cast a first vote. Votes in a
/// remote poll are sent to its server (an effect of `Voted`).
pub(crate) async fn record(
    state: &Core,
    voter_id: i64,
    poll: &Poll,
    choices: &[i32],
    uris: &[Option<String>],
) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    sqlx::query("SELECT 1 FROM polls WHERE id = $1 FOR UPDATE").bind(poll.id).execute(&mut *tx).await?;
    let earlier: Vec<i32> = sqlx::query_scalar("SELECT choice FROM poll_votes WHERE poll_id = $1 AND account_id = $2")
        .bind(poll.id)
        .bind(voter_id)
        .fetch_all(&mut *tx)
        .await?;
    if poll.expired() {
        return Err(Error::validation("The poll has already ended"));
    }
    if poll.account_id == Some(voter_id) {
        return Err(Error::validation("You cannot vote in your own polls"));
    }
    // A single-choice poll takes one vote; a multiple-choice one each option once.
    let repeated = choices.iter().any(|c| earlier.contains(c));
    if (!poll.multiple && (!earlier.is_empty() || choices.len() > 1)) || repeated {
        return Err(Error::validation("You have already voted on this poll"));
    }
    let now = time::now();
    for (i, choice) in choices.iter().enumerate() {
        sqlx::query(
            "INSERT INTO poll_votes (account_id, poll_id, choice, uri, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $5)",
        )
        .bind(voter_id)
        .bind(poll.id)
        .bind(choice)
        .bind(uris.get(i).cloned().flatten())
        .bind(now)
        .execute(&mut *tx)
        .await?;
    }
    sqlx::query(
        "UPDATE polls SET
            cached_tallies = ARRAY(SELECT COALESCE(cached_tallies[i], 0) + CASE WHEN i - 1 = ANY($2) THEN 1 ELSE 0 END
                                     FROM generate_series(1, cardinality(options)) i ORDER BY i),
            votes_count = votes_count + cardinality($2),
            voters_count = CASE WHEN voters_count IS NULL OR $3 THEN voters_count ELSE voters_count + 1 END,
            updated_at = $4
          WHERE id = $1",
    )
    .bind(poll.id)
    .bind(choices)
    .bind(!earlier.is_empty())
    .bind(now)
    .execute(&mut *tx)
    .await?;
    events::emit(&mut *tx, Event::Voted { account_id: voter_id, poll_id: poll.id, choices: choices.to_vec() }).await?;
    // New tallies of a local poll go out after a pause that gathers a burst of votes.
    if let (true, false, Some(status_id)) = (poll.local, poll.hide_totals, poll.status_id) {
        let tallies = Event::StatusUpdated { status_id, edited: false };
        events::emit_once_in(&mut *tx, tallies, TALLY_UPDATE_DELAY_SECONDS).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// The end of a poll (a deferred job): tells the author and the local voters that the poll
/// is over, and the servers that have the poll its final tallies.
pub async fn end(state: &Core, poll_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let poll: Option<Poll> =
        sqlx::query_as(sqlx::AssertSqlSafe(format!("SELECT {POLL_COLUMNS} FROM polls p WHERE p.id = $1")))
            .bind(poll_id)
            .fetch_optional(db)
            .await?;
    let Some(poll) = poll else { return Ok(()) };
    let (Some(author), Some(status_id), Some(expires_at)) = (poll.account_id, poll.status_id, poll.expires_at) else {
        return Ok(());
    };
    if !poll.expired() {
        // Edited since this job was queued: the edit queued the job for the new end.
        return Ok(());
    }
    let already: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM notifications WHERE activity_type = 'Poll' AND activity_id = $1 AND created_at >= $2)",
    )
    .bind(poll_id)
    .bind(expires_at)
    .fetch_one(db)
    .await?;
    if already {
        return Ok(());
    }
    let recipients: Vec<i64> =
        sqlx::query_scalar("SELECT DISTINCT account_id FROM poll_votes WHERE poll_id = $1 UNION SELECT $2")
            .bind(poll_id)
            .bind(author)
            .fetch_all(db)
            .await?;
    let mut tx = db.begin().await?;
    for recipient in recipients {
        notify(&mut tx, recipient, author, NotificationType::Poll, poll_id).await?;
    }
    events::emit(&mut *tx, Event::StatusUpdated { status_id, edited: false }).await?;
    tx.commit().await?;
    Ok(())
}
