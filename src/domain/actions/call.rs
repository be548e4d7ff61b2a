//! The generic API call ("Make an API call"): any request a user writes, to the platform's API
//! only, and there only below the path prefixes the operator allows
//! (`KAANHA_UPSTREAM_CALL_PREFIXES`). The organization comes from the credential, in the token;
//! the request cannot name another.

use reqwest::Method;
use serde_json::{Map, Value};

use super::check_path_segment;
use crate::domain::field_error::FieldError;

/// Most query parameters one call may carry.
const MAX_QUERY: usize = 50;

/// Path prefixes the generic call may reach, e.g. `/api/contacts`.
#[derive(Debug, Clone, Default)]
pub struct CallPrefixes(Vec<Vec<String>>);

impl CallPrefixes {
    /// Comma-separated prefixes, each an absolute path of plain segments.
    pub fn parse(list: &str) -> anyhow::Result<Self> {
        let mut prefixes = Vec::new();
        for prefix in list.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let segments = segments(prefix).map_err(|why| {
                anyhow::anyhow!("KAANHA_UPSTREAM_CALL_PREFIXES: `{prefix}` {why}")
            })?;
            prefixes.push(segments);
        }
        Ok(Self(prefixes))
    }

    fn admits(&self, path: &[String]) -> bool {
        self.0.iter().any(|prefix| path.starts_with(prefix))
    }

    /// The prefixes as paths, for messages and discovery.
    pub fn paths(&self) -> Vec<String> {
        self.0.iter().map(|p| format!("/{}", p.join("/"))).collect()
    }
}

/// A call as the user wrote it, before any check.
pub struct ApiCallRequest {
    pub method: String,
    pub path: String,
    pub query: Option<Map<String, Value>>,
    pub body: Option<Value>,
}

/// A checked call: a known method, a path of plain segments below an allowed prefix.
#[derive(Debug)]
pub struct ApiCall {
    pub(super) method: Method,
    path: Vec<String>,
    pub(super) query: Map<String, Value>,
    pub(super) body: Option<Value>,
}

/// What the platform answered, whatever the status.
#[derive(Debug)]
pub struct CallAnswer {
    pub status: u16,
    /// JSON when the answer was JSON, else its text; `null` when empty.
    pub body: Value,
}

impl ApiCall {
    pub fn parse(request: ApiCallRequest, allowed: &CallPrefixes) -> Result<Self, Vec<FieldError>> {
        let mut errors = Vec::new();
        let method = match request.method.to_ascii_uppercase().as_str() {
            "GET" => Some(Method::GET),
            "POST" => Some(Method::POST),
            "PUT" => Some(Method::PUT),
            "PATCH" => Some(Method::PATCH),
            "DELETE" => Some(Method::DELETE),
            _ => {
                errors.push(FieldError::new(
                    "method",
                    "must be GET, POST, PUT, PATCH or DELETE",
                ));
                None
            }
        };
        let path = match segments(&request.path) {
            Ok(path) if allowed.admits(&path) => Some(path),
            Ok(_) => {
                let paths = allowed.paths();
                errors.push(FieldError::new(
                    "path",
                    if paths.is_empty() {
                        "is not allowed: this gateway allows no API calls".to_owned()
                    } else {
                        format!("must be below one of {}", paths.join(", "))
                    },
                ));
                None
            }
            Err(why) => {
                errors.push(FieldError::new("path", why));
                None
            }
        };
        let query = request.query.unwrap_or_default();
        if query.len() > MAX_QUERY {
            errors.push(FieldError::new(
                "query",
                format!("may hold at most {MAX_QUERY} parameters"),
            ));
        }
        for (key, value) in &query {
            if value.is_object() {
                errors.push(FieldError::new(
                    format!("query.{key}"),
                    "must be a string, a number, a boolean or a list",
                ));
            }
        }
        if method == Some(Method::GET) && request.body.is_some() {
            errors.push(FieldError::new("body", "a GET carries no body"));
        }
        match (method, path) {
            (Some(method), Some(path)) if errors.is_empty() => Ok(Self {
                method,
                path,
                query,
                body: request.body,
            }),
            _ => Err(errors),
        }
    }

    pub(super) fn segments(&self) -> impl Iterator<Item = &str> {
        self.path.iter().map(String::as_str)
    }
}

/// An absolute path's segments, each plain: no `.`, `..`, empty segment, percent sign or
/// separator, so the URL called is exactly the path checked.
fn segments(path: &str) -> Result<Vec<String>, String> {
    let Some(rest) = path.strip_prefix('/') else {
        return Err("must start with /".into());
    };
    if path.len() > 512 {
        return Err("must be at most 512 characters".into());
    }
    rest.split('/')
        .map(|segment| {
            if segment.is_empty() {
                return Err("must not hold an empty segment (`//` or a trailing /)".to_owned());
            }
            check_path_segment(segment)
                .map(|()| segment.to_owned())
                .map_err(|why| format!("segment `{segment}` {why}"))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(method: &str, path: &str) -> Result<ApiCall, Vec<FieldError>> {
        let allowed = CallPrefixes::parse("/api/contacts, /api/tags").unwrap();
        let request = ApiCallRequest {
            method: method.into(),
            path: path.into(),
            query: None,
            body: None,
        };
        ApiCall::parse(request, &allowed)
    }

    #[test]
    fn only_plain_paths_below_an_allowed_prefix_are_called() {
        assert!(call("get", "/api/contacts").is_ok());
        assert!(call("PATCH", "/api/contacts/c1").is_ok());
        for path in [
            "/api/contactsx",
            "/api/contacts/../admin",
            "/api/contacts/./c1",
            "/api/contacts//c1",
            "/api/contacts/c1/",
            "/api/contacts/%2e%2e/admin",
            "/api/contacts/a%2Fb",
            "api/contacts",
            "/api/contacts/c1?x=1",
            "/api/contacts/c1#x",
            "/api/contacts\\..\\admin",
            "/admin",
        ] {
            let errors = call("GET", path).unwrap_err();
            assert_eq!(errors[0].field, "path", "{path}");
        }
        assert_eq!(call("TRACE", "/api/tags").unwrap_err()[0].field, "method");
        assert!(CallPrefixes::parse("/api/../x").is_err());
    }
}
