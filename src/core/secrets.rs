//! Mastodon's stored secrets: Active Record Encryption (how Mastodon 4.3+ keeps
//! `users.otp_secret`), the TOTP codes those secrets produce (RFC 6238, as ROTP and
//! devise-two-factor check them), and Rails' signed cookies (Mastodon's `_session_id`).

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, Mac};
use serde_json::{Value, json};

/// The keys `ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY` and `…_KEY_DERIVATION_SALT` give. The
/// environment strings are used as they are, not decoded.
#[derive(Clone)]
pub struct RecordEncryption {
    /// PBKDF2-HMAC-SHA256, the key Mastodon writes with.
    key: [u8; 32],
    /// PBKDF2-HMAC-SHA1, also tried on reading (rows written by 4.3 pre-releases).
    sha1_key: [u8; 32],
}

impl std::fmt::Debug for RecordEncryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RecordEncryption(..)")
    }
}

/// Rails' iteration count for key derivation (2^16).
const ITERATIONS: u32 = 65_536;

impl RecordEncryption {
    pub fn new(primary_key: &str, salt: &str) -> Self {
        let mut key = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(primary_key.as_bytes(), salt.as_bytes(), ITERATIONS, &mut key);
        let mut sha1_key = [0u8; 32];
        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(primary_key.as_bytes(), salt.as_bytes(), ITERATIONS, &mut sha1_key);
        RecordEncryption { key, sha1_key }
    }

    /// The plaintext of a stored value `{"p": …, "h": {"iv": …, "at": …}}`, or `None` when
    /// it is not one or neither key opens it.
    pub fn decrypt(&self, stored: &str) -> Option<String> {
        let message: Value = serde_json::from_str(stored).ok()?;
        let decode = |v: &Value| B64.decode(v.as_str()?).ok();
        let mut ciphertext = decode(&message["p"])?;
        let iv: [u8; 12] = decode(&message["h"]["iv"])?.try_into().ok()?;
        let tag = decode(&message["h"]["at"])?;
        if tag.len() != 16 {
            return None;
        }
        ciphertext.extend_from_slice(&tag);
        let plain = [&self.key, &self.sha1_key].into_iter().find_map(|key| {
            let cipher = Aes256Gcm::new_from_slice(key).ok()?;
            cipher.decrypt(&Nonce::from(iv), Payload { msg: &ciphertext, aad: b"" }).ok()
        })?;
        let plain = if message["h"]["c"] == json!(true) { inflate(&plain)? } else { plain };
        String::from_utf8(plain).ok()
    }

    /// `plaintext` stored the way Mastodon writes it (SHA-256 key, a fresh IV), for short
    /// values such as OTP secrets (Rails compresses only values over 140 bytes).
    pub fn encrypt(&self, plaintext: &str) -> String {
        let iv: [u8; 12] = rand::random();
        let cipher = Aes256Gcm::new_from_slice(&self.key).unwrap_or_else(|_| unreachable!("the key is 32 bytes"));
        let mut sealed = cipher
            .encrypt(&Nonce::from(iv), Payload { msg: plaintext.as_bytes(), aad: b"" })
            .unwrap_or_else(|_| unreachable!("AES-GCM seals any short message"));
        let tag = sealed.split_off(sealed.len() - 16);
        json!({"p": B64.encode(&sealed), "h": {"iv": B64.encode(iv), "at": B64.encode(tag)}}).to_string()
    }
}

/// zlib-wrapped deflate, as Rails' compressor writes it; stored OTP secrets are never
/// compressed, so this only has to read what it is handed.
fn inflate(data: &[u8]) -> Option<Vec<u8>> {
    use std::io::Read;
    let mut out = Vec::new();
    flate2::read::ZlibDecoder::new(data).read_to_end(&mut out).ok()?;
    Some(out)
}

/// RFC 4648 base32 (A–Z, 2–7), case-insensitive, padding ignored.
fn base32_decode(text: &str) -> Option<Vec<u8>> {
    let mut bits: u64 = 0;
    let mut count = 0;
    let mut out = Vec::new();
    for c in text.trim_end_matches('=').chars() {
        let value = match c.to_ascii_uppercase() {
            c @ 'A'..='Z' => c as u64 - 'A' as u64,
            c @ '2'..='7' => c as u64 - '2' as u64 + 26,
            _ => return None,
        };
        bits = (bits << 5) | value;
        count += 5;
        if count >= 8 {
            count -= 8;
            out.push((bits >> count) as u8);
            bits &= (1 << count) - 1;
        }
    }
    Some(out)
}

/// Rails' signed cookies, keyed from `SECRET_KEY_BASE`: `B64(envelope)--hex(HMAC-SHA1)`, the
/// envelope `{"_rails":{"message":B64(JSON value),"exp":…,"pur":"cookie.<name>"}}`.
#[derive(Clone)]
pub struct SignedCookies {
    /// PBKDF2-HMAC-SHA256 of the secret, salt "signed cookie", 1000 iterations: Mastodon 4.3+.
    key: [u8; 64],
    /// The same with SHA-1 (Mastodon 4.2), accepted on reading.
    sha1_key: [u8; 64],
}

impl std::fmt::Debug for SignedCookies {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SignedCookies(..)")
    }
}

impl SignedCookies {
    pub fn new(secret_key_base: &str) -> Self {
        let mut key = [0u8; 64];
        pbkdf2::pbkdf2_hmac::<sha2::Sha256>(secret_key_base.as_bytes(), b"signed cookie", 1000, &mut key);
        let mut sha1_key = [0u8; 64];
        pbkdf2::pbkdf2_hmac::<sha1::Sha1>(secret_key_base.as_bytes(), b"signed cookie", 1000, &mut sha1_key);
        SignedCookies { key, sha1_key }
    }

    fn digest(key: &[u8], data: &str) -> Option<Hmac<sha1::Sha1>> {
        let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(key).ok()?;
        mac.update(data.as_bytes());
        Some(mac)
    }

    /// The string a cookie named `name` holds (its value URL-decoded already), if its
    /// signature, purpose and expiry check out at `now` (Unix seconds).
    pub fn verify(&self, name: &str, cookie: &str, now: i64) -> Option<String> {
        let (data, signature) = cookie.rsplit_once("--")?;
        let signature = hex::decode(signature).ok()?;
        let signed = [&self.key, &self.sha1_key]
            .iter()
            .any(|key| Self::digest(&key[..], data).is_some_and(|mac| mac.verify_slice(&signature).is_ok()));
        if !signed {
            return None;
        }
        let envelope: Value = serde_json::from_slice(&B64.decode(data).ok()?).ok()?;
        let rails = &envelope["_rails"];
        if rails["pur"].as_str() != Some(&format!("cookie.{name}")) {
            return None;
        }
        if let Some(expiry) = rails["exp"].as_str() {
            let expiry = chrono::DateTime::parse_from_rfc3339(expiry).ok()?;
            if expiry.timestamp() <= now {
                return None;
            }
        }
        let message: Value = serde_json::from_slice(&B64.decode(rails["message"].as_str()?).ok()?).ok()?;
        message.as_str().map(str::to_string)
    }

    /// The token a form carries to prove it was served to the browser of `session_id`.
    pub fn form_token(&self, session_id: &str) -> String {
        let mac = Self::digest(&self.key, &format!("form:{session_id}"));
        mac.map(|mac| hex::encode(mac.finalize().into_bytes())).unwrap_or_default()
    }

    /// Whether `token` is the form token of `session_id` (compared in constant time).
    pub fn form_token_matches(&self, session_id: &str, token: &str) -> bool {
        let Ok(token) = hex::decode(token) else { return false };
        Self::digest(&self.key, &format!("form:{session_id}")).is_some_and(|mac| mac.verify_slice(&token).is_ok())
    }

    /// A cookie value (to be URL-encoded) holding `value` under `name` until `expires`, as
    /// Mastodon signs it, so that Mastodon reads it back.
    pub fn sign(&self, name: &str, value: &str, expires: chrono::DateTime<chrono::Utc>) -> String {
        let message = B64.encode(Value::String(value.to_string()).to_string());
        let exp = expires.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
        let envelope = json!({ "_rails": { "message": message, "exp": exp, "pur": format!("cookie.{name}") } });
        let data = B64.encode(envelope.to_string());
        let signature = Self::digest(&self.key, &data).map(|mac| hex::encode(mac.finalize().into_bytes()));
        format!("{data}--{}", signature.unwrap_or_default())
    }
}

/// A new TOTP secret as Mastodon 4.3+ makes one: 32 random bytes, 52 base32 characters.
pub fn new_otp_secret() -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    (0..52).map(|_| ALPHABET[rand::random_range(0..32)] as char).collect()
}

/// The six-digit code of `secret` for time step `step` (30 s steps since the epoch).
pub fn totp_code(secret: &str, step: i64) -> Option<String> {
    let key = base32_decode(secret)?;
    let mut mac = <Hmac<sha1::Sha1> as Mac>::new_from_slice(&key).ok()?;
    mac.update(&step.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = (digest[19] & 0x0f) as usize;
    let number =
        u32::from_be_bytes([digest[offset] & 0x7f, digest[offset + 1], digest[offset + 2], digest[offset + 3]]);
    Some(format!("{:06}", number % 1_000_000))
}

/// The time step `code` matches at `now` (one step of drift either way), taking only steps
/// after `consumed` so that a code is accepted once.
pub fn totp_step(secret: &str, code: &str, now: i64, consumed: Option<i64>) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.is_empty() {
        return None;
    }
    let current = now.div_euclid(30);
    (current - 1..=current + 1)
        .filter(|step| consumed.is_none_or(|c| *step > c))
        .find(|step| totp_code(secret, *step).is_some_and(|expected| expected == code))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn totp_matches_rfc_6238() {
        // RFC 6238 appendix B, SHA-1 seed "12345678901234567890", truncated to six digits.
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";
        assert_eq!(totp_code(secret, 59 / 30).as_deref(), Some("287082"));
        assert_eq!(totp_code(secret, 1_111_111_109 / 30).as_deref(), Some("081804"));
        assert_eq!(totp_code(secret, 1_234_567_890 / 30).as_deref(), Some("005924"));
        assert_eq!(totp_code(secret, 2_000_000_000 / 30).as_deref(), Some("279037"));
    }

    #[test]
    fn a_code_is_taken_once_and_only_near_its_time() {
        let secret = new_otp_secret();
        let now = 1_700_000_000;
        let code = totp_code(&secret, now / 30).unwrap();
        let step = totp_step(&secret, &code, now, None).unwrap();
        assert_eq!(step, now / 30);
        assert_eq!(totp_step(&secret, &code, now, Some(step)), None, "replay");
        assert_eq!(totp_step(&secret, &format!(" {} {} ", &code[..3], &code[3..]), now + 30, None), Some(step));
        assert_eq!(totp_step(&secret, &code, now + 95, None), None, "too late");
        assert_eq!(totp_step(&secret, "", now, None), None);
    }

    #[test]
    fn reads_what_rails_wrote() {
        // Written by an independent AES-256-GCM (Python's cryptography) with Rails' key
        // derivation from ACTIVE_RECORD_ENCRYPTION_PRIMARY_KEY=primary, …_SALT=salt.
        let keys = RecordEncryption::new("primary", "salt");
        let secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP";
        let sha256 = r#"{"p":"Fne6+sIr5n8VgfAOf36d4KcTW576LlxxxvPsBuTPuzA=","h":{"iv":"AAECAwQFBgcICQoL","at":"CN8ow3u2MIdY3zCJq7VP6g=="}}"#;
        let sha1 = r#"{"p":"sbm6DpPOSEC1j2NrjgJAXgS51SyU3S3bpToz1qB6qQ0=","h":{"iv":"AAECAwQFBgcICQoL","at":"zUDo1kA/HqLH6VseoZLJvQ=="}}"#;
        assert_eq!(keys.decrypt(sha256).as_deref(), Some(secret));
        assert_eq!(keys.decrypt(sha1).as_deref(), Some(secret), "the SHA-1 fallback key");
        // Compressed (zlib), with the encoding header the 4.3 migration leaves.
        let compressed = r#"{"p":"pebw30xbQy4CJqXF","h":{"iv":"AAAAAAAAAAAAAAAA","at":"sqaaz97JT2ZvhrYJeNGKCg==","c":true,"e":"QVNDSUktOEJJVA=="}}"#;
        assert_eq!(keys.decrypt(compressed), Some("A".repeat(200)));
        assert_eq!(RecordEncryption::new("other", "salt").decrypt(sha256), None);
        let written = keys.encrypt(secret);
        assert_eq!(keys.decrypt(&written).as_deref(), Some(secret));
        assert_eq!(keys.decrypt(secret), None, "plaintext in the column is refused");
    }

    /// `_session_id` cookies signed by Python's hmac/hashlib the way Rails does, with the
    /// SHA-256 key (Mastodon 4.3+) and the SHA-1 key (4.2), for "fixturealicesession0000000000000".
    const SESSION_SHA256: &str = "eyJfcmFpbHMiOnsibWVzc2FnZSI6IkltWnBlSFIxY21WaGJHbGpaWE5sYzNOcGIyNHdNREF3TURBd01EQXdNREF3SWc9PSIsImV4cCI6IjIwMjctMTItMDFUMTA6MDA6MDAuMDAwWiIsInB1ciI6ImNvb2tpZS5fc2Vzc2lvbl9pZCJ9fQ==--854f8467262ae943536a4ad6ecfcc5a906d0e64d";
    const SESSION_SHA1: &str = "eyJfcmFpbHMiOnsibWVzc2FnZSI6IkltWnBlSFIxY21WaGJHbGpaWE5sYzNOcGIyNHdNREF3TURBd01EQXdNREF3SWc9PSIsImV4cCI6IjIwMjctMTItMDFUMTA6MDA6MDAuMDAwWiIsInB1ciI6ImNvb2tpZS5fc2Vzc2lvbl9pZCJ9fQ==--f287569e9b79df4d243ef47a1dad5f9c0bd231c0";
    const SECRET: &str = "fixture-secret-key-base-0123456789abcdef0123456789abcdef";

    #[test]
    fn signed_cookies_read_as_rails_writes_them() {
        let cookies = SignedCookies::new(SECRET);
        let now = 1_796_000_000; // 2026-11
        for cookie in [SESSION_SHA256, SESSION_SHA1] {
            assert_eq!(cookies.verify("_session_id", cookie, now).as_deref(), Some("fixturealicesession0000000000000"));
        }
        assert_eq!(cookies.verify("_other", SESSION_SHA256, now), None, "purpose");
        assert_eq!(cookies.verify("_session_id", SESSION_SHA256, 1_900_000_000), None, "expired in 2027");
        assert_eq!(SignedCookies::new("another secret").verify("_session_id", SESSION_SHA256, now), None);
        let tampered = SESSION_SHA256.replace("--854f", "--954f");
        assert_eq!(cookies.verify("_session_id", &tampered, now), None);

        let expires = chrono::DateTime::from_timestamp(1_830_000_000, 0).unwrap();
        let signed = cookies.sign("_session_id", "0123456789abcdef0123456789abcdef", expires);
        assert_eq!(cookies.verify("_session_id", &signed, now).as_deref(), Some("0123456789abcdef0123456789abcdef"));
    }
}
