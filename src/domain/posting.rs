//! Posting, editing, reblogging and deleting statuses (Mastodon's PostStatusService,
//! UpdateStatusService, ReblogService and RemoveStatusService).

use sqlx::{AssertSqlSafe, PgConnection};

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::text::{self, ResolvedMention};
use crate::core::time;
use crate::domain::events::{self, Event};
use crate::domain::notifications::notify;
use crate::domain::polls::{self, NewPoll, RemotePoll};
use crate::model::accounts::{self, Account, Counter, User};
use crate::model::conversations;
use crate::model::media::{self, MediaEdit, RemoteMedia};
use crate::model::notifications::{self, NotificationType};
use crate::model::statuses::{self, MAX_CHARACTERS, Status, Visibility};

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
    /// The only accounts it may mention, when the client says so.
    pub allowed_mentions: Option<Vec<i64>>,
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
pub fn post_language(requested: Option<&str>, user: &User) -> Option<String> {
    let settings = user.settings();
    language_cascade(&[requested, settings.default_language.as_deref(), user.locale.as_deref(), Some("en")])
}

/// Mentions in `text` resolved to known accounts (local, or remote ones we already know).
async fn resolve_mentions(state: &Core, text: &str) -> Result<Vec<(i64, ResolvedMention)>> {
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
        // Tags staff made unusable are not linked (the text keeps them).
        ids = sqlx::query_scalar(
            "UPDATE tags SET last_status_at = $2 WHERE id = ANY($1) AND usable IS NOT FALSE RETURNING id",
        )
        .bind(&ids)
        .bind(time::now())
        .fetch_all(&mut *conn)
        .await?;
    }
    Ok(ids)
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

/// Reserves `key` for `account_id`'s next post (Mastodon keeps keys an hour), in the
/// posting transaction: a concurrent request with the same key waits here until this one
/// commits or fails, so one key gives one status. Returns the status an earlier request
/// with the key made, if it still exists.
async fn reserve_idempotency_key(tx: &mut PgConnection, account_id: i64, key: &str) -> Result<Option<i64>> {
    let reserved: Option<Option<i64>> = sqlx::query_scalar(
        "INSERT INTO ferrodon_idempotency_keys (account_id, key) VALUES ($1, $2)
         ON CONFLICT (account_id, key) DO UPDATE SET status_id = NULL, created_at = now()
          WHERE ferrodon_idempotency_keys.created_at < now() - interval '1 hour'
         RETURNING status_id",
    )
    .bind(account_id)
    .bind(key)
    .fetch_optional(&mut *tx)
    .await?;
    if reserved.is_some() {
        return Ok(None);
    }
    // The key was taken by a request that has committed: its status, seen by statements of
    // their own (a statement sees what was committed when it began). A status deleted since
    // frees the key; the row lock keeps two such retries from both taking it.
    let held: Option<i64> = sqlx::query_scalar(
        "SELECT status_id FROM ferrodon_idempotency_keys WHERE account_id = $1 AND key = $2 FOR UPDATE",
    )
    .bind(account_id)
    .bind(key)
    .fetch_one(&mut *tx)
    .await?;
    let earlier: Option<i64> =
        sqlx::query_scalar("SELECT id FROM statuses WHERE id = $1").bind(held).fetch_optional(&mut *tx).await?;
    if earlier.is_none() {
        sqlx::query(
            "UPDATE ferrodon_idempotency_keys SET status_id = NULL, created_at = now() WHERE account_id = $1 AND key = $2",
        )
        .bind(account_id)
        .bind(key)
        .execute(&mut *tx)
        .await?;
    }
    Ok(earlier)
}

/// Posts a new status as local `author`. Returns its id.
pub async fn post(state: &Core, author: &Account, user: &User, new: NewStatus) -> Result<i64> {
    let draft = prepare(state, author, user, new).await?;
    create(state, author, draft).await
}

/// A local post checked as posting checks it (text, visibility, the reply, the allowed
/// mentions), ready to be written; scheduling checks a post this way too.
pub async fn prepare(state: &Core, author: &Account, user: &User, new: NewStatus) -> Result<Draft> {
    let db = &state.db.primary;
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
    let mentions: Vec<i64> = resolve_mentions(state, &new.text).await?.into_iter().map(|(id, _)| id).collect();
    if let Some(allowed) = &new.allowed_mentions {
        let unexpected: Vec<i64> = mentions.iter().filter(|id| !allowed.contains(id)).copied().collect();
        if !unexpected.is_empty() {
            return Err(Error::UnexpectedMentions(unexpected));
        }
    }
    Ok(Draft {
        tags: text::extract_hashtags(&new.text),
        spoiler_text: new.spoiler_text.trim().to_string(),
        text: new.text,
        visibility,
        sensitive,
        language,
        reply: parent.is_some(),
        parent,
        mentions,
        media_ids: new.media_ids,
        remote_media: Vec::new(),
        poll: new.poll,
        remote_poll: None,
        origin: Origin::Local {
            application_id: new.application_id,
            idempotency_key: new.idempotency_key.filter(|k| !k.is_empty()),
        },
    })
}

/// Where a new status comes from.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A local user's post, through an app (with the request's `Idempotency-Key`).
    Local { application_id: Option<i64>, idempotency_key: Option<String> },
    /// A remote Note: its ActivityPub id and URL, and when it was published.
    Remote { uri: String, url: Option<String>, published: chrono::NaiveDateTime },
}

/// A status about to be written: a local post once checked, or a remote Note once read.
#[derive(Debug, Clone)]
pub struct Draft {
    /// Local: as written (rendered when shown). Remote: sanitized HTML.
    pub text: String,
    pub spoiler_text: String,
    pub visibility: Visibility,
    pub sensitive: bool,
    pub language: Option<String>,
    pub parent: Option<Status>,
    /// A reply, also to a post this server has not seen (no `parent` then).
    pub reply: bool,
    /// Accounts it mentions (known ones; local accounts are notified).
    pub mentions: Vec<i64>,
    /// Hashtags as written, without `#`.
    pub tags: Vec<String>,
    /// Local uploads to attach.
    pub media_ids: Vec<i64>,
    pub remote_media: Vec<RemoteMedia>,
    pub poll: Option<NewPoll>,
    pub remote_poll: Option<RemotePoll>,
    pub origin: Origin,
}

/// Writes a new status, local or remote, with everything that comes with it: its
/// conversation, media, poll, mentions (and their notifications), hashtags, counters and
/// the `StatusCreated` event. A remote status already known (by its URI) is not written
/// again, and a repeated `Idempotency-Key` gives the status it made. Returns the id.
pub async fn create(state: &Core, author: &Account, draft: Draft) -> Result<i64> {
    let mut tx = state.db.primary.begin().await?;
    let (uri, url, created_at, local, application_id) = match &draft.origin {
        Origin::Local { application_id, idempotency_key } => {
            if let Some(key) = idempotency_key
                && let Some(earlier) = reserve_idempotency_key(&mut tx, author.id, key).await?
            {
                return Ok(earlier);
            }
            (None, None, time::now(), true, *application_id)
        }
        Origin::Remote { uri, url, published } => {
            let known: Option<i64> =
                sqlx::query_scalar("SELECT id FROM statuses WHERE uri = $1").bind(uri).fetch_optional(&mut *tx).await?;
            if let Some(id) = known {
                return Ok(id);
            }
            (Some(uri.clone()), url.clone(), *published, false, None)
        }
    };
    let media = media::attachable(&mut tx, author.id, &draft.media_ids, None).await?;
    let conversation_id: i64 = match draft.parent.as_ref().and_then(|p| p.conversation_id) {
        Some(id) => id,
        None => {
            sqlx::query_scalar("INSERT INTO conversations (created_at, updated_at) VALUES ($1, $1) RETURNING id")
                .bind(time::now())
                .fetch_one(&mut *tx)
                .await?
        }
    };
    // Local statuses are named after their id under the actor: `<actor>/statuses/<id>`.
    let local_prefix = format!("{}/statuses/", author.actor_uri(&state.config));
    let status_id: i64 = sqlx::query_scalar(
        "WITH new_id AS (SELECT timestamp_id('statuses') AS id)
         INSERT INTO statuses (id, uri, url, text, spoiler_text, created_at, updated_at, in_reply_to_id,
                               in_reply_to_account_id, sensitive, visibility, reply, language, conversation_id, local,
                               account_id, application_id, ordered_media_attachment_ids)
         SELECT id, COALESCE($1, $2 || id), $3, $4, $5, $6, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17
           FROM new_id
         RETURNING id",
    )
    .bind(&uri)
    .bind(&local_prefix)
    .bind(&url)
    .bind(&draft.text)
    .bind(&draft.spoiler_text)
    .bind(created_at)
    .bind(draft.parent.as_ref().map(|p| p.id))
    .bind(draft.parent.as_ref().map(|p| p.account_id))
    .bind(draft.sensitive)
    .bind(draft.visibility.db())
    .bind(draft.reply)
    .bind(&draft.language)
    .bind(conversation_id)
    .bind(local)
    .bind(author.id)
    .bind(application_id)
    .bind(if media.is_empty() { None } else { Some(media.iter().map(|m| m.id).collect::<Vec<i64>>()) })
    .fetch_one(&mut *tx)
    .await?;
    media::attach(&mut tx, status_id, &media).await?;
    let remote_media = media::insert_remote(&mut tx, author.id, status_id, &draft.remote_media).await?;
    if !remote_media.is_empty() {
        sqlx::query("UPDATE statuses SET ordered_media_attachment_ids = $2 WHERE id = $1")
            .bind(status_id)
            .bind(&remote_media)
            .execute(&mut *tx)
            .await?;
    }
    if let Some(poll) = &draft.poll {
        polls::insert(&mut tx, author.id, status_id, poll).await?;
    }
    if let Some(poll) = &draft.remote_poll {
        polls::store_remote(&mut tx, author.id, status_id, poll).await?;
    }
    let created_mentions = add_mentions(&mut tx, status_id, &draft.mentions).await?;
    set_tags_named(&mut tx, status_id, &draft.tags).await?;
    if let Some(p) = &draft.parent {
        bump_status_stat(&mut tx, p.id, "replies_count", 1).await?;
    }
    if draft.visibility != Visibility::Direct {
        accounts::bump_stat(&mut tx, author.id, Counter::Statuses, 1).await?;
    }
    sqlx::query("UPDATE account_stats SET last_status_at = $2 WHERE account_id = $1")
        .bind(author.id)
        .bind(created_at)
        .execute(&mut *tx)
        .await?;
    let mut told = Vec::new();
    for (mention_id, account_id) in created_mentions {
        if notify(&mut tx, account_id, author.id, NotificationType::Mention, mention_id).await?.is_some() {
            told.push(account_id);
        }
    }
    if draft.visibility == Visibility::Direct {
        // The author's conversation and those of the local people told of it.
        let participants: Vec<i64> = draft.mentions.iter().copied().chain([author.id]).collect();
        let author_side = author.is_local().then_some(author.id);
        for account_id in told.into_iter().chain(author_side) {
            let unread = account_id != author.id;
            let id = conversations::add_status(&mut tx, account_id, conversation_id, &participants, status_id, unread)
                .await?;
            events::emit(&mut *tx, Event::ConversationChanged { account_id, account_conversation_id: id }).await?;
        }
    }
    if let Origin::Local { idempotency_key: Some(key), .. } = &draft.origin {
        sqlx::query("UPDATE ferrodon_idempotency_keys SET status_id = $3 WHERE account_id = $1 AND key = $2")
            .bind(author.id)
            .bind(key)
            .bind(status_id)
            .execute(&mut *tx)
            .await?;
    }
    events::emit(&mut *tx, Event::StatusCreated { status_id, local }).await?;
    tx.commit().await?;
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

/// Edits local `author`'s status, keeping every version in `status_edits`.
pub async fn edit(state: &Core, author: &Account, status_id: i64, changes: StatusChanges) -> Result<()> {
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
    let revision = Revision {
        language: language_cascade(&[changes.language.as_deref(), status.language.as_deref()]),
        sensitive: changes.sensitive.unwrap_or(status.sensitive) || !changes.spoiler_text.trim().is_empty(),
        mentions: resolve_mentions(state, &changes.text).await?.into_iter().map(|(id, _)| id).collect(),
        tags: text::extract_hashtags(&changes.text),
        spoiler_text: changes.spoiler_text.trim().to_string(),
        text: changes.text,
        edited_at: time::now(),
    };
    let mut tx = db.begin().await?;
    let media = match &changes.media_ids {
        Some(ids) => Some(media::attachable(&mut tx, author.id, ids, Some(status.id)).await?),
        None => None,
    };
    keep_first_version(&mut tx, &status).await?;
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
    revise(&mut tx, &status, &revision).await?;
    tx.commit().await?;
    Ok(())
}

/// A new version of a status's text, local or remote.
#[derive(Debug, Clone)]
pub struct Revision {
    pub text: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub edited_at: chrono::NaiveDateTime,
    pub mentions: Vec<i64>,
    pub tags: Vec<String>,
}

/// Edits a remote status from an Update of its Note. An Update that changes only its
/// poll's tallies is not an edit: no new version, nothing to redistribute.
pub async fn edit_remote(state: &Core, status: &Status, revision: &Revision, poll: Option<&RemotePoll>) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    let unchanged = (revision.text.as_str(), revision.spoiler_text.as_str(), revision.sensitive)
        == (status.text.as_str(), status.spoiler_text.as_str(), status.sensitive);
    if !unchanged {
        keep_first_version(&mut tx, status).await?;
    }
    if let Some(poll) = poll {
        polls::update_remote(&mut tx, status.account_id, status.id, poll).await?;
    }
    if !unchanged {
        revise(&mut tx, status, revision).await?;
    }
    tx.commit().await?;
    Ok(())
}

/// Before a status's first edit, its original version goes into the history.
async fn keep_first_version(tx: &mut PgConnection, status: &Status) -> Result<()> {
    let has_edits: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM status_edits WHERE status_id = $1)")
        .bind(status.id)
        .fetch_one(&mut *tx)
        .await?;
    if !has_edits {
        let before = Version { text: &status.text, spoiler_text: &status.spoiler_text, sensitive: status.sensitive };
        snapshot(tx, status.id, status.account_id, &before, status.created_at).await?;
    }
    Ok(())
}

/// Writes the new version (after any change to the poll, which the version records), its
/// mentions and hashtags; local rebloggers are told, and the `StatusUpdated` event follows.
async fn revise(tx: &mut PgConnection, status: &Status, revision: &Revision) -> Result<()> {
    sqlx::query(
        "UPDATE statuses SET text = $2, spoiler_text = $3, sensitive = $4, language = $5, edited_at = $6, updated_at = $6
          WHERE id = $1",
    )
    .bind(status.id)
    .bind(&revision.text)
    .bind(&revision.spoiler_text)
    .bind(revision.sensitive)
    .bind(&revision.language)
    .bind(revision.edited_at)
    .execute(&mut *tx)
    .await?;
    let after = Version { text: &revision.text, spoiler_text: &revision.spoiler_text, sensitive: revision.sensitive };
    snapshot(tx, status.id, status.account_id, &after, revision.edited_at).await?;
    add_mentions(tx, status.id, &revision.mentions).await?;
    set_tags_named(tx, status.id, &revision.tags).await?;
    notify_rebloggers_of_edit(tx, status.id, status.account_id).await?;
    events::emit(&mut *tx, Event::StatusUpdated { status_id: status.id, edited: true }).await
}

/// Local accounts that reblogged an edited status get an `update` notification.
async fn notify_rebloggers_of_edit(tx: &mut PgConnection, status_id: i64, author_id: i64) -> Result<()> {
    let rebloggers: Vec<i64> = sqlx::query_scalar(
        "SELECT DISTINCT s.account_id FROM statuses s JOIN users u ON u.account_id = s.account_id
          WHERE s.reblog_of_id = $1 AND s.deleted_at IS NULL",
    )
    .bind(status_id)
    .fetch_all(&mut *tx)
    .await?;
    for account_id in rebloggers {
        notify(tx, account_id, author_id, NotificationType::Update, status_id).await?;
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

/// Reblogs a status local `account` can see, with the visibility asked for (else the
/// user's default). Returns the reblog's id (the existing one if any).
pub async fn reblog(
    state: &Core,
    account: &Account,
    user: &User,
    status_id: i64,
    visibility: Option<&str>,
) -> Result<i64> {
    let status = statuses::find_visible(&state.db.primary, status_id, Some(account.id)).await?;
    let visibility = match visibility.filter(|v| !v.is_empty()) {
        Some(v) => match Visibility::parse(v) {
            Some(v @ (Visibility::Public | Visibility::Unlisted | Visibility::Private)) => v,
            _ => return Err(Error::validation("Visibility is not included in the list")),
        },
        None => Visibility::parse(&user.default_privacy()).unwrap_or(Visibility::Public),
    };
    boost(state, account, status.reblog_of_id.unwrap_or(status.id), visibility, None).await
}

/// Reblogs `original_id` as `account`, local or remote (then `uri` is its Announce's id),
/// if it may: a public or unlisted status, or one's own followers-only one (whose reblog
/// stays followers-only). Returns the reblog's id, the existing one if there is one.
pub async fn boost(
    state: &Core,
    account: &Account,
    original_id: i64,
    visibility: Visibility,
    uri: Option<&str>,
) -> Result<i64> {
    let db = &state.db.primary;
    let original = statuses::find_visible(db, original_id, Some(account.id)).await?;
    let allowed = match original.visibility() {
        Visibility::Public | Visibility::Unlisted => original.reblog_of_id.is_none(),
        Visibility::Private => original.account_id == account.id,
        _ => false,
    };
    if !allowed {
        return Err(Error::Forbidden("This action is not allowed".into()));
    }
    let visibility = if original.visibility() == Visibility::Private { Visibility::Private } else { visibility };
    let mut tx = db.begin().await?;
    // One reblog per account and status, also when two requests race.
    sqlx::query("SELECT 1 FROM accounts WHERE id = $1 FOR UPDATE").bind(account.id).execute(&mut *tx).await?;
    let existing: Option<i64> = sqlx::query_scalar(
        "SELECT id FROM statuses
          WHERE (account_id = $1 AND reblog_of_id = $2 AND deleted_at IS NULL) OR uri = $3 LIMIT 1",
    )
    .bind(account.id)
    .bind(original.id)
    .bind(uri)
    .fetch_optional(&mut *tx)
    .await?;
    if let Some(id) = existing {
        return Ok(id);
    }
    // A local reblog is named after its id: `<actor>/statuses/<id>/activity`.
    let local_prefix = format!("{}/statuses/", account.actor_uri(&state.config));
    let reblog_id: i64 = sqlx::query_scalar(
        "WITH new_id AS (SELECT timestamp_id('statuses') AS id)
         INSERT INTO statuses (id, uri, created_at, updated_at, reblog_of_id, visibility, local, account_id)
         SELECT id, COALESCE($1, $2 || id || '/activity'), $3, $3, $4, $5, $6, $7 FROM new_id
         RETURNING id",
    )
    .bind(uri)
    .bind(&local_prefix)
    .bind(time::now())
    .bind(original.id)
    .bind(visibility.db())
    .bind(account.is_local())
    .bind(account.id)
    .fetch_one(&mut *tx)
    .await?;
    bump_status_stat(&mut tx, original.id, "reblogs_count", 1).await?;
    accounts::bump_stat(&mut tx, account.id, Counter::Statuses, 1).await?;
    notify(&mut tx, original.account_id, account.id, NotificationType::Reblog, reblog_id).await?;
    events::emit(&mut *tx, Event::StatusCreated { status_id: reblog_id, local: account.is_local() }).await?;
    tx.commit().await?;
    Ok(reblog_id)
}

/// Removes the account's reblog of a status (if any). 404 if the status is not visible.
pub async fn unreblog(state: &Core, account: &Account, status_id: i64) -> Result<()> {
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

/// Deletes a status with its reblogs, counters and notifications; its feed entries, copies
/// on other servers and streams follow from the event. A status already deleted (by a
/// concurrent request, or a Delete received twice) is left alone.
pub async fn remove(state: &Core, status: &Status) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    let locked: Option<i64> = sqlx::query_scalar("SELECT id FROM statuses WHERE id = $1 FOR UPDATE")
        .bind(status.id)
        .fetch_optional(&mut *tx)
        .await?;
    if locked.is_none() {
        return Ok(());
    }
    let reblogs: Vec<(i64, i64)> =
        sqlx::query_as("SELECT id, account_id FROM statuses WHERE reblog_of_id = $1 AND deleted_at IS NULL")
            .bind(status.id)
            .fetch_all(&mut *tx)
            .await?;
    for (_, account_id) in &reblogs {
        accounts::bump_stat(&mut tx, *account_id, Counter::Statuses, -1).await?;
    }
    let ids: Vec<i64> = std::iter::once(status.id).chain(reblogs.iter().map(|(id, _)| *id)).collect();
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
    for (id, account_id) in conversations::remove_status(&mut tx, status.id).await? {
        events::emit(&mut *tx, Event::ConversationChanged { account_id, account_conversation_id: id }).await?;
    }
    sqlx::query("DELETE FROM statuses WHERE id = ANY($1)").bind(&ids).execute(&mut *tx).await?;
    let deleted = Event::StatusDeleted { status: Box::new(status.clone()), tags, reblogs };
    events::emit(&mut *tx, deleted).await?;
    tx.commit().await?;
    Ok(())
}
