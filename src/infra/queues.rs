//! The tables of turns, as writers see them: `org_queues` and `webhook_queues` say which
//! organizations and webhooks have deliveries a claim may take, and from when (see
//! docs/architecture.md, "How the engine chooses work"). A write that makes a delivery claimable
//! sooner enters its webhook here through [`Queued`], in the same transaction, as its last write;
//! only a claim ever moves a turn later.

use std::collections::BTreeMap;

use uuid::Uuid;

use entity::{org_queue, webhook_queue};
use sea_orm::{
    ConnectionTrait, DbErr,
    sea_query::{Alias, Expr, InsertStatement, IntoIden, OnConflict, Query},
};

/// Rows per upsert: well under SQLite's limit on bound values.
const CHUNK: usize = 500;

/// Webhooks whose deliveries a transaction made claimable, each with the earliest time one of
/// them may be claimed (Unix ms).
#[derive(Debug, Default)]
pub struct Queued {
    webhooks: BTreeMap<Uuid, (String, i64)>,
}

impl Queued {
    /// A delivery of `webhook_id` may be claimed from `ready_at` on.
    pub fn add(&mut self, webhook_id: Uuid, org_id: &str, ready_at: i64) {
        self.webhooks
            .entry(webhook_id)
            .and_modify(|(_, at)| *at = (*at).min(ready_at))
            .or_insert_with(|| (org_id.to_owned(), ready_at));
    }

    /// Takes in what another part of the same transaction entered.
    pub fn extend(&mut self, other: Queued) {
        for (webhook, (org, at)) in other.webhooks {
            self.add(webhook, &org, at);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.webhooks.is_empty()
    }

    /// Brings every webhook's turn, and its organization's, to `ready_at` at the latest.
    ///
    /// Organizations first, then webhooks, each in key order: a claim locks the organizations
    /// it serves, then their webhooks, so taking them in the same order never deadlocks with
    /// it. On PostgreSQL each upsert waits for a claim holding the row, then lowers what the
    /// claim wrote: that claim could not see this transaction's deliveries.
    pub async fn write(&self, db: &impl ConnectionTrait) -> Result<(), DbErr> {
        for upsert in self.upserts() {
            db.execute(&upsert).await?;
        }
        Ok(())
    }

    /// The statements [`Queued::write`] runs, in its order, for a caller that sends them
    /// together with others.
    pub fn upserts(&self) -> Vec<InsertStatement> {
        let mut upserts = Vec::new();
        if self.webhooks.is_empty() {
            return upserts;
        }
        let mut orgs: BTreeMap<&str, i64> = BTreeMap::new();
        for (org, at) in self.webhooks.values() {
            let earliest = orgs.entry(org).or_insert(*at);
            *earliest = (*earliest).min(*at);
        }
        let orgs: Vec<_> = orgs.into_iter().collect();
        for chunk in orgs.chunks(CHUNK) {
            let mut insert = Query::insert();
            insert
                .into_table(org_queue::Entity)
                .columns([org_queue::Column::OrgId, org_queue::Column::ReadyAt]);
            for (org, at) in chunk {
                insert.values_panic([(*org).into(), (*at).into()]);
            }
            insert.on_conflict(sooner(org_queue::Column::OrgId, "org_queues"));
            upserts.push(insert);
        }
        let webhooks: Vec<_> = self.webhooks.iter().collect();
        for chunk in webhooks.chunks(CHUNK) {
            let mut insert = Query::insert();
            insert.into_table(webhook_queue::Entity).columns([
                webhook_queue::Column::WebhookId,
                webhook_queue::Column::OrgId,
                webhook_queue::Column::ReadyAt,
            ]);
            for (webhook, (org, at)) in chunk {
                insert.values_panic([(**webhook).into(), org.as_str().into(), (*at).into()]);
            }
            insert.on_conflict(sooner(webhook_queue::Column::WebhookId, "webhook_queues"));
            upserts.push(insert);
        }
        upserts
    }
}

/// On a row already there, the turn being written only if it is sooner. A row already soon
/// enough is left as it is: no new row version for every publish to a busy webhook (on
/// PostgreSQL the row is still locked, which is what orders this write after a claim).
fn sooner(key: impl IntoIden, table: &str) -> OnConflict {
    OnConflict::column(key)
        .value(
            Alias::new("ready_at"),
            Expr::cust(r#""excluded"."ready_at""#),
        )
        .action_and_where(Expr::cust(format!(
            r#""{table}"."ready_at" > "excluded"."ready_at""#
        )))
        .to_owned()
}
