//! Changing a user's filters, with Mastodon's validations; every change tells the user's
//! streams (`filters_changed`), so apps reload them.

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::time;
use crate::domain::events::{self, Event};
use crate::model::filters::{self, ACTIONS, CONTEXTS, FilterFields};
use crate::model::statuses;

const MAX_TITLE: usize = 256;

/// What a request asks of a filter; `None` leaves a value as it is (on create: the default).
#[derive(Debug, Default, Clone)]
pub struct FilterInput {
    pub title: Option<String>,
    pub context: Option<Vec<String>>,
    pub action: Option<String>,
    /// `Some(None)`: no expiry.
    pub expires_in: Option<Option<i64>>,
    pub keywords: Vec<KeywordInput>,
}

#[derive(Debug, Default, Clone)]
pub struct KeywordInput {
    pub id: Option<i64>,
    pub keyword: Option<String>,
    pub whole_word: Option<bool>,
    pub destroy: bool,
}

/// The stored fields, or every validation message (Mastodon lists them all).
fn fields(input: &FilterInput, creating: bool) -> Result<FilterFields> {
    let mut errors = Vec::new();
    let title = input.title.as_ref().map(|t| t.trim().to_string());
    if (creating || title.is_some()) && title.as_deref().is_none_or(str::is_empty) {
        errors.push("Title can't be blank".to_string());
    } else if title.as_ref().is_some_and(|t| t.chars().count() > MAX_TITLE) {
        errors.push(format!("Title is too long (maximum is {MAX_TITLE} characters)"));
    }
    let context: Option<Vec<String>> =
        input.context.as_ref().map(|c| c.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect());
    if (creating || context.is_some()) && context.as_ref().is_none_or(Vec::is_empty) {
        errors.push("Context can't be blank".into());
    } else if context.as_ref().is_some_and(|c| c.iter().any(|name| !CONTEXTS.contains(&name.as_str()))) {
        errors.push("Context none or invalid context supplied".into());
    }
    let action = match input.action.as_deref() {
        None => None,
        Some(name) => match ACTIONS.iter().position(|a| *a == name) {
            Some(index) => Some(index as i32),
            None => {
                errors.push("Action is not included in the list".into());
                None
            }
        },
    };
    if input
        .keywords
        .iter()
        .any(|k| !k.destroy && k.id.is_none() && k.keyword.as_deref().is_none_or(|w| w.trim().is_empty()))
    {
        errors.push("Keywords keyword can't be blank".into());
    }
    if !errors.is_empty() {
        return Err(Error::validation(errors.join(", ")));
    }
    let expires_at =
        input.expires_in.map(|secs| secs.filter(|s| *s > 0).map(|s| time::now() + chrono::Duration::seconds(s)));
    Ok(FilterFields { title, context, action, expires_at })
}

async fn changed(tx: &mut sqlx::PgConnection, account_id: i64) -> Result<()> {
    events::emit(&mut *tx, Event::FiltersChanged { account_id }).await
}

pub async fn create(state: &Core, account_id: i64, input: &FilterInput) -> Result<i64> {
    let fields = fields(input, true)?;
    let mut tx = state.db.primary.begin().await?;
    let id = filters::insert(&mut tx, account_id, &fields).await?;
    apply_keywords(&mut tx, id, &input.keywords).await?;
    changed(&mut tx, account_id).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update(state: &Core, account_id: i64, id: i64, input: &FilterInput) -> Result<()> {
    filters::find(&state.db.primary, account_id, id).await?;
    let fields = fields(input, false)?;
    let mut tx = state.db.primary.begin().await?;
    filters::update(&mut tx, id, &fields).await?;
    apply_keywords(&mut tx, id, &input.keywords).await?;
    changed(&mut tx, account_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Mastodon's `keywords_attributes`: new keywords, changes by id, `_destroy` by id. An id
/// that is not the filter's own is a 404.
async fn apply_keywords(tx: &mut sqlx::PgConnection, filter_id: i64, keywords: &[KeywordInput]) -> Result<()> {
    for k in keywords {
        match k.id {
            None if k.destroy => {}
            None => {
                let word = k.keyword.as_deref().unwrap_or_default().trim();
                filters::insert_keyword(tx, filter_id, word, k.whole_word.unwrap_or(true)).await?;
            }
            Some(id) => {
                if filters::keyword_filter_id(tx, id).await? != Some(filter_id) {
                    return Err(Error::NotFound);
                }
                if k.destroy {
                    filters::delete_keyword(tx, id).await?;
                } else {
                    filters::update_keyword(tx, id, k.keyword.as_deref().map(str::trim), k.whole_word).await?;
                }
            }
        }
    }
    Ok(())
}

pub async fn delete(state: &Core, account_id: i64, id: i64) -> Result<()> {
    let mut tx = state.db.primary.begin().await?;
    if !filters::delete(&mut tx, account_id, id).await? {
        return Err(Error::NotFound);
    }
    changed(&mut tx, account_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Adds a keyword to one of the user's filters; its id.
pub async fn add_keyword(
    state: &Core,
    account_id: i64,
    filter_id: i64,
    keyword: Option<&str>,
    whole_word: Option<bool>,
) -> Result<i64> {
    filters::find(&state.db.primary, account_id, filter_id).await?;
    let word =
        keyword.map(str::trim).filter(|w| !w.is_empty()).ok_or_else(|| Error::validation("Keyword can't be blank"))?;
    let mut tx = state.db.primary.begin().await?;
    let id = filters::insert_keyword(&mut tx, filter_id, word, whole_word.unwrap_or(true)).await?;
    changed(&mut tx, account_id).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn update_keyword(
    state: &Core,
    account_id: i64,
    id: i64,
    keyword: Option<&str>,
    whole_word: Option<bool>,
) -> Result<()> {
    filters::find_keyword(&state.db.primary, account_id, id).await?;
    let keyword = keyword.map(str::trim);
    if keyword.is_some_and(str::is_empty) {
        return Err(Error::validation("Keyword can't be blank"));
    }
    let mut tx = state.db.primary.begin().await?;
    filters::update_keyword(&mut tx, id, keyword, whole_word).await?;
    changed(&mut tx, account_id).await?;
    tx.commit().await?;
    Ok(())
}

pub async fn delete_keyword(state: &Core, account_id: i64, id: i64) -> Result<()> {
    filters::find_keyword(&state.db.primary, account_id, id).await?;
    let mut tx = state.db.primary.begin().await?;
    filters::delete_keyword(&mut tx, id).await?;
    changed(&mut tx, account_id).await?;
    tx.commit().await?;
    Ok(())
}

/// Filters a status the user can see (its reblogs with it); the rule's id.
pub async fn add_status(state: &Core, account_id: i64, filter_id: i64, status_id: i64) -> Result<i64> {
    filters::find(&state.db.primary, account_id, filter_id).await?;
    let status = statuses::find_visible(&state.db.primary, status_id, Some(account_id)).await?;
    let mut tx = state.db.primary.begin().await?;
    let id = filters::insert_status(&mut tx, filter_id, status.reblog_of_id.unwrap_or(status.id)).await?;
    changed(&mut tx, account_id).await?;
    tx.commit().await?;
    Ok(id)
}

pub async fn delete_status(state: &Core, account_id: i64, id: i64) -> Result<()> {
    filters::find_status(&state.db.primary, account_id, id).await?;
    let mut tx = state.db.primary.begin().await?;
    filters::delete_status(&mut tx, id).await?;
    changed(&mut tx, account_id).await?;
    tx.commit().await?;
    Ok(())
}
