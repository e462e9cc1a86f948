//! The mail a notification (or a day's digest of them) becomes: plain
//! text, naming what happened, with the link to the record and to where
//! the person chooses what they are sent.

use serde_json::Value;
use vulntrack_domain::notification_prefs::KINDS;
use vulntrack_store::users::User;

use crate::{app::AppState, mail::Mail};

/// The event name of a daily digest.
pub const DIGEST: &str = "DIGEST";

fn link(state: &AppState, path: &str) -> String {
    let base = state.config().public_url.as_str().trim_end_matches('/').to_owned();
    format!("{base}{path}")
}

fn record_link(state: &AppState, item: &Value) -> Option<String> {
    item["vulnerability_id"].as_str().map(|id| link(state, &format!("/vulnerabilities/{id}")))
}

pub fn render(state: &AppState, user: &User, event: &str, payload: &Value) -> Mail {
    let footer = format!("\n\n--\nChoose what VulnTrack mails you: {}", link(state, "/account#notifications"));
    if event == DIGEST {
        let items = payload["items"].as_array().cloned().unwrap_or_default();
        let mut body = format!("Hello {},\n\nYou have {} unread notifications:\n", user.name, items.len());
        for item in &items {
            body.push_str(&format!("\n- {}", item["message"].as_str().unwrap_or_default()));
            if let Some(url) = record_link(state, item) {
                body.push_str(&format!("\n  {url}"));
            }
        }
        body.push_str(&footer);
        let subject = format!("VulnTrack: {} unread notifications", items.len());
        return Mail { to: user.email.clone(), subject, body };
    }
    let what = KINDS.iter().find(|(name, ..)| *name == event).map_or("A notification", |(_, label, _)| label);
    let message = payload["message"].as_str().unwrap_or_default();
    let mut body = format!("Hello {},\n\n{message}", user.name);
    if let Some(url) = record_link(state, payload) {
        body.push_str(&format!("\n\n{url}"));
    }
    body.push_str(&footer);
    // The subject is the message itself, cut to a line.
    let mut subject: String = format!("VulnTrack: {message}").chars().take(140).collect();
    if message.is_empty() {
        subject = format!("VulnTrack: {what}");
    }
    Mail { to: user.email.clone(), subject, body }
}
