//! Assets through the API: names typed on vulnerabilities resolve to asset
//! records, assets are managed by ANALYSTs and ADMINs, listed with their
//! open findings, filtered on, and kept to their team.

use axum::http::{Method, StatusCode};
use serde_json::{Value, json};

use crate::{
    support::{As, PASSWORD, TestApp, other_team_admin},
    vulnerabilities::{create, sample},
};

const ADMIN: &str = "admin@example.com";

fn names(body: &Value) -> Vec<String> {
    body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{body}"))
        .iter()
        .map(|a| a["name"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn audit_count(app: &TestApp, cookie: &str, action: &str) -> usize {
    let audit = app.get_as(&format!("/api/v1/audit-logs?action={action}"), As::Cookie(cookie)).await.body;
    audit["items"].as_array().map_or(0, Vec::len)
}

/// A vulnerability's asset names become the team's asset records (one per
/// name in any letter case, created when new and audited), its answer
/// names their ids, the asset list counts open findings by severity, and
/// the vulnerability list filters by asset id or name.
#[tokio::test]
async fn typed_asset_names_resolve_to_records_that_count_and_filter_findings() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let mut first = sample("SQL injection on the portal");
    first["severity"] = json!("CRITICAL");
    first["assets"] = json!(["Portal-01", "db-02"]);
    let first = create(&app, &admin, first).await;
    assert_eq!(first["asset_ids"].as_array().map(Vec::len), Some(2), "{first}");
    let mut second = sample("Weak TLS on the portal");
    second["assets"] = json!(["portal-01"]);
    let second = create(&app, &admin, second).await;
    let portal = second["asset_ids"][0].as_str().expect("portal").to_string();
    assert!(first["asset_ids"].as_array().expect("ids").iter().any(|id| id == &json!(portal)), "the same record");
    create(&app, &admin, sample("Nowhere in particular")).await;
    assert_eq!(audit_count(&app, &admin, "ASSET_CREATED").await, 2, "each new name is audited once");

    let listed = app.get_as("/api/v1/assets", As::Cookie(&admin)).await;
    assert_eq!(listed.status, StatusCode::OK, "{listed:?}");
    assert_eq!(names(&listed.body), ["db-02", "Portal-01"]);
    let portal_row = &listed.body["items"][1];
    assert_eq!(portal_row["open_findings"], json!({ "CRITICAL": 1, "HIGH": 1, "MEDIUM": 0, "LOW": 0, "INFO": 0 }));
    assert_eq!((portal_row["kind"].as_str(), portal_row["criticality"].as_str()), (Some("other"), Some("MEDIUM")));

    for filter in [portal.clone(), "PORTAL-01".to_string()] {
        let found = app.get_as(&format!("/api/v1/vulnerabilities?asset={filter}"), As::Cookie(&admin)).await.body;
        assert_eq!(found["items"].as_array().map(Vec::len), Some(2), "by {filter}: {found}");
    }
    let on_db = app.get_as("/api/v1/vulnerabilities?asset=db-02&asset=nothing-here", As::Cookie(&admin)).await;
    assert_eq!(on_db.body["items"].as_array().map(Vec::len), Some(1));

    // Removing the name from the record unlinks it; the asset stays.
    let changed = app.patch("/api/v1/vulnerabilities/VT-1", As::Cookie(&admin), json!({ "assets": ["db-02"] })).await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    assert_eq!(changed.body["asset_ids"].as_array().map(Vec::len), Some(1));
    let portal_now = app.get_as(&format!("/api/v1/assets/{portal}"), As::Cookie(&admin)).await.body;
    assert_eq!(portal_now["open_findings"]["CRITICAL"], 0);
    let page = app.get_as("/vulnerabilities?asset=db-02", As::Cookie(&admin)).await;
    assert!(page.body.as_str().unwrap_or_default().contains("Remove filter Asset: db-02"), "a chip on the page");
}

/// ANALYSTs and ADMINs create, change and delete assets (validated field by
/// field, names unique in any case, If-Match honoured, each change
/// audited); VIEWERs read only; another team's assets do not exist; an
/// asset with findings is not deleted from under them.
#[tokio::test]
async fn assets_are_managed_by_analysts_checked_and_kept_to_their_team() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let analyst = app.add_member(&admin, "analyst@example.com", "ANALYST").await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    let me = app.get_as("/api/v1/me", As::Cookie(&analyst)).await.body["id"].clone();
    let body = json!({
        "name": "payments-api:1.4", "kind": "container_image", "environment": "production",
        "criticality": "CRITICAL", "owner_id": me, "description": "The payments service image.",
        "tags": ["PCI", "payments", "pci"]
    });
    let created = app.post("/api/v1/assets", As::Cookie(&analyst), body).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    assert_eq!(created.body["tags"], json!(["pci", "payments"]));
    let id = created.body["id"].as_str().expect("id").to_string();
    let etag = created.headers.get("etag").and_then(|v| v.to_str().ok()).expect("etag").to_string();

    let duplicate = app.post("/api/v1/assets", As::Cookie(&admin), json!({ "name": "PAYMENTS-API:1.4" })).await;
    assert_eq!(duplicate.status, StatusCode::CONFLICT, "{duplicate:?}");
    let bad = app
        .post(
            "/api/v1/assets",
            As::Cookie(&admin),
            json!({ "name": "", "kind": "server", "environment": "prod", "criticality": "SEVERE", "owner_id": "x", "tags": ["a b"], "colour": "red" }),
        )
        .await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
    let fields: Vec<&str> =
        bad.body["errors"].as_array().expect("errors").iter().filter_map(|e| e["field"].as_str()).collect();
    for field in ["name", "kind", "environment", "criticality", "owner_id", "tags[0]", "colour"] {
        assert!(fields.contains(&field), "{field} in {fields:?}");
    }
    let foreign_owner =
        app.post("/api/v1/assets", As::Cookie(&admin), json!({ "name": "x", "owner_id": uuid::Uuid::now_v7() })).await;
    assert_eq!(foreign_owner.status, StatusCode::UNPROCESSABLE_ENTITY);

    let by_viewer = app.post("/api/v1/assets", As::Cookie(&viewer), json!({ "name": "viewer-made" })).await;
    assert_eq!(by_viewer.status, StatusCode::FORBIDDEN);
    assert_eq!(app.get_as(&format!("/api/v1/assets/{id}"), As::Cookie(&viewer)).await.status, StatusCode::OK);
    let viewer_change =
        app.patch(&format!("/api/v1/assets/{id}"), As::Cookie(&viewer), json!({ "criticality": "LOW" })).await;
    assert_eq!(viewer_change.status, StatusCode::FORBIDDEN);

    let stale = app
        .send(
            Method::PATCH,
            &format!("/api/v1/assets/{id}"),
            As::Cookie(&admin),
            Some(json!({ "environment": "staging" })),
            &[("if-match", "\"999\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED, "{stale:?}");
    let changed = app
        .send(
            Method::PATCH,
            &format!("/api/v1/assets/{id}"),
            As::Cookie(&admin),
            Some(json!({ "environment": "staging", "owner_id": null })),
            &[("if-match", etag.as_str())],
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    assert_eq!((changed.body["environment"].as_str(), changed.body["owner_id"].is_null()), (Some("staging"), true));
    assert_eq!(changed.body["kind"], "container_image", "fields not named stay");

    let other = other_team_admin(&app, "red@example.com").await;
    for (method, body) in
        [(Method::GET, None), (Method::PATCH, Some(json!({ "name": "mine" }))), (Method::DELETE, None)]
    {
        let answer = app.send(method.clone(), &format!("/api/v1/assets/{id}"), As::Cookie(&other), body, &[]).await;
        assert_eq!(answer.status, StatusCode::NOT_FOUND, "{method} of another team's asset");
    }
    assert!(names(&app.get_as("/api/v1/assets", As::Cookie(&other)).await.body).is_empty());
    let mut found = sample("Vulnerable base image");
    found["assets"] = json!(["payments-api:1.4"]);
    create(&app, &other, found).await;
    let theirs = app.get_as("/api/v1/assets", As::Cookie(&other)).await.body;
    assert_eq!(names(&theirs), ["payments-api:1.4"], "the other team's own record of the same name");
    assert_ne!(theirs["items"][0]["id"], json!(id));

    let mut on_it = sample("On the image");
    on_it["assets"] = json!(["payments-api:1.4"]);
    create(&app, &admin, on_it).await;
    let refused = app.delete(&format!("/api/v1/assets/{id}"), As::Cookie(&admin)).await;
    assert_eq!(refused.status, StatusCode::CONFLICT, "an asset with findings stays: {refused:?}");
    app.patch("/api/v1/vulnerabilities/VT-1", As::Cookie(&admin), json!({ "assets": [] })).await;
    assert_eq!(app.delete(&format!("/api/v1/assets/{id}"), As::Cookie(&viewer)).await.status, StatusCode::FORBIDDEN);
    assert_eq!(app.delete(&format!("/api/v1/assets/{id}"), As::Cookie(&analyst)).await.status, StatusCode::NO_CONTENT);
    assert_eq!(app.get_as(&format!("/api/v1/assets/{id}"), As::Cookie(&admin)).await.status, StatusCode::NOT_FOUND);

    for (action, count) in [("ASSET_CREATED", 1), ("ASSET_UPDATED", 1), ("ASSET_DELETED", 1)] {
        assert_eq!(audit_count(&app, &admin, action).await, count, "{action}");
    }
}

/// The asset list pages by name with signed cursors and filters by kind,
/// environment, criticality, owner and name.
#[tokio::test]
async fn the_asset_list_pages_by_name_and_filters() {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    for (name, kind, environment) in [
        ("web-01", "host", "production"),
        ("Web-02", "host", "staging"),
        ("billing", "application", "production"),
        ("api.example.com", "domain", "production"),
    ] {
        let body = json!({ "name": name, "kind": kind, "environment": environment, "owner_id": null });
        assert_eq!(app.post("/api/v1/assets", As::Cookie(&admin), body).await.status, StatusCode::CREATED);
    }
    let first = app.get_as("/api/v1/assets?limit=3", As::Cookie(&admin)).await.body;
    assert_eq!(names(&first), ["api.example.com", "billing", "web-01"]);
    let cursor = first["next_cursor"].as_str().expect("a next page");
    let second = app.get_as(&format!("/api/v1/assets?limit=3&cursor={cursor}"), As::Cookie(&admin)).await.body;
    assert_eq!(names(&second), ["Web-02"]);
    assert!(second["next_cursor"].is_null());
    let hosts = app.get_as("/api/v1/assets?kind=host&environment=production", As::Cookie(&admin)).await.body;
    assert_eq!(names(&hosts), ["web-01"]);
    let web = app.get_as("/api/v1/assets?q=WEB", As::Cookie(&admin)).await.body;
    assert_eq!(names(&web), ["web-01", "Web-02"]);
    let bad = app.get_as("/api/v1/assets?kind=server&cursor=forged", As::Cookie(&admin)).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY, "{bad:?}");
}

/// The assets pages without scripts: the list shows each asset's open
/// findings as links to them; a form creates one; its page lists its
/// findings, takes changes (refusing bad ones with the input kept) and
/// refuses to delete an asset that findings are recorded on.
#[tokio::test]
async fn the_assets_pages_list_create_change_and_refuse_through_forms() {
    use crate::web::{html, location, page, post_form};
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    let mut found = sample("Exposed admin console");
    found["severity"] = json!("CRITICAL");
    found["assets"] = json!(["portal-01"]);
    create(&app, &admin, found).await;

    let listed = page(&app, "/assets", &admin).await;
    assert_eq!(listed.status, StatusCode::OK);
    let portal =
        app.get_as("/api/v1/assets/portal-01", As::Cookie(&admin)).await.body["id"].as_str().expect("id").to_string();
    let link = format!("/vulnerabilities?asset={portal}&amp;severity=CRITICAL&amp;status=OPEN&amp;status=IN_PROGRESS");
    assert!(
        html(&listed).contains(&format!(r#"<a class="badge sev-critical" href="{link}">1 Critical</a>"#)),
        "{}",
        html(&listed)
    );
    assert!(!html(&page(&app, "/assets", &viewer).await).contains("New asset"), "no form for a VIEWER");

    let made = post_form(
        &app,
        "/assets",
        Some(&admin),
        &[
            ("name", "billing"),
            ("kind", "application"),
            ("environment", "production"),
            ("criticality", "HIGH"),
            ("tags", "pci, money"),
        ],
    )
    .await;
    assert_eq!(made.status, StatusCode::SEE_OTHER, "{made:?}");
    let shown = page(&app, &location(&made), &admin).await;
    assert!(html(&shown).contains("<h1>billing</h1>") && html(&shown).contains("High criticality"));
    let refused = post_form(&app, "/assets", Some(&admin), &[("name", "BILLING"), ("kind", "application")]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&refused).contains("The team already has an asset with this name."), "{}", html(&refused));
    assert!(html(&refused).contains(r#"value="BILLING""#), "the input is kept");

    let detail = page(&app, &format!("/assets/{portal}"), &admin).await;
    assert!(html(&detail).contains("Exposed admin console") && html(&detail).contains("/vulnerabilities/VT-1"));
    let bad =
        post_form(&app, &format!("/assets/{portal}/edit"), Some(&admin), &[("name", ""), ("kind", "server")]).await;
    assert_eq!(bad.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(
        html(&bad).contains("Name: must be 1–200 characters.") && html(&bad).contains("Kind: must be one of"),
        "{}",
        html(&bad)
    );
    let kept = post_form(&app, &format!("/assets/{portal}/delete"), Some(&admin), &[]).await;
    assert_eq!(kept.status, StatusCode::CONFLICT);
    assert!(html(&kept).contains("Vulnerabilities are recorded on this asset"));
    let by_viewer = post_form(&app, &format!("/assets/{portal}/delete"), Some(&viewer), &[]).await;
    assert_eq!(by_viewer.status, StatusCode::FORBIDDEN);
}

/// Records written in bulk (imports, seeding) link their asset names the
/// same way: each distinct name resolved once, new ones returned for the
/// caller's audit rows.
#[tokio::test]
async fn records_written_in_bulk_link_their_assets() {
    use vulntrack_domain::vulnerability::{
        input::{Mode, parse},
        record::VulnerabilityRecord,
    };
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    create(
        &app,
        &admin,
        json!({ "title": "Known", "description": "Already on db-01.", "severity": "LOW", "assets": ["db-01"] }),
    )
    .await;
    let record = |title: &str, assets: Value| {
        let body = json!({ "title": title, "description": "Written in bulk.", "severity": "HIGH", "assets": assets });
        VulnerabilityRecord::create(parse(&body, Mode::Create).expect("valid")).expect("record")
    };
    let records =
        [record("one", json!(["Edge-1", "DB-01"])), record("two", json!(["edge-1"])), record("three", json!([]))];
    let admin_record =
        vulntrack_store::users::find_for_sign_in(app.db.conn(), ADMIN).await.expect("query").expect("admin");
    let txn = app.db.begin().await.expect("begin");
    let written = vulntrack_store::vulnerabilities::create_many(&txn, admin_record.user.scope(), &records, None)
        .await
        .expect("rows");
    txn.commit().await.expect("commit");
    assert_eq!(written.ids.len(), 3);
    let new: Vec<&str> = written.new_assets.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(new, ["Edge-1"], "db-01 existed; edge-1 is Edge-1");
    let on_edge = app.get_as("/api/v1/vulnerabilities?asset=edge-1", As::Cookie(&admin)).await.body;
    assert_eq!(on_edge["items"].as_array().map(Vec::len), Some(2));
    let on_db = app.get_as("/api/v1/vulnerabilities?asset=db-01", As::Cookie(&admin)).await.body;
    assert_eq!(on_db["items"].as_array().map(Vec::len), Some(2));
}
