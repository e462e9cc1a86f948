//! "Saved"-style confirmations that survive a redirect (post, redirect,
//! get): the handler that made the change sets a short-lived cookie naming
//! what happened, the next page shows it as a toast and clears it.
//!
//! The cookie holds a code, never text: the page says only what this
//! module words, so a planted cookie cannot put words on a page.

use axum::{
    extract::Request,
    http::{HeaderMap, HeaderValue, header},
    middleware::Next,
    response::{IntoResponse, Redirect, Response},
};
use cookie::{Cookie, SameSite};

const NAME: &str = "vulntrack_flash";

/// What just happened.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flash {
    /// A bulk change applied to this many records.
    Changed(u32),
    ViewSaved,
    ViewDeleted,
    Saved,
    Created,
    Deleted,
    AssetSaved,
    AssetDeleted,
    Imported,
    /// A risk acceptance waits for an ADMIN's approval.
    AcceptanceRequested,
    AcceptanceApproved,
    AcceptanceRejected,
}

impl Flash {
    fn code(self) -> String {
        match self {
            Flash::Changed(count) => format!("changed-{count}"),
            Flash::ViewSaved => "view-saved".into(),
            Flash::ViewDeleted => "view-deleted".into(),
            Flash::Saved => "saved".into(),
            Flash::Created => "created".into(),
            Flash::Deleted => "deleted".into(),
            Flash::AssetSaved => "asset-saved".into(),
            Flash::AssetDeleted => "asset-deleted".into(),
            Flash::Imported => "imported".into(),
            Flash::AcceptanceRequested => "acceptance-requested".into(),
            Flash::AcceptanceApproved => "acceptance-approved".into(),
            Flash::AcceptanceRejected => "acceptance-rejected".into(),
        }
    }

    fn from_code(code: &str) -> Option<Self> {
        Some(match code {
            "view-saved" => Flash::ViewSaved,
            "view-deleted" => Flash::ViewDeleted,
            "saved" => Flash::Saved,
            "created" => Flash::Created,
            "deleted" => Flash::Deleted,
            "asset-saved" => Flash::AssetSaved,
            "asset-deleted" => Flash::AssetDeleted,
            "imported" => Flash::Imported,
            "acceptance-requested" => Flash::AcceptanceRequested,
            "acceptance-approved" => Flash::AcceptanceApproved,
            "acceptance-rejected" => Flash::AcceptanceRejected,
            other => Flash::Changed(other.strip_prefix("changed-")?.parse().ok()?),
        })
    }

    pub fn message(self) -> String {
        match self {
            Flash::Changed(1) => "1 vulnerability changed.".into(),
            Flash::Changed(count) => format!("{count} vulnerabilities changed."),
            Flash::ViewSaved => "View saved.".into(),
            Flash::ViewDeleted => "View deleted.".into(),
            Flash::Saved => "Changes saved.".into(),
            Flash::Created => "Vulnerability recorded.".into(),
            Flash::Deleted => "Vulnerability deleted.".into(),
            Flash::AssetSaved => "Asset saved.".into(),
            Flash::AssetDeleted => "Asset deleted.".into(),
            Flash::Imported => "Report imported.".into(),
            Flash::AcceptanceRequested => {
                "Changes saved. Accepting the risk waits for an ADMIN's approval; the team's ADMINs have been told."
                    .into()
            }
            Flash::AcceptanceApproved => "Risk acceptance approved; the record is resolved as requested.".into(),
            Flash::AcceptanceRejected => "Risk acceptance rejected; the requester has been told why.".into(),
        }
    }

    /// The confirmation the request carries, if any.
    pub fn of(headers: &HeaderMap) -> Option<Self> {
        cookies(headers).find(|c| c.name() == NAME).and_then(|c| Self::from_code(c.value()))
    }
}

fn cookies(headers: &HeaderMap) -> impl Iterator<Item = Cookie<'_>> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(Cookie::split_parse)
        .filter_map(Result::ok)
}

fn cookie(value: String, seconds: i64) -> HeaderValue {
    let cookie = Cookie::build((NAME, value))
        .http_only(true)
        .same_site(SameSite::Lax)
        .path("/")
        .max_age(cookie::time::Duration::seconds(seconds))
        .build();
    HeaderValue::try_from(cookie.to_string()).expect("a flash cookie is plain ASCII")
}

/// A 303 to `to` that shows `flash` there.
pub fn redirect(to: &str, flash: Flash) -> Response {
    let mut response = Redirect::to(to).into_response();
    response.headers_mut().append(header::SET_COOKIE, cookie(flash.code(), 60));
    response
}

/// Clears the confirmation once a page has been served with it, so it is
/// shown once (a redirect passes it on).
pub async fn clear_shown(request: Request, next: Next) -> Response {
    let carried = cookies(request.headers()).any(|c| c.name() == NAME);
    let mut response = next.run(request).await;
    if carried && !response.status().is_redirection() {
        response.headers_mut().append(header::SET_COOKIE, cookie(String::new(), 0));
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_round_trip_and_anything_else_is_ignored() {
        for flash in [
            Flash::Changed(0),
            Flash::Changed(42),
            Flash::ViewSaved,
            Flash::ViewDeleted,
            Flash::Saved,
            Flash::Created,
            Flash::Deleted,
        ] {
            assert_eq!(Flash::from_code(&flash.code()), Some(flash));
        }
        for planted in ["", "changed-", "changed--1", "changed-x", "<script>", "Saved", "changed-99999999999"] {
            assert_eq!(Flash::from_code(planted), None, "{planted}");
        }
    }
}
