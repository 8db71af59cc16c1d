//! Posting, editing, reblogging and deleting statuses (Mastodon's PostStatusService,
//! UpdateStatusService, ReblogService and RemoveStatusService).

use sqlx::AssertSqlSafe;
use std::collections::HashMap;

use redis::AsyncCommands;

use crate::core::error::{Error, Result};
use crate::core::text::{self, MentionToken, ResolvedMention};
use crate::domain::polls::{self, NewPoll};
use crate::effects::media::{self, MediaEdit};
use crate::model::accounts::{self, Account, Counter, User};
use crate::model::notifications::{self, NotificationType};
use crate::model::statuses::{self, MAX_CHARACTERS, Status, Visibility};
use crate::worker::{self, Job};
use crate::{AppState, core::time, effects::streaming};
use crate::{domain::search, effects::search::meili::Kind};

/// Idempotency keys are remembered for an hour, as Mastodon does.
const IDEMPOTENCY_TTL_SECONDS: u64 = 3600;

#[derive(Debug, Default, Clone)]
pub struct NewStatus {
    pub text: String,
    pub spoiler_text: String,
    pub visibility: Option<String>,
    pub sensitive: Option<bool>,
    pub language: Option<String>,
    pub in_reply_to_id: Option<i64>,
    pub media_ids: Vec<i64>,
    pub poll: Option<NewPoll>,
    pub idempotency_key: Option<String>,
    pub application_id: Option<i64>,
}

fn validate_text(text: &str, spoiler_text: &str, media: usize) -> Result<()> {
    if text.trim().is_empty() && media == 0 {
        return Err(Error::validation("Text can't be blank"));
    }
    if text::status_length(text, spoiler_text) > MAX_CHARACTERS {
        return Err(Error::validation(format!("Text character limit of {MAX_CHARACTERS} exceeded")));
    }
    Ok(())
}

/// Mastodon's `valid_locale_or_nil`: the language code with any region stripped
/// (`en-GB` → `en`), or None when it is not an ISO 639 code.
fn language_code(language: Option<&str>) -> Option<String> {
    let code = language?.trim().split(['-', '_']).next()?;
    ((2..=3).contains(&code.len()) && code.chars().all(|c| c.is_ascii_alphabetic())).then(|| code.to_ascii_lowercase())
}

/// Mastodon's `valid_locale_cascade`: the first valid language among the candidates.
/// Unknown languages are skipped, never an error.
fn language_cascade(candidates: &[Option<&str>]) -> Option<String> {
    candidates.iter().find_map(|c| language_code(*c))
}

/// The language of a new post: the one asked for, else the user's posting language,
/// else the user's locale, else English (as PostStatusService).
fn post_language(requested: Option<&str>, user: &User) -> Option<String> {
    let settings = user.settings();
    language_cascade(&[requested, settings.default_language.as_deref(), user.locale.as_deref(), Some("en")])
}

/// Mentions in `text` resolved to known accounts (local, or remote ones we already know).
async fn resolve_mentions(state: &AppState, text: &str) -> Result<Vec<(i64, ResolvedMention)>> {
    let mut resolved = Vec::new();
    for token in text::extract_mentions(text) {
        let acct = match &token.domain {
            Some(d) => format!("{}@{d}", token.username),
            None => token.username.clone(),
        };
        if let Some(account) = accounts::lookup_acct(&state.db.primary, &state.config, &acct).await?
            && account.suspended_at.is_none()
            && !resolved.iter().any(|(id, _)| *id == account.id)
        {
            resolved.push((
                account.id,
                ResolvedMention {
                    url: account.profile_url(&state.config),
                    username: account.username.clone(),
                    acct: account.acct(),
                },
            ));
        }
    }
    Ok(resolved)
}

/// Ids of the tags written in a status, created as needed: `name` is the normalized form
/// (what lookups and stream names use), `display_name` the first spelling seen.
async fn tag_ids(conn: &mut sqlx::PgConnection, written: &[String]) -> Result<Vec<i64>> {
    let mut ids = Vec::new();
    for display in written {
        let id: i64 = sqlx::query_scalar(
            "WITH found AS (SELECT id FROM tags WHERE lower(name) = lower($1)),
                  created AS (INSERT INTO tags (name, display_name, created_at, updated_at, last_status_at)
                              SELECT $1, $2, $3, $3, $3 WHERE NOT EXISTS (SELECT 1 FROM found) RETURNING id)
             SELECT id FROM found UNION ALL SELECT id FROM created",
        )
        .bind(text::normalize_hashtag(display))
        .bind(display)
        .bind(time::now())
        .fetch_one(&mut *conn)
        .await?;
        ids.push(id);
    }
    if !ids.is_empty() {
        sqlx::query("UPDATE tags SET last_status_at = $2 WHERE id = ANY($1)")
            .bind(&ids)
            .bind(time::now())
            .execute(&mut *conn)
            .await?;
    }
    Ok(ids)
}

async fn set_tags(conn: &mut sqlx::PgConnection, status_id: i64, text_body: &str) -> Result<()> {
    set_tags_named(conn, status_id, &text::extract_hashtags(text_body)).await
}

/// Links a status to these hashtags (as written, without `#`) and to no others.
pub(crate) async fn set_tags_named(conn: &mut sqlx::PgConnection, status_id: i64, written: &[String]) -> Result<()> {
    let mut names: Vec<String> = Vec::new();
    for tag in written {
        let normalized = text::normalize_hashtag(tag);
        if !normalized.is_empty() && !names.iter().any(|n| text::normalize_hashtag(n) == normalized) {
            names.push(tag.clone());
        }
    }
    let ids = tag_ids(conn, &names).await?;
    sqlx::query("DELETE FROM statuses_tags WHERE status_id = $1 AND NOT (tag_id = ANY($2))")
        .bind(status_id)
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    sqlx::query("INSERT INTO statuses_tags (status_id, tag_id) SELECT $1, unnest($2::bigint[]) ON CONFLICT DO NOTHING")
        .bind(status_id)
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    Ok(())
}

/// Inserts mention rows that do not exist yet; returns (mention id, account id) of new ones.
pub(crate) async fn add_mentions(
    conn: &mut sqlx::PgConnection,
    status_id: i64,
    account_ids: &[i64],
) -> Result<Vec<(i64, i64)>> {
    Ok(sqlx::query_as(
        "INSERT INTO mentions (status_id, account_id, created_at, updated_at)
         SELECT $1, unnest($2::bigint[]), $3, $3 ON CONFLICT (account_id, status_id) DO NOTHING
         RETURNING id, account_id",
    )
    .bind(status_id)
    .bind(account_ids)
    .bind(time::now())
    .fetch_all(conn)
    .await?)
}

/// Adds `delta` to a status counter, creating the `status_stats` row if needed.
pub async fn bump_status_stat(conn: &mut sqlx::PgConnection, status_id: i64, column: &str, delta: i64) -> Result<()> {
    debug_assert!(matches!(column, "replies_count" | "reblogs_count" | "favourites_count"));
    sqlx::query(AssertSqlSafe(format!(
        "INSERT INTO status_stats (status_id, {column}, created_at, updated_at)
         VALUES ($1, GREATEST($2, 0), now() AT TIME ZONE 'UTC', now() AT TIME ZONE 'UTC')
         ON CONFLICT (status_id) DO UPDATE SET {column} = GREATEST(status_stats.{column} + $2, 0),
                                              updated_at = EXCLUDED.updated_at"
    )))
    .bind(status_id)
    .bind(delta)
    .execute(conn)
    .await?;
    Ok(())
}

fn idempotency_key(state: &AppState, account_id: i64, key: &str) -> String {
    state.redis.key(format!("idempotency:status:{account_id}:{key}"))
}

/// Posts a new status as `author`. Returns its id.
pub async fn post(state: &AppState, author: &Account, user: &User, new: NewStatus) -> Result<i64> {
    let db = &state.db.primary;
    if let Some(key) = new.idempotency_key.as_deref().filter(|k| !k.is_empty()) {
        let mut redis = state.redis.conn().await?;
        let previous: Option<i64> = redis.get(idempotency_key(state, author.id, key)).await?;
        if let Some(id) = previous
            && statuses::find_own(db, id, author.id).await.is_ok()
        {
            return Ok(id);
        }
    }
    // Mastodon posts a content warning without text as the text.
    let mut new = new;
    if new.text.trim().is_empty() && !new.spoiler_text.trim().is_empty() {
        new.text = std::mem::take(&mut new.spoiler_text);
    }
    validate_text(&new.text, &new.spoiler_text, new.media_ids.len())?;
    let visibility = match new.visibility.as_deref().filter(|v| !v.is_empty()) {
        Some(v) => Visibility::parse(v).ok_or_else(|| Error::validation("Visibility is not included in the list"))?,
        None => Visibility::parse(&user.default_privacy()).unwrap_or(Visibility::Public),
    };
    let language = post_language(new.language.as_deref(), user);
    let sensitive =
        new.sensitive.or(user.settings().default_sensitive).unwrap_or(false) || !new.spoiler_text.trim().is_empty();
    let parent = match new.in_reply_to_id {
        Some(id) => Some(statuses::find_visible(db, id, Some(author.id)).await?),
        None => None,
    };
    let parent = match parent {
        Some(p) if p.reblog_of_id.is_some() => return Err(Error::NotFound),
        other => other,
    };
    let mentions = resolve_mentions(state, &new.text).await?;

    let mut tx = db.begin().await?;
    let media = media::attachable(&mut tx, author.id, &new.media_ids, None).await?;
    let now = time::now();
    let conversation_id: i64 = match parent.as_ref().and_then(|p| p.conversation_id) {
        Some(id) => id,
        None => {
            sqlx::query_scalar("INSERT INTO conversations (created_at, updated_at) VALUES ($1, $1) RETURNING id")
                .bind(now)
                .fetch_one(&mut *tx)
                .await?
        }
    };
    let base = state.config.base_url();
    let status_id: i64 = sqlx::query_scalar(
        "WITH new_id AS (SELECT timestamp_id('statuses') AS id)
         INSERT INTO statuses (id, uri, text, spoiler_text, created_at, updated_at, in_reply_to_id, in_reply_to_account_id,
                               sensitive, visibility, reply, language, conversation_id, local, account_id, application_id,
                               ordered_media_attachment_ids)
         SELECT id, $1 || id, $2, $3, $4, $4, $5, $6, $7, $8, $9, $10, $11, true, $12, $13, $14 FROM new_id
         RETURNING id",
    )
    .bind(format!("{base}/users/{}/statuses/", author.username))
    .bind(&new.text)
    .bind(new.spoiler_text.trim())
    .bind(now)
    .bind(parent.as_ref().map(|p| p.id))
    .bind(parent.as_ref().map(|p| p.account_id))
    .bind(sensitive)
    .bind(visibility.db())
    .bind(parent.is_some())
    .bind(&language)
    .bind(conversation_id)
    .bind(author.id)
    .bind(new.application_id)
    .bind(if media.is_empty() { None } else { Some(media.iter().map(|m| m.id).collect::<Vec<i64>>()) })
    .fetch_one(&mut *tx)
    .await?;
    media::attach(&mut tx, status_id, &media).await?;
    if let Some(poll) = &new.poll {
        polls::insert(&mut tx, author.id, status_id, poll).await?;
    }
    let mention_ids: Vec<i64> = mentions.iter().map(|(id, _)| *id).collect();
    let created_mentions = add_mentions(&mut tx, status_id, &mention_ids).await?;
    set_tags(&mut tx, status_id, &new.text).await?;
    if let Some(p) = &parent {
        bump_status_stat(&mut tx, p.id, "replies_count", 1).await?;
    }
    if visibility != Visibility::Direct {
        accounts::bump_stat(&mut tx, author.id, Counter::Statuses, 1).await?;
    }
    sqlx::query("UPDATE account_stats SET last_status_at = $2 WHERE account_id = $1")
        .bind(author.id)
        .bind(now)
        .execute(&mut *tx)
        .await?;
    worker::enqueue(&mut *tx, Job::Distribute { status_id, update: false }).await?;
    worker::enqueue(&mut *tx, Job::DistributeStatus { status_id, update: false }).await?;
    search::reindex_later(state, &mut *tx, Kind::Status, status_id).await?;
    search::reindex_tags_of(state, &mut tx, status_id).await?;
    tx.commit().await?;

    for (mention_id, account_id) in created_mentions {
        notifications::notify(state, account_id, author.id, NotificationType::Mention, mention_id).await?;
    }
    if let Some(key) = new.idempotency_key.as_deref().filter(|k| !k.is_empty()) {
        let mut redis = state.redis.conn().await?;
        let _: () = redis.set_ex(idempotency_key(state, author.id, key), status_id, IDEMPOTENCY_TTL_SECONDS).await?;
    }
    Ok(status_id)
}

#[derive(Debug, Default, Clone)]
pub struct StatusChanges {
    pub text: String,
    pub spoiler_text: String,
    pub sensitive: Option<bool>,
    pub language: Option<String>,
    /// `None` keeps the attachments; `Some` replaces them (Mastodon's `media_ids`).
    pub media_ids: Option<Vec<i64>>,
    /// Description and focus changes of attached media (`media_attributes[]`).
    pub media_attributes: Vec<(i64, MediaEdit)>,
    /// The poll after the edit: a changed one starts over, `None` removes it.
    pub poll: Option<NewPoll>,
}

/// Edits `author`'s status, keeping every version in `status_edits`.
pub async fn edit(state: &AppState, author: &Account, status_id: i64, changes: StatusChanges) -> Result<()> {
    let db = &state.db.primary;
    let status = statuses::find_own(db, status_id, author.id).await?;
    if status.reblog_of_id.is_some() {
        return Err(Error::NotFound);
    }
    let media_count = match &changes.media_ids {
        Some(ids) => ids.len(),
        None => status.ordered_media_attachment_ids.as_ref().map_or(0, Vec::len),
    };
    validate_text(&changes.text, &changes.spoiler_text, media_count)?;
    let language = language_cascade(&[changes.language.as_deref(), status.language.as_deref()]);
    let sensitive = changes.sensitive.unwrap_or(status.sensitive) || !changes.spoiler_text.trim().is_empty();
    let mentions = resolve_mentions(state, &changes.text).await?;

    let mut tx = db.begin().await?;
    let media = match &changes.media_ids {
        Some(ids) => Some(media::attachable(&mut tx, author.id, ids, Some(status.id)).await?),
        None => None,
    };
    let now = time::now();
    let has_edits: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM status_edits WHERE status_id = $1)")
        .bind(status.id)
        .fetch_one(&mut *tx)
        .await?;
    if !has_edits {
        let before = Version { text: &status.text, spoiler_text: &status.spoiler_text, sensitive: status.sensitive };
        snapshot(&mut tx, status.id, author.id, &before, status.created_at).await?;
    }
    sqlx::query(
        "UPDATE statuses SET text = $2, spoiler_text = $3, sensitive = $4, language = $5, edited_at = $6, updated_at = $6
          WHERE id = $1",
    )
    .bind(status.id)
    .bind(&changes.text)
    .bind(changes.spoiler_text.trim())
    .bind(sensitive)
    .bind(&language)
    .bind(now)
    .execute(&mut *tx)
    .await?;
    if let Some(media) = &media {
        let ids = media::attach(&mut tx, status.id, media).await?;
        sqlx::query("UPDATE statuses SET ordered_media_attachment_ids = $2 WHERE id = $1")
            .bind(status.id)
            .bind(if ids.is_empty() { None } else { Some(ids) })
            .execute(&mut *tx)
            .await?;
    }
    for (media_id, edit) in &changes.media_attributes {
        media::edit_attached(&mut tx, status.id, *media_id, edit).await?;
    }
    polls::replace(&mut tx, author.id, status.id, changes.poll.as_ref()).await?;
    let after = Version { text: &changes.text, spoiler_text: changes.spoiler_text.trim(), sensitive };
    snapshot(&mut tx, status.id, author.id, &after, now).await?;
    let mention_ids: Vec<i64> = mentions.iter().map(|(id, _)| *id).collect();
    add_mentions(&mut tx, status.id, &mention_ids).await?;
    set_tags(&mut tx, status.id, &changes.text).await?;
    worker::enqueue(&mut *tx, Job::Distribute { status_id: status.id, update: true }).await?;
    worker::enqueue(&mut *tx, Job::DistributeStatus { status_id: status.id, update: true }).await?;
    search::reindex_later(state, &mut *tx, Kind::Status, status.id).await?;
    search::reindex_tags_of(state, &mut tx, status.id).await?;
    tx.commit().await?;

    let rebloggers: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT s.account_id FROM statuses s JOIN users u ON u.account_id = s.account_id
          WHERE s.reblog_of_id = $1 AND s.deleted_at IS NULL",
    )
    .bind(status.id)
    .fetch_all(db)
    .await?;
    for account_id in rebloggers {
        notifications::notify(state, account_id, author.id, NotificationType::Update, status.id).await?;
    }
    Ok(())
}

/// The text of one version of a status.
pub(crate) struct Version<'a> {
    pub text: &'a str,
    pub spoiler_text: &'a str,
    pub sensitive: bool,
}

/// Records a version in the status's history, with the options its poll has now.
pub(crate) async fn snapshot(
    conn: &mut sqlx::PgConnection,
    status_id: i64,
    account_id: i64,
    version: &Version<'_>,
    at: chrono::NaiveDateTime,
) -> Result<()> {
    sqlx::query(
        "INSERT INTO status_edits (status_id, account_id, text, spoiler_text, sensitive, created_at, updated_at,
                                   poll_options)
         VALUES ($1, $2, $3, $4, $5, $6, $6,
                 (SELECT p.options FROM polls p JOIN statuses s ON s.poll_id = p.id WHERE s.id = $1))",
    )
    .bind(status_id)
    .bind(account_id)
    .bind(version.text)
    .bind(version.spoiler_text)
    .bind(version.sensitive)
    .bind(at)
    .execute(conn)
    .await?;
    Ok(())
}

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Edit {
    pub text: String,
    pub spoiler_text: String,
    pub sensitive: Option<bool>,
    pub created_at: chrono::NaiveDateTime,
    pub poll_options: Option<Vec<String>>,
}

/// Every version of a status, oldest first (just the current one if never edited).
pub async fn history(db: &sqlx::PgPool, status: &Status) -> Result<Vec<Edit>> {
    let edits: Vec<Edit> = sqlx::query_as(
        "SELECT text, spoiler_text, sensitive, created_at, poll_options FROM status_edits WHERE status_id = $1 ORDER BY id",
    )
    .bind(status.id)
    .fetch_all(db)
    .await?;
    if edits.is_empty() {
        return Ok(vec![Edit {
            text: status.text.clone(),
            spoiler_text: status.spoiler_text.clone(),
            sensitive: Some(status.sensitive),
            created_at: status.created_at,
            poll_options: None,
        }]);
    }
    Ok(edits)
}

/// Reblogs a status the account can see. Returns the reblog's id (the existing one if any).
pub async fn reblog(
    state: &AppState,
    account: &Account,
    user: &User,
    status_id: i64,
    visibility: Option<&str>,
) -> Result<i64> {
    let db = &state.db.primary;
    let mut original = statuses::find_visible(db, status_id, Some(account.id)).await?;
    if let Some(inner) = original.reblog_of_id {
        original = statuses::find_visible(db, inner, Some(account.id)).await?;
    }
    let allowed = match original.visibility() {
        Visibility::Public | Visibility::Unlisted => true,
        Visibility::Private => original.account_id == account.id,
        _ => false,
    };
    if !allowed {
        return Err(Error::Forbidden("This action is not allowed".into()));
    }
    let existing: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM statuses WHERE account_id = $1 AND reblog_of_id = $2 AND deleted_at IS NULL",
    )
    .bind(account.id)
    .bind(original.id)
    .fetch_optional(db)
    .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    let mut visibility = match visibility.filter(|v| !v.is_empty()) {
        Some(v) => match Visibility::parse(v) {
            Some(v @ (Visibility::Public | Visibility::Unlisted | Visibility::Private)) => v,
            _ => return Err(Error::validation("Visibility is not included in the list")),
        },
        None => Visibility::parse(&user.default_privacy()).unwrap_or(Visibility::Public),
    };
    if original.visibility() == Visibility::Private {
        visibility = Visibility::Private;
    }

    let mut tx = db.begin().await?;
    let base = state.config.base_url();
    let inserted: Option<i64> = sqlx::query_scalar(
        "WITH new_id AS (SELECT timestamp_id('statuses') AS id)
         INSERT INTO statuses (id, uri, created_at, updated_at, reblog_of_id, visibility, local, account_id, application_id)
         SELECT id, $1 || id || '/activity', $2, $2, $3, $4, true, $5, $6 FROM new_id
          WHERE NOT EXISTS (SELECT 1 FROM statuses WHERE account_id = $5 AND reblog_of_id = $3 AND deleted_at IS NULL)
         RETURNING id",
    )
    .bind(format!("{base}/users/{}/statuses/", account.username))
    .bind(time::now())
    .bind(original.id)
    .bind(visibility.db())
    .bind(account.id)
    .bind(None::<i64>)
    .fetch_optional(&mut *tx)
    .await?;
    let Some(reblog_id) = inserted else {
        tx.rollback().await?;
        return Box::pin(reblog(state, account, user, status_id, None)).await;
    };
    bump_status_stat(&mut tx, original.id, "reblogs_count", 1).await?;
    accounts::bump_stat(&mut tx, account.id, Counter::Statuses, 1).await?;
    worker::enqueue(&mut *tx, Job::Distribute { status_id: reblog_id, update: false }).await?;
    search::reindex_later(state, &mut *tx, Kind::Status, original.id).await?;
    tx.commit().await?;
    notifications::notify(state, original.account_id, account.id, NotificationType::Reblog, reblog_id).await?;
    let reblog = statuses::find_own(db, reblog_id, account.id).await?;
    crate::effects::federation::activities::announced(state, &reblog, true).await?;
    Ok(reblog_id)
}

/// Removes the account's reblog of a status (if any). 404 if the status is not visible.
pub async fn unreblog(state: &AppState, account: &Account, status_id: i64) -> Result<()> {
    let db = &state.db.primary;
    let original = statuses::find_visible(db, status_id, Some(account.id)).await?;
    let reblog: Option<Status> = sqlx::query_as::<_, Status>(AssertSqlSafe(format!(
        "SELECT {} FROM statuses s WHERE s.account_id = $1 AND s.reblog_of_id = $2 AND s.deleted_at IS NULL",
        statuses::STATUS_COLUMNS
    )))
    .bind(account.id)
    .bind(original.id)
    .fetch_optional(db)
    .await?;
    if let Some(reblog) = reblog {
        remove(state, &reblog).await?;
    }
    Ok(())
}

/// Deletes a status with its reblogs, counters, notifications and feed entries.
pub async fn remove(state: &AppState, status: &Status) -> Result<()> {
    let db = &state.db.primary;
    let mut tx = db.begin().await?;
    let reblogs: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, account_id FROM statuses WHERE reblog_of_id = $1 AND deleted_at IS NULL")
            .bind(status.id)
            .fetch_all(&mut *tx)
            .await?;
    let mut removed: HashMap<i64, (i64, Option<i64>)> = HashMap::new();
    removed.insert(status.id, (status.account_id, status.reblog_of_id));
    for (id, account_id) in &reblogs {
        removed.insert(*id, (*account_id, Some(status.id)));
        accounts::bump_stat(&mut tx, *account_id, Counter::Statuses, -1).await?;
    }
    let ids: Vec<i64> = removed.keys().copied().collect();
    let mention_ids: Vec<i64> =
        sqlx::query_scalar("SELECT id FROM mentions WHERE status_id = $1").bind(status.id).fetch_all(&mut *tx).await?;
    let favourite_ids: Vec<i64> = sqlx::query_scalar("SELECT id FROM favourites WHERE status_id = $1")
        .bind(status.id)
        .fetch_all(&mut *tx)
        .await?;
    notifications::remove_for_activity(&mut tx, "Status", &ids).await?;
    notifications::remove_for_activity(&mut tx, "Mention", &mention_ids).await?;
    notifications::remove_for_activity(&mut tx, "Favourite", &favourite_ids).await?;
    if let Some(parent) = status.in_reply_to_id {
        bump_status_stat(&mut tx, parent, "replies_count", -1).await?;
    }
    if let Some(original) = status.reblog_of_id {
        bump_status_stat(&mut tx, original, "reblogs_count", -1).await?;
    }
    if status.visibility() != Visibility::Direct || status.reblog_of_id.is_some() {
        accounts::bump_stat(&mut tx, status.account_id, Counter::Statuses, -1).await?;
    }
    let tags: Vec<String> = sqlx::query_scalar(
        "SELECT t.name FROM statuses_tags st JOIN tags t ON t.id = st.tag_id WHERE st.status_id = $1",
    )
    .bind(status.id)
    .fetch_all(&mut *tx)
    .await?;
    sqlx::query("DELETE FROM statuses WHERE id = ANY($1)").bind(&ids).execute(&mut *tx).await?;
    for (id, (account_id, reblog_of_id)) in removed {
        worker::enqueue(&mut *tx, Job::RemoveFromFeeds { status_id: id, account_id, reblog_of_id }).await?;
    }
    // The document goes (or, for a reblog, the original's readers change).
    search::reindex_later(state, &mut *tx, Kind::Status, status.reblog_of_id.unwrap_or(status.id)).await?;
    tx.commit().await?;
    match (status.is_local(), status.reblog_of_id, &status.uri) {
        (true, None, Some(uri)) => {
            let author = accounts::get(db, status.account_id).await?;
            crate::effects::federation::activities::status_deleted(state, &author, uri).await?;
        }
        (true, Some(_), _) => crate::effects::federation::activities::announced(state, status, false).await?,
        _ => {}
    }
    streaming::status_deleted(state, status, &tags).await
}

/// The mention resolver used when rendering stored text: mentions of this status by name.
pub fn mention_resolver(
    mentions: &[(String, Option<String>, ResolvedMention)],
) -> impl Fn(&MentionToken) -> Option<ResolvedMention> + '_ {
    move |token: &MentionToken| {
        mentions
            .iter()
            .find(|(username, domain, _)| {
                username.eq_ignore_ascii_case(&token.username)
                    && match (&token.domain, domain) {
                        (None, _) => true,
                        (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                        (Some(_), None) => true,
                    }
            })
            .map(|(_, _, r)| ResolvedMention { url: r.url.clone(), username: r.username.clone(), acct: r.acct.clone() })
    }
}
