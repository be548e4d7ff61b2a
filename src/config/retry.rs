//! The retry policy (`KAANHA_RETRY_SCHEDULE`): the Kaanha webhooks documentation's schedule (5 s, 25 s, 2 min after
//! failures) and the bounds within which a receiver's `Retry-After` is honoured.

use std::{fmt, str::FromStr, time::Duration};

/// Delays before each retry; attempt 1 is immediate, so `len() + 1` attempts in all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RetrySchedule(Vec<Duration>);

/// A receiver's `Retry-After` is honoured between these bounds: never a tight loop, never a
/// delivery parked for longer than the whole documented schedule would wait many times over.
pub const RETRY_AFTER_MIN: Duration = Duration::from_secs(1);
pub const RETRY_AFTER_MAX: Duration = Duration::from_secs(60 * 60);

impl RetrySchedule {
    pub fn delays(&self) -> &[Duration] {
        &self.0
    }

    /// Attempts in all: the first plus one per retry.
    pub fn max_attempts(&self) -> u32 {
        self.0.len() as u32 + 1
    }

    /// The delay before the next attempt after `attempts_made` failed ones; `None` when the
    /// schedule is exhausted and the delivery has failed. `retry_after` (from a 429/503) replaces
    /// the scheduled delay, clamped to [`RETRY_AFTER_MIN`, `RETRY_AFTER_MAX`].
    pub fn next_delay(
        &self,
        attempts_made: u32,
        retry_after: Option<Duration>,
    ) -> Option<Duration> {
        let scheduled = *self.0.get(attempts_made.checked_sub(1)? as usize)?;
        Some(match retry_after {
            Some(asked) => asked.clamp(RETRY_AFTER_MIN, RETRY_AFTER_MAX),
            None => scheduled,
        })
    }
}

impl FromStr for RetrySchedule {
    type Err = String;

    /// `5s,25s,2m`; `none` or an empty string for no retries.
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let text = text.trim();
        if text.is_empty() || text.eq_ignore_ascii_case("none") {
            return Ok(Self(Vec::new()));
        }
        text.split(',')
            .map(|part| {
                let part = part.trim();
                humantime::parse_duration(part).map_err(|_| {
                    format!("`{part}` is not a duration; write delays like `5s,25s,2m` or `500ms`")
                })
            })
            .collect::<Result<Vec<_>, _>>()
            .and_then(|delays| {
                if delays.len() > 20 {
                    Err("at most 20 retries may be scheduled".to_owned())
                } else {
                    Ok(Self(delays))
                }
            })
    }
}

/// As `KAANHA_RETRY_SCHEDULE` takes it: `5s,25s,2m`, or `none`.
impl fmt::Display for RetrySchedule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return f.write_str("none");
        }
        let parts: Vec<String> = self
            .0
            .iter()
            .map(|d| humantime::format_duration(*d).to_string())
            .collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_documented_schedule_parses_and_ends_after_the_third_retry() {
        let schedule: RetrySchedule = "5s,25s,2m".parse().unwrap();
        assert_eq!(schedule.max_attempts(), 4);
        assert_eq!(schedule.next_delay(1, None), Some(Duration::from_secs(5)));
        assert_eq!(schedule.next_delay(2, None), Some(Duration::from_secs(25)));
        assert_eq!(schedule.next_delay(3, None), Some(Duration::from_secs(120)));
        assert_eq!(schedule.next_delay(4, None), None);
    }

    #[test]
    fn bad_schedules_are_refused_with_the_offending_part() {
        let err = "5s,soon,2m".parse::<RetrySchedule>().unwrap_err();
        assert!(err.contains("`soon`"), "{err}");
        assert!("5s,-1s".parse::<RetrySchedule>().is_err());
        assert_eq!("none".parse::<RetrySchedule>().unwrap().max_attempts(), 1);
    }

    #[test]
    fn retry_after_replaces_the_delay_within_bounds() {
        let schedule: RetrySchedule = "5s,25s".parse().unwrap();
        let after = |s| schedule.next_delay(1, Some(Duration::from_secs(s)));
        assert_eq!(after(30), Some(Duration::from_secs(30)));
        assert_eq!(after(0), Some(RETRY_AFTER_MIN));
        assert_eq!(after(86_400), Some(RETRY_AFTER_MAX));
        assert_eq!(schedule.next_delay(3, Some(Duration::from_secs(1))), None);
    }
}
