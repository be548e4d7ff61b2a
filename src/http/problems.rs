//! The middleware that answers every error — ours, the framework's, a route that does not
//! exist, a wrong method, an oversized body — as `application/problem+json`, so clients parse
//! one error shape.

use std::sync::Arc;

use poem::{
    Endpoint, IntoResponse, Request, Response,
    http::{HeaderValue, StatusCode, header},
};
use serde_json::Value;

use crate::http::error::ApiError;

/// What the spec says of each documented path: which methods it accepts (a 405 must say, in
/// `Allow`) and the names of its parameters (the framework reports them as `param0`, ...).
pub struct AllowedMethods {
    paths: Vec<(Vec<String>, String)>,
}

impl AllowedMethods {
    pub fn from_spec(spec: &str) -> Self {
        let spec: Value = serde_json::from_str(spec).unwrap_or_default();
        let paths = spec["paths"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(path, item)| {
                let segments = path.split('/').map(str::to_owned).collect();
                let mut methods: Vec<String> = item
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(method, _)| method.to_ascii_uppercase())
                    .collect();
                methods.sort();
                (segments, methods.join(", "))
            })
            .collect();
        Self { paths }
    }

    fn template(&self, path: &str) -> Option<&(Vec<String>, String)> {
        let segments: Vec<&str> = path.split('/').collect();
        self.paths.iter().find(|(template, _)| {
            template.len() == segments.len()
                && template
                    .iter()
                    .zip(&segments)
                    .all(|(t, s)| t == s || (t.starts_with('{') && !s.is_empty()))
        })
    }

    fn for_path(&self, path: &str) -> Option<&str> {
        self.template(path).map(|(_, methods)| methods.as_str())
    }

    /// `failed to parse path `param0`` → `failed to parse path `platform``.
    fn name_params(&self, path: &str, text: &str) -> String {
        let Some((template, _)) = self.template(path) else {
            return text.to_owned();
        };
        let names = template
            .iter()
            .filter_map(|t| t.strip_prefix('{')?.strip_suffix('}'));
        let mut named = text.to_owned();
        for (i, name) in names.enumerate() {
            named = named.replace(&format!("`param{i}`"), &format!("`{name}`"));
        }
        named
    }
}

pub async fn problem_errors<E: Endpoint>(
    next: Arc<E>,
    req: Request,
    max_body: usize,
    allowed: Arc<AllowedMethods>,
) -> poem::Result<Response> {
    let declared_len = req
        .header(header::CONTENT_LENGTH)
        .and_then(|v| v.parse::<u64>().ok());
    if declared_len.is_some_and(|len| len > max_body as u64) {
        return Ok(ApiError::payload_too_large(max_body).into_response());
    }
    // No id or parameter may hold a NUL; PostgreSQL refuses the byte in text, so one reaching
    // a query would end as a 500 instead of the client's mistake.
    let raw_uri = req.uri().to_string();
    if raw_uri.contains("%00") {
        return Ok(ApiError::bad_request(
            "The URL holds a NUL character (%00), which no id or parameter may contain.",
        )
        .into_response());
    }
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = match next.call(req).await {
        Ok(output) => output.into_response(),
        Err(err) => err.into_response(),
    };
    let status = response.status();
    let is_problem = response
        .content_type()
        .is_some_and(|ct| ct.starts_with("application/problem+json"));
    if !(status.is_client_error() || status.is_server_error()) || is_problem {
        return Ok(response);
    }
    let text = response.into_body().into_string().await.unwrap_or_default();
    let text = allowed.name_params(&path, text.trim());
    let route = format!("{method} {path}");
    let mut problem = problem_for(status, &text, &route);
    if problem.status() == StatusCode::METHOD_NOT_ALLOWED
        && let Some(methods) = allowed.for_path(&path)
        && let Ok(value) = HeaderValue::from_str(methods)
    {
        problem.headers_mut().insert(header::ALLOW, value);
    }
    Ok(problem)
}

fn problem_for(status: StatusCode, text: &str, route: &str) -> Response {
    let detail = match status {
        StatusCode::NOT_FOUND => format!("There is no route `{route}`; see /docs."),
        StatusCode::METHOD_NOT_ALLOWED => format!("`{route}`: this method is not allowed here."),
        StatusCode::UNAUTHORIZED => {
            "This operation needs `Authorization: Bearer <API key or service JWT>`.".to_owned()
        }
        StatusCode::PAYLOAD_TOO_LARGE => "The request body is larger than the limit.".to_owned(),
        status if status.is_server_error() => {
            tracing::error!(%status, body = text, "unexpected server error");
            "The gateway failed to handle this request; the cause is in its log.".to_owned()
        }
        _ if text.is_empty() => status.canonical_reason().unwrap_or("Error").to_owned(),
        _ => text.to_owned(),
    };
    let status = if status.is_server_error() && status != StatusCode::SERVICE_UNAVAILABLE {
        StatusCode::INTERNAL_SERVER_ERROR
    } else {
        status
    };
    let body = serde_json::json!({
        "type": "about:blank",
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": detail,
    });
    let mut response = Response::builder()
        .status(status)
        .content_type("application/problem+json")
        .body(body.to_string());
    if status == StatusCode::UNAUTHORIZED {
        response
            .headers_mut()
            .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
    }
    response
}
