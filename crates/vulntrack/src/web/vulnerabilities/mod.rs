//! The vulnerability pages, one module per page: the list (filters, search,
//! paging and bulk changes kept in the URL), the create/edit form, and the
//! detail page with comments and history.

mod detail;
mod form;
mod list;

use vulntrack_domain::vulnerability::cvss_score;

use super::{format::label, page::Choice};

pub use detail::{
    StatusForm, approve_acceptance, change_assignee, change_status, comment, delete_comment, detail, edit_comment,
    reject_acceptance,
};
pub use form::{create, cve_prefill, delete, edit_form, new_form, update};
pub use list::{bulk, delete_view, list, save_view};

pub(super) fn choices_of(names: &[&'static str], selected: &str) -> Vec<Choice> {
    let pairs: Vec<(&str, String)> = names.iter().map(|n| (*n, label(n))).collect();
    pairs.iter().map(|(v, l)| Choice { value: v.to_string(), label: l.clone(), selected: *v == selected }).collect()
}

pub(super) fn cvss_text(score: Option<f64>) -> String {
    score.map_or_else(|| "—".to_string(), |s| format!("{s:.1} {}", cvss_score::rating(s)))
}

/// One STRIDE category as a checkbox (form) or a flag (detail page).
pub struct StrideInput {
    name: &'static str,
    checked: bool,
}

/// Back to the record after a change, saying whether an acceptance of its
/// risk waits for approval.
fn saved(changed: &crate::services::vulnerabilities::Changed) -> axum::response::Response {
    let note = if changed.acceptance_requested.is_some() {
        crate::web::flash::Flash::AcceptanceRequested
    } else {
        crate::web::flash::Flash::Saved
    };
    crate::web::flash::redirect(&format!("/vulnerabilities/{}", changed.vulnerability.key()), note)
}
