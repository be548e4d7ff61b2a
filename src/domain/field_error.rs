//! What the domain says when a value it is asked to accept is not valid: which field, and why.

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// The field's name as sent, e.g. `url` or `events[2]`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            field: field.into(),
            message: message.into(),
        }
    }
}
