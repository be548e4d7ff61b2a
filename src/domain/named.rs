//! Enums that are stored and shown by name (`active`, `zapier`, `pending`): one list of
//! variants, one spelling each. The HTTP layer shows them in the OpenAPI document from `ALL`.

pub trait Named: Copy + PartialEq + Sized + 'static {
    /// Every variant, in the order documents list them.
    const ALL: &'static [Self];

    fn as_str(self) -> &'static str;

    /// The variant with this exact name.
    fn parse(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == name)
    }
}
