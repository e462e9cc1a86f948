//! The account lockout rule (DESIGN.md §2): the 5th failed sign-in within
//! 15 minutes locks the account for 15 minutes.

use chrono::{DateTime, Duration, Utc};

pub const MAX_FAILURES: i32 = 5;
pub const FAILURE_WINDOW: Duration = Duration::minutes(15);
pub const LOCK_DURATION: Duration = Duration::minutes(15);

/// An account's failed sign-in bookkeeping.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct LoginFailures {
    pub count: i32,
    pub window_start: Option<DateTime<Utc>>,
    pub locked_until: Option<DateTime<Utc>>,
}

impl LoginFailures {
    pub fn is_locked(&self, now: DateTime<Utc>) -> bool {
        self.locked_until.is_some_and(|until| until > now)
    }

    /// The bookkeeping after one more failure at `now`. A failure outside
    /// the window starts a new window; reaching the limit sets the lock.
    pub fn after_failure(self, now: DateTime<Utc>) -> Self {
        let in_window = self.window_start.is_some_and(|start| now - start < FAILURE_WINDOW);
        let (count, window_start) = if in_window { (self.count + 1, self.window_start) } else { (1, Some(now)) };
        let locked_until = if count >= MAX_FAILURES { Some(now + LOCK_DURATION) } else { self.locked_until };
        Self { count, window_start, locked_until }
    }

    /// Whether this failure is the one that locked the account.
    pub fn just_locked(&self, before: &Self, now: DateTime<Utc>) -> bool {
        self.is_locked(now) && !before.is_locked(now)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fifth_failure_in_the_window_locks() {
        let start = Utc::now();
        let mut state = LoginFailures::default();
        for i in 0..4 {
            state = state.after_failure(start + Duration::minutes(i));
            assert!(!state.is_locked(start + Duration::minutes(i)));
        }
        let before = state;
        let now = start + Duration::minutes(10);
        state = state.after_failure(now);
        assert!(state.is_locked(now));
        assert!(state.just_locked(&before, now));
        assert!(state.is_locked(now + Duration::minutes(14)));
        assert!(!state.is_locked(now + Duration::minutes(15)));
    }

    #[test]
    fn failures_outside_the_window_start_over() {
        let start = Utc::now();
        let mut state = LoginFailures::default();
        for i in 0..4 {
            state = state.after_failure(start + Duration::minutes(i));
        }
        state = state.after_failure(start + Duration::minutes(20));
        assert_eq!(state.count, 1);
        assert!(!state.is_locked(start + Duration::minutes(20)));
    }
}
