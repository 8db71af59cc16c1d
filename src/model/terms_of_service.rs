//! Terms of service (Mastodon's `terms_of_services`): drafts, and published versions that take
//! effect on their `effective_date`.

use chrono::{NaiveDate, NaiveDateTime};
use sqlx::PgPool;

use crate::core::error::Result;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct TermsOfService {
    pub id: i64,
    pub text: String,
    pub effective_date: Option<NaiveDate>,
    pub published_at: Option<NaiveDateTime>,
}

/// The terms in force: the newest published that took effect (or has no date), else, when
/// none has yet, the next to.
pub async fn current(db: &PgPool) -> Result<Option<TermsOfService>> {
    let live = sqlx::query_as(
        "SELECT id, text, effective_date, published_at FROM terms_of_services
         WHERE published_at IS NOT NULL AND (effective_date IS NULL OR effective_date < now())
         ORDER BY coalesce(effective_date::timestamp, published_at) DESC LIMIT 1",
    )
    .fetch_optional(db)
    .await?;
    if live.is_some() {
        return Ok(live);
    }
    Ok(sqlx::query_as(
        "SELECT id, text, effective_date, published_at FROM terms_of_services
         WHERE published_at IS NOT NULL AND effective_date > now() ORDER BY effective_date LIMIT 1",
    )
    .fetch_optional(db)
    .await?)
}

/// The published terms that take effect on `date`.
pub async fn effective_on(db: &PgPool, date: NaiveDate) -> Result<Option<TermsOfService>> {
    Ok(sqlx::query_as(
        "SELECT id, text, effective_date, published_at FROM terms_of_services
         WHERE published_at IS NOT NULL AND effective_date = $1",
    )
    .bind(date)
    .fetch_optional(db)
    .await?)
}

/// The day the published terms replacing `terms` take effect, if there are any.
pub async fn succeeded_by(db: &PgPool, terms: &TermsOfService) -> Result<Option<NaiveDate>> {
    let Some(date) = terms.effective_date else { return Ok(None) };
    Ok(sqlx::query_scalar(
        "SELECT effective_date FROM terms_of_services
         WHERE published_at IS NOT NULL AND effective_date >= $1 AND id <> $2
         ORDER BY coalesce(effective_date::timestamp, published_at) DESC LIMIT 1",
    )
    .bind(date)
    .bind(terms.id)
    .fetch_optional(db)
    .await?)
}
