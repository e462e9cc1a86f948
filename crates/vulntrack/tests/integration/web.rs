//! The web pages over plain HTTP, as a browser without JavaScript uses
//! them: forms posted, redirects followed, pages read.

use axum::http::{Method, StatusCode, header};
use serde_json::{Value, json};

use crate::{
    support::{As, PASSWORD, TestApp, TestResponse},
    vulnerabilities::{create, sample},
};

const ADMIN: &str = "admin@example.com";

fn form(pairs: &[(&str, &str)]) -> String {
    let mut encoded = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        encoded.append_pair(k, v);
    }
    encoded.finish()
}

/// POSTs a form the way a same-origin page does.
pub async fn post_form(app: &TestApp, path: &str, cookie: Option<&str>, pairs: &[(&str, &str)]) -> TestResponse {
    let origin = app.origin();
    let mut headers = vec![("content-type", "application/x-www-form-urlencoded"), ("origin", origin.as_str())];
    if let Some(cookie) = cookie {
        headers.push(("cookie", cookie));
    }
    let request = axum::http::Request::builder().method(Method::POST).uri(path);
    let request = headers.iter().fold(request, |r, (k, v)| r.header(*k, *v));
    let request = request.body(axum::body::Body::from(form(pairs))).expect("request");
    send_raw(app, request).await
}

async fn send_raw(app: &TestApp, request: axum::http::Request<axum::body::Body>) -> TestResponse {
    use http_body_util::BodyExt;
    use tower::ServiceExt;
    let response = app.router.clone().oneshot(request).await.expect("response");
    let status = response.status();
    let headers = response.headers().clone();
    let content_type = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string();
    let bytes = response.into_body().collect().await.expect("body").to_bytes();
    let body = Value::String(String::from_utf8_lossy(&bytes).into_owned());
    TestResponse { status, content_type, headers, body, bytes: bytes.to_vec() }
}

pub async fn page(app: &TestApp, path: &str, cookie: &str) -> TestResponse {
    app.get_as(path, As::Cookie(cookie)).await
}

pub fn html(response: &TestResponse) -> &str {
    response.body.as_str().unwrap_or_default()
}

pub fn location(response: &TestResponse) -> String {
    response.headers.get(header::LOCATION).and_then(|v| v.to_str().ok()).unwrap_or_default().to_string()
}

/// Follows a redirect as a browser does: to its `Location`, with the
/// session and the confirmation cookie the redirect set.
async fn follow(app: &TestApp, redirect: &TestResponse, session: &str) -> TestResponse {
    let flash = redirect.set_cookies().into_iter().find(|c| c.starts_with("vulntrack_flash="));
    let flash = flash.map(|c| c.split(';').next().unwrap_or_default().to_string());
    let cookies = flash.map_or_else(|| session.to_string(), |flash| format!("{session}; {flash}"));
    page(app, &location(redirect), &cookies).await
}

#[tokio::test]
async fn without_javascript_setup_sign_in_create_and_search_work_through_forms() {
    let app = TestApp::spawn().await;
    assert_eq!(location(&app.get("/").await), "/login?next=%2F", "anonymous visitors go to sign in");
    assert_eq!(location(&app.get("/login").await), "/setup", "a fresh install sets up first");
    let setup = post_form(
        &app,
        "/setup",
        None,
        &[("team_name", "Blue Team"), ("name", "Ada Admin"), ("email", ADMIN), ("password", PASSWORD)],
    )
    .await;
    assert_eq!(setup.status, StatusCode::SEE_OTHER, "{setup:?}");
    assert_eq!(location(&app.get("/setup").await), "/login", "setup is closed afterwards");

    let wrong = post_form(&app, "/login", None, &[("email", ADMIN), ("password", "nope"), ("next", "/")]).await;
    assert_eq!(wrong.status, StatusCode::UNAUTHORIZED);
    assert!(html(&wrong).contains("The email or password is wrong") && html(&wrong).contains(ADMIN), "keeps the email");
    let signed_in =
        post_form(&app, "/login", None, &[("email", ADMIN), ("password", PASSWORD), ("next", "/vulnerabilities?q=x")])
            .await;
    assert_eq!(location(&signed_in), "/vulnerabilities?q=x", "back to where the visitor was going");
    let offsite =
        post_form(&app, "/login", None, &[("email", ADMIN), ("password", PASSWORD), ("next", "//evil.example")]).await;
    assert_eq!(location(&offsite), "/", "never off-site");
    let cookie = signed_in.cookie();

    let created = post_form(
        &app,
        "/vulnerabilities",
        Some(&cookie),
        &[
            ("title", "Exposed admin console on gateway"),
            ("description", "The admin console answers on the public interface."),
            ("severity", "HIGH"),
            ("kind", "MISCONFIGURATION"),
            ("tags", "edge, exposure"),
            ("stride_elevation_of_privilege", "on"),
        ],
    )
    .await;
    assert_eq!(created.status, StatusCode::SEE_OTHER, "{created:?}");
    assert_eq!(location(&created), "/vulnerabilities/VT-1");
    let detail = page(&app, "/vulnerabilities/VT-1", &cookie).await;
    assert!(html(&detail).contains("Exposed admin console on gateway"));
    let found = page(&app, "/vulnerabilities?q=gateway", &cookie).await;
    assert!(html(&found).contains("VT-1"), "search finds it");
    // Its SLA: due in 30 days (HIGH), shown in the list's Due column and
    // on the record; not overdue.
    let due = page(&app, "/vulnerabilities?col=key&col=due&sla=on_track", &cookie).await;
    assert!(html(&due).contains("VT-1") && html(&due).contains("data-label=\"Due\""), "{}", html(&due));
    let overdue = page(&app, "/vulnerabilities?sla=breached", &cookie).await;
    assert!(html(&overdue).contains("No vulnerabilities match"));
    assert!(html(&detail).contains("<dt>Due</dt>") && html(&detail).contains("(on track)"), "{}", html(&detail));
    let none = page(&app, "/vulnerabilities?q=zzzz", &cookie).await;
    assert!(html(&none).contains("No vulnerabilities match"));

    let commented =
        post_form(&app, "/vulnerabilities/VT-1/comments", Some(&cookie), &[("body", "Firewall rule requested.")]).await;
    assert_eq!(commented.status, StatusCode::SEE_OTHER);
    // Resolving asks why: without a reason, the form says so and nothing moves.
    let unexplained = post_form(&app, "/vulnerabilities/VT-1/status", Some(&cookie), &[("status", "RESOLVED")]).await;
    assert_eq!(unexplained.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&unexplained).contains("is required when the status is RESOLVED"), "{}", html(&unexplained));
    let accepted = post_form(
        &app,
        "/vulnerabilities/VT-1/status",
        Some(&cookie),
        &[
            ("status", "RESOLVED"),
            ("resolution", "RISK_ACCEPTED"),
            ("resolution_note", ""),
            ("risk_accepted_until", ""),
        ],
    )
    .await;
    assert_eq!(accepted.status, StatusCode::UNPROCESSABLE_ENTITY, "an accepted risk needs its justification");
    assert!(
        html(&accepted).contains("why the risk is accepted")
            && html(&accepted).contains("the last day the acceptance holds")
    );
    let moved = post_form(
        &app,
        "/vulnerabilities/VT-1/status",
        Some(&cookie),
        &[("status", "RESOLVED"), ("resolution", "FALSE_POSITIVE"), ("resolution_note", "The console is a honeypot.")],
    )
    .await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER);
    let after = page(&app, "/vulnerabilities/VT-1", &cookie).await;
    assert!(html(&after).contains("Firewall rule requested.") && html(&after).contains("Resolved"));
    assert!(html(&after).contains("False positive") && html(&after).contains("The console is a honeypot."));
    // The edit form names a duplicate's original by key; another key is its error.
    let edit = |original: &'static str| {
        [
            ("title", "Exposed admin console on gateway"),
            ("description", "The admin console answers on the public interface."),
            ("severity", "HIGH"),
            ("kind", "MISCONFIGURATION"),
            ("status", "CLOSED"),
            ("resolution", "DUPLICATE"),
            ("duplicate_of", original),
        ]
    };
    let unknown = post_form(&app, "/vulnerabilities/VT-1/edit", Some(&cookie), &edit("VT-99")).await;
    assert_eq!(unknown.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&unknown).contains("VT-99 is not a record of your team"), "{}", html(&unknown));

    let out = post_form(&app, "/logout", Some(&cookie), &[]).await;
    assert_eq!(location(&out), "/login");
    assert!(location(&page(&app, "/vulnerabilities", &cookie).await).starts_with("/login"), "the session is over");
}

#[tokio::test]
async fn forms_show_field_errors_next_to_the_fields_and_keep_the_input() {
    let app = TestApp::spawn().await;
    let setup = post_form(
        &app,
        "/setup",
        None,
        &[("team_name", "Blue Team"), ("name", ""), ("email", "not-an-email"), ("password", "short")],
    )
    .await;
    assert_eq!(setup.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&setup);
    assert!(text.contains("value=\"Blue Team\"") && text.contains("value=\"not-an-email\""), "input kept");
    assert!(text.contains("aria-invalid=\"true\"") && text.contains("at least 12 characters"), "{text}");
    assert!(!text.contains("value=\"short\""), "passwords are never echoed");

    app.setup_admin("Blue Team", ADMIN).await;
    let cookie = app.login(ADMIN, PASSWORD).await;
    let refused = post_form(
        &app,
        "/vulnerabilities",
        Some(&cookie),
        &[
            ("title", "Kept title"),
            ("description", "short"),
            ("cve_id", "CVE-1"),
            ("references", "javascript:alert(1)"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&refused);
    assert!(
        text.contains("value=\"Kept title\"")
            && text.contains(">short</textarea>")
            && text.contains("javascript:alert(1)</textarea>")
    );
    for message in
        ["must be at least 10 characters", "must look like CVE-2024-12345", "must be an http:// or https:// URL"]
    {
        assert!(text.contains(message), "{message} missing");
    }
    let stats = app.get_as("/api/v1/vulnerabilities/stats", As::Cookie(&cookie)).await;
    assert_eq!(stats.body["total"], 0, "nothing written");
}

#[tokio::test]
async fn dashboard_figures_equal_the_stats_api() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let cookie = app.login(ADMIN, PASSWORD).await;
    for (severity, status) in [
        ("CRITICAL", "OPEN"),
        ("CRITICAL", "IN_PROGRESS"),
        ("HIGH", "OPEN"),
        ("HIGH", "RESOLVED"),
        ("LOW", "CLOSED"),
        ("INFO", "OPEN"),
        ("HIGH", "OPEN"),
    ] {
        let mut body = sample(&format!("{severity} {status}"));
        body["severity"] = json!(severity);
        body["status"] = json!(status);
        if matches!(status, "RESOLVED" | "CLOSED") {
            body["resolution"] = json!("FIXED");
        }
        create(&app, &cookie, body).await;
    }
    // Criticals within five days: both open ones are due this week.
    let policy = json!({ "sla_days": { "CRITICAL": 5 } });
    let changed = app.patch("/api/v1/team/triage-policy", As::Cookie(&cookie), policy).await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    // VT-3 (HIGH, open) is long overdue.
    let late = app.get_as("/api/v1/vulnerabilities/VT-3", As::Cookie(&cookie)).await.body;
    let id = late["id"].as_str().expect("id");
    crate::vulnerabilities::move_deadlines(&app, id, "2020-01-01T00:00:00Z", "2020-01-31T00:00:00Z").await;
    let stats = app.get_as("/api/v1/vulnerabilities/stats", As::Cookie(&cookie)).await.body;
    assert_eq!((&stats["overdue"], &stats["due_this_week"]), (&json!(1), &json!(2)), "{stats}");
    let high =
        stats["sla_compliance"].as_array().expect("compliance").iter().find(|c| c["severity"] == "HIGH").cloned();
    assert_eq!(high, Some(json!({ "severity": "HIGH", "resolved": 1, "in_time": 1 })), "{stats}");
    let dashboard = page(&app, "/", &cookie).await;
    let text = html(&dashboard);
    assert!(text.contains(&format!("id=\"total\" data-value=\"{}\"", stats["total"])), "total");
    assert!(text.contains(&format!("id=\"open\" data-value=\"{}\"", stats["open"])), "open");
    assert!(text.contains("id=\"overdue\" data-value=\"1\"") && text.contains("id=\"due-this-week\" data-value=\"2\""));
    assert!(text.contains("100 % (1 of 1)"), "the SLA record of HIGH");
    // The tiles lead to the records they count.
    let overdue = page(&app, "/vulnerabilities?sla=breached", &cookie).await;
    assert!(html(&overdue).contains("VT-3") && !html(&overdue).contains("VT-1\""), "{}", html(&overdue));
    for cell in stats["by_severity_and_status"].as_array().expect("counts") {
        let needle = format!(
            "data-severity=\"{}\" data-status=\"{}\" data-count=\"{}\"",
            cell["severity"].as_str().expect("s"),
            cell["status"].as_str().expect("s"),
            cell["count"]
        );
        assert!(text.contains(&needle), "{needle} missing from the dashboard");
    }
    assert!(
        text.contains("<title id=\"dist-title\"") || text.contains("aria-labelledby=\"dist-title\""),
        "charts are labelled"
    );
    // Every figure leads to the records it counts.
    let rows_at = |href: String| {
        let app = &app;
        let cookie = cookie.clone();
        async move {
            let listed = page(app, &href.replace("&#38;", "&").replace("&amp;", "&"), &cookie).await;
            html(&listed).matches("class=\"row-title\"").count() as u64
        }
    };
    for cell in stats["by_severity_and_status"].as_array().expect("counts") {
        let (severity, status) = (cell["severity"].as_str().expect("s"), cell["status"].as_str().expect("s"));
        let href = format!("/vulnerabilities?severity={severity}&#38;status={status}");
        assert!(text.contains(&format!("<a href=\"{href}\">{}</a>", cell["count"])), "{href} links its count");
        assert_eq!(rows_at(href).await, cell["count"].as_u64().expect("count"), "{severity}/{status}");
    }
    for (id, href) in [
        ("total", "/vulnerabilities"),
        ("open", "/vulnerabilities?status=OPEN&amp;status=IN_PROGRESS"),
        ("resolved", "/vulnerabilities?status=RESOLVED&amp;status=CLOSED"),
    ] {
        assert!(text.contains(&format!("<a class=\"card tile\" href=\"{href}\"><span class=\"figure\" id=\"{id}\"")));
    }
    assert_eq!(
        rows_at("/vulnerabilities?status=OPEN&status=IN_PROGRESS".into()).await,
        stats["open"].as_u64().expect("open")
    );
    let critical = "/vulnerabilities?severity=CRITICAL&amp;status=OPEN&amp;status=IN_PROGRESS";
    assert!(
        text.contains(&format!("<li><a href=\"{critical}\"><span class=\"hbar-label\">Critical</span>")),
        "bars link"
    );
    // The trend has axes, gridlines, both series and a hover value per day.
    assert!(text.contains("class=\"grid\"") && text.contains("class=\"tick\""), "gridlines and ticks");
    assert_eq!(text.matches("<rect class=\"hover\"").count(), 90, "one hover column per day");
    let today = chrono::Utc::now().date_naive().format("%Y-%m-%d").to_string();
    assert!(text.contains(&format!("<title>{today}: 5 open, 2 resolved</title>")), "today's values on hover");
    assert!(text.contains("class=\"resolved\""), "resolutions drawn");
}

#[tokio::test]
async fn pages_show_only_the_signed_in_team_and_viewers_get_no_write_controls() {
    let app = TestApp::spawn().await;
    app.setup_admin("Team A", ADMIN).await;
    let a = app.login(ADMIN, PASSWORD).await;
    let secret = create(&app, &a, sample("Team A's zanzibar secret")).await;
    let viewer = app.add_member(&a, "viewer@example.com", "VIEWER").await;

    let team_b = vulntrack_store::teams::create(app.db.conn(), "Team B").await.expect("team");
    let hash =
        vulntrack_store::users::find_for_sign_in(app.db.conn(), ADMIN).await.expect("q").expect("u").password_hash;
    let new = vulntrack_store::users::NewUser {
        email: "b@example.com",
        name: "B Admin",
        role: vulntrack_domain::Role::Admin,
        password_hash: &hash,
    };
    vulntrack_store::users::create(app.db.conn(), team_b.scope(), new).await.expect("user");
    let b = app.login("b@example.com", PASSWORD).await;
    let foreign = page(&app, &format!("/vulnerabilities/{}", secret["id"].as_str().expect("id")), &b).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "another team's id renders the 404 page");
    assert!(foreign.content_type.starts_with("text/html"));
    for path in ["/vulnerabilities", "/vulnerabilities?q=zanzibar", "/"] {
        // The search box echoes the query; the record itself must not show.
        assert!(!html(&page(&app, path, &b).await).contains("zanzibar secret"), "{path} leaks team A");
        // …while it does show, on the same page, to its own team.
        assert!(html(&page(&app, path, &a).await).contains("zanzibar secret"), "{path} shows team A its record");
    }

    // The write controls are absent for the VIEWER and present, on the same
    // pages, for the ADMIN (so a renamed control cannot pass unnoticed).
    let list = page(&app, "/vulnerabilities", &viewer).await;
    assert!(html(&list).contains("zanzibar") && !html(&list).contains("New vulnerability"));
    assert!(html(&page(&app, "/vulnerabilities", &a).await).contains("New vulnerability"), "the ADMIN's button");
    let detail = page(&app, "/vulnerabilities/VT-1", &viewer).await;
    assert!(!html(&detail).contains("Change status") && !html(&detail).contains("Add a comment"));
    let admin_detail = page(&app, "/vulnerabilities/VT-1", &a).await;
    assert!(html(&admin_detail).contains("Change status") && html(&admin_detail).contains("Add a comment"));
    assert_eq!(page(&app, "/vulnerabilities/new", &viewer).await.status, StatusCode::FORBIDDEN);
    let forced =
        post_form(&app, "/vulnerabilities", Some(&viewer), &[("title", "x"), ("description", "y".repeat(20).as_str())])
            .await;
    assert_eq!(forced.status, StatusCode::FORBIDDEN, "the server refuses the write anyway");
}

#[tokio::test]
async fn records_are_edited_and_deleted_through_forms_with_their_history_shown() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let cookie = app.login(ADMIN, PASSWORD).await;
    let mut body = sample("Before the edit");
    body["cve_id"] = json!("CVE-2024-1111");
    create(&app, &cookie, body).await;
    let edit = page(&app, "/vulnerabilities/VT-1/edit", &cookie).await;
    assert!(
        html(&edit).contains("value=\"Before the edit\"") && html(&edit).contains("value=\"CVE-2024-1111\""),
        "prefilled"
    );
    let saved = post_form(
        &app,
        "/vulnerabilities/VT-1/edit",
        Some(&cookie),
        &[
            ("title", "After the edit"),
            ("description", "User input reaches a SQL query without parameters."),
            ("severity", "HIGH"),
            ("status", "IN_PROGRESS"),
            ("kind", "VULNERABILITY"),
            ("cve_id", ""),
        ],
    )
    .await;
    assert_eq!(location(&saved), "/vulnerabilities/VT-1", "{saved:?}");
    let api = app.get_as("/api/v1/vulnerabilities/VT-1", As::Cookie(&cookie)).await.body;
    assert_eq!(api["title"], "After the edit");
    assert_eq!(api["status"], "IN_PROGRESS");
    assert!(api["cve_id"].is_null(), "an emptied field is cleared");
    let detail = page(&app, "/vulnerabilities/VT-1", &cookie).await;
    let text = html(&detail);
    assert!(
        text.contains("created it") && text.contains("changed the status") && text.contains("In progress"),
        "activity timeline: {text}"
    );
    let bad =
        post_form(&app, "/vulnerabilities/VT-1/edit", Some(&cookie), &[("title", ""), ("description", "short")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    let deleted = post_form(&app, "/vulnerabilities/VT-1/delete", Some(&cookie), &[]).await;
    assert_eq!(location(&deleted), "/vulnerabilities");
    assert_eq!(page(&app, "/vulnerabilities/VT-1", &cookie).await.status, StatusCode::NOT_FOUND);
}

fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).map(|i| i + start.len()).unwrap_or_else(|| panic!("{start} missing"));
    let to = text[from..].find(end).map_or(text.len(), |i| from + i);
    &text[from..to]
}

#[tokio::test]
async fn account_team_invitation_and_password_pages_work_through_forms() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;

    let account = page(&app, "/account", &admin).await;
    assert_eq!(account.status, StatusCode::OK);
    let saved =
        post_form(&app, "/account/profile", Some(&admin), &[("name", "Ada A. Admin"), ("job_title", "CISO")]).await;
    assert!(html(&saved).contains("Profile saved.") && html(&saved).contains("value=\"CISO\""));
    let token =
        post_form(&app, "/account/tokens", Some(&admin), &[("name", "pipeline"), ("expires_in_days", "30")]).await;
    let secret = between(html(&token), "id=\"new-token\">", "<").to_string();
    assert!(secret.starts_with("vt_"), "shown once: {secret}");
    assert_eq!(app.get_as("/api/v1/me", As::Bearer(&secret)).await.status, StatusCode::OK, "and it works");
    assert!(!html(&page(&app, "/account", &admin).await).contains(&secret), "never shown again");
    let wrong = post_form(
        &app,
        "/account/password",
        Some(&admin),
        &[("current_password", "nope"), ("new_password", "N3w&Better#Pass77")],
    )
    .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&wrong).contains("is not your current password"));

    let invited =
        post_form(&app, "/admin/invitations", Some(&admin), &[("email", "viewer@example.com"), ("role", "VIEWER")])
            .await;
    let link = between(html(&invited), "id=\"new-link\">", "<").to_string();
    let path = link.trim_start_matches("http://127.0.0.1:3000").replace("&#61;", "=");
    let landing = app.get(&path).await;
    assert_eq!(landing.status, StatusCode::OK, "{path}");
    assert!(html(&landing).contains("viewer@example.com"));
    let token = crate::support::token_of(&link.replace("&#61;", "="));
    let weak =
        post_form(&app, "/invite", None, &[("token", &token), ("name", "Vic Viewer"), ("password", "weak")]).await;
    assert_eq!(weak.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&weak).contains("value=\"Vic Viewer\"") && html(&weak).contains("at least 12 characters"));
    let joined =
        post_form(&app, "/invite", None, &[("token", &token), ("name", "Vic Viewer"), ("password", "Vi3wer#Pass2026")])
            .await;
    assert_eq!(location(&joined), "/");
    let viewer = joined.cookie();
    assert_eq!(page(&app, "/admin/users", &viewer).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get(&path).await.status, StatusCode::NOT_FOUND, "an invitation works once");

    let users = page(&app, "/admin/users", &admin).await;
    assert!(html(&users).contains("Vic Viewer"));
    let viewer_id = vulntrack_store::users::find_for_sign_in(app.db.conn(), "viewer@example.com")
        .await
        .expect("q")
        .expect("u")
        .user
        .id;
    let reset = post_form(&app, &format!("/admin/users/{viewer_id}/reset-link"), Some(&admin), &[]).await;
    let reset_link = between(html(&reset), "id=\"new-link\">", "<").replace("&#61;", "=");
    let reset_token = crate::support::token_of(&reset_link);
    assert_eq!(app.get(&format!("/reset-password?token={reset_token}")).await.status, StatusCode::OK);
    let refused =
        post_form(&app, "/reset-password", None, &[("token", "forged"), ("new_password", "N3w&Better#Pass77")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&refused).contains("Token: is invalid, expired or already used."), "{}", html(&refused));
    let done =
        post_form(&app, "/reset-password", None, &[("token", &reset_token), ("new_password", "N3w&Better#Pass77")])
            .await;
    assert_eq!(location(&done), "/login");
    app.login("viewer@example.com", "N3w&Better#Pass77").await;

    for email in ["nobody@example.com", ADMIN] {
        let asked = post_form(&app, "/forgot-password", None, &[("email", email)]).await;
        assert_eq!(asked.status, StatusCode::OK);
        assert!(html(&asked).contains("If an account uses that address"), "same answer for {email}");
    }
    let demoted = post_form(&app, &format!("/admin/users/{viewer_id}"), Some(&admin), &[("role", "ANALYST")]).await;
    assert!(html(&demoted).contains("Member updated."));
}

#[tokio::test]
async fn settings_audit_and_alert_pages_for_admins_only() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, "analyst@example.com", "ANALYST").await;
    for path in ["/admin/settings", "/admin/audit", "/admin/alerts", "/admin/users"] {
        assert_eq!(page(&app, path, &analyst).await.status, StatusCode::FORBIDDEN, "{path}");
        assert_eq!(page(&app, path, &admin).await.status, StatusCode::OK, "{path}");
    }
    let saved =
        post_form(&app, "/admin/settings", Some(&admin), &[("name", "Red Team"), ("session_ttl", "3600")]).await;
    assert!(html(&saved).contains("Settings saved.") && html(&saved).contains("value=\"Red Team\""), "{saved:?}");
    let too_long =
        post_form(&app, "/admin/settings", Some(&admin), &[("name", "Red Team"), ("session_ttl", "999999999")]).await;
    assert_eq!(too_long.status, StatusCode::UNPROCESSABLE_ENTITY, "beyond the operator's maximum");
    let policy = [
        ("name", "Red Team"),
        ("session_ttl", "3600"),
        ("risk_acceptance_max_days", "90"),
        ("sla_CRITICAL", "3"),
        ("sla_HIGH", "30"),
        ("sla_MEDIUM", "90"),
        ("sla_LOW", ""),
        ("sla_INFO", ""),
        ("due_soon_percent", "25"),
        ("due_soon_days", "1"),
    ];
    let shorter = post_form(&app, "/admin/settings", Some(&admin), &policy).await;
    assert!(html(&shorter).contains("Settings saved.") && html(&shorter).contains("value=\"90\""), "{shorter:?}");
    let saved = app.get_as("/api/v1/team/triage-policy", As::Cookie(&admin)).await.body;
    assert_eq!(saved["sla_days"], json!({ "CRITICAL": 3, "HIGH": 30, "MEDIUM": 90, "LOW": null, "INFO": null }));
    assert_eq!((&saved["due_soon_percent"], &saved["due_soon_days"]), (&json!(25), &json!(1)));
    let bad_sla = [("name", "Red Team"), ("session_ttl", "3600"), ("sla_HIGH", "soon")];
    let refused_sla = post_form(&app, "/admin/settings", Some(&admin), &bad_sla).await;
    assert_eq!(refused_sla.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&refused_sla).contains("from 1 to 3650"), "{}", html(&refused_sla));
    let never = [("name", "Red Team"), ("session_ttl", "3600"), ("risk_acceptance_max_days", "0")];
    let refused = post_form(&app, "/admin/settings", Some(&admin), &never).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&refused).contains("from 1 to 3650"), "{}", html(&refused));
    let login = app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": ADMIN, "password": PASSWORD })).await;
    assert!(login.set_cookies().join(";").contains("Max-Age=3600"), "new sessions use the team's lifetime");

    let audit = page(&app, "/admin/audit", &admin).await;
    assert!(html(&audit).contains("<td>Settings changed</td>") && html(&audit).contains("<td>Team updated</td>"));
    let logins = page(&app, "/admin/audit?action=LOGIN", &admin).await;
    assert!(
        html(&logins).contains("<td>Login</td>") && !html(&logins).contains("<td>Settings changed</td>"),
        "filtered"
    );
    assert!(
        html(&logins).contains("/api/v1/audit-logs/export?format=csv&amp;action=LOGIN")
            || html(&logins).contains("export?format=csv&#38;action=LOGIN")
    );
    // The analyst's four refused pages were a privilege-escalation pattern.
    let alerts = page(&app, "/admin/alerts", &admin).await;
    assert!(html(&alerts).contains("privilege escalation attempts"), "{}", html(&alerts));
    let waiting = r#"<span class="count" aria-label="1 not acknowledged">1</span>"#;
    assert!(html(&page(&app, "/", &admin).await).contains(waiting), "the menu counts alerts to acknowledge");
    let id = between(html(&alerts), "action=\"/admin/alerts/", "/ack").to_string();
    let acked = post_form(&app, &format!("/admin/alerts/{id}/ack"), Some(&admin), &[]).await;
    assert_eq!(location(&acked), "/admin/alerts");
    let after = page(&app, "/admin/alerts", &admin).await;
    assert!(html(&after).contains("acknowledged"));
    assert!(!html(&after).contains("not acknowledged\">"), "the count goes once acknowledged");
}

/// The approval of a risk acceptance through the pages: the ADMIN ticks
/// the setting, an ANALYST's acceptance from the status form is told it
/// waits, the ADMIN sees the request on the record and rejects it only
/// with a reason, then approves the next; the ANALYST gets no buttons.
#[tokio::test]
async fn a_risk_acceptance_is_requested_and_decided_through_the_pages() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, "analyst@example.com", "ANALYST").await;
    create(&app, &admin, sample("Outdated TLS on the VPN")).await;
    let settings = page(&app, "/admin/settings", &admin).await;
    assert!(html(&settings).contains(r#"name="risk_acceptance_approval" value="on">"#), "unticked by default");
    let mut fields: Vec<(String, String)> = vec![
        ("name".into(), "Blue Team".into()),
        ("risk_acceptance_max_days".into(), "365".into()),
        ("risk_acceptance_approval".into(), "on".into()),
    ];
    let session = between(html(&settings), r#"<option value=""#, r#"""#).to_owned();
    fields.push(("session_ttl".into(), session));
    let pairs: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    let saved = post_form(&app, "/admin/settings", Some(&admin), &pairs).await;
    assert!(html(&saved).contains("Settings saved."), "{}", html(&saved));
    assert!(html(&saved).contains(r#"name="risk_acceptance_approval" value="on" checked>"#));

    let until = (chrono::Utc::now().date_naive() + chrono::Days::new(60)).to_string();
    let accept = [
        ("status", "RESOLVED"),
        ("resolution", "RISK_ACCEPTED"),
        ("resolution_note", "The VPN is replaced in Q2."),
        ("risk_accepted_until", until.as_str()),
    ];
    let asked = post_form(&app, "/vulnerabilities/VT-1/status", Some(&analyst), &accept).await;
    assert_eq!(asked.status, StatusCode::SEE_OTHER, "{asked:?}");
    let told = follow(&app, &asked, &analyst).await;
    assert!(html(&told).contains("waits for an ADMIN&#39;s approval"), "{}", html(&told));
    assert!(html(&told).contains("Risk acceptance requested") && html(&told).contains("Waiting for an ADMIN"));
    assert!(!html(&told).contains(">Approve</button>"), "an ANALYST cannot decide");

    let seen = page(&app, "/vulnerabilities/VT-1", &admin).await;
    assert!(html(&seen).contains("The VPN is replaced in Q2.") && html(&seen).contains(&until));
    let action = between(html(&seen), r#"action="/risk-acceptances/"#, r#"""#).to_owned();
    let id = action.trim_end_matches("/approve").to_owned();
    let reasonless = post_form(&app, &format!("/risk-acceptances/{id}/reject"), Some(&admin), &[("note", " ")]).await;
    assert_eq!(reasonless.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&reasonless).contains("say why the risk is not accepted"), "{}", html(&reasonless));
    let rejected =
        post_form(&app, &format!("/risk-acceptances/{id}/reject"), Some(&admin), &[("note", "Fix it now.")]).await;
    assert_eq!(location(&rejected), "/vulnerabilities/VT-1");
    let after = follow(&app, &rejected, &admin).await;
    assert!(html(&after).contains("Risk acceptance rejected") && html(&after).contains("rejected accepting the risk"));
    assert!(!html(&after).contains("Risk acceptance requested"), "no longer waiting");

    post_form(&app, "/vulnerabilities/VT-1/status", Some(&analyst), &accept).await;
    let seen = page(&app, "/vulnerabilities/VT-1", &admin).await;
    let action = between(html(&seen), r#"action="/risk-acceptances/"#, r#"""#).to_owned();
    let by_analyst = post_form(&app, &format!("/risk-acceptances/{action}"), Some(&analyst), &[]).await;
    assert_eq!(by_analyst.status, StatusCode::FORBIDDEN);
    let approved = post_form(&app, &format!("/risk-acceptances/{action}"), Some(&admin), &[]).await;
    let resolved = follow(&app, &approved, &admin).await;
    assert!(html(&resolved).contains("Risk acceptance approved"), "{}", html(&resolved));
    assert!(html(&resolved).contains("Risk accepted") && html(&resolved).contains("approved accepting the risk"));
}

/// `/triage` without JavaScript: the open, unassigned queue, most severe
/// first, marking what is new since the last look; each row's forms
/// assign or resolve in place and come back to the queue, a refusal is
/// said on it; a VIEWER sees no forms, and another team's key is unknown.
#[tokio::test]
async fn the_triage_queue_works_through_forms() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    for (title, severity) in [("Low finding", "LOW"), ("Critical finding", "CRITICAL")] {
        let mut body = sample(title);
        body["severity"] = json!(severity);
        create(&app, &admin, body).await;
    }
    let mut taken = sample("Already taken");
    taken["assignee_id"] = app.get_as("/api/v1/me", As::Cookie(&admin)).await.body["id"].clone();
    create(&app, &admin, taken).await;

    let first = html(&page(&app, "/triage", &admin).await).to_owned();
    assert!(first.contains("2 open and unassigned") && first.contains("2 new"), "{first}");
    assert!(!first.contains("Already taken"), "an assigned record is not in the queue");
    let critical = first.find("Critical finding").expect("listed");
    assert!(critical < first.find("Low finding").expect("listed"), "most severe first");
    let again = html(&page(&app, "/triage", &admin).await).to_owned();
    assert!(!again.contains("new-mark"), "nothing new since the last look: {again}");
    create(&app, &admin, sample("Fresh finding")).await;
    assert!(html(&page(&app, "/triage", &admin).await).contains("1 new"));

    let assigned = post_form(&app, "/triage/VT-2", Some(&admin), &[("action", "assign")]).await;
    assert_eq!(location(&assigned), "/triage");
    let after = follow(&app, &assigned, &admin).await;
    assert!(html(&after).contains("2 open and unassigned") && !html(&after).contains("Critical finding"));
    let unexplained =
        post_form(&app, "/triage/VT-1", Some(&admin), &[("action", "status"), ("status", "RESOLVED")]).await;
    assert_eq!(unexplained.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&unexplained).contains("VT-1: Resolution"), "{}", html(&unexplained));
    let resolved = post_form(
        &app,
        "/triage/VT-1",
        Some(&admin),
        &[("action", "status"), ("status", "RESOLVED"), ("resolution", "NOT_APPLICABLE")],
    )
    .await;
    assert_eq!(location(&resolved), "/triage");
    assert_eq!(
        app.get_as("/api/v1/vulnerabilities/VT-1", As::Cookie(&admin)).await.body["resolution"],
        "NOT_APPLICABLE"
    );

    let read_only = page(&app, "/triage", &viewer).await;
    assert!(html(&read_only).contains("Fresh finding") && !html(&read_only).contains("Assign to me"));
    let refused = post_form(&app, "/triage/VT-4", Some(&viewer), &[("action", "assign")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    let red = crate::support::other_team_admin(&app, "red@example.com").await;
    let foreign = post_form(&app, "/triage/VT-4", Some(&red), &[("action", "assign")]).await;
    assert_eq!(foreign.status, StatusCode::NOT_FOUND, "another team's key is unknown");
    assert!(app.get_as("/api/v1/vulnerabilities/VT-4", As::Cookie(&admin)).await.body["assignee_id"].is_null());
}

/// Notification choices on the account page, and webhooks on the
/// settings page (ADMIN), through forms: a private address is refused
/// with its reason, a new webhook's secret is shown once.
#[tokio::test]
async fn notification_choices_and_webhooks_are_set_through_forms() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, "analyst@example.com", "ANALYST").await;
    let account = page(&app, "/account", &analyst).await;
    assert!(html(&account).contains(
        r#"name="kind.ASSIGNED" value="email" aria-label="A record is assigned to you: Also by mail" checked"#
    ));
    let saved = post_form(
        &app,
        "/account/notifications",
        Some(&analyst),
        &[("kind.ASSIGNED", "off"), ("kind.COMMENTED", "email"), ("digest", "on")],
    )
    .await;
    assert!(html(&saved).contains("Notification choices saved."), "{}", html(&saved));
    let prefs = app.get_as("/api/v1/me/notification-preferences", As::Cookie(&analyst)).await.body;
    assert_eq!(
        (&prefs["kinds"]["ASSIGNED"], &prefs["kinds"]["COMMENTED"], &prefs["digest"]),
        (&json!("off"), &json!("email"), &json!(true))
    );
    let bad = post_form(&app, "/account/notifications", Some(&analyst), &[("kind.ASSIGNED", "pigeon")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);

    let settings = page(&app, "/admin/settings", &admin).await;
    assert!(html(&settings).contains("Add webhook"));
    let inside = post_form(
        &app,
        "/admin/webhooks",
        Some(&admin),
        &[("url", "http://127.0.0.1:9/hook"), ("events", "vulnerability.created")],
    )
    .await;
    assert_eq!(inside.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&inside).contains("points inside the network"), "{}", html(&inside));
    assert_eq!(app.get_as("/api/v1/webhooks", As::Cookie(&admin)).await.body["items"], json!([]));
    let by_analyst = post_form(&app, "/admin/webhooks", Some(&analyst), &[("url", "https://example.com/")]).await;
    assert_eq!(by_analyst.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn bulk_status_and_assignment_change_every_selected_record() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    for n in 1..=3 {
        create(&app, &admin, sample(&format!("bulk {n}"))).await;
    }
    let admin_id = app.get_as("/api/v1/me", As::Cookie(&admin)).await.body["id"].as_str().expect("id").to_string();
    let list = page(&app, "/vulnerabilities", &admin).await;
    assert!(html(&list).contains("Apply to selected"));
    assert!(!html(&page(&app, "/vulnerabilities", &viewer).await).contains("Apply to selected"));
    // Posted from a filtered second page, the change comes back to it.
    let here = "severity=HIGH&tag=bulk&sort=-cvss&limit=2&col=key&col=title&col=status";
    let done = post_form(
        &app,
        "/vulnerabilities/bulk",
        Some(&admin),
        &[
            ("ids", "VT-1"),
            ("ids", "VT-3"),
            ("status", "RESOLVED"),
            ("resolution", "FIXED"),
            ("assignee_id", &admin_id),
            ("return", here),
        ],
    )
    .await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{done:?}");
    assert_eq!(location(&done), format!("/vulnerabilities?{here}"), "back to the same list, filters intact");
    let shown = follow(&app, &done, &admin).await;
    assert!(html(&shown).contains("2 vulnerabilities changed."), "{}", html(&shown));
    assert!(html(&shown).contains(r#"value="HIGH" checked"#), "the filters are still applied");
    let cleared = shown.set_cookies().iter().any(|c| c.starts_with("vulntrack_flash=;") && c.contains("Max-Age=0"));
    assert!(cleared, "the confirmation is shown once: {:?}", shown.set_cookies());
    for (key, status) in [("VT-1", "RESOLVED"), ("VT-2", "OPEN"), ("VT-3", "RESOLVED")] {
        let record = app.get_as(&format!("/api/v1/vulnerabilities/{key}"), As::Cookie(&admin)).await.body;
        assert_eq!(record["status"], status, "{key}");
    }
    let unassigned =
        post_form(&app, "/vulnerabilities/bulk", Some(&admin), &[("ids", "VT-1"), ("assignee_id", "none")]).await;
    assert_eq!(location(&unassigned), "/vulnerabilities", "with no list to come back to, the plain list");
    assert!(html(&follow(&app, &unassigned, &admin).await).contains("1 vulnerability changed."));
    assert!(app.get_as("/api/v1/vulnerabilities/VT-1", As::Cookie(&admin)).await.body["assignee_id"].is_null());
    // Nothing chosen: the list again, with its filters and the reason.
    let nothing =
        post_form(&app, "/vulnerabilities/bulk", Some(&admin), &[("ids", "VT-2"), ("return", "status=OPEN")]).await;
    assert_eq!(nothing.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&nothing).contains("Select records, and a status or an assignee to give them."));
    assert!(html(&nothing).contains(r#"value="OPEN" checked"#), "{}", html(&nothing));
    // The return field names list parameters only; it cannot lead off the list.
    let elsewhere = post_form(
        &app,
        "/vulnerabilities/bulk",
        Some(&admin),
        &[("ids", "VT-2"), ("status", "OPEN"), ("return", "//evil.example/?next=https://evil.example")],
    )
    .await;
    assert_eq!(location(&elsewhere), "/vulnerabilities");
    let refused =
        post_form(&app, "/vulnerabilities/bulk", Some(&viewer), &[("ids", "VT-2"), ("status", "CLOSED")]).await;
    assert_eq!(refused.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get_as("/api/v1/vulnerabilities/VT-2", As::Cookie(&admin)).await.body["status"], "OPEN");
}

/// Each user chooses the colours of their pages (system, light or dark) on
/// the account page or through the API; every page follows the choice,
/// other users keep theirs, and a value outside the three is refused.
#[tokio::test]
async fn the_theme_is_each_users_choice_and_every_page_follows_it() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let cookie = app.login(ADMIN, PASSWORD).await;
    let other = app.add_member(&cookie, "viewer@example.com", "VIEWER").await;
    let theme_of = |response: &TestResponse| {
        let html = html(response);
        let at = html.find("data-theme=\"").map(|i| i + 12).expect("the page names its theme");
        html[at..].split('"').next().unwrap_or_default().to_string()
    };
    assert_eq!(theme_of(&page(&app, "/", &cookie).await), "system", "the system's colours by default");

    let saved = post_form(&app, "/account/appearance", Some(&cookie), &[("theme", "DARK")]).await;
    assert_eq!(saved.status, StatusCode::OK, "{saved:?}");
    assert!(html(&saved).contains("Appearance saved."));
    assert_eq!(theme_of(&saved), "dark", "the answer itself is in the new colours");
    let checked = html(&saved).contains(r#"value="DARK" checked"#);
    assert!(checked, "the form shows the choice");
    for path in ["/", "/vulnerabilities", "/account", "/no-such-page"] {
        assert_eq!(theme_of(&page(&app, path, &cookie).await), "dark", "{path} follows the choice");
    }
    assert_eq!(theme_of(&page(&app, "/", &other).await), "system", "another user keeps their own");

    let refused = post_form(&app, "/account/appearance", Some(&cookie), &[("theme", "PURPLE")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&refused).contains("Choose system, light or dark."), "{}", html(&refused));
    assert_eq!(theme_of(&page(&app, "/", &cookie).await), "dark", "a refused value changes nothing");

    let me = app.get_as("/api/v1/me", As::Cookie(&cookie)).await;
    assert_eq!(me.body["theme"], "DARK", "the API shows the choice");
    let changed = app.patch("/api/v1/me", As::Cookie(&cookie), json!({ "theme": "LIGHT" })).await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    assert_eq!(theme_of(&page(&app, "/", &cookie).await), "light", "a choice made through the API shows");
    let bad = app.patch("/api/v1/me", As::Cookie(&cookie), json!({ "theme": "light" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");

    let audit = app.get_as("/api/v1/audit-logs?action=PROFILE_UPDATED", As::Cookie(&cookie)).await;
    let changes: Vec<Value> = audit.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{audit:?}"))
        .iter()
        .filter_map(|event| event["details"].get("theme").cloned())
        .collect();
    assert_eq!(changes.len(), 2, "each change is audited with before and after: {changes:?}");
}

/// Opening a record reads what was said about it: its notifications are
/// marked read (and the header's count drops on that very page); those
/// about other records stay unread.
#[tokio::test]
async fn opening_a_record_marks_its_notifications_read() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, "analyst@example.com", "ANALYST").await;
    let analyst_id = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].clone();
    for title in ["First for the analyst", "Second for the analyst"] {
        let mut body = sample(title);
        body["assignee_id"] = analyst_id.clone();
        create(&app, &admin, body).await;
    }
    let unread = async || app.get_as("/api/v1/notifications", As::Cookie(&analyst)).await.body["unread_count"].clone();
    assert_eq!(unread().await, 2, "one notification per assignment");
    assert!(html(&page(&app, "/", &analyst).await).contains("2 unread"));

    let opened = page(&app, "/vulnerabilities/VT-1", &analyst).await;
    assert_eq!(opened.status, StatusCode::OK);
    assert!(html(&opened).contains("1 unread"), "the header counts what is left");
    assert_eq!(unread().await, 1, "the opened record's notification is read; the other is not");
    page(&app, "/vulnerabilities/VT-1", &admin).await;
    assert_eq!(unread().await, 1, "someone else opening it reads nothing of the analyst's");
}

/// The next-page link keeps every filter and the page size of the page it
/// is on (`limit` and `kind` used to be dropped), so paging walks the same
/// set.
#[tokio::test]
async fn the_next_page_link_keeps_every_filter_and_the_page_size() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let cookie = app.login(ADMIN, PASSWORD).await;
    for i in 0..5 {
        let mut body = sample(&format!("Misconfigured proxy {i}"));
        body["kind"] = json!("MISCONFIGURATION");
        body["tags"] = json!(["edge"]);
        create(&app, &cookie, body).await;
    }
    create(&app, &cookie, sample("A plain vulnerability")).await;
    let first = page(&app, "/vulnerabilities?kind=MISCONFIGURATION&tag=edge&limit=2&sort=created", &cookie).await;
    assert_eq!(first.status, StatusCode::OK);
    let body = html(&first);
    let href = body
        .split("href=\"")
        .filter_map(|part| part.split('"').next())
        .find(|link| link.contains("cursor="))
        .expect("a next-page link")
        .replace("&#38;", "&")
        .replace("&amp;", "&");
    for kept in ["kind=MISCONFIGURATION", "tag=edge", "limit=2", "sort=created"] {
        assert!(href.contains(kept), "{kept} is kept in {href}");
    }
    let titles = |response: &TestResponse| html(response).matches("class=\"row-title\"").count();
    assert_eq!(titles(&first), 2, "two per page");
    let second = page(&app, &href, &cookie).await;
    assert_eq!(second.status, StatusCode::OK);
    assert_eq!(titles(&second), 2, "the next page has the same size and filter");
    assert!(!html(&second).contains("A plain vulnerability"), "the filter still applies");
}

/// Every link of a page whose target contains `needle`, unescaped.
fn links_with(response: &TestResponse, needle: &str) -> Vec<String> {
    html(response)
        .split("href=\"")
        .skip(1)
        .filter_map(|part| part.split('"').next())
        .map(|link| link.replace("&#38;", "&").replace("&amp;", "&"))
        .filter(|link| link.contains(needle))
        .collect()
}

fn row_keys(response: &TestResponse) -> Vec<String> {
    html(response)
        .split("<td class=\"col-key\"><a href=\"/vulnerabilities/")
        .skip(1)
        .filter_map(|part| part.split('"').next())
        .map(str::to_string)
        .collect()
}

/// Filters given in the URL — several values of one filter, tags, the
/// unassigned — are shown (checked boxes, the tag field, one removable chip
/// each), kept by the form, and counted; "Clear filters" keeps sort, page
/// size and columns only.
#[tokio::test]
async fn filters_in_the_url_are_shown_as_chips_kept_in_the_form_and_counted() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let cookie = app.login(ADMIN, PASSWORD).await;
    for (title, severity, tags) in [
        ("Payment API SQL injection", "CRITICAL", vec!["pci", "payments"]),
        ("Login form XSS", "HIGH", vec!["web"]),
        ("Card store weak TLS", "HIGH", vec!["pci"]),
        ("Verbose banner", "LOW", vec!["pci"]),
        ("Old jQuery", "MEDIUM", vec![]),
    ] {
        let mut body = sample(title);
        body["severity"] = json!(severity);
        body["tags"] = json!(tags);
        create(&app, &cookie, body).await;
    }
    let url = "/vulnerabilities?severity=CRITICAL&severity=HIGH&tag=pci&tag=payments&assignee_id=none&sort=-cvss&limit=20&col=key&col=title&col=severity&col=tags";
    let listed = page(&app, url, &cookie).await;
    assert_eq!(listed.status, StatusCode::OK, "{listed:?}");
    let body = html(&listed);
    assert_eq!(row_keys(&listed).len(), 2, "CRITICAL or HIGH, tagged pci or payments, unassigned: {body}");
    assert!(body.contains("2 vulnerabilities match"), "the count of matches");
    for checked in [r#"value="CRITICAL" checked"#, r#"value="HIGH" checked"#, r#"value="none" checked"#] {
        assert!(body.contains(checked), "{checked} is shown checked, so Apply keeps it");
    }
    assert!(!body.contains(r#"value="LOW" checked"#));
    assert!(body.contains(r#"name="tag" value="pci, payments""#), "the tags are in the form");
    assert!(body.contains(r#"name="limit" value="20""#), "the page size is in the form");
    for column in ["key", "title", "severity", "tags"] {
        assert!(body.contains(&format!(r#"name="col" value="{column}" checked"#)), "{column} stays chosen");
    }
    assert!(!body.contains(r#"name="col" value="status" checked"#), "an unchosen column stays off");
    assert!(!body.contains("data-label=\"Status\""), "and is not shown");
    for chip in ["Severity: Critical", "Severity: High", "Tag: pci", "Tag: payments", "Assignee: Unassigned"] {
        assert!(body.contains(&format!("Remove filter {chip}")), "a chip for {chip}");
    }
    let without_high = links_with(&listed, "")
        .into_iter()
        .find(|link| link.contains("severity=CRITICAL") && !link.contains("HIGH") && link.contains("tag=pci"))
        .expect("removing one chip keeps the others");
    assert!(without_high.contains("tag=payments") && without_high.contains("assignee_id=none"), "{without_high}");
    let critical_only = page(&app, &without_high, &cookie).await;
    assert_eq!(row_keys(&critical_only), vec!["VT-1"]);
    assert!(html(&critical_only).contains("1 vulnerability matches"));
    let clear = between(body, "class=\"clear-filters\" href=\"", "\"").replace("&#38;", "&");
    assert_eq!(clear, "/vulnerabilities?sort=-cvss&limit=20&col=key&col=title&col=severity&col=tags");
    let everything = page(&app, &clear, &cookie).await;
    assert_eq!(row_keys(&everything).len(), 5);
    assert!(html(&everything).contains("5 vulnerabilities") && !html(&everything).contains("match"));
    // A bad filter is named, with the rest of the page still there.
    let bad = page(&app, "/vulnerabilities?severity=SEVERE&assignee_id=nobody", &cookie).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&bad).contains("Severity: ") && html(&bad).contains("SEVERE"), "{}", html(&bad));
    assert!(html(&bad).contains("Assignee: must be a user id"), "{}", html(&bad));
}

/// Paging goes both ways: the previous-page link of page three lists page
/// two exactly, and the first page has none, through the page and the API.
#[tokio::test]
async fn the_previous_page_link_lists_the_page_before_exactly() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let cookie = app.login(ADMIN, PASSWORD).await;
    for i in 1..=7 {
        create(&app, &cookie, sample(&format!("record {i}"))).await;
    }
    let first = page(&app, "/vulnerabilities?limit=3&q=record", &cookie).await;
    assert_eq!(row_keys(&first), vec!["VT-7", "VT-6", "VT-5"]);
    assert!(links_with(&first, "before=").is_empty(), "no previous page on the first");
    let second = page(&app, &links_with(&first, "cursor=")[0], &cookie).await;
    assert_eq!(row_keys(&second), vec!["VT-4", "VT-3", "VT-2"]);
    let third = page(&app, &links_with(&second, "cursor=")[0], &cookie).await;
    assert_eq!(row_keys(&third), vec!["VT-1"]);
    assert!(links_with(&third, "cursor=").is_empty(), "no next page on the last");
    let back = links_with(&third, "before=")[0].clone();
    assert!(back.contains("limit=3") && back.contains("q=record"), "{back}");
    let second_again = page(&app, &back, &cookie).await;
    assert_eq!(row_keys(&second_again), row_keys(&second), "the page before, exactly");
    let first_again = page(&app, &links_with(&second_again, "before=")[0], &cookie).await;
    assert_eq!(row_keys(&first_again), row_keys(&first));
    assert!(links_with(&first_again, "before=").is_empty(), "back on the first page");
    assert_eq!(links_with(&first_again, "cursor=").len(), 1, "which still leads on");

    let api = app.get_as("/api/v1/vulnerabilities?limit=3&sort=created", As::Cookie(&cookie)).await.body;
    assert!(api["prev_cursor"].is_null());
    let cursor = api["next_cursor"].as_str().expect("next");
    let next =
        app.get_as(&format!("/api/v1/vulnerabilities?limit=3&sort=created&cursor={cursor}"), As::Cookie(&cookie)).await;
    let prev = next.body["prev_cursor"].as_str().expect("a page before the second");
    let before =
        app.get_as(&format!("/api/v1/vulnerabilities?limit=3&sort=created&before={prev}"), As::Cookie(&cookie)).await;
    let keys =
        |body: &Value| body["items"].as_array().expect("items").iter().map(|v| v["key"].clone()).collect::<Vec<_>>();
    assert_eq!(keys(&before.body), keys(&api));
    let foreign = app.get_as("/api/v1/vulnerabilities?before=bogus", As::Cookie(&cookie)).await;
    assert_eq!(foreign.status, StatusCode::UNPROCESSABLE_ENTITY, "a cursor we did not issue is refused");
}

/// Saved views: a member saves what they look at, for themselves or (with
/// a role that edits records) for the team; each sees their own and the
/// shared ones; only the owner (or an ADMIN, for a shared one) deletes one;
/// every save and delete is audited; bad input is refused field by field.
#[tokio::test]
async fn saved_views_are_personal_or_shared_and_only_their_owner_deletes_them() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, "analyst@example.com", "ANALYST").await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    let mut critical = sample("Payment API SQL injection");
    critical["severity"] = json!("CRITICAL");
    create(&app, &admin, critical).await;
    create(&app, &admin, sample("Login form XSS")).await;

    // Through the page: the current list, under a name, back to it.
    let saved = post_form(
        &app,
        "/vulnerabilities/views",
        Some(&analyst),
        &[
            ("name", "Critical open"),
            ("return", "status=open&severity=CRITICAL&sort=-cvss&col=key&col=title"),
            ("shared", "on"),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{saved:?}");
    assert_eq!(location(&saved), "/vulnerabilities?severity=CRITICAL&status=OPEN&sort=-cvss&col=key&col=title");
    let shown = follow(&app, &saved, &analyst).await;
    assert!(html(&shown).contains("View saved."));
    assert!(html(&shown).contains("aria-current=\"page\">Critical open"), "the view is marked current");
    assert_eq!(row_keys(&shown), vec!["VT-1"]);

    // Personal, through the API, in canonical form.
    let mine = app
        .post("/api/v1/saved-views", As::Cookie(&viewer), json!({ "name": "Mine", "query": "?tag=web&tag=web&q=xss" }))
        .await;
    assert_eq!(mine.status, StatusCode::CREATED, "{mine:?}");
    assert_eq!(mine.body["query"], "tag=web&q=xss");
    assert_eq!(mine.body["shared"], false);
    let names = |cookie: &str| {
        let app = &app;
        let cookie = cookie.to_string();
        async move {
            let listed = app.get_as("/api/v1/saved-views", As::Cookie(&cookie)).await.body;
            listed["items"]
                .as_array()
                .expect("items")
                .iter()
                .map(|v| v["name"].as_str().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(names(&viewer).await, vec!["Critical open", "Mine"]);
    assert_eq!(names(&admin).await, vec!["Critical open"], "another member's own view is theirs alone");
    assert!(!html(&page(&app, "/vulnerabilities", &admin).await).contains(">Mine<"));

    // Refusals.
    let shared_by_viewer = app
        .post("/api/v1/saved-views", As::Cookie(&viewer), json!({ "name": "Team", "query": "", "shared": true }))
        .await;
    assert_eq!(shared_by_viewer.status, StatusCode::FORBIDDEN, "a VIEWER cannot publish to the team");
    let duplicate = app.post("/api/v1/saved-views", As::Cookie(&viewer), json!({ "name": "Mine", "query": "" })).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT);
    let bad = app
        .post(
            "/api/v1/saved-views",
            As::Cookie(&viewer),
            json!({ "name": " ", "query": "severity=SEVERE&col=secret&evil=1" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    let messages = bad.body["errors"].to_string();
    for expected in
        ["Give the view a name.", "SEVERE", "\\\"secret\\\" is not a column", "\\\"evil\\\" is not a filter"]
    {
        assert!(messages.contains(expected), "{expected} in {messages}");
    }
    let blank_on_page =
        post_form(&app, "/vulnerabilities/views", Some(&viewer), &[("name", ""), ("return", "status=OPEN")]).await;
    assert_eq!(blank_on_page.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&blank_on_page).contains("Give the view a name."), "{}", html(&blank_on_page));
    assert!(html(&blank_on_page).contains(r#"value="OPEN" checked"#), "the list keeps its filters");

    let mine_id = mine.body["id"].as_str().expect("id").to_string();
    let shared_id = saved_id(&app, &analyst, "Critical open").await;
    let not_theirs = app.delete(&format!("/api/v1/saved-views/{mine_id}"), As::Cookie(&analyst)).await;
    assert_eq!(not_theirs.status, StatusCode::NOT_FOUND, "another member's own view does not exist for others");
    let shared_by_other = app.delete(&format!("/api/v1/saved-views/{shared_id}"), As::Cookie(&viewer)).await;
    assert_eq!(shared_by_other.status, StatusCode::FORBIDDEN, "a shared view is its owner's or an ADMIN's to delete");
    let deleted = post_form(
        &app,
        &format!("/vulnerabilities/views/{shared_id}/delete"),
        Some(&admin),
        &[("return", "status=OPEN")],
    )
    .await;
    assert_eq!(location(&deleted), "/vulnerabilities?status=OPEN");
    assert!(html(&follow(&app, &deleted, &admin).await).contains("View deleted."));
    assert_eq!(names(&viewer).await, vec!["Mine"]);
    let own = app.delete(&format!("/api/v1/saved-views/{mine_id}"), As::Cookie(&viewer)).await;
    assert_eq!(own.status, StatusCode::NO_CONTENT);

    let audit = app.get_as("/api/v1/audit-logs?action=VIEW_SAVED", As::Cookie(&admin)).await.body;
    assert_eq!(audit["items"].as_array().expect("items").len(), 2, "each save is audited");
    let audit = app.get_as("/api/v1/audit-logs?action=VIEW_DELETED", As::Cookie(&admin)).await.body;
    assert_eq!(audit["items"].as_array().expect("items").len(), 2, "each delete is audited");
}

async fn saved_id(app: &TestApp, cookie: &str, name: &str) -> String {
    let listed = app.get_as("/api/v1/saved-views", As::Cookie(cookie)).await.body;
    listed["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|v| v["name"] == name)
        .and_then(|v| v["id"].as_str())
        .expect("the view")
        .to_string()
}

/// The team page tells a locked account from an active one (and the API
/// says until when), offers Unlock only where there is a lock and a reset
/// link only to active members, and offers no action on the ADMIN's own
/// row, which would only lock them out.
#[tokio::test]
async fn the_team_page_shows_locked_accounts_and_offers_only_actions_that_apply() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    app.add_member(&admin, "locked@example.com", "ANALYST").await;
    app.add_member(&admin, "fine@example.com", "VIEWER").await;
    for _ in 0..5 {
        let body = json!({ "email": "locked@example.com", "password": "Wrong#Password99" });
        let failed = app.post("/api/v1/auth/login", As::Anonymous, body).await;
        assert_eq!(failed.status, StatusCode::UNAUTHORIZED);
    }
    let members = app.get_as("/api/v1/users", As::Cookie(&admin)).await.body;
    let member = |email: &str| {
        members["items"].as_array().expect("items").iter().find(|m| m["email"] == email).cloned().expect("member")
    };
    assert!(member("locked@example.com")["locked_until"].is_string(), "the API names the lock: {members}");
    assert!(member("fine@example.com")["locked_until"].is_null());
    assert!(member(ADMIN)["locked_until"].is_null());

    let listed = page(&app, "/admin/users", &admin).await;
    let row = |email: &str| {
        let body = html(&listed);
        let at = body.find(&format!("<td>{email}</td>")).unwrap_or_else(|| panic!("{email} listed"));
        let start = body[..at].rfind("<tr>").expect("row start");
        let end = at + body[at..].find("</tr>").expect("row end");
        body[start..end].to_string()
    };
    let locked = row("locked@example.com");
    assert!(locked.contains("Locked") && locked.contains("until"), "{locked}");
    assert!(locked.contains("/unlock"), "a locked account can be unlocked");
    let fine = row("fine@example.com");
    assert!(fine.contains("Active") && !fine.contains("Locked"), "{fine}");
    assert!(!fine.contains("/unlock"), "nothing to unlock: {fine}");
    assert!(fine.contains("/reset-link") && fine.contains("Deactivate") && fine.contains("/delete"));
    let own = row(ADMIN);
    assert!(own.contains("(you)"), "{own}");
    for absent in ["<select", "Deactivate", "/delete", "/reset-link", "/unlock"] {
        assert!(!own.contains(absent), "{absent} is not offered on one's own row: {own}");
    }

    let id = member("locked@example.com")["id"].as_str().expect("id").to_string();
    let unlocked = post_form(&app, &format!("/admin/users/{id}/unlock"), Some(&admin), &[]).await;
    assert_eq!(unlocked.status, StatusCode::OK, "{unlocked:?}");
    assert!(html(&unlocked).contains("Account unlocked."));
    let after = app.get_as("/api/v1/users", As::Cookie(&admin)).await.body;
    let relisted =
        after["items"].as_array().expect("items").iter().find(|m| m["email"] == "locked@example.com").cloned();
    assert!(relisted.expect("member")["locked_until"].is_null(), "the lock is gone");
    let deactivated = post_form(&app, &format!("/admin/users/{id}"), Some(&admin), &[("status", "INACTIVE")]).await;
    assert_eq!(deactivated.status, StatusCode::OK);
    let body = html(&deactivated);
    let at = body.find("<td>locked@example.com</td>").expect("listed");
    let row = &body[at..at + body[at..].find("</tr>").expect("end")];
    assert!(row.contains("Deactivated") && row.contains("Reactivate") && !row.contains("/reset-link"), "{row}");
}

/// Form errors read as sentences about named fields, once per field, tied
/// to their inputs and summarised with links at the top: never a rule's
/// raw text ("length is lower than 1"), a path ("dread.damage",
/// "references[0]") or two errors for one blank field. DREAD says its rule
/// once. Every new-password field states the policy before anything fails.
#[tokio::test]
async fn form_errors_are_sentences_tied_to_their_fields_and_summarised_once() {
    let app = TestApp::spawn().await;
    let setup_page = app.get("/setup").await;
    assert!(html(&setup_page).contains("At least 12 characters") && html(&setup_page).contains("password-hint"));
    app.setup_admin("Blue Team", ADMIN).await;
    let cookie = app.login(ADMIN, PASSWORD).await;
    let raw = ["length is lower than", "not a valid email", "dread.", "references[", "assets[", "1 characters"];

    let refused = post_form(
        &app,
        "/vulnerabilities",
        Some(&cookie),
        &[
            ("title", "   "),
            ("description", "Long enough description."),
            ("severity", "HIGH"),
            ("dread_damage", "7"),
            ("dread_exploitability", "11"),
            ("references", "https://example.com/ok\njavascript:alert(1)"),
        ],
    )
    .await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    let text = html(&refused);
    for unwanted in raw {
        assert!(!text.contains(unwanted), "{unwanted:?} shown raw: {text}");
    }
    for summary_line in [
        r##"<a href="#title">Title: must not be blank.</a>"##,
        r##"<a href="#dread_exploitability">DREAD exploitability: must be a whole number from 0 to 10.</a>"##,
        r##"<a href="#dread">DREAD: rate all five factors from 0 to 10, or none (3 of 5 not rated).</a>"##,
        r##"<a href="#references">Reference 2: must be an http:// or https:// URL.</a>"##,
    ] {
        assert!(text.contains(summary_line), "{summary_line} in the summary: {text}");
    }
    assert!(text.contains("4 things to fix before saving"), "{text}");
    assert!(text.contains(r#"id="form-errors" tabindex="-1""#), "the summary can take focus");
    assert_eq!(text.matches("ate all five factors").count(), 2, "once in the summary, once in the DREAD group");
    assert!(text.contains(r#"<li>Rate all five factors from 0 to 10, or none (3 of 5 not rated).</li></ul>"#));
    assert_eq!(text.matches("Title: must not be blank.").count(), 1);
    assert_eq!(text.matches("Must not be blank.").count(), 1, "once under the title field");
    let title = between(text, "<input id=\"title\"", ">");
    assert!(title.contains(r#"aria-invalid="true" aria-describedby="title-errors""#), "{title}");
    assert!(text.contains(r#"<ul class="field-errors" id="title-errors"><li>Must not be blank.</li></ul>"#));
    for (factor, invalid) in [("damage", false), ("reproducibility", true), ("exploitability", true)] {
        let input = between(text, &format!("<input id=\"dread_{factor}\""), ">");
        assert_eq!(
            input.contains(r#"aria-invalid="true" aria-describedby="dread-errors""#),
            invalid,
            "{factor}: {input}"
        );
    }

    // garde's rules on the other forms read the same way, once per field.
    let profile =
        post_form(&app, "/account/profile", Some(&cookie), &[("name", ""), ("email", "ada.example.com")]).await;
    let text = html(&profile);
    for unwanted in raw {
        assert!(!text.contains(unwanted), "{unwanted:?} shown raw: {text}");
    }
    assert!(text.contains("Name: must not be blank."), "{text}");
    assert_eq!(text.matches("Name: ").count(), 1, "one error for one blank field");
    let account = page(&app, "/account", &cookie).await;
    assert!(html(&account).contains(r#"aria-describedby="new_password-hint""#));
    assert!(html(&account).contains("At least 12 characters, with an upper-case"));
}

/// The audit page filters by any of the known actions (checkboxes kept
/// across Apply) and by who acted, names the actor, links the entity to its
/// page and shows each change as old → new in words.
#[tokio::test]
async fn the_audit_page_filters_by_action_and_actor_and_reads_changes_as_old_to_new() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, "analyst@example.com", "ANALYST").await;
    let created = create(&app, &admin, sample("Audited record")).await;
    let id = created["id"].as_str().expect("id").to_string();
    let changed =
        app.patch("/api/v1/vulnerabilities/VT-1", As::Cookie(&analyst), json!({ "status": "IN_PROGRESS" })).await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    let me = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].as_str().expect("id").to_string();

    let url = format!("/admin/audit?action=VULNERABILITY_STATUS_CHANGED&action=VULNERABILITY_CREATED&actor_id={me}");
    let listed = page(&app, &url, &admin).await;
    assert_eq!(listed.status, StatusCode::OK, "{listed:?}");
    let text = html(&listed);
    for kept in [r#"value="VULNERABILITY_STATUS_CHANGED" checked"#, r#"value="VULNERABILITY_CREATED" checked"#] {
        assert!(text.contains(kept), "{kept}: the filter stays in the form");
    }
    assert!(text.contains(&format!(r#"<option value="{me}" selected>Member Person (analyst@example.com)</option>"#)));
    assert!(text.contains("<td>Member Person</td>"), "the actor by name");
    assert!(text.contains("<td>Vulnerability status changed</td>"), "the action in words");
    assert!(text.contains(&format!(r#"<a href="/vulnerabilities/{id}">Vulnerability {id}</a>"#)), "the entity links");
    assert!(
        text.contains("<dt>Status</dt><dd><del>Open</del>") && text.contains("<ins>In progress</ins>"),
        "old → new in words: {text}"
    );
    assert!(!text.contains("Vulnerability created</td>"), "the admin's create is not the analyst's");
    assert!(!text.contains("{&#34;"), "no raw JSON");
    let export = between(text, "href=\"/api/v1/audit-logs/export?format=csv", "\"").replace("&#38;", "&");
    assert!(export.contains(&format!("actor_id={me}")) && export.contains("action=VULNERABILITY_CREATED"), "{export}");
    let bad = page(&app, "/admin/audit?actor_id=someone", &admin).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&bad).contains("Actor id: must be a member."), "{}", html(&bad));
}

/// Each user reads times in their own zone: chosen on the account page or
/// through the API (validated, audited), applied to every time on every
/// page; with none chosen, times are marked for the browser's zone.
#[tokio::test]
async fn times_show_in_the_zone_each_user_chose() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let cookie = app.login(ADMIN, PASSWORD).await;
    let other = app.add_member(&cookie, "viewer@example.com", "VIEWER").await;
    create(&app, &cookie, sample("Zoned record")).await;
    let times = |response: &TestResponse| {
        html(response)
            .split("<time ")
            .skip(1)
            .map(|t| t.split("</time>").next().unwrap_or_default().to_string())
            .collect::<Vec<_>>()
    };
    let before = page(&app, "/vulnerabilities/VT-1", &cookie).await;
    assert!(!times(&before).is_empty());
    assert!(times(&before).iter().all(|t| t.contains("data-local") && t.contains(" UTC")), "{:?}", times(&before));

    let saved =
        post_form(&app, "/account/appearance", Some(&cookie), &[("theme", "SYSTEM"), ("time_zone", "Asia/Kolkata")])
            .await;
    assert_eq!(saved.status, StatusCode::OK, "{saved:?}");
    assert!(html(&saved).contains(r#"<option value="Asia/Kolkata" selected>Asia/Kolkata</option>"#));
    for path in ["/vulnerabilities/VT-1", "/vulnerabilities", "/account", "/notifications"] {
        let shown = page(&app, path, &cookie).await;
        for time in times(&shown) {
            assert!(time.contains(" IST") && !time.contains("data-local"), "{path}: {time}");
        }
    }
    let theirs = page(&app, "/vulnerabilities/VT-1", &other).await;
    assert!(times(&theirs).iter().all(|t| t.contains("data-local")), "another user keeps their own");

    let me = app.get_as("/api/v1/me", As::Cookie(&cookie)).await.body;
    assert_eq!(me["time_zone"], "Asia/Kolkata");
    let bad = app.patch("/api/v1/me", As::Cookie(&cookie), json!({ "time_zone": "Mars/Olympus" })).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    assert_eq!(bad.body["errors"][0]["field"], "time_zone");
    let refused =
        post_form(&app, "/account/appearance", Some(&cookie), &[("theme", "SYSTEM"), ("time_zone", "Nowhere")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&refused).contains("Time zone: must be a time zone such as Europe/Paris"), "{}", html(&refused));
    let cleared = app.patch("/api/v1/me", As::Cookie(&cookie), json!({ "time_zone": "" })).await;
    assert!(cleared.body["time_zone"].is_null(), "{cleared:?}");
    let audit = app.get_as("/api/v1/audit-logs?action=PROFILE_UPDATED", As::Cookie(&cookie)).await.body;
    let zones: Vec<Value> = audit["items"]
        .as_array()
        .expect("items")
        .iter()
        .filter_map(|event| event["details"].get("time_zone").cloned())
        .collect();
    assert_eq!(zones.len(), 2, "set and cleared, each audited: {zones:?}");
}

/// A severity that is its vector's rating follows a new vector saved from
/// the edit form; one set apart from the vector stays, and the form says
/// the two differ instead of leaving a silent contradiction.
#[tokio::test]
async fn severity_follows_a_changed_vector_unless_set_apart_and_the_form_says_so() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let cookie = app.login(ADMIN, PASSWORD).await;
    let low = "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N";
    let critical = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H";
    let mut following = sample("Follows its vector");
    following.as_object_mut().expect("object").remove("severity");
    following["cvss_vector"] = json!(low);
    create(&app, &cookie, following).await;
    let mut apart = sample("Set apart");
    apart["severity"] = json!("MEDIUM");
    apart["cvss_vector"] = json!(critical);
    create(&app, &cookie, apart).await;

    let edit = page(&app, "/vulnerabilities/VT-1/edit", &cookie).await;
    assert!(html(&edit).contains(r#"<option value="">From the CVSS vector</option>"#), "no severity preselected");
    assert!(!html(&edit).contains("severity-note"), "nothing to warn about");
    let saved = post_form(
        &app,
        "/vulnerabilities/VT-1/edit",
        Some(&cookie),
        &[
            ("title", "Follows its vector"),
            ("description", "User input reaches a query."),
            ("severity", ""),
            ("status", "OPEN"),
            ("kind", "VULNERABILITY"),
            ("cvss_vector", critical),
        ],
    )
    .await;
    assert_eq!(saved.status, StatusCode::SEE_OTHER, "{saved:?}");
    let record = app.get_as("/api/v1/vulnerabilities/VT-1", As::Cookie(&cookie)).await.body;
    assert_eq!((record["cvss_score"].as_f64(), record["severity"].as_str()), (Some(10.0), Some("CRITICAL")));

    let edit = page(&app, "/vulnerabilities/VT-2/edit", &cookie).await;
    assert!(html(&edit).contains(r#"<option value="MEDIUM" selected>"#), "the chosen severity is shown");
    assert!(html(&edit).contains("CVSS 10.0 rates this Critical; its severity is set to Medium."), "{}", html(&edit));
    let changed = app.patch("/api/v1/vulnerabilities/VT-2", As::Cookie(&cookie), json!({ "cvss_vector": low })).await;
    assert_eq!(changed.body["severity"], "MEDIUM", "a severity set apart from the vector stays");
}
