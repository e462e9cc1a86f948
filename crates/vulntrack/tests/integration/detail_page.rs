//! The detail page (`/vulnerabilities/{key}`) over plain HTTP: what it
//! shows of the record and its history, and the changes made from it
//! (assignee, comment edits and deletions), as a browser without
//! JavaScript uses them.

use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::{
    support::{As, PASSWORD, TestApp, TestResponse, other_team_admin},
    vulnerabilities::{create, sample},
    web::{html, location, page},
};

const ADMIN: &str = "admin@example.com";
const ANALYST: &str = "analyst@example.com";

/// POSTs a form the way a same-origin page does, signed in.
async fn post_form(app: &TestApp, path: &str, cookie: &str, pairs: &[(&str, &str)]) -> TestResponse {
    crate::web::post_form(app, path, Some(cookie), pairs).await
}

/// The part of `text` from `start` up to `end` (or to the end).
fn between<'a>(text: &'a str, start: &str, end: &str) -> &'a str {
    let from = text.find(start).map_or(text.len(), |i| i + start.len());
    let rest = &text[from..];
    &rest[..rest.find(end).unwrap_or(rest.len())]
}

/// What a reader sees of some HTML: tags dropped (each a space, so list
/// items do not run together), entities decoded, whitespace collapsed.
fn words(fragment: &str) -> String {
    let mut out = String::new();
    let mut in_tag = false;
    for c in fragment.chars() {
        match c {
            '<' => in_tag = true,
            '>' => {
                in_tag = false;
                out.push(' ');
            }
            c if !in_tag => out.push(c),
            _ => {}
        }
    }
    let out = out.replace("&amp;", "&").replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"");
    out.replace("&#39;", "'").replace("&#x27;", "'").split_whitespace().collect::<Vec<_>>().join(" ")
}

/// The page's activity section, as read.
fn activity(response: &TestResponse) -> String {
    words(between(html(response), "id=\"activity\"", "id=\"comments\""))
}

async fn admin_app() -> (TestApp, String) {
    let app = TestApp::spawn().await;
    app.setup_admin("Blue Team", ADMIN).await;
    let admin = app.login(ADMIN, PASSWORD).await;
    (app, admin)
}

async fn id_of(app: &TestApp, cookie: &str) -> String {
    app.get_as("/api/v1/me", As::Cookie(cookie)).await.body["id"].as_str().expect("id").to_string()
}

async fn comment(app: &TestApp, cookie: &str, key: &str, body: &str) -> String {
    let path = format!("/api/v1/vulnerabilities/{key}/comments");
    let created = app.post(&path, As::Cookie(cookie), json!({ "body": body })).await;
    assert_eq!(created.status, StatusCode::CREATED, "{created:?}");
    created.body["id"].as_str().expect("comment id").to_string()
}

async fn comment_bodies(app: &TestApp, cookie: &str, key: &str) -> Vec<String> {
    let listed = app.get_as(&format!("/api/v1/vulnerabilities/{key}/comments"), As::Cookie(cookie)).await;
    listed.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|c| c["body"].as_str().unwrap_or_default().to_string())
        .collect()
}

async fn audit_actions(app: &TestApp, admin: &str, action: &str) -> Vec<Value> {
    let log = app.get_as(&format!("/api/v1/audit-logs?action={action}"), As::Cookie(admin)).await;
    assert_eq!(log.status, StatusCode::OK, "{log:?}");
    log.body["items"].as_array().expect("items").clone()
}

#[tokio::test]
async fn the_cvss_card_names_each_metric_in_words_with_the_scores() {
    let (app, admin) = admin_app().await;
    let mut v3 = sample("Heartbleed on the edge");
    v3["cvss_vector"] = json!("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N");
    create(&app, &admin, v3).await;
    let mut v4 = sample("Local kernel bug");
    v4["cvss_vector"] = json!("CVSS:4.0/AV:L/AC:L/AT:P/PR:L/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N");
    create(&app, &admin, v4).await;

    let shown = page(&app, "/vulnerabilities/VT-1", &admin).await;
    let card = between(html(&shown), "<section class=\"card cvss\">", "</section>");
    for (metric, value) in [
        ("Attack vector", "Network"),
        ("Attack complexity", "Low"),
        ("Privileges required", "None"),
        ("User interaction", "None"),
        ("Scope", "Unchanged"),
        ("Confidentiality impact", "High"),
        ("Integrity impact", "None"),
        ("Availability impact", "None"),
    ] {
        assert!(card.contains(&format!("<dt>{metric}</dt><dd>{value}</dd>")), "{metric}: {value} in {card}");
    }
    let read = words(card);
    assert!(read.contains("CVSS 3.1 7.5 High base score"), "score and rating: {read}");
    assert!(read.contains("Impact 3.6 · Exploitability 3.9"), "the v3.1 sub-scores: {read}");
    assert!(card.contains("class=\"badge sev-high\""), "{card}");
    assert!(!card.contains("<td>AV</td>") && !card.contains("<dd>N</dd>"), "no bare codes: {card}");

    let shown = page(&app, "/vulnerabilities/VT-2", &admin).await;
    let card = between(html(&shown), "<section class=\"card cvss\">", "</section>");
    let read = words(card);
    assert!(read.contains("CVSS 4.0"), "{read}");
    assert!(read.contains("7.3 High base score (CVSS-B)"), "score, rating and what it covers: {read}");
    for (metric, value) in [
        ("Attack vector", "Local"),
        ("Attack requirements", "Present"),
        ("Confidentiality impact to the vulnerable system", "High"),
        ("Availability impact to the subsequent system", "None"),
    ] {
        assert!(card.contains(&format!("<dt>{metric}</dt><dd>{value}</dd>")), "{metric}: {value} in {card}");
    }
    assert!(!read.contains("Exploitability"), "v4.0 has no sub-scores: {read}");
}

#[tokio::test]
async fn activity_names_people_and_shows_each_change_from_old_to_new() {
    let (app, admin) = admin_app().await;
    let analyst = app.add_member(&admin, ANALYST, "ANALYST").await;
    let admin_id = id_of(&app, &admin).await;
    let analyst_id = id_of(&app, &analyst).await;
    create(&app, &admin, sample("Open redirect in login")).await;

    let moved = post_form(&app, "/vulnerabilities/VT-1/status", &analyst, &[("status", "IN_PROGRESS")]).await;
    assert_eq!(moved.status, StatusCode::SEE_OTHER, "{moved:?}");
    let changed = app
        .patch(
            "/api/v1/vulnerabilities/VT-1",
            As::Cookie(&analyst),
            json!({ "title": "Open redirect after login", "severity": "CRITICAL", "tags": ["auth"], "description": "Now with a proof of concept." }),
        )
        .await;
    assert_eq!(changed.status, StatusCode::OK, "{changed:?}");
    let assigned = post_form(&app, "/vulnerabilities/VT-1/assignee", &analyst, &[("assignee_id", &admin_id)]).await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER, "{assigned:?}");

    let read = activity(&page(&app, "/vulnerabilities/VT-1", &admin).await);
    for expected in [
        "Ada Admin created it",
        "Member Person changed the status Status: Open → In progress",
        "Member Person changed the title, description, severity and tags",
        "Title: Open redirect in login → Open redirect after login",
        "Description edited",
        "Severity: High → Critical",
        "Tags: — → auth",
        "Member Person changed the assignee Assignee: Nobody → Ada Admin",
    ] {
        assert!(read.contains(expected), "{expected:?} in {read}");
    }
    assert!(!read.contains("IN_PROGRESS") && !read.contains("CRITICAL"), "values in words: {read}");
    assert!(!read.contains(ANALYST) && !read.contains(ADMIN), "members by name, not email: {read}");

    // Someone deleted from the team is erased: their changes read as the
    // label they now carry, as on comments.
    let deleted = app.delete(&format!("/api/v1/users/{analyst_id}"), As::Cookie(&admin)).await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT, "{deleted:?}");
    let read = activity(&page(&app, "/vulnerabilities/VT-1", &admin).await);
    assert!(read.contains("Deleted user #1 changed the status Status: Open → In progress"), "{read}");
    assert!(!read.contains("Member Person") && !read.contains(ANALYST), "{read}");
}

#[tokio::test]
async fn the_cve_tags_and_assets_lead_to_the_records_that_share_them() {
    let (app, admin) = admin_app().await;
    let mut record = sample("Exposed database port");
    record["cve_id"] = json!("CVE-2024-1111");
    record["tags"] = json!(["pci:dss", "edge"]);
    record["assets"] = json!(["db-02 & cache", "portal-01"]);
    record["description"] =
        json!("Steps:\n\n- [ ] close the port\n- [x] reproduce\n\nSee https://example.com/advisory.");
    create(&app, &admin, record).await;
    create(&app, &admin, sample("Something else entirely")).await;

    let shown = page(&app, "/vulnerabilities/VT-1", &admin).await;
    let text = html(&shown);
    let nvd = "<a class=\"external\" href=\"https://nvd.nist.gov/vuln/detail/CVE-2024-1111\" rel=\"noopener noreferrer\" target=\"_blank\">";
    assert!(text.contains(nvd), "the NVD entry, opened apart: {text}");
    for (link, description) in [
        ("/vulnerabilities?cve_id=CVE-2024-1111", "the records with the CVE"),
        ("/vulnerabilities?tag=pci%3Adss", "the records with the tag"),
        ("/vulnerabilities?tag=edge", "the records with the other tag"),
        ("/vulnerabilities?q=db-02%20%26%20cache", "a search for the asset, encoded"),
        ("/vulnerabilities?q=portal-01", "a search for the other asset"),
    ] {
        assert!(text.contains(&format!("href=\"{link}\"")), "{description}: {link} in {text}");
        let listed = page(&app, link, &admin).await;
        assert_eq!(listed.status, StatusCode::OK, "{link}");
        assert!(html(&listed).contains("href=\"/vulnerabilities/VT-1\""), "{description} finds VT-1");
        assert!(!html(&listed).contains("href=\"/vulnerabilities/VT-2\""), "{description} finds only VT-1");
    }

    let description = between(text, "<div class=\"markdown\">", "</div>");
    assert!(description.contains("<input type=\"checkbox\" disabled=\"\" aria-label=\"Done\"> close the port"));
    assert!(description.contains("<input type=\"checkbox\" disabled=\"\" checked=\"\" aria-label=\"Done\"> reproduce"));
    assert!(
        description.contains("<a href=\"https://example.com/advisory\" rel=\"noopener noreferrer nofollow\">"),
        "a bare address is a link: {description}"
    );
}

#[tokio::test]
async fn the_assignee_is_changed_from_the_page() {
    let (app, admin) = admin_app().await;
    let analyst = app.add_member(&admin, ANALYST, "ANALYST").await;
    let viewer = app.add_member(&admin, "viewer@example.com", "VIEWER").await;
    let analyst_id = id_of(&app, &analyst).await;
    create(&app, &admin, sample("Weak TLS ciphers")).await;

    let shown = page(&app, "/vulnerabilities/VT-1", &admin).await;
    let select = between(html(&shown), "<select id=\"assignee_id\" name=\"assignee_id\">", "</select>");
    assert!(html(&shown).contains("<label for=\"assignee_id\">Assign to</label>"), "labelled");
    assert!(select.contains("<option value=\"\" selected>Nobody</option>"), "{select}");
    assert!(select.contains(&format!("<option value=\"{analyst_id}\" >Member Person</option>")), "{select}");

    let assigned = post_form(&app, "/vulnerabilities/VT-1/assignee", &admin, &[("assignee_id", &analyst_id)]).await;
    assert_eq!(assigned.status, StatusCode::SEE_OTHER, "{assigned:?}");
    assert_eq!(location(&assigned), "/vulnerabilities/VT-1");
    assert!(assigned.set_cookies().iter().any(|c| c.starts_with("vulntrack_flash=saved")), "a confirmation follows");
    let record = app.get_as("/api/v1/vulnerabilities/VT-1", As::Cookie(&admin)).await.body;
    assert_eq!(record["assignee_id"], json!(analyst_id));
    let shown = page(&app, "/vulnerabilities/VT-1", &admin).await;
    assert!(html(&shown).contains(&format!("<option value=\"{analyst_id}\" selected>Member Person</option>")));
    assert_eq!(audit_actions(&app, &admin, "VULNERABILITY_ASSIGNED").await.len(), 1, "the same audit row as the API");

    // Someone outside the team is refused beside the control; nothing changes.
    let outsider = "0190f5c4-0000-7000-8000-000000000000";
    let refused = post_form(&app, "/vulnerabilities/VT-1/assignee", &admin, &[("assignee_id", outsider)]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY, "{refused:?}");
    let form = between(html(&refused), "action=\"/vulnerabilities/VT-1/assignee\"", "</form>");
    assert!(form.contains("aria-invalid=\"true\"") && form.contains("must be an active member of your team"), "{form}");
    assert!(form.contains(&format!("<option value=\"{analyst_id}\" selected>")), "the current choice stays: {form}");
    let record = app.get_as("/api/v1/vulnerabilities/VT-1", As::Cookie(&admin)).await.body;
    assert_eq!(record["assignee_id"], json!(analyst_id));

    let nobody = post_form(&app, "/vulnerabilities/VT-1/assignee", &admin, &[("assignee_id", "")]).await;
    assert_eq!(nobody.status, StatusCode::SEE_OTHER, "{nobody:?}");
    assert!(app.get_as("/api/v1/vulnerabilities/VT-1", As::Cookie(&admin)).await.body["assignee_id"].is_null());

    assert!(!html(&page(&app, "/vulnerabilities/VT-1", &viewer).await).contains("Assign to"), "no control to read");
    let denied = post_form(&app, "/vulnerabilities/VT-1/assignee", &viewer, &[("assignee_id", &analyst_id)]).await;
    assert_eq!(denied.status, StatusCode::FORBIDDEN, "{denied:?}");
    assert!(app.get_as("/api/v1/vulnerabilities/VT-1", As::Cookie(&admin)).await.body["assignee_id"].is_null());
}

#[tokio::test]
async fn authors_edit_and_delete_their_comments_from_the_page() {
    let (app, admin) = admin_app().await;
    let analyst = app.add_member(&admin, ANALYST, "ANALYST").await;
    create(&app, &admin, sample("Session fixation")).await;
    let id = comment(&app, &analyst, "VT-1", "First *draft* of the finding.").await;
    let edit_action = format!("/vulnerabilities/VT-1/comments/{id}/edit");
    let delete_action = format!("/vulnerabilities/VT-1/comments/{id}/delete");

    let shown = page(&app, "/vulnerabilities/VT-1", &analyst).await;
    let thread = between(html(&shown), &format!("id=\"comment-{id}\""), "</article>");
    assert!(thread.contains(&format!("<form method=\"post\" action=\"{edit_action}\"")), "{thread}");
    assert!(thread.contains(&format!("<label for=\"edit-{id}\">")), "the edit box is labelled: {thread}");
    assert!(thread.contains("First *draft* of the finding.</textarea>"), "the Markdown to edit: {thread}");
    let delete_form = between(thread, &format!("action=\"{delete_action}\""), ">");
    assert!(delete_form.contains("data-confirm=\""), "deleting asks first: {delete_form}");

    let blank = post_form(&app, &edit_action, &analyst, &[("body", "   ")]).await;
    assert_eq!(blank.status, StatusCode::UNPROCESSABLE_ENTITY, "{blank:?}");
    let thread = between(html(&blank), &format!("id=\"comment-{id}\""), "</article>");
    assert!(thread.contains("<details class=\"comment-edit\" open>"), "the refused form is open: {thread}");
    assert!(thread.contains(&format!("id=\"edit-{id}-error\">Comment must be 1–10000 characters.")), "{thread}");
    assert!(thread.contains(&format!("aria-describedby=\"edit-{id}-error\"")), "{thread}");
    let too_long = format!("Kept {}", "x".repeat(10_000));
    let refused = post_form(&app, &edit_action, &analyst, &[("body", &too_long)]).await;
    assert_eq!(refused.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert!(html(&refused).contains(&format!("{too_long}</textarea>")), "the text is kept");
    assert_eq!(comment_bodies(&app, &admin, "VT-1").await, vec!["First *draft* of the finding."]);

    let edited = post_form(&app, &edit_action, &analyst, &[("body", "Final **wording**.")]).await;
    assert_eq!(edited.status, StatusCode::SEE_OTHER, "{edited:?}");
    assert_eq!(location(&edited), "/vulnerabilities/VT-1#comments");
    assert!(edited.set_cookies().iter().any(|c| c.starts_with("vulntrack_flash=saved")), "a confirmation follows");
    let shown = page(&app, "/vulnerabilities/VT-1", &analyst).await;
    let thread = between(html(&shown), &format!("id=\"comment-{id}\""), "</article>");
    assert!(thread.contains("Final <strong>wording</strong>.") && thread.contains("(edited)"), "{thread}");
    let updates = audit_actions(&app, &admin, "COMMENT_UPDATED").await;
    assert_eq!(updates.len(), 1, "the same audit row as the API");
    assert_eq!(updates[0]["details"]["body"]["after"], json!("Final **wording**."));

    let deleted = post_form(&app, &delete_action, &analyst, &[]).await;
    assert_eq!(deleted.status, StatusCode::SEE_OTHER, "{deleted:?}");
    assert_eq!(location(&deleted), "/vulnerabilities/VT-1#comments");
    assert!(comment_bodies(&app, &admin, "VT-1").await.is_empty());
    assert!(!html(&page(&app, "/vulnerabilities/VT-1", &analyst).await).contains("Final <strong>wording</strong>."));
    assert_eq!(audit_actions(&app, &admin, "COMMENT_DELETED").await.len(), 1);
}

#[tokio::test]
async fn only_the_author_edits_and_only_the_author_or_an_admin_deletes() {
    let (app, admin) = admin_app().await;
    let author = app.add_member(&admin, ANALYST, "ANALYST").await;
    let colleague = app.add_member(&admin, "colleague@example.com", "ANALYST").await;
    create(&app, &admin, sample("Clickjacking on settings")).await;
    let id = comment(&app, &author, "VT-1", "Only mine to change.").await;
    let edit_action = format!("/vulnerabilities/VT-1/comments/{id}/edit");
    let delete_action = format!("/vulnerabilities/VT-1/comments/{id}/delete");

    let theirs = page(&app, "/vulnerabilities/VT-1", &colleague).await;
    assert!(!html(&theirs).contains(&edit_action) && !html(&theirs).contains(&delete_action), "no controls offered");
    let edit = post_form(&app, &edit_action, &colleague, &[("body", "Rewritten by someone else.")]).await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN, "{edit:?}");
    let delete = post_form(&app, &delete_action, &colleague, &[]).await;
    assert_eq!(delete.status, StatusCode::FORBIDDEN, "{delete:?}");
    assert_eq!(comment_bodies(&app, &admin, "VT-1").await, vec!["Only mine to change."], "unchanged");

    // An ADMIN moderates: may delete anyone's comment, never edit it.
    let moderating = page(&app, "/vulnerabilities/VT-1", &admin).await;
    assert!(html(&moderating).contains(&delete_action) && !html(&moderating).contains(&edit_action));
    let edit = post_form(&app, &edit_action, &admin, &[("body", "Words put in their mouth.")]).await;
    assert_eq!(edit.status, StatusCode::FORBIDDEN, "{edit:?}");
    assert_eq!(comment_bodies(&app, &admin, "VT-1").await, vec!["Only mine to change."]);
    let removed = post_form(&app, &delete_action, &admin, &[]).await;
    assert_eq!(removed.status, StatusCode::SEE_OTHER, "{removed:?}");
    assert!(comment_bodies(&app, &admin, "VT-1").await.is_empty());
}

#[tokio::test]
async fn a_comment_is_reached_only_through_its_own_record_in_its_own_team() {
    let (app, admin) = admin_app().await;
    create(&app, &admin, sample("Directory listing")).await;
    create(&app, &admin, sample("Another record")).await;
    let id = comment(&app, &admin, "VT-1", "Here to stay.").await;

    // The other team has a VT-1 of its own; their ADMIN may moderate there.
    let stranger = other_team_admin(&app, "red@example.com").await;
    create(&app, &stranger, sample("Their own record")).await;
    for path in
        [format!("/vulnerabilities/VT-1/comments/{id}/edit"), format!("/vulnerabilities/VT-1/comments/{id}/delete")]
    {
        let response = post_form(&app, &path, &stranger, &[("body", "Defaced.")]).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}: {response:?}");
    }
    // In the team, but under another record's key, or no comment at all.
    for path in [
        format!("/vulnerabilities/VT-2/comments/{id}/edit"),
        format!("/vulnerabilities/VT-2/comments/{id}/delete"),
        "/vulnerabilities/VT-1/comments/not-an-id/delete".to_string(),
        format!("/vulnerabilities/VT-9/comments/{id}/delete"),
    ] {
        let response = post_form(&app, &path, &admin, &[("body", "Moved.")]).await;
        assert_eq!(response.status, StatusCode::NOT_FOUND, "{path}: {response:?}");
    }
    assert_eq!(comment_bodies(&app, &admin, "VT-1").await, vec!["Here to stay."]);
    // Through its own record, the same request goes through.
    let own =
        post_form(&app, &format!("/vulnerabilities/VT-1/comments/{id}/edit"), &admin, &[("body", "Moved.")]).await;
    assert_eq!(own.status, StatusCode::SEE_OTHER, "{own:?}");
    assert_eq!(comment_bodies(&app, &admin, "VT-1").await, vec!["Moved."]);
}
