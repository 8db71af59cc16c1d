//! Mastodon's stored secrets: Active Record Encryption (how Mastodon 4.3+ keeps
//! `users.otp_secret`) and the TOTP codes those secrets produce (RFC 6238, as ROTP and
//! devise-two-factor check them).

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
}
