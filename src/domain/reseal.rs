//! Bringing every stored webhook secret under the current encryption key at start: plain ones
//! from before a key was set, and ones sealed under the previous key after a rotation.

use entity::webhook;
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, EntityTrait, QueryFilter, QuerySelect,
    sea_query::Expr,
};

use uuid::Uuid;

use crate::infra::{
    cipher::{SecretBox, SecretField, looks_sealed},
    ids,
};

/// Seals again every secret not under the current key; returns how many rows changed. Refuses
/// (so the gateway does not start) if a secret cannot be opened: deliveries would then go out
/// unsigned or not at all.
pub async fn reseal_secrets(db: &DatabaseConnection, secrets: &SecretBox) -> anyhow::Result<u64> {
    let rows: Vec<(Uuid, Option<String>, Option<String>)> = webhook::Entity::find()
        .select_only()
        .columns([
            webhook::Column::Id,
            webhook::Column::Secret,
            webhook::Column::PreviousSecret,
        ])
        .filter(
            Condition::any()
                .add(webhook::Column::Secret.is_not_null())
                .add(webhook::Column::PreviousSecret.is_not_null()),
        )
        .into_tuple()
        .all(db)
        .await?;
    let mut changed = 0;
    for (id, secret, previous) in rows {
        let shown = ids::show(ids::WEBHOOK, &id);
        for (column, field, stored) in [
            (webhook::Column::Secret, SecretField::Secret, secret),
            (
                webhook::Column::PreviousSecret,
                SecretField::PreviousSecret,
                previous,
            ),
        ] {
            let Some(stored) = stored.filter(|s| !secrets.is_current(s)) else {
                continue;
            };
            if !secrets.encrypts() && looks_sealed(&stored) {
                // Never plain text over a sealed row: without a current key there is nothing
                // to seal it under again.
                anyhow::bail!(
                    "webhook {shown}'s secret is encrypted, and KAANHA_ENCRYPTION_KEY is not set: set it (it opens and seals the secrets) rather than storing them in plain text"
                );
            }
            let plain = secrets
                .open(&id, field, &stored)
                .map_err(|err| anyhow::anyhow!("webhook {shown}'s secret cannot be read: {err}"))?;
            // Only if no one changed it meanwhile (another instance starting, a PATCH).
            let updated = webhook::Entity::update_many()
                .col_expr(column, Expr::value(secrets.seal(&id, field, &plain)))
                .filter(webhook::Column::Id.eq(id))
                .filter(column.eq(stored))
                .exec(db)
                .await?;
            changed += updated.rows_affected;
        }
    }
    if changed > 0 {
        crate::infra::db::checkpoint(db).await?;
    }
    Ok(changed)
}
