//! A person's own copy of their data (`GET /api/v1/me/export`, linked from
//! the account page): everything the product holds about them, nothing of
//! anyone else, no secret, and the export audited.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::support::{As, PASSWORD, TestApp};

const ADMIN: &str = "admin@example.com";
const ANALYST: &str = "analyst@example.com";

#[tokio::test]
async fn a_person_downloads_everything_held_about_them_and_nothing_else() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, ANALYST, "ANALYST").await;
    let analyst_id = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].clone();
    let token = app.post("/api/v1/tokens", As::Cookie(&analyst), json!({ "name": "CI script" })).await;
    assert_eq!(token.status, StatusCode::CREATED, "{token:?}");
    let secret = token.body["token"].as_str().expect("the token, shown once").to_owned();
    let mine = app
        .post(
            "/api/v1/vulnerabilities",
            As::Cookie(&analyst),
            json!({ "title": "Reported by the analyst", "description": "Found in the review.", "severity": "LOW" }),
        )
        .await;
    let theirs = app
        .post(
            "/api/v1/vulnerabilities",
            As::Cookie(&admin),
            json!({ "title": "Given to the analyst", "description": "Found in the pentest.", "severity": "HIGH", "assignee_id": analyst_id }),
        )
        .await;
    let key = theirs.body["key"].as_str().unwrap_or_else(|| panic!("{theirs:?}")).to_owned();
    let comment = app
        .post(&format!("/api/v1/vulnerabilities/{key}/comments"), As::Cookie(&analyst), json!({ "body": "On it." }))
        .await;
    assert_eq!(comment.status, StatusCode::CREATED);
    app.post(
        "/api/v1/vulnerabilities",
        As::Cookie(&admin),
        json!({ "title": "The admin's own", "description": "Found by the admin.", "severity": "MEDIUM" }),
    )
    .await;

    assert_eq!(app.get("/api/v1/me/export").await.status, StatusCode::UNAUTHORIZED);
    let export = app.get_as("/api/v1/me/export", As::Bearer(&secret)).await;
    assert_eq!(export.status, StatusCode::OK, "{export:?}");
    let disposition = export.headers.get("content-disposition").and_then(|v| v.to_str().ok()).unwrap_or_default();
    assert!(disposition.starts_with("attachment"), "{disposition}");
    let data = &export.body;
    assert_eq!(data["format"], "vulntrack-personal-data/1");
    assert_eq!(data["profile"]["email"], ANALYST);
    let sessions = data["sessions"].as_array().expect("sessions");
    assert!(!sessions.is_empty() && sessions.iter().all(|s| s.get("ip").is_some() && s.get("user_agent").is_some()));
    assert_eq!(data["api_tokens"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["api_tokens"][0]["name"], "CI script");
    assert_eq!(data["comments"].as_array().map(Vec::len), Some(1));
    assert_eq!(data["comments"][0]["body"], "On it.");
    let keys = |list: &Value| -> Vec<String> {
        list.as_array().expect("list").iter().map(|r| r["key"].as_str().expect("key").to_owned()).collect()
    };
    assert_eq!(keys(&data["records"]["reported"]), [mine.body["key"].as_str().expect("key")]);
    assert_eq!(keys(&data["records"]["assigned"]), [key.as_str()]);
    let kinds: Vec<&str> =
        data["notifications"].as_array().expect("notifications").iter().filter_map(|n| n["kind"].as_str()).collect();
    assert!(kinds.contains(&"ASSIGNED"), "{kinds:?}");
    let audit = data["audit_log"].as_array().expect("audit");
    assert!(audit.iter().any(|r| r["action"] == "VULNERABILITY_CREATED"), "{audit:?}");
    assert!(audit.iter().any(|r| r["action"] == "COMMENT_ADDED"), "{audit:?}");
    assert!(audit.iter().all(|r| r["actor_email"] == ANALYST), "only their own rows: {audit:?}");
    // No secret, and nobody else's data.
    let text = data.to_string();
    use sea_orm::ConnectionTrait;
    let backend = app.db.conn().get_database_backend();
    let hash_of = |email: &str| {
        let sql = format!(
            "SELECT password_hash, (SELECT token_hash FROM api_tokens LIMIT 1) FROM users WHERE email = '{email}'"
        );
        sea_orm::Statement::from_string(backend, sql)
    };
    let row = app.db.conn().query_one_raw(hash_of(ANALYST)).await.expect("query").expect("the analyst");
    let (password_hash, token_hash): (String, String) =
        (row.try_get_by_index(0).expect("hash"), row.try_get_by_index(1).expect("token hash"));
    for absent in [secret.as_str(), password_hash.as_str(), token_hash.as_str(), ADMIN, "The admin's own"] {
        assert!(!text.contains(absent), "{absent:?} is in the export");
    }

    // The export is audited, and the account page links to it.
    let logged = app.get_as("/api/v1/audit-logs?action=PERSONAL_DATA_EXPORTED", As::Cookie(&admin)).await;
    let rows = logged.body["items"].as_array().expect("items");
    assert_eq!(rows.len(), 1, "{rows:?}");
    assert_eq!(rows[0]["actor"]["email"], ANALYST);
    assert_eq!(rows[0]["details"]["comments"], 1);
    let page = app.get_as("/account", As::Cookie(&analyst)).await;
    assert!(page.body.as_str().is_some_and(|html| html.contains(r#"href="/api/v1/me/export""#)));
}

const ZED: &str = "zed.erasable@example.com";
const ZED_NAME: &str = "Zed Quux-Erasable";
const ZED_AGENT: &str = "ZedBrowser/7.7 (erasure test)";

/// Every table's every row as text, one string per table.
async fn every_table(app: &TestApp) -> Vec<(String, String)> {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let db = app.db.conn();
    let backend = db.get_database_backend();
    let text =
        |row: &sea_orm::QueryResult| row.try_get_by_index::<Option<String>>(0).expect("text").unwrap_or_default();
    let tables_sql = match backend {
        DbBackend::Postgres => {
            "SELECT table_name::text FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
        }
        _ => "SELECT name FROM sqlite_master WHERE type = 'table'",
    };
    let tables: Vec<String> =
        db.query_all_raw(Statement::from_string(backend, tables_sql)).await.expect("tables").iter().map(text).collect();
    assert!(tables.len() > 20, "{tables:?}");
    let mut out = Vec::new();
    for table in tables {
        let sql = match backend {
            DbBackend::Postgres => format!("SELECT t::text FROM \"{table}\" AS t"),
            _ => {
                let columns: Vec<String> = db
                    .query_all_raw(Statement::from_string(
                        backend,
                        format!("SELECT name FROM pragma_table_info('{table}')"),
                    ))
                    .await
                    .expect("columns")
                    .iter()
                    .map(text)
                    .collect();
                // As bytes: FTS index tables hold binary pages.
                let cells: Vec<String> =
                    columns.iter().map(|c| format!("COALESCE(CAST(\"{c}\" AS BLOB), X'')")).collect();
                format!("SELECT CAST({} AS BLOB) FROM \"{table}\"", cells.join(" || X'7C' || "))
            }
        };
        let rows = db.query_all_raw(Statement::from_string(backend, sql)).await.expect("rows");
        let read = |row: &sea_orm::QueryResult| match backend {
            DbBackend::Postgres => text(row),
            _ => {
                String::from_utf8_lossy(&row.try_get_by_index::<Option<Vec<u8>>>(0).expect("bytes").unwrap_or_default())
                    .into_owned()
            }
        };
        out.push((table, rows.iter().map(read).collect::<Vec<_>>().join("\n")));
    }
    out
}

/// Acceptance 3 of issue 18: after an ADMIN deletes a member, none of the
/// member's personal values is left in any table, the audit chains still
/// verify, and what they wrote stays, shown as a deleted user's.
#[tokio::test]
async fn a_deleted_member_leaves_no_personal_value_in_any_table_and_the_audit_log_still_verifies() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let invite = app.post("/api/v1/invitations", As::Cookie(&admin), json!({ "email": ZED, "role": "ANALYST" })).await;
    let token = crate::support::token_of(invite.body["invite_url"].as_str().expect("invite_url"));
    let joined = app
        .post(
            "/api/v1/auth/register",
            As::Anonymous,
            json!({ "token": token, "name": "Zed Formerly-Named", "password": PASSWORD }),
        )
        .await;
    assert_eq!(joined.status, StatusCode::CREATED, "{joined:?}");
    let agent = [("user-agent", ZED_AGENT)];
    let sign_in = |password: &'static str| {
        app.send(
            axum::http::Method::POST,
            "/api/v1/auth/login",
            As::Anonymous,
            Some(json!({ "email": ZED, "password": password })),
            &agent,
        )
    };
    assert_eq!(sign_in("not the password at all").await.status, StatusCode::UNAUTHORIZED);
    let zed = sign_in(PASSWORD).await.cookie();
    let me = app.get_as("/api/v1/me", As::Cookie(&zed)).await;
    let zed_id = me.body["id"].as_str().expect("id").to_owned();
    let profile = json!({ "name": ZED_NAME, "phone": "+44 7700 900461", "job_title": "Chief Erasure Officer",
                          "department": "Department of Forgetting", "bio": "Collects antique padlocks and rare typefaces" });
    let changed =
        app.send(axum::http::Method::PATCH, "/api/v1/me", As::Cookie(&zed), Some(profile.clone()), &agent).await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    let secret = app.post("/api/v1/tokens", As::Cookie(&zed), json!({ "name": "Zed's script" })).await.body["token"]
        .as_str()
        .expect("token")
        .to_owned();
    let record = app
        .send(
            axum::http::Method::POST,
            "/api/v1/vulnerabilities",
            As::Cookie(&zed),
            Some(json!({ "title": "Found by Zed", "description": "Reported before leaving.", "severity": "HIGH" })),
            &agent,
        )
        .await;
    let key = record.body["key"].as_str().expect("key").to_owned();
    let comment = app
        .post(
            &format!("/api/v1/vulnerabilities/{key}/comments"),
            As::Cookie(&zed),
            json!({ "body": "Fix is in review." }),
        )
        .await;
    assert_eq!(comment.status, StatusCode::CREATED);
    let assigned = app
        .post("/api/v1/vulnerabilities", As::Cookie(&admin), json!({ "title": "For Zed", "description": "Please look at it.", "severity": "LOW", "assignee_id": zed_id }))
        .await;
    assert_eq!(assigned.status, StatusCode::CREATED);

    let personal: Vec<String> = [ZED, ZED_NAME, "Zed Formerly-Named", ZED_AGENT, secret.as_str()]
        .into_iter()
        .map(str::to_owned)
        .chain(
            ["phone", "job_title", "department", "bio"].iter().map(|k| profile[k].as_str().expect("value").to_owned()),
        )
        .collect();
    let before = every_table(&app).await;
    for value in [ZED, ZED_NAME, ZED_AGENT, "Chief Erasure Officer"] {
        assert!(before.iter().any(|(_, text)| text.contains(value)), "the scan finds {value:?} before the erasure");
    }

    let deleted = app.delete(&format!("/api/v1/users/{zed_id}"), As::Cookie(&admin)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");

    let mut found = Vec::new();
    for (table, text) in every_table(&app).await {
        for value in &personal {
            if text.contains(value.as_str()) {
                found.push(format!("{value:?} in {table}"));
            }
        }
    }
    assert!(found.is_empty(), "personal values left after the erasure: {found:?}");
    let team = {
        let me = app.get_as("/api/v1/me", As::Cookie(&admin)).await;
        vulntrack_domain::TeamId::from_uuid(me.body["team_id"].as_str().expect("team").parse().expect("uuid"))
    };
    for chain in [Some(team), None] {
        let verified = vulntrack_store::operator::verify_audit_chain(app.db.conn(), chain).await.expect("verify");
        assert!(verified.is_ok(), "{chain:?}: {verified:?}");
    }
    // What Zed wrote stays, by "Deleted user #1".
    let page = crate::web::page(&app, &format!("/vulnerabilities/{key}"), &admin).await;
    let html = crate::web::html(&page);
    assert!(html.contains("Found by Zed") && html.contains("Fix is in review."), "the record and comment stay");
    assert!(html.contains("Deleted user #1"), "attributed to the deleted user");
    let log = app.get_as("/api/v1/audit-logs?action=USER_DELETED", As::Cookie(&admin)).await;
    assert_eq!(log.body["items"][0]["details"]["name"], "Deleted user #1", "{log:?}");
    let again = app.post("/api/v1/auth/login", As::Anonymous, json!({ "email": ZED, "password": PASSWORD })).await;
    assert_eq!(again.status, StatusCode::UNAUTHORIZED, "{again:?}");
    assert_eq!(app.get_as("/api/v1/me", As::Bearer(&secret)).await.status, StatusCode::UNAUTHORIZED);
}

/// A member deletes their own account with their password; the last
/// ADMIN cannot.
#[tokio::test]
async fn a_member_deletes_their_own_account_with_their_password_and_the_last_admin_cannot() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, ANALYST, "ANALYST").await;
    let wrong = app
        .send(axum::http::Method::DELETE, "/api/v1/me", As::Cookie(&analyst), Some(json!({ "password": "guess" })), &[])
        .await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY, "{wrong:?}");
    assert_eq!(wrong.body["errors"][0]["field"], "password");
    let last = app
        .send(axum::http::Method::DELETE, "/api/v1/me", As::Cookie(&admin), Some(json!({ "password": PASSWORD })), &[])
        .await;
    assert_eq!(last.status, StatusCode::CONFLICT, "{last:?}");
    let gone = app
        .send(
            axum::http::Method::DELETE,
            "/api/v1/me",
            As::Cookie(&analyst),
            Some(json!({ "password": PASSWORD })),
            &[],
        )
        .await;
    assert_eq!(gone.status, StatusCode::NO_CONTENT, "{gone:?}");
    assert_eq!(app.get_as("/api/v1/me", As::Cookie(&analyst)).await.status, StatusCode::UNAUTHORIZED);
    let users = app.get_as("/api/v1/users", As::Cookie(&admin)).await;
    assert!(!users.body.to_string().contains(ANALYST), "{users:?}");
    let log = app.get_as("/api/v1/audit-logs?action=USER_DELETED", As::Cookie(&admin)).await;
    let row = &log.body["items"][0];
    assert_eq!(row["details"]["by_themselves"], true, "{log:?}");
    assert!(!log.body.to_string().contains(ANALYST), "the row names nobody: {log:?}");
}

/// Rewrites the team's chain as the first format wrote it (personal fields
/// hashed in clear), as a database from before migration 33 holds it.
async fn as_first_format(app: &TestApp, scope_team: vulntrack_domain::TeamId) {
    use sea_orm::{ConnectionTrait, DbBackend, Statement};
    let key = vulntrack_store::audit::ChainKey::derive(crate::support::TEST_SECRET.as_bytes());
    let db = app.db.conn();
    let backend = db.get_database_backend();
    if backend == DbBackend::Postgres {
        db.execute_unprepared("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").await.expect("disable");
    }
    let rows = vulntrack_store::operator::audit_rows(db, Some(scope_team)).await.expect("rows");
    let mut prev = vulntrack_store::audit::GENESIS_HASH.to_owned();
    for mut row in rows {
        row.personal_digest = None;
        row.personal_salt = None;
        row.prev_hash = prev;
        row.hash = row.compute_hash(Some(&key));
        prev = row.hash.clone();
        let sql = match backend {
            DbBackend::Postgres => {
                "UPDATE audit_log SET personal_digest = NULL, personal_salt = NULL, prev_hash = $1, hash = $2 WHERE id = $3"
            }
            _ => {
                "UPDATE audit_log SET personal_digest = NULL, personal_salt = NULL, prev_hash = ?, hash = ? WHERE id = ?"
            }
        };
        db.execute_raw(Statement::from_sql_and_values(
            backend,
            sql,
            [row.prev_hash.clone().into(), row.hash.clone().into(), row.id.into()],
        ))
        .await
        .expect("rewrite");
    }
    if backend == DbBackend::Postgres {
        db.execute_unprepared("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only").await.expect("enable");
    }
}

/// Migration 33: chains written before it are sealed and hashed again, and
/// still verify; a chain broken before the upgrade is refused, not laundered.
#[tokio::test]
async fn chains_of_the_first_format_are_sealed_by_the_upgrade_and_still_verify() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    app.add_member(&admin, ANALYST, "ANALYST").await;
    let me = app.get_as("/api/v1/me", As::Cookie(&admin)).await;
    let team = vulntrack_domain::TeamId::from_uuid(me.body["team_id"].as_str().expect("team").parse().expect("uuid"));
    as_first_format(&app, team).await;
    let verify =
        async || vulntrack_store::operator::verify_audit_chain(app.db.conn(), Some(team)).await.expect("verify");
    let rows = verify().await.expect("the first format verifies as it is");
    assert!(rows >= 4, "{rows}");

    let txn = app.db.begin().await.expect("txn");
    let sealed = vulntrack_store::audit::upgrade_chains(&txn).await.expect("upgrade");
    txn.commit().await.expect("commit");
    assert_eq!(sealed, rows, "every row of the first format is sealed");
    assert_eq!(verify().await, Ok(rows + 1), "the upgraded chain verifies, with the upgrade's own row");
    let log = app.get_as("/api/v1/audit-logs?action=AUDIT_CHAIN_UPGRADED", As::Cookie(&admin)).await;
    assert_eq!(log.body["items"][0]["details"]["rows_sealed"], rows, "{log:?}");
    assert_eq!(log.body["items"][0]["details"]["previous_head"]["seq"], rows);
    // Erasure works on the upgraded chain.
    let analyst = app.get_as("/api/v1/users", As::Cookie(&admin)).await.body["items"]
        .as_array()
        .expect("members")
        .iter()
        .find(|m| m["email"] == ANALYST)
        .and_then(|m| m["id"].as_str())
        .expect("analyst")
        .to_owned();
    assert_eq!(
        app.delete(&format!("/api/v1/users/{analyst}"), As::Cookie(&admin)).await.status,
        StatusCode::NO_CONTENT
    );
    assert!(verify().await.is_ok());

    // A chain altered before the upgrade stops it.
    as_first_format(&app, team).await;
    use sea_orm::ConnectionTrait;
    let db = app.db.conn();
    let postgres = db.get_database_backend() == sea_orm::DbBackend::Postgres;
    if postgres {
        db.execute_unprepared("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only").await.expect("disable");
    }
    db.execute_unprepared("UPDATE audit_log SET action = 'LOGOUT' WHERE seq = 2").await.expect("tamper");
    if postgres {
        db.execute_unprepared("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only").await.expect("enable");
    }
    let txn = app.db.begin().await.expect("txn");
    let refused = vulntrack_store::audit::upgrade_chains(&txn).await;
    assert!(refused.as_ref().is_err_and(|e| e.to_string().contains("broken at seq 2")), "{refused:?}");
}

/// The account page's "Delete your account" form: a wrong password is a
/// form message, the right one signs out to the sign-in page.
#[tokio::test]
async fn the_account_page_deletes_the_account_with_the_password() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, ANALYST, "ANALYST").await;
    let page = crate::web::page(&app, "/account", &analyst).await;
    assert!(crate::web::html(&page).contains(r#"action="/account/delete""#));
    let wrong = crate::web::post_form(&app, "/account/delete", Some(&analyst), &[("password", "not it")]).await;
    assert_eq!(wrong.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(crate::web::html(&wrong).contains("is not your password"), "the form says why");
    assert_eq!(app.get_as("/api/v1/me", As::Cookie(&analyst)).await.status, StatusCode::OK, "nothing deleted");
    let done = crate::web::post_form(&app, "/account/delete", Some(&analyst), &[("password", PASSWORD)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{done:?}");
    assert_eq!(crate::web::location(&done), "/login");
    assert!(done.set_cookies().iter().any(|c| c.contains("Max-Age=0") || c.contains("max-age=0")), "{done:?}");
    assert_eq!(app.get_as("/api/v1/me", As::Cookie(&analyst)).await.status, StatusCode::UNAUTHORIZED);
    // The last ADMIN is told why not.
    let last = crate::web::post_form(&app, "/account/delete", Some(&admin), &[("password", PASSWORD)]).await;
    assert!(crate::web::html(&last).contains("last active administrator"), "the last ADMIN is told why");
}

async fn count(app: &TestApp, sql: &str) -> i64 {
    use sea_orm::ConnectionTrait;
    let backend = app.db.conn().get_database_backend();
    let row = app.db.conn().query_one_raw(sea_orm::Statement::from_string(backend, sql)).await.expect("count");
    row.expect("a row").try_get_by_index::<i64>(0).expect("a number")
}

/// Acceptance 4 of issue 18: a team's retention policy (ADMIN), purged by
/// the daily job: what it no longer keeps is gone, the audit chain still
/// verifies from its signed checkpoint, and the purge is audited.
#[tokio::test]
async fn a_retention_purge_removes_what_the_policy_no_longer_keeps_and_the_audit_log_still_verifies() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, ANALYST, "ANALYST").await;
    let analyst_id = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].clone();
    let team = {
        let me = app.get_as("/api/v1/me", As::Cookie(&admin)).await;
        vulntrack_domain::TeamId::from_uuid(me.body["team_id"].as_str().expect("team").parse().expect("uuid"))
    };

    // The policy: an ADMIN's, checked field by field.
    assert_eq!(app.get_as("/api/v1/team/retention", As::Cookie(&analyst)).await.status, StatusCode::FORBIDDEN);
    let shown = app.get_as("/api/v1/team/retention", As::Cookie(&admin)).await;
    assert_eq!(shown.body["effective"]["sessions_days"], 30, "{shown:?}");
    assert!(shown.body["effective"]["audit_days"].is_null(), "the audit log is kept for ever by default");
    let bad = app
        .patch("/api/v1/team/retention", As::Cookie(&admin), json!({ "audit_days": 30, "alerts_days": -1, "x": 1 }))
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    let fields: Vec<&str> =
        bad.body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    assert_eq!(fields.len(), 3, "{fields:?}");
    let set = app
        .patch("/api/v1/team/retention", As::Cookie(&admin), json!({ "audit_days": 365, "closed_findings_days": 400 }))
        .await;
    assert_eq!(set.status, StatusCode::OK, "{set:?}");
    assert_eq!(set.body["effective"]["audit_days"], 365);

    // What the purge should take: an ended session, a read notification,
    // a closed finding; and what it must leave: an open finding.
    let assigned = app
        .post("/api/v1/vulnerabilities", As::Cookie(&admin), json!({ "title": "Open and assigned", "description": "Stays open for ever.", "severity": "HIGH", "assignee_id": analyst_id }))
        .await;
    assert_eq!(assigned.status, StatusCode::CREATED);
    let closed = app
        .post("/api/v1/vulnerabilities", As::Cookie(&admin), json!({ "title": "Fixed long ago", "description": "Resolved and done.", "severity": "LOW", "status": "RESOLVED", "resolution": "FIXED" }))
        .await;
    assert_eq!(closed.status, StatusCode::CREATED, "{closed:?}");
    app.post("/api/v1/notifications/read-all", As::Cookie(&analyst), json!({})).await;
    assert_eq!(app.post("/api/v1/auth/logout", As::Cookie(&analyst), json!({})).await.status, StatusCode::NO_CONTENT);
    assert!(count(&app, "SELECT COUNT(*) FROM notifications WHERE read_at IS NOT NULL").await > 0);
    let audit_rows = vulntrack_store::operator::verify_audit_chain(app.db.conn(), Some(team))
        .await
        .expect("verify")
        .expect("intact");

    // 400 days on, the daily job purges.
    let later = chrono::Utc::now() + chrono::Duration::days(400);
    let ran = vulntrack::jobs::run_due(&app.state, "node-a", later).await.expect("jobs");
    assert!(ran.contains(&vulntrack::jobs::Job::RetentionPurge), "{ran:?}");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM sessions").await, 0, "ended and expired sessions");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM notifications WHERE read_at IS NOT NULL").await, 0);
    assert_eq!(count(&app, "SELECT COUNT(*) FROM vulnerabilities WHERE status = 'RESOLVED'").await, 0);
    assert_eq!(
        count(&app, "SELECT COUNT(*) FROM vulnerabilities WHERE status = 'OPEN'").await,
        1,
        "open findings stay"
    );
    let left = count(&app, "SELECT COUNT(*) FROM audit_log WHERE team_id IS NOT NULL").await;
    assert!(left <= 3, "the audit rows older than 365 days are gone ({left} of {audit_rows} left)");
    assert_eq!(count(&app, "SELECT COUNT(*) FROM audit_checkpoints").await, 1);
    let verified = vulntrack_store::operator::verify_audit_chain(app.db.conn(), Some(team)).await.expect("verify");
    assert!(verified.is_ok(), "the chain verifies from its checkpoint: {verified:?}");

    // The purge is audited, with what it removed.
    let admin = app.login(ADMIN, PASSWORD).await;
    let log = app.get_as("/api/v1/audit-logs?action=RETENTION_PURGED", As::Cookie(&admin)).await;
    let purged = &log.body["items"][0]["details"]["purged"];
    assert_eq!(purged["closed_findings"], 1, "{log:?}");
    assert!(purged["sessions"].as_u64() >= Some(2) && purged["notifications"].as_u64() >= Some(1), "{purged}");
    assert_eq!(purged["audit_rows"].as_i64(), Some(audit_rows as i64 - 1), "all but the head row: {purged}");

    // Rows outside a checkpoint cannot be deleted, and a forged checkpoint is caught.
    use sea_orm::ConnectionTrait;
    if app.test_db.backend() == vulntrack_store::Backend::Postgres {
        assert!(app.db.conn().execute_unprepared("DELETE FROM audit_log").await.is_err(), "no DELETE outside a purge");
        app.db.conn().execute_unprepared("SELECT set_config('vulntrack.audit_purge', 'on', false)").await.expect("set");
        assert!(
            app.db.conn().execute_unprepared("DELETE FROM audit_log").await.is_err(),
            "nor of rows no checkpoint covers"
        );
    }
    app.db.conn().execute_unprepared("UPDATE audit_checkpoints SET seq = seq - 1").await.expect("forge");
    let forged = vulntrack_store::operator::verify_audit_chain(app.db.conn(), Some(team)).await.expect("verify");
    assert!(forged.is_err(), "a changed checkpoint breaks verification: {forged:?}");
}
