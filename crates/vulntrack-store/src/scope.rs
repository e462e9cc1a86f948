//! The only way in to tenant data.

use vulntrack_domain::TeamId;

/// Proof that the caller acts for one team. Every store function that reads
/// or writes tenant rows takes one and filters by it, so no code path can
/// reach another team's data.
///
/// It cannot be built from a bare id outside this crate: it comes from a
/// loaded user (the authenticated principal, see [`crate::users::User::scope`])
/// or from the operator-only team functions in [`crate::teams`].
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
