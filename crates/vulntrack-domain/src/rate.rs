//! Rate-limit rules as operators write them: `N/WINDOW`, e.g. `5/15m`.

use std::{fmt, time::Duration};

use crate::duration::parse_duration;

/// At most `limit` events in any `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateRule {
    pub limit: u32,
    pub window: Duration,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must look like 5/15m: a positive count, a slash and a window (s, m, h or d)")]
pub struct RateRuleError;

impl RateRule {
    pub const fn new(limit: u32, window: Duration) -> Self {
        Self { limit, window }
    }

    pub fn parse(text: &str) -> Result<Self, RateRuleError> {
        let (count, window) = text.trim().split_once('/').ok_or(RateRuleError)?;
        let limit: u32 = count.trim().parse().map_err(|_| RateRuleError)?;
        let window = parse_duration(window).map_err(|_| RateRuleError)?;
        if limit == 0 {
            return Err(RateRuleError);
        }
        Ok(Self { limit, window })
    }
}

impl fmt::Display for RateRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}s", self.limit, self.window.as_secs())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_parse() {
        assert_eq!(RateRule::parse("5/15m"), Ok(RateRule::new(5, Duration::from_secs(900))));
        assert_eq!(RateRule::parse("100/1m"), Ok(RateRule::new(100, Duration::from_secs(60))));
        assert_eq!(RateRule::parse(" 5 / 1h "), Ok(RateRule::new(5, Duration::from_secs(3600))));
        for bad in ["", "5", "0/1m", "-1/1m", "five/1m", "5/", "5/forever", "5/15x"] {
            assert!(RateRule::parse(bad).is_err(), "{bad}");
        }
    }
}
