//! Durations as operators write them: `90s`, `15m`, `4h`, `30d`.

use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("must be a number followed by s, m, h or d (e.g. 15m, 4h, 30d)")]
pub struct DurationError;

/// Parses `<positive integer><unit>` with unit s, m, h or d.
pub fn parse_duration(text: &str) -> Result<Duration, DurationError> {
    let text = text.trim();
    let split = text.find(|c: char| !c.is_ascii_digit()).ok_or(DurationError)?;
    let (number, unit) = text.split_at(split);
    let number: u64 = number.parse().map_err(|_| DurationError)?;
    let seconds_per_unit = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(DurationError),
    };
    match number.checked_mul(seconds_per_unit) {
        Some(0) | None => Err(DurationError),
        Some(seconds) => Ok(Duration::from_secs(seconds)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn units() {
        assert_eq!(parse_duration("90s"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("15m"), Ok(Duration::from_secs(900)));
        assert_eq!(parse_duration("4h"), Ok(Duration::from_secs(14_400)));
        assert_eq!(parse_duration("30d"), Ok(Duration::from_secs(2_592_000)));
    }

    #[test]
    fn refusals() {
        for bad in ["", "h", "4", "4 h", "-4h", "4w", "0h", "4.5h", "99999999999999999999d"] {
            assert_eq!(parse_duration(bad), Err(DurationError), "{bad:?}");
        }
    }
}
