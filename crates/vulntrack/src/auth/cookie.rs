//! The session cookie's name and flags (DESIGN.md §2): `HttpOnly`,
//! `SameSite=Lax`, `Path=/`, and in production `Secure` with the `__Host-`
//! prefix, which browsers only accept from a secure origin for the whole
//! host (no `Domain`), so a sibling subdomain cannot plant or read it.

use std::time::Duration;

use cookie::{Cookie, SameSite};

const NAME: &str = "vulntrack_session";
const PRODUCTION_NAME: &str = "__Host-vulntrack_session";

pub fn name(production: bool) -> &'static str {
    if production { PRODUCTION_NAME } else { NAME }
}

/// The `Set-Cookie` value that carries a new session.
pub fn issue(token: String, production: bool, lifetime: Duration) -> Cookie<'static> {
    let seconds = i64::try_from(lifetime.as_secs()).unwrap_or(i64::MAX);
    Cookie::build((name(production), token))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(production)
        .max_age(cookie::time::Duration::seconds(seconds))
        .build()
}

/// The `Set-Cookie` value that removes the session cookie.
pub fn clear(production: bool) -> Cookie<'static> {
    Cookie::build((name(production), ""))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .secure(production)
        .max_age(cookie::time::Duration::ZERO)
        .build()
}
