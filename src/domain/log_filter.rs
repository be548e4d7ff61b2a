//! What a page of the log is narrowed by.

use chrono::{DateTime, Utc};
use sea_orm::prelude::Uuid;

/// Filters of the log.
#[derive(Debug, Default)]
pub struct LogFilter<'a> {
    pub status: Option<&'a str>,
    pub event_type: Option<&'a str>,
    /// An event id (the envelope's `id`) or a delivery id: every attempt of it.
    pub search: Option<&'a str>,
    /// Attempts made at or after this time.
    pub since: Option<DateTime<Utc>>,
    /// Attempts made before this time.
    pub until: Option<DateTime<Utc>>,
    /// Attempts older than this one (its id).
    pub cursor: Option<Uuid>,
}
