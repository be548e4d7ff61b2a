//! Lists that fill dropdowns: an input field whose `list` names one of these gets its choices
//! from `GET /api/integrations/lists/{key}`, which asks the platform's API (`KAANHA_UPSTREAM_URL`)
//! for a page of items matching what the user types.

#[derive(Debug)]
pub struct ListSource {
    /// Also the last segment of `GET /api/integrations/lists/{key}`.
    pub key: &'static str,
    pub label: &'static str,
    /// The platform's route, called as `GET {path}?q=&cursor=&limit=`.
    pub upstream_path: &'static str,
    /// The item's field that is the choice's value.
    pub value_field: &'static str,
    /// Fields shown as the choice's label, the first present one wins.
    pub label_fields: &'static [&'static str],
}

pub static LISTS: &[ListSource] = &[
    ListSource {
        key: "contacts",
        label: "Contacts",
        upstream_path: "/api/contacts",
        value_field: "id",
        label_fields: &["name", "phone", "email", "id"],
    },
    ListSource {
        key: "conversations",
        label: "Conversations",
        upstream_path: "/api/conversations",
        value_field: "id",
        label_fields: &["subject", "contactName", "id"],
    },
    ListSource {
        key: "tags",
        label: "Tags",
        upstream_path: "/api/tags",
        value_field: "name",
        label_fields: &["label", "name"],
    },
];

pub fn find(key: &str) -> Option<&'static ListSource> {
    LISTS.iter().find(|list| list.key == key)
}
