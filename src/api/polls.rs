//! `/api/v1/polls`: read a poll and vote in it.

use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::auth::{Auth, MaybeAuth};
use super::params::{Params, path_id, string_list};
use crate::AppState;
use crate::core::error::{Error, Result};
use crate::domain::polls;
use crate::model::accounts;
use crate::render::entities;

type State = web::Data<AppState>;

async fn render(state: &AppState, poll_id: i64, viewer: Option<i64>) -> Result<HttpResponse> {
    let loaded = crate::model::polls::load(&state.db.primary, &[poll_id], viewer).await?;
    let (poll, votes) = loaded.get(&poll_id).ok_or(Error::NotFound)?;
    Ok(HttpResponse::Ok().json(entities::poll_json(poll, votes, viewer)))
}

pub async fn show(state: State, auth: MaybeAuth, id: web::Path<String>) -> Result<HttpResponse> {
    let viewer = auth.viewer("read:statuses")?;
    let poll = polls::find_visible(&state.db.primary, path_id(&id)?, viewer).await?;
    render(&state, poll.id, viewer).await
}

#[derive(Deserialize)]
pub struct VoteParams {
    #[serde(default, deserialize_with = "string_list")]
    choices: Vec<String>,
}

pub async fn vote(
    state: State,
    auth: Auth,
    id: web::Path<String>,
    Params(p): Params<VoteParams>,
) -> Result<HttpResponse> {
    let viewer = auth.user("write:statuses")?;
    let voter = accounts::get(&state.db.primary, viewer.account_id).await?;
    let poll = polls::vote(&state, &voter, path_id(&id)?, &p.choices).await?;
    render(&state, poll.id, Some(viewer.account_id)).await
}
