//! Rows and their queries, one module per entity. No side effects.

pub mod accounts;
pub mod admin_accounts;
pub mod conversations;
pub mod domain_blocks;
pub mod filters;
pub mod hydrate;
pub mod instance;
pub mod invites;
pub mod lists;
pub mod markers;
pub mod media;
pub mod metrics;
pub mod notification_policies;
pub mod notifications;
pub mod oauth;
pub mod polls;
pub mod relationships;
pub mod reports;
pub mod roles;
pub mod scheduled_statuses;
pub mod sessions;
pub mod settings;
pub mod sign_up_blocks;
pub mod statuses;
pub mod suggestions;
pub mod tags;
pub mod terms_of_service;
pub mod warnings;

/// One page of the rows `select` gives (a query up to its `WHERE` conditions, without
/// parameters of its own), newest first by `id`: the admin lists.
pub(crate) async fn newest_first<T>(
    db: &sqlx::PgPool,
    select: &str,
    page: &crate::core::pagination::Page,
    id: impl Fn(&T) -> i64,
) -> crate::core::error::Result<Vec<T>>
where
    T: for<'r> sqlx::FromRow<'r, sqlx::postgres::PgRow> + Send + Unpin,
{
    let rows = sqlx::query_as::<_, T>(sqlx::AssertSqlSafe(format!("{select} {}", page.sql("id", 1))))
        .bind(page.max_id)
        .bind(page.since_id)
        .bind(page.min_id)
        .fetch_all(db)
        .await?;
    Ok(page.in_order(rows, id))
}
