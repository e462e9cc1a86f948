//! The web UI in a real browser: headless Chromium driven through
//! chromedriver (both from Debian; `.ci/run` installs them) against the
//! real server on a random loopback port. Any console error — a CSP
//! violation is one — fails the journey. Screenshots of the main pages go
//! to `target/screenshots/` for people to look at.

use std::{net::SocketAddr, path::PathBuf, process::Stdio, time::Duration};

use fantoccini::{Client, ClientBuilder, Locator, wd::WebDriverCompatibleCommand};
use serde_json::{Value, json};
use tokio::process::{Child, Command};
use vulntrack::app;

use crate::support::{As, PASSWORD, TestApp, eventually};

const DRIVER: &str = "/usr/bin/chromedriver";
const CHROMIUM: &str = "/usr/bin/chromium";

/// Chromium's console log since the last read (the legacy log endpoint,
/// which chromedriver still serves).
#[derive(Debug)]
struct BrowserLog;

impl WebDriverCompatibleCommand for BrowserLog {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/se/log", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(json!({ "type": "browser" }).to_string()))
    }
}

struct Browser {
    client: Client,
    driver: Child,
    base: String,
    shots: PathBuf,
    problems: Vec<String>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("bind").local_addr().expect("addr").port()
}

impl Browser {
    async fn start(base: String) -> Option<Self> {
        Self::start_with(base, true).await
    }

    async fn start_with(base: String, javascript: bool) -> Option<Self> {
        if !std::path::Path::new(DRIVER).exists() {
            assert!(std::env::var_os("CI").is_none(), "CI must install chromium and chromium-driver");
            eprintln!("browser tests need {DRIVER} (apt-get install chromium chromium-driver); they run in .ci/run");
            return None;
        }
        let port = free_port();
        let driver = Command::new(DRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver starts");
        let profile = tempfile::tempdir().expect("profile dir").keep();
        let mut caps = serde_json::Map::new();
        caps.insert(
            "goog:chromeOptions".into(),
            json!({
                "binary": CHROMIUM,
                "args": ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                         "--disable-quic", "--no-first-run", "--disable-background-networking",
                         "--disable-component-update", "--disable-sync", "--window-size=1280,900",
                         format!("--user-data-dir={}", profile.display())],
                "prefs": { "profile.managed_default_content_settings.javascript": if javascript { 1 } else { 2 } },
            }),
        );
        caps.insert("goog:loggingPrefs".into(), json!({ "browser": "ALL" }));
        let webdriver = format!("http://127.0.0.1:{port}");
        let mut client = None;
        for _ in 0..50 {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&webdriver).await {
                Ok(connected) => {
                    client = Some(connected);
                    break;
                }
                Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
            }
        }
        let shots = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&shots).expect("screenshot dir");
        Some(Self { client: client.expect("a browser session"), driver, base, shots, problems: Vec::new() })
    }

    async fn go(&mut self, path: &str) {
        self.client.goto(&format!("{}{path}", self.base)).await.expect("navigate");
        self.collect_log().await;
    }

    /// Takes back the console's note of a page answered with `status` on
    /// purpose (a 409 conflict page): the browser logs every 4xx document
    /// as an error, but this one is the expected answer.
    async fn expect_page_status(&mut self, path: &str, status: u16) {
        self.collect_log().await;
        let expected = format!("{path} - Failed to load resource: the server responded with a status of {status}");
        let before = self.problems.len();
        self.problems.retain(|p| !p.contains(&expected));
        assert_eq!(before - self.problems.len(), 1, "exactly one {status} answer for {path}");
    }

    /// Keeps every console message at SEVERE level (errors and CSP
    /// violations) for the final check.
    async fn collect_log(&mut self) {
        if let Ok(Value::Array(entries)) = self.client.issue_cmd(BrowserLog).await {
            for entry in entries {
                if entry["level"] == "SEVERE" {
                    self.problems.push(entry["message"].as_str().unwrap_or_default().to_string());
                }
            }
        }
    }

    async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap_or_else(|e| panic!("{css}: {e}"));
        field.clear().await.expect("clear");
        field.send_keys(text).await.expect("type");
    }

    /// Clicks what asks for a confirmation, accepts it, and answers what
    /// it asked (nothing else may talk to the browser while it is open).
    async fn click_and_confirm(&mut self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .expect("click");
        let question = self.client.get_alert_text().await.expect("a confirmation");
        self.client.accept_alert().await.expect("confirmed");
        self.collect_log().await;
        question
    }

    async fn click(&mut self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css}: {e}"))
            .click()
            .await
            .expect("click");
        self.collect_log().await;
    }

    /// The page's main text; retried while a navigation replaces the page.
    async fn text(&self) -> String {
        for _ in 0..20 {
            if let Ok(main) = self.client.find(Locator::Css("main")).await
                && let Ok(text) = main.text().await
            {
                return text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("no readable <main> on {:?}", self.client.current_url().await);
    }

    async fn path(&self) -> String {
        self.client.current_url().await.expect("url").path().to_string()
    }

    /// Waits (up to 10 s) for `needle` to show in the page's main text.
    async fn see(&self, needle: &str) -> bool {
        for _ in 0..100 {
            if self.text().await.contains(needle) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        false
    }

    /// Waits (up to 10 s) for an element of the next page.
    async fn find_wait(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(10))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("{css} never appeared: {e}"))
    }

    /// Waits (up to 10 s) for the browser to arrive at `expected`.
    async fn arrive(&self, expected: &str) -> String {
        for _ in 0..100 {
            let path = self.path().await;
            if path == expected {
                return path;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        self.path().await
    }

    /// Signs in as ada@example.com at desktop width and lands on the dashboard.
    async fn sign_in_as_ada(&mut self) {
        self.screen(1440, 900).await;
        self.go("/login").await;
        self.fill("#email", "ada@example.com").await;
        self.fill("#password", PASSWORD).await;
        self.click("button[type=submit]").await;
        assert_eq!(self.arrive("/").await, "/");
    }

    async fn shot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(self.shots.join(format!("{name}.png")), png).expect("write screenshot");
    }

    async fn finish(mut self) -> Vec<String> {
        self.collect_log().await;
        let _ = self.client.close().await;
        let _ = self.driver.kill().await;
        self.problems
    }
}

/// A loopback port for the server and a test app whose public address is
/// it (links in mail and pages point there).
async fn app_on_loopback() -> (std::net::TcpListener, String, TestApp) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let app = TestApp::spawn_with(|c| c.public_url = url::Url::parse(&format!("{base}/")).expect("url")).await;
    (listener, base, app)
}

/// Serves the app on `listener` until the sender fires.
fn serve(
    listener: std::net::TcpListener,
    app: &TestApp,
) -> (tokio::sync::oneshot::Sender<()>, tokio::task::JoinHandle<std::io::Result<()>>) {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app::serve(listener, app.sibling(), app::Transport::Plain, async {
        let _ = stopped.await;
    }));
    (stop, server)
}

#[tokio::test]
async fn the_main_journey_works_in_a_real_browser_without_csp_violations() {
    let (listener, base, app) = app_on_loopback().await;
    let (stop, server) = serve(listener, &app);
    let Some(mut browser) = Browser::start(base).await else { return };

    browser.go("/").await;
    assert_eq!(browser.arrive("/setup").await, "/setup", "a fresh install opens on setup");
    browser.shot("setup").await;
    browser.fill("#team_name", "Blue Team").await;
    browser.fill("#name", "Ada Admin").await;
    browser.fill("#email", "ada@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    assert_eq!(browser.arrive("/").await, "/", "signed in after setup, on the dashboard");
    browser.go("/vulnerabilities").await;
    browser.click("a.button.primary").await;
    assert_eq!(browser.arrive("/vulnerabilities/new").await, "/vulnerabilities/new");
    browser.fill("#title", "Stored XSS in the zanzibar widget").await;
    browser.fill("#description", "Comment bodies are echoed **without** escaping.").await;
    // The metric pickers build the vector (JavaScript).
    for (metric, value) in
        [("AV", "N"), ("AC", "L"), ("PR", "N"), ("UI", "R"), ("S", "C"), ("C", "L"), ("I", "L"), ("A", "N")]
    {
        let picker = browser.client.find(Locator::Id(&format!("cvss-{metric}"))).await.expect("metric picker");
        picker.select_by_value(value).await.expect("pick");
    }
    let vector =
        browser.client.find(Locator::Id("cvss_vector")).await.expect("vector").prop("value").await.expect("value");
    assert_eq!(vector.as_deref(), Some("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N"), "built from the pickers");
    for (factor, value) in [
        ("damage", "6"),
        ("reproducibility", "9"),
        ("exploitability", "7"),
        ("affected_users", "8"),
        ("discoverability", "9"),
    ] {
        browser.fill(&format!("#dread_{factor}"), value).await;
    }
    let mean = browser.find_wait("#dread-mean").await.text().await.expect("text");
    assert_eq!(mean, "(mean 7.8)", "the live DREAD mean (JavaScript)");
    browser.shot("new-vulnerability").await;
    browser.click(".actions button[type=submit]").await;
    browser.shot("after-create").await;
    assert_eq!(browser.arrive("/vulnerabilities/VT-1").await, "/vulnerabilities/VT-1", "{}", browser.text().await);
    assert!(browser.see("6.1 MEDIUM").await && browser.see("without escaping").await, "{}", browser.text().await);

    browser.go("/vulnerabilities?q=zanzibar").await;
    assert!(browser.see("VT-1").await, "search finds it");
    browser.shot("vulnerabilities").await;
    browser.go("/vulnerabilities?q=nothing-matches-this").await;
    assert!(browser.see("No vulnerabilities match").await);

    browser.go("/vulnerabilities/VT-1").await;
    browser.fill("#body", "Reproduced on staging.").await;
    browser.click("#comments button[type=submit]").await;
    assert!(browser.see("Reproduced on staging.").await);
    let status = browser.client.find(Locator::Css("#status")).await.expect("status select");
    status.select_by_value("IN_PROGRESS").await.expect("select");
    browser.click("form.inline button[type=submit]").await;
    assert!(browser.see("In progress").await, "the status changed");
    browser.shot("vulnerability").await;
    // Resolved with its reason from the same form, then taken up again.
    let client = browser.client.clone();
    let pick = |css: &'static str, value: &'static str| {
        let client = client.clone();
        async move {
            let select = client.find(Locator::Css(css)).await.expect(css);
            select.select_by_value(value).await.expect("select");
        }
    };
    pick("#status", "RESOLVED").await;
    pick("#quick-resolution", "FALSE_POSITIVE").await;
    browser.fill("#quick-resolution-note", "Only reachable from the build network.").await;
    browser.click("form.inline button[type=submit]").await;
    assert!(browser.see("False positive").await, "the resolution is shown");
    browser.shot("vulnerability-resolved").await;
    pick("#status", "IN_PROGRESS").await;
    browser.click("form.inline button[type=submit]").await;
    assert!(browser.see("In progress").await, "reopened");

    // Someone else saves while the edit form is open: the form comes back
    // with the other change shown and this user's input kept.
    browser.go("/vulnerabilities/VT-1/edit").await;
    let elsewhere = app.login("ada@example.com", PASSWORD).await;
    let other = app.patch("/api/v1/vulnerabilities/VT-1", As::Cookie(&elsewhere), json!({ "severity": "LOW" })).await;
    assert_eq!(other.status, axum::http::StatusCode::OK);
    browser.fill("#title", "Retitled in the browser").await;
    browser.click("form.vuln-form button[type=submit]").await;
    assert!(browser.see("Someone else saved this record").await, "the conflict is shown");
    let kept = browser.client.find(Locator::Css("#title")).await.expect("title").prop("value").await.expect("value");
    assert!(kept.is_some_and(|v| v.contains("Retitled in the browser")), "the input is kept");
    browser.shot("edit-conflict").await;
    browser.expect_page_status("/vulnerabilities/VT-1/edit", 409).await;

    browser.go("/").await;
    let figure = |id: &'static str| {
        let client = browser.client.clone();
        async move { client.find(Locator::Id(id)).await.expect("figure").attr("data-value").await.expect("attr") }
    };
    assert_eq!(figure("total").await.as_deref(), Some("1"), "the dashboard counts the new record");
    assert_eq!(figure("open").await.as_deref(), Some("1"));
    browser.shot("dashboard").await;

    browser.go("/account").await;
    browser.shot("account").await;
    for page in ["settings", "audit", "alerts"] {
        browser.go(&format!("/admin/{page}")).await;
        browser.shot(&format!("admin-{page}")).await;
    }
    // Error pages are styled like the rest, and readable on a phone.
    browser.go("/no-such-page").await;
    assert!(browser.see("There is nothing at this address.").await, "the 404 page says what happened");
    let styled = browser.client.find(Locator::Css("link[rel=stylesheet][href='/static/app.css']")).await;
    assert!(styled.is_ok(), "the error page uses the site's stylesheet");
    browser.shot("error-404").await;
    browser.expect_page_status("/no-such-page", 404).await;
    browser.client.set_window_size(390, 844).await.expect("phone width");
    browser.go("/no-such-page").await;
    let width = browser.client.execute("return document.documentElement.scrollWidth", vec![]).await.expect("width");
    assert!(width.as_u64().is_some_and(|w| w <= 390), "the error page fits a 390 px phone: {width}");
    browser.shot("error-404-phone").await;
    browser.expect_page_status("/no-such-page", 404).await;
    browser.client.set_window_size(1280, 900).await.expect("desktop width");

    browser.go("/notifications").await;
    browser.shot("notifications").await;

    browser.go("/admin/users").await;
    browser.fill("#invite_email", "viewer@example.com").await;
    let role = browser.client.find(Locator::Css("#invite_role")).await.expect("role");
    role.select_by_value("VIEWER").await.expect("select");
    browser.click("form[action='/admin/invitations'] button[type=submit]").await;
    let invite_link = browser.find_wait("#new-link").await.text().await.expect("text");
    assert!(invite_link.contains("/invite?token="), "{invite_link}");
    browser.shot("admin-users").await;

    browser.click("header form button[type=submit]").await;
    assert_eq!(browser.arrive("/login").await, "/login", "signed out");
    browser.go("/vulnerabilities").await;
    assert_eq!(browser.arrive("/login").await, "/login", "pages need a session again");
    browser.shot("login").await;

    let invite_path =
        invite_link.split_once("127.0.0.1").map(|(_, rest)| rest.split_once('/').map_or("", |(_, p)| p)).unwrap_or("");
    browser.go(&format!("/{invite_path}")).await;
    browser.shot("invite").await;
    browser.fill("#name", "Vic Viewer").await;
    browser.fill("#password", "Vi3wer#Pass2026").await;
    browser.click("button[type=submit]").await;
    assert_eq!(browser.arrive("/").await, "/", "the new member is signed in");
    browser.go("/vulnerabilities").await;
    assert!(!browser.text().await.contains("New vulnerability"), "a viewer sees no create button");
    browser.go("/vulnerabilities/VT-1").await;
    assert!(browser.see("Reproduced on staging.").await, "but reads everything");
    let viewer_view = browser.text().await;
    for control in ["Change status", "Add a comment", "Edit", "Delete"] {
        assert!(!viewer_view.contains(control), "a viewer sees no {control:?} control");
    }
    browser.click("header form button[type=submit]").await;
    assert_eq!(browser.arrive("/login").await, "/login");

    let problems = browser.finish().await;
    assert!(problems.is_empty(), "console errors or CSP violations: {problems:#?}");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
    let _ = eventually(Duration::from_millis(1), async || true).await;
}

#[tokio::test]
async fn sign_in_create_and_search_work_with_javascript_disabled() {
    let (listener, base, app) = app_on_loopback().await;
    app.setup_admin("Blue Team", "ada@example.com").await;
    let (stop, server) = serve(listener, &app);
    let Some(mut browser) = Browser::start_with(base, false).await else { return };

    browser.go("/vulnerabilities/new").await;
    assert_eq!(browser.arrive("/login").await, "/login", "sent to sign in first");
    browser.fill("#email", "ada@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    assert_eq!(browser.arrive("/vulnerabilities/new").await, "/vulnerabilities/new", "and brought back");
    browser.fill("#title", "Default credentials on the backup appliance").await;
    browser.fill("#description", "admin/admin still works on the appliance.").await;
    browser.fill("#dread_damage", "9").await;
    let mean = browser.client.find(Locator::Css("#dread-mean")).await.expect("mean").text().await.expect("text");
    assert_eq!(mean, "", "no script ran");
    let severity = browser.client.find(Locator::Css("#severity")).await.expect("severity");
    severity.select_by_value("CRITICAL").await.expect("select");
    browser.click(".actions button[type=submit]").await;
    let _ = browser.arrive("/vulnerabilities").await;
    assert!(browser.see("Rate all five factors").await, "a partial DREAD is refused, saying the rule");
    tokio::time::sleep(Duration::from_millis(300)).await;
    browser.collect_log().await;
    // The refused form comes back as 422, which Chromium logs; that one
    // entry is expected, anything else is not.
    let logged: Vec<String> = std::mem::take(&mut browser.problems);
    assert!(logged.iter().all(|p| p.contains("/vulnerabilities") && p.contains("422")), "{logged:#?}");
    let kept = browser.client.find(Locator::Css("#title")).await.expect("title").prop("value").await.expect("value");
    assert_eq!(kept.as_deref(), Some("Default credentials on the backup appliance"), "the input is kept");
    browser.fill("#dread_damage", "").await;
    browser.click(".actions button[type=submit]").await;
    assert_eq!(browser.arrive("/vulnerabilities/VT-1").await, "/vulnerabilities/VT-1");
    browser.go("/vulnerabilities?q=appliance").await;
    assert!(browser.see("VT-1").await);

    let problems = browser.finish().await;
    assert!(problems.is_empty(), "console errors: {problems:#?}");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
}

/// Every error page a person can meet is the styled page: the site's
/// stylesheet, the navigation when signed in, a sentence saying what
/// happened, readable on a 390 px phone, no console error beyond the
/// status itself.
#[tokio::test]
async fn error_pages_are_styled_with_navigation_and_fit_a_phone() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr: SocketAddr = listener.local_addr().expect("addr");
    let base = format!("http://{addr}");
    let app = TestApp::spawn_with(|c| {
        c.public_url = url::Url::parse(&format!("{base}/")).expect("url");
        c.body_limit = 4096;
        c.rate_limit_anon = vulntrack_domain::rate::RateRule::new(25, Duration::from_secs(60));
    })
    .await;
    app.setup_admin("Blue Team", "ada@example.com").await;
    let admin = app.login("ada@example.com", PASSWORD).await;
    let viewer_email = "viewer@example.com";
    app.add_member(&admin, viewer_email, "VIEWER").await;
    let (stop, server) = serve(listener, &app);
    let Some(mut browser) = Browser::start(base).await else { return };
    browser.go("/login").await;
    browser.fill("#email", viewer_email).await;
    browser.fill("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    assert_eq!(browser.arrive("/").await, "/", "the viewer is signed in");

    // (path, status, what the page says), each met by following a link or
    // typing an address.
    let pages = [
        ("/no-such-page", 404, "There is nothing at this address."),
        ("/admin/users", 403, "You do not have permission to see this page."),
        ("/vulnerabilities/bulk", 405, "That action is not available at this address."),
    ];
    for (width, suffix) in [(1280, ""), (390, "-phone")] {
        browser.client.set_window_size(width, 900).await.expect("window size");
        for (path, status, message) in pages {
            browser.go(path).await;
            check_error_page(&browser, status, message, true, u64::from(width)).await;
            browser.shot(&format!("error-{status}{suffix}")).await;
            browser.expect_page_status(path, status).await;
        }
    }

    // 413: a form sends more than the server takes (a comment far over
    // the body limit), from a form of our own origin.
    browser.client.set_window_size(1280, 900).await.expect("window size");
    browser.go("/vulnerabilities").await;
    let post = r#"
        const form = document.createElement('form');
        form.method = 'post'; form.action = '/no-such-form';
        const field = document.createElement('textarea');
        field.name = 'body'; field.value = 'x'.repeat(20000);
        form.appendChild(field); document.body.appendChild(form); form.submit();"#;
    browser.client.execute(post, vec![]).await.expect("submit");
    tokio::time::sleep(Duration::from_millis(300)).await;
    check_error_page(&browser, 413, "What was sent is larger than VulnTrack accepts.", true, 1280).await;
    browser.shot("error-413").await;
    browser.expect_page_status("/no-such-form", 413).await;

    // The API's own documentation renders from our origin under the CSP.
    browser.client.goto(&format!("{}/api/docs/", browser.base)).await.expect("docs");
    let title =
        browser.client.wait().at_most(Duration::from_secs(10)).for_element(Locator::Css(".swagger-ui .info h2")).await;
    let title = match title {
        Ok(title) => title,
        Err(error) => {
            browser.collect_log().await;
            let html = browser.client.source().await.unwrap_or_default();
            panic!(
                "Swagger UI renders the document: {error}: {:?}\n{}",
                browser.problems,
                &html[..html.len().min(1500)]
            );
        }
    };
    assert!(title.text().await.expect("title").contains("VulnTrack API"));
    browser.collect_log().await;
    browser.shot("api-docs").await;

    // 429: signed out, a visitor over the anonymous budget gets the page
    // (without navigation: nobody is signed in).
    browser.go("/").await;
    browser.click("header form button[type=submit]").await;
    assert_eq!(browser.arrive("/login").await, "/login");
    let mut limited = false;
    let mut last = String::new();
    for _ in 0..40 {
        browser.go("/forgot-password").await;
        last = browser.text().await;
        if last.contains("Too many requests") {
            limited = true;
            break;
        }
    }
    assert!(limited, "the anonymous budget runs out: {last}");
    check_error_page(&browser, 429, "Too many requests. Please wait a moment and try again.", false, 1280).await;
    browser.shot("error-429").await;
    // The browser logs the expected status itself; collect it before dropping it.
    browser.collect_log().await;
    browser.problems.retain(|p| !p.contains("status of 429"));

    let problems = browser.finish().await;
    assert!(problems.is_empty(), "console errors or CSP violations: {problems:#?}");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
}

async fn check_error_page(browser: &Browser, status: u16, message: &str, signed_in: bool, width: u64) {
    let text = browser.text().await;
    assert!(text.contains(&status.to_string()), "the {status} page names its status: {text}");
    assert!(text.contains(message), "the {status} page says what happened: {text}");
    let styled = browser.client.find(Locator::Css("link[rel=stylesheet][href='/static/app.css']")).await;
    assert!(styled.is_ok(), "the {status} page uses the site's stylesheet");
    let nav = browser.client.find(Locator::Css("nav[aria-label=Main]")).await;
    assert_eq!(nav.is_ok(), signed_in, "the {status} page shows the navigation exactly when signed in");
    let viewport = browser.client.find(Locator::Css("meta[name=viewport]")).await;
    assert!(viewport.is_ok(), "the {status} page declares the phone viewport");
    let scroll = browser.client.execute("return document.documentElement.scrollWidth", vec![]).await.expect("width");
    assert!(scroll.as_u64().is_some_and(|w| w <= width), "the {status} page fits {width} px: {scroll}");
    for internal in ["panicked", "sqlx", "DbErr", "stack backtrace", "at src/"] {
        assert!(!text.contains(internal), "the {status} page shows no internals ({internal})");
    }
}

/// A storage outage (SQLite's page cap standing in for a full disk) shows
/// the styled 503 page on a write, saying nothing was changed.
#[tokio::test]
async fn a_full_disk_shows_the_styled_503_page() {
    use vulntrack_store::{Backend, Database, PoolSettings};
    let test_db = crate::support::TestDb::fresh().await;
    if crate::support::skip_unless(test_db.backend() == Backend::Sqlite, crate::support::Needs::Sqlite) {
        return;
    }
    let plain = test_db.migrated().await;
    plain.close().await.expect("close");
    let pages = std::fs::metadata(test_db.dir.path().join("test.db")).expect("db file").len() / 4096;
    let settings = PoolSettings { sqlite_max_page_count: Some(pages + 120), ..PoolSettings::default() };
    let db = Database::connect(&test_db.url, settings).await.expect("connect capped");
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let public = url::Url::parse(&format!("{base}/")).expect("url");
    let app = TestApp::over_with(test_db, db, |c| c.public_url = public);
    app.setup_admin("Blue Team", "ada@example.com").await;
    let (stop, server) = serve(listener, &app);
    let Some(mut browser) = Browser::start(base).await else { return };
    browser.go("/login").await;
    browser.fill("#email", "ada@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    assert_eq!(browser.arrive("/").await, "/", "signed in");

    // Fill the database through the API until it refuses.
    let cookie = app.login("ada@example.com", PASSWORD).await;
    // Large records first, then small ones, until even a small one is refused.
    for size in [4_000, 200, 10] {
        let mut full = false;
        for i in 0..5_000 {
            let body = json!({ "title": format!("filler {size} {i}"), "description": "x".repeat(size.max(10)), "severity": "LOW" });
            if app.post("/api/v1/vulnerabilities", As::Cookie(&cookie), body).await.status
                == axum::http::StatusCode::SERVICE_UNAVAILABLE
            {
                full = true;
                break;
            }
        }
        assert!(full, "the capped database fills up with {size}-character records");
    }

    browser.go("/vulnerabilities/new").await;
    let form = browser.text().await;
    assert!(form.contains("New vulnerability"), "reading still works while full: {} {form}", browser.path().await);
    browser.fill("#title", "Written while the disk is full").await;
    browser.fill("#description", "Refused, not lost.").await;
    let severity = browser.client.find(Locator::Css("#severity")).await.expect("severity");
    severity.select_by_value("HIGH").await.expect("select");
    browser.click("main form[action='/vulnerabilities'] .actions button[type=submit]").await;
    for _ in 0..50 {
        if browser.text().await.contains("503") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let text = browser.text().await;
    assert!(text.contains("503"), "the page names its status: {text}");
    assert!(text.contains("nothing was changed"), "and says nothing was saved: {text}");
    let styled = browser.client.find(Locator::Css("link[rel=stylesheet][href='/static/app.css']")).await;
    assert!(styled.is_ok(), "the 503 page uses the site's stylesheet");
    browser.client.set_window_size(390, 844).await.expect("phone");
    let width = browser.client.execute("return document.documentElement.scrollWidth", vec![]).await.expect("width");
    assert!(width.as_u64().is_some_and(|w| w <= 390), "the 503 page fits a phone: {width}");
    browser.shot("error-503-phone").await;
    // The browser logs the expected status itself; collect it before dropping it.
    browser.collect_log().await;
    browser.problems.retain(|p| !p.contains("status of 503"));
    let problems = browser.finish().await;
    assert!(problems.is_empty(), "console errors or CSP violations: {problems:#?}");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
}

/// A Chrome DevTools command through chromedriver (device size, colour
/// scheme): true phone widths, which a desktop window cannot shrink to.
#[derive(Debug)]
struct DevTools {
    command: &'static str,
    params: Value,
}

impl WebDriverCompatibleCommand for DevTools {
    fn endpoint(&self, base: &url::Url, session: Option<&str>) -> Result<url::Url, url::ParseError> {
        base.join(&format!("session/{}/goog/cdp/execute", session.unwrap_or_default()))
    }

    fn method_and_body(&self, _: &url::Url) -> (axum::http::Method, Option<String>) {
        (axum::http::Method::POST, Some(json!({ "cmd": self.command, "params": self.params }).to_string()))
    }
}

/// axe-core, vendored in the test fixtures (see its README there).
const AXE: &str = include_str!("../fixtures/axe/axe.min.js");

impl Browser {
    async fn devtools(&self, command: &'static str, params: Value) {
        self.client.issue_cmd(DevTools { command, params }).await.unwrap_or_else(|e| panic!("{command}: {e}"));
    }

    /// Lays pages out as on a `width`×`height` screen, phone-like below 600 px.
    async fn screen(&self, width: u64, height: u64) {
        let params = json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600 });
        self.devtools("Emulation.setDeviceMetricsOverride", params).await;
    }

    /// What the page's `prefers-color-scheme` says.
    async fn system_scheme(&self, scheme: &str) {
        let params = json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] });
        self.devtools("Emulation.setEmulatedMedia", params).await;
    }

    /// How much wider than the viewport the page is (0 when it fits).
    async fn overflow(&self) -> i64 {
        let script = "return document.documentElement.scrollWidth - window.innerWidth";
        self.client.execute(script, vec![]).await.expect("width").as_i64().expect("a number")
    }

    /// axe-core's violations on the current page, one line each.
    async fn axe_violations(&self) -> Vec<String> {
        self.client.execute(AXE, vec![]).await.expect("inject axe-core");
        let run = r"
            const done = arguments[arguments.length - 1];
            axe.run(document, { resultTypes: ['violations'] })
              .then((r) => done(r.violations.map((v) =>
                v.id + ': ' + v.help + ' — ' + v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' ' + (n.failureSummary || '').replace(/\s+/g, ' ')).join(' | '))))
              .catch((e) => done(['axe failed: ' + e]));";
        let found = self.client.execute_async(run, vec![]).await.expect("run axe-core");
        serde_json::from_value(found).expect("a list of violations")
    }
}

/// Every page at a desk (1440×900) and on a phone (390×844), with the
/// system in light and in dark, error pages included: no axe-core
/// violation (contrast included), nothing wider than the screen, no
/// console error or CSP violation; then every page again with the user's
/// own choice of dark on a light system.
/// Screenshots of each go to `target/screenshots/pages/`.
#[tokio::test]
async fn every_page_fits_a_phone_and_passes_axe_in_light_and_dark() {
    let (listener, base, app) = app_on_loopback().await;
    let (stop, server) = serve(listener, &app);
    let Some(mut browser) = Browser::start(base).await else { return };
    let shots = browser.shots.join("pages");
    std::fs::create_dir_all(&shots).expect("screenshot dir");
    let mut failures = Vec::new();
    let check_all = async |browser: &mut Browser, pages: &[&str], failures: &mut Vec<String>| {
        for scheme in ["light", "dark"] {
            browser.system_scheme(scheme).await;
            for (width, height) in [(1440, 900), (390, 844)] {
                browser.screen(width, height).await;
                for path in pages {
                    browser.go(path).await;
                    let overflow = browser.overflow().await;
                    if overflow > 0 {
                        failures.push(format!("{path} at {width} px ({scheme}): {overflow} px wider than the screen"));
                    }
                    for violation in browser.axe_violations().await {
                        failures.push(format!("{path} at {width} px ({scheme}): {violation}"));
                    }
                    let page = path.split('?').next().unwrap_or_default().trim_matches('/').replace('/', "-");
                    let name = if path.contains('?') { format!("{page}-filtered-{}", path.len()) } else { page };
                    let name = format!("{name}-{width}-{scheme}");
                    let name = if name.starts_with('-') { format!("dashboard{name}") } else { name };
                    let png = browser.client.screenshot().await.expect("screenshot");
                    std::fs::write(shots.join(format!("{name}.png")), png).expect("write screenshot");
                }
            }
        }
    };
    // The first-run page, before there is a team.
    check_all(&mut browser, &["/setup"], &mut failures).await;
    app.setup_admin("Blue Team", "ada@example.com").await;
    let admin = app.login("ada@example.com", PASSWORD).await;
    let analyst = app.add_member(&admin, "grace.analyst@example.com", "ANALYST").await;
    let me = app.get_as("/api/v1/me", As::Cookie(&admin)).await.body["id"].clone();
    let long = "x".repeat(180);
    let records = [
        json!({ "title": "SQL injection in the login form of the customer portal", "description": format!("The handler concatenates input.\n\n- [ ] parameterise\n- [x] reproduce\n\nSee https://example.com/advisory and `{long}`."), "severity": "CRITICAL", "cvss_vector": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", "cve_id": "CVE-2024-1111", "assets": ["portal-01", "db-02"], "tags": ["auth", "web"], "assignee_id": me, "dread": { "damage": 8, "reproducibility": 9, "exploitability": 7, "affected_users": 9, "discoverability": 6 } }),
        json!({ "title": "Outdated OpenSSL on the edge proxies", "description": "openssl 1.0.2", "severity": "HIGH", "kind": "MISCONFIGURATION", "status": "IN_PROGRESS" }),
        json!({ "title": "Verbose errors", "description": "Stack traces on 500 pages.", "severity": "MEDIUM", "status": "RESOLVED", "resolution": "FIXED" }),
        json!({ "title": "Missing HSTS", "description": "No Strict-Transport-Security.", "severity": "LOW" }),
        json!({ "title": "Server banner", "description": "Version in the Server header.", "severity": "INFO", "status": "CLOSED", "resolution": "WONT_FIX" }),
    ];
    for record in records {
        let created = app.post("/api/v1/vulnerabilities", As::Cookie(&analyst), record).await;
        assert_eq!(created.status, axum::http::StatusCode::CREATED, "{created:?}");
    }
    let comment = app
        .post(
            "/api/v1/vulnerabilities/VT-1/comments",
            As::Cookie(&analyst),
            json!({ "body": "Reproduced on **staging**." }),
        )
        .await;
    assert_eq!(comment.status, axum::http::StatusCode::CREATED, "{comment:?}");
    let report = crate::imports::trivy(&crate::imports::PACKAGES);
    let imported = app
        .upload("/api/v1/imports", As::Cookie(&analyst), &[("asset", "portal-01")], Some(("trivy.json", &report)))
        .await;
    assert_eq!(imported.status, axum::http::StatusCode::CREATED, "{imported:?}");
    let import_page = format!("/imports/{}", imported.body["id"].as_str().expect("import id"));
    // A record whose CVE the catalogue knows (KEV, EPSS, NVD): VT-11.
    load_catalogue(&app, &["kev.json", "epss.csv", "nvd-page.json"]).await;
    let log4j = json!({ "title": "Log4Shell in the reporting service", "description": "JNDI lookups enabled.", "severity": "HIGH", "cve_id": "CVE-2021-44228", "assets": ["portal-01"] });
    let created = app.post("/api/v1/vulnerabilities", As::Cookie(&analyst), log4j).await;
    assert_eq!(created.body["key"], "VT-11", "{created:?}");

    // The pages reached from links: an invitation and a reset link.
    let invited = app
        .post("/api/v1/invitations", As::Cookie(&admin), json!({ "email": "new@example.com", "role": "VIEWER" }))
        .await;
    let invite =
        format!("/invite?token={}", crate::support::token_of(invited.body["invite_url"].as_str().expect("url")));
    let analyst_id = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].as_str().expect("id").to_string();
    let reset = app.post(&format!("/api/v1/users/{analyst_id}/password-reset"), As::Cookie(&admin), json!({})).await;
    let reset_link = reset.body["reset_url"].as_str().unwrap_or_else(|| panic!("{reset:?}"));
    let reset = format!("/reset-password?token={}", crate::support::token_of(reset_link));
    let signed_out = ["/login", "/forgot-password", invite.as_str(), reset.as_str()];
    let signed_in = [
        "/",
        "/vulnerabilities",
        "/vulnerabilities?severity=CRITICAL&severity=HIGH&tag=auth&assignee_id=none&col=key&col=title&col=severity&col=tags&col=cve&col=assets",
        "/vulnerabilities?q=no-such-words",
        "/vulnerabilities/new",
        "/vulnerabilities/VT-1",
        "/triage",
        "/assets",
        "/assets/portal-01",
        "/imports",
        import_page.as_str(),
        "/vulnerabilities/VT-6",
        "/vulnerabilities/VT-11",
        "/vulnerabilities?kev=true&sort=-priority&col=key&col=title&col=severity&col=priority&col=epss",
        "/vulnerabilities/VT-1/edit",
        "/notifications",
        "/account",
        "/admin/users",
        "/admin/settings",
        "/admin/audit",
        "/admin/alerts",
    ];
    check_all(&mut browser, &signed_out, &mut failures).await;
    browser.screen(1440, 900).await;
    browser.go("/login").await;
    browser.fill("#email", "ada@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    assert_eq!(browser.arrive("/").await, "/", "signed in");
    check_all(&mut browser, &signed_in, &mut failures).await;
    // Error pages, signed in: styled, with the menu, in both schemes.
    let error_pages = ["/no-such-page", "/vulnerabilities/VT-999"];
    check_all(&mut browser, &error_pages, &mut failures).await;
    browser.collect_log().await;
    browser.problems.retain(|p| !p.contains("status of 404"));
    // The user's own choice of dark, on a system set to light.
    let chosen = app.patch("/api/v1/me", As::Cookie(&admin), json!({ "theme": "DARK" })).await;
    assert_eq!(chosen.status, axum::http::StatusCode::OK, "{chosen:?}");
    browser.system_scheme("light").await;
    browser.screen(1440, 900).await;
    for path in signed_in.iter().chain(&error_pages) {
        browser.go(path).await;
        let background = browser
            .client
            .execute("return getComputedStyle(document.body).backgroundColor", vec![])
            .await
            .expect("background");
        if background != json!("rgb(15, 18, 23)") {
            failures.push(format!("{path} with DARK chosen: background {background}, not the dark theme's"));
        }
        for violation in browser.axe_violations().await {
            failures.push(format!("{path} with DARK chosen: {violation}"));
        }
    }
    browser.collect_log().await;
    browser.problems.retain(|p| !p.contains("status of 404"));
    assert!(failures.is_empty(), "{} problems:\n{}", failures.len(), failures.join("\n"));

    let problems = browser.finish().await;
    assert!(problems.is_empty(), "console errors or CSP violations: {problems:#?}");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
}

impl Browser {
    /// The current address's query string.
    async fn query(&self) -> String {
        self.client.current_url().await.expect("url").query().unwrap_or_default().to_string()
    }

    /// Waits (up to 10 s) for the address to change from `from`.
    async fn leave(&self, from: &str) -> String {
        for _ in 0..100 {
            let url = self.client.current_url().await.expect("url").to_string();
            if url != from {
                return url;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("still at {from}");
    }

    async fn all_texts(&self, css: &str) -> Vec<String> {
        let mut texts = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.expect("elements") {
            texts.push(element.text().await.expect("text"));
        }
        texts
    }

    async fn checked(&self, css: &str) -> Vec<bool> {
        let mut checked = Vec::new();
        for element in self.client.find_all(Locator::Css(css)).await.expect("elements") {
            checked.push(element.prop("checked").await.expect("checked").as_deref() == Some("true"));
        }
        checked
    }

    async fn keys(&self, keys: &str) {
        self.client.find(Locator::Css("body")).await.expect("body").send_keys(keys).await.expect("keys");
    }
}

/// The list as a team lead uses it: pick filters from the menus, save
/// them as a view, come back to it, sort by a column, select the page,
/// change it in bulk — and land on the same filtered list, with the
/// change confirmed. Keyboard shortcuts move and select rows.
#[tokio::test]
async fn the_list_filters_saves_a_view_sorts_selects_all_and_changes_in_bulk_keeping_its_filters() {
    let (listener, base, app) = app_on_loopback().await;
    app.setup_admin("Blue Team", "ada@example.com").await;
    let admin = app.login("ada@example.com", PASSWORD).await;
    let _analyst = app.add_member(&admin, "grace.analyst@example.com", "ANALYST").await;
    let severities = ["CRITICAL", "HIGH", "MEDIUM", "LOW"];
    let vectors = [
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:L/A:N",
        "CVSS:3.1/AV:L/AC:H/PR:H/UI:R/S:U/C:L/I:N/A:N",
    ];
    for i in 0..24 {
        let mut record = json!({
            "title": format!("Finding {i:02} in the payments service"),
            "description": "Found in review.",
            "severity": severities[i % 4],
            "tags": if i % 3 == 0 { json!(["pci"]) } else { json!(["internal"]) },
            "cvss_vector": vectors[(i / 4) % 4],
        });
        if i % 5 == 0 {
            record["status"] = json!("IN_PROGRESS");
        }
        let created = app.post("/api/v1/vulnerabilities", As::Cookie(&admin), record).await;
        assert_eq!(created.status, axum::http::StatusCode::CREATED, "{created:?}");
    }
    let expected = app
        .get_as("/api/v1/vulnerabilities?severity=CRITICAL,HIGH&status=OPEN&tag=pci&limit=200", As::Cookie(&admin))
        .await
        .body["items"]
        .as_array()
        .expect("items")
        .len();
    assert!(expected >= 2, "the seed gives the filter something to find");

    let (stop, server) = serve(listener, &app);
    let Some(mut browser) = Browser::start(base).await else { return };
    browser.sign_in_as_ada().await;

    // Filters from the menus.
    browser.go("/vulnerabilities").await;
    assert!(browser.see("24 vulnerabilities").await, "{}", browser.text().await);
    let menu = |label: &'static str| {
        format!("//details[contains(@class,'filter')]/summary[starts-with(normalize-space(.), '{label}')]")
    };
    for (label, values) in [("Severity", vec!["CRITICAL", "HIGH"]), ("Status", vec!["OPEN"])] {
        browser.client.find(Locator::XPath(&menu(label))).await.expect("menu").click().await.expect("open menu");
        for value in values {
            browser.click(&format!("details.filter input[value='{value}']")).await;
        }
    }
    browser.client.find(Locator::XPath(&menu("More"))).await.expect("more").click().await.expect("open");
    browser.fill("#tag", "pci").await;
    browser.shot("list-filters-open").await;
    let at = browser.client.current_url().await.expect("url").to_string();
    browser.click("form.filters button[type=submit]").await;
    browser.leave(&at).await;
    let matching = format!("{expected} vulnerabilities match");
    assert!(browser.see(&matching).await, "{}", browser.text().await);
    let chips = browser.all_texts("a.chip").await;
    assert_eq!(
        chips,
        ["Severity: Critical ×", "Severity: High ×", "Status: Open ×", "Tag: pci ×"],
        "one chip per filter"
    );
    let filtered = browser.query().await;

    // The Export menu downloads what the list shows: its links carry the filters.
    browser.click("details.export-menu summary").await;
    let links = browser.client.find_all(Locator::Css("details.export-menu a")).await.expect("export links");
    assert_eq!(links.len(), 6, "CSV, CSV for Excel, XLSX, JSON Lines, SARIF, CycloneDX");
    for link in &links {
        let href = link.attr("href").await.expect("href").unwrap_or_default();
        assert!(href.starts_with("/api/v1/vulnerabilities/export?format="), "{href}");
        for filter in ["severity=CRITICAL", "severity=HIGH", "status=OPEN", "tag=pci"] {
            assert!(href.contains(filter), "{href} keeps {filter}");
        }
    }
    browser.shot("list-export-menu").await;
    browser.screen(390, 844).await;
    browser.system_scheme("dark").await;
    assert_eq!(browser.overflow().await, 0, "the open menu fits a phone");
    browser.shot("list-export-menu-phone-dark").await;
    browser.screen(1440, 900).await;
    browser.system_scheme("light").await;
    browser.click("details.export-menu summary").await;

    // Saved as a view, shared with the team.
    browser.click("nav.views details summary").await;
    browser.fill("#view-name", "Open PCI criticals").await;
    browser.click("form.save-view input[name=shared]").await;
    browser.click("form.save-view button[type=submit]").await;
    assert!(browser.see("View saved.").await, "{}", browser.text().await);
    browser.shot("list-view-saved").await;
    // Back to everything, then the view again.
    browser.click("nav.views a.view[href='/vulnerabilities']").await;
    assert!(browser.see("24 vulnerabilities").await);
    assert!(browser.all_texts("a.chip").await.is_empty(), "no filter on the full list");
    browser.click("nav.views a.view:nth-of-type(2)").await;
    assert!(browser.see(&matching).await, "the view brings the filters back: {}", browser.text().await);
    assert_eq!(browser.all_texts("a.chip").await, chips);
    let current = browser.client.find(Locator::Css("nav.views a[aria-current=page]")).await.expect("current view");
    assert!(current.text().await.expect("text").starts_with("Open PCI criticals"));

    // Sorted by a column heading: CVSS, highest first.
    let before_sort = browser.client.current_url().await.expect("url").to_string();
    browser.click("th.col-cvss a").await;
    browser.leave(&before_sort).await;
    assert!(browser.query().await.contains("sort=-cvss"), "{}", browser.query().await);
    let heading = browser.client.find(Locator::Css("th.col-cvss")).await.expect("th");
    assert_eq!(heading.attr("aria-sort").await.expect("attr").as_deref(), Some("descending"));
    let scores: Vec<f64> = browser
        .all_texts("td[data-label=CVSS]")
        .await
        .iter()
        .map(|t| t.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(-1.0))
        .collect();
    assert_eq!(scores.len(), expected);
    assert!(scores.windows(2).all(|w| w[0] >= w[1]), "highest CVSS first: {scores:?}");
    assert_eq!(browser.all_texts("a.chip").await, chips, "sorting keeps the filters");
    let sorted = browser.query().await;

    // Keyboard: j moves down the rows, x selects the current one.
    browser.keys("jjx").await;
    assert_eq!(browser.checked("tbody input[name=ids]").await.iter().filter(|c| **c).count(), 1);
    assert!(browser.checked("tbody input[name=ids]").await[1], "the second row");
    browser.keys("x").await;

    // Select all, then one bulk change.
    browser.click("#select-all").await;
    assert!(browser.checked("tbody input[name=ids]").await.iter().all(|c| *c), "every row selected");
    let count = browser.client.find(Locator::Id("selected-count")).await.expect("count").text().await.expect("text");
    assert_eq!(count, format!("({expected} of {expected} selected)"));
    let assignee = browser.client.find(Locator::Id("bulk_assignee")).await.expect("assignee");
    assignee.select_by_label("Member Person").await.expect("the analyst is offered");
    browser.shot("list-all-selected").await;
    // The answer comes back to this very address, so wait for its toast.
    // The confirmation names how many records the change is for.
    let question = browser.click_and_confirm("fieldset.bulk button[type=submit]").await;
    assert_eq!(question, format!("Apply this change to {expected} records?"));
    assert!(browser.see(&format!("{expected} vulnerabilities changed.")).await, "{}", browser.text().await);
    assert_eq!(browser.path().await, "/vulnerabilities", "back on the list, not on /vulnerabilities/bulk");
    assert_eq!(browser.query().await, sorted, "the same filters, sort and view");
    assert_eq!(browser.all_texts("a.chip").await, chips, "the filters are intact");
    assert!(browser.see(&matching).await);
    browser.shot("list-after-bulk").await;
    let changed = app
        .get_as("/api/v1/vulnerabilities?severity=CRITICAL,HIGH&status=OPEN&tag=pci&limit=200", As::Cookie(&admin))
        .await
        .body;
    let assigned = changed["items"].as_array().expect("items").iter().filter(|v| !v["assignee_id"].is_null()).count();
    assert_eq!(assigned, expected, "every selected record was assigned");
    assert!(filtered.contains("tag=pci"), "{filtered}");

    // A v4.0 record's edit form opens the v4.0 pickers on its own vector,
    // and picking builds a v4.0 vector; the v3.1 menus start blank and
    // leave the vector alone.
    let v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
    let created = app
        .post(
            "/api/v1/vulnerabilities",
            As::Cookie(&admin),
            json!({ "title": "A v4.0 record", "description": "Scored with CVSS 4.0.", "cvss_vector": v4 }),
        )
        .await;
    let key = created.body["key"].as_str().expect("key").to_string();
    browser.go(&format!("/vulnerabilities/{key}/edit")).await;
    let version = browser.find_wait("input[name=cvss-version][value='4.0']").await;
    assert_eq!(version.prop("checked").await.expect("checked").as_deref(), Some("true"));
    let client = browser.client.clone();
    let picked = |id: &'static str| {
        let client = client.clone();
        async move {
            let select = client.find(Locator::Id(id)).await.unwrap_or_else(|e| panic!("{id}: {e}"));
            select.prop("value").await.expect("value").unwrap_or_default()
        }
    };
    assert_eq!((picked("cvss-AT").await, picked("cvss-VC").await), ("N".to_string(), "H".to_string()));
    let vc = browser.client.find(Locator::Id("cvss-VC")).await.expect("VC");
    vc.select_by_value("L").await.expect("pick");
    let vector = |browser: &Browser| {
        let client = browser.client.clone();
        async move { client.find(Locator::Id("cvss_vector")).await.expect("field").prop("value").await.expect("v") }
    };
    let built = vector(&browser).await;
    assert_eq!(built.as_deref(), Some("CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:L/VI:H/VA:H/SC:N/SI:N/SA:N"));
    browser.click("input[name=cvss-version][value='3.1']").await;
    assert_eq!(picked("cvss-AV").await, "", "the v3.1 menus start blank");
    assert_eq!(vector(&browser).await, built, "and do not touch the v4.0 vector");

    // A refused form puts the keyboard on its error summary.
    browser.go("/vulnerabilities/new").await;
    browser.click(".actions button[type=submit]").await;
    let summary = browser.find_wait("#form-errors").await;
    assert!(summary.text().await.expect("text").contains("Title: must not be blank."));
    let focused = browser.client.execute("return document.activeElement.id", vec![]).await.expect("focus");
    assert_eq!(focused, json!("form-errors"), "the summary has the focus");
    browser.collect_log().await;
    browser.problems.retain(|p| !(p.contains("/vulnerabilities") && p.contains("422")));

    // With no zone chosen, times read in the browser's own zone.
    browser.devtools("Emulation.setTimezoneOverride", json!({ "timezoneId": "Asia/Tokyo" })).await;
    browser.go("/vulnerabilities/VT-1").await;
    let created = browser.client.find(Locator::Css(".facts time")).await.expect("a time");
    let shown = created.text().await.expect("text");
    assert!(shown.ends_with("GMT+9"), "the browser's zone: {shown}");
    browser.go("/account").await;
    let zone = browser.client.find(Locator::Css("#time_zone option")).await.expect("option");
    assert_eq!(zone.text().await.expect("text"), "As my browser is set (Asia/Tokyo)");

    let problems = browser.finish().await;
    assert!(problems.is_empty(), "console errors or CSP violations: {problems:#?}");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
}

/// Acceptance 4 of the imports issue: a person uploads a report on
/// `/imports`, sees what it did, and finds its findings on the asset's page.
#[tokio::test]
async fn a_report_uploaded_on_imports_shows_its_counts_and_its_findings_on_the_asset_page() {
    let (listener, base, app) = app_on_loopback().await;
    let (stop, server) = serve(listener, &app);
    let Some(mut browser) = Browser::start(base).await else { return };
    app.setup_admin("Blue Team", "ada@example.com").await;
    let dir = tempfile::tempdir().expect("dir");
    let report = dir.path().join("shop-trivy.json");
    std::fs::write(&report, crate::imports::trivy(&crate::imports::PACKAGES)).expect("report");

    browser.go("/login").await;
    browser.fill("#email", "ada@example.com").await;
    browser.fill("#password", PASSWORD).await;
    browser.click("button[type=submit]").await;
    assert_eq!(browser.arrive("/").await, "/", "signed in");
    browser.go("/imports").await;
    assert!(browser.see("No report has been imported yet.").await);
    let file = browser.find_wait("#file").await;
    file.send_keys(report.to_str().expect("path")).await.expect("choose the file");
    browser.fill("#asset", "shop-web").await;
    browser.click(".import-form button[type=submit]").await;
    browser.find_wait(".import-counts").await;
    let path = browser.path().await;
    assert!(path.starts_with("/imports/"), "on the import's page: {path}");
    assert!(browser.see("Report imported.").await, "the toast");
    let text = browser.text().await;
    for needle in ["shop-trivy.json", "5\nfindings in the report", "5\ncreated", "CVE-2024-0001 in openssl", "shop-web"]
    {
        assert!(text.contains(needle), "{needle:?} on the import's page: {text}");
    }
    browser.shot("import-done").await;

    // The same report again: nothing new; the history shows both.
    browser.go("/imports").await;
    let file = browser.find_wait("#file").await;
    file.send_keys(report.to_str().expect("path")).await.expect("choose the file");
    browser.fill("#asset", "shop-web").await;
    browser.click(".import-form button[type=submit]").await;
    browser.find_wait(".import-counts").await;
    assert!(browser.see("5\nunchanged").await, "{}", browser.text().await);
    browser.click(".facts a[href^='/assets/']").await;
    browser.find_wait(".facts").await;
    let text = browser.text().await;
    for cve in ["CVE-2024-0001 in openssl", "CVE-2024-0005 in musl"] {
        assert!(text.contains(cve), "{cve} on the asset's page: {text}");
    }
    assert_eq!(
        browser.client.find_all(Locator::Css("a[href^='/imports/']")).await.expect("links").len() / 2,
        2,
        "two imports listed"
    );
    browser.shot("import-asset").await;

    // A file that is not a report comes back with a message, the form kept.
    std::fs::write(dir.path().join("notes.txt"), "just some notes").expect("file");
    browser.go("/imports").await;
    let file = browser.find_wait("#file").await;
    file.send_keys(dir.path().join("notes.txt").to_str().expect("path")).await.expect("choose the file");
    browser.fill("#asset", "shop-web").await;
    browser.click(".import-form button[type=submit]").await;
    assert!(browser.see("could not be detected").await, "{}", browser.text().await);
    let kept = browser.find_wait("#asset").await.prop("value").await.expect("value");
    assert_eq!(kept.as_deref(), Some("shop-web"));
    browser.shot("import-refused").await;
    browser.collect_log().await;
    // The refused upload's 422 is the answer this step expects.
    browser.problems.retain(|p| !p.contains("status of 422"));

    let problems = browser.finish().await;
    assert!(problems.is_empty(), "console errors or CSP violations: {problems:#?}");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
}

/// The triage queue with the keyboard only: j moves to the most severe
/// record, a takes it, r resolves the next with a reason picked in its
/// menu and Enter, Enter opens the last; each change comes back to the
/// queue, which shrinks. Screens at desktop and phone size, light and dark.
#[tokio::test]
async fn a_record_is_triaged_from_the_queue_with_the_keyboard() {
    let (listener, base, app) = app_on_loopback().await;
    app.setup_admin("Blue Team", "ada@example.com").await;
    let admin = app.login("ada@example.com", PASSWORD).await;
    for (title, severity) in [
        ("Verbose server banner", "LOW"),
        ("Exposed admin console on the gateway", "CRITICAL"),
        ("Outdated TLS on the VPN", "HIGH"),
    ] {
        let body =
            json!({ "title": title, "description": "Found in review.", "severity": severity, "assets": ["gateway"] });
        let created = app.post("/api/v1/vulnerabilities", As::Cookie(&admin), body).await;
        assert_eq!(created.status, axum::http::StatusCode::CREATED, "{created:?}");
    }
    let record = |key: &'static str| {
        let (app, admin) = (&app, admin.clone());
        async move { app.get_as(&format!("/api/v1/vulnerabilities/{key}"), As::Cookie(&admin)).await.body }
    };
    let (stop, server) = serve(listener, &app);
    let Some(mut browser) = Browser::start(base).await else { return };
    browser.sign_in_as_ada().await;

    browser.go("/triage").await;
    assert!(browser.see("3 open and unassigned").await, "{}", browser.text().await);
    browser.shot("triage").await;
    // j: the first (most severe) record; a: assign it to me.
    browser.keys("j").await;
    browser.shot("triage-current").await;
    browser.keys("a").await;
    assert!(browser.see("2 open and unassigned").await, "{}", browser.text().await);
    assert!(browser.see("Changes saved.").await);
    assert_eq!(record("VT-2").await["assignee_id"], app.get_as("/api/v1/me", As::Cookie(&admin)).await.body["id"]);
    // j, r: the next record's resolution; "Fixed" and Enter apply it.
    browser.keys("j").await;
    browser.keys("r").await;
    let menu = browser.client.active_element().await.expect("the focused menu");
    assert_eq!(menu.attr("name").await.expect("name").as_deref(), Some("resolution"), "r goes to the resolution");
    menu.send_keys("Fixed").await.expect("pick");
    menu.send_keys("\u{E007}").await.expect("enter");
    assert!(browser.see("1 open and unassigned").await, "{}", browser.text().await);
    let resolved = record("VT-3").await;
    assert_eq!((&resolved["status"], &resolved["resolution"]), (&json!("RESOLVED"), &json!("FIXED")));
    browser.system_scheme("dark").await;
    browser.shot("triage-dark").await;
    browser.screen(390, 844).await;
    assert_eq!(browser.overflow().await, 0, "the queue fits a phone");
    browser.shot("triage-phone").await;
    browser.system_scheme("light").await;
    browser.screen(1440, 900).await;
    // j, Enter: open the last one.
    browser.keys("j").await;
    browser.keys("\u{E007}").await;
    assert_eq!(browser.arrive("/vulnerabilities/VT-1").await, "/vulnerabilities/VT-1");

    let problems = browser.finish().await;
    assert!(problems.is_empty(), "console errors or CSP violations: {problems:#?}");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
}

/// Loads fixture feed files into the catalogue through the service the
/// command line uses.
async fn load_catalogue(app: &TestApp, files: &[&str]) {
    for file in files {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/cve").join(file);
        let reader = vulntrack::services::cve_catalogue::open(&path).expect("fixture");
        vulntrack::services::cve_catalogue::load(&app.db, None, reader, |_| {}).await.expect("load");
    }
}

/// Acceptance (issue 17): a record's page shows what the CVE catalogue
/// knows of its CVE (KEV badge with CISA's due date, EPSS, the NVD's
/// description, CWE, references and vector), the list shows priority and
/// EPSS and filters the known exploited, and the dashboard counts them; in
/// light and dark, on a desktop and a phone.
#[tokio::test]
async fn a_records_page_shows_the_catalogues_kev_and_epss_and_the_list_ranks_by_priority() {
    let (listener, base, app) = app_on_loopback().await;
    app.setup_admin("Blue Team", "ada@example.com").await;
    let admin = app.login("ada@example.com", PASSWORD).await;
    load_catalogue(&app, &["nvd-page.json", "kev.json", "epss.csv"]).await;
    for (title, severity, cve) in [
        ("Log4Shell in the reporting service", "HIGH", Some("CVE-2021-44228")),
        ("GlobalProtect on the edge firewall", "MEDIUM", Some("CVE-2024-3400")),
        ("Verbose server banner", "LOW", None),
    ] {
        let body = json!({ "title": title, "description": "Found in review.", "severity": severity, "cve_id": cve });
        let created = app.post("/api/v1/vulnerabilities", As::Cookie(&admin), body).await;
        assert_eq!(created.status, axum::http::StatusCode::CREATED, "{created:?}");
    }
    let (stop, server) = serve(listener, &app);
    let Some(mut browser) = Browser::start(base).await else { return };
    browser.sign_in_as_ada().await;
    assert!(browser.see("known exploited and open").await, "{}", browser.text().await);
    let tile = browser.client.find(fantoccini::Locator::Css("#known-exploited")).await.expect("tile");
    assert_eq!(tile.text().await.expect("text"), "1");

    browser.go("/vulnerabilities/VT-1").await;
    let text = browser.text().await;
    for expected in [
        "Known exploited",
        "on CISA's KEV list since 2021-12-10; CISA's due date 2021-12-24; used in ransomware campaigns",
        "97.6 % chance of exploitation in the next 30 days",
        "100th percentile",
        "Apache Log4j2 2.0-beta9 through 2.15.0",
        "CWE-917",
        "NVD CVSS 3.1",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
        "https://logging.apache.org/log4j/2.x/security.html",
        "84 of 100",
    ] {
        assert!(text.contains(expected), "{expected:?} on the page: {text}");
    }
    browser.shot("cve-detail").await;
    let to_card = "document.getElementById('intel-heading').scrollIntoView()";
    browser.client.execute(to_card, Vec::new()).await.expect("scroll");
    browser.shot("cve-card").await;
    browser.system_scheme("dark").await;
    browser.shot("cve-card-dark").await;
    browser.screen(390, 844).await;
    assert_eq!(browser.overflow().await, 0, "the card fits a phone");
    browser.client.execute(to_card, Vec::new()).await.expect("scroll");
    browser.shot("cve-card-phone").await;
    browser.system_scheme("light").await;
    browser.screen(1440, 900).await;

    // The list: the known exploited, by priority, with the EPSS column.
    browser.go("/vulnerabilities?sort=-priority&col=key&col=title&col=severity&col=priority&col=epss").await;
    let rows = browser.client.find_all(fantoccini::Locator::Css("tbody tr")).await.expect("rows");
    let mut order = Vec::new();
    for row in rows {
        order.push(row.text().await.expect("row text"));
    }
    assert_eq!(order.len(), 3, "{order:?}");
    assert!(order[0].contains("VT-1") && order[0].contains("KEV") && order[0].contains("97.6 %"), "{order:?}");
    assert!(order[1].contains("VT-2") && order[1].contains("95.7 %"), "{order:?}");
    assert!(order[2].contains("VT-3"), "{order:?}");
    browser.shot("cve-list-by-priority").await;
    browser.go("/vulnerabilities?kev=true").await;
    assert!(browser.see("1 vulnerability matches").await, "{}", browser.text().await);
    assert!(browser.see("Known exploited").await);

    // The create form fills itself as a CVE id is typed.
    browser.go("/vulnerabilities/new").await;
    browser.fill("#cve_id", "cve-2023-4863").await;
    assert!(
        browser.see("Filled from CVE-2023-4863: title, description, cvss vector, references, remediation").await,
        "{}",
        browser.text().await
    );
    let title = browser.client.find(fantoccini::Locator::Css("#title")).await.expect("title");
    assert_eq!(
        title.prop("value").await.expect("value").as_deref(),
        Some("CVE-2023-4863: Google Chromium WebP Heap-Based Buffer Overflow Vulnerability")
    );
    browser.shot("cve-filled-form").await;
    // Enter in a field saves the record (it does not fill again).
    let title = browser.client.find(fantoccini::Locator::Css("#title")).await.expect("title");
    title.send_keys("\u{E007}").await.expect("enter");
    assert_eq!(browser.arrive("/vulnerabilities/VT-4").await, "/vulnerabilities/VT-4", "saved");
    assert!(browser.see("Known exploited").await, "{}", browser.text().await);

    let problems = browser.finish().await;
    assert!(problems.is_empty(), "console errors or CSP violations: {problems:#?}");
    let _ = stop.send(());
    let _ = tokio::time::timeout(Duration::from_secs(5), server).await;
}
