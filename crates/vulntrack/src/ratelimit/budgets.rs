//! The budgets that guard particular actions, each defined once and spent
//! the same way from the JSON API and the web pages (429 with
//! `Retry-After` on both; the pages also say so in words).

use vulntrack_domain::{UserId, rate::RateRule};
use vulntrack_store::audit::RequestContext;

use crate::app::AppState;

/// Creating accounts (registration, accepting an invitation) and password
/// resets (asking for a link, using one) share one budget per client
/// address: each is a way to probe for accounts or guess secrets.
pub fn accounts_and_resets(state: &AppState, context: &RequestContext) -> (String, RateRule) {
    (format!("reset:{}", context.ip.as_deref().unwrap_or_default()), state.config().rate_limit_reset)
}

/// Creating vulnerability records, per user, on top of the general API budget.
pub fn creates(state: &AppState, user: UserId) -> (String, RateRule) {
    (format!("create:{user}"), state.config().rate_limit_create)
}
