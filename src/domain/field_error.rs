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

    /// `field` holds at most `max` items: every list a client sends has a bound, checked before
    /// its items are looked at, so a long list costs one error, not one per item.
    pub fn at_most<T>(field: &str, items: &[T], max: usize) -> Result<(), FieldError> {
        if items.len() > max {
            return Err(Self::new(
                field,
                format!("may hold at most {max} items, not {}", items.len()),
            ));
        }
        Ok(())
    }
}
