//! The signed session cookie: an HS256 JWT naming a server-side session.
//!
//! The header's `kid` names the key that signed it, derived from the secret
//! itself, so after a rotation (`VULNTRACK_SECRET_PREVIOUS`) tokens signed
//! with the old secret still verify while new ones use the new secret.

use chrono::{DateTime, Utc};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation, decode, decode_header, encode};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SessionClaims {
    /// The session record.
    pub sid: Uuid,
    /// The user.
    pub sub: Uuid,
    pub iat: i64,
    pub exp: i64,
}

struct Key {
    kid: String,
    encoding: EncodingKey,
    decoding: DecodingKey,
}

impl Key {
    fn new(secret: &SecretString) -> Result<Self, jsonwebtoken::errors::Error> {
        let bytes = secret.expose_secret().as_bytes();
        // The kid identifies the key without revealing it: a prefix of a
        // domain-separated hash.
        let digest = Sha256::digest([b"vulntrack-session-kid:".as_slice(), bytes].concat());
        Ok(Self {
            kid: hex::encode(&digest[..8]),
            encoding: EncodingKey::from_secret(bytes)?,
            decoding: DecodingKey::from_secret(bytes)?,
        })
    }
}

/// Signs with the current secret; verifies with the current or previous one.
pub struct SessionKeys {
    current: Key,
    previous: Option<Key>,
}

impl std::fmt::Debug for SessionKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionKeys")
            .field("current_kid", &self.current.kid)
            .field("previous_kid", &self.previous.as_ref().map(|k| &k.kid))
            .finish()
    }
}

impl SessionKeys {
    pub fn new(current: &SecretString, previous: Option<&SecretString>) -> Result<Self, jsonwebtoken::errors::Error> {
        Ok(Self { current: Key::new(current)?, previous: previous.map(Key::new).transpose()? })
    }

    pub fn sign(&self, session_id: Uuid, user_id: Uuid, expires_at: DateTime<Utc>) -> String {
        let claims =
            SessionClaims { sid: session_id, sub: user_id, iat: Utc::now().timestamp(), exp: expires_at.timestamp() };
        let header = Header { kid: Some(self.current.kid.clone()), ..Header::new(Algorithm::HS256) };
        // Encoding HS256 claims of plain integers and UUIDs cannot fail.
        encode(&header, &claims, &self.current.encoding).unwrap_or_default()
    }

    /// The claims of a token signed by a known key, unexpired; `None` for
    /// anything else (bad signature, unknown kid, other algorithm, expired).
    pub fn verify(&self, token: &str) -> Option<SessionClaims> {
        let header = decode_header(token).ok()?;
        if header.alg != Algorithm::HS256 {
            return None;
        }
        let kid = header.kid?;
        let key = [Some(&self.current), self.previous.as_ref()].into_iter().flatten().find(|k| k.kid == kid)?;
        let mut validation = Validation::new(Algorithm::HS256);
        validation.leeway = 0;
        validation.set_required_spec_claims(&["exp"]);
        decode::<SessionClaims>(token, &key.decoding, &validation).ok().map(|data| data.claims)
    }
}

#[cfg(test)]
mod tests {
    use chrono::Duration;

    use super::*;

    fn secret(s: &str) -> SecretString {
        SecretString::from(s.repeat(40))
    }

    #[test]
    fn tokens_round_trip() {
        let keys = SessionKeys::new(&secret("a"), None).expect("keys");
        let (sid, sub) = (Uuid::now_v7(), Uuid::now_v7());
        let token = keys.sign(sid, sub, Utc::now() + Duration::hours(1));
        let claims = keys.verify(&token).expect("valid");
        assert_eq!((claims.sid, claims.sub), (sid, sub));
    }

    #[test]
    fn expired_tampered_and_foreign_tokens_are_refused() {
        let keys = SessionKeys::new(&secret("a"), None).expect("keys");
        let expired = keys.sign(Uuid::now_v7(), Uuid::now_v7(), Utc::now() - Duration::seconds(1));
        assert!(keys.verify(&expired).is_none());

        let token = keys.sign(Uuid::now_v7(), Uuid::now_v7(), Utc::now() + Duration::hours(1));
        let mut parts: Vec<String> = token.split('.').map(str::to_string).collect();
        parts[1] = base64::Engine::encode(
            &base64::engine::general_purpose::URL_SAFE_NO_PAD,
            br#"{"sid":"00000000-0000-0000-0000-000000000000","sub":"00000000-0000-0000-0000-000000000000","iat":0,"exp":9999999999}"#,
        );
        assert!(keys.verify(&parts.join(".")).is_none(), "a changed payload fails the signature");

        let other = SessionKeys::new(&secret("b"), None).expect("keys");
        assert!(other.verify(&token).is_none(), "another secret's token is refused");
        assert!(keys.verify("not.a.jwt").is_none());
    }

    #[test]
    fn the_previous_secret_still_verifies_after_rotation() {
        let old = SessionKeys::new(&secret("old"), None).expect("keys");
        let token = old.sign(Uuid::now_v7(), Uuid::now_v7(), Utc::now() + Duration::hours(1));
        let rotated = SessionKeys::new(&secret("new"), Some(&secret("old"))).expect("keys");
        assert!(rotated.verify(&token).is_some());
        let fresh = rotated.sign(Uuid::now_v7(), Uuid::now_v7(), Utc::now() + Duration::hours(1));
        assert!(old.verify(&fresh).is_none(), "new tokens use the new secret");
        let after_retirement = SessionKeys::new(&secret("new"), None).expect("keys");
        assert!(after_retirement.verify(&token).is_none());
    }
}
