//! Object ids: a type prefix and a UUIDv7, so ids sort by creation time (cursor pagination
//! walks them in order) and a stray id in a log says what it names.

/// `new_id("wh")` → `wh_0190f5a2c3b47d8e9f...`.
pub fn new_id(prefix: &str) -> String {
    format!("{prefix}_{}", uuid::Uuid::now_v7().simple())
}
