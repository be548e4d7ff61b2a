//! Every error the API answers, as RFC 9457 `application/problem+json`.

use poem_openapi::{ApiResponse, Object, payload::Json};

pub use crate::domain::field_error::FieldError;

/// An RFC 9457 problem document.
#[derive(Debug, Clone, Object)]
#[oai(rename_all = "camelCase")]
pub struct Problem {
    /// A URI naming the kind of problem (`about:blank` when the status says it all).
    #[oai(rename = "type")]
    pub kind: String,
    /// Short summary of the kind of problem.
    pub title: String,
    /// The HTTP status code.
    pub status: u16,
    /// What went wrong with this request, in a sentence a person can act on.
    pub detail: String,
    /// For validation errors: each offending field and what is wrong with it.
    #[oai(skip_serializing_if_is_none)]
    pub errors: Option<Vec<InvalidField>>,
}

/// One invalid field of a request.
#[derive(Debug, Clone, Object, PartialEq, Eq)]
#[oai(rename = "FieldError")]
pub struct InvalidField {
    /// The field's name as sent, e.g. `url` or `events[2]`.
    pub field: String,
    /// What is wrong with it.
    pub message: String,
}

impl From<FieldError> for InvalidField {
    fn from(error: FieldError) -> Self {
        Self {
            field: error.field,
            message: error.message,
        }
    }
}

/// The error half of every operation's result.
#[derive(Debug, ApiResponse)]
pub enum ApiError {
    /// The request is malformed: invalid JSON, a wrong type, a bad parameter.
    #[oai(status = 400, content_type = "application/problem+json")]
    BadRequest(Json<Box<Problem>>),
    /// The credential is missing, malformed, expired or revoked.
    #[oai(status = 401, content_type = "application/problem+json")]
    Unauthorized(
        Json<Box<Problem>>,
        /// Always `Bearer`.
        #[oai(header = "WWW-Authenticate")]
        String,
    ),
    /// The credential lacks the scope this operation needs.
    #[oai(status = 403, content_type = "application/problem+json")]
    Forbidden(Json<Box<Problem>>),
    /// No such object in this organization.
    #[oai(status = 404, content_type = "application/problem+json")]
    NotFound(Json<Box<Problem>>),
    /// The request body did not arrive within `KAANHA_BODY_READ_TIMEOUT`.
    #[oai(status = 408, content_type = "application/problem+json")]
    RequestTimeout(Json<Box<Problem>>),
    /// The request conflicts with the current state.
    #[oai(status = 409, content_type = "application/problem+json")]
    Conflict(Json<Box<Problem>>),
    /// The request body is larger than the configured limit.
    #[oai(status = 413, content_type = "application/problem+json")]
    PayloadTooLarge(Json<Box<Problem>>),
    /// The request body is not `application/json`.
    #[oai(status = 415, content_type = "application/problem+json")]
    UnsupportedMediaType(Json<Box<Problem>>),
    /// The request is well-formed but some fields are invalid; `errors` names them.
    #[oai(status = 422, content_type = "application/problem+json")]
    Unprocessable(Json<Box<Problem>>),
    /// Too many failed sign-ins from this address, or too many test events and retries sent
    /// by hand for this organization; wait `Retry-After` seconds.
    #[oai(status = 429, content_type = "application/problem+json")]
    TooManyRequests(
        Json<Box<Problem>>,
        /// Seconds to wait before trying again.
        #[oai(header = "Retry-After")]
        String,
    ),
    /// The platform's API, which this action was forwarded to, failed or refused it.
    #[oai(status = 502, content_type = "application/problem+json")]
    BadGateway(Json<Box<Problem>>),
    /// Something failed on our side; the details are in the gateway's log, not here.
    #[oai(status = 500, content_type = "application/problem+json")]
    Internal(Json<Box<Problem>>),
    /// The gateway cannot serve right now (e.g. the database is unreachable).
    #[oai(status = 503, content_type = "application/problem+json")]
    Unavailable(
        Json<Box<Problem>>,
        /// Seconds to wait before trying again.
        #[oai(header = "Retry-After")]
        String,
    ),
}

pub type ApiResult<T> = Result<T, ApiError>;

/// Most invalid fields one problem lists.
pub const MAX_FIELD_ERRORS: usize = 20;
/// Longest field name or message in a problem, in characters (a client's own field names and
/// values can appear in them).
const MAX_FIELD_TEXT: usize = 300;

fn shortened(text: &str) -> String {
    match text.char_indices().nth(MAX_FIELD_TEXT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

fn problem(status: u16, kind: &str, title: &str, detail: impl Into<String>) -> Json<Box<Problem>> {
    Json(Box::new(Problem {
        kind: kind.to_owned(),
        title: title.to_owned(),
        status,
        detail: detail.into(),
        errors: None,
    }))
}

impl ApiError {
    pub fn bad_request(detail: impl Into<String>) -> Self {
        Self::BadRequest(problem(400, "about:blank", "Bad Request", detail))
    }

    pub fn unauthorized(detail: impl Into<String>) -> Self {
        Self::Unauthorized(
            problem(401, "about:blank", "Unauthorized", detail),
            "Bearer".to_owned(),
        )
    }

    pub fn forbidden(detail: impl Into<String>) -> Self {
        Self::Forbidden(problem(403, "about:blank", "Forbidden", detail))
    }

    /// `what` is the kind of object (`webhook`), `id` the id the client asked for.
    pub fn not_found(what: &str, id: &str) -> Self {
        Self::NotFound(problem(
            404,
            "about:blank",
            "Not Found",
            format!("No {what} with id `{id}` exists in this organization."),
        ))
    }

    pub fn conflict(detail: impl Into<String>) -> Self {
        Self::Conflict(problem(409, "about:blank", "Conflict", detail))
    }

    pub fn request_timeout(deadline: std::time::Duration) -> Self {
        Self::RequestTimeout(problem(
            408,
            "about:blank",
            "Request Timeout",
            format!(
                "The request body did not arrive within {}.",
                humantime::format_duration(deadline)
            ),
        ))
    }

    pub fn payload_too_large(limit: usize) -> Self {
        Self::PayloadTooLarge(problem(
            413,
            "about:blank",
            "Payload Too Large",
            format!("The request body is larger than the limit of {limit} bytes."),
        ))
    }

    pub fn unsupported_media_type(detail: impl Into<String>) -> Self {
        Self::UnsupportedMediaType(problem(
            415,
            "about:blank",
            "Unsupported Media Type",
            detail,
        ))
    }

    /// A 422 naming every invalid field at once, so a form can mark them all.
    /// A 422 naming the invalid fields: the first [`MAX_FIELD_ERRORS`] of them, each cut to a
    /// readable length, so no request can make the answer larger than a page.
    pub fn validation(mut errors: Vec<FieldError>) -> Self {
        let more = errors.len().saturating_sub(MAX_FIELD_ERRORS);
        errors.truncate(MAX_FIELD_ERRORS);
        for error in &mut errors {
            error.field = shortened(&error.field);
            error.message = shortened(&error.message);
        }
        let mut detail = errors
            .iter()
            .map(|e| format!("{}: {}", e.field, e.message))
            .collect::<Vec<_>>()
            .join("; ");
        if more > 0 {
            detail.push_str(&format!("; and {more} more invalid fields"));
        }
        let mut body = problem(
            422,
            "urn:kaanha:problem:validation",
            "Validation Failed",
            detail,
        );
        body.0.errors = Some(errors.into_iter().map(InvalidField::from).collect());
        Self::Unprocessable(body)
    }

    pub fn field(field: &str, message: impl Into<String>) -> Self {
        Self::validation(vec![FieldError::new(field, message)])
    }

    /// A 502 for a request the platform's API failed or refused (`what` names it); the
    /// failure is logged.
    /// A 502 for a call to the platform's API that failed, logged for the operator with the
    /// organization it was made for.
    pub fn upstream_failed(
        what: &str,
        org: &crate::domain::org::OrgId,
        err: &crate::domain::actions::ActionError,
    ) -> Self {
        tracing::warn!(%org, request = what, error = %err, "platform API call failed");
        Self::bad_gateway(format!("{what} failed: {err}."))
    }

    pub fn bad_gateway(detail: impl Into<String>) -> Self {
        Self::BadGateway(problem(502, "about:blank", "Bad Gateway", detail))
    }

    pub fn too_many_requests(detail: impl Into<String>, retry_after_secs: u64) -> Self {
        Self::TooManyRequests(
            problem(429, "about:blank", "Too Many Requests", detail),
            retry_after_secs.max(1).to_string(),
        )
    }

    pub fn unavailable(detail: impl Into<String>) -> Self {
        Self::Unavailable(
            problem(503, "about:blank", "Service Unavailable", detail),
            "1".to_owned(),
        )
    }

    /// Logs the cause with its whole chain and answers without it: internals stay internal.
    pub fn internal(cause: &(dyn std::error::Error + 'static)) -> Self {
        let chain = std::iter::successors(Some(cause), |e| e.source())
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join(": ");
        tracing::error!(error = %chain, "request failed");
        Self::Internal(problem(
            500,
            "about:blank",
            "Internal Server Error",
            "The gateway failed to handle this request; the cause is in its log.",
        ))
    }
}

impl From<crate::domain::quota::QuotaError> for ApiError {
    fn from(err: crate::domain::quota::QuotaError) -> Self {
        match err {
            crate::domain::quota::QuotaError::Full(detail) => Self::conflict(detail),
            crate::domain::quota::QuotaError::Db(err) => err.into(),
        }
    }
}

impl From<sea_orm::DbErr> for ApiError {
    /// A database out of reach is a moment's unavailability (retry), not a bug of ours.
    fn from(err: sea_orm::DbErr) -> Self {
        match err {
            sea_orm::DbErr::Conn(_) | sea_orm::DbErr::ConnectionAcquire(_) => {
                tracing::warn!(error = %err, "database unreachable");
                Self::unavailable("The database is not reachable right now; retry shortly.")
            }
            err => Self::internal(&err),
        }
    }
}
