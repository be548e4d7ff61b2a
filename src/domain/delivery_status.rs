//! A delivery's state: `pending` (waiting for its next attempt) → `delivered` | `failed`.

use super::named::Named;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeliveryStatus {
    Pending,
    Delivered,
    Failed,
}

impl Named for DeliveryStatus {
    const ALL: &'static [Self] = &[Self::Pending, Self::Delivered, Self::Failed];

    fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Delivered => "delivered",
            Self::Failed => "failed",
        }
    }
}

impl DeliveryStatus {
    /// The state a stored row names; an unknown name (never written) reads as pending, so
    /// the engine retries rather than forgets.
    pub fn from_db(name: &str) -> Self {
        Self::parse(name).unwrap_or(Self::Pending)
    }
}
