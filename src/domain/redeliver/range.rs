//! The time range of a recover or a replay: `since`, and `until` (now when absent).

use chrono::{DateTime, Duration, Utc};

use crate::domain::field_error::FieldError;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeRange {
    pub since: DateTime<Utc>,
    pub until: DateTime<Utc>,
}

impl TimeRange {
    /// A range that starts in the past, ends after it starts and spans at most `widest`.
    pub fn parse(
        since: DateTime<Utc>,
        until: Option<DateTime<Utc>>,
        now: DateTime<Utc>,
        widest: Duration,
    ) -> Result<Self, FieldError> {
        if since > now {
            return Err(FieldError::new("since", "must not be in the future"));
        }
        let until = until.unwrap_or(now);
        if until <= since {
            return Err(FieldError::new("until", "must be after since"));
        }
        if until - since > widest {
            return Err(FieldError::new(
                "until",
                format!(
                    "the range may span at most {} days; split it into several calls",
                    widest.num_days()
                ),
            ));
        }
        Ok(Self { since, until })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours_ago: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap() - Duration::hours(hours_ago)
    }

    #[test]
    fn until_defaults_to_now_and_the_span_is_bounded() {
        let now = at(0);
        let range = TimeRange::parse(at(24), None, now, Duration::days(14)).unwrap();
        assert_eq!(range.until, now);
        let too_wide = TimeRange::parse(at(24 * 15), None, now, Duration::days(14));
        assert_eq!(too_wide.unwrap_err().field, "until");
        let backwards = TimeRange::parse(at(2), Some(at(3)), now, Duration::days(14));
        assert_eq!(backwards.unwrap_err().field, "until");
        let future = TimeRange::parse(now + Duration::hours(1), None, now, Duration::days(14));
        assert_eq!(future.unwrap_err().field, "since");
    }
}
