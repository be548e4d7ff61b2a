//! Organization ids: the platform's own strings (like `clx...`), checked once at the edge.

use std::fmt;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct OrgId(String);

impl OrgId {
    /// Accepts 1–128 visible ASCII characters: anything else in an org claim is a mistake.
    pub fn parse(value: &str) -> Result<Self, String> {
        if value.is_empty() || value.len() > 128 {
            return Err("an organization id must be 1 to 128 characters".into());
        }
        if !value.bytes().all(|b| b.is_ascii_graphic()) {
            return Err("an organization id may hold only visible ASCII characters".into());
        }
        Ok(Self(value.to_owned()))
    }

    /// An id read back from the database: it was checked when it was written.
    pub fn stored(value: String) -> Self {
        Self(value)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for OrgId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}
