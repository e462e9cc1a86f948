//! Every action the audit log records: one list, so the names written, the
//! names the viewer filters on and the names alert rules count cannot drift
//! apart (they are stored as these strings).

use crate::string_enum;

string_enum!(
    /// What an audit row records.
    AuditAction {
        Login => "LOGIN",
        LoginFailed => "LOGIN_FAILED",
        Logout => "LOGOUT",
        LogoutAll => "LOGOUT_ALL",
        AccountLocked => "ACCOUNT_LOCKED",
        AccountUnlocked => "ACCOUNT_UNLOCKED",
        SetupCompleted => "SETUP_COMPLETED",
        UserCreated => "USER_CREATED",
        UserRegistered => "USER_REGISTERED",
        UserInvited => "USER_INVITED",
        InvitationAccepted => "INVITATION_ACCEPTED",
        InvitationRevoked => "INVITATION_REVOKED",
        UserRoleChanged => "USER_ROLE_CHANGED",
        UserDeactivated => "USER_DEACTIVATED",
        UserReactivated => "USER_REACTIVATED",
        UserDeleted => "USER_DELETED",
        ProfileUpdated => "PROFILE_UPDATED",
        PasswordChanged => "PASSWORD_CHANGED",
        PasswordResetRequested => "PASSWORD_RESET_REQUESTED",
        PasswordReset => "PASSWORD_RESET",
        SessionRevoked => "SESSION_REVOKED",
        SessionsRevoked => "SESSIONS_REVOKED",
        TokenCreated => "TOKEN_CREATED",
        TokenRevoked => "TOKEN_REVOKED",
        TokensRevoked => "TOKENS_REVOKED",
        TeamUpdated => "TEAM_UPDATED",
        SettingsChanged => "SETTINGS_CHANGED",
        PermissionDenied => "PERMISSION_DENIED",
        VulnerabilityCreated => "VULNERABILITY_CREATED",
        VulnerabilityUpdated => "VULNERABILITY_UPDATED",
        VulnerabilityStatusChanged => "VULNERABILITY_STATUS_CHANGED",
        VulnerabilityAssigned => "VULNERABILITY_ASSIGNED",
        VulnerabilityDeleted => "VULNERABILITY_DELETED",
        CommentAdded => "COMMENT_ADDED",
        CommentUpdated => "COMMENT_UPDATED",
        CommentDeleted => "COMMENT_DELETED",
        DataExported => "DATA_EXPORTED",
        AlertAcknowledged => "ALERT_ACKNOWLEDGED",
        ViewSaved => "VIEW_SAVED",
        ViewDeleted => "VIEW_DELETED",
        AssetCreated => "ASSET_CREATED",
        AssetUpdated => "ASSET_UPDATED",
        AssetDeleted => "ASSET_DELETED",
        ImportCompleted => "IMPORT_COMPLETED",
        RiskAcceptanceRequested => "RISK_ACCEPTANCE_REQUESTED",
        RiskAcceptanceApproved => "RISK_ACCEPTANCE_APPROVED",
        RiskAcceptanceRejected => "RISK_ACCEPTANCE_REJECTED",
        RiskAcceptanceExpired => "RISK_ACCEPTANCE_EXPIRED",
        VulnerabilityKnownExploited => "VULNERABILITY_KNOWN_EXPLOITED",
        PersonalDataExported => "PERSONAL_DATA_EXPORTED",
        WebhookCreated => "WEBHOOK_CREATED",
        WebhookDeleted => "WEBHOOK_DELETED",
        AuditChainUpgraded => "AUDIT_CHAIN_UPGRADED",
        RetentionPurged => "RETENTION_PURGED",
    }
);

string_enum!(
    /// The security alert rules: one list for the rules' names, stored as
    /// these strings.
    AlertRule {
        FailedLoginsAccount => "FAILED_LOGINS_ACCOUNT",
        PasswordSpraying => "PASSWORD_SPRAYING",
        PrivilegeEscalationAttempts => "PRIVILEGE_ESCALATION_ATTEMPTS",
        InvalidApiTokens => "INVALID_API_TOKENS",
        DatabaseUnreachable => "DATABASE_UNREACHABLE",
        StorageFault => "STORAGE_FAULT",
        HighErrorRate => "HIGH_ERROR_RATE",
        CveSyncFailing => "CVE_SYNC_FAILING",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_round_trip() {
        let names = AuditAction::names();
        let mut unique = names.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), names.len());
        for action in AuditAction::ALL {
            assert_eq!(action.as_str().parse::<AuditAction>(), Ok(*action));
        }
        assert!("LOGIN_FAIL".parse::<AuditAction>().is_err());
        assert_eq!(AlertRule::ALL.len(), AlertRule::names().len());
    }
}
