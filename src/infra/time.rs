//! Time as the gateway shows it: RFC 3339 UTC with milliseconds and `Z`
//! (`2026-03-24T10:30:00.000Z`), the format of the user's document.

use chrono::{DateTime, SecondsFormat, SubsecRound, Utc};

/// The current time, cut to whole milliseconds so what is stored is exactly what is shown.
pub fn now() -> DateTime<Utc> {
    Utc::now().trunc_subsecs(3)
}

/// The time a stored Unix millisecond count names (the epoch for one out of range).
pub fn from_millis(millis: i64) -> DateTime<Utc> {
    DateTime::from_timestamp_millis(millis).unwrap_or_default()
}

/// Formats a time the way every response and delivery carries it.
pub fn format(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_shown_with_milliseconds_and_z() {
        let at = DateTime::parse_from_rfc3339("2026-03-24T10:30:00.123456+00:00").unwrap();
        assert_eq!(
            format(at.with_timezone(&Utc).trunc_subsecs(3)),
            "2026-03-24T10:30:00.123Z"
        );
        assert!(format(now()).ends_with('Z'));
    }
}
