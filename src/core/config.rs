//! Configuration from Mastodon's environment variables (and a `.env.production` file).
//!
//! Every variable is read through one lookup function so tests can pass their own map.
//! A malformed value stops the process at start with a message naming the variable.

use std::collections::HashMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RailsEnv {
    Production,
    Development,
    Test,
}

/// How home feeds are laid out in Redis.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedEncoding {
    /// ferrodon's: exact 64-bit ids in one preallocated string per feed (~7 KB at 800).
    Compact,
    /// Mastodon's `feed:home:<id>` sorted sets, for instances that share Redis with it.
    SortedSet,
}

/// Where media files go: the local filesystem (Mastodon's default) or S3.
#[derive(Debug, Clone)]
pub struct MediaConfig {
    /// `PAPERCLIP_ROOT_PATH` (public/system): local files live here.
    pub root_path: std::path::PathBuf,
    /// `PAPERCLIP_ROOT_URL` (/system): where they are served.
    pub root_url: String,
    /// `CDN_HOST`: serves local files from another host.
    pub cdn_host: Option<String>,
    /// Set when `S3_ENABLED=true`.
    pub s3: Option<S3Config>,
    /// `FFMPEG_BINARY` / `FFPROBE_BINARY`: video and audio metadata and preview frames.
    pub ffmpeg: String,
    pub ffprobe: String,
}

#[derive(Debug, Clone)]
pub struct S3Config {
    pub bucket: String,
    pub region: String,
    /// `S3_ENDPOINT`, for S3-compatible services (path-style addressing).
    pub endpoint: Option<String>,
    pub protocol: String,
    pub hostname: Option<String>,
    pub alias_host: Option<String>,
    pub access_key_id: String,
    pub secret_access_key: String,
    pub key_prefix: Option<String>,
    /// `S3_PERMISSION` (public-read); empty sends no ACL, for buckets that refuse ACLs.
    pub permission: String,
}

impl MediaConfig {
    /// The object key of a media path: S3's `S3_KEY_PREFIX` applies, local paths are as is.
    pub fn object_key(&self, path: &str) -> String {
        match self.s3.as_ref().and_then(|s3| s3.key_prefix.as_deref()).filter(|p| !p.is_empty()) {
            Some(prefix) => format!("{prefix}/{path}"),
            None => path.to_string(),
        }
    }

    /// The URL under which stored objects are published.
    pub fn base_url(&self, web_base_url: &str) -> String {
        match &self.s3 {
            Some(s3) => match (&s3.alias_host, &s3.endpoint) {
                (Some(alias), _) => format!("{}://{}", s3.protocol, alias.trim_end_matches('/')),
                (None, Some(endpoint)) => format!("{}/{}", endpoint.trim_end_matches('/'), s3.bucket),
                (None, None) => {
                    let host = s3.hostname.clone().unwrap_or_else(|| format!("s3-{}.amazonaws.com", s3.region));
                    format!("{}://{host}/{}", s3.protocol, s3.bucket)
                }
            },
            None => {
                let host = match &self.cdn_host {
                    Some(cdn) => cdn.trim_end_matches('/').to_string(),
                    None => web_base_url.to_string(),
                };
                format!("{host}{}", self.root_url.trim_end_matches('/'))
            }
        }
    }
}

fn media_config(lookup: Lookup) -> Result<MediaConfig, ConfigError> {
    let s3 = if flag(lookup, "S3_ENABLED", false)? {
        let required = |name: &'static str| {
            var(lookup, name).ok_or(ConfigError { name, message: "must be set when S3_ENABLED=true".into() })
        };
        let endpoint = match var(lookup, "S3_ENDPOINT") {
            Some(u) => Some(checked_url("S3_ENDPOINT", u, &["http", "https"])?),
            None => None,
        };
        Some(S3Config {
            bucket: required("S3_BUCKET")?,
            region: var(lookup, "S3_REGION").unwrap_or_else(|| "us-east-1".into()),
            endpoint,
            protocol: var(lookup, "S3_PROTOCOL").unwrap_or_else(|| "https".into()),
            hostname: var(lookup, "S3_HOSTNAME"),
            alias_host: var(lookup, "S3_ALIAS_HOST").or_else(|| var(lookup, "S3_CLOUDFRONT_HOST")),
            access_key_id: required("AWS_ACCESS_KEY_ID")?,
            secret_access_key: required("AWS_SECRET_ACCESS_KEY")?,
            key_prefix: var(lookup, "S3_KEY_PREFIX").map(|p| p.trim_matches('/').to_string()),
            permission: lookup("S3_PERMISSION").unwrap_or_else(|| "public-read".into()),
        })
    } else {
        None
    };
    let cdn_host = match var(lookup, "CDN_HOST") {
        Some(u) => Some(checked_url("CDN_HOST", u, &["http", "https"])?),
        None => None,
    };
    Ok(MediaConfig {
        root_path: var(lookup, "PAPERCLIP_ROOT_PATH").unwrap_or_else(|| "public/system".into()).into(),
        root_url: var(lookup, "PAPERCLIP_ROOT_URL").unwrap_or_else(|| "/system".into()),
        cdn_host,
        s3,
        ffmpeg: var(lookup, "FFMPEG_BINARY").unwrap_or_else(|| "ffmpeg".into()),
        ffprobe: var(lookup, "FFPROBE_BINARY").unwrap_or_else(|| "ffprobe".into()),
    })
}

/// Outgoing mail: SMTP when `SMTP_SERVER` is set, otherwise `.eml` files in a folder.
#[derive(Debug, Clone)]
pub struct MailConfig {
    pub smtp: Option<SmtpConfig>,
    /// `SMTP_FROM_ADDRESS` (Mastodon's default: notifications@localhost).
    pub from: String,
    pub reply_to: Option<String>,
    /// ferrodon-only (`FERRODON_MAIL_DIR`, default tmp/mails): where mail goes without SMTP.
    pub mail_dir: std::path::PathBuf,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SmtpSecurity {
    /// Plain SMTP (`SMTP_ENABLE_STARTTLS=never`).
    None,
    /// STARTTLS if the server offers it (`auto`, the default).
    StartTlsIfOffered,
    /// STARTTLS or fail (`always`).
    StartTls,
    /// TLS from the first byte (`SMTP_TLS=true` or `SMTP_SSL=true`).
    Tls,
}

#[derive(Debug, Clone)]
pub struct SmtpConfig {
    pub server: String,
    pub port: u16,
    /// `SMTP_LOGIN`/`SMTP_PASSWORD`; none with `SMTP_AUTH_METHOD=none`.
    pub credentials: Option<(String, String)>,
    pub security: SmtpSecurity,
    /// `SMTP_OPENSSL_VERIFY_MODE=none` accepts any certificate.
    pub verify_certificates: bool,
    /// `SMTP_DOMAIN`: the HELO name (default `LOCAL_DOMAIN`).
    pub helo_domain: String,
}

fn mail_config(lookup: Lookup, local_domain: &str) -> Result<MailConfig, ConfigError> {
    let smtp = match var(lookup, "SMTP_SERVER") {
        None => None,
        Some(server) => {
            let tls = flag(lookup, "SMTP_TLS", false)? || flag(lookup, "SMTP_SSL", false)?;
            let starttls = match var(lookup, "SMTP_ENABLE_STARTTLS").as_deref() {
                Some("always") => SmtpSecurity::StartTls,
                Some("never" | "false") => SmtpSecurity::None,
                Some("auto") => SmtpSecurity::StartTlsIfOffered,
                Some(other) => {
                    return Err(ConfigError {
                        name: "SMTP_ENABLE_STARTTLS",
                        message: format!("expected always, never or auto, got {other:?}"),
                    });
                }
                None if flag(lookup, "SMTP_ENABLE_STARTTLS_AUTO", true)? => SmtpSecurity::StartTlsIfOffered,
                None => SmtpSecurity::None,
            };
            let auth = var(lookup, "SMTP_AUTH_METHOD").unwrap_or_else(|| "plain".into());
            let credentials = match (auth.as_str(), var(lookup, "SMTP_LOGIN")) {
                ("none", _) | (_, None) => None,
                (_, Some(login)) => Some((login, var(lookup, "SMTP_PASSWORD").unwrap_or_default())),
            };
            Some(SmtpConfig {
                server,
                port: number(lookup, "SMTP_PORT", if tls { 465 } else { 587 })?,
                credentials,
                security: if tls { SmtpSecurity::Tls } else { starttls },
                verify_certificates: var(lookup, "SMTP_OPENSSL_VERIFY_MODE").as_deref() != Some("none"),
                helo_domain: var(lookup, "SMTP_DOMAIN").unwrap_or_else(|| local_domain.to_string()),
            })
        }
    };
    Ok(MailConfig {
        smtp,
        from: var(lookup, "SMTP_FROM_ADDRESS").unwrap_or_else(|| "notifications@localhost".into()),
        reply_to: var(lookup, "SMTP_REPLY_TO"),
        mail_dir: var(lookup, "FERRODON_MAIL_DIR").unwrap_or_else(|| "tmp/mails".into()).into(),
    })
}

#[derive(Debug, Clone)]
pub struct Config {
    pub env: RailsEnv,
    /// The handle domain (`@user@LOCAL_DOMAIN`).
    pub local_domain: String,
    /// Where the web interface and API are served.
    pub web_domain: String,
    pub https: bool,
    pub database_url: String,
    pub replica_database_url: Option<String>,
    /// Connections per pool: `DB_POOL`, else Mastodon's fallback `MAX_THREADS`; when neither
    /// is set, `Config::pool_size` picks one for the machine.
    pub db_pool: Option<u32>,
    pub prepared_statements: bool,
    pub redis_url: String,
    /// ferrodon-only: a prefix for every Redis key and channel, so several instances (tests)
    /// can share one Redis. Empty by default, which is Mastodon's layout.
    pub redis_key_prefix: String,
    pub secret_key_base: String,
    /// Mastodon's `ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY` and `…_KEY_DERIVATION_SALT`: the
    /// keys of the TOTP secrets in `users.otp_secret`. Without them two-factor accounts can
    /// sign in with a backup code only.
    pub record_encryption: Option<crate::core::secrets::RecordEncryption>,
    /// Signs and checks cookies as Rails does with `SECRET_KEY_BASE` (Mastodon's `_session_id`).
    pub signed_cookies: crate::core::secrets::SignedCookies,
    pub bind: String,
    pub port: u16,
    /// `PERSISTENT_TIMEOUT` (Mastodon's Puma setting, 20 s): how long the web process keeps an
    /// idle keep-alive connection open.
    pub persistent_timeout_seconds: u64,
    pub streaming_port: u16,
    pub streaming_api_base_url: Option<String>,
    /// The OAuth password grant (`grant_type=password`): on in development and test.
    pub password_grant: bool,
    /// Mastodon's API throttles (ferrodon-only switch `FERRODON_RATE_LIMITS`, on by default).
    pub rate_limits: bool,
    pub user_active_days: i64,
    pub single_user_mode: bool,
    /// ferrodon-only: seconds a worker holds a job before another may take it over
    /// (extended while the job runs; short leases recover faster from killed workers).
    pub job_lease_seconds: i64,
    /// ferrodon-only: followers one fan-out job writes before queueing the rest.
    pub fanout_chunk: i64,
    /// ferrodon-only (`FERRODON_FEED_ENCODING=compact|mastodon`).
    pub feed_encoding: FeedEncoding,
    pub media: MediaConfig,
    pub mail: MailConfig,
    /// `ALLOWED_PRIVATE_ADDRESSES` (Mastodon's): networks that outgoing federation requests
    /// may reach although they are private or loopback (development and tests).
    pub allowed_private_addresses: Vec<(std::net::IpAddr, u8)>,
    /// The optional Meilisearch backend of search (`MEILI_URL`, `MEILI_API_KEY`); index
    /// names start with `MEILI_INDEX_PREFIX` (default `ferrodon_`).
    pub meili: Option<MeiliConfig>,
    /// `AUTHORIZED_FETCH` (or `LIMITED_FEDERATION_MODE`): statuses and collections are
    /// served to ActivityPub clients only on signed requests ("secure mode").
    pub authorized_fetch: bool,
    /// `TRUSTED_PROXY_IP`: the proxies whose `X-Forwarded-For` names the client (loopback
    /// when unset).
    pub trusted_proxies: Vec<(std::net::IpAddr, u8)>,
    /// `LIMITED_FEDERATION_MODE`: only the servers on the allow list (`domain_allows`) are
    /// talked to; every other one is treated as suspended.
    pub limited_federation: bool,
}

#[derive(Debug, Clone)]
pub struct MeiliConfig {
    pub url: String,
    pub api_key: Option<String>,
    pub index_prefix: String,
}

#[derive(Debug, thiserror::Error)]
#[error("{name}: {message}")]
pub struct ConfigError {
    pub name: &'static str,
    pub message: String,
}

type Lookup<'a> = &'a dyn Fn(&str) -> Option<String>;

fn var(lookup: Lookup, name: &str) -> Option<String> {
    lookup(name).filter(|v| !v.is_empty())
}

fn flag(lookup: Lookup, name: &'static str, default: bool) -> Result<bool, ConfigError> {
    match var(lookup, name) {
        None => Ok(default),
        Some(v) => match v.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Ok(true),
            "false" | "0" | "no" | "off" => Ok(false),
            _ => Err(ConfigError { name, message: format!("expected true or false, got {v:?}") }),
        },
    }
}

fn number<T: std::str::FromStr>(lookup: Lookup, name: &'static str, default: T) -> Result<T, ConfigError> {
    Ok(optional_number(lookup, name)?.unwrap_or(default))
}

fn optional_number<T: std::str::FromStr>(lookup: Lookup, name: &'static str) -> Result<Option<T>, ConfigError> {
    match var(lookup, name) {
        None => Ok(None),
        Some(v) => v
            .trim()
            .parse()
            .map(Some)
            .map_err(|_| ConfigError { name, message: format!("expected a number, got {v:?}") }),
    }
}

/// A list of networks (`127.0.0.0/8, ::1`), separated by commas or spaces.
/// Whether `ip` is inside the network `address/bits`.
pub fn in_network(ip: std::net::IpAddr, (network, bits): (std::net::IpAddr, u8)) -> bool {
    use std::net::IpAddr;
    match (ip, network) {
        (IpAddr::V4(ip), IpAddr::V4(net)) => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - u32::from(bits)) };
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - u32::from(bits)) };
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

fn networks(lookup: Lookup, name: &'static str) -> Result<Vec<(std::net::IpAddr, u8)>, ConfigError> {
    let Some(value) = var(lookup, name) else { return Ok(Vec::new()) };
    value
        .split(|c: char| c == ',' || c.is_whitespace())
        .filter(|s| !s.is_empty())
        .map(|item| {
            let (address, bits) = item.split_once('/').unwrap_or((item, ""));
            let address: std::net::IpAddr = address
                .parse()
                .map_err(|_| ConfigError { name, message: format!("expected an IP network, got {item:?}") })?;
            let max = if address.is_ipv4() { 32 } else { 128 };
            let bits = if bits.is_empty() { max } else { bits.parse().unwrap_or(u8::MAX) };
            if bits > max {
                return Err(ConfigError { name, message: format!("bad prefix length in {item:?}") });
            }
            Ok((address, bits))
        })
        .collect()
}

fn checked_url(name: &'static str, value: String, schemes: &[&str]) -> Result<String, ConfigError> {
    match url::Url::parse(&value) {
        Ok(u) if schemes.contains(&u.scheme()) => Ok(value),
        _ => Err(ConfigError { name, message: format!("expected a {} URL, got {value:?}", schemes.join("/")) }),
    }
}

/// Characters escaped in the user, password and database name of a built URL.
const URL_COMPONENT: &percent_encoding::AsciiSet =
    &percent_encoding::NON_ALPHANUMERIC.remove(b'_').remove(b'-').remove(b'.').remove(b'~');

/// `postgres://user:pass@host:port/name` from the `<prefix>DB_*` variables.
fn database_url_from_parts(lookup: Lookup, prefix: &str, fallback: Option<Lookup>) -> Result<String, ConfigError> {
    let get = |suffix: &str, default: &str| -> String {
        var(lookup, &format!("{prefix}{suffix}"))
            .or_else(|| fallback.and_then(|f| var(f, suffix)))
            .unwrap_or_else(|| default.to_string())
    };
    let host = get("DB_HOST", "localhost");
    let port = get("DB_PORT", "5432");
    if port.parse::<u16>().is_err() {
        return Err(ConfigError { name: "DB_PORT", message: format!("expected a port number, got {port:?}") });
    }
    let name = get("DB_NAME", "mastodon_production");
    let user = get("DB_USER", "mastodon");
    let pass = get("DB_PASS", "");
    let enc = |s: &str| percent_encoding::utf8_percent_encode(s, URL_COMPONENT).to_string();
    let auth = if pass.is_empty() { enc(&user) } else { format!("{}:{}", enc(&user), enc(&pass)) };
    Ok(format!("postgres://{auth}@{host}:{port}/{}", enc(&name)))
}

fn redis_url(lookup: Lookup) -> Result<String, ConfigError> {
    if let Some(url) = var(lookup, "REDIS_URL") {
        return checked_url("REDIS_URL", url, &["redis", "rediss", "unix"]);
    }
    let host = var(lookup, "REDIS_HOST").unwrap_or_else(|| "localhost".into());
    let port: u16 = number(lookup, "REDIS_PORT", 6379)?;
    let db: u32 = number(lookup, "REDIS_DB", 0)?;
    let auth = match (var(lookup, "REDIS_USER"), var(lookup, "REDIS_PASSWORD")) {
        (Some(u), Some(p)) => format!("{u}:{p}@"),
        (None, Some(p)) => format!(":{p}@"),
        _ => String::new(),
    };
    Ok(format!("redis://{auth}{host}:{port}/{db}"))
}

impl Config {
    /// Connections per PostgreSQL pool. Unset, twice the cores plus one (at least 5, Mastodon's
    /// default): PostgreSQL does the most work with about that many queries running at once,
    /// and on a 2-core machine a pool of 20 doubled the home timeline's p99 latency under load
    /// (see the README's performance section).
    pub fn pool_size(&self) -> u32 {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
        self.db_pool.unwrap_or((2 * cores + 1).max(5)).max(1)
    }

    /// Reads the process environment, after loading `.env.production` (or the file named by
    /// `FERRODON_ENV_FILE`) without overriding variables that are already set.
    pub fn from_env() -> Result<Self, ConfigError> {
        let file = std::env::var("FERRODON_ENV_FILE").unwrap_or_else(|_| ".env.production".into());
        if std::path::Path::new(&file).exists() {
            dotenvy::from_filename(&file)
                .map_err(|e| ConfigError { name: "FERRODON_ENV_FILE", message: format!("{file}: {e}") })?;
        }
        Self::from_lookup(&|name| std::env::var(name).ok())
    }

    pub fn from_map(map: &HashMap<String, String>) -> Result<Self, ConfigError> {
        Self::from_lookup(&|name| map.get(name).cloned())
    }

    pub fn from_lookup(lookup: Lookup) -> Result<Self, ConfigError> {
        let env = match var(lookup, "RAILS_ENV").as_deref() {
            None | Some("production") => RailsEnv::Production,
            Some("development") => RailsEnv::Development,
            Some("test") => RailsEnv::Test,
            Some(other) => {
                return Err(ConfigError {
                    name: "RAILS_ENV",
                    message: format!("expected production, development or test, got {other:?}"),
                });
            }
        };
        let production = env == RailsEnv::Production;

        let local_domain = match var(lookup, "LOCAL_DOMAIN") {
            Some(d) => d,
            None if production => {
                return Err(ConfigError { name: "LOCAL_DOMAIN", message: "must be set in production".into() });
            }
            None => "localhost:3000".into(),
        };
        if local_domain.contains('/') || local_domain.contains('@') || local_domain.contains(' ') {
            return Err(ConfigError {
                name: "LOCAL_DOMAIN",
                message: format!("expected a host name, got {local_domain:?}"),
            });
        }
        let web_domain = var(lookup, "WEB_DOMAIN").unwrap_or_else(|| local_domain.clone());
        let https = flag(lookup, "LOCAL_HTTPS", production)?;

        let database_url = match var(lookup, "DATABASE_URL") {
            Some(url) => checked_url("DATABASE_URL", url, &["postgres", "postgresql"])?,
            None => database_url_from_parts(lookup, "", None)?,
        };
        let replica_database_url = if let Some(url) = var(lookup, "REPLICA_DATABASE_URL") {
            Some(checked_url("REPLICA_DATABASE_URL", url, &["postgres", "postgresql"])?)
        } else if var(lookup, "REPLICA_DB_NAME").is_some() || var(lookup, "REPLICA_DB_HOST").is_some() {
            Some(database_url_from_parts(lookup, "REPLICA_", Some(lookup))?)
        } else {
            None
        };

        let secret_key_base = match var(lookup, "SECRET_KEY_BASE") {
            Some(s) => s,
            None if production => {
                return Err(ConfigError { name: "SECRET_KEY_BASE", message: "must be set in production".into() });
            }
            None => "ferrodon-development-secret-not-for-production".into(),
        };

        let port: u16 = number(lookup, "PORT", 3000)?;
        let streaming_port: u16 = number(lookup, "STREAMING_PORT", 4000)?;
        let bind = var(lookup, "BIND").unwrap_or_else(|| "127.0.0.1".into());
        if bind.parse::<std::net::IpAddr>().is_err() && bind != "localhost" {
            return Err(ConfigError { name: "BIND", message: format!("expected an IP address, got {bind:?}") });
        }
        let streaming_api_base_url = match var(lookup, "STREAMING_API_BASE_URL") {
            Some(u) => Some(checked_url("STREAMING_API_BASE_URL", u, &["ws", "wss", "http", "https"])?),
            None => None,
        };

        let mail = mail_config(lookup, &local_domain)?;
        Ok(Config {
            env,
            local_domain,
            web_domain,
            https,
            database_url,
            replica_database_url,
            db_pool: match optional_number(lookup, "DB_POOL")? {
                Some(n) => Some(n),
                None => optional_number(lookup, "MAX_THREADS")?,
            },
            prepared_statements: flag(lookup, "PREPARED_STATEMENTS", true)?,
            redis_url: redis_url(lookup)?,
            // Mastodon's REDIS_NAMESPACE puts "<namespace>:" before every key and channel.
            redis_key_prefix: var(lookup, "FERRODON_REDIS_PREFIX")
                .or_else(|| var(lookup, "REDIS_NAMESPACE").map(|namespace| format!("{namespace}:")))
                .unwrap_or_default(),
            signed_cookies: crate::core::secrets::SignedCookies::new(&secret_key_base),
            secret_key_base,
            record_encryption: match (
                var(lookup, "ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY"),
                var(lookup, "ACTIVE_RECORD_ENCRYPTION_KEY_DERIVATION_SALT"),
            ) {
                (Some(key), Some(salt)) => Some(crate::core::secrets::RecordEncryption::new(&key, &salt)),
                _ => None,
            },
            bind,
            port,
            persistent_timeout_seconds: number(lookup, "PERSISTENT_TIMEOUT", 20)?,
            streaming_port,
            streaming_api_base_url,
            password_grant: flag(lookup, "FERRODON_PASSWORD_GRANT", !production)?,
            rate_limits: flag(lookup, "FERRODON_RATE_LIMITS", true)?,
            user_active_days: number(lookup, "USER_ACTIVE_DAYS", 7)?,
            single_user_mode: flag(lookup, "SINGLE_USER_MODE", false)?,
            job_lease_seconds: number(lookup, "FERRODON_JOB_LEASE_SECONDS", 60)?,
            fanout_chunk: number(lookup, "FERRODON_FANOUT_CHUNK", 50_000)?.max(1),
            feed_encoding: match var(lookup, "FERRODON_FEED_ENCODING").as_deref() {
                None | Some("compact") => FeedEncoding::Compact,
                Some("mastodon") => FeedEncoding::SortedSet,
                Some(other) => {
                    return Err(ConfigError {
                        name: "FERRODON_FEED_ENCODING",
                        message: format!("expected compact or mastodon, got {other:?}"),
                    });
                }
            },
            media: media_config(lookup)?,
            mail,
            allowed_private_addresses: networks(lookup, "ALLOWED_PRIVATE_ADDRESSES")?,
            authorized_fetch: flag(lookup, "AUTHORIZED_FETCH", false)?
                || flag(lookup, "LIMITED_FEDERATION_MODE", false)?,
            limited_federation: flag(lookup, "LIMITED_FEDERATION_MODE", false)?,
            trusted_proxies: match networks(lookup, "TRUSTED_PROXY_IP")? {
                listed if !listed.is_empty() => listed,
                _ => vec![(std::net::Ipv4Addr::LOCALHOST.into(), 8), (std::net::Ipv6Addr::LOCALHOST.into(), 128)],
            },
            meili: var(lookup, "MEILI_URL").map(|url| MeiliConfig {
                url: url.trim_end_matches('/').to_string(),
                api_key: var(lookup, "MEILI_API_KEY"),
                index_prefix: var(lookup, "MEILI_INDEX_PREFIX").unwrap_or_else(|| "ferrodon_".into()),
            }),
        })
    }

    /// The public URL of a media path (`media_attachments/files/...`): local, CDN or S3.
    pub fn media_url(&self, path: &str) -> String {
        format!("{}/{}", self.media.base_url(&self.base_url()), self.media.object_key(path))
    }

    /// `https://example.com` — the base of every URL we hand out.
    pub fn base_url(&self) -> String {
        format!("{}://{}", if self.https { "https" } else { "http" }, self.web_domain)
    }

    /// The streaming URL clients are told: `STREAMING_API_BASE_URL`, else the web domain in
    /// production (behind a proxy that forwards `/api/v1/streaming`), else the streaming
    /// process itself on this host, as Mastodon outside production.
    pub fn streaming_url(&self) -> String {
        match &self.streaming_api_base_url {
            Some(u) => u.clone(),
            None if self.env == RailsEnv::Production => {
                format!("{}://{}", if self.https { "wss" } else { "ws" }, self.web_domain)
            }
            None => {
                let host = self.local_domain.rsplit_once(':').map_or(self.local_domain.as_str(), |(h, _)| h);
                format!("ws://{host}:{}", self.streaming_port)
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(pairs: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        Config::from_map(&map)
    }

    #[test]
    fn redis_keys_take_mastodons_namespace_unless_a_prefix_is_given() -> Result<(), ConfigError> {
        let dev = ("RAILS_ENV", "development");
        assert_eq!(config(&[dev])?.redis_key_prefix, "");
        assert_eq!(config(&[dev, ("REDIS_NAMESPACE", "social")])?.redis_key_prefix, "social:");
        let both = [dev, ("REDIS_NAMESPACE", "social"), ("FERRODON_REDIS_PREFIX", "t:")];
        assert_eq!(config(&both)?.redis_key_prefix, "t:");
        Ok(())
    }

    #[test]
    fn pool_size_from_db_pool_then_max_threads_then_the_cores() -> Result<(), ConfigError> {
        let base = ("RAILS_ENV", "development");
        assert_eq!(config(&[base, ("DB_POOL", "12"), ("MAX_THREADS", "3")])?.pool_size(), 12);
        assert_eq!(config(&[base, ("MAX_THREADS", "3")])?.pool_size(), 3);
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
        assert_eq!(config(&[base])?.pool_size(), (2 * cores + 1).max(5));
        assert_eq!(config(&[base, ("DB_POOL", "0")])?.pool_size(), 1);
        Ok(())
    }

    #[test]
    fn development_defaults() -> Result<(), ConfigError> {
        let c = config(&[("RAILS_ENV", "development")])?;
        assert_eq!(c.port, 3000);
        assert_eq!(c.streaming_port, 4000);
        assert_eq!(c.local_domain, "localhost:3000");
        // Clients are sent straight to the streaming process, which is what listens there.
        assert_eq!(c.streaming_url(), "ws://localhost:4000");
        assert!(c.password_grant);
        assert_eq!(c.database_url, "postgres://mastodon@localhost:5432/mastodon_production");
        Ok(())
    }

    #[test]
    fn production_requires_domain_and_secret() {
        assert_eq!(config(&[]).err().map(|e| e.name), Some("LOCAL_DOMAIN"));
        assert_eq!(config(&[("LOCAL_DOMAIN", "example.com")]).err().map(|e| e.name), Some("SECRET_KEY_BASE"));
    }

    #[test]
    fn malformed_values_name_the_variable() {
        let base = [("RAILS_ENV", "development")];
        for (name, value) in [
            ("PORT", "eighty"),
            ("DB_PORT", "x"),
            ("PREPARED_STATEMENTS", "maybe"),
            ("REDIS_URL", "http://nope"),
            ("DATABASE_URL", "mysql://x"),
            ("BIND", "not an ip"),
            ("DB_POOL", "-1"),
        ] {
            let err = config(&[base[0], (name, value)]).err();
            assert_eq!(err.map(|e| e.name), Some(name), "{name}={value}");
        }
        assert_eq!(config(&[("RAILS_ENV", "staging")]).err().map(|e| e.name), Some("RAILS_ENV"));
    }

    #[test]
    fn database_and_replica_from_parts() -> Result<(), ConfigError> {
        let c = config(&[
            ("RAILS_ENV", "test"),
            ("DB_HOST", "db"),
            ("DB_USER", "m"),
            ("DB_PASS", "p@ss"),
            ("DB_NAME", "mast"),
            ("REPLICA_DB_HOST", "replica"),
        ])?;
        assert_eq!(c.database_url, "postgres://m:p%40ss@db:5432/mast");
        assert_eq!(c.replica_database_url.as_deref(), Some("postgres://m:p%40ss@replica:5432/mast"));
        Ok(())
    }
}
