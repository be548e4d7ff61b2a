//! Checking credentials: organization API keys (looked up by hash, cached for a few seconds)
//! and service JWTs (HS256, with lifetime, issuer and audience checks), each yielding the
//! [`Principal`] behind it.

use std::{net::IpAddr, sync::Arc, time::Duration};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, errors::ErrorKind};
use moka::future::Cache;
use sea_orm::{ActiveModelTrait, DatabaseConnection, Set};
use serde::Deserialize;

use crate::{
    config::{SecurityConfig, UPSTREAM_AUDIENCE},
    domain::{keys, org::OrgId, scope::Scope},
    http::error::ApiError,
    infra::throttle::{AuthThrottle, Pace},
};

/// How long a checked API key is trusted without asking the database again. A revoke on this
/// instance evicts at once; other instances notice within this time.
const KEY_CACHE_TTL: Duration = Duration::from_secs(5);

/// The caller behind a credential.
#[derive(Debug, Clone)]
pub struct Principal {
    pub org: OrgId,
    pub scopes: Vec<Scope>,
    pub credential: Credential,
}

#[derive(Debug, Clone)]
pub enum Credential {
    ApiKey { id: String, name: String },
    Service { subject: Option<String> },
}

impl Principal {
    /// Who asked, as the platform's API is told: the key's id, or the service's subject.
    pub fn caller(&self) -> String {
        match &self.credential {
            Credential::ApiKey { id, .. } => id.clone(),
            Credential::Service { subject } => subject.clone().unwrap_or_else(|| "service".into()),
        }
    }

    /// 403 unless the credential carries `scope`.
    pub fn require(&self, scope: Scope) -> Result<(), ApiError> {
        if self.scopes.contains(&scope) {
            Ok(())
        } else {
            Err(ApiError::forbidden(format!(
                "This credential lacks the `{scope}` scope this operation needs."
            )))
        }
    }
}

#[derive(Clone)]
enum KeyLookup {
    Valid(Arc<Principal>),
    Revoked,
    Unknown,
}

#[derive(Deserialize)]
struct ServiceClaims {
    sub: Option<String>,
    org: Option<String>,
    #[serde(default)]
    scope: String,
    exp: i64,
    #[serde(default)]
    aud: Audience,
}

/// `aud`: one string or a list (RFC 7519).
#[derive(Deserialize, Default)]
#[serde(untagged)]
enum Audience {
    #[default]
    None,
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn names(&self, name: &str) -> bool {
        match self {
            Audience::None => false,
            Audience::One(one) => one == name,
            Audience::Many(many) => many.iter().any(|one| one == name),
        }
    }
}

/// How service JWTs are checked.
struct JwtPolicy {
    key: DecodingKey,
    validation: Validation,
    max_lifetime: Duration,
}

/// How far apart an address over its failure limit may have API keys looked up.
const THROTTLED_LOOKUP_SPACING: Duration = Duration::from_millis(100);

/// Checks credentials, remembering API-key lookups for a few seconds.
pub struct Authenticator {
    db: DatabaseConnection,
    jwt: Option<JwtPolicy>,
    keys: Cache<String, KeyLookup>,
    pub throttle: AuthThrottle,
    /// Key lookups for addresses over their failure limit.
    throttled_lookups: Pace<IpAddr>,
}

impl Authenticator {
    pub fn new(db: DatabaseConnection, security: &SecurityConfig) -> Self {
        let jwt = security.jwt_secret.as_ref().map(|secret| {
            let mut validation = Validation::new(Algorithm::HS256);
            let mut required = vec!["exp"];
            validation.leeway = 30;
            validation.validate_nbf = true;
            if let Some(issuer) = &security.jwt_issuer {
                validation.set_issuer(&[issuer]);
                required.push("iss");
            }
            match &security.jwt_audience {
                Some(audience) => {
                    validation.set_audience(&[audience]);
                    required.push("aud");
                }
                // Checked by hand below: only the upstream audience is refused.
                None => validation.validate_aud = false,
            }
            validation.set_required_spec_claims(&required);
            JwtPolicy {
                key: DecodingKey::from_secret(secret.as_bytes()),
                validation,
                max_lifetime: security.jwt_max_lifetime,
            }
        });
        let keys = Cache::builder()
            .max_capacity(100_000)
            .time_to_live(KEY_CACHE_TTL)
            .build();
        Self {
            db,
            jwt,
            keys,
            throttle: AuthThrottle::new(security.auth_failures_per_minute),
            throttled_lookups: Pace::new(THROTTLED_LOOKUP_SPACING),
        }
    }

    /// The principal behind `token`, sent from `client`. The throttle is consulted before the
    /// database: a JWT and a key checked lately need none; any other key from an address over
    /// its failure limit waits for that address's next lookup turn.
    pub async fn authenticate(
        &self,
        token: &str,
        client: Option<IpAddr>,
    ) -> Result<Principal, ApiError> {
        if token.starts_with(keys::KEY_PREFIX) {
            let hash = keys::hash_key(token);
            if let Some(client) = client.filter(|c| self.throttle.is_over(c))
                && !self.keys.contains_key(&hash)
            {
                tokio::time::sleep(self.throttled_lookups.wait(client)).await;
            }
            self.check_api_key(hash).await
        } else if token.split('.').count() == 3 {
            self.check_jwt(token)
        } else {
            Err(ApiError::unauthorized(
                "The bearer credential is neither an API key (kgw_...) nor a JWT.",
            ))
        }
    }

    /// Makes a revoked key fail at once on this instance.
    pub async fn forget_key(&self, key_hash: &str) {
        self.keys.invalidate(key_hash).await;
    }

    async fn check_api_key(&self, hash: String) -> Result<Principal, ApiError> {
        // Only the hash is looked up, so comparing it leaks nothing about the stored keys.
        let lookup = self
            .keys
            .try_get_with(hash.clone(), self.load_key(&hash))
            .await
            .map_err(|err| ApiError::internal(err.as_ref()))?;
        match lookup {
            KeyLookup::Valid(principal) => Ok((*principal).clone()),
            KeyLookup::Revoked => Err(ApiError::unauthorized("This API key has been revoked.")),
            KeyLookup::Unknown => Err(ApiError::unauthorized("This API key is not valid.")),
        }
    }

    async fn load_key(&self, hash: &str) -> Result<KeyLookup, sea_orm::DbErr> {
        let Some(row) = keys::find_by_hash(&self.db, hash).await? else {
            return Ok(KeyLookup::Unknown);
        };
        if row.revoked_at.is_some() {
            return Ok(KeyLookup::Revoked);
        }
        let Ok(org) = OrgId::parse(&row.org_id) else {
            return Ok(KeyLookup::Unknown);
        };
        let principal = Principal {
            org,
            scopes: Scope::parse_list_lenient(&row.scopes),
            credential: Credential::ApiKey {
                id: row.id.clone(),
                name: row.name.clone(),
            },
        };
        // Once per cache period at most: cheap, and tells operators which keys are in use.
        let mut touch: entity::api_key::ActiveModel = row.into();
        touch.last_used_at = Set(Some(crate::infra::time::now()));
        if let Err(err) = touch.update(&self.db).await {
            tracing::warn!(error = %err, "could not record an API key's last use");
        }
        Ok(KeyLookup::Valid(Arc::new(principal)))
    }

    fn check_jwt(&self, token: &str) -> Result<Principal, ApiError> {
        let Some(policy) = &self.jwt else {
            return Err(ApiError::unauthorized(
                "Service JWTs are not accepted: this gateway has no KAANHA_JWT_SECRET.",
            ));
        };
        let claims = jsonwebtoken::decode::<ServiceClaims>(token, &policy.key, &policy.validation)
            .map_err(|err| {
                ApiError::unauthorized(match err.kind() {
                    ErrorKind::ExpiredSignature => "The token has expired.",
                    ErrorKind::ImmatureSignature => "The token is not valid yet (`nbf`).",
                    ErrorKind::InvalidSignature => "The token's signature does not verify.",
                    ErrorKind::InvalidAlgorithm => "The token must be signed with HS256.",
                    ErrorKind::InvalidIssuer => "The token's `iss` is not the expected issuer.",
                    ErrorKind::InvalidAudience => "The token's `aud` does not name this gateway.",
                    ErrorKind::MissingRequiredClaim(_) => {
                        "The token lacks a required claim (`exp`, and `iss` or `aud` when configured)."
                    }
                    _ => "The token is malformed.",
                })
            })?
            .claims;
        if claims.aud.names(UPSTREAM_AUDIENCE) {
            return Err(ApiError::unauthorized(
                "The token is meant for the platform's API, not for this gateway.",
            ));
        }
        let lifetime = claims.exp.saturating_sub(chrono::Utc::now().timestamp());
        if lifetime > policy.max_lifetime.as_secs() as i64 + policy.validation.leeway as i64 {
            return Err(ApiError::unauthorized(format!(
                "The token is valid for longer than this gateway accepts ({}); mint shorter-lived tokens.",
                humantime::format_duration(policy.max_lifetime)
            )));
        }
        let org = claims
            .org
            .as_deref()
            .ok_or_else(|| ApiError::unauthorized("The token names no organization (`org`)."))
            .and_then(|org| {
                OrgId::parse(org).map_err(|why| {
                    ApiError::unauthorized(format!("The token's `org` is invalid: {why}."))
                })
            })?;
        Ok(Principal {
            org,
            scopes: Scope::parse_list_lenient(&claims.scope),
            credential: Credential::Service {
                subject: claims.sub,
            },
        })
    }
}
