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

use super::page::{Nav, PageError, WebUser, form_messages, safe_next};
use crate::{
    app::AppState,
    http::ClientContext,
    ratelimit::{self, budgets},
    services::{ServiceError, accounts, password_resets, sessions},
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

pub async fn login_page(State(state): State<AppState>, Query(params): Query<NextParam>) -> Result<Response, PageError> {
    if users::count_all(state.db().conn()).await? == 0 {
        return Ok(Redirect::to("/setup").into_response());
    }
    Ok(LoginPage { nav: None, email: String::new(), next: safe_next(&params.next), error: None }.into_response())
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
) -> Result<Response, PageError> {
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
            let mut page =
                again(StatusCode::TOO_MANY_REQUESTS, &format!("Too many attempts. Try again in {minutes} min."));
            decision.annotate_refusal(page.headers_mut());
            return Ok(page);
        }
    }
    match sessions::sign_in(&state, &context, &form.email, form.password.clone()).await {
        Ok(signed_in) => Ok((jar.add(signed_in.cookie), Redirect::to(&next)).into_response()),
        Err(ServiceError::NotAuthenticated) => Ok(again(
            StatusCode::UNAUTHORIZED,
            "The email or password is wrong, or the account is locked or deactivated.",
        )),
        Err(other) => Err(other.into()),
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
    /// What the field must hold, shown under it before anything goes wrong.
    hint: Option<&'static str>,
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
        errors: errors.iter().filter(|e| e.field == name).map(|e| super::format::sentence(&e.message)).collect(),
        hint: (kind == "password").then_some(vulntrack_domain::password_policy::HINT),
    };
    SetupPage {
        nav: None,
        fields: vec![
            field("team_name", "Team name", "text", "organization", &form.team_name),
            field("name", "Your name", "text", "name", &form.name),
            field("email", "Email", "email", "username", &form.email),
            field("password", "Password", "password", "new-password", ""),
        ],
    }
}

pub async fn setup_page(State(state): State<AppState>) -> Result<Response, PageError> {
    if users::count_all(state.db().conn()).await? == 0 {
        Ok(setup_page_with(&SetupForm::default(), &Default::default()).into_response())
    } else {
        Ok(Redirect::to("/login").into_response())
    }
}

pub async fn setup(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    jar: CookieJar,
    Form(form): Form<SetupForm>,
) -> Result<Response, PageError> {
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
        Ok(_) => Ok(signed_in_or_login(&state, &context, jar, &form.email, form.password).await),
        Err(ServiceError::Invalid(errors)) => {
            Ok((StatusCode::UNPROCESSABLE_ENTITY, setup_page_with(&form, &errors)).into_response())
        }
        Err(ServiceError::Conflict(_)) => Ok(Redirect::to("/login").into_response()),
        Err(other) => Err(other.into()),
    }
}

/// After an account is made: signed in and home, or to the sign-in page
/// when signing in is refused (e.g. a lockout meanwhile).
pub async fn signed_in_or_login(
    state: &AppState,
    context: &vulntrack_store::audit::RequestContext,
    jar: CookieJar,
    email: &str,
    password: String,
) -> Response {
    match sessions::sign_in(state, context, email, password).await {
        Ok(signed_in) => (jar.add(signed_in.cookie), Redirect::to("/")).into_response(),
        Err(_) => Redirect::to("/login").into_response(),
    }
}

pub async fn logout(
    State(state): State<AppState>,
    ClientContext(context): ClientContext,
    user: WebUser,
    jar: CookieJar,
) -> Result<Response, PageError> {
    let cleared = sessions::sign_out(&state, &context, &user.principal).await?;
    Ok((jar.add(cleared), Redirect::to("/login")).into_response())
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
) -> Result<Response, PageError> {
    let outcome = async {
        ratelimit::spend(state.rate_limiter(), &[budgets::accounts_and_resets(&state, &context)]).await?;
        password_resets::request_link(&state, &context, &form.email).await
    };
    match outcome.await {
        Ok(()) => Ok(ForgotPage { nav: None, sent: true, error: None }.into_response()),
        Err(ServiceError::RateLimited { retry_after_seconds }) => {
            let page = ForgotPage { nav: None, sent: false, error: Some(wait_message(retry_after_seconds)) };
            Ok(too_many(page, retry_after_seconds))
        }
        Err(other) => Err(other.into()),
    }
}

/// What a page says when a budget is spent.
pub fn wait_message(retry_after_seconds: u64) -> String {
    format!("Too many attempts; try again in {} min.", retry_after_seconds.div_ceil(60).max(1))
}

/// A page answered with 429 and `Retry-After`, as the API answers.
pub fn too_many(page: impl IntoResponse, retry_after_seconds: u64) -> Response {
    let mut response = (StatusCode::TOO_MANY_REQUESTS, page).into_response();
    response
        .headers_mut()
        .insert(axum::http::header::RETRY_AFTER, axum::http::HeaderValue::from(retry_after_seconds.max(1)));
    response
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
) -> Result<Response, PageError> {
    let outcome = async {
        ratelimit::spend(state.rate_limiter(), &[budgets::accounts_and_resets(&state, &context)]).await?;
        password_resets::confirm(&state, &context, &form.token, form.new_password).await
    };
    match outcome.await {
        Ok(()) => Ok(Redirect::to("/login").into_response()),
        Err(ServiceError::RateLimited { retry_after_seconds }) => {
            let page = ResetPage { nav: None, token: form.token, errors: vec![wait_message(retry_after_seconds)] };
            Ok(too_many(page, retry_after_seconds))
        }
        Err(error) => {
            let errors = form_messages(error)?;
            Ok((StatusCode::UNPROCESSABLE_ENTITY, ResetPage { nav: None, token: form.token, errors }).into_response())
        }
    }
}
