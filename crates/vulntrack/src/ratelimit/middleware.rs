//! The API and anonymous limits, applied to every request before routing.
//! Sign-in, registration and password reset carry limits of their own
//! (keyed by what is in the body) and are left to their handlers.

use axum::{
    extract::{Request, State},
    http::header,
    middleware::Next,
    response::{IntoResponse, Response},
};
use axum_extra::extract::CookieJar;
use chrono::Utc;
use vulntrack_store::api_tokens;

use crate::{
    app::AppState,
    auth::{cookie, principal::bearer_token_of, secret_token},
    http::{ApiError, client_ip::ClientIp},
};

/// Routes whose handlers apply the sign-in and reset limits themselves.
pub const HANDLER_LIMITED: &[&str] = &[
    "/api/v1/auth/login",
    "/api/v1/auth/register",
    "/api/v1/auth/password-reset",
    "/api/v1/auth/password-reset/confirm",
];

/// An API token the limiter already looked up, reused by the principal
/// extractor so the request costs one query, not two.
#[derive(Debug, Clone)]
pub struct ResolvedToken(pub Option<api_tokens::ApiToken>);

/// The API budget of a user, whichever credential they use.
pub fn api_bucket(user: uuid::Uuid) -> String {
    format!("api:user:{user}")
}

pub async fn limit(State(state): State<AppState>, mut request: Request, next: Next) -> Response {
    let config = state.config();
    let client = request.extensions().get::<ClientIp>().map(|c| c.0.to_string()).unwrap_or_default();
    let mut bucket = None;
    if let Some(token) = bearer_token_of(request.headers()) {
        let hash = secret_token::hash(token);
        // A storage error is not "no such token": it answers 503 (or 500)
        // and raises no bad-token alert.
        let found = match api_tokens::find_live_by_hash(state.db().conn(), &hash, Utc::now()).await {
            Ok(found) => found,
            Err(error) => return ApiError::from(error).into_response(),
        };
        match &found {
            // Per user, not per token: every token shares its owner's
            // budget, so minting tokens does not multiply it.
            Some(token) => bucket = Some((api_bucket(token.user_id.as_uuid()), config.rate_limit_api)),
            None => crate::alerts::on_bad_token(&state, &client).await,
        }
        request.extensions_mut().insert(ResolvedToken(found));
    } else if request.headers().contains_key(header::COOKIE) {
        let jar = CookieJar::from_headers(request.headers());
        let claims = jar.get(cookie::name(config.is_production())).and_then(|c| state.session_keys().verify(c.value()));
        if let Some(claims) = claims {
            bucket = Some((api_bucket(claims.sub), config.rate_limit_api));
        }
    }
    let (key, rule) = match bucket {
        Some(bucket) => bucket,
        None if HANDLER_LIMITED.contains(&request.uri().path()) => return next.run(request).await,
        None => (format!("anon:{client}"), config.rate_limit_anon),
    };
    let decision = state.rate_limiter().check(&key, rule).await;
    if !decision.allowed {
        let path = request.uri().path();
        if path.starts_with("/api/") {
            return decision.refusal();
        }
        // A page gets the styled page saying so, with the same headers.
        let mut page = crate::http::error_pages::html(axum::http::StatusCode::TOO_MANY_REQUESTS);
        decision.annotate_refusal(page.headers_mut());
        return page;
    }
    let mut response = next.run(request).await;
    decision.annotate(response.headers_mut());
    response
}
