//! Organization API keys: generated here, shown once, stored only as a SHA-256 hash.

use entity::api_key;
use rand::RngCore;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, Set, TransactionTrait,
};
use sha2::{Digest, Sha256};

use crate::{
    domain::{field_error::FieldError, org::OrgId, quota::QuotaError, scope::Scope},
    infra::ids::new_id,
};

/// Every key starts with this, so a leaked key is recognisable (and secret scanners can find it).
pub const KEY_PREFIX: &str = "kgw_";
/// How much of a key is kept in clear to tell keys apart in lists.
const SHOWN_PREFIX_LEN: usize = KEY_PREFIX.len() + 8;

/// Lowercase hex SHA-256: the only form in which a key is stored or looked up.
pub fn hash_key(key: &str) -> String {
    hex::encode(Sha256::digest(key.as_bytes()))
}

fn generate_key() -> String {
    let mut bytes = [0u8; 24];
    rand::rng().fill_bytes(&mut bytes);
    format!("{KEY_PREFIX}{}", hex::encode(bytes))
}

/// A validated request for a new key.
pub struct NewKeyRequest {
    pub name: String,
    pub scopes: Vec<Scope>,
}

/// Most entries in a new key's `scopes` (there are four scopes).
pub const MAX_SCOPES: usize = 16;

impl NewKeyRequest {
    /// `scopes` empty means the default set. Every problem is reported at once.
    pub fn parse(name: &str, scopes: &[String]) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        // The same rules as a webhook's name: an operator's terminal prints it (`api-key list`).
        let name = crate::domain::webhooks::validate_name(name).map_err(|err| errors.push(err));
        FieldError::at_most("scopes", scopes, MAX_SCOPES).map_err(|err| vec![err])?;
        let mut parsed = Vec::new();
        for (i, raw) in scopes.iter().enumerate() {
            for part in raw.split_whitespace() {
                match Scope::parse(part) {
                    Some(scope) => parsed.push(scope),
                    None => errors.push(FieldError::new(
                        format!("scopes[{i}]"),
                        format!(
                            "unknown scope `{part}`; known scopes: {}",
                            Scope::known_list()
                        ),
                    )),
                }
            }
        }
        if !errors.is_empty() {
            return Err(errors);
        }
        if parsed.is_empty() {
            parsed.extend(Scope::API_KEY_DEFAULT);
        }
        parsed.sort();
        parsed.dedup();
        Ok(Self {
            name: name.unwrap_or_default(),
            scopes: parsed,
        })
    }
}

/// A key just created: the row, and the key itself, which exists nowhere else.
pub struct CreatedKey {
    pub row: api_key::Model,
    pub key: String,
}

/// Stores a new key, unless the organization already holds `quota` keys not revoked.
pub async fn create(
    db: &impl TransactionTrait,
    org: &OrgId,
    request: NewKeyRequest,
    quota: u64,
) -> Result<CreatedKey, QuotaError> {
    let txn = crate::infra::db::begin_write(db).await?;
    crate::domain::quota::room_for_api_key(&txn, org, quota).await?;
    let key = generate_key();
    let row = api_key::ActiveModel {
        id: Set(new_id("key")),
        org_id: Set(org.to_string()),
        name: Set(request.name),
        prefix: Set(key[..SHOWN_PREFIX_LEN].to_owned()),
        key_hash: Set(hash_key(&key)),
        scopes: Set(Scope::join(&request.scopes)),
        created_at: Set(crate::infra::time::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(&txn)
    .await?;
    crate::infra::db::commit(txn).await?;
    Ok(CreatedKey { row, key })
}

/// One page of an organization's keys, newest first, after `cursor` (an id) when given.
pub async fn list(
    db: &impl ConnectionTrait,
    org: &OrgId,
    cursor: Option<&str>,
    limit: u64,
) -> Result<Vec<api_key::Model>, sea_orm::DbErr> {
    let mut query = api_key::Entity::find().filter(api_key::Column::OrgId.eq(org.as_str()));
    if let Some(cursor) = cursor {
        query = query.filter(api_key::Column::Id.lt(cursor));
    }
    query
        .order_by_desc(api_key::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// The organization's key with this id, revoked or not.
pub async fn find(
    db: &impl ConnectionTrait,
    org: &OrgId,
    id: &str,
) -> Result<Option<api_key::Model>, sea_orm::DbErr> {
    api_key::Entity::find_by_id(id)
        .filter(api_key::Column::OrgId.eq(org.as_str()))
        .one(db)
        .await
}

/// Marks a key revoked (keeping the row for audit). `org` limits the search to one organization;
/// the operator's command line passes `None`. Returns the key, or `None` when there is no such key.
pub async fn revoke(
    db: &impl ConnectionTrait,
    org: Option<&OrgId>,
    id: &str,
) -> Result<Option<api_key::Model>, sea_orm::DbErr> {
    let mut query = api_key::Entity::find_by_id(id);
    if let Some(org) = org {
        query = query.filter(api_key::Column::OrgId.eq(org.as_str()));
    }
    let Some(row) = query.one(db).await? else {
        return Ok(None);
    };
    if row.revoked_at.is_some() {
        return Ok(Some(row));
    }
    let mut active: api_key::ActiveModel = row.into();
    active.revoked_at = Set(Some(crate::infra::time::now()));
    Ok(Some(active.update(db).await?))
}

/// The live key with this hash, if any.
pub async fn find_by_hash(
    db: &impl ConnectionTrait,
    key_hash: &str,
) -> Result<Option<api_key::Model>, sea_orm::DbErr> {
    api_key::Entity::find()
        .filter(api_key::Column::KeyHash.eq(key_hash))
        .one(db)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_keys_are_prefixed_unique_and_hash_to_64_hex_chars() {
        let (a, b) = (generate_key(), generate_key());
        assert!(a.starts_with(KEY_PREFIX) && a.len() == KEY_PREFIX.len() + 48);
        assert_ne!(a, b);
        assert_eq!(hash_key(&a).len(), 64);
        assert_ne!(hash_key(&a), hash_key(&b));
    }

    #[test]
    fn a_new_key_request_defaults_its_scopes_and_names_every_bad_field() {
        let ok = NewKeyRequest::parse(" Zapier ", &[]).ok().unwrap();
        assert_eq!(ok.name, "Zapier");
        assert_eq!(ok.scopes, Scope::API_KEY_DEFAULT.to_vec());
        let errors = NewKeyRequest::parse("", &["webhooks".into(), "root".into()])
            .err()
            .unwrap();
        let fields: Vec<_> = errors.iter().map(|e| e.field.as_str()).collect();
        assert_eq!(fields, ["name", "scopes[1]"]);
        for name in [
            "Zapier\nkey_fake  org_a  Zapier",
            "bell\u{7}",
            "esc\u{1b}[2J",
        ] {
            let errors = NewKeyRequest::parse(name, &[]).err().unwrap();
            assert_eq!(
                errors[0].message, "must not contain control characters",
                "{name:?}"
            );
        }
    }
}
