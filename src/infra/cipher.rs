//! Webhook secrets at rest: AES-256-GCM under `KAANHA_ENCRYPTION_KEY`, so a leaked database or
//! backup does not let anyone forge deliveries to every receiver.
//!
//! A sealed secret is stored as `enc:v2:<key id>:<base64 of nonce and ciphertext>`; the key id
//! (the first bytes of the key's SHA-256) says which key opens it, so rows sealed under the
//! previous key keep working during a rotation until they are sealed again. The webhook's id and
//! the column are the associated data: a sealed secret copied to another webhook, or from one
//! column to the other, does not open. `enc:v1:` values (bound to the webhook only) still open,
//! and are sealed again as `v2` at start.

use aes_gcm::{
    Aes256Gcm, Nonce,
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
};
use base64::Engine;
use sha2::{Digest, Sha256};

use uuid::Uuid;

use super::ids;
use crate::config::SecurityConfig;

/// What every sealed value starts with; the version follows.
const PREFIX: &str = "enc:";
const V1: &str = "enc:v1:";
const V2: &str = "enc:v2:";
const NONCE_LEN: usize = 12;

/// Which of a webhook's columns a secret is stored in: part of what it is sealed to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretField {
    Secret,
    PreviousSecret,
}

impl SecretField {
    fn name(self) -> &'static str {
        match self {
            Self::Secret => "secret",
            Self::PreviousSecret => "previous_secret",
        }
    }
}

/// The webhook a value is bound to, as the API shows its id: the form it was stored in until
/// migration 19, so values sealed before still open.
fn shown(webhook_id: &Uuid) -> String {
    ids::show(ids::WEBHOOK, webhook_id)
}

/// The associated data of a `v2` value: the webhook and the column.
fn bound_to(webhook_id: &Uuid, field: SecretField) -> Vec<u8> {
    format!("{}/{}", shown(webhook_id), field.name()).into_bytes()
}

struct Key {
    id: String,
    cipher: Aes256Gcm,
}

impl Key {
    fn new(bytes: [u8; 32]) -> Self {
        Self {
            id: hex::encode(&Sha256::digest(bytes)[..4]),
            cipher: Aes256Gcm::new(&bytes.into()),
        }
    }
}

/// Seals secrets under the current key and opens them under it or the previous one.
#[derive(Default)]
pub struct SecretBox {
    current: Option<Key>,
    previous: Option<Key>,
}

#[derive(Debug, thiserror::Error)]
pub enum OpenError {
    #[error(
        "it is encrypted under key {0}, which is neither KAANHA_ENCRYPTION_KEY nor KAANHA_ENCRYPTION_KEY_PREVIOUS"
    )]
    UnknownKey(String),
    #[error("it does not decrypt: the stored value is damaged or belongs to another webhook")]
    Damaged,
}

impl SecretBox {
    pub fn from_config(security: &SecurityConfig) -> anyhow::Result<Self> {
        let key = |name: &str, value: &Option<String>| -> anyhow::Result<Option<Key>> {
            value
                .as_deref()
                .map(|v| crate::config::decode_key(name, v).map(Key::new))
                .transpose()
        };
        Ok(Self {
            current: key("KAANHA_ENCRYPTION_KEY", &security.encryption_key)?,
            previous: key(
                "KAANHA_ENCRYPTION_KEY_PREVIOUS",
                &security.encryption_key_previous,
            )?,
        })
    }

    /// Whether secrets are sealed when stored.
    pub fn encrypts(&self) -> bool {
        self.current.is_some()
    }

    /// The stored form of `webhook_id`'s secret in `field`: sealed under the current key, or as
    /// it is when no key is set.
    pub fn seal(&self, webhook_id: &Uuid, field: SecretField, secret: &str) -> String {
        let Some(key) = &self.current else {
            return secret.to_owned();
        };
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let aad = bound_to(webhook_id, field);
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: &aad,
        };
        let sealed = key
            .cipher
            .encrypt(&nonce, payload)
            .expect("AES-GCM encrypts any message this short");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        format!("{V2}{}:{encoded}", key.id)
    }

    /// The secret itself, from its stored form in `field` (which may be plain, from before a key
    /// was set).
    pub fn open(
        &self,
        webhook_id: &Uuid,
        field: SecretField,
        stored: &str,
    ) -> Result<String, OpenError> {
        let (sealed, aad) = if let Some(sealed) = stored.strip_prefix(V2) {
            (sealed, bound_to(webhook_id, field))
        } else if let Some(sealed) = stored.strip_prefix(V1) {
            (sealed, shown(webhook_id).into_bytes())
        } else if stored.starts_with(PREFIX) {
            return Err(OpenError::Damaged);
        } else {
            return Ok(stored.to_owned());
        };
        let (key_id, encoded) = sealed.split_once(':').ok_or(OpenError::Damaged)?;
        let key = [&self.current, &self.previous]
            .into_iter()
            .flatten()
            .find(|key| key.id == key_id)
            .ok_or_else(|| OpenError::UnknownKey(key_id.to_owned()))?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|_| OpenError::Damaged)?;
        if bytes.len() < NONCE_LEN {
            return Err(OpenError::Damaged);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().map_err(|_| OpenError::Damaged)?;
        let payload = Payload {
            msg: ciphertext,
            aad: &aad,
        };
        let plain = key
            .cipher
            .decrypt(&Nonce::from(nonce), payload)
            .map_err(|_| OpenError::Damaged)?;
        String::from_utf8(plain).map_err(|_| OpenError::Damaged)
    }

    /// Whether a stored secret is already sealed, as `v2`, under the current key (or, with no
    /// key set, whether it is plain).
    pub fn is_current(&self, stored: &str) -> bool {
        match (&self.current, stored.strip_prefix(V2)) {
            (Some(key), Some(sealed)) => sealed.split_once(':').is_some_and(|(id, _)| id == key.id),
            (None, _) => !looks_sealed(stored),
            (Some(_), None) => false,
        }
    }
}

/// Whether a secret a client sends could be mistaken for a sealed one.
pub fn looks_sealed(secret: &str) -> bool {
    secret.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sealed_box(current: u8, previous: Option<u8>) -> SecretBox {
        SecretBox {
            current: Some(Key::new([current; 32])),
            previous: previous.map(|p| Key::new([p; 32])),
        }
    }

    const SECRET: SecretField = SecretField::Secret;
    const WH_1: Uuid = Uuid::from_u128(1);
    const WH_2: Uuid = Uuid::from_u128(2);

    #[test]
    fn a_sealed_secret_opens_only_for_its_webhook_and_column_and_under_a_known_key() {
        let old = sealed_box(1, None);
        let stored = old.seal(&WH_1, SECRET, "s3cret");
        assert!(stored.starts_with("enc:v2:") && !stored.contains("s3cret"));
        assert_ne!(
            stored,
            old.seal(&WH_1, SECRET, "s3cret"),
            "a fresh nonce each time"
        );
        assert_eq!(old.open(&WH_1, SECRET, &stored).unwrap(), "s3cret");
        assert!(matches!(
            old.open(&WH_2, SECRET, &stored),
            Err(OpenError::Damaged)
        ));
        assert!(matches!(
            old.open(&WH_1, SecretField::PreviousSecret, &stored),
            Err(OpenError::Damaged)
        ));
        let rotated = sealed_box(2, Some(1));
        assert_eq!(rotated.open(&WH_1, SECRET, &stored).unwrap(), "s3cret");
        assert!(!rotated.is_current(&stored));
        assert!(rotated.is_current(&rotated.seal(&WH_1, SECRET, "s3cret")));
        let unrelated = sealed_box(3, None);
        assert!(matches!(
            unrelated.open(&WH_1, SECRET, &stored),
            Err(OpenError::UnknownKey(_))
        ));
        assert_eq!(unrelated.open(&WH_1, SECRET, "plain").unwrap(), "plain");
        let none = SecretBox::default();
        assert_eq!(none.seal(&WH_1, SECRET, "plain"), "plain");
        assert!(none.is_current("plain") && !none.is_current(&stored));
    }

    #[test]
    fn a_v1_value_bound_to_the_webhook_only_still_opens_and_is_not_current() {
        let key = sealed_box(1, None);
        let v2 = key.seal(&WH_1, SECRET, "s3cret");
        // A v1 value: the same sealing, with the webhook's id alone as associated data, as it
        // was stored before migration 19.
        let Some(Key { cipher, id }) = &key.current else {
            unreachable!()
        };
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = cipher
            .encrypt(
                &nonce,
                Payload {
                    msg: b"s3cret",
                    aad: b"wh_00000000000000000000000000000001",
                },
            )
            .unwrap();
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        let v1 = format!(
            "{V1}{id}:{}",
            base64::engine::general_purpose::STANDARD.encode(bytes)
        );
        assert_eq!(key.open(&WH_1, SECRET, &v1).unwrap(), "s3cret");
        assert!(!key.is_current(&v1) && key.is_current(&v2));
    }
}
