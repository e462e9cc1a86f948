//! Every write path is a service with a typed error; these tables check,
//! for each service, the four things the services issue asks of it:
//!
//! 1. **permission**: every role the policy table (`Role::allows`) refuses
//!    the service's action gets 403 problem+json and leaves one
//!    `PERMISSION_DENIED` row; the allowed role succeeds. Services on the
//!    caller's own account have no role to refuse: for them "permission"
//!    is that another member's resource is 404, and that signed-out (or
//!    token) callers are turned away.
//! 2. **validation**: a bad input is 422 with `errors[].field` naming the
//!    field, and nothing is written.
//! 3. **audit row**: a success writes exactly the expected action (read
//!    back through `GET /api/v1/audit-logs` as an ADMIN, `?action=` too).
//! 4. **isolation**: team B's ADMIN aiming at team A's record gets 404 and
//!    A's records are unchanged; a service without an id acts on B's own
//!    records only.
//!
//! "Unchanged" is checked against a snapshot of everything the team owns
//! (team, users, invitations, tokens, sessions, reset links,
//! vulnerabilities, comments, notifications, acknowledged alerts), so a
//! refused or invalid call that wrote anything at all fails its case.

use std::{
    cell::Cell,
    collections::BTreeMap,
    sync::atomic::{AtomicUsize, Ordering},
};

use axum::http::{Method, StatusCode};
use sea_orm::ConnectionTrait;
use serde_json::{Value, json};
use uuid::Uuid;
use vulntrack::{
    auth::{Principal, principal::Credential},
    config::Registration,
    services::{ServiceError, team},
};
use vulntrack_domain::{Action, Role};
use vulntrack_store::{TeamScope, audit::RequestContext, security_alerts, users};

use crate::{
    support::{As, PASSWORD, TestApp, TestResponse, token_of},
    vulnerabilities::sample,
};

const A_ADMIN: &str = "admin@example.com";
const A_ANALYST: &str = "analyst@example.com";
const A_VIEWER: &str = "viewer@example.com";
/// A second ADMIN of team A who only reads the audit log, so that no case
/// (signing out, changing a password) can end the reader's session.
const A_AUDITOR: &str = "auditor@example.com";
const B_ADMIN: &str = "red-admin@example.com";
const NEW_PASSWORD: &str = "N3w&Better#Pass77";
const ROLES: [Role; 3] = [Role::Admin, Role::Analyst, Role::Viewer];

// ---------------------------------------------------------------------------
// The world: team A (one member per role, plus a log reader) and team B,
// a stranger who signed up through open registration.
// ---------------------------------------------------------------------------

struct World {
    app: TestApp,
    admin: String,
    analyst: String,
    viewer: String,
    auditor: String,
    /// Team B's ADMIN.
    b: String,
    scope: TeamScope,
    /// An argon2id hash of [`PASSWORD`], for members made in the store.
    hash: String,
    /// Team A's members by role: (role, user id).
    ids: Vec<(Role, String)>,
    /// Team A's audit log, read by its log reader.
    a_log: Log,
    next: AtomicUsize,
}

fn email(role: Role) -> &'static str {
    match role {
        Role::Admin => A_ADMIN,
        Role::Analyst => A_ANALYST,
        Role::Viewer => A_VIEWER,
    }
}

impl World {
    async fn build() -> Self {
        let app = TestApp::spawn_with(|c| c.registration = Registration::Open).await;
        app.setup_admin("Blue Team", A_ADMIN).await;
        let record = users::find_for_sign_in(app.db.conn(), A_ADMIN).await.expect("query").expect("admin");
        let scope = record.user.scope();
        // The other members are made in the store (invitations have their
        // own case): it saves two password hashes each.
        let hash = app.test_hasher_hash().await;
        for (email, role) in [(A_ANALYST, Role::Analyst), (A_VIEWER, Role::Viewer), (A_AUDITOR, Role::Admin)] {
            let new = users::NewUser { email, name: "Team Member", role, password_hash: &hash };
            users::create(app.db.conn(), scope, new).await.expect("member");
        }
        let admin = app.login(A_ADMIN, PASSWORD).await;
        let analyst = app.login(A_ANALYST, PASSWORD).await;
        let viewer = app.login(A_VIEWER, PASSWORD).await;
        let auditor = app.login(A_AUDITOR, PASSWORD).await;
        let registered = app
            .post(
                "/api/v1/auth/register",
                As::Anonymous,
                json!({ "team_name": "Red Team", "name": "Red Admin", "email": B_ADMIN, "password": PASSWORD }),
            )
            .await;
        assert_eq!(registered.status, StatusCode::CREATED, "team B signs up: {registered:?}");
        let b = app.login(B_ADMIN, PASSWORD).await;
        let mut ids = Vec::new();
        for role in ROLES {
            let user = users::find_for_sign_in(app.db.conn(), email(role)).await.expect("query").expect("member");
            ids.push((role, user.user.id.to_string()));
        }
        let a_log = Log::open(&app, &auditor).await;
        Self { scope, a_log, app, admin, analyst, viewer, auditor, b, hash, ids, next: AtomicUsize::new(1) }
    }

    fn cookie(&self, role: Role) -> &str {
        match role {
            Role::Admin => &self.admin,
            Role::Analyst => &self.analyst,
            Role::Viewer => &self.viewer,
        }
    }

    fn id_of(&self, role: Role) -> &str {
        self.ids.iter().find(|(r, _)| *r == role).map(|(_, id)| id.as_str()).expect("member id")
    }

    fn next(&self) -> usize {
        self.next.fetch_add(1, Ordering::Relaxed)
    }

    async fn vulnerability(&self, n: usize) -> String {
        let created =
            self.app.post("/api/v1/vulnerabilities", As::Cookie(&self.admin), sample(&format!("Finding {n}"))).await;
        assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
        created.body["id"].as_str().expect("id").to_string()
    }

    async fn comment(&self, vulnerability: &str, cookie: &str) -> String {
        let path = format!("/api/v1/vulnerabilities/{vulnerability}/comments");
        let created = self.app.post(&path, As::Cookie(cookie), json!({ "body": "First look." })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
        created.body["id"].as_str().expect("id").to_string()
    }

    /// A fresh member of team A, made in the store, who can sign in with
    /// [`PASSWORD`]: (id, email).
    async fn member(&self, n: usize, role: Role) -> (String, String) {
        let email = format!("member{n}@example.com");
        let new = users::NewUser { email: &email, name: "Fresh Member", role, password_hash: &self.hash };
        let user = users::create(self.app.db.conn(), self.scope, new).await.expect("member");
        (user.id.to_string(), email)
    }

    async fn token(&self, cookie: &str, name: &str) -> TestResponse {
        let created = self.app.post("/api/v1/tokens", As::Cookie(cookie), json!({ "name": name })).await;
        assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
        created
    }

    /// Everyone the tables sign in as is still signed in: no case ended a
    /// session it should not have.
    async fn everyone_still_signed_in(&self, service: &str) {
        for (who, cookie) in [
            ("team A's ADMIN", &self.admin),
            ("team A's ANALYST", &self.analyst),
            ("team A's VIEWER", &self.viewer),
            ("team A's log reader", &self.auditor),
            ("team B's ADMIN", &self.b),
        ] {
            let me = self.app.get_as("/api/v1/me", As::Cookie(cookie)).await;
            assert_eq!(me.status, StatusCode::OK, "{service}: {who} was signed out");
        }
    }
}

// ---------------------------------------------------------------------------
// What a team owns, and its audit log.
// ---------------------------------------------------------------------------

/// Everything the team of `member` owns, as comparable text: one list of
/// rows per table. Columns that change on mere reads (last seen, last used,
/// the failed sign-in count) are left out; ids are left out so the text
/// is the same on both backends.
async fn snapshot(app: &TestApp, member: &str) -> BTreeMap<&'static str, Vec<String>> {
    let team = format!(
        "(SELECT team_id FROM users WHERE email_normalized = '{}' AND deleted_at IS NULL)",
        member.to_lowercase()
    );
    let state =
        |flag: &str, set: &str, unset: &str| format!("CASE WHEN {flag} IS NULL THEN '{unset}' ELSE '{set}' END");
    let tables: [(&'static str, String); 10] = [
        (
            "teams",
            format!(
                "SELECT name || '|' || COALESCE(CAST(session_ttl_seconds AS TEXT), '-') || '|' \
                 || CAST(version AS TEXT) FROM teams WHERE id = {team}"
            ),
        ),
        (
            "users",
            format!(
                "SELECT email || '|' || name || '|' || password_hash || '|' || role || '|' || status || '|' \
                 || COALESCE(phone, '-') || '|' || COALESCE(job_title, '-') || '|' || COALESCE(department, '-') \
                 || '|' || COALESCE(bio, '-') || '|' || CASE WHEN is_onboarded THEN 'onboarded' ELSE 'new' END \
                 || '|' || {} || '|' || {} || '|' || CAST(version AS TEXT) FROM users WHERE team_id = {team}",
                state("locked_until", "locked", "open"),
                state("deleted_at", "deleted", "present"),
            ),
        ),
        (
            "invitations",
            format!(
                "SELECT email || '|' || role || '|' || {} FROM invitations WHERE team_id = {team}",
                state("accepted_at", "accepted", "pending")
            ),
        ),
        (
            "api_tokens",
            format!(
                "SELECT name || '|' || token_prefix || '|' || {} FROM api_tokens WHERE team_id = {team}",
                state("revoked_at", "revoked", "live")
            ),
        ),
        (
            "sessions",
            format!(
                "SELECT CAST(created_at AS TEXT) || '|' || CAST(expires_at AS TEXT) || '|' || {} \
                 FROM sessions WHERE team_id = {team}",
                state("revoked_at", "revoked", "live")
            ),
        ),
        (
            "password_resets",
            format!(
                "SELECT CAST(created_at AS TEXT) || '|' || {} FROM password_resets WHERE team_id = {team}",
                state("used_at", "used", "unused")
            ),
        ),
        (
            "vulnerabilities",
            format!(
                "SELECT CAST(number AS TEXT) || '|' || title || '|' || severity || '|' || status || '|' \
                 || CAST(version AS TEXT) FROM vulnerabilities WHERE team_id = {team}"
            ),
        ),
        ("comments", format!("SELECT body || '|' || CAST(version AS TEXT) FROM comments WHERE team_id = {team}")),
        (
            "notifications",
            format!(
                "SELECT kind || '|' || message || '|' || {} FROM notifications WHERE team_id = {team}",
                state("read_at", "read", "unread")
            ),
        ),
        // Alerts are raised by refusals themselves (three denials make
        // one); what a service changes is whether one is acknowledged.
        (
            "acknowledged alerts",
            format!(
                "SELECT rule || '|' || subject FROM security_alerts \
                 WHERE team_id = {team} AND acknowledged_at IS NOT NULL"
            ),
        ),
    ];
    // One statement, so a snapshot is one consistent read.
    let sql = tables
        .iter()
        .map(|(table, select)| format!("SELECT '{table}', {}", select.strip_prefix("SELECT ").expect("a SELECT")))
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let conn = app.db.conn();
    let rows = conn
        .query_all_raw(sea_orm::Statement::from_string(conn.get_database_backend(), sql))
        .await
        .unwrap_or_else(|e| panic!("snapshot of {member}'s team: {e}"));
    let mut snapshot: BTreeMap<&'static str, Vec<String>> =
        tables.iter().map(|(table, _)| (*table, Vec::new())).collect();
    for row in rows {
        let table: String = row.try_get_by_index(0).expect("table");
        let text: String = row.try_get_by_index(1).expect("a text row");
        let (table, _) = tables.iter().find(|(t, _)| *t == table).expect("a known table");
        snapshot.get_mut(table).expect("listed").push(text);
    }
    for texts in snapshot.values_mut() {
        texts.sort();
    }
    snapshot
}

/// A team's audit log as its ADMIN reads it through the API, and how far
/// the test has read.
struct Log {
    reader: String,
    seen: Cell<i64>,
}

impl Log {
    async fn open(app: &TestApp, reader: &str) -> Self {
        let newest = app.get_as("/api/v1/audit-logs?limit=1", As::Cookie(reader)).await;
        assert_eq!(newest.status, StatusCode::OK, "{newest:?}");
        let seen = newest.body["items"][0]["seq"].as_i64().unwrap_or(0);
        Self { reader: reader.to_string(), seen: Cell::new(seen) }
    }

    /// The whole log so far.
    fn from_start(reader: &str) -> Self {
        Self { reader: reader.to_string(), seen: Cell::new(0) }
    }

    /// The rows written since the last call, oldest first.
    async fn new_rows(&self, app: &TestApp) -> Vec<Value> {
        const PAGE: usize = 20;
        let page = app.get_as(&format!("/api/v1/audit-logs?limit={PAGE}"), As::Cookie(&self.reader)).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        let items = page.body["items"].as_array().expect("items");
        let seen = self.seen.get();
        let reaches_back = items.last().is_none_or(|row| row["seq"].as_i64().expect("seq") <= seen);
        assert!(items.len() < PAGE || reaches_back, "more new audit rows than one page holds: {items:?}");
        let mut rows: Vec<Value> =
            items.iter().filter(|row| row["seq"].as_i64().expect("seq") > seen).cloned().collect();
        rows.reverse();
        if let Some(last) = rows.last() {
            self.seen.set(last["seq"].as_i64().expect("seq"));
        }
        rows
    }

    /// The newest row of `action`, found with the `?action=` filter.
    async fn newest(&self, app: &TestApp, action: &str) -> Value {
        let page = app.get_as(&format!("/api/v1/audit-logs?action={action}&limit=1"), As::Cookie(&self.reader)).await;
        assert_eq!(page.status, StatusCode::OK, "{page:?}");
        page.body["items"][0].clone()
    }
}

fn actions(rows: &[Value]) -> Vec<&str> {
    rows.iter().map(|row| row["action"].as_str().unwrap_or_default()).collect()
}

fn actor(row: &Value) -> &str {
    row["actor"]["email"].as_str().or_else(|| row["actor"]["kind"].as_str()).unwrap_or_default()
}

fn error_fields(body: &Value) -> Vec<&str> {
    body["errors"].as_array().map(|e| e.iter().filter_map(|e| e["field"].as_str()).collect()).unwrap_or_default()
}

/// An error answer: the status, as problem+json.
fn assert_problem(context: &str, response: &TestResponse, status: StatusCode) {
    assert_eq!(response.status, status, "{context}: {response:?}");
    assert!(response.content_type.starts_with("application/problem+json"), "{context}: not problem+json: {response:?}");
    assert_eq!(response.body["status"], status.as_u16(), "{context}: {response:?}");
}

// ---------------------------------------------------------------------------
// The table.
// ---------------------------------------------------------------------------

/// Who makes the call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    /// Team A's member of this role.
    A(Role),
    /// The fixture's own member, signed in afresh (services that end or
    /// change the caller's own credentials must not touch the shared ones).
    Owner,
    Anonymous,
}

/// What `{id}` (and `{member}`, `{email}`, `{secret}`) name: made fresh in
/// team A for every case, before the snapshot.
#[derive(Debug, Clone, Copy)]
enum Target {
    Nothing,
    Vulnerability,
    /// A comment by team A's member of this role.
    CommentBy(Role),
    /// A comment by a fresh ANALYST, so no caller of the table wrote it.
    CommentByStranger,
    /// A pending invitation (`{secret}`: its token, `{email}`: invitee).
    Invitation,
    /// A fresh VIEWER who can sign in.
    Member,
    LockedMember,
    /// A fresh member and a reset link for them (`{secret}`).
    ResetLink,
    /// A live API token of team A's member of this role (`{member}`).
    TokenOf(Role),
    /// A second session of team A's member of this role.
    SessionOf(Role),
    /// One of team A's security alerts.
    Alert,
}

/// A caller other than the case's own that must be turned away.
#[derive(Debug, Clone, Copy)]
enum Refusal {
    /// Team A's member of this role, on a resource that is not theirs: 404.
    OtherMember(Role),
    /// No credentials: 401.
    Anonymous,
    /// The caller's own API token instead of their session.
    Bearer(StatusCode),
}

/// A bad input: its answer and what it may write.
struct Invalid {
    body: Value,
    status: StatusCode,
    /// The field `errors[]` must name; `None` where the answer has none (a
    /// body of the wrong shape, or a refusal that is not a 422).
    field: Option<&'static str>,
    /// The audit rows it writes (none for a 422).
    audit: &'static [&'static str],
}

fn field_error(body: Value, field: &'static str) -> Invalid {
    Invalid { body, status: StatusCode::UNPROCESSABLE_ENTITY, field: Some(field), audit: &[] }
}

#[derive(Debug, Clone, Copy)]
enum Isolation {
    /// Team B's ADMIN aiming at team A's `{id}`: 404.
    NotFound,
    /// No id to aim with: team B's call succeeds on B's own records.
    OwnTeam,
    /// Nothing to aim at another team with (each case says why); team B's
    /// records are still checked unchanged by A's calls.
    NotApplicable,
}

/// What the success row's `entity_id` must be.
#[derive(Debug, Clone, Copy)]
enum Entity {
    Target,
    Created,
    Any,
}

/// Whom the success row names as its actor.
#[derive(Debug, Clone, Copy)]
enum Actor {
    /// The caller (team A's member, or the fixture's member).
    Caller,
    /// The fixture's member (an anonymous call that acts for them).
    Member,
    Anonymous,
}

struct Case {
    service: &'static str,
    method: Method,
    path: &'static str,
    target: Target,
    body: Option<Value>,
    caller: Who,
    /// The policy action the service checks: every role the table refuses
    /// it is tried.
    gate: Option<Action>,
    refused: Vec<Refusal>,
    invalid: Vec<Invalid>,
    ok: StatusCode,
    audit: &'static str,
    actor: Actor,
    entity: (&'static str, Entity),
    isolation: Isolation,
}

impl Case {
    fn new(service: &'static str, method: Method, path: &'static str, body: Option<Value>) -> Self {
        Self {
            service,
            method,
            path,
            target: Target::Nothing,
            body,
            caller: Who::A(Role::Admin),
            gate: None,
            refused: Vec::new(),
            invalid: Vec::new(),
            ok: StatusCode::OK,
            audit: "",
            actor: Actor::Caller,
            entity: ("", Entity::Any),
            isolation: Isolation::NotFound,
        }
    }
    fn on(mut self, target: Target) -> Self {
        self.target = target;
        self
    }
    fn by(mut self, caller: Who) -> Self {
        self.caller = caller;
        self
    }
    fn gate(mut self, action: Action) -> Self {
        self.gate = Some(action);
        self
    }
    fn refuses(mut self, refusal: Refusal) -> Self {
        self.refused.push(refusal);
        self
    }
    fn invalid(mut self, invalid: Invalid) -> Self {
        self.invalid.push(invalid);
        self
    }
    fn ok(mut self, status: StatusCode, audit: &'static str, entity: (&'static str, Entity)) -> Self {
        self.ok = status;
        self.audit = audit;
        self.entity = entity;
        self
    }
    fn actor(mut self, actor: Actor) -> Self {
        self.actor = actor;
        self
    }
    fn isolation(mut self, isolation: Isolation) -> Self {
        self.isolation = isolation;
        self
    }
}

#[derive(Debug, Default)]
struct Fixture {
    /// `{id}`
    id: String,
    /// `{member}`: the user the target belongs to.
    member: String,
    /// `{email}`: that user's email.
    email: String,
    /// `{secret}`: an invitation or reset token.
    secret: String,
    /// The fixture member's own session, for [`Who::Owner`].
    cookie: String,
    /// The caller's API token, for [`Refusal::Bearer`].
    bearer: String,
}

async fn fixture(w: &World, case: &Case) -> Fixture {
    let app = &w.app;
    let n = w.next();
    let mut fx = Fixture::default();
    match case.target {
        Target::Nothing => {}
        Target::Vulnerability => fx.id = w.vulnerability(n).await,
        Target::CommentBy(role) => {
            let vulnerability = w.vulnerability(n).await;
            fx.id = w.comment(&vulnerability, w.cookie(role)).await;
        }
        Target::CommentByStranger => {
            // Written in the store: the stranger need not sign in.
            let (author, _) = w.member(n, Role::Analyst).await;
            let vulnerability: Uuid = w.vulnerability(n).await.parse().expect("uuid");
            let author = vulntrack_domain::UserId::from_uuid(author.parse().expect("uuid"));
            let comment = vulntrack_store::comments::create(app.db.conn(), w.scope, vulnerability, author, "Mine.")
                .await
                .expect("comment");
            fx.id = comment.id.to_string();
        }
        Target::Invitation => {
            fx.email = format!("invitee{n}@example.com");
            let invited = app
                .post("/api/v1/invitations", As::Cookie(&w.admin), json!({ "email": fx.email, "role": "VIEWER" }))
                .await;
            assert_eq!(invited.status, StatusCode::CREATED, "{invited:?}");
            fx.id = invited.body["id"].as_str().expect("id").to_string();
            fx.secret = token_of(invited.body["invite_url"].as_str().expect("invite_url"));
        }
        Target::Member | Target::LockedMember | Target::ResetLink => {
            let (id, email) = w.member(n, Role::Viewer).await;
            (fx.id, fx.member, fx.email) = (id.clone(), id, email);
            if let Target::LockedMember = case.target {
                let user = vulntrack_domain::UserId::from_uuid(fx.id.parse().expect("uuid"));
                let until = chrono::Utc::now() + chrono::Duration::hours(1);
                assert!(users::lock_until(app.db.conn(), w.scope, user, until).await.expect("lock"));
            }
            if let Target::ResetLink = case.target {
                let path = format!("/api/v1/users/{}/password-reset", fx.id);
                let link = app.send(Method::POST, &path, As::Cookie(&w.admin), None, &[]).await;
                assert_eq!(link.status, StatusCode::CREATED, "{link:?}");
                fx.secret = token_of(link.body["reset_url"].as_str().expect("reset_url"));
            }
        }
        Target::TokenOf(role) => {
            fx.id = w.token(w.cookie(role), &format!("token {n}")).await.body["id"].as_str().expect("id").to_string();
            (fx.member, fx.email) = (w.id_of(role).to_string(), email(role).to_string());
        }
        Target::SessionOf(role) => {
            let second = app.login(email(role), PASSWORD).await;
            let sessions = app.get_as("/api/v1/me/sessions", As::Cookie(&second)).await;
            let current = sessions.body["items"]
                .as_array()
                .expect("items")
                .iter()
                .find(|s| s["current"] == true)
                .expect("the current session is listed");
            fx.id = current["id"].as_str().expect("id").to_string();
            (fx.member, fx.email) = (w.id_of(role).to_string(), email(role).to_string());
        }
        Target::Alert => {
            let subject = format!("alert {n}");
            let new = security_alerts::NewAlert {
                team: w.scope.into(),
                rule: "PRIVILEGE_ESCALATION_ATTEMPTS",
                severity: "HIGH",
                subject: &subject,
                window_start: chrono::Utc::now(),
                evidence: json!({ "case": case.service }),
            };
            let raised = security_alerts::raise(app.db.conn(), new).await.expect("raise").expect("a new alert");
            fx.id = raised.id.to_string();
        }
    }
    if case.caller == Who::Owner {
        fx.cookie = app.login(&fx.email, PASSWORD).await;
    }
    if case.refused.iter().any(|r| matches!(r, Refusal::Bearer(_))) {
        let cookie = match case.caller {
            Who::A(role) => w.cookie(role).to_string(),
            Who::Owner => fx.cookie.clone(),
            Who::Anonymous => panic!("{}: an anonymous caller has no token", case.service),
        };
        fx.bearer = w.token(&cookie, "the caller's own").await.body["token"].as_str().expect("token").to_string();
    }
    fx
}

/// `{email}` and `{secret}` in the body's strings, filled in.
fn fill(value: &Value, fx: &Fixture) -> Value {
    match value {
        Value::String(text) => Value::String(text.replace("{email}", &fx.email).replace("{secret}", &fx.secret)),
        Value::Array(items) => Value::Array(items.iter().map(|v| fill(v, fx)).collect()),
        Value::Object(map) => Value::Object(map.iter().map(|(k, v)| (k.clone(), fill(v, fx))).collect()),
        other => other.clone(),
    }
}

async fn send(w: &World, case: &Case, fx: &Fixture, auth: As<'_>, body: Option<&Value>) -> TestResponse {
    let path = case.path.replace("{id}", &fx.id).replace("{member}", &fx.member);
    w.app.send(case.method.clone(), &path, auth, body.map(|b| fill(b, fx)), &[]).await
}

fn auth<'a>(w: &'a World, fx: &'a Fixture, who: Who) -> As<'a> {
    match who {
        Who::A(role) => As::Cookie(w.cookie(role)),
        Who::Owner => As::Cookie(&fx.cookie),
        Who::Anonymous => As::Anonymous,
    }
}

/// Runs one case through its four checks.
async fn check(w: &World, case: &Case) {
    let app = &w.app;
    let name = case.service;
    let fx = fixture(w, case).await;
    let a_before = snapshot(app, A_ADMIN).await;
    let mut b_before = snapshot(app, B_ADMIN).await;
    let a_log = &w.a_log;
    a_log.new_rows(app).await; // what making the fixture wrote

    // 4. Isolation: team B's ADMIN aims at team A.
    match case.isolation {
        Isolation::NotFound => {
            let response = send(w, case, &fx, As::Cookie(&w.b), case.body.as_ref()).await;
            assert_problem(&format!("{name}: team B on team A's record"), &response, StatusCode::NOT_FOUND);
        }
        Isolation::OwnTeam => {
            let b_log = Log::open(app, &w.b).await;
            let response = send(w, case, &fx, As::Cookie(&w.b), case.body.as_ref()).await;
            assert_eq!(response.status, case.ok, "{name}: team B on its own records: {response:?}");
            assert_ne!(snapshot(app, B_ADMIN).await, b_before, "{name}: team B's call changed nothing of B's");
            assert_eq!(actions(&b_log.new_rows(app).await), [case.audit], "{name}: team B's own log");
            b_before = snapshot(app, B_ADMIN).await;
        }
        Isolation::NotApplicable => {}
    }
    assert_eq!(snapshot(app, A_ADMIN).await, a_before, "{name}: team B's call changed team A's records");
    assert_eq!(actions(&a_log.new_rows(app).await), Vec::<&str>::new(), "{name}: team B's call is in A's log");

    // 1. Permission: every role the policy table refuses.
    if let Some(action) = case.gate {
        if let Who::A(role) = case.caller {
            assert!(role.allows(action), "{name}: the table's caller {role:?} may not {action:?}");
        }
        for role in ROLES.into_iter().filter(|role| !role.allows(action)) {
            let step = format!("{name}: {role:?}, whom the policy refuses {action:?}");
            let response = send(w, case, &fx, As::Cookie(w.cookie(role)), case.body.as_ref()).await;
            assert_problem(&step, &response, StatusCode::FORBIDDEN);
            assert_eq!(snapshot(app, A_ADMIN).await, a_before, "{step}: the refused call wrote");
            let rows = a_log.new_rows(app).await;
            assert_eq!(actions(&rows), ["PERMISSION_DENIED"], "{step}: {rows:?}");
            assert_eq!(actor(&rows[0]), email(role), "{step}: {rows:?}");
            assert_eq!(rows[0]["details"]["action"], action.name(), "{step}: {rows:?}");
            assert_eq!(rows[0]["details"]["role"], role.as_str(), "{step}: {rows:?}");
        }
    }
    for refusal in &case.refused {
        let (who, status) = match *refusal {
            Refusal::OtherMember(role) => (As::Cookie(w.cookie(role)), StatusCode::NOT_FOUND),
            Refusal::Anonymous => (As::Anonymous, StatusCode::UNAUTHORIZED),
            Refusal::Bearer(status) => (As::Bearer(&fx.bearer), status),
        };
        let step = format!("{name}: refused {refusal:?}");
        let response = send(w, case, &fx, who, case.body.as_ref()).await;
        assert_problem(&step, &response, status);
        assert_eq!(snapshot(app, A_ADMIN).await, a_before, "{step}: the refused call wrote");
        // A 403 is a refusal and leaves its PERMISSION_DENIED row; a 401
        // or 404 tells nothing happened to anything of the caller's.
        let expected: &[&str] = if status == StatusCode::FORBIDDEN { &["PERMISSION_DENIED"] } else { &[] };
        assert_eq!(actions(&a_log.new_rows(app).await), expected, "{step}: audit rows");
    }

    // 2. Validation.
    for invalid in &case.invalid {
        let step = format!("{name}: invalid {}", invalid.body);
        let response = send(w, case, &fx, auth(w, &fx, case.caller), Some(&invalid.body)).await;
        if invalid.status.is_client_error() {
            assert_problem(&step, &response, invalid.status);
        } else {
            assert_eq!(response.status, invalid.status, "{step}: {response:?}");
        }
        if let Some(field) = invalid.field {
            assert!(error_fields(&response.body).contains(&field), "{step}: errors[] names {field}: {response:?}");
        }
        assert_eq!(snapshot(app, A_ADMIN).await, a_before, "{step}: the invalid call wrote");
        assert_eq!(actions(&a_log.new_rows(app).await), invalid.audit, "{step}: audit rows");
    }

    // 3. Success, and its one audit row.
    let response = send(w, case, &fx, auth(w, &fx, case.caller), case.body.as_ref()).await;
    assert_eq!(response.status, case.ok, "{name}: as {:?}: {response:?}", case.caller);
    assert_ne!(snapshot(app, A_ADMIN).await, a_before, "{name}: the successful call changed nothing");
    assert_eq!(snapshot(app, B_ADMIN).await, b_before, "{name}: team A's call changed team B's records");
    let rows = a_log.new_rows(app).await;
    assert_eq!(actions(&rows), [case.audit], "{name}: exactly one row: {rows:?}");
    let row = &rows[0];
    let expected_actor = match (case.actor, case.caller) {
        (Actor::Caller, Who::A(role)) => email(role),
        (Actor::Caller | Actor::Member, _) => fx.email.as_str(),
        (Actor::Anonymous, _) => "ANONYMOUS",
    };
    assert_eq!(actor(row), expected_actor, "{name}: actor: {row}");
    let (entity_type, entity) = case.entity;
    assert_eq!(row["entity_type"], entity_type, "{name}: entity: {row}");
    match entity {
        Entity::Target => assert_eq!(row["entity_id"], fx.id.as_str(), "{name}: entity id: {row}"),
        Entity::Created => assert_eq!(row["entity_id"], response.body["id"], "{name}: entity id: {row}"),
        Entity::Any => assert!(row["entity_id"].as_str().is_some_and(|id| !id.is_empty()), "{name}: {row}"),
    }
    assert_eq!(a_log.newest(app, case.audit).await["id"], row["id"], "{name}: found with ?action={}", case.audit);
}

// ---------------------------------------------------------------------------
// The tests.
// ---------------------------------------------------------------------------

use Entity::{Any, Created, Target as Named};
use StatusCode as S;

/// The services that change what a team shares: role-gated by the policy
/// table.
fn team_services() -> Vec<Case> {
    vec![
        Case::new("alerts::acknowledge", Method::POST, "/api/v1/security/alerts/{id}/ack", None)
            .on(Target::Alert)
            .gate(Action::ViewAudit)
            // No input but the id (a malformed id is 404 like a missing one).
            .ok(S::NO_CONTENT, "ALERT_ACKNOWLEDGED", ("security_alert", Named)),
        Case::new(
            "comments::add",
            Method::POST,
            "/api/v1/vulnerabilities/{id}/comments",
            Some(json!({ "body": "Reproduced on staging." })),
        )
        .on(Target::Vulnerability)
        .by(Who::A(Role::Analyst))
        .gate(Action::Comment)
        .invalid(field_error(json!({ "body": "   " }), "body"))
        .ok(S::CREATED, "COMMENT_ADDED", ("comment", Created)),
        Case::new(
            "comments::edit",
            Method::PATCH,
            "/api/v1/comments/{id}",
            Some(json!({ "body": "Reproduced twice." })),
        )
        .on(Target::CommentBy(Role::Analyst))
        .by(Who::A(Role::Analyst))
        .gate(Action::Comment)
        .invalid(field_error(json!({ "body": "" }), "body"))
        .ok(S::OK, "COMMENT_UPDATED", ("comment", Named)),
        // Someone else's comment: deleting it is moderation.
        Case::new("comments::delete", Method::DELETE, "/api/v1/comments/{id}", None)
            .on(Target::CommentByStranger)
            .gate(Action::ModerateComments)
            .ok(S::NO_CONTENT, "COMMENT_DELETED", ("comment", Named)),
        Case::new(
            "invitations::invite",
            Method::POST,
            "/api/v1/invitations",
            Some(json!({ "email": "newcomer@example.com", "role": "VIEWER" })),
        )
        .gate(Action::ManageUsers)
        .invalid(field_error(json!({ "email": "not an address", "role": "VIEWER" }), "email"))
        .ok(S::CREATED, "USER_INVITED", ("invitation", Created))
        .isolation(Isolation::OwnTeam),
        Case::new("invitations::withdraw", Method::DELETE, "/api/v1/invitations/{id}", None)
            .on(Target::Invitation)
            .gate(Action::ManageUsers)
            .ok(S::NO_CONTENT, "INVITATION_REVOKED", ("invitation", Named)),
        Case::new("members::update", Method::PATCH, "/api/v1/users/{id}", Some(json!({ "role": "ANALYST" })))
            .on(Target::Member)
            .gate(Action::ManageUsers)
            // An unknown role is a body of the wrong shape: 422 naming it.
            .invalid(field_error(json!({ "role": "OWNER" }), "role"))
            .ok(S::OK, "USER_ROLE_CHANGED", ("user", Named)),
        Case::new("members::unlock", Method::POST, "/api/v1/users/{id}/unlock", None)
            .on(Target::LockedMember)
            .gate(Action::ManageUsers)
            .ok(S::NO_CONTENT, "ACCOUNT_UNLOCKED", ("user", Named)),
        Case::new("members::delete", Method::DELETE, "/api/v1/users/{id}", None)
            .on(Target::Member)
            .gate(Action::ManageUsers)
            .ok(S::NO_CONTENT, "USER_DELETED", ("user", Named)),
        Case::new("password_resets::issue_for_member", Method::POST, "/api/v1/users/{id}/password-reset", None)
            .on(Target::Member)
            .gate(Action::ManageUsers)
            .ok(S::CREATED, "PASSWORD_RESET_REQUESTED", ("user", Named)),
        Case::new("team::rename", Method::PATCH, "/api/v1/team", Some(json!({ "name": "Blue Team, renamed" })))
            .gate(Action::ManageTeam)
            .invalid(field_error(json!({ "name": "   " }), "name"))
            .ok(S::OK, "TEAM_UPDATED", ("team", Any))
            .isolation(Isolation::OwnTeam),
        Case::new("tokens::revoke_member_token", Method::DELETE, "/api/v1/users/{member}/tokens/{id}", None)
            .on(Target::TokenOf(Role::Analyst))
            .gate(Action::ManageUsers)
            .ok(S::NO_CONTENT, "TOKEN_REVOKED", ("api_token", Named)),
        Case::new("vulnerabilities::create", Method::POST, "/api/v1/vulnerabilities", Some(sample("Open S3 bucket")))
            .by(Who::A(Role::Analyst))
            .gate(Action::WriteVulnerabilities)
            .invalid(field_error(
                json!({ "title": "", "description": "Too short a title.", "severity": "HIGH" }),
                "title",
            ))
            .ok(S::CREATED, "VULNERABILITY_CREATED", ("vulnerability", Created))
            .isolation(Isolation::OwnTeam),
        Case::new(
            "vulnerabilities::update",
            Method::PATCH,
            "/api/v1/vulnerabilities/{id}",
            Some(json!({ "title": "Renamed finding" })),
        )
        .on(Target::Vulnerability)
        .by(Who::A(Role::Analyst))
        .gate(Action::WriteVulnerabilities)
        .invalid(field_error(json!({ "severity": "URGENT" }), "severity"))
        .ok(S::OK, "VULNERABILITY_UPDATED", ("vulnerability", Named)),
        Case::new("vulnerabilities::delete", Method::DELETE, "/api/v1/vulnerabilities/{id}", None)
            .on(Target::Vulnerability)
            .by(Who::A(Role::Analyst))
            .gate(Action::WriteVulnerabilities)
            .ok(S::NO_CONTENT, "VULNERABILITY_DELETED", ("vulnerability", Named)),
    ]
}

/// The services on the caller's own account, and the ones a person uses
/// before signing in. No role is refused them; their "permission" is that
/// another member's resource is 404 and that signed-out or token callers
/// are turned away.
fn own_account_services() -> Vec<Case> {
    let wrong_password = "Wrong#Pass0001";
    vec![
        Case::new("profile::update", Method::PATCH, "/api/v1/me", Some(json!({ "job_title": "Case tester" })))
            .by(Who::A(Role::Viewer))
            .refuses(Refusal::Anonymous)
            .invalid(field_error(json!({ "phone": "call me maybe" }), "phone"))
            .ok(S::OK, "PROFILE_UPDATED", ("user", Any))
            .isolation(Isolation::OwnTeam),
        Case::new(
            "credentials::change_password",
            Method::POST,
            "/api/v1/me/password",
            Some(json!({ "current_password": PASSWORD, "new_password": NEW_PASSWORD })),
        )
        .on(Target::Member)
        .by(Who::Owner)
        .refuses(Refusal::Anonymous)
        .invalid(field_error(
            json!({ "current_password": wrong_password, "new_password": NEW_PASSWORD }),
            "current_password",
        ))
        .invalid(field_error(json!({ "current_password": PASSWORD, "new_password": "short" }), "new_password"))
        .ok(S::NO_CONTENT, "PASSWORD_CHANGED", ("user", Named))
        // Isolation: it changes the caller's own password; there is no id to aim with.
        .isolation(Isolation::NotApplicable),
        Case::new("credentials::revoke_own_session", Method::DELETE, "/api/v1/me/sessions/{id}", None)
            .on(Target::SessionOf(Role::Analyst))
            .by(Who::A(Role::Analyst))
            .refuses(Refusal::OtherMember(Role::Admin))
            .refuses(Refusal::Anonymous)
            .ok(S::NO_CONTENT, "SESSION_REVOKED", ("session", Named)),
        Case::new("tokens::create_own", Method::POST, "/api/v1/tokens", Some(json!({ "name": "ci pipeline" })))
            .by(Who::A(Role::Analyst))
            .refuses(Refusal::Anonymous)
            // A token cannot mint its own successors.
            .refuses(Refusal::Bearer(S::FORBIDDEN))
            .invalid(field_error(json!({ "name": "ci", "expires_in_days": 100_000 }), "expires_in_days"))
            .ok(S::CREATED, "TOKEN_CREATED", ("api_token", Created))
            .isolation(Isolation::OwnTeam),
        Case::new("tokens::revoke_own", Method::DELETE, "/api/v1/tokens/{id}", None)
            .on(Target::TokenOf(Role::Analyst))
            .by(Who::A(Role::Analyst))
            .refuses(Refusal::OtherMember(Role::Admin))
            .refuses(Refusal::Anonymous)
            .ok(S::NO_CONTENT, "TOKEN_REVOKED", ("api_token", Named)),
        Case::new(
            "sessions::sign_in",
            Method::POST,
            "/api/v1/auth/login",
            Some(json!({ "email": "{email}", "password": PASSWORD })),
        )
        .on(Target::Member)
        .by(Who::Anonymous)
        // A wrong password is the input sign-in refuses: 401, one row.
        .invalid(Invalid {
            body: json!({ "email": "{email}", "password": wrong_password }),
            status: S::UNAUTHORIZED,
            field: None,
            audit: &["LOGIN_FAILED"],
        })
        .ok(S::OK, "LOGIN", ("session", Any))
        .actor(Actor::Member)
        // Isolation: an email names one account on the whole instance.
        .isolation(Isolation::NotApplicable),
        Case::new("sessions::sign_out", Method::POST, "/api/v1/auth/logout", None)
            .on(Target::Member)
            .by(Who::Owner)
            .refuses(Refusal::Anonymous)
            // Logout ends a browser session; a token is revoked instead.
            .refuses(Refusal::Bearer(S::BAD_REQUEST))
            .ok(S::NO_CONTENT, "LOGOUT", ("session", Any))
            // Isolation: it ends the caller's own session.
            .isolation(Isolation::NotApplicable),
        Case::new("sessions::sign_out_everywhere", Method::POST, "/api/v1/auth/logout-all", None)
            .on(Target::Member)
            .by(Who::Owner)
            .refuses(Refusal::Anonymous)
            .invalid(field_error(json!({ "revoke": 1 }), "revoke"))
            .ok(S::NO_CONTENT, "LOGOUT_ALL", ("user", Named))
            // Isolation: it ends the caller's own sessions.
            .isolation(Isolation::NotApplicable),
        Case::new(
            "password_resets::request_link",
            Method::POST,
            "/api/v1/auth/password-reset",
            Some(json!({ "email": "{email}" })),
        )
        .on(Target::Member)
        .by(Who::Anonymous)
        // No address is refused (the answer must not tell who has an
        // account); an unknown one writes nothing of any team's.
        .invalid(Invalid {
            body: json!({ "email": "nobody@example.com" }),
            status: S::ACCEPTED,
            field: None,
            audit: &[],
        })
        .ok(S::ACCEPTED, "PASSWORD_RESET_REQUESTED", ("user", Named))
        .actor(Actor::Anonymous)
        // Isolation: an email names one account on the whole instance.
        .isolation(Isolation::NotApplicable),
        Case::new(
            "password_resets::confirm",
            Method::POST,
            "/api/v1/auth/password-reset/confirm",
            Some(json!({ "token": "{secret}", "new_password": NEW_PASSWORD })),
        )
        .on(Target::ResetLink)
        .by(Who::Anonymous)
        .invalid(field_error(json!({ "token": "{secret}", "new_password": "short" }), "new_password"))
        .invalid(field_error(json!({ "token": "not-a-reset-token", "new_password": NEW_PASSWORD }), "token"))
        .ok(S::NO_CONTENT, "PASSWORD_RESET", ("user", Named))
        .actor(Actor::Member)
        // Isolation: the link names its account.
        .isolation(Isolation::NotApplicable),
        Case::new(
            "registration::accept_invitation",
            Method::POST,
            "/api/v1/auth/register",
            Some(json!({ "token": "{secret}", "name": "New Member", "password": PASSWORD })),
        )
        .on(Target::Invitation)
        .by(Who::Anonymous)
        .invalid(field_error(json!({ "token": "{secret}", "name": "New Member", "password": "short" }), "password"))
        .invalid(field_error(
            json!({ "token": "not-an-invitation", "name": "New Member", "password": PASSWORD }),
            "token",
        ))
        .ok(S::CREATED, "INVITATION_ACCEPTED", ("user", Any))
        .actor(Actor::Member)
        // Isolation: the invitation names its team; B's records are checked unchanged.
        .isolation(Isolation::NotApplicable),
    ]
}

#[tokio::test]
async fn team_services_check_permission_validation_audit_and_isolation() {
    let w = World::build().await;
    for case in team_services() {
        check(&w, &case).await;
    }
    w.everyone_still_signed_in("the team services").await;
    session_lifetime(&w).await;
}

#[tokio::test]
async fn own_account_and_sign_in_services_check_permission_validation_audit_and_isolation() {
    let w = World::build().await;
    for case in own_account_services() {
        check(&w, &case).await;
        // These end and change credentials: only the caller's own.
        w.everyone_still_signed_in(case.service).await;
    }
}

/// `team::set_session_lifetime` has no JSON route (the settings page is
/// its adapter): called directly, with each role's principal.
async fn session_lifetime(w: &World) {
    let app = &w.app;
    let name = "team::set_session_lifetime";
    let principal = |email: &'static str| async move {
        let user = users::find_for_sign_in(app.db.conn(), email).await.expect("query").expect("user").user;
        Principal { user, credential: Credential::Session(Uuid::now_v7()) }
    };
    let context = RequestContext::default();
    let maximum = app.config.session_ttl.as_secs();
    let chosen = maximum / 2;
    let a_before = snapshot(app, A_ADMIN).await;
    let a_log = &w.a_log;
    a_log.new_rows(app).await;

    // Isolation: team B's ADMIN changes B's lifetime only.
    let b_log = Log::open(app, &w.b).await;
    let b_team = team::set_session_lifetime(&app.state, &principal(B_ADMIN).await, &context, chosen)
        .await
        .unwrap_or_else(|e| panic!("{name}: team B on its own team: {e:?}"));
    assert_eq!(b_team.session_ttl_seconds, Some(i64::try_from(chosen).expect("seconds")));
    assert_eq!(actions(&b_log.new_rows(app).await), ["SETTINGS_CHANGED"], "{name}: team B's own log");
    assert_eq!(snapshot(app, A_ADMIN).await, a_before, "{name}: team B's change reached team A");
    assert_eq!(actions(&a_log.new_rows(app).await), Vec::<&str>::new(), "{name}: team B's change in A's log");

    // Permission, from the policy table.
    for role in ROLES.into_iter().filter(|role| !role.allows(Action::ManageTeam)) {
        let refused = team::set_session_lifetime(&app.state, &principal(email(role)).await, &context, chosen).await;
        assert!(matches!(refused, Err(ServiceError::NotAllowed(_))), "{name}: {role:?}: {refused:?}");
        assert_eq!(snapshot(app, A_ADMIN).await, a_before, "{name}: {role:?}'s refused call wrote");
        let rows = a_log.new_rows(app).await;
        assert_eq!(actions(&rows), ["PERMISSION_DENIED"], "{name}: {role:?}");
        assert_eq!(rows[0]["details"]["action"], Action::ManageTeam.name(), "{name}: {rows:?}");
        assert_eq!(actor(&rows[0]), email(role), "{name}: {rows:?}");
    }

    // Validation.
    let admin = principal(A_ADMIN).await;
    for seconds in [0, 59, maximum + 1] {
        let invalid = team::set_session_lifetime(&app.state, &admin, &context, seconds).await;
        match invalid {
            Err(ServiceError::Invalid(errors)) => {
                assert!(errors.0.iter().any(|e| e.field == "session_ttl"), "{name}: {seconds}s: {errors:?}");
            }
            other => panic!("{name}: {seconds}s is refused as invalid, got {other:?}"),
        }
        assert_eq!(snapshot(app, A_ADMIN).await, a_before, "{name}: {seconds}s wrote");
        assert_eq!(actions(&a_log.new_rows(app).await), Vec::<&str>::new(), "{name}: {seconds}s audit rows");
    }

    // Success and its row.
    let after = team::set_session_lifetime(&app.state, &admin, &context, chosen).await.expect("the ADMIN may");
    assert_eq!(after.session_ttl_seconds, Some(i64::try_from(chosen).expect("seconds")), "{name}");
    assert_ne!(snapshot(app, A_ADMIN).await, a_before, "{name}: nothing changed");
    let rows = a_log.new_rows(app).await;
    assert_eq!(actions(&rows), ["SETTINGS_CHANGED"], "{name}: {rows:?}");
    assert_eq!(actor(&rows[0]), A_ADMIN, "{name}: {rows:?}");
    assert_eq!(rows[0]["entity_type"], "team", "{name}: {rows:?}");
    assert_eq!(rows[0]["entity_id"], w.scope.team_id().to_string(), "{name}: {rows:?}");
    assert_eq!(a_log.newest(app, "SETTINGS_CHANGED").await["id"], rows[0]["id"], "{name}: ?action= filter");
}

/// `accounts::first_run_setup` and `registration::register` without an
/// invitation: the services that make a team. Neither has a role to
/// refuse: setup is refused once anyone exists, tokenless registration
/// unless the operator opened it.
#[tokio::test]
async fn account_creation_services_check_refusal_validation_audit_and_isolation() {
    fn setup(team: &str, email: &str, password: &str) -> Value {
        json!({ "team_name": team, "name": "Ada Admin", "email": email, "password": password })
    }
    // Invite-only (the default).
    let app = TestApp::spawn().await;
    let count = async |app: &TestApp| {
        let teams = vulntrack_store::operator::teams(app.db.conn()).await.expect("teams").len();
        let users = users::count_all(app.db.conn()).await.expect("users");
        (teams, users)
    };

    for (body, field) in
        [(setup("Blue Team", "not an address", PASSWORD), "email"), (setup("Blue Team", A_ADMIN, "short"), "password")]
    {
        let invalid = app.post("/api/v1/setup", As::Anonymous, body).await;
        assert_problem(&format!("accounts::first_run_setup: invalid {field}"), &invalid, S::UNPROCESSABLE_ENTITY);
        assert!(error_fields(&invalid.body).contains(&field), "first_run_setup names {field}: {invalid:?}");
        assert_eq!(count(&app).await, (0, 0), "first_run_setup: the invalid setup wrote");
    }
    app.setup_admin("Blue Team", A_ADMIN).await;
    let admin = app.login(A_ADMIN, PASSWORD).await;
    let setup_row = Log::from_start(&admin).new_rows(&app).await;
    assert_eq!(actions(&setup_row), ["SETUP_COMPLETED", "LOGIN"], "first_run_setup: exactly one row");
    assert_eq!(actor(&setup_row[0]), A_ADMIN);
    assert_eq!(setup_row[0]["entity_type"], "user");
    let filtered = app.get_as("/api/v1/audit-logs?action=SETUP_COMPLETED", As::Cookie(&admin)).await;
    assert_eq!(filtered.body["items"].as_array().map(Vec::len), Some(1), "first_run_setup: {filtered:?}");

    let a_before = snapshot(&app, A_ADMIN).await;
    let a_log = Log::open(&app, &admin).await;
    // A second setup cannot make a second team or take over the first.
    let again = app.post("/api/v1/setup", As::Anonymous, setup("Blue Team", "mallory@example.com", PASSWORD)).await;
    assert_problem("accounts::first_run_setup: again", &again, S::CONFLICT);
    // Nor can anyone sign up without an invitation.
    let stranger =
        json!({ "team_name": "Green Team", "name": "Gus Green", "email": "green@example.com", "password": PASSWORD });
    let closed = app.post("/api/v1/auth/register", As::Anonymous, stranger.clone()).await;
    assert_problem("registration::register: invite-only", &closed, S::FORBIDDEN);
    assert_eq!(count(&app).await, (1, 1), "refused setup and sign-up wrote nothing");
    assert_eq!(snapshot(&app, A_ADMIN).await, a_before, "refused setup and sign-up changed team A");
    assert_eq!(actions(&a_log.new_rows(&app).await), Vec::<&str>::new(), "refused setup and sign-up");

    // Open registration: each sign-up makes a team of its own.
    let open = TestApp::spawn_with(|c| c.registration = Registration::Open).await;
    open.setup_admin("Blue Team", A_ADMIN).await;
    let admin = open.login(A_ADMIN, PASSWORD).await;
    let a_before = snapshot(&open, A_ADMIN).await;
    let a_log = Log::open(&open, &admin).await;
    let with = |key: &str, value: &str| {
        let mut body = stranger.clone();
        body[key] = json!(value);
        body
    };
    for (body, field) in [
        (with("email", "not an address"), "email"),
        (with("password", "short"), "password"),
        (with("team_name", " "), "team_name"),
        (with("email", A_ADMIN), "email"),
    ] {
        let invalid = open.post("/api/v1/auth/register", As::Anonymous, body.clone()).await;
        let step = format!("registration::register (open): invalid {body}");
        assert_problem(&step, &invalid, S::UNPROCESSABLE_ENTITY);
        assert!(error_fields(&invalid.body).contains(&field), "{step}: names {field}: {invalid:?}");
        assert_eq!(count(&open).await, (1, 1), "{step}: wrote");
    }
    let registered = open.post("/api/v1/auth/register", As::Anonymous, stranger.clone()).await;
    assert_eq!(registered.status, S::CREATED, "registration::register (open): {registered:?}");
    assert_eq!(registered.body["user"]["role"], "ADMIN", "the new team's first member is its ADMIN");
    assert_eq!(count(&open).await, (2, 2));
    assert_eq!(snapshot(&open, A_ADMIN).await, a_before, "registration::register (open) changed team A");
    assert_eq!(actions(&a_log.new_rows(&open).await), Vec::<&str>::new(), "the sign-up is not in A's log");
    let green = open.login("green@example.com", PASSWORD).await;
    let rows = Log::from_start(&green).new_rows(&open).await;
    assert_eq!(actions(&rows), ["USER_REGISTERED", "LOGIN"], "registration::register (open): its own log");
    assert_eq!(actor(&rows[0]), "green@example.com");
    assert_eq!(rows[0]["entity_type"], "user");
    assert_eq!(rows[0]["entity_id"], registered.body["user"]["id"]);
    let filtered = open.get_as("/api/v1/audit-logs?action=USER_REGISTERED", As::Cookie(&green)).await;
    assert_eq!(filtered.body["items"].as_array().map(Vec::len), Some(1), "{filtered:?}");
    let members = open.get_as("/api/v1/users", As::Cookie(&green)).await;
    let emails: Vec<&str> =
        members.body["items"].as_array().expect("items").iter().filter_map(|u| u["email"].as_str()).collect();
    assert_eq!(emails, ["green@example.com"], "the new team sees only itself");
}

// ---------------------------------------------------------------------------
// Regressions for defects these tables turned up (every refusal audited;
// deactivation voids reset links).
// ---------------------------------------------------------------------------

/// `ServiceError::NotAllowed` is documented as "already audited", and the
/// services issue asks a `PERMISSION_DENIED` row of every refusal; two
/// services refuse for reasons of their own without writing one.
#[tokio::test]
async fn every_refusal_leaves_a_permission_denied_row() {
    let w = World::build().await;
    let app = &w.app;
    let vulnerability = w.vulnerability(1).await;
    let comment = w.comment(&vulnerability, &w.analyst).await;
    let token = w.token(&w.analyst, "ci").await.body["token"].as_str().expect("token").to_string();
    w.a_log.new_rows(app).await;
    for (what, by) in [("comments::edit of another's comment", A_ADMIN), ("tokens::create_own with a token", A_ANALYST)]
    {
        let response = if by == A_ADMIN {
            let path = format!("/api/v1/comments/{comment}");
            app.patch(&path, As::Cookie(&w.admin), json!({ "body": "Not mine." })).await
        } else {
            app.post("/api/v1/tokens", As::Bearer(&token), json!({ "name": "successor" })).await
        };
        assert_problem(what, &response, StatusCode::FORBIDDEN);
        let rows = w.a_log.new_rows(app).await;
        assert_eq!(actions(&rows), ["PERMISSION_DENIED"], "{what}: the refusal is audited");
        assert_eq!(actor(&rows[0]), by, "{what}: {rows:?}");
    }
}

/// Deactivation ends a member's sessions and tokens "for good", and a new
/// password ends every reset link; but a reset link issued before the
/// deactivation still sets the deactivated account's password, which then
/// works as soon as the account is reactivated.
#[tokio::test]
async fn deactivation_ends_outstanding_reset_links() {
    let w = World::build().await;
    let app = &w.app;
    let (id, email) = w.member(1, Role::Viewer).await;
    let link =
        app.send(Method::POST, &format!("/api/v1/users/{id}/password-reset"), As::Cookie(&w.admin), None, &[]).await;
    assert_eq!(link.status, StatusCode::CREATED, "{link:?}");
    let secret = token_of(link.body["reset_url"].as_str().expect("reset_url"));
    let member = format!("/api/v1/users/{id}");
    let deactivated = app.patch(&member, As::Cookie(&w.admin), json!({ "status": "INACTIVE" })).await;
    assert_eq!(deactivated.status, StatusCode::OK, "{deactivated:?}");
    w.a_log.new_rows(app).await;

    let confirm = app
        .post(
            "/api/v1/auth/password-reset/confirm",
            As::Anonymous,
            json!({ "token": secret, "new_password": NEW_PASSWORD }),
        )
        .await;
    assert_problem("confirm after deactivation", &confirm, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(error_fields(&confirm.body).contains(&"token"), "{confirm:?}");
    assert_eq!(actions(&w.a_log.new_rows(app).await), Vec::<&str>::new(), "no PASSWORD_RESET");
    let reactivated = app.patch(&member, As::Cookie(&w.admin), json!({ "status": "ACTIVE" })).await;
    assert_eq!(reactivated.status, StatusCode::OK, "{reactivated:?}");
    let login =
        app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": email, "password": NEW_PASSWORD })).await;
    assert_eq!(login.status, StatusCode::UNAUTHORIZED, "the old link set no password: {login:?}");
}
