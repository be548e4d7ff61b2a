//! Object ids: a type prefix and a UUIDv7, so ids sort by creation time (cursor pagination
//! walks them in order) and a stray id in a log says what it names.

/// `new_id("wh")` → `wh_0190f5a2c3b47d8e9f...`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}

/// The smallest id `new_id(prefix)` can make at `at` or later: ids made before `at` sort below
/// it, so a time range of rows is an id range (and the primary key serves as the time index).
pub fn first_id_at(prefix: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let millis = u64::try_from(at.timestamp_millis()).unwrap_or(0);
    let uuid = uuid::Builder::from_unix_timestamp_millis(millis, &[0; 10]).into_uuid();
    format!("{prefix}_{}", uuid.simple())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_made_before_a_time_sort_below_its_first_id_and_later_ones_above() {
        let before = new_id("att");
        std::thread::sleep(std::time::Duration::from_millis(2));
        let cutoff = first_id_at("att", crate::infra::time::now());
        std::thread::sleep(std::time::Duration::from_millis(2));
        let after = new_id("att");
        assert!(before < cutoff, "{before} !< {cutoff}");
        assert!(cutoff < after, "{cutoff} !< {after}");
    }
}
