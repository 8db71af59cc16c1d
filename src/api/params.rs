//! Request parameters as Rails reads them: the query string and the body (JSON or
//! form-encoded, with `key[]` arrays and `key[sub]` hashes) merged into one object, then
//! deserialized leniently (form values are strings: `"true"`, `"1"`, `"40"`).

use actix_web::dev::Payload;
use actix_web::http::header::CONTENT_TYPE;
use actix_web::{FromRequest, HttpRequest, web};
use futures_util::future::LocalBoxFuture;
use serde::Deserialize;
use serde::de::{DeserializeOwned, Deserializer, Error as _};
use serde_json::{Map, Value};

use crate::core::error::Error;
use crate::core::pagination::Page;
use crate::effects::media::Upload;

/// Merged query + body parameters, deserialized into `T`.
pub struct Params<T>(pub T);

fn set_path(root: &mut Map<String, Value>, key: &str, value: String) {
    let (name, rest) = match key.find('[') {
        Some(i) => (&key[..i], &key[i..]),
        None => (key, ""),
    };
    let segments: Vec<&str> = rest.split('[').filter(|s| !s.is_empty()).map(|s| s.trim_end_matches(']')).collect();
    insert(root, name, &segments, Value::String(value));
}

fn insert(map: &mut Map<String, Value>, name: &str, segments: &[&str], value: Value) {
    let Some((first, rest)) = segments.split_first() else {
        map.insert(name.to_string(), value);
        return;
    };
    if first.is_empty() {
        let entry = map.entry(name.to_string()).or_insert_with(|| Value::Array(Vec::new()));
        if !entry.is_array() {
            *entry = Value::Array(Vec::new());
        }
        let Some(list) = entry.as_array_mut() else { return };
        match rest.split_first() {
            None => list.push(value),
            Some((sub, _)) => {
                // Rails starts a new hash when the last one already has this key.
                let needs_new = list.last().and_then(|v| v.as_object()).is_none_or(|o| o.contains_key(*sub));
                if needs_new {
                    list.push(Value::Object(Map::new()));
                }
                if let Some(Value::Object(obj)) = list.last_mut() {
                    insert(obj, sub, &rest[1..], value);
                }
            }
        }
        return;
    }
    let entry = map.entry(name.to_string()).or_insert_with(|| Value::Object(Map::new()));
    if !entry.is_object() {
        *entry = Value::Object(Map::new());
    }
    if let Value::Object(obj) = entry {
        insert(obj, first, rest, value);
    }
}

pub fn parse_form(input: &[u8], into: &mut Map<String, Value>) {
    for (key, value) in url::form_urlencoded::parse(input) {
        set_path(into, &key, value.into_owned());
    }
}

fn malformed() -> Error {
    Error::bad_request("Error occurred while parsing request parameters")
}

/// Merged parameters plus the files of a multipart body (uploads).
pub struct Form<T>(pub T, pub Files);

/// Uploaded files by parameter name (`file`, `thumbnail`, `avatar`, `header`).
pub type Files = std::collections::HashMap<String, Upload>;

/// Text parameters and files of one request.
type RawParams = (Map<String, Value>, Files);

/// Reads the query string and the body into one parameter object (and files).
fn read_params(req: &HttpRequest, payload: &mut Payload) -> LocalBoxFuture<'static, Result<RawParams, Error>> {
    let query = req.query_string().to_string();
    let content_type = req.headers().get(CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("").to_string();
    let body = web::Bytes::from_request(req, payload);
    Box::pin(async move {
        let mut params = Map::new();
        let mut files = Files::new();
        parse_form(query.as_bytes(), &mut params);
        let body = body.await.map_err(|_| Error::bad_request("Request body is too large or unreadable"))?;
        if !body.is_empty() {
            let lowered = content_type.to_ascii_lowercase();
            if lowered.starts_with("application/json") {
                match serde_json::from_slice::<Value>(&body).map_err(|_| malformed())? {
                    Value::Object(obj) => params.extend(obj),
                    _ => return Err(malformed()),
                }
            } else if lowered.starts_with("multipart/form-data") {
                parse_multipart(&content_type, &body, &mut params, &mut files)?;
            } else {
                parse_form(&body, &mut params);
            }
        }
        if contains_nul(&params) {
            return Err(Error::bad_request("Invalid parameters: null bytes are not allowed"));
        }
        Ok((params, files))
    })
}

fn deserialize<T: DeserializeOwned>(params: Map<String, Value>) -> Result<T, Error> {
    T::deserialize(Value::Object(params)).map_err(|e| Error::bad_request(format!("Invalid parameters: {e}")))
}

impl<T: DeserializeOwned + 'static> FromRequest for Params<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = read_params(req, payload);
        Box::pin(async move { deserialize(read.await?.0).map(Params) })
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = Error;
    type Future = LocalBoxFuture<'static, Result<Self, Error>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let read = read_params(req, payload);
        Box::pin(async move {
            let (params, files) = read.await?;
            Ok(Form(deserialize(params)?, files))
        })
    }
}

/// True if any string (or key) holds a NUL character, which PostgreSQL cannot store in
/// text: such input is refused as malformed instead of failing at the database.
fn contains_nul(map: &Map<String, Value>) -> bool {
    fn value(v: &Value) -> bool {
        match v {
            Value::String(s) => s.contains('\0'),
            Value::Array(items) => items.iter().any(value),
            Value::Object(map) => contains_nul(map),
            _ => false,
        }
    }
    map.iter().any(|(k, v)| k.contains('\0') || value(v))
}

/// A multipart body: text fields into `into`, file parts into `files`. Binary-safe.
fn parse_multipart(
    content_type: &str,
    body: &[u8],
    into: &mut Map<String, Value>,
    files: &mut Files,
) -> Result<(), Error> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| {
            let p = p.trim();
            p.get(..9).filter(|k| k.eq_ignore_ascii_case("boundary=")).map(|_| &p[9..])
        })
        .next()
        .map(|b| b.trim_matches('"').to_string())
        .ok_or_else(malformed)?;
    let delimiter = format!("--{boundary}");
    let finder = memchr::memmem::Finder::new(delimiter.as_bytes());
    let starts: Vec<usize> = finder.find_iter(body).collect();
    for pair in starts.windows(2) {
        let part = &body[pair[0] + delimiter.len()..pair[1]];
        let part = part.strip_prefix(b"\r\n").unwrap_or(part);
        let Some(split) = memchr::memmem::find(part, b"\r\n\r\n") else { continue };
        let headers = String::from_utf8_lossy(&part[..split]);
        let content = &part[split + 4..];
        let content = content.strip_suffix(b"\r\n").unwrap_or(content);
        let header = |name: &str| {
            headers
                .lines()
                .find(|l| l.len() > name.len() && l[..name.len()].eq_ignore_ascii_case(name))
                .map(|l| l[name.len() + 1..].trim().to_string())
        };
        let disposition = header("content-disposition").unwrap_or_default();
        let attribute = |key: &str| {
            disposition
                .split(';')
                .filter_map(|p| p.trim().strip_prefix(key).and_then(|v| v.strip_prefix('=')))
                .map(|v| v.trim_matches('"').to_string())
                .next()
        };
        let Some(name) = attribute("name") else { continue };
        match attribute("filename") {
            Some(file_name) => {
                let content_type = header("content-type").unwrap_or_else(|| "application/octet-stream".into());
                files.insert(name, Upload { file_name, content_type, bytes: content.to_vec() });
            }
            None => set_path(into, &name, String::from_utf8_lossy(content).into_owned()),
        }
    }
    Ok(())
}

/// Mastodon's pagination parameters (`max_id`, `since_id`, `min_id`, `limit`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct PageParams {
    #[serde(default, deserialize_with = "opt_id")]
    pub max_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_id")]
    pub since_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_id")]
    pub min_id: Option<i64>,
    #[serde(default, deserialize_with = "opt_i64")]
    pub limit: Option<i64>,
}

impl PageParams {
    pub fn page(&self, default: i64, max: i64) -> Page {
        Page::new([self.max_id, self.since_id, self.min_id], self.limit, default, max)
    }
}

// Lenient deserializers for form-encoded values.

pub fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::Bool(b)) => Some(b),
        Some(Value::Number(n)) => Some(n.as_i64() != Some(0)),
        Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
            "" => None,
            "true" | "1" | "on" | "yes" | "t" => Some(true),
            "false" | "0" | "off" | "no" | "f" => Some(false),
            _ => return Err(D::Error::custom(format!("{s:?} is not a boolean"))),
        },
        Some(other) => return Err(D::Error::custom(format!("{other} is not a boolean"))),
    })
}

pub fn opt_i64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) if s.trim().is_empty() => None,
        Some(Value::String(s)) => {
            Some(s.trim().parse().map_err(|_| D::Error::custom(format!("{s:?} is not a number")))?)
        }
        Some(other) => return Err(D::Error::custom(format!("{other} is not a number"))),
    })
}

/// An id that may be absent or unparseable (then treated as absent, as pagination cursors).
pub fn opt_id<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(Value::Number(n)) => n.as_i64(),
        Some(Value::String(s)) => s.trim().parse().ok(),
        _ => None,
    })
}

/// A string that may arrive as a number or boolean in JSON.
pub fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s),
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(Value::Bool(b)) => Some(b.to_string()),
        Some(other) => return Err(D::Error::custom(format!("{other} is not a string"))),
    })
}

/// A list given as `key[]=a&key[]=b`, a JSON array, a single value or a hash of values.
pub fn string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    fn item(v: Value) -> Option<String> {
        match v {
            Value::String(s) => Some(s),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        }
    }
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items.into_iter().filter_map(item).collect(),
        Some(Value::Object(map)) => map.into_iter().filter_map(|(_, v)| item(v)).collect(),
        Some(other) => item(other).into_iter().collect(),
    })
}

/// `string_list`, keeping apart a list that was not given (`None`) and an empty one.
pub fn opt_string_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<String>>, D::Error> {
    let given = Option::<Value>::deserialize(d)?;
    match given {
        None | Some(Value::Null) => Ok(None),
        Some(value) => string_list(value).map(Some).map_err(D::Error::custom),
    }
}

/// A list of hashes given as an array or as `{"0": {...}, "1": {...}}`.
pub fn hash_list<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Vec<Map<String, Value>>>, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        None | Some(Value::Null) => None,
        Some(Value::Array(items)) => Some(items.into_iter().filter_map(|v| v.as_object().cloned()).collect()),
        Some(Value::Object(map)) => {
            let mut entries: Vec<(String, Value)> = map.into_iter().collect();
            entries.sort_by_key(|(k, _)| k.parse::<i64>().unwrap_or(i64::MAX));
            Some(entries.into_iter().filter_map(|(_, v)| v.as_object().cloned()).collect())
        }
        Some(_) => return Err(D::Error::custom("expected a list")),
    })
}

/// A path id: numeric or 404 (Mastodon's `find` on a non-numeric id).
pub fn path_id(raw: &str) -> Result<i64, Error> {
    raw.parse().map_err(|_| Error::NotFound)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rails_style_form_keys() {
        let mut map = Map::new();
        parse_form(
            b"status=hi&media_ids[]=1&media_ids[]=2&poll[options][]=a&fields_attributes[0][name]=n&fields_attributes[0][value]=v&x[][a]=1&x[][b]=2&x[][a]=3",
            &mut map,
        );
        let v = Value::Object(map);
        assert_eq!(v["status"], "hi");
        assert_eq!(v["media_ids"], serde_json::json!(["1", "2"]));
        assert_eq!(v["poll"]["options"], serde_json::json!(["a"]));
        assert_eq!(v["fields_attributes"]["0"]["name"], "n");
        assert_eq!(v["x"], serde_json::json!([{"a": "1", "b": "2"}, {"a": "3"}]));
    }

    #[test]
    fn multipart_text_fields() -> Result<(), Error> {
        let body = "--XX\r\nContent-Disposition: form-data; name=\"status\"\r\n\r\nhello\r\nworld\r\n--XX\r\nContent-Disposition: form-data; name=\"visibility\"\r\n\r\nprivate\r\n--XX--\r\n";
        let mut map = Map::new();
        let mut files = Files::new();
        parse_multipart("multipart/form-data; boundary=XX", body.as_bytes(), &mut map, &mut files)?;
        assert_eq!(map["status"], "hello\r\nworld");
        assert_eq!(map["visibility"], "private");
        assert!(files.is_empty());

        let mut body = b"--XX\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\nContent-Type: image/png\r\n\r\n".to_vec();
        body.extend_from_slice(b"\x89PNG\r\n\x1a\n\0\xff--X");
        body.extend_from_slice(
            b"\r\n--XX\r\nContent-Disposition: form-data; name=\"description\"\r\n\r\ncat\r\n--XX--\r\n",
        );
        let mut map = Map::new();
        parse_multipart("multipart/form-data; boundary=XX", &body, &mut map, &mut files)?;
        let file = &files["file"];
        assert_eq!((file.file_name.as_str(), file.content_type.as_str()), ("a.png", "image/png"));
        assert_eq!(file.bytes, b"\x89PNG\r\n\x1a\n\0\xff--X");
        assert_eq!(map["description"], "cat");
        Ok(())
    }
}
