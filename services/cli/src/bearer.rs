//! The shared-secret bearer token of the servers the command line runs for a participant (`gateway`, `console`):
//! kept as its SHA-256 only, and compared as digests, so the comparison's time says nothing of the token.

use axum::http::{HeaderMap, header};
use sha2::{Digest, Sha256};

#[derive(Clone, Copy)]
pub struct BearerToken([u8; 32]);

impl BearerToken {
    pub fn new(secret: &str) -> Self {
        Self(Sha256::digest(secret.as_bytes()).into())
    }

    /// Whether the request carries `authorization: Bearer <the token>`.
    pub fn admits(&self, headers: &HeaderMap) -> bool {
        let given = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.as_bytes().strip_prefix(b"Bearer "))
            .unwrap_or_default();
        let digest: [u8; 32] = Sha256::digest(given).into();
        !given.is_empty() && digest == self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admits_only_the_token() {
        let token = BearerToken::new("secret-0123456789");
        let with = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, v.parse().unwrap());
            token.admits(&h)
        };
        assert!(with("Bearer secret-0123456789"));
        assert!(!with("Bearer secret-012345678"));
        assert!(!with("Bearer "));
        assert!(!with("secret-0123456789"));
        assert!(!token.admits(&HeaderMap::new()));
    }
}
