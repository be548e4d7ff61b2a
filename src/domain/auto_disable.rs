//! Webhook health. Each webhook counts its deliveries that failed in a row (every retry spent)
//! and since when; a delivered one resets the count. One that keeps failing for long enough is
//! disabled with the reason and time kept, so the gateway stops spending requests on a dead
//! endpoint and its owner can see why. Disabling and enabling again are announced as events
//! (`webhook.disabled`, `webhook.enabled`) to the organization's other webhooks.

use std::{collections::HashMap, time::Duration};

use chrono::{DateTime, Utc};
use entity::webhook;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, FromQueryResult, QueryFilter, QueryTrait,
    sea_query::{Expr, ExprTrait},
};
use serde_json::json;

use uuid::Uuid;

use crate::{
    catalog,
    config::Config,
    domain::{
        named::Named,
        org::OrgId,
        publish::{Batch, NewEvent},
        webhooks::WebhookStatus,
    },
    infra::ids,
    infra::{queues::Queued, time, wake::notify_other_instances},
};

/// When a failing webhook is disabled: both must hold.
#[derive(Debug, Clone, Copy)]
pub struct HealthPolicy {
    /// Failed deliveries in a row (`0`: never disable).
    pub failures: u32,
    /// How long ago the first of them failed, at least.
    pub after: Duration,
}

impl HealthPolicy {
    pub fn from_config(config: &Config) -> Self {
        Self {
            failures: config.disable_after_failures,
            after: config.disable_after,
        }
    }

    fn reason(&self) -> String {
        format!(
            "disabled by the gateway: {} deliveries in a row failed, the first {} ago or more",
            self.failures,
            humantime::format_duration(self.after)
        )
    }
}

/// What a batch of finished deliveries did to one webhook's streak of failures.
#[derive(Debug, Default)]
struct Streak {
    /// A delivery succeeded: the count starts again from the failures after it.
    reset: bool,
    failures: i32,
    first_failure_at: Option<DateTime<Utc>>,
}

/// Finished deliveries per webhook, in the order they finished.
#[derive(Debug, Default)]
pub struct Streaks(HashMap<Uuid, Streak>);

impl Streaks {
    pub fn delivered(&mut self, webhook_id: Uuid) {
        let streak = self.0.entry(webhook_id).or_default();
        *streak = Streak {
            reset: true,
            ..Streak::default()
        };
    }

    pub fn failed(&mut self, webhook_id: Uuid, at: DateTime<Utc>) {
        let streak = self.0.entry(webhook_id).or_default();
        streak.failures += 1;
        streak.first_failure_at.get_or_insert(at);
    }

    /// Writes the streaks, disables the webhooks that now meet the policy and announces them,
    /// all in the caller's transaction (the announcements' deliveries are entered in
    /// `queued`). Returns the webhooks disabled.
    pub async fn write(
        self,
        txn: &impl ConnectionTrait,
        policy: &HealthPolicy,
        queued: &mut Queued,
    ) -> Result<Vec<Uuid>, DbErr> {
        let mut recovered = Vec::new();
        let mut failing = Vec::new();
        for (webhook_id, streak) in self.0 {
            if streak.failures == 0 {
                recovered.push(webhook_id);
            } else {
                write_failures(txn, webhook_id, &streak).await?;
                failing.push(webhook_id);
            }
        }
        if !recovered.is_empty() {
            // In steady state every batch lands here and changes nothing: one cheap statement.
            webhook::Entity::update_many()
                .col_expr(webhook::Column::ConsecutiveFailures, Expr::value(0))
                .col_expr(
                    webhook::Column::FailingSince,
                    Expr::value(Option::<DateTime<Utc>>::None),
                )
                .filter(webhook::Column::Id.is_in(recovered))
                .filter(webhook::Column::ConsecutiveFailures.gt(0))
                .exec(txn)
                .await?;
        }
        if failing.is_empty() || policy.failures == 0 {
            return Ok(Vec::new());
        }
        disable_failing(txn, failing, policy, queued).await
    }
}

async fn write_failures(
    txn: &impl ConnectionTrait,
    webhook_id: Uuid,
    streak: &Streak,
) -> Result<(), DbErr> {
    let (count, since) = if streak.reset {
        (
            Expr::value(streak.failures),
            Expr::value(streak.first_failure_at),
        )
    } else {
        (
            Expr::col(webhook::Column::ConsecutiveFailures).add(streak.failures),
            Expr::col(webhook::Column::FailingSince).if_null(streak.first_failure_at),
        )
    };
    webhook::Entity::update_many()
        .col_expr(webhook::Column::ConsecutiveFailures, count)
        .col_expr(webhook::Column::FailingSince, since)
        .filter(webhook::Column::Id.eq(webhook_id))
        .exec(txn)
        .await?;
    Ok(())
}

async fn disable_failing(
    txn: &impl ConnectionTrait,
    candidates: Vec<Uuid>,
    policy: &HealthPolicy,
    queued: &mut Queued,
) -> Result<Vec<Uuid>, DbErr> {
    let now = time::now();
    let failing_before = now - chrono::Duration::from_std(policy.after).unwrap_or_default();
    let mut statement = webhook::Entity::update_many()
        .col_expr(
            webhook::Column::Status,
            Expr::value(WebhookStatus::Disabled.as_str()),
        )
        .col_expr(
            webhook::Column::DisabledReason,
            Expr::value(policy.reason()),
        )
        .col_expr(webhook::Column::DisabledAt, Expr::value(now))
        .col_expr(webhook::Column::UpdatedAt, Expr::value(now))
        .filter(webhook::Column::Id.is_in(candidates))
        .filter(webhook::Column::Status.eq(WebhookStatus::Active.as_str()))
        .filter(webhook::Column::ConsecutiveFailures.gte(policy.failures as i32))
        .filter(webhook::Column::FailingSince.lte(failing_before))
        .into_query();
    statement.returning_all();
    let mut disabled = Vec::new();
    for row in txn.query_all(&statement).await? {
        let webhook = webhook::Model::from_query_result(&row, "")?;
        tracing::warn!(
            webhook = %ids::show(ids::WEBHOOK, &webhook.id),
            failures = webhook.consecutive_failures,
            "webhook disabled: its deliveries keep failing"
        );
        announce_disabled(txn, &webhook, queued).await?;
        disabled.push(webhook.id);
    }
    Ok(disabled)
}

// These events reach every webhook and subscription of the organization, and a key holding
// only the `integrations` scope can subscribe to them and read their samples. A webhook's name
// and URL (which often carries a token) are for the `webhooks` scope only, so the events name
// the webhook by id and kind, never by them.

/// Publishes `webhook.disabled` for a webhook just disabled (it gets none itself: it is
/// disabled).
pub async fn announce_disabled(
    txn: &impl ConnectionTrait,
    webhook: &webhook::Model,
    queued: &mut Queued,
) -> Result<(), DbErr> {
    let data = json!({
        "webhookId": ids::show(ids::WEBHOOK, &webhook.id),
        "source": webhook.source,
        "reason": webhook.disabled_reason,
        "consecutiveFailures": webhook.consecutive_failures,
        "failingSince": webhook.failing_since.map(time::format),
        "disabledAt": webhook.disabled_at.map(time::format),
    });
    announce(txn, webhook, queued, catalog::WEBHOOK_DISABLED, data).await
}

/// Publishes `webhook.enabled` for a webhook enabled again, to the organization's other
/// webhooks.
pub async fn announce_enabled(
    txn: &impl ConnectionTrait,
    webhook: &webhook::Model,
    queued: &mut Queued,
) -> Result<(), DbErr> {
    let data = json!({
        "webhookId": ids::show(ids::WEBHOOK, &webhook.id),
        "source": webhook.source,
        "enabledAt": time::format(webhook.updated_at),
    });
    announce(txn, webhook, queued, catalog::WEBHOOK_ENABLED, data).await
}

async fn announce(
    txn: &impl ConnectionTrait,
    webhook: &webhook::Model,
    queued: &mut Queued,
    event_type: &'static str,
    data: serde_json::Value,
) -> Result<(), DbErr> {
    let org = OrgId::stored(webhook.org_id.clone());
    let event = NewEvent::about_webhook(event_type, data, webhook.id);
    let mut batch = Batch::new(None);
    batch.publish(txn, &org, vec![event]).await?;
    queued.extend(batch.into_queued());
    // Other instances' workers wake when the caller commits; the caller wakes this one's
    // (the engine's recorder wakes its loop after each batch, a handler commits through
    // `Wake::commit`).
    notify_other_instances(txn).await
}
