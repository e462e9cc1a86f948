//! Optimistic concurrency over HTTP: a record's `version` is its strong
//! `ETag` (`"7"`), and `If-Match` on PATCH and DELETE makes the change
//! conditional on the version the client read (RFC 9110 §13.1.1).

use axum::{
    extract::FromRequestParts,
    http::{HeaderMap, HeaderValue, header, request::Parts},
    response::{IntoResponse, Response},
};

use crate::services::ServiceError;

/// The strong entity tag of a version.
pub fn etag(version: i64) -> String {
    format!("\"{version}\"")
}

/// What the client requires the current version to be.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum IfMatch {
    /// No `If-Match`: the change applies to whatever is current (still
    /// atomically: it is read and written under the row lock).
    #[default]
    Absent,
    /// `If-Match: *`: the record must exist.
    Any,
    /// One of these versions. Weak tags never match (If-Match compares
    /// strongly), so a list of only weak or foreign tags always fails.
    OneOf(Vec<i64>),
}

impl IfMatch {
    /// The version a form carried (the web edit page).
    pub fn version(version: i64) -> Self {
        IfMatch::OneOf(vec![version])
    }

    pub fn from_headers(headers: &HeaderMap) -> Self {
        let values: Vec<&str> = headers.get_all(header::IF_MATCH).iter().filter_map(|v| v.to_str().ok()).collect();
        if values.is_empty() && !headers.contains_key(header::IF_MATCH) {
            return IfMatch::Absent;
        }
        let tags: Vec<&str> =
            values.iter().flat_map(|v| v.split(',')).map(str::trim).filter(|t| !t.is_empty()).collect();
        if tags.contains(&"*") {
            return IfMatch::Any;
        }
        IfMatch::OneOf(
            tags.iter()
                .filter_map(|tag| tag.strip_prefix('"').and_then(|t| t.strip_suffix('"')))
                .filter_map(|inner| inner.parse().ok())
                .collect(),
        )
    }

    /// `Ok` when `current` satisfies the precondition; 412 otherwise.
    pub fn check(&self, current: i64) -> Result<(), ServiceError> {
        match self {
            IfMatch::Absent | IfMatch::Any => Ok(()),
            IfMatch::OneOf(versions) if versions.contains(&current) => Ok(()),
            IfMatch::OneOf(_) => Err(ServiceError::Stale { current_version: current }),
        }
    }
}

impl<S: Send + Sync> FromRequestParts<S> for IfMatch {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(IfMatch::from_headers(&parts.headers))
    }
}

/// `response` with the `ETag` of `version`.
pub fn with_etag(response: impl IntoResponse, version: i64) -> Response {
    let mut response = response.into_response();
    if let Ok(value) = HeaderValue::from_str(&etag(version)) {
        response.headers_mut().insert(header::ETAG, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parsed(values: &[&str]) -> IfMatch {
        let mut headers = HeaderMap::new();
        for value in values {
            headers.append(header::IF_MATCH, HeaderValue::from_str(value).expect("header"));
        }
        IfMatch::from_headers(&headers)
    }

    #[test]
    fn if_match_is_parsed_and_compared_strongly() {
        assert_eq!(parsed(&[]), IfMatch::Absent);
        assert_eq!(parsed(&["*"]), IfMatch::Any);
        assert_eq!(parsed(&["\"3\", \"4\""]), IfMatch::OneOf(vec![3, 4]));
        assert!(parsed(&["\"3\""]).check(3).is_ok());
        assert!(parsed(&["\"3\""]).check(4).is_err());
        assert!(parsed(&["W/\"3\""]).check(3).is_err(), "weak tags never match");
        assert!(parsed(&["garbage"]).check(1).is_err(), "an unusable tag fails the precondition");
        assert!(parsed(&["*"]).check(9).is_ok());
    }
}
