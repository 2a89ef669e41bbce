//! The form token: when the form was loaded, signed with HMAC-SHA256.
//!
//! It is the CSRF token of the form and the spam clock at once: a token
//! that is not ours is refused, one sent sooner than `min_fill_seconds`
//! after the form was loaded may be a bot (its intake is stored but held
//! from the mail until the consultant releases it), and one older than
//! `form_token_hours` asks the person to send the form again.

use hmac::{Hmac, Mac};
use rand::RngCore;
use sha2::{Digest, Sha256};

use crate::store::{Idempotency, now_ms};

type HmacSha256 = Hmac<Sha256>;

/// The server's signing key (generated under `data_dir` when not configured).
#[derive(Clone)]
pub struct TokenKey([u8; 32]);

impl std::fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenKey([REDACTED])")
    }
}

/// What a token says about a form post.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenCheck {
    /// Loaded by a person long enough ago, and recently enough.
    Fresh,
    /// Sent faster than a person usually fills a form: held, not mailed.
    TooFast,
    /// Loaded too long ago.
    Expired,
    /// Missing, malformed or not signed by this server.
    Invalid,
}

impl TokenKey {
    /// A key from 32 bytes.
    pub fn new(bytes: [u8; 32]) -> Self {
        TokenKey(bytes)
    }

    /// A fresh random key.
    pub fn random() -> Self {
        let mut bytes = [0u8; 32];
        rand::rng().fill_bytes(&mut bytes);
        TokenKey(bytes)
    }

    /// The key as hex, to keep it on disk.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// A key from its hex form.
    pub fn from_hex(text: &str) -> Option<Self> {
        let bytes = hex::decode(text.trim()).ok()?;
        Some(TokenKey(bytes.try_into().ok()?))
    }

    fn sign(&self, payload: &str) -> String {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"handoff-gate form token\0");
        mac.update(payload.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    /// A token for a form loaded now.
    pub fn issue(&self) -> String {
        self.issue_at(now_ms())
    }

    /// A token for a form loaded at `issued_ms`.
    pub fn issue_at(&self, issued_ms: i64) -> String {
        let mut nonce = [0u8; 8];
        rand::rng().fill_bytes(&mut nonce);
        let payload = format!("{issued_ms}.{}", hex::encode(nonce));
        let signature = self.sign(&payload);
        format!("{payload}.{signature}")
    }

    /// What makes a token good for one intake: stored under this key, a
    /// second post with the same token (a double click, a resend, a replay)
    /// finds the intake the first one stored, whatever its body.
    pub fn once(token: &str) -> Idempotency {
        let key_hash = hex::encode(
            Sha256::new_with_prefix(b"form token\0")
                .chain_update(token)
                .finalize(),
        );
        Idempotency {
            request_hash: key_hash.clone(),
            key_hash,
        }
    }

    /// Check a token against the fill-time window.
    pub fn check(&self, token: &str, min_fill_ms: i64, max_age_ms: i64) -> TokenCheck {
        let Some((payload, signature)) = token.rsplit_once('.') else {
            return TokenCheck::Invalid;
        };
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes any key length");
        mac.update(b"handoff-gate form token\0");
        mac.update(payload.as_bytes());
        let Ok(signature) = hex::decode(signature) else {
            return TokenCheck::Invalid;
        };
        if mac.verify_slice(&signature).is_err() {
            return TokenCheck::Invalid;
        }
        let Some(issued) = payload
            .split('.')
            .next()
            .and_then(|t| t.parse::<i64>().ok())
        else {
            return TokenCheck::Invalid;
        };
        let age = now_ms() - issued;
        if age < min_fill_ms {
            TokenCheck::TooFast
        } else if age > max_age_ms {
            TokenCheck::Expired
        } else {
            TokenCheck::Fresh
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_check_signature_and_clock() {
        let key = TokenKey::random();
        let old = key.issue_at(now_ms() - 10_000);
        assert_eq!(key.check(&old, 3_000, 60_000), TokenCheck::Fresh);
        assert_eq!(key.check(&key.issue(), 3_000, 60_000), TokenCheck::TooFast);
        assert_eq!(key.check(&old, 0, 5_000), TokenCheck::Expired);
        assert_eq!(
            TokenKey::random().check(&old, 0, 60_000),
            TokenCheck::Invalid
        );
        let forged = old.replacen(|c: char| c.is_ascii_digit(), "9", 1);
        assert_eq!(key.check(&forged, 0, i64::MAX), TokenCheck::Invalid);
        assert_eq!(key.check("", 0, 1), TokenCheck::Invalid);
        assert_eq!(TokenKey::from_hex(&key.to_hex()).unwrap().0, key.0);
    }
}
