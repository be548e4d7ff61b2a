//! The web console (`/console`): webhooks and their logs, finding a delivery, API keys and
//! connecting a platform. Its files are built into the binary, so it works offline and needs no
//! other server; it talks to the same API as everyone else, with the API key the person signs
//! in with.

use poem::{
    Endpoint, EndpointExt, IntoResponse, Response, Route, get, handler, http::StatusCode,
    middleware::SetHeader, web::Path,
};
use serde_json::json;

use crate::config::Config;

/// Only this origin's own files and API; no inline script or style, nothing from elsewhere.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self'; \
     img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'self'";

const INDEX: &str = include_str!("../../console/index.html");

/// The console's script modules and style, by the name they are served under.
const FILES: &[(&str, &str)] = &[
    ("app.js", include_str!("../../console/app.js")),
    ("dom.js", include_str!("../../console/dom.js")),
    ("api.js", include_str!("../../console/api.js")),
    ("time.js", include_str!("../../console/time.js")),
    ("sign-in.js", include_str!("../../console/sign-in.js")),
    ("webhooks.js", include_str!("../../console/webhooks.js")),
    (
        "webhook-form.js",
        include_str!("../../console/webhook-form.js"),
    ),
    ("logs.js", include_str!("../../console/logs.js")),
    ("log-row.js", include_str!("../../console/log-row.js")),
    ("chart.js", include_str!("../../console/chart.js")),
    ("send-again.js", include_str!("../../console/send-again.js")),
    ("find.js", include_str!("../../console/find.js")),
    ("keys.js", include_str!("../../console/keys.js")),
    ("connect.js", include_str!("../../console/connect.js")),
    ("agents.js", include_str!("../../console/agents.js")),
    ("console.css", include_str!("../../console/console.css")),
];

/// The console's routes. `frame_ancestors` (`KAANHA_FRAME_ANCESTORS`) says who may frame it: a
/// platform embedding it in its dashboard names its own origin there.
pub fn routes(config: &Config) -> impl Endpoint + use<> {
    let settings = settings(config);
    Route::new()
        .at("/", get(index))
        .at(
            "/settings.json",
            get(poem::endpoint::make_sync(move |_| {
                asset(settings.clone(), "application/json")
            })),
        )
        .at("/:file", get(file))
        .with(SetHeader::new().overriding(
            "content-security-policy",
            format!(
                "{CONTENT_SECURITY_POLICY}; frame-ancestors {}",
                config.security.frame_ancestors
            ),
        ))
}

/// What the console shows before and beside the API: the address platforms reach the gateway
/// at (`KAANHA_PUBLIC_URL`; absent: the page's own origin) and where the platform apps are.
/// Nothing here is a secret: discovery tells any key holder the same.
fn settings(config: &Config) -> String {
    let url = |u: &Option<url::Url>| {
        u.as_ref()
            .map(|u| u.as_str().trim_end_matches('/').to_owned())
    };
    json!({
        "publicUrl": url(&config.public_url),
        "apps": {
            "zapier": url(&config.console.zapier_app_url),
            "make": url(&config.console.make_app_url),
        },
    })
    .to_string()
}

fn asset(body: impl Into<poem::Body>, content_type: &'static str) -> Response {
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
fn file(Path(name): Path<String>) -> Response {
    let Some((_, body)) = FILES.iter().find(|(file, _)| *file == name) else {
        return StatusCode::NOT_FOUND.into_response();
    };
    let content_type = if name.ends_with(".css") {
        "text/css; charset=utf-8"
    } else {
        "text/javascript; charset=utf-8"
    };
    asset(*body, content_type)
}
