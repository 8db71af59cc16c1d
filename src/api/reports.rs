//! `POST /api/v1/reports`: report an account (and some of its statuses) to the moderators.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::auth::Auth;
use super::params::{Params, opt_bool, opt_string, path_id, string_list};
use crate::AppState;
use crate::core::error::Result;
use crate::domain::limits::{self, Family};
use crate::domain::reports::{self, NewReport};
use crate::model::accounts;
use crate::render::entities;

type State = web::Data<AppState>;

#[derive(Deserialize)]
pub struct ReportParams {
    #[serde(default, deserialize_with = "opt_string")]
    account_id: Option<String>,
    #[serde(default, deserialize_with = "string_list")]
    status_ids: Vec<String>,
    #[serde(default, deserialize_with = "string_list")]
    rule_ids: Vec<String>,
    #[serde(default, deserialize_with = "opt_string")]
    comment: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    category: Option<String>,
    #[serde(default, deserialize_with = "opt_bool")]
    forward: Option<bool>,
}

pub async fn create(state: State, auth: Auth, Params(p): Params<ReportParams>) -> Result<HttpResponse> {
    let viewer = auth.user("write:reports")?;
    let ids = |list: &[String]| list.iter().filter(|s| !s.is_empty()).map(|s| path_id(s)).collect::<Result<Vec<i64>>>();
    let new = NewReport {
        target_account_id: path_id(p.account_id.as_deref().unwrap_or_default())?,
        status_ids: ids(&p.status_ids)?,
        rule_ids: ids(&p.rule_ids)?,
        comment: p.comment.unwrap_or_default(),
        category: p.category,
        forward: p.forward.unwrap_or(false),
    };
    limits::check(&state.db.primary, viewer.account_id, Family::Reports).await?;
    let report = reports::file(&state, viewer.account_id, new).await?;
    let target = accounts::get(&state.db.primary, report.target_account_id).await?;
    Ok(HttpResponse::Ok().json(entities::report(&report, &target, &state.config)))
}
