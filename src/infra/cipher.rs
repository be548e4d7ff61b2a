//! Webhook secrets at rest: AES-256-GCM under `KAANHA_ENCRYPTION_KEY`, so a leaked database or
//! backup does not let anyone forge deliveries to every receiver.
//!
//! A sealed secret is stored as `enc:v1:<key id>:<base64 of nonce and ciphertext>`; the key id
//! (the first bytes of the key's SHA-256) says which key opens it, so rows sealed under the
//! previous key keep working during a rotation until they are sealed again. The webhook's id
//! is the associated data: a sealed secret copied to another webhook does not open.

use aes_gcm::{
    Aes256Gcm, Nonce,
    aead::{Aead, AeadCore, KeyInit, OsRng, Payload},
};
use base64::Engine;
use sha2::{Digest, Sha256};

use crate::config::SecurityConfig;

const PREFIX: &str = "enc:v1:";
const NONCE_LEN: usize = 12;

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

    /// The stored form of `webhook_id`'s secret: sealed under the current key, or as it is when
    /// no key is set.
    pub fn seal(&self, webhook_id: &str, secret: &str) -> String {
        let Some(key) = &self.current else {
            return secret.to_owned();
        };
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let payload = Payload {
            msg: secret.as_bytes(),
            aad: webhook_id.as_bytes(),
        };
        let sealed = key
            .cipher
            .encrypt(&nonce, payload)
            .expect("AES-GCM encrypts any message this short");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        let encoded = base64::engine::general_purpose::STANDARD.encode(bytes);
        format!("{PREFIX}{}:{encoded}", key.id)
    }

    /// The secret itself, from its stored form (which may be plain, from before a key was set).
    pub fn open(&self, webhook_id: &str, stored: &str) -> Result<String, OpenError> {
        let Some(sealed) = stored.strip_prefix(PREFIX) else {
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
            aad: webhook_id.as_bytes(),
        };
        let plain = key
            .cipher
            .decrypt(&Nonce::from(nonce), payload)
            .map_err(|_| OpenError::Damaged)?;
        String::from_utf8(plain).map_err(|_| OpenError::Damaged)
    }

    /// Whether a stored secret is already sealed under the current key (or, with no key set,
    /// whether it is plain).
    pub fn is_current(&self, stored: &str) -> bool {
        match (&self.current, stored.strip_prefix(PREFIX)) {
            (Some(key), Some(sealed)) => sealed.split_once(':').is_some_and(|(id, _)| id == key.id),
            (None, sealed) => sealed.is_none(),
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

    #[test]
    fn a_sealed_secret_opens_only_for_its_webhook_and_under_a_known_key() {
        let old = sealed_box(1, None);
        let stored = old.seal("wh_1", "s3cret");
        assert!(stored.starts_with("enc:v1:") && !stored.contains("s3cret"));
        assert_ne!(
            stored,
            old.seal("wh_1", "s3cret"),
            "a fresh nonce each time"
        );
        assert_eq!(old.open("wh_1", &stored).unwrap(), "s3cret");
        assert!(matches!(old.open("wh_2", &stored), Err(OpenError::Damaged)));
        let rotated = sealed_box(2, Some(1));
        assert_eq!(rotated.open("wh_1", &stored).unwrap(), "s3cret");
        assert!(!rotated.is_current(&stored));
        assert!(rotated.is_current(&rotated.seal("wh_1", "s3cret")));
        let unrelated = sealed_box(3, None);
        assert!(matches!(
            unrelated.open("wh_1", &stored),
            Err(OpenError::UnknownKey(_))
        ));
        assert_eq!(unrelated.open("wh_1", "plain").unwrap(), "plain");
        let none = SecretBox::default();
        assert_eq!(none.seal("wh_1", "plain"), "plain");
        assert!(none.is_current("plain") && !none.is_current(&stored));
    }
}
