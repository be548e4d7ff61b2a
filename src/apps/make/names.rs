//! Make's names and labels: component names match `^[a-zA-Z][0-9a-zA-Z]{2,63}$` (no `_`, no
//! `.`), labels follow Make's own apps ("Watch Message Received", "Create a Contact",
//! "Search Contacts", "Make an API Call").

/// `message_received` → `MessageReceived`.
pub fn pascal(key: &str) -> String {
    key.split(['_', '.', '-'])
        .filter(|part| !part.is_empty())
        .map(super::super::title_case)
        .collect()
}

/// `send_message` → `sendMessage`.
pub fn camel(key: &str) -> String {
    let pascal = pascal(key);
    let mut chars = pascal.chars();
    chars
        .next()
        .map(|first| first.to_lowercase().chain(chars).collect())
        .unwrap_or_default()
}

/// The instant trigger of an event type, and its webhook: `watchMessageReceived`.
pub fn trigger_module(trigger_key: &str) -> String {
    format!("watch{}", pascal(trigger_key))
}

pub fn webhook(trigger_key: &str) -> String {
    format!("{}Hook", camel(trigger_key))
}

/// The RPC that fills a dropdown from one of the gateway's lists: `listContacts`.
pub fn rpc(list_key: &str) -> String {
    format!("list{}", pascal(list_key))
}

/// "Send Message" (noun "Message") → "Send a Message"; a search → "Search Contacts".
pub fn action_label(label: &str, noun: &str, kind: &str) -> String {
    if kind == "search" {
        return format!("Search {noun}s");
    }
    let Some(verb) = label.strip_suffix(noun).map(str::trim) else {
        return label.to_owned();
    };
    let article = if noun.starts_with(['A', 'E', 'I', 'O', 'U']) {
        "an"
    } else {
        "a"
    };
    format!("{verb} {article} {noun}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_what_make_accepts_and_labels_read_as_makes_own() {
        let valid = |name: &str| {
            name.len() >= 3
                && name.len() <= 64
                && name.starts_with(|c: char| c.is_ascii_alphabetic())
                && name.chars().all(|c| c.is_ascii_alphanumeric())
        };
        for name in [
            trigger_module("message_received"),
            webhook("contact_opted_out"),
            camel("create_payment_link"),
            rpc("contacts"),
        ] {
            assert!(valid(&name), "{name}");
        }
        assert_eq!(trigger_module("message_received"), "watchMessageReceived");
        assert_eq!(camel("create_payment_link"), "createPaymentLink");
        assert_eq!(
            action_label("Create Contact", "Contact", "create"),
            "Create a Contact"
        );
        assert_eq!(
            action_label("Resolve Conversation", "Conversation", "update"),
            "Resolve a Conversation"
        );
        assert_eq!(
            action_label("Find Contact", "Contact", "search"),
            "Search Contacts"
        );
    }
}
