//! A query-string extractor whose rejections are problem+json like every
//! other API error (axum's own answer is a plain-text 400).

use axum::{
    extract::FromRequestParts,
    http::{StatusCode, request::Parts},
    response::{IntoResponse, Response},
};
use serde::de::DeserializeOwned;

use crate::http::error::Problem;

/// Like `axum_extra::extract::Query` (repeated keys become a list), with a
/// 400 problem+json naming what could not be read.
#[derive(Debug, Clone, Default)]
pub struct ApiQuery<T>(pub T);

impl<T, S> FromRequestParts<S> for ApiQuery<T>
where
    T: DeserializeOwned,
    S: Send + Sync,
{
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum_extra::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum_extra::extract::Query(value)) => Ok(Self(value)),
            Err(rejection) => {
                // serde's message names the parameter and what it expected.
                let detail =
                    std::error::Error::source(&rejection).map_or_else(|| rejection.to_string(), ToString::to_string);
                Err(Problem::new(StatusCode::BAD_REQUEST, Some(format!("The query string cannot be read: {detail}")))
                    .into_response())
            }
        }
    }
}
