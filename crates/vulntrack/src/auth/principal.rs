//! The authenticated principal: who a request acts for, established from a
//! Bearer API token or the session cookie and checked against the database
//! on every request, so revocation, deactivation and role changes apply at
//! once.

use axum::{
    extract::FromRequestParts,
    http::{header, request::Parts},
};
use axum_extra::extract::CookieJar;
use chrono::Utc;
use serde_json::json;
use uuid::Uuid;
use vulntrack_domain::AuditAction;
use vulntrack_domain::{Action, UserStatus};
use vulntrack_store::{
    TeamScope, api_tokens,
    audit::{self, Actor, AuditEvent, RequestContext},
    sessions,
    users::{self, User},
};

use crate::{
    app::AppState,
    auth::{cookie, secret_token},
    http::ApiError,
    ratelimit::middleware::ResolvedToken,
    services::ServiceError,
};

/// How the request authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Credential {
    Session(Uuid),
    ApiToken(Uuid),
}

#[derive(Debug, Clone)]
pub struct Principal {
    pub user: User,
    pub credential: Credential,
}

impl Principal {
    pub fn scope(&self) -> TeamScope {
        self.user.scope()
    }

    /// The audit log's view of this principal.
    pub fn actor(&self) -> Actor {
        match self.credential {
            Credential::Session(_) => Actor::User { id: self.user.id, email: self.user.email.clone() },
            Credential::ApiToken(id) => Actor::Token { id, user_id: self.user.id, email: self.user.email.clone() },
        }
    }

    pub fn session_id(&self) -> Option<Uuid> {
        match self.credential {
            Credential::Session(id) => Some(id),
            Credential::ApiToken(_) => None,
        }
    }

    /// Whether to offer `action` (a button, a link): what a page shows. It
    /// decides nothing and audits nothing; the write itself goes through
    /// [`Principal::require`] in its service.
    pub fn may(&self, action: vulntrack_domain::Action) -> bool {
        self.user.role.allows(action)
    }

    /// `Ok` when the principal's role allows `action`; otherwise the denial
    /// is written to the audit log and the request answers 403.
    pub async fn require(
        &self,
        state: &AppState,
        context: &RequestContext,
        action: Action,
    ) -> Result<(), ServiceError> {
        if self.user.role.allows(action) {
            return Ok(());
        }
        Err(self.deny(state, context, action.name(), "Your role does not allow this.").await)
    }

    /// Refuses an action the role allows in general but not here (editing
    /// another's comment, minting a token with a token): audited as
    /// `PERMISSION_DENIED` and alerted on like any refusal, so every 403
    /// leaves its row. Returns the error to answer with.
    pub async fn deny(
        &self,
        state: &AppState,
        context: &RequestContext,
        what: &str,
        message: &'static str,
    ) -> ServiceError {
        let event = AuditEvent::new(self.scope(), self.actor(), AuditAction::PermissionDenied, context)
            .details(json!({ "action": what, "role": self.user.role }));
        let recorded = async {
            let txn = state.db().begin().await?;
            audit::append(&txn, event).await?;
            txn.commit().await?;
            Ok::<_, ServiceError>(())
        };
        if let Err(error) = recorded.await {
            return error;
        }
        crate::alerts::on_permission_denied(state, self.scope(), self.user.id, &self.user.email).await;
        ServiceError::NotAllowed(message)
    }
}

/// The Bearer token of the request, if it sent an `Authorization: Bearer`.
pub fn bearer_token_of(headers: &axum::http::HeaderMap) -> Option<&str> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
}

impl FromRequestParts<AppState> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        if let Some(principal) = parts.extensions.get::<Principal>() {
            return Ok(principal.clone());
        }
        let now = Utc::now();
        let db = state.db().conn();
        let (user_id, scope, credential) = if parts.headers.contains_key(header::AUTHORIZATION) {
            let token =
                bearer_token_of(&parts.headers).filter(|t| t.starts_with("vt_")).ok_or(ApiError::Unauthorized)?;
            let resolved = match parts.extensions.get::<ResolvedToken>() {
                Some(ResolvedToken(found)) => found.clone(),
                None => api_tokens::find_live_by_hash(db, &secret_token::hash(token), now).await?,
            };
            let found = resolved.ok_or(ApiError::Unauthorized)?;
            if found.last_used_at.is_none_or(|at| now - at >= sessions::TOUCH_INTERVAL) {
                api_tokens::touch(db, found.scope(), found.id, now).await?;
            }
            (found.user_id, found.scope(), Credential::ApiToken(found.id))
        } else {
            let jar = CookieJar::from_headers(&parts.headers);
            let cookie = jar.get(cookie::name(state.config().is_production())).ok_or(ApiError::Unauthorized)?;
            let claims = state.session_keys().verify(cookie.value()).ok_or(ApiError::Unauthorized)?;
            let session = sessions::find_live(db, claims.sid, now).await?.ok_or(ApiError::Unauthorized)?;
            if session.user_id.as_uuid() != claims.sub {
                return Err(ApiError::Unauthorized);
            }
            sessions::touch(db, &session, now).await?;
            (session.user_id, session.scope(), Credential::Session(session.id))
        };
        let user = match users::get(db, scope, user_id).await {
            Ok(user) => user,
            Err(vulntrack_store::StoreError::NotFound) => return Err(ApiError::Unauthorized),
            Err(other) => return Err(other.into()),
        };
        if user.status != UserStatus::Active {
            return Err(ApiError::Unauthorized);
        }
        let span = tracing::Span::current();
        span.record("user_id", tracing::field::display(user.id));
        span.record("team_id", tracing::field::display(user.team_id));
        let principal = Principal { user, credential };
        parts.extensions.insert(principal.clone());
        Ok(principal)
    }
}
