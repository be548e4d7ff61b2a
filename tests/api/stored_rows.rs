//! Rows written straight into the database, past the API: what older versions, rebinding names
//! or platforms' subscriptions left behind.

use crate::helpers::unix_now;

/// Writes an active webhook's rows straight into the database, as an older policy, a
/// rebinding name or a platform's subscription would have left them: the API would refuse
/// some of these. Returns its id.
pub async fn webhook_row(
    db: &sea_orm::DatabaseConnection,
    org: &str,
    url: &str,
    events: &[&str],
    source: &str,
) -> String {
    use entity::{webhook, webhook_event};
    use sea_orm::{ActiveModelTrait, Set};

    static ROWS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
    let n = ROWS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let id = format!("wh_row_{n}_{}", unix_now());
    let now = kaanha_gateway::infra::time::now();
    webhook::ActiveModel {
        id: Set(id.clone()),
        org_id: Set(org.to_owned()),
        name: Set("stored".to_owned()),
        url: Set(url.to_owned()),
        status: Set("active".to_owned()),
        source: Set(source.to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
        consecutive_failures: Set(0),
        ..Default::default()
    }
    .insert(db)
    .await
    .unwrap();
    for event in events {
        webhook_event::ActiveModel {
            webhook_id: Set(id.clone()),
            event_type: Set((*event).to_owned()),
            org_id: Set(org.to_owned()),
        }
        .insert(db)
        .await
        .unwrap();
    }
    id
}
