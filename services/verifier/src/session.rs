//! Session tokens: what the verifier hands a participant that signed in, and checks on every call without any
//! signature verification (an HMAC-SHA-256 under the verifier's session key, then a registry lookup).
//!
//! A token is `v1.` + base64url(body) + `.` + base64url(mac), unpadded, where body is
//! `u8 len || participant id || u8 len || key id || i64be expires_at_ms || 8 random bytes` and mac is
//! HMAC-SHA-256(session key, "pedigree.v1.session-token" || 0x00 || body). Replicas that share the session key accept
//! each other's tokens.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

const PREFIX: &str = "v1.";
const MAC_TAG: &[u8] = b"pedigree.v1.session-token\0";
/// No token is longer than this (ids are at most 64 characters, key ids 16).
pub const MAX_TOKEN_LEN: usize = 256;

/// Why a token is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TokenError {
    #[error("the session token is malformed")]
    Malformed,
    #[error("the session token was not issued by this ledger's verifiers")]
    BadMac,
    #[error("the session expired: sign in again")]
    Expired,
}

/// What a valid token says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claims {
    pub participant: String,
    /// Key id of the participant's key when it signed in: a token dies with a key rotation.
    pub key_id: String,
    pub expires_at_ms: i64,
}

/// The key tokens are made and checked with.
pub struct SessionKey {
    key: [u8; 32],
}

impl SessionKey {
    /// A key from secret material (a file's contents; any length, hashed to 32 bytes).
    pub fn from_secret(secret: &[u8]) -> Self {
        use sha2::Digest;
        Self {
            key: Sha256::digest(secret).into(),
        }
    }

    /// A fresh random key (tokens then die with the process and are not shared between replicas).
    pub fn random() -> Self {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).expect("the operating system's random source failed");
        Self { key }
    }

    fn mac(&self) -> HmacSha256 {
        let mut mac = <HmacSha256 as KeyInit>::new_from_slice(&self.key).expect("hmac takes any key length");
        mac.update(MAC_TAG);
        mac
    }

    /// A token for `claims`.
    pub fn issue(&self, claims: &Claims) -> String {
        let mut body = Vec::with_capacity(2 + claims.participant.len() + claims.key_id.len() + 16);
        for field in [claims.participant.as_bytes(), claims.key_id.as_bytes()] {
            let len = u8::try_from(field.len()).unwrap_or(u8::MAX);
            body.push(len);
            body.extend_from_slice(&field[..usize::from(len)]);
        }
        body.extend_from_slice(&claims.expires_at_ms.to_be_bytes());
        let mut salt = [0u8; 8];
        getrandom::fill(&mut salt).expect("the operating system's random source failed");
        body.extend_from_slice(&salt);
        let mut mac = self.mac();
        mac.update(&body);
        let tag = mac.finalize().into_bytes();
        format!(
            "{PREFIX}{}.{}",
            URL_SAFE_NO_PAD.encode(&body),
            URL_SAFE_NO_PAD.encode(tag)
        )
    }

    /// The claims of `token` if this key made it and it has not expired at `now_ms`.
    pub fn check(&self, token: &str, now_ms: i64) -> Result<Claims, TokenError> {
        if token.len() > MAX_TOKEN_LEN {
            return Err(TokenError::Malformed);
        }
        let rest = token.strip_prefix(PREFIX).ok_or(TokenError::Malformed)?;
        let (body, tag) = rest.split_once('.').ok_or(TokenError::Malformed)?;
        let body = URL_SAFE_NO_PAD.decode(body).map_err(|_| TokenError::Malformed)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| TokenError::Malformed)?;
        let mut mac = self.mac();
        mac.update(&body);
        mac.verify_slice(&tag).map_err(|_| TokenError::BadMac)?;
        let claims = parse_body(&body).ok_or(TokenError::Malformed)?;
        if claims.expires_at_ms <= now_ms {
            return Err(TokenError::Expired);
        }
        Ok(claims)
    }
}

fn parse_body(body: &[u8]) -> Option<Claims> {
    let mut rest = body;
    let mut field = || -> Option<String> {
        let (&len, tail) = rest.split_first()?;
        let (value, tail) = tail.split_at_checked(usize::from(len))?;
        rest = tail;
        String::from_utf8(value.to_vec()).ok()
    };
    let participant = field()?;
    let key_id = field()?;
    let (expires, salt) = rest.split_at_checked(8)?;
    if salt.len() != 8 {
        return None;
    }
    Some(Claims {
        participant,
        key_id,
        expires_at_ms: i64::from_be_bytes(expires.try_into().ok()?),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims() -> Claims {
        Claims {
            participant: "city-pharmacy".into(),
            key_id: "0123456789abcdef".into(),
            expires_at_ms: 2_000,
        }
    }

    #[test]
    fn a_token_round_trips_until_it_expires() {
        let key = SessionKey::random();
        let token = key.issue(&claims());
        assert!(token.len() <= MAX_TOKEN_LEN);
        assert_eq!(key.check(&token, 1_999).unwrap(), claims());
        assert_eq!(key.check(&token, 2_000), Err(TokenError::Expired));
    }

    #[test]
    fn another_key_or_a_changed_byte_is_refused() {
        let key = SessionKey::from_secret(b"one");
        let token = key.issue(&claims());
        assert_eq!(
            SessionKey::from_secret(b"two").check(&token, 0),
            Err(TokenError::BadMac)
        );
        // Change the participant inside the body: the mac no longer matches.
        let (body, tag) = token["v1.".len()..].split_once('.').unwrap();
        let mut raw = URL_SAFE_NO_PAD.decode(body).unwrap();
        raw[1] = b'k';
        let forged = format!("v1.{}.{tag}", URL_SAFE_NO_PAD.encode(raw));
        assert_eq!(key.check(&forged, 0), Err(TokenError::BadMac));
        for junk in ["", "v1.", "v1.a.b", "v2.x.y", &"v1.".repeat(200)] {
            assert!(key.check(junk, 0).is_err(), "{junk}");
        }
    }

    proptest::proptest! {
        #[test]
        fn checking_never_panics(token in ".{0,300}") {
            let _ = SessionKey::random().check(&token, 0);
        }
    }
}
