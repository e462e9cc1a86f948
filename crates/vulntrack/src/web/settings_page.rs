//! Team settings (ADMIN): the name, how long sign-ins last within the
//! operator's maximum, and how far ahead a risk may be accepted.

use crate::http::versioning::IfMatch;
use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::State,
    http::StatusCode,
    response::{IntoResponse, Response},
};
use serde::Deserialize;
use vulntrack_domain::Action;
use vulntrack_store::teams;

use super::page::{Choice, Nav, PageError, WebUser, form_messages};
use crate::{app::AppState, http::ClientContext, services::ServiceError};

const CHOICES: &[(u64, &str)] = &[
    (3600, "1 hour"),
    (4 * 3600, "4 hours"),
    (8 * 3600, "8 hours"),
    (24 * 3600, "24 hours"),
    (7 * 86_400, "7 days"),
    (30 * 86_400, "30 days"),
];

#[derive(Template, WebTemplate)]
#[template(path = "admin/settings.html")]
pub struct SettingsPage {
    nav: Option<Nav>,
    name: String,
    ttl_options: Vec<Choice>,
    maximum: String,
    risk_acceptance_max_days: String,
    notice: Option<String>,
    errors: Vec<String>,
}

fn human(seconds: u64) -> String {
    CHOICES
        .iter()
        .find(|(s, _)| *s == seconds)
        .map_or_else(|| format!("{} hours", seconds / 3600), |(_, l)| (*l).to_string())
}

async fn settings_page(
    state: &AppState,
    user: &WebUser,
    notice: Option<String>,
    errors: Vec<String>,
) -> Result<Response, PageError> {
    let team = teams::get(state.db().conn(), user.principal.scope()).await?;
    let maximum = state.config().session_ttl.as_secs();
    let current = team.session_ttl_seconds.and_then(|s| u64::try_from(s).ok()).unwrap_or(maximum).min(maximum);
    let mut ttl_options: Vec<Choice> = CHOICES
        .iter()
        .filter(|(s, _)| *s < maximum)
        .map(|(s, l)| Choice { value: s.to_string(), label: (*l).to_string(), selected: *s == current })
        .collect();
    ttl_options.push(Choice {
        value: maximum.to_string(),
        label: format!("{} (the maximum)", human(maximum)),
        selected: current == maximum,
    });
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = SettingsPage {
        nav: Some(user.nav.clone()),
        name: team.name,
        ttl_options,
        maximum: human(maximum),
        risk_acceptance_max_days: team.risk_acceptance_max_days.to_string(),
        notice,
        errors,
    };
    Ok((status, page).into_response())
}

pub async fn settings(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
) -> Result<Response, PageError> {
    user.principal.require(&state, &context, Action::ManageTeam).await?;
    settings_page(&state, &user, None, Vec::new()).await
}

#[derive(Debug, Deserialize)]
pub struct SettingsForm {
    name: String,
    session_ttl: String,
    #[serde(default)]
    risk_acceptance_max_days: String,
}

pub async fn save(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(form): Form<SettingsForm>,
) -> Result<Response, PageError> {
    use crate::services::team;
    let principal = &user.principal;
    if let Err(error) = team::rename(&state, principal, &context, &form.name, &IfMatch::Absent).await {
        return settings_page(&state, &user, None, form_messages(error)?).await;
    }
    let maximum = state.config().session_ttl.as_secs();
    let Ok(seconds) = form.session_ttl.trim().parse::<u64>() else {
        let message = format!("session lifetime: must be between 1 minute and {}", human(maximum));
        return settings_page(&state, &user, None, vec![message]).await;
    };
    match team::set_session_lifetime(&state, principal, &context, seconds).await {
        Ok(_) => {}
        Err(ServiceError::Invalid(_)) => {
            let message = format!("session lifetime: must be between 1 minute and {}", human(maximum));
            return settings_page(&state, &user, None, vec![message]).await;
        }
        Err(error) => return Err(error.into()),
    }
    let typed = form.risk_acceptance_max_days.trim();
    if typed.is_empty() {
        return settings_page(&state, &user, Some("Settings saved.".into()), Vec::new()).await;
    }
    // A number the service checks; anything else is out of its range too.
    let days = typed.parse::<i64>().unwrap_or(0);
    match team::set_risk_acceptance_max_days(&state, principal, &context, days, &IfMatch::Absent).await {
        Ok(_) => settings_page(&state, &user, Some("Settings saved.".into()), Vec::new()).await,
        Err(error) => settings_page(&state, &user, None, form_messages(error)?).await,
    }
}
