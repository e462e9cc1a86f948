//! Random bearer secrets (API tokens, invitation and reset links) and the
//! hashes they are stored as. The secrets carry 256 random bits, so a single
//! SHA-256 is enough: there is nothing to brute-force.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use sha2::{Digest, Sha256};

/// A freshly issued secret: `plain` goes to its holder once, `hash` to the
/// database.
#[derive(Clone)]
pub struct IssuedSecret {
    pub plain: String,
    pub hash: String,
}

impl std::fmt::Debug for IssuedSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedSecret").field("hash", &self.hash).finish_non_exhaustive()
    }
}

/// `prefix` followed by 32 random bytes in URL-safe base64.
pub fn issue(prefix: &str) -> IssuedSecret {
    let mut bytes = [0u8; 32];
    rand::fill(&mut bytes);
    let plain = format!("{prefix}{}", URL_SAFE_NO_PAD.encode(bytes));
    let hash = hash(&plain);
    IssuedSecret { plain, hash }
}

/// The stored form of a secret: SHA-256, hex.
pub fn hash(plain: &str) -> String {
    hex::encode(Sha256::digest(plain.as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_prefixed_random_and_hashed() {
        let a = issue("vt_");
        let b = issue("vt_");
        assert!(a.plain.starts_with("vt_"));
        assert!(a.plain.len() >= 3 + 43, "256 bits of base64");
        assert_ne!(a.plain, b.plain);
        assert_eq!(hash(&a.plain), a.hash);
        assert_eq!(a.hash.len(), 64);
        assert!(!format!("{a:?}").contains(&a.plain));
    }
}
