//! What every signed-in page shares: the user, the navigation bar, and
//! how errors become pages.

use axum::{
    extract::FromRequestParts,
    http::{HeaderValue, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use vulntrack_store::{notifications, security_alerts, teams};

use crate::{app::AppState, auth::Principal, http::ApiError, http::error_pages, services::ServiceError};

/// The header's view of the signed-in user.
#[derive(Debug, Clone)]
pub struct Nav {
    pub name: String,
    pub team: String,
    pub role: String,
    pub unread: u64,
    /// Security alerts nobody has acknowledged yet (ADMINs only; else 0).
    pub open_alerts: u64,
    pub admin: bool,
    /// The colours the user chose for their pages.
    pub theme: vulntrack_domain::Theme,
    /// The path of the page, for marking its menu entry as current.
    pub path: String,
    /// What the change that led here did ("Changes saved."), shown once.
    pub flash: Option<String>,
    /// The time zone the user reads times in.
    pub zone: super::format::Zone,
}

impl Nav {
    /// Whether the page is `section` or one of its pages (`/` only itself).
    pub fn at(&self, section: &str) -> bool {
        match section {
            "/" => self.path == "/",
            _ => self.path == section || self.path.strip_prefix(section).is_some_and(|rest| rest.starts_with('/')),
        }
    }
}

/// A signed-in user on a page; anonymous visitors are sent to `/login`
/// and brought back afterwards.
#[derive(Debug, Clone)]
pub struct WebUser {
    pub principal: Principal,
    pub nav: Nav,
}

/// Where to come back to after signing in: a local path only, so the
/// parameter cannot send anyone off-site.
///
/// Browsers drop tabs and line breaks from URLs and read `\\` as `/`, so
/// `/\t/evil.example` would become `//evil.example`: the path must hold no
/// control character, whitespace or backslash, must not start with `//`,
/// and must resolve to this same origin.
pub fn safe_next(next: &str) -> String {
    const HOST: &str = "vulntrack.invalid";
    let plain = !next.chars().any(|c| c.is_control() || c.is_whitespace() || c == '\\');
    let same_origin = url::Url::parse(&format!("http://{HOST}/"))
        .and_then(|base| base.join(next))
        .is_ok_and(|url| url.host_str() == Some(HOST) && url.port().is_none() && !url.path().starts_with("//"));
    if plain && next.starts_with('/') && !next.starts_with("//") && same_origin {
        next.to_string()
    } else {
        "/".to_string()
    }
}

impl FromRequestParts<AppState> for WebUser {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Self::Rejection> {
        let principal = match Principal::from_request_parts(parts, state).await {
            Ok(principal) => principal,
            Err(ApiError::Unauthorized) => {
                let here = parts.uri.path_and_query().map_or("/", |p| p.as_str());
                let target = url::form_urlencoded::Serializer::new(String::new()).append_pair("next", here).finish();
                return Err(Redirect::to(&format!("/login?{target}")).into_response());
            }
            Err(other) => return Err(PageError::from(other).into_response()),
        };
        let db = state.db().conn();
        let team = teams::get(db, principal.scope()).await.map_err(|e| PageError::from(e).into_response())?;
        let unread = notifications::unread_count(db, principal.scope(), principal.user.id)
            .await
            .map_err(|e| PageError::from(e).into_response())?;
        let open_alerts = if principal.may(vulntrack_domain::Action::ViewAudit) {
            security_alerts::unacknowledged_count(db, principal.scope())
                .await
                .map_err(|e| PageError::from(e).into_response())?
        } else {
            0
        };
        let nav = Nav {
            open_alerts,
            name: principal.user.name.clone(),
            team: team.name,
            role: principal.user.role.to_string(),
            unread,
            admin: principal.may(vulntrack_domain::Action::ManageUsers),
            theme: principal.user.theme,
            path: parts.uri.path().to_string(),
            flash: super::flash::Flash::of(&parts.headers).map(super::flash::Flash::message),
            zone: super::format::Zone::named(principal.user.time_zone.as_deref()),
        };
        Ok(Self { principal, nav })
    }
}

/// Why a page could not be shown. Web handlers return
/// `Result<_, PageError>` and use `?` on service, store and extractor
/// errors; each becomes the styled error page with its status (a sign-in
/// that is missing becomes a redirect to `/login`).
#[derive(Debug)]
pub enum PageError {
    Service(ServiceError),
    Api(ApiError),
}

impl From<ServiceError> for PageError {
    fn from(error: ServiceError) -> Self {
        PageError::Service(error)
    }
}

impl From<ApiError> for PageError {
    fn from(error: ApiError) -> Self {
        PageError::Api(error)
    }
}

impl From<vulntrack_store::StoreError> for PageError {
    fn from(error: vulntrack_store::StoreError) -> Self {
        PageError::Service(error.into())
    }
}

impl PageError {
    pub fn not_allowed() -> Self {
        PageError::Service(ServiceError::NotAllowed("Your role does not allow this."))
    }
}

/// One field error as a line of a form's summary. A rule's fragment
/// ("must not be blank") is prefixed with the field it is about
/// ("Title: must not be blank."); a message already written as a sentence
/// for people ("Give the view a name.") stands alone.
pub fn field_message(error: &vulntrack_domain::FieldError) -> String {
    let message = super::format::sentence(&error.message);
    let written_as_sentence = error.message.trim_start().starts_with(char::is_uppercase);
    if written_as_sentence || error.field == "form" || error.field == "body" {
        return message;
    }
    let mut chars = message.chars();
    let fragment: String = chars.next().map(|first| first.to_lowercase().chain(chars).collect()).unwrap_or_default();
    format!("{}: {fragment}", super::format::field_label(&error.field))
}

/// What a form shows when its service refused the input: field errors and
/// conflicts as sentences beside the form. Anything else is not the form's
/// to explain and becomes the error page.
pub fn form_messages(error: ServiceError) -> Result<Vec<String>, PageError> {
    match error {
        ServiceError::Invalid(errors) => Ok(errors.iter().map(field_message).collect()),
        ServiceError::Conflict(message) => Ok(vec![message.to_string()]),
        ServiceError::Malformed(message) => Ok(vec![message]),
        other => Err(other.into()),
    }
}

impl IntoResponse for PageError {
    fn into_response(self) -> Response {
        let error = match self {
            PageError::Service(error) => ApiError::from(error),
            PageError::Api(error) => error,
        };
        let status = match error {
            ApiError::NotFound => StatusCode::NOT_FOUND,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::Unauthorized => return Redirect::to("/login").into_response(),
            ApiError::Conflict(_) => StatusCode::CONFLICT,
            ApiError::BadRequest(_) | ApiError::Validation(_) => StatusCode::BAD_REQUEST,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::PreconditionFailed { .. } => StatusCode::PRECONDITION_FAILED,
            ApiError::TooManyRequests { retry_after_seconds } => {
                let mut response = error_pages::html(StatusCode::TOO_MANY_REQUESTS);
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(retry_after_seconds.max(1)));
                return response;
            }
            ApiError::Storage(outage) => {
                let mut response = error_pages::html(StatusCode::SERVICE_UNAVAILABLE);
                crate::http::error::mark_storage_outage(&mut response, outage);
                return response;
            }
            ApiError::Internal(cause) => {
                tracing::error!(error = ?cause, "page failed");
                StatusCode::INTERNAL_SERVER_ERROR
            }
        };
        error_pages::html(status)
    }
}

/// One `<option>` of a `<select>`.
#[derive(Debug, Clone)]
pub struct Choice {
    pub value: String,
    pub label: String,
    pub selected: bool,
}

impl Choice {
    pub fn list(values: &[(&str, &str)], selected: &str) -> Vec<Choice> {
        values
            .iter()
            .map(|(value, label)| Choice {
                value: value.to_string(),
                label: label.to_string(),
                selected: *value == selected,
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_local_paths_are_followed_after_sign_in() {
        assert_eq!(safe_next("/vulnerabilities/VT-1"), "/vulnerabilities/VT-1");
        for hostile in [
            "https://evil.example",
            "//evil.example",
            "/\\evil.example",
            "javascript:alert(1)",
            "",
            "/\t/evil.example",
            "/\n/evil.example",
            "/x\r\nSet-Cookie: a=b",
            "/ /evil.example",
            "/%2F/evil.example/../..//evil.example",
        ] {
            assert_eq!(safe_next(hostile), "/", "{hostile}");
        }
    }
}
