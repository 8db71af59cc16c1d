//! `Link` headers for paginated responses, as Mastodon writes them: `next` carries
//! `max_id` of the oldest item, `prev` carries `min_id` of the newest. Timelines and
//! notifications always offer `next`; the other lists only when the page was full.

use actix_web::{HttpRequest, HttpResponse};

use crate::AppState;

const CURSOR_KEYS: &[&str] = &["max_id", "since_id", "min_id"];

/// The header value for a page whose items span cursors `newest..oldest`, or None for an
/// empty page. `more` is false when the page is known to be the last (no `next`).
pub fn link_header(
    state: &AppState,
    req: &HttpRequest,
    newest: Option<i64>,
    oldest: Option<i64>,
    more: bool,
) -> Option<String> {
    let (newest, oldest) = (newest?, oldest?);
    let kept: Vec<(String, String)> = url::form_urlencoded::parse(req.query_string().as_bytes())
        .filter(|(k, _)| !CURSOR_KEYS.contains(&k.as_ref()))
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let url = |key: &str, value: i64| {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &kept {
            query.append_pair(k, v);
        }
        query.append_pair(key, &value.to_string());
        format!("{}{}?{}", state.config.base_url(), req.path(), query.finish())
    };
    let prev = format!("<{}>; rel=\"prev\"", url("min_id", newest));
    if more { Some(format!("<{}>; rel=\"next\", {prev}", url("max_id", oldest))) } else { Some(prev) }
}

/// A 200 JSON response with the `Link` header for items whose cursors are `cursors`
/// (newest first).
pub fn json_page(state: &AppState, req: &HttpRequest, cursors: &[i64], body: impl serde::Serialize) -> HttpResponse {
    page_response(state, req, cursors, true, body)
}

/// Like `json_page` for lists where Mastodon offers `next` only after a full page
/// (`records_continue?`): account statuses, account lists, favourites, bookmarks.
pub fn json_page_limited(
    state: &AppState,
    req: &HttpRequest,
    cursors: &[i64],
    limit: i64,
    body: impl serde::Serialize,
) -> HttpResponse {
    page_response(state, req, cursors, cursors.len() as i64 >= limit, body)
}

fn page_response(
    state: &AppState,
    req: &HttpRequest,
    cursors: &[i64],
    more: bool,
    body: impl serde::Serialize,
) -> HttpResponse {
    let mut response = HttpResponse::Ok();
    if let Some(value) = link_header(state, req, cursors.first().copied(), cursors.last().copied(), more) {
        response.insert_header(("Link", value));
    }
    response.json(body)
}
