use std::sync::Arc;

use poem::{Request, web::Data};
use poem_openapi::{
    ApiResponse, Object, OpenApi,
    payload::{Json, PlainText},
};

use sha2::{Digest, Sha256};

use super::ApiTags;
use crate::http::{error::ApiError, state::AppState};

pub struct HealthApi;

#[derive(Object)]
struct Health {
    /// `ok` when healthy.
    status: String,
}

#[derive(ApiResponse)]
enum HealthResponse {
    /// The gateway is up (and, for readiness, its database answers).
    #[oai(status = 200)]
    Ok(Json<Health>),
}

#[derive(ApiResponse)]
enum MetricsResponse {
    /// Prometheus text exposition.
    #[oai(status = 200)]
    Ok(PlainText<String>),
}

#[OpenApi(tag = "ApiTags::Operations")]
impl HealthApi {
    /// Metrics
    ///
    /// Prometheus text: events published, delivery attempts by outcome, their durations, the
    /// latency to a first attempt and deliveries in flight on this instance; deliveries pending
    /// and the age of the oldest due one (the delivery lag) across all instances (read at most
    /// every 5 seconds, never by the scrape itself). No label names an organization. With `KAANHA_METRICS_TOKEN` set it needs
    /// `Authorization: Bearer <that token>`.
    #[oai(path = "/metrics", method = "get")]
    async fn metrics(
        &self,
        state: Data<&Arc<AppState>>,
        request: &Request,
    ) -> Result<MetricsResponse, ApiError> {
        if let Some(token) = &state.config.security.metrics_token {
            let given = request
                .header("authorization")
                .and_then(|value| value.strip_prefix("Bearer "))
                .unwrap_or_default();
            // Compared as digests: equal length, so the time taken says nothing of the token.
            if Sha256::digest(given.trim()) != Sha256::digest(token) {
                return Err(ApiError::unauthorized(
                    "/metrics needs `Authorization: Bearer <KAANHA_METRICS_TOKEN>`.",
                ));
            }
        }
        let pending = state.pending.read(&state.db);
        Ok(MetricsResponse::Ok(PlainText(
            state.metrics.render(pending),
        )))
    }

    /// Liveness
    ///
    /// Answers as long as the process serves HTTP; it does not touch the database.
    #[oai(path = "/healthz", method = "get")]
    async fn healthz(&self) -> HealthResponse {
        HealthResponse::Ok(Json(Health {
            status: "ok".into(),
        }))
    }

    /// Readiness
    ///
    /// Answers 200 when the database is reachable, 503 otherwise.
    #[oai(path = "/readyz", method = "get")]
    async fn readyz(&self, state: Data<&Arc<AppState>>) -> Result<HealthResponse, ApiError> {
        state.db.ping().await.map_err(|err| {
            tracing::warn!(error = %err, "readiness check: database unreachable");
            ApiError::unavailable("The database is not reachable.")
        })?;
        Ok(HealthResponse::Ok(Json(Health {
            status: "ok".into(),
        })))
    }
}
