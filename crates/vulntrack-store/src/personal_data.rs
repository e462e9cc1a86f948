//! Everything the product holds about one person, gathered for their own
//! copy (an access request): profile, sessions with their addresses and
//! browsers, API token metadata, comments, the records they reported or are
//! assigned, notifications, and the audit rows where they are the actor.
//! Secrets (the password hash, token hashes) are never part of it.

use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde_json::{Value, json};
use vulntrack_domain::UserId;

use crate::{
    audit::{self, AuditQuery},
    entity::{api_tokens, comments, notifications, sessions, users, vulnerabilities as vulns},
    error::{StoreError, StoreResult},
    scope::TeamScope,
    vulnerabilities::KEY_PREFIX,
};

/// Audit rows read per round trip.
const AUDIT_PAGE: u64 = 500;

/// The person's data as one JSON document, section by section.
pub async fn export(db: &impl ConnectionTrait, scope: TeamScope, user: UserId) -> StoreResult<Value> {
    let team = scope.team_id().as_uuid();
    let id = user.as_uuid();
    let person = users::Entity::find_by_id(id)
        .filter(users::Column::TeamId.eq(team))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let profile = json!({
        "id": person.id, "email": person.email, "name": person.name, "role": person.role, "status": person.status,
        "phone": person.phone, "job_title": person.job_title, "department": person.department, "bio": person.bio,
        "theme": person.theme, "time_zone": person.time_zone, "notification_settings": person.notification_settings,
        "last_login_at": person.last_login_at, "password_changed_at": person.password_changed_at,
        "created_at": person.created_at, "updated_at": person.updated_at,
    });
    let sessions: Vec<Value> = sessions::Entity::find()
        .filter(sessions::Column::TeamId.eq(team))
        .filter(sessions::Column::UserId.eq(id))
        .order_by_asc(sessions::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|s| {
            json!({ "created_at": s.created_at, "last_seen_at": s.last_seen_at, "expires_at": s.expires_at,
                    "revoked_at": s.revoked_at, "ip": s.ip, "user_agent": s.user_agent })
        })
        .collect();
    let tokens: Vec<Value> = api_tokens::Entity::find()
        .filter(api_tokens::Column::TeamId.eq(team))
        .filter(api_tokens::Column::UserId.eq(id))
        .order_by_asc(api_tokens::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|t| {
            json!({ "id": t.id, "name": t.name, "prefix": t.token_prefix, "created_at": t.created_at,
                    "last_used_at": t.last_used_at, "expires_at": t.expires_at, "revoked_at": t.revoked_at })
        })
        .collect();
    let comments: Vec<Value> = comments::Entity::find()
        .filter(comments::Column::TeamId.eq(team))
        .filter(comments::Column::AuthorId.eq(id))
        .order_by_asc(comments::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|c| {
            json!({ "id": c.id, "vulnerability_id": c.vulnerability_id, "body": c.body,
                    "created_at": c.created_at, "updated_at": c.updated_at })
        })
        .collect();
    let records = |column: vulns::Column| async move {
        let rows = vulns::Entity::find()
            .filter(vulns::Column::TeamId.eq(team))
            .filter(column.eq(id))
            .order_by_asc(vulns::Column::Number)
            .all(db)
            .await?;
        Ok::<Vec<Value>, StoreError>(
            rows.into_iter()
                .map(|v| {
                    json!({ "id": v.id, "key": format!("{KEY_PREFIX}{}", v.number), "title": v.title,
                            "severity": v.severity, "status": v.status, "created_at": v.created_at })
                })
                .collect(),
        )
    };
    let reported = records(vulns::Column::ReporterId).await?;
    let assigned = records(vulns::Column::AssigneeId).await?;
    let notifications: Vec<Value> = notifications::Entity::find()
        .filter(notifications::Column::TeamId.eq(team))
        .filter(notifications::Column::UserId.eq(id))
        .order_by_asc(notifications::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|n| {
            json!({ "kind": n.kind, "message": n.message, "vulnerability_id": n.vulnerability_id,
                    "created_at": n.created_at, "read_at": n.read_at })
        })
        .collect();
    let mut audit_rows = Vec::new();
    let mut before_seq = None;
    loop {
        let query = AuditQuery { actor_id: Some(id), before_seq, limit: AUDIT_PAGE, ..AuditQuery::default() };
        let page = audit::list(db, scope, &query).await?;
        let Some(last) = page.last().map(|r| r.seq) else { break };
        audit_rows.extend(page.into_iter().map(|r| {
            json!({ "seq": r.seq, "created_at": r.created_at, "action": r.action, "actor_kind": r.actor_kind,
                    "actor_email": r.actor_email, "entity_type": r.entity_type, "entity_id": r.entity_id,
                    "details": r.details, "ip": r.ip, "user_agent": r.user_agent, "request_id": r.request_id })
        }));
        before_seq = Some(last);
    }
    Ok(json!({
        "profile": profile,
        "sessions": sessions,
        "api_tokens": tokens,
        "comments": comments,
        "records": { "reported": reported, "assigned": assigned },
        "notifications": notifications,
        "audit_log": audit_rows,
    }))
}

/// What an erasure removed, for its audit row.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct Erased {
    pub sessions: u64,
    pub api_tokens: u64,
    pub notifications: u64,
    pub mail: u64,
    pub links: u64,
    pub audit_rows: u64,
}

/// Erases a member's personal data (not hides it): the account keeps its
/// id, so the records and comments they wrote stay attributed, but its
/// name becomes `label` ("Deleted user #n"), its email, phone, job title,
/// department, bio, time zone and password hash are cleared; their
/// sessions (with addresses and user agents), API tokens, notifications,
/// mail to them, reset links and the invitation that brought them are
/// deleted; audit rows lose their personal values ([`audit::erase_person`]).
/// Call it inside the transaction that records the erasure.
pub async fn erase(db: &impl ConnectionTrait, scope: TeamScope, user: UserId, label: &str) -> StoreResult<Erased> {
    use crate::entity::{invitations, outbox, password_resets};
    use sea_orm::sea_query::{Expr, ExprTrait};
    let team = scope.team_id().as_uuid();
    let id = user.as_uuid();
    let person = users::Entity::find_by_id(id)
        .filter(users::Column::TeamId.eq(team))
        .one(db)
        .await?
        .ok_or(StoreError::NotFound)?;
    let values = audit::PersonalValues(
        [
            Some(person.email.clone()),
            Some(person.name.clone()),
            person.phone.clone(),
            person.job_title.clone(),
            person.department.clone(),
            person.bio.clone(),
        ]
        .into_iter()
        .flatten()
        .map(|v| v.trim().to_owned())
        // A value this short would match unrelated text (`Al`, `QA`).
        .filter(|v| v.chars().count() >= 4)
        .collect(),
    );
    let now = chrono::Utc::now();
    let mut erased =
        Erased { audit_rows: audit::erase_person(db, scope.team_id(), user, &values).await?, ..Erased::default() };
    erased.sessions = sessions::Entity::delete_many()
        .filter(sessions::Column::TeamId.eq(team))
        .filter(sessions::Column::UserId.eq(id))
        .exec(db)
        .await?
        .rows_affected;
    erased.api_tokens = api_tokens::Entity::delete_many()
        .filter(api_tokens::Column::TeamId.eq(team))
        .filter(api_tokens::Column::UserId.eq(id))
        .exec(db)
        .await?
        .rows_affected;
    erased.notifications = notifications::Entity::delete_many()
        .filter(notifications::Column::TeamId.eq(team))
        .filter(notifications::Column::UserId.eq(id))
        .exec(db)
        .await?
        .rows_affected;
    erased.mail = outbox::Entity::delete_many()
        .filter(outbox::Column::Channel.eq(crate::outbox::Channel::Email.as_str()))
        .filter(outbox::Column::TargetId.eq(id))
        .exec(db)
        .await?
        .rows_affected;
    erased.links = password_resets::Entity::delete_many()
        .filter(password_resets::Column::UserId.eq(id))
        .exec(db)
        .await?
        .rows_affected
        + invitations::Entity::delete_many()
            .filter(invitations::Column::TeamId.eq(team))
            .filter(invitations::Column::EmailNormalized.eq(person.email_normalized.clone()))
            .exec(db)
            .await?
            .rows_affected;
    users::Entity::update_many()
        .col_expr(users::Column::Name, Expr::value(label))
        .col_expr(users::Column::Email, Expr::value(format!("deleted-{id}{}", crate::users::ERASED_EMAIL_DOMAIN)))
        .col_expr(users::Column::EmailNormalized, Expr::value(format!("deleted:{id}")))
        .col_expr(users::Column::PasswordHash, Expr::value(""))
        .col_expr(users::Column::Phone, Expr::value(Option::<String>::None))
        .col_expr(users::Column::JobTitle, Expr::value(Option::<String>::None))
        .col_expr(users::Column::Department, Expr::value(Option::<String>::None))
        .col_expr(users::Column::Bio, Expr::value(Option::<String>::None))
        .col_expr(users::Column::TimeZone, Expr::value(Option::<String>::None))
        .col_expr(users::Column::LastLoginAt, Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None))
        .col_expr(users::Column::Status, Expr::value(vulntrack_domain::UserStatus::Inactive.as_str()))
        .col_expr(users::Column::DeletedAt, Expr::value(now))
        .col_expr(users::Column::UpdatedAt, Expr::value(now))
        .col_expr(users::Column::Version, Expr::col(users::Column::Version).add(1))
        .filter(users::Column::Id.eq(id))
        .filter(users::Column::TeamId.eq(team))
        .exec(db)
        .await?;
    Ok(erased)
}

/// How many of the team's members have been erased: the next one is
/// "Deleted user #(n + 1)".
pub async fn erased_count(db: &impl ConnectionTrait, scope: TeamScope) -> StoreResult<u64> {
    use sea_orm::PaginatorTrait;
    Ok(users::Entity::find()
        .filter(users::Column::TeamId.eq(scope.team_id().as_uuid()))
        .filter(users::Column::EmailNormalized.starts_with("deleted:"))
        .filter(users::Column::Email.ends_with(crate::users::ERASED_EMAIL_DOMAIN))
        .count(db)
        .await?)
}
