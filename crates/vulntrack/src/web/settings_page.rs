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
use vulntrack_domain::{Action, vulnerability::Severity};
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
    risk_acceptance_approval: bool,
    sla_days: Vec<SlaDays>,
    due_soon_percent: String,
    due_soon_days: String,
    notice: Option<String>,
    errors: Vec<String>,
    webhooks: Vec<WebhookRow>,
    webhook_events: &'static [&'static str],
    /// A webhook just created: its secret, shown this once.
    new_secret: Option<String>,
}

pub struct WebhookRow {
    id: uuid::Uuid,
    url: String,
    events: String,
    /// The latest attempts: "200", "500", "unreachable"…
    recent: Vec<String>,
}

/// One severity's SLA input.
pub struct SlaDays {
    value: &'static str,
    label: String,
    /// Empty for none.
    days: String,
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
    settings_page_with(state, user, notice, errors, None).await
}

async fn settings_page_with(
    state: &AppState,
    user: &WebUser,
    notice: Option<String>,
    errors: Vec<String>,
    new_secret: Option<String>,
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
    let mut webhooks = Vec::new();
    for hook in vulntrack_store::webhooks::list(state.db().conn(), user.principal.scope()).await? {
        let recent = vulntrack_store::webhooks::deliveries(state.db().conn(), user.principal.scope(), hook.id, 5)
            .await?
            .into_iter()
            .map(|d| d.status_code.map_or_else(|| "unreachable".to_owned(), |c| c.to_string()))
            .collect();
        webhooks.push(WebhookRow { id: hook.id, url: hook.url, events: hook.events.join(", "), recent });
    }
    let status = if errors.is_empty() { StatusCode::OK } else { StatusCode::UNPROCESSABLE_ENTITY };
    let page = SettingsPage {
        nav: Some(user.nav.clone()),
        name: team.name,
        ttl_options,
        maximum: human(maximum),
        risk_acceptance_max_days: team.risk_acceptance_max_days.to_string(),
        risk_acceptance_approval: team.risk_acceptance_approval,
        sla_days: Severity::ALL
            .iter()
            .map(|s| SlaDays {
                value: s.as_str(),
                label: super::format::label(s.as_str()),
                days: team.sla.days_for(*s).map(|d| d.to_string()).unwrap_or_default(),
            })
            .collect(),
        due_soon_percent: team.sla.due_soon_percent.to_string(),
        due_soon_days: team.sla.due_soon_days.to_string(),
        notice,
        errors,
        webhooks,
        webhook_events: crate::services::webhooks::EVENTS,
        new_secret,
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

pub async fn save(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(form): Form<std::collections::HashMap<String, String>>,
) -> Result<Response, PageError> {
    use crate::services::team;
    let principal = &user.principal;
    if let Err(error) =
        team::rename(&state, principal, &context, form.get("name").map_or("", String::as_str), &IfMatch::Absent).await
    {
        return settings_page(&state, &user, None, form_messages(error)?).await;
    }
    let maximum = state.config().session_ttl.as_secs();
    let Ok(seconds) = form.get("session_ttl").map_or("", String::as_str).trim().parse::<u64>() else {
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
    let body = policy_body(&form);
    if body.as_object().is_some_and(serde_json::Map::is_empty) {
        return settings_page(&state, &user, Some("Settings saved.".into()), Vec::new()).await;
    }
    match team::set_triage_policy(&state, principal, &context, &body, &IfMatch::Absent).await {
        Ok(_) => settings_page(&state, &user, Some("Settings saved.".into()), Vec::new()).await,
        Err(error) => settings_page(&state, &user, None, form_messages(error)?).await,
    }
}

/// The policy fields of the form as the API's body: a number as typed (a
/// bad one is the service's field error), an empty SLA field as "none".
fn policy_body(fields: &std::collections::HashMap<String, String>) -> serde_json::Value {
    let number = |text: &str| {
        text.trim().parse::<i64>().map_or_else(|_| serde_json::json!(text.trim()), |n| serde_json::json!(n))
    };
    let mut body = serde_json::Map::new();
    for name in ["risk_acceptance_max_days", "due_soon_percent", "due_soon_days"] {
        if let Some(text) = fields.get(name).filter(|t| !t.trim().is_empty()) {
            body.insert(name.to_owned(), number(text));
        }
    }
    let days: serde_json::Map<String, serde_json::Value> = Severity::ALL
        .iter()
        .filter_map(|s| {
            let text = fields.get(&format!("sla_{}", s.as_str()))?;
            Some((s.as_str().to_owned(), if text.trim().is_empty() { serde_json::Value::Null } else { number(text) }))
        })
        .collect();
    if !days.is_empty() {
        body.insert("sla_days".to_owned(), serde_json::Value::Object(days));
    }
    // A checkbox left unticked sends nothing: the triage fields' presence
    // says the form had it.
    if fields.contains_key("risk_acceptance_max_days") {
        let ticked = fields.contains_key("risk_acceptance_approval");
        body.insert("risk_acceptance_approval".to_owned(), serde_json::Value::Bool(ticked));
    }
    serde_json::Value::Object(body)
}

/// Adds a webhook from the settings page; the page shows its secret once.
pub async fn create_webhook(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    Form(pairs): Form<Vec<(String, String)>>,
) -> Result<Response, PageError> {
    let url = pairs.iter().find(|(k, _)| k == "url").map(|(_, v)| v.clone()).unwrap_or_default();
    let events: Vec<&str> = pairs.iter().filter(|(k, _)| k == "events").map(|(_, v)| v.as_str()).collect();
    let body = serde_json::json!({ "url": url, "events": events });
    match crate::services::webhooks::create(&state, &user.principal, &context, &body).await {
        Ok(hook) => {
            let notice = "Webhook added. Copy its secret now: it is shown only this once.".to_owned();
            settings_page_with(&state, &user, Some(notice), Vec::new(), Some(hook.secret)).await
        }
        Err(error) => settings_page(&state, &user, None, form_messages(error)?).await,
    }
}

pub async fn delete_webhook(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, PageError> {
    let id = crate::http::path_id(&id)?;
    crate::services::webhooks::delete(&state, &user.principal, &context, id).await?;
    settings_page(&state, &user, Some("Webhook deleted.".into()), Vec::new()).await
}
