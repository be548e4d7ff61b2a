//! Object ids: a type prefix and a UUIDv7, so ids sort by creation time (cursor pagination
//! walks them in order) and a stray id in a log says what it names.
//!
//! Webhooks, deliveries and log rows store the UUID alone, as 16 bytes: deliveries and log
//! rows are what a deployment keeps millions of, and each holds its webhook's id too. The API
//! shows an id with its prefix (`show`) and reads it back with `parse`.

use uuid::Uuid;

/// The prefix of a webhook's id.
pub const WEBHOOK: &str = "wh";
/// The prefix of a delivery's id.
pub const DELIVERY: &str = "dlv";
/// The prefix of a log row's (an attempt's) id.
pub const ATTEMPT: &str = "att";

/// `new_id("wh")` → `wh_0190f5a2c3b47d8e9f...`.
pub fn new_id(prefix: &str) -> String {
    show(prefix, &new_uuid())
}

/// A new id stored as 16 bytes: it sorts as its time does, as `new_id`'s text does.
pub fn new_uuid() -> Uuid {
    Uuid::now_v7()
}

/// The id as the API shows it: `show("dlv", id)` → `dlv_0190f5a2c3b47d8e9f...`.
pub fn show(prefix: &str, id: &Uuid) -> String {
    format!("{prefix}_{}", id.simple())
}

/// The UUID of an id the API showed with `prefix`; `None` for anything else, which names no
/// row.
pub fn parse(prefix: &str, text: &str) -> Option<Uuid> {
    let hex = text.strip_prefix(prefix)?.strip_prefix('_')?;
    if hex.len() != 32 {
        return None;
    }
    Uuid::try_parse(hex).ok()
}

/// The smallest id `new_uuid()` can make at `at` or later: ids made before `at` sort below
/// it, so a time range of rows is an id range (and the primary key serves as the time index).
pub fn first_uuid_at(at: chrono::DateTime<chrono::Utc>) -> Uuid {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    uuid::Builder::from_unix_timestamp_millis(millis, &[0; 10]).into_uuid()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_before_a_time_sort_below_its_first_id_and_later_ones_above() {
        let before = new_uuid();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let cutoff = first_uuid_at(crate::infra::time::now());
        std::thread::sleep(std::time::Duration::from_millis(2));
        let after = new_uuid();
        assert!(before < cutoff, "{before} !< {cutoff}");
        assert!(cutoff < after, "{cutoff} !< {after}");
        // Stored as bytes they sort as they do here: byte by byte, as their text did.
        assert!(before.as_bytes() < cutoff.as_bytes() && cutoff.as_bytes() < after.as_bytes());
    }

    #[test]
    fn an_id_shown_reads_back_and_nothing_else_does() {
        let id = new_uuid();
        let shown = show(DELIVERY, &id);
        assert_eq!(parse(DELIVERY, &shown), Some(id));
        assert_eq!(parse(ATTEMPT, &shown), None);
        assert_eq!(parse(DELIVERY, &shown.replace('_', "-")), None);
        assert_eq!(parse(DELIVERY, &format!("dlv_{}", id.hyphenated())), None);
        assert_eq!(parse(DELIVERY, "dlv_"), None);
        assert_eq!(parse(DELIVERY, "dlv_zz"), None);
    }
}
