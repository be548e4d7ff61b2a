//! A lone publish on SQLite in one round trip: its reads first (the webhooks subscribed, the
//! ids already stored), then every row it writes and its webhooks' turns as one script
//! (`infra::script`), instead of a transaction of seven hand-offs to the database's thread.
//!
//! The reads are outside the write's transaction, so a webhook changed between them counts as
//! changed just after the publish: a publish that overlaps a change may see either side of it,
//! as it may when they run in either order. A delivery for a webhook deleted in between is
//! written as one in flight when it was deleted is, and the purge removes both.

use sea_orm::{DatabaseConnection, DbBackend, DbErr};

use super::{Batch, NewEvent, Published, rows};
use crate::{
    domain::org::OrgId,
    infra::{script::commit_script, wake::Wake},
};

impl Batch<'_> {
    /// Publishes `events` in one round trip, if it can: on SQLite, when no webhook given a
    /// delivery is ordered (releasing a line reads inside the transaction). `None` when it
    /// cannot, having written nothing; an error has written nothing either.
    pub async fn publish_in_one_trip(
        mut self,
        db: &DatabaseConnection,
        wake: &Wake,
        org: &OrgId,
        events: Vec<NewEvent>,
    ) -> Result<Option<Vec<Published>>, DbErr> {
        let backend = db.get_database_backend();
        if backend != DbBackend::Sqlite {
            return Ok(None);
        }
        let mut planned = self.plan(db, org, events).await?;
        if !planned.in_line.is_empty() {
            return Ok(None);
        }
        let (events, deliveries) = planned.rows();
        let mut statements = rows::insert_statements(backend, events, deliveries);
        let results = self.settle(planned);
        statements.extend(self.queued.upserts().iter().map(|u| backend.build(u)));
        if !statements.is_empty() {
            commit_script(db, &statements).await?;
        }
        if self.to_claim {
            wake.here();
        }
        if let Some(handoff) = self.handoff {
            handoff.hand(self.handed);
        }
        Ok(Some(results))
    }
}
