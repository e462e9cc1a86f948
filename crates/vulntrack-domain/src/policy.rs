//! The one authorization table: which role may do what. Handlers ask
//! `principal.require(Action::…)`; nothing else compares roles.

use crate::role::Role;

/// Something a signed-in user may try to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Read the team's vulnerabilities, comments, members and stats.
    ReadVulnerabilities,
    /// Create, edit, delete, assign vulnerabilities and change their status.
    WriteVulnerabilities,
    /// Comment on vulnerabilities (and edit or delete one's own comments).
    Comment,
    /// Delete other people's comments.
    ModerateComments,
    /// Invite users, change roles, deactivate, unlock, reset passwords.
    ManageUsers,
    /// Rename the team and change its settings.
    ManageTeam,
    /// Read and export the audit log and security alerts.
    ViewAudit,
    /// Approve or reject a request to accept a risk.
    DecideRiskAcceptance,
}

impl Action {
    /// A stable name for the audit log.
    pub const fn name(self) -> &'static str {
        match self {
            Action::ReadVulnerabilities => "read_vulnerabilities",
            Action::WriteVulnerabilities => "write_vulnerabilities",
            Action::Comment => "comment",
            Action::ModerateComments => "moderate_comments",
            Action::ManageUsers => "manage_users",
            Action::ManageTeam => "manage_team",
            Action::ViewAudit => "view_audit",
            Action::DecideRiskAcceptance => "decide_risk_acceptance",
        }
    }
}

impl Role {
    /// Whether this role may perform `action`.
    pub const fn allows(self, action: Action) -> bool {
        use Action::*;
        match self {
            Role::Admin => true,
            Role::Analyst => matches!(action, ReadVulnerabilities | WriteVulnerabilities | Comment),
            Role::Viewer => matches!(action, ReadVulnerabilities),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Action::*;

    #[test]
    fn the_role_table() {
        let all = [
            ReadVulnerabilities,
            WriteVulnerabilities,
            Comment,
            ModerateComments,
            ManageUsers,
            ManageTeam,
            ViewAudit,
            DecideRiskAcceptance,
        ];
        for action in all {
            assert!(Role::Admin.allows(action), "admin may {action:?}");
        }
        assert!(Role::Analyst.allows(WriteVulnerabilities));
        assert!(Role::Analyst.allows(Comment));
        for action in [ModerateComments, ManageUsers, ManageTeam, ViewAudit, DecideRiskAcceptance] {
            assert!(!Role::Analyst.allows(action), "analyst may not {action:?}");
        }
        for action in all {
            assert_eq!(Role::Viewer.allows(action), action == ReadVulnerabilities, "viewer and {action:?}");
        }
    }
}
