//! Sign-in, first-run setup and sign-out pages.

use askama::Template;
use askama_web::WebTemplate;
use axum::{
    Form,
    extract::{Query, State},
    http::StatusCode,
    response::{IntoResponse, Redirect, Response},
};
use axum_extra::extract::CookieJar;
use serde::Deserialize;
use vulntrack_store::users;

use super::page::{Nav, WebUser, page_error, safe_next};
use crate::{
    app::AppState,
    http::{ApiError, ClientContext},
    services::{accounts, sessions},
};

#[derive(Template, WebTemplate)]
#[template(path = "login.html")]
pub struct LoginPage {
    nav: Option<Nav>,
    email: String,
    next: String,
    error: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct NextParam {
    next: String,
}

pub async fn login_page(State(state): State<AppState>, Query(params): Query<NextParam>) -> Response {
    match users::count_all(state.db().conn()).await {
        Ok(0) => return Redirect::to("/setup").into_response(),
        Ok(_) => {}
        Err(error) => return page_error(error.into()),
    }
    LoginPage { nav: None, email: String::new(), next: safe_next(&params.next), error: None }.into_response()
}

#[derive(Debug, Deserialize)]
pub struct LoginForm {
    email: String,
    password: String,
    #[serde(default)]
    next: String,
}

pub async fn login(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    jar: CookieJar,
    Form(form): Form<LoginForm>,
) -> Response {
    let next = safe_next(&form.next);
    let again = |status: StatusCode, message: &str| {
        let page =
            LoginPage { nav: None, email: form.email.clone(), next: next.clone(), error: Some(message.to_string()) };
        (status, page).into_response()
    };
    for (key, rule) in sessions::limits(&state, &context, &form.email) {
        let decision = state.rate_limiter().check(&key, rule).await;
        if !decision.allowed {
            let minutes = decision.reset.as_secs().div_ceil(60);
            return again(StatusCode::TOO_MANY_REQUESTS, &format!("Too many attempts. Try again in {minutes} min."));
        }
    }
    match sessions::sign_in(&state, &context, &form.email, form.password.clone()).await {
        Ok(signed_in) => (jar.add(signed_in.cookie), Redirect::to(&next)).into_response(),
        Err(ApiError::Unauthorized) => {
            again(StatusCode::UNAUTHORIZED, "The email or password is wrong, or the account is locked or deactivated.")
        }
        Err(other) => page_error(other),
    }
}

/// One labelled input of the setup form, with its errors.
pub struct SetupField {
    name: &'static str,
    label: &'static str,
    kind: &'static str,
    autocomplete: &'static str,
    value: String,
    errors: Vec<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "setup.html")]
pub struct SetupPage {
    nav: Option<Nav>,
    fields: Vec<SetupField>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct SetupForm {
    team_name: String,
    name: String,
    email: String,
    password: String,
}

fn setup_page_with(form: &SetupForm, errors: &vulntrack_domain::ValidationErrors) -> SetupPage {
    let field = |name, label, kind, autocomplete, value: &str| SetupField {
        name,
        label,
        kind,
        autocomplete,
        value: if kind == "password" { String::new() } else { value.to_string() },
        errors: errors.iter().filter(|e| e.field == name).map(|e| e.message.clone()).collect(),
    };
    SetupPage {
        nav: None,
        fields: vec![
            field("team_name", "Team name", "text", "organization", &form.team_name),
            field("name", "Your name", "text", "name", &form.name),
            field("email", "Email", "email", "username", &form.email),
            field(
                "password",
                "Password (12+ characters, mixed case, a digit and a symbol)",
                "password",
                "new-password",
                "",
            ),
        ],
    }
}

pub async fn setup_page(State(state): State<AppState>) -> Response {
    match users::count_all(state.db().conn()).await {
        Ok(0) => setup_page_with(&SetupForm::default(), &Default::default()).into_response(),
        Ok(_) => Redirect::to("/login").into_response(),
        Err(error) => page_error(error.into()),
    }
}

pub async fn setup(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    jar: CookieJar,
    Form(form): Form<SetupForm>,
) -> Response {
    let outcome = accounts::first_run_setup(
        &state,
        &context,
        form.team_name.clone(),
        form.name.clone(),
        form.email.clone(),
        form.password.clone(),
    )
    .await;
    match outcome {
        Ok(_) => match sessions::sign_in(&state, &context, &form.email, form.password).await {
            Ok(signed_in) => (jar.add(signed_in.cookie), Redirect::to("/")).into_response(),
            Err(_) => Redirect::to("/login").into_response(),
        },
        Err(ApiError::Validation(errors)) => {
            (StatusCode::UNPROCESSABLE_ENTITY, setup_page_with(&form, &errors)).into_response()
        }
        Err(ApiError::Conflict(_)) => Redirect::to("/login").into_response(),
        Err(other) => page_error(other),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    jar: CookieJar,
) -> Response {
    match sessions::sign_out(&state, &context, &user.principal).await {
        Ok(cleared) => (jar.add(cleared), Redirect::to("/login")).into_response(),
        Err(error) => page_error(error),
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "forgot.html")]
pub struct ForgotPage {
    nav: Option<Nav>,
    sent: bool,
    error: Option<String>,
}

pub async fn forgot_page() -> Response {
    ForgotPage { nav: None, sent: false, error: None }.into_response()
}

#[derive(Debug, Deserialize)]
pub struct ForgotForm {
    email: String,
}

/// The same answer whether or not the address has an account.
pub async fn forgot(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    Form(form): Form<ForgotForm>,
) -> Response {
    let request = match super::account_pages::api_body(serde_json::json!({ "email": form.email })) {
        Ok(request) => request,
        Err(error) => return page_error(error),
    };
    let response = crate::api::v1::password_reset::request(State(state), ClientContext(context), request).await;
    if response.status() == StatusCode::TOO_MANY_REQUESTS {
        let page = ForgotPage { nav: None, sent: false, error: Some("Too many requests; please wait a while.".into()) };
        return (StatusCode::TOO_MANY_REQUESTS, page).into_response();
    }
    ForgotPage { nav: None, sent: true, error: None }.into_response()
}

#[derive(Template, WebTemplate)]
#[template(path = "reset.html")]
pub struct ResetPage {
    nav: Option<Nav>,
    token: String,
    errors: Vec<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct TokenQuery {
    token: String,
}

pub async fn reset_page(Query(query): Query<TokenQuery>) -> Response {
    ResetPage { nav: None, token: query.token, errors: Vec::new() }.into_response()
}

#[derive(Debug, Deserialize)]
pub struct ResetForm {
    token: String,
    new_password: String,
}

pub async fn reset(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    Form(form): Form<ResetForm>,
) -> Response {
    let body = serde_json::json!({ "token": form.token, "new_password": form.new_password });
    let request = match super::account_pages::api_body(body) {
        Ok(request) => request,
        Err(error) => return page_error(error),
    };
    let response = crate::api::v1::password_reset::confirm(State(state), ClientContext(context), request).await;
    if response.status() == StatusCode::NO_CONTENT {
        return Redirect::to("/login").into_response();
    }
    let status = response.status();
    let body = axum::body::to_bytes(response.into_body(), 64 * 1024).await.unwrap_or_default();
    let problem: serde_json::Value = serde_json::from_slice(&body).unwrap_or_default();
    let errors = problem["errors"]
        .as_array()
        .map(|errors| {
            errors
                .iter()
                .map(|e| {
                    let field = e["field"].as_str().unwrap_or_default().replace('_', " ");
                    format!("{field}: {}", e["message"].as_str().unwrap_or_default())
                })
                .collect()
        })
        .unwrap_or_else(|| {
            vec![problem["detail"].as_str().unwrap_or("That did not work; please try again.").to_string()]
        });
    (status, ResetPage { nav: None, token: form.token, errors }).into_response()
}
