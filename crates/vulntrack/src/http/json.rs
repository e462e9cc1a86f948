//! A JSON body extractor whose rejections are problem+json like every
//! other error, naming what was wrong with the body.

use axum::{
    extract::{FromRequest, Request, rejection::JsonRejection},
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;

use crate::http::error::Problem;

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
        match axum::Json::<T>::from_request(request, state).await {
            Ok(axum::Json(value)) => Ok(Self(value)),
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
                Err(Problem::new(status, Some(detail)).into_response())
            }
        }
    }
}
