//! The shape of the code, checked: pages never drive the JSON API, role
//! checks go through the principal (audited), and the store's
//! every-team door (`vulntrack_store::operator`) is used only by the
//! operator's own paths. Each rule also checks that its detector finds
//! what it looks for, so a rule cannot pass because it matched nothing.

use std::path::{Path, PathBuf};

/// The files that may reach every team at once: the command line, its
/// services, and the start-up audit check.
const OPERATOR_PATHS: &[&str] = &["cli/", "services/operator.rs", "services/accounts.rs", "audit_heads.rs"];

fn sources() -> Vec<(String, String)> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<(String, String)>) {
        for entry in std::fs::read_dir(dir).expect("read src") {
            let path: PathBuf = entry.expect("entry").path();
            if path.is_dir() {
                walk(&path, root, out);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let name = path.strip_prefix(root).expect("under src").to_string_lossy().replace('\\', "/");
                out.push((name, std::fs::read_to_string(&path).expect("read source")));
            }
        }
    }
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut out = Vec::new();
    walk(&root, &root, &mut out);
    assert!(out.len() > 50, "the walk found the sources ({} files)", out.len());
    out
}

/// Whether the source names the store's operator module, as a path or in
/// a `use vulntrack_store::{…}` list.
fn uses_operator_door(source: &str) -> bool {
    if source.contains("vulntrack_store::operator") {
        return true;
    }
    source.split("use vulntrack_store::{").skip(1).any(|rest| {
        let list = rest.split("};").next().unwrap_or_default();
        list.split(|c: char| !(c.is_alphanumeric() || c == '_')).any(|word| word == "operator")
    })
}

#[test]
fn only_operator_paths_reach_every_team() {
    let files = sources();
    let users: Vec<&str> = files.iter().filter(|(_, s)| uses_operator_door(s)).map(|(n, _)| n.as_str()).collect();
    let strays: Vec<&&str> = users.iter().filter(|n| !OPERATOR_PATHS.iter().any(|p| n.starts_with(p))).collect();
    assert!(strays.is_empty(), "request paths reaching every team: {strays:?}");
    for allowed in OPERATOR_PATHS {
        assert!(users.iter().any(|n| n.starts_with(allowed)), "the detector finds the use in {allowed}");
    }
    assert!(uses_operator_door("use vulntrack_store::{Database, operator};"));
    assert!(!uses_operator_door("use vulntrack_store::{Database, users};\nfn operator() {}"));
}

/// Whether the source reaches the JSON API module (`crate::api`, or
/// `api::…` as a path of its own).
fn reaches_the_api(source: &str) -> bool {
    source.contains("crate::api")
        || source
            .match_indices("api::")
            .any(|(at, _)| at == 0 || !source[..at].ends_with(|c: char| c.is_alphanumeric() || c == '_'))
}

#[test]
fn pages_services_and_exports_never_call_the_json_api() {
    let files = sources();
    let below_the_api = |n: &str| n.starts_with("web/") || n.starts_with("services/") || n.starts_with("exports/");
    let pages: Vec<&(String, String)> = files.iter().filter(|(n, _)| below_the_api(n)).collect();
    assert!(pages.len() >= 40, "the page, service and export modules were found");
    let offenders: Vec<&str> = pages.iter().filter(|(_, s)| reaches_the_api(s)).map(|(n, _)| n.as_str()).collect();
    assert!(offenders.is_empty(), "pages, services or exports reaching into the JSON API: {offenders:?}");
    assert!(reaches_the_api("use crate::api::v1::users;") && reaches_the_api("let r = api::v1::me(x);"));
    assert!(!reaches_the_api("use vulntrack_store::api_tokens::find;"));
    assert!(files.iter().any(|(n, s)| n == "app.rs" && reaches_the_api(s)), "the detector sees the router's use");
}

#[test]
fn role_checks_go_through_the_principal() {
    let files = sources();
    let direct: Vec<&str> = files
        .iter()
        .filter(|(n, _)| n.starts_with("web/") || n.starts_with("api/") || n.starts_with("services/"))
        .filter(|(_, s)| s.contains(".allows("))
        .map(|(n, _)| n.as_str())
        .collect();
    assert!(direct.is_empty(), "role checks bypassing Principal::require/may: {direct:?}");
    assert!(files.iter().any(|(_, s)| s.contains(".allows(")), "the detector sees the one place that asks the table");
}
