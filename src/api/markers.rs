//! `/api/v1/markers`.

use actix_web::{HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;

use super::auth::Auth;
use super::params::{Params, string_list};
use crate::AppState;
use crate::core::error::{Error, Result};
use crate::model::markers;
use crate::render::entities;

type State = web::Data<AppState>;

#[derive(Deserialize)]
pub struct GetParams {
    #[serde(default, deserialize_with = "string_list")]
    timeline: Vec<String>,
}

pub async fn index(state: State, auth: Auth, Params(p): Params<GetParams>) -> Result<HttpResponse> {
    let viewer = auth.user("read:statuses")?;
    let found = markers::get(&state.db.primary, viewer.user_id, &p.timeline).await?;
    Ok(HttpResponse::Ok().json(entities::markers(&found)))
}

/// `home[last_read_id]=…&notifications[last_read_id]=…` (or the same as JSON).
pub async fn save(state: State, auth: Auth, Params(p): Params<serde_json::Map<String, Value>>) -> Result<HttpResponse> {
    let viewer = auth.user("write:statuses")?;
    let mut positions = Vec::new();
    for timeline in markers::TIMELINES {
        if let Some(entry) = p.get(*timeline) {
            let id = match &entry["last_read_id"] {
                Value::String(s) => s.parse::<i64>().ok(),
                Value::Number(n) => n.as_i64(),
                _ => None,
            }
            .ok_or_else(|| Error::validation("Last read can't be blank"))?;
            positions.push((timeline.to_string(), id));
        }
    }
    let saved = markers::save(&state.db.primary, viewer.user_id, &positions).await?;
    Ok(HttpResponse::Ok().json(entities::markers(&saved)))
}
