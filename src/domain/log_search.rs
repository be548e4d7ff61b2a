//! Finding one event or delivery in the log: the organization's deliveries it names, then
//! every attempt of those deliveries.
//!
//! The attempts are read by delivery alone and put in order here, never by the database under
//! a `LIMIT`: asked for the newest attempts among a subquery's deliveries, PostgreSQL without
//! statistics (and with them, once it plans the statement generically) walks the whole log
//! backwards by its key, testing each row against the subquery. The rows read are the
//! event's attempts: one per webhook it went to and per try.

use entity::{delivery, delivery_attempt};
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QuerySelect, QueryTrait,
    prelude::Uuid,
    sea_query::{SelectStatement, UnionType},
};

use crate::{
    domain::{log_filter::LogFilter, org::OrgId, stretch::Page},
    infra::ids,
};

/// A page of the attempts of what `search` names (to `webhook_id` only, if given), newest
/// first, below the filter's cursor and within its other conditions; `limit` rows at most.
pub async fn found_page(
    db: &impl ConnectionTrait,
    org: &OrgId,
    webhook_id: Option<Uuid>,
    search: &str,
    filter: &LogFilter<'_>,
    limit: u64,
) -> Result<Page<delivery_attempt::Model>, DbErr> {
    let statement = db
        .get_database_backend()
        .build(&deliveries_found_by(org, search));
    let mut deliveries = Vec::new();
    for row in db.query_all_raw(statement).await? {
        deliveries.push(row.try_get::<Uuid>("", "id")?);
    }
    if deliveries.is_empty() {
        return Ok(Page::default());
    }
    let mut rows = delivery_attempt::Entity::find()
        .filter(delivery_attempt::Column::DeliveryId.is_in(deliveries))
        .all(db)
        .await?;
    rows.retain(|row| {
        row.org_id == org.as_str()
            && webhook_id.is_none_or(|webhook| row.webhook_id == webhook)
            && filter.status.is_none_or(|status| row.status == status)
            && filter
                .event_type
                .is_none_or(|event| row.event_type == event)
            && filter
                .since
                .is_none_or(|since| row.created_at >= since.timestamp_millis())
            && filter
                .until
                .is_none_or(|until| row.created_at < until.timestamp_millis())
            && filter.cursor.is_none_or(|cursor| row.id < cursor)
    });
    rows.sort_unstable_by_key(|row| std::cmp::Reverse(row.id));
    rows.truncate(usize::try_from(limit).unwrap_or(usize::MAX));
    Ok(Page {
        rows,
        stopped_at: None,
    })
}

/// The ids of the organization's deliveries of the event `search` names, and of the delivery
/// it names. Two plain lookups joined by `UNION ALL`, each on its own index ((organization,
/// event id), and the key): an `OR` of the two lets SQLite, and PostgreSQL on tables without
/// statistics, fall back to reading every delivery of the organization. Text that is no
/// delivery's id looks for the event only.
fn deliveries_found_by(org: &OrgId, search: &str) -> SelectStatement {
    let lookup = |found: sea_orm::sea_query::SimpleExpr| {
        delivery::Entity::find()
            .select_only()
            .column(delivery::Column::Id)
            .filter(delivery::Column::OrgId.eq(org.as_str()))
            .filter(found)
            .into_query()
    };
    let mut by_event = lookup(delivery::Column::EventId.eq(search));
    if let Some(id) = ids::parse(ids::DELIVERY, search) {
        by_event.union(UnionType::All, lookup(delivery::Column::Id.eq(id)));
    }
    by_event
}

#[cfg(test)]
mod tests {
    use sea_orm::sea_query::SqliteQueryBuilder;

    use super::*;

    #[test]
    fn a_search_is_two_lookups_each_on_its_own_index() {
        let org = OrgId::parse("org_a").unwrap();
        let delivery = ids::new_uuid();
        let search = ids::show(ids::DELIVERY, &delivery);
        let sql = deliveries_found_by(&org, &search).to_string(SqliteQueryBuilder);
        assert!(
            sql.contains(&format!(
                r#"WHERE "deliveries"."org_id" = 'org_a' AND "deliveries"."event_id" = '{search}' UNION ALL SELECT "deliveries"."id" FROM "deliveries" WHERE "deliveries"."org_id" = 'org_a' AND "deliveries"."id" = "#
            )),
            "{sql}"
        );
        let sql = deliveries_found_by(&org, "wamid.1").to_string(SqliteQueryBuilder);
        assert!(!sql.contains("UNION"), "{sql}");
    }
}
