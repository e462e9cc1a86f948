//! The store's conformance story, run unchanged on SQLite and PostgreSQL:
//! the same calls must give the same answers on both backends.

use sea_orm::{
    ConnectionTrait, ExprTrait,
    sea_query::{Expr, Query},
};
use vulntrack_domain::{Role, UserId, UserStatus};
use vulntrack_store::{Backend, StoreError, teams, users};

use crate::support::TestDb;

const HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHRzYWx0$aGFzaGhhc2hoYXNoaGFzaGhhc2hoYXNoaGFzaA";

fn new_user(email: &str, role: Role) -> users::NewUser<'_> {
    users::NewUser { email, name: "Test Person", role, password_hash: HASH }
}

#[tokio::test]
async fn migrations_are_idempotent() {
    let test_db = TestDb::fresh().await;
    let db = test_db.migrated().await;
    db.migrate().await.expect("second run is a no-op");
    assert!(db.pending_migrations().await.expect("status").is_empty());
}

#[tokio::test]
async fn teams_and_users_story() {
    let db = TestDb::fresh().await;
    let db_conn = db.migrated().await;
    let conn = db_conn.conn();

    assert_eq!(users::count_all(conn).await.expect("count"), 0);

    let red = teams::create(conn, "Red Team").await.expect("create team");
    let blue = vulntrack_store::operator::team_by_name_or_new(conn, "Blue Team").await.expect("create team");
    assert_eq!(
        vulntrack_store::operator::team_by_name_or_new(conn, "Red Team").await.expect("find").id,
        red.id,
        "existing team reused"
    );
    assert_eq!(teams::get(conn, blue.scope()).await.expect("own team").name, "Blue Team");
    // Names are labels: a second "Red Team" may exist (its name reveals no
    // other team), and a lookup by that name is then ambiguous.
    let second_red = teams::create(conn, "Red Team").await.expect("names need not be unique");
    assert_ne!(second_red.id, red.id);
    assert!(matches!(
        vulntrack_store::operator::team_by_name_or_new(conn, "Red Team").await,
        Err(StoreError::Ambiguous { .. })
    ));

    let alice = users::create(conn, red.scope(), new_user("Alice@Example.com", Role::Admin)).await.expect("alice");
    assert_eq!(alice.team_id, red.id);
    assert_eq!(alice.role, Role::Admin);
    assert_eq!(alice.status, UserStatus::Active);
    assert_eq!(alice.email, "Alice@Example.com", "email kept as typed");
    assert!(!alice.is_onboarded);
    assert_eq!(alice.scope(), red.scope());

    let bob = users::create(conn, blue.scope(), new_user("bob@example.com", Role::Viewer)).await.expect("bob");
    assert_eq!(users::count_all(conn).await.expect("count"), 2);

    // Emails are unique across the instance in any letter case.
    let clash = users::create(conn, blue.scope(), new_user("ALICE@example.COM", Role::Analyst)).await;
    assert!(matches!(clash, Err(StoreError::Conflict { what: "email" })), "{clash:?}");

    // Sign-in finds the user whatever the case, with the hash.
    let found = users::find_for_sign_in(conn, "  alice@EXAMPLE.com ").await.expect("query").expect("found");
    let (found, hash) = (found.user, found.password_hash);
    assert_eq!(found.id, alice.id);
    assert_eq!(hash, HASH);
    assert!(users::find_for_sign_in(conn, "nobody@example.com").await.expect("query").is_none());

    // Scoped reads see their own team only: another team's user is not found.
    assert_eq!(users::get(conn, red.scope(), alice.id).await.expect("own user").id, alice.id);
    assert!(matches!(users::get(conn, blue.scope(), alice.id).await, Err(StoreError::NotFound)));
    assert!(matches!(users::get(conn, red.scope(), bob.id).await, Err(StoreError::NotFound)));
    assert!(matches!(users::get(conn, red.scope(), UserId::new()).await, Err(StoreError::NotFound)));
}

#[tokio::test]
async fn references_between_tenant_rows_cannot_cross_teams() {
    let db = TestDb::fresh().await;
    let db = db.migrated().await;
    let conn = db.conn();
    let red = teams::create(conn, "Red").await.expect("team");
    let blue = teams::create(conn, "Blue").await.expect("team");
    let alice = users::create(conn, red.scope(), new_user("alice@example.com", Role::Admin)).await.expect("user");

    let session = |team: uuid::Uuid| {
        let now = chrono::Utc::now();
        Query::insert()
            .into_table("sessions")
            .columns(["id", "team_id", "user_id", "created_at", "last_seen_at", "expires_at"])
            .values_panic([
                uuid::Uuid::now_v7().into(),
                team.into(),
                alice.id.as_uuid().into(),
                now.into(),
                now.into(),
                now.into(),
            ])
            .to_owned()
    };
    conn.execute(&session(red.id.as_uuid())).await.expect("a session in the user's own team is accepted");
    let cross = conn.execute(&session(blue.id.as_uuid())).await;
    assert!(cross.is_err(), "a row of team Blue pointing at a user of team Red must be refused");
}

#[tokio::test]
async fn check_constraints_refuse_values_outside_the_closed_sets() {
    let db = TestDb::fresh().await;
    let db = db.migrated().await;
    let conn = db.conn();
    let red = teams::create(conn, "Red").await.expect("team");
    let alice = users::create(conn, red.scope(), new_user("alice@example.com", Role::Admin)).await.expect("user");

    let demote_to = |role: &str| {
        Query::update().table("users").value("role", role).and_where(Expr::col("id").eq(alice.id.as_uuid())).to_owned()
    };
    conn.execute(&demote_to("VIEWER")).await.expect("a known role is accepted");
    assert!(conn.execute(&demote_to("ROOT")).await.is_err(), "an unknown role must be refused");
}

#[tokio::test]
async fn backend_connection_settings_are_applied() {
    let test_db = TestDb::fresh().await;
    let db = test_db.migrated().await;
    let conn = db.conn();
    let text = async |sql: &str| -> String {
        let row = conn
            .query_one_raw(sea_orm::Statement::from_string(conn.get_database_backend(), sql))
            .await
            .expect("query")
            .expect("row");
        row.try_get_by_index::<String>(0)
            .or_else(|_| row.try_get_by_index::<i64>(0).map(|n| n.to_string()))
            .expect("value")
    };
    match db.backend() {
        Backend::Sqlite => {
            assert_eq!(text("PRAGMA journal_mode").await, "wal");
            assert_eq!(text("PRAGMA foreign_keys").await, "1");
            assert!(text("PRAGMA busy_timeout").await.parse::<i64>().expect("number") >= 1000);
        }
        Backend::Postgres => {
            assert_eq!(text("SELECT current_setting('application_name')").await, "vulntrack");
        }
    }
}
