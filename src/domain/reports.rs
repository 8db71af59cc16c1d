//! Reports to the moderators (Mastodon's ReportService): from local users through
//! `POST /api/v1/reports`, and from other servers through an ActivityPub `Flag`.
//! A local report about a remote account can be forwarded to that account's server.

use sqlx::PgPool;

use crate::core::Core;
use crate::core::error::{Error, Result};
use crate::core::time;
use crate::domain::events::{self, Event};
use crate::domain::notifications;
use crate::model::accounts;
use crate::model::notifications::NotificationType;
use crate::model::reports::{CATEGORIES, COLUMNS, COMMENT_LIMIT, Report};
use crate::model::roles::{self, permission};

/// What a local user reports.
#[derive(Debug, Clone, Default)]
pub struct NewReport {
    pub target_account_id: i64,
    pub status_ids: Vec<i64>,
    pub rule_ids: Vec<i64>,
    pub comment: String,
    pub category: Option<String>,
    pub forward: bool,
}

/// Files a local user's report. The reported statuses must be the target's and visible
/// to the reporter (404 otherwise, as Mastodon answers). With `forward`, a report about a
/// remote account is also sent to its server.
pub async fn file(state: &Core, reporter: i64, new: NewReport) -> Result<Report> {
    let db = &state.db.primary;
    let target = accounts::find_many(db, &[new.target_account_id]).await?.pop().ok_or(Error::NotFound)?;
    if target.suspended_at.is_some() {
        return Err(Error::NotFound);
    }
    if new.comment.chars().count() > COMMENT_LIMIT {
        return Err(Error::validation(format!("Comment is too long (maximum is {COMMENT_LIMIT} characters)")));
    }
    let category = if new.rule_ids.is_empty() {
        let name = new.category.as_deref().filter(|c| !c.is_empty()).unwrap_or("other");
        CATEGORIES
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| *v)
            .ok_or_else(|| Error::validation("Category is not included in the list"))?
    } else if crate::model::instance::rules_exist(db, &new.rule_ids).await? {
        // Citing rules makes it a violation report, whatever category was given.
        CATEGORIES.iter().find(|(n, _)| *n == "violation").map(|(_, v)| *v).unwrap_or_default()
    } else {
        return Err(Error::validation("Rule ids does not reference valid rules"));
    };
    for status_id in &new.status_ids {
        let status = crate::model::statuses::find_visible(db, *status_id, Some(reporter)).await?;
        if status.account_id != target.id {
            return Err(Error::NotFound);
        }
    }
    let forwarded = new.forward && !target.is_local();
    let uri = format!("{}/{}", state.config.base_url(), crate::domain::email::new_token());
    let filed = Filed {
        reporter,
        target: target.id,
        status_ids: &new.status_ids,
        rule_ids: &new.rule_ids,
        comment: &new.comment,
        category,
        forwarded,
        uri: Some(&uri),
    };
    insert(db, &filed).await
}

/// A report as stored.
pub(crate) struct Filed<'a> {
    pub reporter: i64,
    pub target: i64,
    pub status_ids: &'a [i64],
    pub rule_ids: &'a [i64],
    pub comment: &'a str,
    pub category: i32,
    pub forwarded: bool,
    /// The id of its Flag (ours for local reports).
    pub uri: Option<&'a str>,
}

/// Stores a report, local or remote; a forwarded one then goes to the target's server. When
/// it is the target's only open report, staff who manage reports get an `admin.report`
/// notification.
pub(crate) async fn insert(db: &PgPool, filed: &Filed<'_>) -> Result<Report> {
    let mut tx = db.begin().await?;
    let report: Report = sqlx::query_as(sqlx::AssertSqlSafe(format!(
        "INSERT INTO reports (account_id, target_account_id, status_ids, rule_ids, comment, category, forwarded, uri,
                              created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $9)
         RETURNING {COLUMNS}"
    )))
    .bind(filed.reporter)
    .bind(filed.target)
    .bind(filed.status_ids)
    .bind((!filed.rule_ids.is_empty()).then_some(filed.rule_ids))
    .bind(filed.comment)
    .bind(filed.category)
    .bind(filed.forwarded)
    .bind(filed.uri)
    .bind(time::now())
    .fetch_one(&mut *tx)
    .await?;
    let others_open: bool = sqlx::query_scalar(
        "SELECT EXISTS (SELECT 1 FROM reports WHERE target_account_id = $1 AND id <> $2 AND action_taken_at IS NULL)",
    )
    .bind(filed.target)
    .bind(report.id)
    .fetch_one(&mut *tx)
    .await?;
    if !others_open {
        for staff in roles::accounts_permitted(&mut tx, permission::MANAGE_REPORTS).await? {
            notifications::notify(&mut tx, staff, filed.reporter, NotificationType::AdminReport, report.id).await?;
        }
    }
    events::emit(&mut *tx, Event::ReportFiled { report_id: report.id, forward: filed.forwarded }).await?;
    tx.commit().await?;
    Ok(report)
}
