//! The API's contract, generated from the handlers (OpenAPI 3.1): served
//! at `/api/openapi.json`, browsable at `/api/docs` (Swagger UI, files
//! served by us, no CDN).

use axum::Router;
use utoipa::{
    Modify, OpenApi,
    openapi::{
        Components, ContentBuilder, HttpMethod, OpenApi as Document, Ref, RefOr, ResponseBuilder,
        security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme},
    },
};

use crate::{app::AppState, http::error::PROBLEM_JSON};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "VulnTrack API",
        description = "Vulnerability management: records, triage, comments, audit. Every error is RFC 9457 problem+json; \
                       lists page by an opaque `cursor`; writes to a versioned record take `If-Match`.",
        license(name = "AGPL-3.0-or-later")
    ),
    components(schemas(crate::http::error::Problem)),
    modifiers(&Security),
    tags(
        (name = "auth", description = "Setup, sign-in, registration, password reset"),
        (name = "account", description = "The signed-in account"),
        (name = "team", description = "The team's settings (ADMIN)"),
        (name = "users", description = "Members and invitations (ADMIN)"),
        (name = "tokens", description = "The account's API tokens"),
        (name = "vulnerabilities", description = "The register"),
        (name = "assets", description = "What findings are found on"),
        (name = "imports", description = "Scanner reports imported onto assets, deduplicated"),
        (name = "cves", description = "The CVE catalogue (NVD, CISA KEV, FIRST EPSS), shared by every team"),
        (name = "comments", description = "Discussion on a record"),
        (name = "audit", description = "The team's audit log (ADMIN)"),
        (name = "alerts", description = "Security alerts (ADMIN)"),
        (name = "notifications", description = "The account's notifications"),
    )
)]
struct ApiDoc;

/// How a client authenticates: an API token (`Authorization: Bearer vt_…`)
/// or the browser's session cookie; every operation needs one unless it
/// says otherwise.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut Document) {
        let components = openapi.components.get_or_insert_with(Components::new);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .description(Some("An API token made at /account or POST /api/v1/tokens"))
                    .build(),
            ),
        );
        components.add_security_scheme(
            "session",
            SecurityScheme::ApiKey(ApiKey::Cookie(ApiKeyValue::with_description(
                crate::auth::cookie::name(false),
                "The browser session (`__Host-vulntrack_session` in production); unsafe methods also need a same-origin request",
            ))),
        );
        openapi.security = Some(vec![
            SecurityRequirement::new("bearer", Vec::<String>::new()),
            SecurityRequirement::new("session", Vec::<String>::new()),
        ]);
    }
}

/// The error answers any operation can give, added to each where they
/// apply, all as problem+json: the middleware (size limit, rate limits,
/// storage outages) answers them before or after any handler.
struct Errors;

fn problem(description: &str) -> RefOr<utoipa::openapi::Response> {
    ResponseBuilder::new()
        .description(description)
        .content(PROBLEM_JSON, ContentBuilder::new().schema(Some(Ref::from_schema_name("Problem"))).build())
        .into()
}

impl Modify for Errors {
    fn modify(&self, openapi: &mut Document) {
        for (path, item) in openapi.paths.paths.iter_mut() {
            let has_path_params = |op: &utoipa::openapi::path::Operation| {
                op.parameters.iter().flatten().any(|p| p.parameter_in == utoipa::openapi::path::ParameterIn::Path)
            };
            for (method, operation) in [
                (HttpMethod::Get, &mut item.get),
                (HttpMethod::Post, &mut item.post),
                (HttpMethod::Patch, &mut item.patch),
                (HttpMethod::Delete, &mut item.delete),
            ] {
                let Some(operation) = operation.as_mut() else { continue };
                operation.operation_id = Some(operation_id(&method, path));
                let public =
                    operation.security.as_ref().is_some_and(|s| s.iter().all(|r| r == &SecurityRequirement::default()));
                let mut codes: Vec<(&str, &str)> = vec![
                    ("400", "The request cannot be read (malformed JSON, a bad header)"),
                    ("422", "Invalid input; `errors` names each field"),
                    ("429", "Too many requests; `Retry-After` says when to try again"),
                    ("500", "An internal error (logged with the request id; nothing internal is shown)"),
                    ("503", "Storage is unavailable; nothing was changed; `Retry-After`"),
                ];
                if method != HttpMethod::Get {
                    codes.push(("413", "The body is larger than the server accepts"));
                    codes.push(("415", "The body is not JSON (`Content-Type: application/json`)"));
                }
                if !public || has_path_params(operation) {
                    codes.push(("401", "No valid credentials"));
                    codes.push(("403", "The role does not allow this, or a cross-site request"));
                    codes.push(("404", "No such record in your team"));
                }
                if matches!(method, HttpMethod::Patch | HttpMethod::Delete) {
                    codes.push(("409", "The change contradicts the current state"));
                    codes.push(("412", "`If-Match` names an older version; the current one is in `ETag`"));
                }
                if method == HttpMethod::Post {
                    codes.push(("409", "The change contradicts the current state"));
                }
                for (code, description) in codes {
                    operation.responses.responses.entry(code.to_string()).or_insert_with(|| problem(description));
                }
            }
        }
    }
}

/// A unique, stable operation id from the method and the path:
/// `GET /api/v1/users/{id}/tokens` is `get_users_id_tokens` (handler names
/// repeat across modules: `list`, `create`, …).
fn operation_id(method: &HttpMethod, path: &str) -> String {
    let method = match method {
        HttpMethod::Get => "get",
        HttpMethod::Post => "post",
        HttpMethod::Patch => "patch",
        HttpMethod::Delete => "delete",
        _ => "other",
    };
    let words: Vec<String> = path
        .trim_start_matches("/api/v1/")
        .split('/')
        .map(|segment| segment.trim_matches(|c| c == '{' || c == '}').replace('-', "_"))
        .collect();
    format!("{method}_{}", words.join("_"))
}

/// The document and the routes it describes (under `/api/v1`).
fn split() -> (Router<AppState>, Document) {
    let (routes, mut document) = utoipa_axum::router::OpenApiRouter::with_openapi(ApiDoc::openapi())
        .nest("/api/v1", super::v1::router())
        .split_for_parts();
    Errors.modify(&mut document);
    (routes, document)
}

/// The API's routes, `/api/openapi.json` and the Swagger UI at `/api/docs`.
pub fn router() -> Router<AppState> {
    let (routes, document) = split();
    let ui: Router<AppState> = utoipa_swagger_ui::SwaggerUi::new("/api/docs").url("/api/openapi.json", document).into();
    routes.merge(ui)
}

/// The generated document, for tests and tools (`vulntrack openapi`).
pub fn document() -> Document {
    split().1
}
