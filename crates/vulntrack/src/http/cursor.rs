//! Opaque, tamper-checked paging cursors. A cursor carries the sort key of
//! the last row of a page, signed with HMAC-SHA256 over the team and the
//! sort it belongs to: a changed, forged or other team's cursor is refused.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use hmac::{Hmac, KeyInit, Mac};
use secrecy::{ExposeSecret, SecretString};
use serde::{Serialize, de::DeserializeOwned};
use sha2::Sha256;
use vulntrack_domain::TeamId;

type HmacSha256 = Hmac<Sha256>;

#[derive(Clone)]
pub struct CursorCodec {
    key: Vec<u8>,
}

impl std::fmt::Debug for CursorCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("CursorCodec")
    }
}

impl CursorCodec {
    /// A key of its own, derived from the server secret, so cursors and
    /// session tokens never share one.
    pub fn new(secret: &SecretString) -> Self {
        let mut mac = HmacSha256::new_from_slice(secret.expose_secret().as_bytes()).expect("HMAC takes any key length");
        mac.update(b"vulntrack-cursor-key");
        Self { key: mac.finalize().into_bytes().to_vec() }
    }

    fn tag(&self, team: TeamId, context: &str, payload: &[u8]) -> Vec<u8> {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("HMAC takes any key length");
        mac.update(team.as_uuid().as_bytes());
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(payload);
        mac.finalize().into_bytes().to_vec()
    }

    pub fn encode<T: Serialize>(&self, team: TeamId, context: &str, position: &T) -> String {
        let payload = serde_json::to_vec(position).unwrap_or_default();
        let tag = self.tag(team, context, &payload);
        format!("{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(tag))
    }

    /// The position, if the cursor is intact and was issued for this team
    /// and context.
    pub fn decode<T: DeserializeOwned>(&self, team: TeamId, context: &str, cursor: &str) -> Option<T> {
        let (payload, tag) = cursor.split_once('.')?;
        let payload = URL_SAFE_NO_PAD.decode(payload).ok()?;
        let tag = URL_SAFE_NO_PAD.decode(tag).ok()?;
        let mut mac = HmacSha256::new_from_slice(&self.key).ok()?;
        mac.update(team.as_uuid().as_bytes());
        mac.update(context.as_bytes());
        mac.update(&[0]);
        mac.update(&payload);
        mac.verify_slice(&tag).ok()?;
        serde_json::from_slice(&payload).ok()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_refuse_tampering() {
        let codec = CursorCodec::new(&SecretString::from("s".repeat(40)));
        let team = TeamId::new();
        let cursor = codec.encode(team, "-created", &(42u32, "x"));
        assert_eq!(codec.decode::<(u32, String)>(team, "-created", &cursor), Some((42, "x".into())));
        assert_eq!(codec.decode::<(u32, String)>(TeamId::new(), "-created", &cursor), None, "another team");
        assert_eq!(codec.decode::<(u32, String)>(team, "created", &cursor), None, "another sort");
        let forged = codec.encode(team, "-created", &(41u32, "x"));
        let spliced = format!(
            "{}.{}",
            forged.split('.').next().unwrap_or_default(),
            cursor.split('.').nth(1).unwrap_or_default()
        );
        assert_eq!(codec.decode::<(u32, String)>(team, "-created", &spliced), None, "payload swapped");
        assert_eq!(codec.decode::<(u32, String)>(team, "-created", "garbage"), None);
    }
}
