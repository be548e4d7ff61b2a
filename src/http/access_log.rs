//! One log line per request: method, path, status and duration. Never the query string: hook
//! URLs travel in it (`?target_url=`), and they are as good as secrets.

use std::time::Instant;

use poem::{Endpoint, IntoResponse, Request, Response};

pub async fn access_log<E: Endpoint>(next: E, req: Request) -> poem::Result<Response> {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let started = Instant::now();
    let result = next.call(req).await.map(IntoResponse::into_response);
    let status = match &result {
        Ok(response) => response.status(),
        Err(err) => err.status(),
    };
    tracing::info!(
        %method,
        path,
        status = status.as_u16(),
        // Whole microseconds over 1,000: `0.048`, never `0.047630000000000006`.
        duration_ms = started.elapsed().as_micros() as f64 / 1000.0,
        "request"
    );
    result
}
