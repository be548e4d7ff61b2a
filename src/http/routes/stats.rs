//! `GET /api/webhooks/{id}/stats`: the console's chart — the last 24 hours of a webhook's
//! attempts per hour by outcome, and its median and 99th-percentile duration.

use std::sync::Arc;

use poem::web::Data;
use poem_openapi::{ApiResponse, Object, OpenApi, param::Path, payload::Json};

use super::{ApiTags, require_webhook};
use crate::{
    domain::{scope::Scope, stats},
    http::{auth::BearerAuth, error::ApiResult, state::AppState, timestamp::Timestamp},
    infra::time,
};

pub struct StatsApi;

/// Attempts that started in one hour, by the state they left their delivery in.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct HourOut {
    start: Timestamp,
    delivered: u64,
    pending: u64,
    failed: u64,
}

/// A webhook's last 24 hours.
#[derive(Debug, Object)]
#[oai(rename_all = "camelCase")]
struct StatsOut {
    /// 24 hours, oldest first; the last is the current hour.
    hours: Vec<HourOut>,
    /// Attempts in those hours.
    attempts: u64,
    /// Median attempt duration; absent without attempts.
    #[oai(skip_serializing_if_is_none)]
    duration_p50_ms: Option<i64>,
    /// 99th-percentile attempt duration; absent without attempts.
    #[oai(skip_serializing_if_is_none)]
    duration_p99_ms: Option<i64>,
}

#[derive(ApiResponse)]
enum StatsResponse {
    /// The last 24 hours.
    #[oai(status = 200)]
    Ok(Json<StatsOut>),
}

#[OpenApi(tag = "ApiTags::Deliveries")]
impl StatsApi {
    /// A webhook's last 24 hours
    ///
    /// Attempts per hour by outcome, and the median and 99th-percentile duration: what the
    /// console's chart draws. Counted as attempts are recorded (a percentile is the upper bound
    /// of its duration bucket: 5, 10, 25, 50, 100, 250, 500 ms, 1, 2.5, 5, 10 s, or the longest
    /// attempt), and up to 2 seconds old.
    ///
    /// Needs the `webhooks` scope.
    #[oai(
        path = "/api/webhooks/:id/stats",
        method = "get",
        operation_id = "webhookStats"
    )]
    async fn stats(
        &self,
        state: Data<&Arc<AppState>>,
        auth: BearerAuth,
        /// Webhook id.
        #[oai(validator(max_length = 100))]
        id: Path<String>,
    ) -> ApiResult<StatsResponse> {
        auth.0.require(Scope::Webhooks)?;
        let webhook = require_webhook(&state, &auth.0.org, &id).await?;
        let key = (auth.0.org.to_string(), webhook);
        let day = state
            .stats_cache
            .try_get_with(key, async {
                let day = stats::last_day(&state.db, &auth.0.org, webhook, time::now()).await?;
                Ok::<_, sea_orm::DbErr>(Arc::new(day))
            })
            .await
            .map_err(|err| sea_orm::DbErr::Custom(err.to_string()))?;
        Ok(StatsResponse::Ok(Json(StatsOut {
            hours: day
                .hours
                .iter()
                .map(|h| HourOut {
                    start: h.start.into(),
                    delivered: h.delivered,
                    pending: h.pending,
                    failed: h.failed,
                })
                .collect(),
            attempts: day.attempts,
            duration_p50_ms: day.duration_p50_ms,
            duration_p99_ms: day.duration_p99_ms,
        })))
    }
}
