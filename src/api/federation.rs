//! What other servers ask first: `/.well-known/webfinger`, `/.well-known/host-meta`, and
//! the actor at `/users/:username` (or `/@:username`), negotiated between ActivityPub JSON
//! and a browser's HTML. Errors are bare statuses, as Mastodon sends them here.

use actix_web::http::header::{ACCEPT, CONTENT_TYPE, LOCATION, VARY};
use actix_web::{HttpRequest, HttpResponse, web};

use crate::AppState;
use crate::core::error::Error;
use crate::effects::federation::collections;
use crate::inbox;
use crate::render::activitypub::actors::{self, ACTIVITY_JSON};

type State = web::Data<AppState>;

fn bare(error: Error) -> HttpResponse {
    HttpResponse::build(actix_web::ResponseError::status_code(&error)).finish()
}

pub async fn webfinger(state: State, query: web::Query<std::collections::HashMap<String, String>>) -> HttpResponse {
    let Some(resource) = query.get("resource").filter(|r| !r.is_empty()) else {
        return HttpResponse::BadRequest().finish();
    };
    let found = match actors::resource_username(resource, &state.config) {
        Ok(username) => actors::local_actor(&state.db.replica, &username).await,
        Err(e) => Err(e),
    };
    match found {
        Ok((account, _)) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, "application/jrd+json; charset=utf-8"))
            .insert_header(("Cache-Control", "max-age=259200, public"))
            .insert_header(("Access-Control-Allow-Origin", "*"))
            .body(actors::webfinger(&account, &state.config).to_string()),
        Err(e) => bare(e),
    }
}

pub async fn host_meta(state: State) -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/xrd+xml; charset=utf-8"))
        .insert_header(("Cache-Control", "max-age=259200, public"))
        .body(actors::host_meta(&state.config))
}

fn wants_activity_json(req: &HttpRequest) -> bool {
    req.headers()
        .get(ACCEPT)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|accept| accept.contains("application/activity+json") || accept.contains("application/ld+json"))
}

async fn actor_json(state: &AppState, username: &str) -> HttpResponse {
    let found = match actors::local_actor(&state.db.replica, username).await {
        Ok((account, key)) => actors::aliases(&state.db.replica, account.id).await.map(|a| (account, key, a)),
        Err(e) => Err(e),
    };
    match found {
        Ok((account, key, aliases)) => {
            let mut actor = actors::actor(&account, &key, &state.config);
            if !aliases.is_empty() {
                actor["alsoKnownAs"] = serde_json::json!(aliases);
            }
            HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, ACTIVITY_JSON))
                .insert_header((VARY, "Accept, Accept-Encoding, Origin"))
                .body(actor.to_string())
        }
        Err(e) => bare(e),
    }
}

/// The username a federation route is about: the `{username}` of `/users/…`, or that of the
/// local account whose id is the `{account_id}` of `/ap/users/…` (Mastodon 4.5's numeric URIs).
async fn named_user(state: &AppState, req: &HttpRequest, segment: String) -> Result<String, HttpResponse> {
    if req.match_info().get("account_id").is_none() {
        return Ok(segment);
    }
    let found = match segment.parse::<i64>() {
        Ok(id) => crate::model::accounts::find(&state.db.replica, id).await,
        Err(_) => Ok(None),
    };
    match found {
        Ok(Some(account)) if account.is_local() => Ok(account.username),
        Ok(_) => Err(HttpResponse::NotFound().finish()),
        Err(e) => Err(bare(e)),
    }
}

/// `/users/:username` (and `/ap/users/:id`): the actor for ActivityPub clients; browsers go
/// to the profile page.
pub async fn user(state: State, req: HttpRequest, username: web::Path<String>) -> HttpResponse {
    let username = match named_user(&state, &req, username.into_inner()).await {
        Ok(name) => name,
        Err(response) => return response,
    };
    if wants_activity_json(&req) {
        return actor_json(&state, &username).await;
    }
    HttpResponse::Found().insert_header((LOCATION, format!("/@{username}"))).insert_header((VARY, "Accept")).finish()
}

/// `/users/:username/statuses/:id`: the Note for ActivityPub clients (public and unlisted
/// statuses); browsers go to the status page.
pub async fn status(state: State, req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    let (username, id) = path.into_inner();
    let username = match named_user(&state, &req, username).await {
        Ok(name) => name,
        Err(response) => return response,
    };
    if !wants_activity_json(&req) {
        return HttpResponse::Found()
            .insert_header((LOCATION, format!("/@{username}/{id}")))
            .insert_header((VARY, "Accept"))
            .finish();
    }
    let Ok(id) = id.parse::<i64>() else { return HttpResponse::NotFound().finish() };
    if let Err(refused) = signed_fetch(&state, &req).await {
        return refused;
    }
    match crate::effects::federation::activities::status_object(&state, &username, id).await {
        Ok(note) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, ACTIVITY_JSON))
            .insert_header((VARY, "Accept, Accept-Encoding, Origin"))
            .body(note.to_string()),
        Err(e) => bare(e),
    }
}

/// `/@:username`: the actor for ActivityPub clients, a minimal profile page for browsers.
pub async fn profile(state: State, req: HttpRequest, username: web::Path<String>) -> HttpResponse {
    if wants_activity_json(&req) {
        return actor_json(&state, &username).await;
    }
    match actors::local_actor(&state.db.replica, &username).await {
        Ok((account, _)) => {
            let actor = account.actor_uri(&state.config);
            let name = crate::core::text::escape_html(if account.display_name.is_empty() {
                &account.username
            } else {
                &account.display_name
            });
            HttpResponse::Ok()
                .insert_header((CONTENT_TYPE, "text/html; charset=utf-8"))
                .insert_header((VARY, "Accept"))
                .body(format!(
                    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{name} (@{}@{})</title>\
                     <link rel=\"alternate\" type=\"application/activity+json\" href=\"{actor}\"></head>\
                     <body><h1>{name}</h1><p>@{}@{}</p></body></html>\n",
                    account.username, state.config.local_domain, account.username, state.config.local_domain
                ))
        }
        Err(e) => bare(e),
    }
}

/// What signature verification reads of a request: its path with the query, and headers.
fn signed_parts(req: &HttpRequest) -> (String, impl Fn(&str) -> Option<String> + '_) {
    let path_and_query = req.uri().path_and_query().map_or(req.path(), |p| p.as_str()).to_string();
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    (path_and_query, header)
}

/// `POST /users/:username/inbox` and the shared `POST /inbox`: 202 once the signature
/// checks out; the activity is processed on the `ingress` queue.
pub async fn inbox(state: State, req: HttpRequest, body: web::Bytes) -> Result<HttpResponse, Error> {
    if let Some(segment) = req.match_info().get("username").or(req.match_info().get("account_id")) {
        let username = match named_user(&state, &req, segment.to_string()).await {
            Ok(name) => name,
            Err(response) => return Ok(response),
        };
        actors::local_actor(&state.db.replica, &username).await?;
    }
    let (path_and_query, header) = signed_parts(&req);
    let request = inbox::SignedRequest {
        method: req.method().as_str(),
        path_and_query: &path_and_query,
        header: &header,
        body: &body,
    };
    inbox::receive(&state, request).await?;
    Ok(HttpResponse::Accepted().finish())
}

type Query = web::Query<std::collections::HashMap<String, String>>;

/// Secure mode (`AUTHORIZED_FETCH`): statuses and collections only for signed requests from
/// servers that are not suspended. Actors stay public, so that keys can be fetched.
async fn signed_fetch(state: &AppState, req: &HttpRequest) -> Result<(), HttpResponse> {
    if !state.config.authorized_fetch {
        return Ok(());
    }
    let (path_and_query, header) = signed_parts(req);
    let request = inbox::SignedRequest {
        method: req.method().as_str(),
        path_and_query: &path_and_query,
        header: &header,
        body: &[],
    };
    inbox::verify_fetch(state, &request).await.map(|_| ()).map_err(|e| actix_web::ResponseError::error_response(&e))
}

fn activity_response(document: crate::Result<serde_json::Value>) -> HttpResponse {
    match document {
        Ok(document) => HttpResponse::Ok()
            .insert_header((CONTENT_TYPE, ACTIVITY_JSON))
            .insert_header((VARY, "Accept, Accept-Encoding, Origin"))
            .body(document.to_string()),
        Err(e) => bare(e),
    }
}

/// `/users/:username/outbox` (`?page=true`, `max_id`).
pub async fn outbox(state: State, req: HttpRequest, username: web::Path<String>, query: Query) -> HttpResponse {
    if let Err(refused) = signed_fetch(&state, &req).await {
        return refused;
    }
    let username = match named_user(&state, &req, username.into_inner()).await {
        Ok(name) => name,
        Err(response) => return response,
    };
    let page = query.get("page").is_some_and(|p| p == "true" || p == "1");
    let max_id = query.get("max_id").and_then(|m| m.parse().ok());
    activity_response(collections::outbox(&state, &username, page, max_id).await)
}

/// `/users/:username/followers` and `/following` (`?page=N`).
pub async fn follows(state: State, req: HttpRequest, username: web::Path<String>, query: Query) -> HttpResponse {
    if let Err(refused) = signed_fetch(&state, &req).await {
        return refused;
    }
    let username = match named_user(&state, &req, username.into_inner()).await {
        Ok(name) => name,
        Err(response) => return response,
    };
    let followers = req.path().ends_with("/followers");
    let page = query.get("page").and_then(|p| p.parse().ok());
    activity_response(collections::follows(&state, &username, followers, page).await)
}

/// `/actor`: the instance actor, which signs what the server sends on its own behalf.
pub async fn instance_actor(state: State) -> HttpResponse {
    activity_response(crate::effects::federation::instance_actor::json(&state).await)
}

/// `/users/:username/statuses/:id/activity`.
pub async fn status_activity(state: State, req: HttpRequest, path: web::Path<(String, String)>) -> HttpResponse {
    if let Err(refused) = signed_fetch(&state, &req).await {
        return refused;
    }
    let (username, id) = path.into_inner();
    let username = match named_user(&state, &req, username).await {
        Ok(name) => name,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<i64>() else { return HttpResponse::NotFound().finish() };
    activity_response(collections::status_activity(&state, &username, id).await)
}

/// `/users/:username/statuses/:id/replies` (`?page=true`, `min_id`).
pub async fn replies(state: State, req: HttpRequest, path: web::Path<(String, String)>, query: Query) -> HttpResponse {
    if let Err(refused) = signed_fetch(&state, &req).await {
        return refused;
    }
    let (username, id) = path.into_inner();
    let username = match named_user(&state, &req, username).await {
        Ok(name) => name,
        Err(response) => return response,
    };
    let Ok(id) = id.parse::<i64>() else { return HttpResponse::NotFound().finish() };
    let page = query.get("page").is_some_and(|p| p == "true" || p == "1");
    let min_id = query.get("min_id").and_then(|m| m.parse().ok());
    activity_response(crate::effects::federation::threads::replies(&state, &username, id, page, min_id).await)
}

/// `/users/:username/collections/featured`.
pub async fn featured(state: State, req: HttpRequest, username: web::Path<String>) -> HttpResponse {
    if let Err(refused) = signed_fetch(&state, &req).await {
        return refused;
    }
    let username = match named_user(&state, &req, username.into_inner()).await {
        Ok(name) => name,
        Err(response) => return response,
    };
    activity_response(collections::featured(&state, &username).await)
}
