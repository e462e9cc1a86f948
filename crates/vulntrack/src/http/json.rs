//! A JSON body extractor whose rejections are problem+json like every
//! other error, naming what was wrong with the body.

use axum::{
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;
use serde_json::Value;
use vulntrack_domain::control_chars;

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
        serde_json::from_value(value)
            .map(Self)
            .map_err(|error| Problem::new(StatusCode::UNPROCESSABLE_ENTITY, Some(error.to_string())).into_response())
    }
}
