//! The only way in to tenant data.

use vulntrack_domain::TeamId;

/// Proof that the caller acts for one team. Every store function that reads
/// or writes tenant rows takes one and filters by it, so no code path can
/// reach another team's data.
///
/// It cannot be built from a bare id outside this crate: it comes from a
/// loaded user (the authenticated principal, see [`crate::users::User::scope`])
/// or from the operator-only team functions in [`crate::teams`]. The
/// records that hand one out (`User`, `Team`, `Session`, `ApiToken`,
/// `Invitation`, `PasswordReset`) are `#[non_exhaustive]`, so they cannot
/// be made up outside the store either. These examples are compiled by
/// `cargo test` and must keep failing:
///
/// ```compile_fail,E0624
/// // A scope from a bare id: `new` is private to the store.
/// let team = vulntrack_domain::TeamId::from_uuid(uuid::Uuid::nil());
/// let _ = vulntrack_store::TeamScope::new(team);
/// ```
///
/// ```compile_fail,E0451
/// // A scope as a struct literal: its field is private.
/// let team = vulntrack_domain::TeamId::from_uuid(uuid::Uuid::nil());
/// let _ = vulntrack_store::TeamScope { team_id: team };
/// ```
///
/// ```compile_fail,E0639
/// // A made-up team whose `scope()` would vouch for any id.
/// let team = vulntrack_store::teams::Team {
///     id: vulntrack_domain::TeamId::from_uuid(uuid::Uuid::nil()),
///     name: String::new(),
///     session_ttl_seconds: None,
///     created_at: chrono::Utc::now(),
///     updated_at: chrono::Utc::now(),
///     version: 1,
/// };
/// let _ = team.scope();
/// ```
///
/// while everything those examples name exists and is readable from
/// anywhere (so they fail for the reason given, not for a typo):
///
/// ```
/// let _ = vulntrack_domain::TeamId::from_uuid(uuid::Uuid::nil());
/// fn team_of(scope: vulntrack_store::TeamScope) -> vulntrack_domain::TeamId {
///     scope.team_id()
/// }
/// fn scope_of(team: &vulntrack_store::teams::Team) -> vulntrack_store::TeamScope {
///     let _ = (&team.id, &team.name, &team.session_ttl_seconds, &team.created_at, &team.updated_at, &team.version);
///     team.scope()
/// }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TeamScope {
    team_id: TeamId,
}

impl TeamScope {
    pub(crate) const fn new(team_id: TeamId) -> Self {
        Self { team_id }
    }

    pub const fn team_id(&self) -> TeamId {
        self.team_id
    }
}
