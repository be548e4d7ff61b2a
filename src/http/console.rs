//! The web console (`/console`): Integrations → Webhooks, Add Webhook, Logs. Its three files are
//! built into the binary, so it works offline and needs no other server; it talks to the same
//! API as everyone else, with the API key the person signs in with.

use poem::{Endpoint, EndpointExt, Response, Route, get, handler, middleware::SetHeader};

const INDEX: &str = include_str!("../../console/index.html");
const SCRIPT: &str = include_str!("../../console/console.js");
const STYLE: &str = include_str!("../../console/console.css");

/// Only this origin's own files and API; no inline script or style, nothing from elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'";

/// The console's files. `frame_ancestors` (`KAANHA_FRAME_ANCESTORS`) says who may frame it: a
/// platform embedding it in its dashboard names its own origin there.
pub fn routes(frame_ancestors: &str) -> impl Endpoint + use<> {
    Route::new()
        .at("/", get(index))
        .at("/console.js", get(script))
        .at("/console.css", get(style))
        .with(SetHeader::new().overriding(
            "content-security-policy",
            format!("{CONTENT_SECURITY_POLICY}; frame-ancestors {frame_ancestors}"),
        ))
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    Response::builder()
        .content_type(content_type)
        .header("cache-control", "no-cache")
        .header("x-content-type-options", "nosniff")
        .header("referrer-policy", "no-referrer")
        .body(body)
}

#[handler]
fn index() -> Response {
    asset(INDEX, "text/html; charset=utf-8")
}

#[handler]
fn script() -> Response {
    asset(SCRIPT, "text/javascript; charset=utf-8")
}

#[handler]
fn style() -> Response {
    asset(STYLE, "text/css; charset=utf-8")
}
