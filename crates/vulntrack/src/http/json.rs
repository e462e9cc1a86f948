//! A JSON body extractor whose rejections are problem+json like every
//! other error, naming what was wrong with the body.

use axum::{
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use vulntrack_domain::{FieldError, control_chars};

use crate::http::{ApiError, error::Problem};

/// Like `axum::Json`, with problem+json rejections: 415 without a JSON
/// content type, 400 for malformed JSON, 422 for a body of the wrong shape
/// (missing field, wrong type, unknown enum value).
#[derive(Debug, Clone, Copy, Default)]
pub struct ApiJson<T>(pub T);

impl<T, S> FromRequest<S> for ApiJson<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request(request: Request, state: &S) -> Result<Self, Self::Rejection> {
        let value = match axum::Json::<Value>::from_request(request, state).await {
            Ok(axum::Json(value)) => value,
            Err(rejection) => {
                let status = match &rejection {
                    JsonRejection::MissingJsonContentType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    JsonRejection::JsonDataError(_) => StatusCode::UNPROCESSABLE_ENTITY,
                    JsonRejection::BytesRejection(_) => rejection.status(),
                    _ => StatusCode::BAD_REQUEST,
                };
                // serde's message names the field and what it expected; it
                // never echoes the submitted value back.
                let detail = std::error::Error::source(&rejection)
                    .and_then(std::error::Error::source)
                    .map_or_else(|| rejection.body_text(), ToString::to_string);
                return Err(Problem::new(status, Some(detail)).into_response());
            }
        };
        // Every text field of every JSON body, before any handler sees it.
        let errors = control_chars::errors_in_json(&value);
        if !errors.is_empty() {
            return Err(ApiError::Validation(errors).into_response());
        }
        // A body of the wrong shape is a field error like any other: the
        // path names the field (`role`, `dread.damage`), serde says what it
        // expected.
        read_shape(value).map(Self).map_err(IntoResponse::into_response)
    }
}

/// A JSON value read as `T`; a value of the wrong shape is a 422 naming
/// the field.
pub fn read_shape<T: DeserializeOwned>(value: Value) -> Result<T, ApiError> {
    serde_path_to_error::deserialize(value).map_err(|error| {
        let message = error.inner().to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        ApiError::Validation(shape_error(&error.path().to_string(), &message).into())
    })
}

/// The field error for a body serde could not read: a missing or unknown
/// field is named by itself, anything else by where serde stopped.
fn shape_error(path: &str, message: &str) -> FieldError {
    let within = |name: &str| if path == "." { name.to_string() } else { format!("{path}.{name}") };
    let quoted = message.split('`').nth(1).unwrap_or_default();
    if message.starts_with("missing field") {
        FieldError::new(within(quoted), "required", "is required")
    } else if message.starts_with("unknown field") {
        // The path already ends at the unknown key.
        let field = if path == "." { quoted.to_string() } else { path.to_string() };
        FieldError::new(field, "unknown", "is not a field of this request")
    } else if path == "." {
        FieldError::new("body", "invalid", message)
    } else {
        FieldError::new(path, "invalid", message)
    }
}

#[cfg(test)]
mod tests {
    use super::shape_error;

    #[test]
    fn shape_errors_name_the_field() {
        assert_eq!(shape_error(".", "missing field `email`").field, "email");
        assert_eq!(shape_error(".", "unknown field `owner`, expected `name`").field, "owner");
        assert_eq!(shape_error("owner", "unknown field `owner`, expected `name`").field, "owner");
        assert_eq!(shape_error("dread", "missing field `damage`").field, "dread.damage");
        let wrong = shape_error("role", "unknown variant `OWNER`, expected one of `ADMIN`");
        assert_eq!((wrong.field.as_str(), wrong.code.as_str()), ("role", "invalid"));
        assert_eq!(shape_error(".", "invalid type: string, expected a map").field, "body");
    }
}
